"""The problems list: a virtual list of (kind, path, reason) rows, two lines each.

A corpus can have tens of thousands of problem files; an OptionList built them all as
widgets' content (2.2 s to open 20k, 1.2 s a filter key). Like the article list, this
draws only the lines on screen, and filtering is one substring test per row on text
folded once.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from reader.core.text import fold

ProblemRow = tuple[str, str, bool]
"""(display-safe path, display-safe reason, skipped)."""
LINES_PER_ROW = 2


class ProblemList(ScrollView, can_focus=True):
    """Rows of problems; ↑/↓ move, PgUp/PgDn page."""

    BINDINGS = [
        Binding("down,j", "move(1)", "Down", show=False, id="problem-list.down"),
        Binding("up,k", "move(-1)", "Up", show=False, id="problem-list.up"),
        Binding("pagedown,space", "page(1)", "Page down", show=False, id="problem-list.page-down"),
        Binding("pageup,b", "page(-1)", "Page up", show=False, id="problem-list.page-up"),
        Binding("home,g", "first", "First", show=False, id="problem-list.first"),
        Binding("end,G", "last", "Last", show=False, id="problem-list.last"),
    ]

    cursor: reactive[int] = reactive(0)

    def __init__(self, rows: list[ProblemRow], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows = rows
        self._folded = [fold(f"{path} {reason}") for path, reason, _ in rows]
        self.shown: list[int] = list(range(len(rows)))
        """Indexes of the rows that pass the filter, in order."""
        self.empty_message = "No problems."

    def filter(self, needle: str) -> None:
        """Show only rows whose path or reason contains `needle` (folded, as search does)."""
        folded = fold(needle.strip())
        if folded:
            self.shown = [index for index, text in enumerate(self._folded) if folded in text]
        else:
            self.shown = list(range(len(self.rows)))
        self.empty_message = "No problems." if not self.rows else "Nothing matches."
        self.virtual_size = Size(self.size.width, len(self.shown) * LINES_PER_ROW)
        self.cursor = 0
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def on_mount(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.shown) * LINES_PER_ROW)

    def action_move(self, step: int) -> None:
        self._move_to(self.cursor + step)

    def action_first(self) -> None:
        self._move_to(0)

    def action_last(self) -> None:
        self._move_to(len(self.shown) - 1)

    def _move_to(self, row: int) -> None:
        if self.shown:
            self.cursor = max(0, min(row, len(self.shown) - 1))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(self.size.height // LINES_PER_ROW - 1, 1))

    def watch_cursor(self) -> None:
        if self.size.height:
            region = Region(0, self.cursor * LINES_PER_ROW, 1, LINES_PER_ROW)
            self.scroll_to_region(region, animate=False, immediate=True)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        line = int(self.scroll_offset.y) + y
        base = self.rich_style
        if not self.shown:
            if y == 0:
                return Strip([Segment(set_cell_size(self.empty_message, width), base)], width)
            return Strip.blank(width, base)
        row, part = divmod(line, LINES_PER_ROW)
        if row >= len(self.shown):
            return Strip.blank(width, base)
        path, reason, skipped = self.rows[self.shown[row]]
        current = Style(reverse=True) if row == self.cursor and self.has_focus else Style()
        if part == 0:
            kind = Segment(
                "skipped  " if skipped else "warning  ",
                Style(bold=True, color="red") if skipped else Style(color="yellow"),
            )
            segments = [kind, Segment(_tail(path, width - kind.cell_length), Style(bold=True) + current)]
        else:
            segments = [Segment(" " * 9), Segment(reason, current)]
        return Strip(segments).apply_style(base).crop_extend(0, width, base)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()


def _tail(text: str, cells: int) -> str:
    """`text` if it fits in `cells`, else "…" and as much of its end as fits: the file name
    matters more than the folders above it."""
    if cell_len(text) <= cells or cells < 2:
        return text
    kept = ""
    for char in reversed(text):
        if cell_len(kept) + cell_len(char) > cells - 1:
            break
        kept = char + kept
    return "…" + kept
