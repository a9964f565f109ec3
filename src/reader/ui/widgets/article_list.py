"""The article list: a virtual list that draws only the rows on screen.

DataTable needs ~2.5 s for 20k rows and ListView ~10 s for 2k, so this is a line-API
`ScrollView` over a numpy array of store slots: 100k rows cost nothing until drawn.
Columns are aligned by terminal cells, so Chinese titles line up.
"""

from __future__ import annotations

import numpy as np
from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from reader.core.search import SlotArray
from reader.core.store import Store
from reader.core.text import display_line, fold_with_map

SOURCE_CELLS = 10
DATE_CELLS = 16


class ArticleList(ScrollView, can_focus=True):
    """Rows of (unread marker, date, source, title), newest first."""

    HELP = """
## Article list
Newest first. `●` marks an unread article, `★` a starred one.
Move with **↑/↓** or **j/k**, **g/G** for first/last, **PgUp/PgDn** to page;
**Enter** opens the article in the reading pane.
"""

    BINDINGS = [
        Binding("down,j", "cursor_down", "Down", show=False, id="article-list.down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="article-list.up"),
        Binding("g,home", "first", "First", show=False, id="article-list.first"),
        Binding("G,end", "last", "Last", show=False, id="article-list.last"),
        Binding("pagedown", "page_down", "Page down", show=False, id="article-list.page-down"),
        Binding("pageup", "page_up", "Page up", show=False, id="article-list.page-up"),
        Binding("enter", "open", "Open", tooltip="Open the article", id="article-list.open"),
    ]

    COMPONENT_CLASSES = {
        "article-list--cursor",
        "article-list--unread",
        "article-list--date",
        "article-list--source",
        "article-list--hit",
        "article-list--empty",
    }

    cursor: reactive[int] = reactive(0, always_update=True)
    """Index of the highlighted row."""

    class Highlighted(Message):
        """The cursor moved to another article."""

        def __init__(self, slot: int | None) -> None:
            self.slot = slot
            super().__init__()

    class Opened(Message):
        """The user asked to open the highlighted article."""

        def __init__(self, slot: int) -> None:
            self.slot = slot
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.slots: SlotArray = np.zeros(0, dtype=np.int64)
        """Store slots in display order."""
        self.store = Store()
        """The corpus the slots point into; the screen hands it down."""
        self.terms: tuple[str, ...] = ()
        """Folded search terms to highlight in titles."""
        self.empty_message = "No articles"

    # --- data ------------------------------------------------------------------------

    def show(self, slots: SlotArray, keep_slot: int | None = None, terms: tuple[str, ...] = ()) -> None:
        """Display `slots`, keeping `keep_slot` highlighted (and its screen row) if present."""
        if self._same_screen(slots, keep_slot, terms):
            # Loading adds older articles below what is on screen: only the length changes.
            self.slots = slots
            self.virtual_size = Size(self.size.width, len(slots))
            return
        old_row = self.cursor - int(self.scroll_offset.y)
        self.slots = slots
        self.terms = terms
        self.virtual_size = Size(self.size.width, len(slots))
        row = 0
        if keep_slot is not None and len(slots):
            found = np.flatnonzero(slots == keep_slot)
            row = int(found[0]) if found.size else 0
        self.set_reactive(ArticleList.cursor, min(row, max(len(slots) - 1, 0)))
        if keep_slot is not None and len(slots):
            self.scroll_to(y=max(self.cursor - max(old_row, 0), 0), animate=False, immediate=True)
        else:
            self.scroll_to(y=0, animate=False, immediate=True)
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.Highlighted(self.highlighted_slot))

    def _same_screen(self, slots: SlotArray, keep_slot: int | None, terms: tuple[str, ...]) -> bool:
        """Whether showing `slots` would leave every visible row and the cursor unchanged."""
        if terms != self.terms or keep_slot is None or keep_slot != self.highlighted_slot:
            return False
        top = int(self.scroll_offset.y)
        bottom = top + max(self.size.height, 1)
        if len(slots) < min(bottom, len(self.slots)) or not 0 <= self.cursor < len(slots):
            return False
        return bool(np.array_equal(slots[top:bottom], self.slots[top:bottom]))

    @property
    def highlighted_slot(self) -> int | None:
        """The slot under the cursor, or None for an empty list."""
        if 0 <= self.cursor < len(self.slots):
            return int(self.slots[self.cursor])
        return None

    # --- keys ------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.Highlighted(self.highlighted_slot))

    def _move(self, row: int) -> None:
        if len(self.slots):
            self.cursor = max(0, min(row, len(self.slots) - 1))

    def action_cursor_down(self) -> None:
        self._move(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self._move(self.cursor - 1)

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(len(self.slots) - 1)

    def action_page_down(self) -> None:
        self._move(self.cursor + max(self.size.height - 1, 1))

    def action_page_up(self) -> None:
        self._move(self.cursor - max(self.size.height - 1, 1))

    def action_open(self) -> None:
        slot = self.highlighted_slot
        if slot is not None:
            self.post_message(self.Opened(slot))

    def _scroll_cursor_into_view(self) -> None:
        if self.size.height:
            self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, immediate=True)

    async def _on_click(self, event: object) -> None:
        y = getattr(event, "y", None)
        if y is not None:
            self._move(int(self.scroll_offset.y) + int(y))
            if getattr(event, "chain", 1) >= 2:
                self.action_open()

    # --- drawing ---------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        row = int(self.scroll_offset.y) + y
        base = self.rich_style
        if not len(self.slots):
            if y == 1:
                style = self.get_component_rich_style("article-list--empty")
                message = set_cell_size("  " + display_line(self.empty_message), width)
                return Strip([Segment(message, style)], width)
            return Strip.blank(width, base)
        if row >= len(self.slots):
            return Strip.blank(width, base)
        slot = int(self.slots[row])
        text = self.row_text(slot, width)
        if row == self.cursor:
            text.stylize(self.get_component_rich_style("article-list--cursor"))
        strip = Strip(list(text.render(self.app.console)), width).apply_style(base)
        return strip.crop_extend(0, width, base)

    def row_text(self, slot: int, width: int) -> Text:
        """One row as cell-aligned Text (corpus strings appended as plain text)."""
        article = self.store.articles[slot]
        unread = not self.store.is_read(slot)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        marks = ("●" if unread else " ") + ("★" if self.store.is_starred(slot) else " ")
        text.append(marks + " ", self.get_component_rich_style("article-list--unread"))
        text.append(article.date_text, self.get_component_rich_style("article-list--date"))
        text.append(" ")
        # Store strings may come from the cache file: made display-safe here, on the way out.
        source = set_cell_size(display_line(article.source_name), SOURCE_CELLS)
        text.append(source, self.get_component_rich_style("article-list--source"))
        text.append(" ")
        title_start = len(text)
        title = display_line(article.title)
        text.append(title, Style(bold=unread))
        if self.terms:
            self._highlight(text, title, title_start)
        text.truncate(width, overflow="ellipsis", pad=True)
        return text

    def _highlight(self, text: Text, title: str, offset: int) -> None:
        folded, origin = fold_with_map(title)
        style = self.get_component_rich_style("article-list--hit")
        for term in self.terms:
            start = folded.find(term)
            while start >= 0:
                end = start + len(term)
                text.stylize(style, offset + origin[start], offset + origin[end - 1] + 1)
                start = folded.find(term, end)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.slots))
        self._scroll_cursor_into_view()
