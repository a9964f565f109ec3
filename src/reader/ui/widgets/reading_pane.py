"""The reading pane: a rendered article as scrollable lines, with search-hit navigation.

The core renders the article to a Rich `Text` at the pane's width; this widget splits it
into lines and draws only those on screen (a line-API `ScrollView`), so a very long
article scrolls as cheaply as a short one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.containers import Lines
from rich.segment import Segment
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

if TYPE_CHECKING:  # the renderer (and BeautifulSoup) load after the first screen
    from reader.core.render import RenderedArticle


PLACEHOLDER = Text.assemble(
    ("\n  没有打开的文章 / No article open\n\n", "bold"),
    ("  Choose one in the list and press Enter.\n", "dim"),
    ("  / searches, ? lists every key.", "dim"),
)


class ReadingPane(ScrollView, can_focus=True):
    """Shows one article; Space and PgDn page it, n/N jump between search hits."""

    HELP = """
## Reading pane
**Space/PgDn** page down, **b/PgUp** page up, **↑/↓** or **j/k** scroll a line,
**g/G** top and bottom. With a search active, **n/N** jump to the next/previous hit.
Links are numbered `[1]` and listed at the end; **o** opens the article's own link.
"""

    BINDINGS = [
        Binding("down,j", "scroll_line(1)", "Scroll down", show=False, id="reading-pane.down"),
        Binding("up,k", "scroll_line(-1)", "Scroll up", show=False, id="reading-pane.up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="reading-pane.page-down"),
        Binding("pageup,b", "page(-1)", "Page up", show=False, id="reading-pane.page-up"),
        Binding("g,home", "top", "Top", show=False, id="reading-pane.top"),
        Binding("G,end", "bottom", "Bottom", show=False, id="reading-pane.bottom"),
    ]

    COMPONENT_CLASSES = {"reading-pane--current-hit"}

    hit_index: reactive[int] = reactive(-1)
    """Which search hit line n/N last moved to (-1: none yet)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rendered: RenderedArticle | None = None
        """What is shown; None shows the placeholder."""
        self._lines: list[Text] | Lines = PLACEHOLDER.split("\n")
        self._strips: dict[int, Strip] = {}

    def show(self, rendered: RenderedArticle | None, keep_position: bool = False) -> None:
        """Display a rendered article (or the placeholder), from the top unless kept."""
        self.rendered = rendered
        text = rendered.text if rendered is not None else PLACEHOLDER
        self._lines = text.split("\n", allow_blank=True)
        self._strips.clear()
        self.set_reactive(ReadingPane.hit_index, -1)
        self.virtual_size = Size(self.size.width, len(self._lines))
        if not keep_position:
            self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def show_message(self, message: str) -> None:
        """Display a one-paragraph notice (e.g. the file vanished) instead of an article."""
        self.rendered = None
        self._lines = [Text(""), Text("  " + message, style="bold")]
        self._strips.clear()
        self.virtual_size = Size(self.size.width, len(self._lines))
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    @property
    def hit_lines(self) -> tuple[int, ...]:
        return self.rendered.hit_lines if self.rendered is not None else ()

    # --- actions ---------------------------------------------------------------------

    def action_scroll_line(self, delta: int) -> None:
        self.scroll_to(y=self.scroll_offset.y + delta, animate=False)

    def action_page(self, direction: int) -> None:
        self.scroll_to(y=self.scroll_offset.y + direction * max(self.size.height - 2, 1), animate=False)

    def action_top(self) -> None:
        self.scroll_to(y=0, animate=False)

    def action_bottom(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False)

    def jump_hit(self, direction: int) -> int | None:
        """Scroll to the next (1) or previous (-1) hit line; returns its 1-based number."""
        lines = self.hit_lines
        if not lines:
            return None
        index = (
            (self.hit_index + direction) % len(lines)
            if self.hit_index >= 0
            else (0 if direction > 0 else len(lines) - 1)
        )
        self.hit_index = index
        target = max(lines[index] - self.size.height // 3, 0)
        self.scroll_to(y=target, animate=False, immediate=True)
        return index + 1

    def watch_hit_index(self) -> None:
        self._strips.clear()
        self.refresh()

    # --- drawing ---------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        row = int(self.scroll_offset.y) + y
        width = self.size.width
        if row >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        strip = self._strips.get(row)
        if strip is None:
            line = self._lines[row]
            segments = list(line.render(self.app.console))
            if self.hit_index >= 0 and row == self.hit_lines[self.hit_index]:
                marker = self.get_component_rich_style("reading-pane--current-hit")
                segments = [Segment("▶", marker), *segments]
            else:
                segments = [Segment(" "), *segments]
            strip = Strip(segments).simplify().apply_style(self.rich_style)
            self._strips[row] = strip
        scroll_x = int(self.scroll_offset.x)
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)
