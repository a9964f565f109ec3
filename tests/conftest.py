"""Shared fixtures: isolate every test from the user's cache and pin the timezone."""

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
    """No test reads or writes the real cache; local time is China time everywhere."""
    monkeypatch.setenv("READER_CACHE_DIR", str(tmp_path_factory.mktemp("reader-cache")))
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
