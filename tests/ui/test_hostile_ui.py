"""The app on a hostile corpus: open everything, nothing crashes, nothing acts as markup.

Asserts on state (titles, rows, notifications, recorded browser calls) rather than on
the screen, as the style guide asks.
"""

from __future__ import annotations

import dataclasses
import sys
import unicodedata
from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette

from reader.core.models import record_of
from reader.core.text import clean_line, visible_controls
from reader.ui.app import ReaderApp
from reader.ui.screens.problems import ProblemsScreen

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile_files import CLOSING_TITLE, MARKUP_TITLE, RICH_TITLE, write_hostile_corpus  # noqa: E402

BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def unsafe_characters(text: str) -> list[str]:
    return [c for c in text if c != "\n" and (unicodedata.category(c) in ("Cc", "Cs") or c in BIDI)]


@pytest.fixture(scope="module")
def hostile_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ui") / "corpus"
    write_hostile_corpus(root, root.parent / "pwned", valid_count=5)
    return root


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.pause(0.05)
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def slot_named(main, name: str) -> int:  # type: ignore[no-untyped-def]
    (slot,) = [s for s in main.article_list.slots.tolist() if main.store.articles[s].path.endswith(name)]
    return int(slot)


def notification_texts(app: ReaderApp) -> list[str]:
    return [f"{n.title} {n.message}" for n in app._notifications]


async def test_open_every_hostile_article(hostile_root: Path) -> None:
    app = ReaderApp([str(hostile_root)], use_cache=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        main = app.main_screen
        title, sub_title = app.title, app.sub_title
        assert main.store.article_count > 30 and main.store.skipped_count > 10
        for slot in main.article_list.slots.tolist():
            main.open_article(slot)
            await pilot.pause()
            pane_title = main.reading_pane._border_title
            assert pane_title is not None
            assert pane_title.plain == clean_line(main.store.articles[slot].title)
            assert not any("@click" in str(span.style) for span in pane_title.spans)
            for line in main.reading_pane._lines:
                assert not unsafe_characters(line.plain)
        await pilot.press("j", "k", "space", "left_square_bracket", "right_square_bracket")
        await settle(pilot)
        assert app.is_running and app.return_code is None
        assert (app.title, app.sub_title) == (title, sub_title)
        for text in notification_texts(app):
            assert not unsafe_characters(text)


async def test_markup_titles_appear_literally(hostile_root: Path) -> None:
    app = ReaderApp([str(hostile_root)], use_cache=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        main = app.main_screen
        for name, title in (
            ("hostile-click-markup-title.md", MARKUP_TITLE),
            ("hostile-red-markup-title.md", RICH_TITLE),
            ("hostile-closing-markup-title.md", CLOSING_TITLE),
        ):
            slot = slot_named(main, name)
            row = main.article_list.row_text(slot, 120)
            assert title in row.plain
            assert not any("@click" in str(span.style) or "red" in str(span.style) for span in row.spans)
            main.open_article(slot)
            await pilot.pause()
            assert title in "\n".join(line.plain for line in main.reading_pane._lines)
        source_slot = slot_named(main, "hostile-markup-source.md")
        assert "[/]坏来源" in main.article_list.row_text(source_slot, 160).plain
        # A click on the title must not run `app.quit`.
        await pilot.click("#reader", offset=(4, 0))
        await pilot.pause()
        assert app.is_running and app.return_code is None


async def test_problems_screen_lists_hostile_files(hostile_root: Path) -> None:
    app = ReaderApp([str(hostile_root)], use_cache=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        main = app.main_screen
        assert any("skipped" in text for text in notification_texts(app))
        await pilot.press("exclamation_mark")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProblemsScreen)
        shown = "\n".join(f"{path} {reason}" for path, reason, _ in screen.rows)
        for problem in main.store.problems:
            assert visible_controls(problem.path) in shown
        assert not unsafe_characters(shown)
        for name in ("hostile-binary.md", "hostile-yaml-python-tag.md", "hostile-empty.md"):
            assert name in shown
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is main


async def test_open_link_refuses_non_web_urls(hostile_root: Path, browser_calls: list[list[str]]) -> None:
    app = ReaderApp([str(hostile_root)], use_cache=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        main = app.main_screen
        slot = slot_named(main, "hostile-click-markup-title.md")
        for url in ("javascript:alert(1)", "file:///etc/passwd", "data:text/html,x", "//evil.example/"):
            # No file can give such a URL (only <http…> autolinks count), so plant one.
            main.store._records[slot] = record_of(dataclasses.replace(main.store.articles[slot], url=url))
            main.open_article(slot)
            await pilot.press("o")
            await pilot.pause()
            assert browser_calls == []
            # each refusal is said, naming the link refused
            assert notification_texts(app)[-1] == f" Refused to open a non-web link: {url}"
        # The loader cleans autolinks: the escape-in-url article opens without its escapes.
        escaped = slot_named(main, "hostile-escape-in-url.md")
        main.open_article(escaped)
        await pilot.press("o")
        await pilot.pause()
        urls = [argv[-1] for argv in browser_calls]
        assert urls == [main.store.articles[escaped].url]
        assert urls[0].startswith("http://evil.example/") and not unsafe_characters(urls[0])
        assert app.is_running


async def test_refusal_notice_is_terminal_safe(hostile_root: Path, browser_calls: list[str]) -> None:
    app = ReaderApp([str(hostile_root)], use_cache=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        main = app.main_screen
        slot = slot_named(main, "hostile-click-markup-title.md")
        main.store._records[slot] = record_of(
            dataclasses.replace(main.store.articles[slot], url="\x1b]0;x\x07http://a")
        )
        main.open_article(slot)
        await pilot.press("o")
        await pilot.pause()
        assert browser_calls == []
        # the refusal is shown, naming the link by what can be shown of it, and nothing more
        refusals = [text for text in notification_texts(app) if "Refused" in text]
        assert refusals == [" Refused a link with hidden or blank characters: ]0;xhttp://a"]
        for text in notification_texts(app):
            assert not unsafe_characters(text)


async def test_search_and_palette_with_markup_queries(hostile_root: Path) -> None:
    app = ReaderApp([str(hostile_root)], use_cache=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        main = app.main_screen
        kinds = (
            "rich-markup-title",
            "markup-source",
            "closing-markup-title",
            "click-markup-title",
            "ansi-escapes",
        )
        slot_of = {kind: slot_named(main, f"hostile-{kind}.md") for kind in kinds}
        source = slot_of["markup-source"]
        markup = kinds[:4]
        for query, names in (
            ("[/]", markup),  # a query is text: "[/]" finds the posts holding it
            ("[@click=app.quit]x[/]", ("click-markup-title",)),
            ("\x1b[31m", ("ansi-escapes",)),  # the escape is dropped, "[31m" is searched
            ("来源是标记", ("markup-source",)),
        ):
            main.search_box.value = query
            await settle(pilot)
            assert app.is_running and main.search_query == query
            listed = main.article_list.slots.tolist()
            assert sorted(listed) == sorted(slot_of[name] for name in names)
            assert listed == main.store.view(query=query).tolist()
        assert main.article_list.slots.tolist() == [source]
        main.search_box.value = ""
        await settle(pilot)
        assert len(main.article_list.slots) == main.store.article_count
        app.action_command_palette()
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"来源是标记")
        await pilot.pause(0.5)
        await settle(pilot)
        prompts = [str(option.prompt) for option in app.screen.query_one(CommandList).options]
        assert any("来源是标记" in prompt and "[/]坏来源[@click=app.quit]" in prompt for prompt in prompts), (
            prompts
        )
        await pilot.press("enter")  # the article hit is the best: it opens
        await settle(pilot)
        assert app.screen is main and main.open_slot == source
        assert app.is_running and app.return_code is None
