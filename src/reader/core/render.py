"""Document -> `rich.text.Text` for the reading pane, wrapped to a width, with search hits.

`render_article` lays out one article (header, digest, paragraphs, pictures, tables,
links) as plain `Text` built with `append`, so corpus text is never parsed as Rich
markup. Lines are wrapped here rather than by the widget, which lets the result report
which wrapped line holds each search hit (`hit_lines`) so the pane can scroll to it.

What it deliberately avoids:

- Markup and colours: styles are names ("bold", "dim", "reverse"), kept as module
  constants, so the app's theme decides what they look like.
- Terminal-sensitive characters: every string goes through `one_line`, and zero-width
  joiners / emoji variation selectors are dropped, because they change cell widths in
  ways a line-width budget cannot predict.
- Matches across line breaks: hits are searched line by line in the wrapped output, so a
  term split by wrapping is not highlighted (or counted) there.
- Exceptions: any failure falls back to the title plus the plain text of the blocks.
- Doing it again: the last few layouts (an article at a width, before highlighting) are
  kept, so each keystroke of a search only highlights (see `_layout`).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from reader.core.document import (
    Block,
    Digest,
    Document,
    Paragraph,
    Picture,
    SourceLine,
    Span,
    Subheading,
    Table,
)
from reader.core.text import clean_line, fold, fold_with_map
from reader.core.wrap import indented, one_line, within_width, wrap

MIN_WIDTH = 10
"""Narrower requests are rendered at this width."""
MAX_WIDTH = 1000
"""Wider requests are rendered at this width (keeps table work bounded)."""

TITLE_STYLE = "bold"
META_STYLE = "dim"
DIGEST_STYLE = "italic"
DIGEST_BAR_STYLE = "dim"
DIGEST_BAR = "▎ "
BOLD_STYLE = "bold"
SUBHEADING_STYLE = "bold underline"
LINK_STYLE = "underline"
LINK_NUMBER_STYLE = "cyan"
SECURITY_STYLE = "bold cyan"
PICTURE_STYLE = "dim"
TABLE_BORDER_STYLE = "dim"
TABLE_HEADER_STYLE = "bold"
SOURCE_STYLE = "dim italic"
LINKS_HEADING_STYLE = "bold"
HIGHLIGHT_STYLE = "reverse"

LINKS_HEADING = "链接 / Links"
MORE_LINKS_NOTE = "（另有 {count} 个链接未编号）"
"""Ends the list when the article has more than `html_blocks.MAX_LINKS` link targets."""
PICTURE_LABEL = "图片"


@dataclass(frozen=True, slots=True)
class RenderedArticle:
    """An article laid out for one width."""

    text: Text
    """Wrapped lines joined with "\\n"; styled with style names only."""
    hit_lines: tuple[int, ...]
    """Sorted 0-based numbers of lines (of `text.plain.split("\\n")`) holding a hit."""
    hit_count: int
    """Total number of highlighted occurrences of all terms."""


# --- Blocks -----------------------------------------------------------------------------


def _spans_text(spans: tuple[Span, ...], base_style: str = "") -> Text:
    """Styled text of a run of spans: bold, links as `text[n]`, securities as `名(code)`."""
    text = Text(style=base_style)
    for span in spans:
        content = one_line(span.text)
        if span.security is not None:
            security = span.security
            text.append(f"{one_line(security.name)}({one_line(security.code)})", SECURITY_STYLE)
        elif span.link is not None:
            label = content.rstrip()
            text.append(label, f"{BOLD_STYLE} {LINK_STYLE}" if span.bold else LINK_STYLE)
            text.append(f"[{span.link}]", LINK_NUMBER_STYLE)
            text.append(content[len(label) :])
        else:
            text.append(content, BOLD_STYLE if span.bold else "")
    return text


def _picture_label(picture: Picture) -> str:
    alt = one_line(picture.alt).strip()
    # The sites write alt="图片" ("picture"); "[图片: 图片]" would say it twice.
    if not alt or alt == PICTURE_LABEL:
        return f"[{PICTURE_LABEL}]"
    return f"[{PICTURE_LABEL}: {alt}]"


def _block_lines(block: Block, width: int) -> list[Text]:
    if isinstance(block, Digest):
        return indented(_spans_text(block.spans, DIGEST_STYLE), width, DIGEST_BAR, DIGEST_BAR_STYLE)
    if isinstance(block, Paragraph):
        return wrap(_spans_text(block.spans), width)
    if isinstance(block, Subheading):
        return wrap(Text(one_line(block.text), SUBHEADING_STYLE), width)
    if isinstance(block, Picture):
        return wrap(Text(_picture_label(block), PICTURE_STYLE), width)
    if isinstance(block, Table):
        return _table_lines(block, width)
    return wrap(Text(one_line(block.text), SOURCE_STYLE), width)


# --- Tables -----------------------------------------------------------------------------


def _column_widths(rows: list[list[str]], budget: int) -> list[int]:
    """Natural column widths, the widest capped at one limit so that they fit `budget`.

    `budget` is at least the number of columns, so a cap of 1 always fits.
    """
    natural = [max(1, *(cell_len(row[c]) for row in rows)) for c in range(len(rows[0]))]
    if sum(natural) <= budget:
        return natural
    low, high = 1, max(natural)  # binary search for the largest cap that fits
    while low < high:
        middle = (low + high + 1) // 2
        if sum(min(w, middle) for w in natural) <= budget:
            low = middle
        else:
            high = middle - 1
    widths = [min(w, low) for w in natural]
    spare = budget - sum(widths)
    for index, w in enumerate(natural):  # hand out what the cap left over, left to right
        if spare and w > widths[index]:
            widths[index] += 1
            spare -= 1
    return widths


def _fit_cell(cell: str, width: int) -> str:
    """`cell` padded or cut (with "…") to exactly `width` cells."""
    cell = cell[: width * 4]  # a cell can never show more characters than this
    if cell_len(cell) <= width:
        return set_cell_size(cell, width)
    return set_cell_size(set_cell_size(cell, width - 1).rstrip() + "…", width)


def _table_lines(table: Table, width: int) -> list[Text]:
    """A box-drawn table that fits `width`; columns that cannot fit are left out."""
    column_count = max(len(row) for row in table.rows)
    shown = min(column_count, max(1, (width - 1) // 4))  # each column needs >= 4 cells
    rows = [[one_line(cell).strip() for cell in row[:shown]] for row in table.rows]
    rows = [row + [""] * (shown - len(row)) for row in rows]
    widths = _column_widths(rows, width - 3 * shown - 1)

    def border(left: str, middle: str, right: str) -> Text:
        return Text(left + middle.join("─" * (w + 2) for w in widths) + right, TABLE_BORDER_STYLE)

    lines = [border("┌", "┬", "┐")]
    for index, row in enumerate(rows):
        is_header = table.has_header and index == 0
        line = Text("│ ", TABLE_BORDER_STYLE)
        for column, cell in enumerate(row):
            if column:
                line.append(" │ ", TABLE_BORDER_STYLE)
            line.append(_fit_cell(cell, widths[column]), TABLE_HEADER_STYLE if is_header else "")
        lines.append(line + Text(" │", TABLE_BORDER_STYLE))
        if is_header and len(rows) > 1:
            lines.append(border("├", "┼", "┤"))
    lines.append(border("└", "┴", "┘"))
    if shown < column_count:
        lines += wrap(Text(f"（表格过宽，省略 {column_count - shown} 列）", META_STYLE), width)
    return lines


# --- Article ----------------------------------------------------------------------------


def _header_lines(title: str, source_name: str, date_text: str, url: str | None, width: int) -> list[Text]:
    lines = wrap(Text(one_line(clean_line(title)), TITLE_STYLE), width)
    parts = [one_line(clean_line(part)) for part in (source_name, date_text)]
    meta = " · ".join(part for part in parts if part)
    address = one_line(clean_line(url or ""))
    if address and cell_len(f"{meta} · {address}") <= width:
        meta, address = f"{meta} · {address}" if meta else address, ""
    # A URL too long for the line gets lines of its own rather than a dangling " ·".
    for part in (meta, address):
        lines += wrap(Text(part, META_STYLE), width)
    return lines


def _links_lines(document: Document, width: int) -> list[Text]:
    if not document.links:
        return []
    lines = [Text(""), *wrap(Text(LINKS_HEADING, LINKS_HEADING_STYLE), width)]
    for number, link in enumerate(document.links, 1):
        lines += wrap(Text(f"[{number}] ", LINK_NUMBER_STYLE) + Text(one_line(link.url)), width)
    if document.more_links:
        lines += wrap(Text(MORE_LINKS_NOTE.format(count=document.more_links), META_STYLE), width)
    return lines


def _article_lines(
    title: str, source_name: str, date_text: str, document: Document, width: int
) -> list[Text]:
    lines = _header_lines(title, source_name, date_text, document.url, width)
    for block in document.blocks:
        block_lines = _block_lines(block, width)
        if block_lines:
            lines += [Text(""), *block_lines]
    return lines + _links_lines(document, width)


def _term_runs(terms: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each term with a pattern matching a run of back-to-back occurrences of it."""
    return tuple((term, re.compile(f"(?:{re.escape(term)})+")) for term in terms)


def _line_hits(
    plain: str, folded: str, terms: tuple[tuple[str, re.Pattern[str]], ...]
) -> tuple[list[tuple[int, int]], int]:
    """Ranges of `plain` to highlight (merged), and how many occurrences of the terms
    its fold (`folded`) holds."""
    # Folding never yields an empty string, so equal lengths mean a one-to-one map.
    origin: Sequence[int] = range(len(plain)) if len(folded) == len(plain) else fold_with_map(plain)[1]
    count = 0
    runs: list[tuple[int, int]] = []
    for term, run in terms:
        count += folded.count(term)
        # One span per run of hits keeps a line like "字字字…" cheap to style.
        runs += [(origin[m.start()], origin[m.end() - 1] + 1) for m in run.finditer(folded)]
    return _merged(runs), count


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted ranges with overlapping or touching ones joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def render_article(
    title: str,
    source_name: str,
    date_text: str,
    document: Document,
    width: int,
    terms: tuple[str, ...] = (),
) -> RenderedArticle:
    """Lay out an article for a pane `width` cells wide, highlighting folded `terms`.

    `terms` come from `reader.core.text.query_terms`. Never raises.
    """
    width = max(MIN_WIDTH, min(int(width), MAX_WIDTH))
    terms = tuple(term for term in terms if term)
    layout = _layout(title, source_name, date_text, document, width)
    text = layout.text.copy()  # the layout stays unhighlighted for the next terms
    hit_lines: list[int] = []
    hit_count = 0
    if terms:
        term_runs = _term_runs(terms)
        for number, folded in enumerate(layout.folded()):
            if not any(term in folded for term in terms):
                continue  # most lines: no hit, and no need for the slower fold_with_map
            ranges, found = _line_hits(layout.plains[number], folded, term_runs)
            offset = layout.starts[number]
            for start, end in ranges:
                text.stylize(HIGHLIGHT_STYLE, offset + start, offset + end)
            hit_lines.append(number)
            hit_count += found
    return RenderedArticle(text, tuple(hit_lines), hit_count)


class _Layout:
    """An article's lines at one width, before highlighting, as `render_article` keeps them."""

    __slots__ = ("blocks", "text", "plains", "starts", "_folded")

    def __init__(self, blocks: tuple[Block, ...], lines: list[Text]) -> None:
        self.blocks = blocks
        """The document's blocks: holding them keeps the cache key's `id` theirs."""
        self.text = Text("\n").join(lines)
        self.plains = [line.plain for line in lines]
        self.starts = list(accumulate((len(plain) + 1 for plain in self.plains[:-1]), initial=0))
        """Where each line starts in `text`."""
        self._folded: list[str] | None = None

    def folded(self) -> list[str]:
        """Each line folded for search, computed once (the first time terms are given)."""
        if self._folded is None:
            self._folded = [fold(plain) for plain in self.plains]
        return self._folded


_LAYOUTS_KEPT = 8
_layouts: OrderedDict[tuple[object, ...], _Layout] = OrderedDict()
_layouts_lock = threading.Lock()


def _layout(title: str, source_name: str, date_text: str, document: Document, width: int) -> _Layout:
    """The article laid out at `width`, cached: the pane renders it again on every
    keystroke of a search, and on a 30,000-link post that cost ~100 ms each time.

    Keyed by the identity of the document's blocks (the opener keeps parsed documents,
    and `dataclasses.replace` shares them), not by value: hashing thousands of blocks
    would cost what the cache saves.
    """
    key = (
        id(document.blocks),
        document.links,
        document.url,
        document.more_links,
        title,
        source_name,
        date_text,
        width,
    )
    with _layouts_lock:
        layout = _layouts.get(key)
        if layout is not None and layout.blocks is document.blocks:
            _layouts.move_to_end(key)
            return layout
    try:
        lines = _article_lines(title, source_name, date_text, document, width)
    except Exception:  # noqa: BLE001 - a rendering bug must not take the pane down
        lines = _fallback_lines(title, document, width)
    layout = _Layout(document.blocks, within_width(lines, width))
    with _layouts_lock:
        _layouts[key] = layout
        while len(_layouts) > _LAYOUTS_KEPT:
            _layouts.popitem(last=False)
    return layout


def _fallback_lines(title: str, document: Document, width: int) -> list[Text]:
    """Title and block texts cut into lines of width // 2 characters (<= 2 cells each)."""
    texts = [title]
    for block in document.blocks:
        if isinstance(block, Digest | Paragraph):
            texts.append("".join(span.text for span in block.spans))
        elif isinstance(block, Subheading | SourceLine):
            texts.append(block.text)
    plain = one_line(clean_line(" ".join(texts)))
    step = width // 2
    return [Text(plain[offset : offset + step]) for offset in range(0, len(plain), step)]
