"""`--follow-links` reaches the load on every path: --check, the app, and the app's reload."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from reader import cli
from reader.cli import main, make_app
from reader.core.loading import early
from reader.ui.app import ReaderApp

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.pause(0.05)
        await pilot.app.workers.wait_for_complete()


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    """A corpus holding one post and a link to a folder of five posts outside it."""
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    corpus.mkdir()
    shutil.copytree(SAMPLE, outside)
    shutil.copy(next(iter(sorted(SAMPLE.iterdir()))), corpus / "2030-01-01-own.md")
    (corpus / "elsewhere").symlink_to(outside, target_is_directory=True)
    return corpus


def test_check_refuses_links_out_unless_asked(linked: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", "--no-cache", str(linked)]) == 1
    out = capsys.readouterr().out
    assert "articles: 1\n" in out and "link leaves the corpus, not followed" in out
    assert main(["--check", "--no-cache", "--follow-links", str(linked)]) == 0
    assert "articles: 5\n" in capsys.readouterr().out  # the own post is one of the five


async def test_the_app_and_its_reload_keep_following(linked: Path) -> None:
    app = ReaderApp([str(linked)], use_cache=False, follow_links=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert app.main_screen.store.article_count == 5
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.main_screen.store.article_count == 5


@pytest.mark.parametrize("forked", [True, False], ids=["with-early-start", "without"])
async def test_make_app_passes_it_to_the_early_load(
    linked: Path, forked: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both ways the load started before the app finds files: workers forked by
    # `start_early` (they find the files), or, where it declines, the load's own thread.
    monkeypatch.setattr(early.threading, "active_count", lambda: 1 if forked else 2)
    monkeypatch.setattr(early, "worker_count", lambda: 2)
    started: list[early.EarlyStart | None] = []

    def start_early(*args: Any, **kwargs: Any) -> early.EarlyStart | None:
        started.append(early.start_early(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(cli, "start_early", start_early)
    app = make_app([str(linked)], use_cache=False, follow_links=True)
    assert len(started) == 1 and (started[0] is not None) == forked
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert app.main_screen.store.article_count == 5
        assert app.main_screen.follow_links
