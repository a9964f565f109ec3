"""The search input: narrows the list as you type; ↑/↓ recall this session's searches."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class SearchBox(Input):
    """A one-line query. Enter keeps the results, Esc restores the list as it was."""

    HELP = """
## Search
Type to narrow the list: every word must appear (title, body or source name).
Chinese matches anywhere inside words; case and full-width forms are ignored,
so `５Ｇ` finds `5G`. **Enter** keeps the results, **Esc** cancels,
**↑/↓** recall earlier searches.
"""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Clear the search", id="search-box.cancel"),
        Binding("up", "history(-1)", "Earlier", show=False, id="search-box.earlier"),
        Binding("down", "history(1)", "Later", show=False, id="search-box.later"),
    ]

    class Cancelled(Message):
        """The user pressed Esc in the search box."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="搜索 / Search: words, 代码, ５Ｇ…", id=id)
        self.history: list[str] = []
        """Queries submitted this session, oldest first."""
        self._history_position = 0

    def remember(self, query: str) -> None:
        """Add a submitted query to the history (once, most recent last)."""
        query = query.strip()
        if query:
            if query in self.history:
                self.history.remove(query)
            self.history.append(query)
        self._history_position = len(self.history)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._history_position = max(0, min(self._history_position + step, len(self.history)))
        self.value = (
            self.history[self._history_position] if self._history_position < len(self.history) else ""
        )
        self.cursor_position = len(self.value)

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())
