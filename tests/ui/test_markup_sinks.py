"""No corpus text reaches a markup parser: every place it is shown, with payloads that act.

`textual.markup.escape` misses forms such as `[$var]` and `[$text@click=…]`; a toast
built from such a URL once bound a click to `app.screenshot`, which wrote a file
wherever the post said. This walks every sink (list, sidebar, border, toasts, palette,
problems list) with those payloads, then looks at every cell on screen for a click
action or a payload turned into style, and clicks every toast.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.command import CommandList
from textual.widgets._toast import Toast

from reader.ui.app import ReaderApp

SHOT = "[$text@click=app.screenshot('pwned.svg','{dir}')]"
PAYLOADS = ("[$var]", "[B]big[/B]", "[@click=app.quit]q[/]", "[/] 未闭合")


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.pause(0.05)
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def post(title: str, tags: str, categories: str, url_line: str, date: str) -> str:
    return (
        f'---\nlayout: post\ntitle: "{title}"\ndate: {date} +0800\ncategories: "{categories}"\n'
        f'tags: "{tags}"\n---\n> 摘要 {title}\n\n<p>正文</p>\n\n{url_line}\n'
    )


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, Path, str]:
    root = tmp_path / "corpus"
    target = tmp_path / "target"
    root.mkdir()
    target.mkdir()
    shot = SHOT.format(dir=target)
    title = shot + " " + " ".join(PAYLOADS)
    (root / "2022-03-02-a.md").write_text(
        post(
            title,
            shot + "新闻",
            "[@click=app.quit]src",
            f"<https://example.com/{shot}>",
            "2022-03-02 10:00:00",
        ),
        encoding="utf-8",
    )
    (root / "2022-03-01-b.md").write_text(
        post("坏链接", "[$var]新闻", "emnews", f"<http://{shot}/x>", "2022-03-01 10:00:00"), encoding="utf-8"
    )
    (root / f"{SHOT.format(dir='..')}.md").write_text("no front matter\n", encoding="utf-8")
    return root, target, shot


def files_under(*roots: Path) -> set[str]:
    return {
        os.path.join(folder, name) for root in roots for folder, _, names in os.walk(root) for name in names
    }


def screen_text_and_actions(app: ReaderApp) -> tuple[str, list[str]]:
    """Every cell of the current screen: its text, and any click action bound to a cell."""
    width, height = app.size
    actions: list[str] = []
    for y in range(height):
        for x in range(width):
            meta = app.screen.get_style_at(x, y).meta
            if meta and "@click" in meta:
                actions.append(str(meta["@click"]))
    svg_free = "\n".join(line for line in app.export_screenshot().split("\n"))
    return svg_free, actions


def assert_no_payload_acts(app: ReaderApp) -> None:
    _, actions = screen_text_and_actions(app)
    assert not [action for action in actions if "screenshot" in action or "quit" in action], actions


async def test_every_sink_shows_payloads_as_text(
    corpus: tuple[Path, Path, str],
    browser_calls: list[list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, target, shot = corpus
    before = files_under(root, target)
    screenshots: list[object] = []
    monkeypatch.setattr(ReaderApp, "save_screenshot", lambda self, *a, **k: screenshots.append(a) or "")
    monkeypatch.setattr(ReaderApp, "action_screenshot", lambda self, *a, **k: screenshots.append(a))
    app = ReaderApp([str(root)], use_cache=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        main = app.main_screen
        assert main.store.article_count == 2
        # List, sidebar and border title, then both link toasts (opened, and refused).
        await pilot.press("enter")
        await pilot.pause()
        assert shot in str(main.reading_pane.border_title)
        await pilot.press("o")
        await pilot.press("escape", "down", "enter", "o")
        await pilot.pause()
        messages = [f"{n.title} {n.message}" for n in app._notifications]
        assert any(shot in message and "Opened" in message for message in messages), messages
        assert any("malformed" in message and shot[:60] in message for message in messages), messages
        assert browser_calls == [["xdg-open", f"https://example.com/{shot}"]]
        assert_no_payload_acts(app)
        for toast in list(app.screen.query(Toast)):
            await pilot.click(toast)
            await pilot.pause()
        # The palette: sources by name and articles with their source.
        await pilot.press("ctrl+p")
        await pilot.pause()
        for key in "var":
            await pilot.press(key)
        await pilot.pause(0.3)
        prompts = [str(option.prompt) for option in app.screen.query_one(CommandList).options]
        # sources and articles listed, their payloads as typed
        assert any(prompt.startswith("Source: [$var] (1)") for prompt in prompts), prompts
        assert any(all(payload in prompt for payload in PAYLOADS) for prompt in prompts), prompts
        assert_no_payload_acts(app)
        await pilot.press("escape")
        await pilot.pause()
        # The problems list, with a file named after the payload.
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert any(SHOT.format(dir="..") in row[0] for row in app.screen.rows)  # type: ignore[attr-defined]
        assert_no_payload_acts(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running and app.return_code is None
    assert screenshots == []
    assert files_under(root, target) == before


async def test_payloads_in_list_and_sidebar_are_literal(corpus: tuple[Path, Path, str]) -> None:
    root, _, shot = corpus
    app = ReaderApp([str(root)], use_cache=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        main = app.main_screen
        rows = [main.article_list.row_text(slot, 200).plain for slot in main.article_list.slots.tolist()]
        assert any(all(payload in row for payload in PAYLOADS) for row in rows), rows
        sidebar = [str(main.sidebar.get_option_at_index(i).prompt) for i in range(main.sidebar.option_count)]
        assert any(shot[:20] in name for name in sidebar), sidebar
