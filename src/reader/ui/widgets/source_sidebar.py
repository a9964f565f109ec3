"""The source sidebar: "全部 / All" and each source with its article and unread counts."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from reader.core.models import Source
from reader.core.text import display_line


class SourceSidebar(OptionList):
    """Choosing a source (moving onto it) filters the article list at once."""

    HELP = """
## Sources
Each source with its article count and, in brackets, how many of them are unread
(read marks last across launches). **全部 / All** counts every article, **★ Starred**
the ones you starred with **s**; with a search active the counts stay those of the
whole source, and the status line gives the matches.
Move with **↑/↓** or **j/k**; the list follows the highlighted source.
"""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="source-sidebar.down"),
        Binding("k", "cursor_up", "Up", show=False, id="source-sidebar.up"),
        Binding("g", "first", "First", show=False, id="source-sidebar.first"),
        Binding("G", "last", "Last", show=False, id="source-sidebar.last"),
    ]

    class Chosen(Message):
        """The highlighted source changed."""

        def __init__(self, source_id: str) -> None:
            self.source_id = source_id
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source_ids: list[str] = []
        self._shown: list[tuple[Source, int]] = []
        self._last: tuple[list[Source], str] = ([], "")
        """What `show_sources` was last given, to lay out again at a new width."""

    def show_sources(self, sources: list[Source], current: str) -> None:
        """Replace the rows, keeping `current` highlighted."""
        self._last = (sources, current)
        width = max(self.size.width - 2, 16)
        ids = [source.source_id for source in sources]
        if ids == self.source_ids:
            for index, source in enumerate(sources):
                if self._shown[index] != (source, width):  # each replacement costs a re-render
                    self._shown[index] = (source, width)
                    self.replace_option_prompt_at_index(index, self._prompt(source, width))
            return
        self.source_ids = ids
        self._shown = [(source, width) for source in sources]
        with self.prevent(OptionList.OptionHighlighted):
            self.set_options(Option(self._prompt(s, width), id=None) for s in sources)
            self.highlighted = ids.index(current) if current in ids else 0

    @staticmethod
    def _prompt(source: Source, width: int) -> Text:
        counts = f"{source.count}" + (f" ({source.unread})" if source.unread else "")
        name_cells = max(width - cell_len(counts) - 1, 4)
        text = Text(no_wrap=True, end="")
        text.append(set_cell_size(display_line(source.name), name_cells), "bold" if source.unread else "")
        text.append(" ")
        text.append(counts, "dim")
        return text

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if 0 <= event.option_index < len(self.source_ids):
            self.post_message(self.Chosen(self.source_ids[event.option_index]))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()

    def on_resize(self) -> None:
        """Lay the names out again for the new width (they are cut to fit it)."""
        sources, current = self._last
        if self.source_ids:
            current = self.source_ids[self.highlighted or 0] if self.highlighted is not None else current
        self.source_ids = []
        if sources:
            self.show_sources(sources, current)
