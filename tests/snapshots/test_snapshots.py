"""A few snapshots of how the reader looks: first screen, an open article with search
hits, the key help, and a narrow terminal. Review the report before `--snapshot-update`."""

from __future__ import annotations

from pathlib import Path

from reader.ui.app import ReaderApp

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


async def _loaded(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.pause(0.08)
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _app() -> ReaderApp:
    return ReaderApp([str(SAMPLE)], use_cache=False)


def test_first_screen(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), terminal_size=(160, 45), run_before=_loaded)


def test_open_article_with_search_hits(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def search_and_open(pilot) -> None:  # type: ignore[no-untyped-def]
        await _loaded(pilot)
        await pilot.press("slash", *"一刀切")
        await _loaded(pilot)
        await pilot.press("enter", "enter", "n")
        await _loaded(pilot)

    assert snap_compare(_app(), terminal_size=(160, 45), run_before=search_and_open)


def test_help_screen(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def open_help(pilot) -> None:  # type: ignore[no-untyped-def]
        await _loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=(120, 45), run_before=open_help)


def test_narrow_terminal(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def open_first(pilot) -> None:  # type: ignore[no-untyped-def]
        await _loaded(pilot)
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=(80, 24), run_before=open_first)
