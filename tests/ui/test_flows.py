"""Whole flows through the app with Textual's pilot: launch, browse, open, search, keys."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from rich.table import Table
from textual.binding import Binding
from textual.widgets import Static

from reader.core.models import record_of
from reader.ui.app import STYLESHEET, ReaderApp
from reader.ui.screens.help import HelpScreen, binding_rows, key_label
from reader.ui.screens.main import MainScreen
from reader.ui.screens.problems import ProblemsScreen
from reader.ui.widgets.article_list import ArticleList
from reader.ui.widgets.reading_pane import ReadingPane
from reader.ui.widgets.search_box import SearchBox
from reader.ui.widgets.source_sidebar import SourceSidebar

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait for loading/search workers and the timers that start them."""
    for _ in range(3):
        await pilot.pause(0.08)
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def titles(main) -> list[str]:  # type: ignore[no-untyped-def]
    return [main.store.articles[slot].title for slot in main.article_list.slots.tolist()]


async def test_boot_loads_stylesheet_and_lists_newest_first() -> None:
    assert STYLESHEET.is_file(), f"stylesheet missing: {STYLESHEET}"
    app = ReaderApp([str(SAMPLE)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        # the stylesheet is applied, not only present: its pane widths and hidden search box
        assert main.sidebar.outer_size.width == 32
        assert not main.search_box.display
        assert main.store.article_count == 5
        assert titles(main) == [
            "刚刚 工信部明确表态 二季度工业经济稳增长有四大举措！",
            "工信部：全力保持工业经济平稳运行",
            "工信部：杜绝随意停限产等“一刀切”行为 全力保障初级产品供给",
            "工信部：启动公共领域车辆全面电动化城市试点 开展新能源汽车等下乡活动",
            "工信部：明年要扩大新能源汽车、绿色智能家电、绿色建材消费",
        ]
        dates = [main.store.articles[slot].date for slot in main.article_list.slots.tolist()]
        assert dates == sorted(dates, reverse=True)
        assert main.article_list.cursor == 0 and app.focused is main.article_list
        names = [source.name for source in main.store.sources()]
        assert names[0] == "全部 / All"
        assert {"新华社", "工信微报", "中国证券报", "证券日报网", "东财滚动"} <= set(names)
        footer_keys = {binding.key for (_, binding, _, _) in app.active_bindings.values()}
        assert {"slash", "q", "enter"} <= footer_keys


async def test_pick_source_open_search_hits_and_escape() -> None:
    app = ReaderApp([str(SAMPLE)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        # pick a source from the sidebar
        main.sidebar.focus()
        await pilot.press("down")
        await settle(pilot)
        chosen = main.source_id
        assert chosen != ""
        assert {main.store.articles[s].source_id for s in main.article_list.slots.tolist()} == {chosen}
        await pilot.press("g")  # back to All
        await settle(pilot)
        assert main.source_id == "" and len(main.article_list.slots) == 5
        # search narrows as you type
        main.article_list.focus()
        await pilot.press("down")
        await pilot.press("slash", *"一刀切")
        await settle(pilot)
        assert titles(main) == ["工信部：杜绝随意停限产等“一刀切”行为 全力保障初级产品供给"]
        # Enter keeps the results; Enter opens; n/N move between hits
        await pilot.press("enter", "enter")
        await settle(pilot)
        rendered = main.reading_pane.rendered
        assert rendered is not None and rendered.hit_count >= 2
        assert "原材料工业座谈会" in rendered.text.plain
        for junk in ("<p", "&nbsp;", "返回首页", "EM_StockImg"):
            assert junk not in rendered.text.plain
        await pilot.press("n")
        assert main.reading_pane.hit_index == 0
        await pilot.press("n")
        assert main.reading_pane.hit_index == 1
        await pilot.press("N")
        assert main.reading_pane.hit_index == 0
        # opening marked it read, and the counts followed
        assert main.store.is_read(main.open_slot)
        assert main.store.sources()[0].unread == 4
        # Esc leaves the pane, Esc again clears the search and restores the list, on the
        # article just read (the third of the five), not on the first
        opened = main.open_slot
        await pilot.press("escape")
        assert app.focused is main.article_list
        await pilot.press("escape")
        await settle(pilot)
        assert main.search_query == "" and main.search_box.value == ""
        assert main.article_list.slots.tolist() == main.store.order().tolist()
        assert main.article_list.highlighted_slot == opened and main.article_list.cursor == 2


async def test_search_escape_restores_previous_selection_and_history() -> None:
    app = ReaderApp([str(SAMPLE)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        await pilot.press("slash", *"压舱石", "enter")
        await settle(pilot)
        assert len(main.article_list.slots) == 3
        await pilot.press("j", "j")  # the last of the three, not where a new list would start
        selected = main.article_list.highlighted_slot
        assert selected == int(main.article_list.slots[2])
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"zzz没有")
        await settle(pilot)
        assert len(main.article_list.slots) == 0
        assert "No matches" in main.article_list.empty_message
        await pilot.press("escape")
        await settle(pilot)
        assert main.search_query == "压舱石"
        assert main.article_list.highlighted_slot == selected  # the selection is back
        await pilot.press("escape")  # clears the kept search
        await settle(pilot)
        assert len(main.article_list.slots) == 5
        await pilot.press("slash", "up")
        assert main.search_box.value == "压舱石"


async def test_full_width_and_multiword_search_in_app() -> None:
    app = ReaderApp([str(SAMPLE)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        await pilot.press("slash", *"５Ｇ")
        await settle(pilot)
        assert len(main.article_list.slots) == 4
        await pilot.press("ctrl+a", "ctrl+k", *"工信部 新华社")
        await settle(pilot)
        assert [main.store.articles[s].source_name for s in main.article_list.slots.tolist()] == ["新华社"]


async def test_keys_move_page_step_and_toggle_read() -> None:
    app = ReaderApp([str(SAMPLE)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        article_list = main.article_list
        await pilot.press("G")
        assert article_list.cursor == 4
        await pilot.press("g", "j", "k", "down")
        assert article_list.cursor == 1
        await pilot.press("right_square_bracket")
        assert main.open_slot == article_list.highlighted_slot and article_list.cursor == 2
        await pilot.press("left_square_bracket")
        assert article_list.cursor == 1 and main.open_slot == article_list.highlighted_slot
        slot = main.open_slot
        assert main.store.is_read(slot)
        unread = main.store.sources()[0].unread

        def all_row() -> str:
            return str(main.sidebar.get_option_at_index(0).prompt)

        assert all_row().endswith(f"5 ({unread})")
        await pilot.press("m")
        assert not main.store.is_read(slot)
        assert all_row().endswith(f"5 ({unread + 1})")  # the sidebar's counts followed
        await pilot.press("m")
        assert main.store.is_read(slot) and all_row().endswith(f"5 ({unread})")
        await pilot.press("tab")
        assert app.focused is main.reading_pane
        top = main.reading_pane.scroll_offset.y
        await pilot.press("space")
        await pilot.pause()
        assert main.reading_pane.scroll_offset.y > top


async def test_help_lists_every_binding_and_problems_screen(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE, corpus)
    (corpus / "broken.md").write_text("no front matter here\n", encoding="utf-8")
    app = ReaderApp([str(corpus)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = {(keys, description) for _, keys, description in binding_rows(app.screen.groups)}
        every = [
            binding
            for owner in (ReaderApp, MainScreen, SourceSidebar, ArticleList, ReadingPane, SearchBox)
            for binding in owner.BINDINGS
        ]
        assert len(every) > 30
        for binding in every:
            assert isinstance(binding, Binding)
            assert (key_label(binding.key), binding.tooltip or binding.description) in shown, binding
        assert {"/", "n", "? / F1", "Esc"} <= {keys for keys, _ in shown}
        (table,) = [
            widget.content for widget in app.screen.query(Static) if isinstance(widget.content, Table)
        ]
        assert table.row_count == len(binding_rows(app.screen.groups))  # every row is on the screen
        await pilot.press("escape")
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert isinstance(app.screen, ProblemsScreen)
        assert any("broken.md" in row[0] and "front matter" in row[1] for row in app.screen.rows)


async def test_open_link_only_for_http(browser_calls: list[list[str]]) -> None:
    app = ReaderApp([str(SAMPLE)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        await pilot.press("enter", "o")
        url = main.store.articles[main.open_slot].url
        assert url is not None and url.startswith("http")
        assert browser_calls == [["xdg-open", url]]
        assert [(n.title, n.message) for n in app._notifications] == [("Opened in browser", url)]
        # the same article with a link that is not http(s): refused, and said so
        slot = main.open_slot
        for other in ("ftp://example.com/x.html", "file:///etc/passwd"):
            main.store._records[slot] = record_of(dataclasses.replace(main.store.articles[slot], url=other))
            await pilot.press("o")
            assert browser_calls == [["xdg-open", url]]
            last = list(app._notifications)[-1]
            assert last.severity == "warning" and last.message == f"Refused to open a non-web link: {other}"


async def test_empty_corpus_says_so(tmp_path: Path) -> None:
    app = ReaderApp([str(tmp_path)], use_cache=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        article_list = app.main_screen.article_list
        assert not app.main_screen.is_loading and len(article_list.slots) == 0
        assert article_list.empty_message == "No articles"
        assert article_list.render_line(1).text.strip() == "No articles"  # drawn, not only set


async def test_q_is_typeable_in_search_and_quits_elsewhere() -> None:
    app = ReaderApp([str(SAMPLE)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "q", "f", "i", "i")
        await settle(pilot)
        assert app.main_screen.search_box.value == "qfii"
        assert app.is_running
        await pilot.press("escape", "q")
        await pilot.pause()
        assert not app.is_running
