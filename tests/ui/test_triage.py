"""Triage in the app: marks that last across launches and reloads, stars, unread only,
next unread, mark all read with its confirmation and undo, theme and search history."""

from __future__ import annotations

from pathlib import Path

from reader.core.state import StateStore
from reader.core.store import STARRED
from reader.ui.app import ReaderApp
from reader.ui.screens.confirm import ConfirmScreen

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.pause(0.05)
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def unread_titles(app: ReaderApp) -> list[str]:
    main = app.main_screen
    return [
        main.store.articles[s].title for s in main.article_list.slots.tolist() if not main.store.is_read(s)
    ]


async def test_read_and_starred_marks_last_across_launches() -> None:
    app = ReaderApp([str(SAMPLE)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        first, second = main.article_list.slots.tolist()[:2]
        await pilot.press("enter")  # opens (and reads) the first
        await pilot.press("escape", "down", "s")  # stars the second, unread
        await pilot.pause()
        assert main.store.is_read(first) and main.store.is_starred(second)
        identities = main.store.articles[first].identity, main.store.articles[second].identity
    # A new launch, same state directory: the marks are back, and the counts agree.
    again = ReaderApp([str(SAMPLE)], use_cache=False)
    async with again.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = again.main_screen
        read_slot, starred_slot = (main.store.slot_of(identity) for identity in identities)
        assert read_slot is not None and starred_slot is not None
        assert main.store.is_read(read_slot) and not main.store.is_read(starred_slot)
        assert main.store.is_starred(starred_slot) and not main.store.is_starred(read_slot)
        all_sources = main.sidebar.get_option_at_index(0).prompt
        assert str(all_sources).split()[-2:] == ["5", "(4)"]
        starred = str(main.sidebar.get_option_at_index(1).prompt)
        assert "Starred" in starred and starred.split()[-2:] == ["1", "(1)"]


async def test_unread_only_next_unread_and_space_at_the_end() -> None:
    app = ReaderApp([str(SAMPLE)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        slots = main.article_list.slots.tolist()
        await pilot.press("enter")  # reads the first
        await pilot.press("escape", "u")
        await settle(pilot)
        assert main.unread_only and main.article_list.slots.tolist() == slots[1:]
        assert "unread only" in str(main.query_one("#status").render())
        await pilot.press("u")
        await settle(pilot)
        assert main.article_list.slots.tolist() == slots
        # `.` opens the next unread after the open one, skipping a read one.
        main.marking.set_read(slots[1], True)
        await pilot.press("full_stop")
        await pilot.pause()
        assert main.open_slot == slots[2] and main.article_list.highlighted_slot == slots[2]
        # Space pages to the end of the article, then opens the next unread.
        main.reading_pane.focus()
        for _ in range(30):
            if main.open_slot != slots[2]:
                break
            await pilot.press("space")
            await pilot.pause()
        assert main.open_slot == slots[3]


async def test_mark_all_read_asks_and_can_be_undone() -> None:
    app = ReaderApp([str(SAMPLE)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        await pilot.press("A")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # no: nothing changes
        await pilot.pause()
        assert len(unread_titles(app)) == 5
        await pilot.press("A", "y")
        await pilot.pause()
        assert unread_titles(app) == []
        assert str(main.sidebar.get_option_at_index(0).prompt).split()[-1] == "5"  # no "(unread)" left
        await pilot.press("z")
        await pilot.pause()
        assert len(unread_titles(app)) == 5
        app.state.flush()
        assert all(read_at is None for read_at, _ in app.state.marks().values())


async def test_starred_view_and_marks_survive_ctrl_r() -> None:
    app = ReaderApp([str(SAMPLE)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        starred = main.article_list.highlighted_slot
        assert starred is not None
        identity = main.store.articles[starred].identity
        await pilot.press("s", "enter")
        await pilot.press("ctrl+r")
        await settle(pilot)
        slot = main.store.slot_of(identity)
        assert slot is not None and main.store.is_starred(slot) and main.store.is_read(slot)
        main.source_id = STARRED
        await settle(pilot)
        assert main.article_list.slots.tolist() == [slot]


async def test_theme_and_search_history_last() -> None:
    app = ReaderApp([str(SAMPLE)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        app.theme = "gruvbox"
        await pilot.press("slash", *"压舱石", "enter")
        await settle(pilot)
    again = ReaderApp([str(SAMPLE)], use_cache=False)
    async with again.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert again.theme == "gruvbox"
        await pilot.press("slash", "up")
        assert again.main_screen.search_box.value == "压舱石"


async def test_a_state_problem_is_shown_and_the_app_works(tmp_path: Path) -> None:
    corrupt = tmp_path / "state"
    corrupt.mkdir()
    (corrupt / "state.db").write_bytes(b"not a database at all" * 100)
    app = ReaderApp([str(SAMPLE)], use_cache=False, state=StateStore(str(corrupt)))
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert any("Read marks" in n.title for n in app._notifications)
        await pilot.press("enter")
        assert app.main_screen.open_slot is not None


async def test_a_reload_while_asking_to_mark_all_marks_nothing() -> None:
    app = ReaderApp([str(SAMPLE)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        store = app.main_screen.store
        app.main_screen.reload()  # as Ctrl+R (an app key) or a palette command would
        await settle(pilot)
        assert app.main_screen.store is not store
        await pilot.press("y")
        await settle(pilot)
        assert app.is_running and app.return_code is None
        assert len(unread_titles(app)) == 5
