"""The `?` screen: every key the reader answers to, read from the real bindings.

Built from the BINDINGS of the app, the screen and each widget, so it cannot drift from
what the keys actually do (hand-kept tables do).
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_NAMES = {
    "slash": "/",
    "question_mark": "?",
    "exclamation_mark": "!",
    "full_stop": ".",
    "escape": "Esc",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "space": "Space",
    "enter": "Enter",
    "pagedown": "PgDn",
    "pageup": "PgUp",
    "down": "↓",
    "up": "↑",
    "home": "Home",
    "end": "End",
    "tab": "Tab",
    "shift+tab": "Shift+Tab",
    "f1": "F1",
    "ctrl+p": "Ctrl+P",
    "ctrl+r": "Ctrl+R",
}


def key_label(keys: str) -> str:
    """`down,j` -> `↓ / j`."""
    return " / ".join(KEY_NAMES.get(key.strip(), key.strip()) for key in keys.split(","))


def binding_rows(groups: list[tuple[str, list[BindingType]]]) -> list[tuple[str, str, str]]:
    """(area, keys, description) for every Binding in the groups."""
    rows = []
    for area, bindings in groups:
        for binding in bindings:
            if isinstance(binding, Binding):
                description = binding.tooltip or binding.description
                rows.append((area, key_label(binding.key), description))
    return rows


class HelpScreen(ModalScreen[None]):
    """A table of keys grouped by where they work."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close")]

    def __init__(self, groups: list[tuple[str, list[BindingType]]]) -> None:
        super().__init__()
        self.groups = groups

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_header=True, header_style="bold")
        table.add_column("Where", style="dim", no_wrap=True)
        table.add_column("Key", style="bold", no_wrap=True)
        table.add_column("Does")
        previous = ""
        for area, keys, description in binding_rows(self.groups):
            table.add_row(area if area != previous else "", keys, Text(description))
            previous = area
        with VerticalScroll(id="help-dialog"):
            yield Static(table)
            yield Static(
                Text(
                    "Search: every word must match (title, body, source); Chinese matches "
                    "inside words; case and full-width forms are ignored (５Ｇ = 5G). "
                    "Tab / Shift+Tab move between panes. Ctrl+P opens the command palette. "
                    "Sidebar counts: articles, and in brackets how many are unread; ● marks an "
                    "unread article, ★ a starred one. Read marks, stars, the theme and searches "
                    "are remembered; new files in the corpus show as they arrive.",
                    style="dim",
                ),
                id="help-footnote",
            )

    def on_mount(self) -> None:
        self.query_one("#help-dialog").border_title = "Keys / 快捷键  (Esc closes)"
