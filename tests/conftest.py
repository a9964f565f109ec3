"""Shared fixtures: isolate every test from the user's cache and state, and pin the timezone."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # so tests can `import benchmarks.corpus`
    sys.path.insert(0, str(REPO))


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real cache or state; local time is China time everywhere."""
    monkeypatch.setenv("READER_CACHE_DIR", str(tmp_path_factory.mktemp("reader-cache")))
    monkeypatch.setenv("READER_STATE_DIR", str(tmp_path_factory.mktemp("reader-state")))
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()


class FakeBrowserProcess:
    """What `subprocess.Popen` returns in tests: a browser that started and exited fine."""

    def __init__(self, argv: list[str], **options: object) -> None:
        self.argv = argv
        self.options = options

    def wait(self, timeout: float | None = None) -> int:
        return 0


@pytest.fixture
def browser_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """A desktop with xdg-open: the argv of every browser the reader starts, none started."""
    calls: list[list[str]] = []

    def popen(argv: list[str], **options: object) -> FakeBrowserProcess:
        calls.append(list(argv))
        return FakeBrowserProcess(argv, **options)

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("BROWSER", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(
        "reader.core.links.find_program", lambda name: "/usr/bin/xdg-open" if name == "xdg-open" else None
    )
    monkeypatch.setattr("reader.core.links.subprocess.Popen", popen)
    return calls
