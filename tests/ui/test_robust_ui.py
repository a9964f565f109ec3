"""The app when things go wrong: a failed load, a reload, tiny terminals, odd widths, many problems."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rich.cells import cell_len

from reader.core.loading.background import BackgroundLoad
from reader.core.models import Problem
from reader.ui.app import ReaderApp
from reader.ui.screens.main import READER_TITLE
from reader.ui.screens.problems import ProblemsScreen
from reader.ui.widgets.problem_list import ProblemList

REPOSITORY = Path(__file__).resolve().parents[2]
SAMPLE = REPOSITORY / "sample_data"


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.pause(0.05)
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_a_failed_load_is_reported_and_the_app_stays_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: BackgroundLoad, *args: object, **kwargs: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(BackgroundLoad, "take", broken)
    app = ReaderApp([str(SAMPLE)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        assert not main.is_loading
        messages = [f"{n.title} {n.message}" for n in app._notifications]
        assert any("Loading the corpus failed" in m and "Input/output error" in m for m in messages), messages
        assert "load failed" in str(app.main_screen.query_one("#status").render())
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.is_running and app.return_code is None


async def test_reload_clears_the_closed_articles_title() -> None:
    app = ReaderApp([str(SAMPLE)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        main = app.main_screen
        assert str(main.reading_pane.border_title) != READER_TITLE
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert main.open_slot is None
        assert str(main.reading_pane.border_title) == READER_TITLE


async def test_sidebar_names_come_back_after_a_tiny_terminal() -> None:
    app = ReaderApp([str(SAMPLE)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        sidebar = app.main_screen.sidebar

        def prompts() -> list[str]:
            return [str(sidebar.get_option_at_index(i).prompt) for i in range(sidebar.option_count)]

        before = prompts()
        await pilot.resize_terminal(20, 8)
        await pilot.pause()
        app.main_screen.refresh_views()  # as a load or a read mark does, at the tiny size
        await pilot.pause()
        await pilot.resize_terminal(160, 45)
        await settle(pilot)
        assert prompts() == before


async def test_titles_with_unsteady_width_characters_keep_rows_aligned(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE, corpus)
    odd = "旗🇨🇳 赞👍🏽 心❤️ 软\u00adhyphen 标\U000e0041签 选\ufe0e择"
    (corpus / "2030-01-01-odd.md").write_text(
        f'---\ntitle: "{odd}"\ndate: 2030-01-01 10:00:00 +0800\n'
        "categories: emnews\ntags: 东财滚动新闻\n---\n正文\n",
        encoding="utf-8",
    )
    app = ReaderApp([str(corpus)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        rows = [main.article_list.row_text(slot, 120).plain for slot in main.article_list.slots.tolist()]
        odd_row = next(row for row in rows if "旗" in row)
        assert "CN" in odd_row
        for char in ("\u00ad", "\ufe0f", "\ufe0e", "\U0001f3fd", "\U000e0041", "\U0001f1e8"):
            assert char not in odd_row
        assert {cell_len(row) for row in rows} == {120}


async def test_a_long_problems_list_is_virtual_and_filters(tmp_path: Path) -> None:
    app = ReaderApp([str(SAMPLE)], use_cache=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        problems = [Problem(f"/corpus/folder/file-{n:05d}.md", f"reason {n % 7}") for n in range(20_000)]
        app.push_screen(ProblemsScreen(problems))
        await pilot.pause()
        problem_list = app.screen.query_one(ProblemList)
        assert len(problem_list.shown) == 20_000
        assert problem_list.virtual_size.height == 40_000
        await pilot.press("end")
        await pilot.pause()
        assert problem_list.cursor == 19_999
        await pilot.press("home", "down", "down", "up", "up", "up", "pageup")
        await pilot.pause()
        assert problem_list.cursor == 0  # never wraps round to the end
        app.screen.query_one("#problems-filter").value = "file-1234"
        await pilot.pause()
        assert [problem_list.rows[i][0] for i in problem_list.shown] == [
            f"/corpus/folder/file-{n}.md" for n in range(12340, 12350)
        ]
        assert "10 shown" in str(app.screen.query_one("#problems-summary").render())


async def test_y_copies_the_link_the_header_shows(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "2030-01-01-a.md").write_text(
        '---\ntitle: "t"\ndate: 2030-01-01 10:00:00 +0800\ncategories: emnews\ntags: 东财滚动新闻\n---\n'
        "<p>正文</p>\n\n<https://exa\u00admple.com/x\u200b>\n",
        encoding="utf-8",
    )
    app = ReaderApp([str(corpus)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "y")
        await pilot.pause()
        header = "\n".join(line.plain for line in app.main_screen.reading_pane._lines[:4])
        assert app.clipboard == "https://example.com/x"
        assert app.clipboard in header
