"""Document -> `rich.text.Text` for the reading pane, wrapped to a width, with search hits.

`render_article` lays out one article (header, digest, paragraphs, pictures, tables,
links) as plain `Text` built with `append`, so corpus text is never parsed as Rich
markup. Lines are wrapped here rather than by the widget, which lets the result report
which wrapped line holds each search hit (`hit_lines`) so the pane can scroll to it.

What it deliberately avoids:

- Markup and colours: styles are names ("bold", "dim", "reverse"), kept as module
  constants, so the app's theme decides what they look like.
- Terminal-sensitive characters: every string goes through `_display`, and zero-width
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
from reader.core.text import clean_line, clean_text, fold, fold_with_map, steady_width

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
"""Ends the list when the article has more than `document.MAX_LINKS` link targets."""
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


# --- Safe strings -----------------------------------------------------------------------

_DISPLAY_REPLACEMENTS = (("\n", " "), ("\t", " "), ("\r", " "))


def _display(text: str) -> str:
    """A string that is safe to put on one line whose width we measure ourselves."""
    text = steady_width(clean_text(text))
    for old, new in _DISPLAY_REPLACEMENTS:  # str.replace: translate() is slow on CJK
        if old in text:
            text = text.replace(old, new)
    return text


# --- Wrapping ---------------------------------------------------------------------------

# Tokens: whitespace | a run of narrow script (a word) | a run of CJK | any other char.
# Every character of group 3 is two cells wide (a test checks it against rich), so long
# CJK runs are measured by counting instead of calling cell_len per character.
WIDE_CHARACTERS = (
    "\u3001-\u3029\u3030-\u303e\u3041-\u3096\u309b-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7a3\uf900-\ufaff\uff01-\uff60"
)
_TOKEN = re.compile(rf"(\s+)|([\x21-\u10ff]+)|([{WIDE_CHARACTERS}]+)|(.)", re.DOTALL)
# Kinsoku: punctuation that must not begin a line pulls the unit before it down with it,
# and opening punctuation is not left at the end of a line.
_NO_LINE_START = frozenset("，。、；：？！）》」』】〉〕”’…%,.;:?!)]}·")
_NO_LINE_END = frozenset("“‘（《「『【〈〔([{")


class _LineBreaker:
    """Greedy line filling over `plain`; collects (start, end) ranges of the lines."""

    def __init__(self, plain: str, width: int) -> None:
        self.plain = plain
        self.width = width
        self.ranges: list[tuple[int, int]] = []
        self.start = -1  # -1: the current line is empty
        self.end = 0
        self.last_unit = 0  # start of the last unbreakable piece on the line
        self.used = 0

    def _gap(self, position: int) -> int:
        """Cells of the spaces between the line's end and `position`."""
        between = position - self.end
        if self.start < 0 or between == 0:
            return 0
        if between == 1 and self.plain[self.end] == " ":  # the usual case, kept cheap
            return 1
        return cell_len(self.plain[self.end : position])

    def _next_line_start(self, position: int) -> int:
        """`position`, or earlier so that punctuation is not split from its text."""
        plain = self.plain
        if self.end != position:  # a space separates them: any break is fine
            return position
        cut = position
        for _ in range(4):  # "稳”、" needs two steps back; more is pathological
            if plain[cut] not in _NO_LINE_START or cut <= self.start:
                break
            cut = self.last_unit if cut == position else cut - 1
        if cut - 1 > self.start and plain[cut - 1] in _NO_LINE_END:
            cut -= 1
        if cut <= self.start or cell_len(plain[cut:position]) + 2 > self.width:
            return position
        return cut

    def _break(self, position: int) -> None:
        """End the current line before `position`; drop spaces at the break."""
        start = self._next_line_start(position)
        self.ranges.append((self.start, start if start < position else self.end))
        self.start = self.last_unit = start
        self.end = position
        self.used = cell_len(self.plain[start:position])

    def place(self, start: int, end: int, cells: int) -> None:
        """Add an unbreakable piece of `cells` (<= width) cells."""
        gap = self._gap(start)
        if self.start < 0:
            self.start, gap = start, 0
        elif self.used + gap + cells > self.width:
            self._break(start)
            gap = 0
        self.used += gap + cells
        self.last_unit, self.end = start, end

    def fill(self, start: int, end: int, char_cells: int) -> None:
        """Add a run of same-width characters that may break anywhere (CJK, long words)."""
        position = start
        while True:
            if self.start < 0:
                self.start = self.end = position
            gap = self._gap(position)
            room = (self.width - self.used - gap) // char_cells
            if room >= end - position:  # the rest of the run fits on this line
                self.used += gap + (end - position) * char_cells
                self.last_unit, self.end = end - 1, end
                return
            if room > 0:
                position += room
                self.used += gap + room * char_cells
                self.last_unit, self.end = position - 1, position
            self._break(position)

    def finish(self) -> list[tuple[int, int]]:
        if self.start >= 0 and self.end > self.start:
            self.ranges.append((self.start, self.end))
        return self.ranges


def line_ranges(plain: str, width: int) -> list[tuple[int, int]]:
    """(start, end) of each line when `plain` is wrapped to `width` cells.

    Words of narrow script stay whole unless longer than a line; CJK breaks anywhere;
    spaces at a break are dropped. `plain` must already be `_display`-safe.
    """
    lines = _LineBreaker(plain, width)
    for match in _TOKEN.finditer(plain):
        kind = match.lastindex
        if kind == 1:
            continue
        start, end = match.span()
        if kind == 3:
            lines.fill(start, end, 2)
            continue
        token = match.group()
        cells = cell_len(token)
        if kind == 2 and cells > width and cells == len(token):
            lines.fill(start, end, 1)
        elif cells <= width:
            lines.place(start, end, cells)
        else:
            for index, char in enumerate(token, start):
                lines.place(index, index + 1, cell_len(char))
    return _split_wide_ranges(plain, lines.finish(), width)


def _split_wide_ranges(plain: str, ranges: list[tuple[int, int]], width: int) -> list[tuple[int, int]]:
    """Split any range wider than `width`: line-start rules can pull a character down
    onto a line that was already full, and a line must never overflow the pane."""
    fitted: list[tuple[int, int]] = []
    for start, end in ranges:
        if cell_len(plain[start:end]) <= width:
            fitted.append((start, end))
            continue
        used, piece_start = 0, start
        for index in range(start, end):
            cells = cell_len(plain[index])
            if used + cells > width and index > piece_start:
                fitted.append((piece_start, index))
                piece_start, used = index, 0
            used += cells
        fitted.append((piece_start, end))
    return fitted


def _wrap(text: Text, width: int) -> list[Text]:
    """Split styled `text` into lines of at most `width` cells."""
    plain = text.plain
    # Most blocks are one short line: returned whole, it skips the breaker and `divide`
    # (~15 µs a block, which an article of thousands of one-line paragraphs multiplies).
    fits = 0 < len(plain) <= width and cell_len(plain) <= width
    if fits and not (plain[0].isspace() or plain[-1].isspace()):
        return [text]
    ranges = line_ranges(plain, width)
    if not ranges:
        return []
    offsets = [offset for pair in ranges for offset in pair]
    pieces = text.divide(offsets)
    # divide() yields [before, line0, gap, line1, gap, ...]; the lines are the odd ones.
    return [pieces[index] for index in range(1, 2 * len(ranges), 2)]


def _indented(text: Text, width: int, prefix: str, prefix_style: str) -> list[Text]:
    lines = _wrap(text, width - cell_len(prefix))
    return [Text(prefix, prefix_style) + line for line in lines]


# --- Blocks -----------------------------------------------------------------------------


def _spans_text(spans: tuple[Span, ...], base_style: str = "") -> Text:
    """Styled text of a run of spans: bold, links as `text[n]`, securities as `名(code)`."""
    text = Text(style=base_style)
    for span in spans:
        content = _display(span.text)
        if span.security is not None:
            security = span.security
            text.append(f"{_display(security.name)}({_display(security.code)})", SECURITY_STYLE)
        elif span.link is not None:
            label = content.rstrip()
            text.append(label, f"{BOLD_STYLE} {LINK_STYLE}" if span.bold else LINK_STYLE)
            text.append(f"[{span.link}]", LINK_NUMBER_STYLE)
            text.append(content[len(label) :])
        else:
            text.append(content, BOLD_STYLE if span.bold else "")
    return text


def _picture_label(picture: Picture) -> str:
    alt = _display(picture.alt).strip()
    # The sites write alt="图片" ("picture"); "[图片: 图片]" would say it twice.
    if not alt or alt == PICTURE_LABEL:
        return f"[{PICTURE_LABEL}]"
    return f"[{PICTURE_LABEL}: {alt}]"


def _block_lines(block: Block, width: int) -> list[Text]:
    if isinstance(block, Digest):
        return _indented(_spans_text(block.spans, DIGEST_STYLE), width, DIGEST_BAR, DIGEST_BAR_STYLE)
    if isinstance(block, Paragraph):
        return _wrap(_spans_text(block.spans), width)
    if isinstance(block, Subheading):
        return _wrap(Text(_display(block.text), SUBHEADING_STYLE), width)
    if isinstance(block, Picture):
        return _wrap(Text(_picture_label(block), PICTURE_STYLE), width)
    if isinstance(block, Table):
        return _table_lines(block, width)
    return _wrap(Text(_display(block.text), SOURCE_STYLE), width)


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
    rows = [[_display(cell).strip() for cell in row[:shown]] for row in table.rows]
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
        lines += _wrap(Text(f"（表格过宽，省略 {column_count - shown} 列）", META_STYLE), width)
    return lines


# --- Article ----------------------------------------------------------------------------


def _header_lines(title: str, source_name: str, date_text: str, url: str | None, width: int) -> list[Text]:
    lines = _wrap(Text(_display(clean_line(title)), TITLE_STYLE), width)
    parts = [_display(clean_line(part)) for part in (source_name, date_text)]
    meta = " · ".join(part for part in parts if part)
    address = _display(clean_line(url or ""))
    if address and cell_len(f"{meta} · {address}") <= width:
        meta, address = f"{meta} · {address}" if meta else address, ""
    # A URL too long for the line gets lines of its own rather than a dangling " ·".
    for part in (meta, address):
        lines += _wrap(Text(part, META_STYLE), width)
    return lines


def _links_lines(document: Document, width: int) -> list[Text]:
    if not document.links:
        return []
    lines = [Text(""), *_wrap(Text(LINKS_HEADING, LINKS_HEADING_STYLE), width)]
    for number, link in enumerate(document.links, 1):
        lines += _wrap(Text(f"[{number}] ", LINK_NUMBER_STYLE) + Text(_display(link.url)), width)
    if document.more_links:
        lines += _wrap(Text(MORE_LINKS_NOTE.format(count=document.more_links), META_STYLE), width)
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
    key = (id(document.blocks), document.links, document.url, document.more_links,
           title, source_name, date_text, width)
    with _layouts_lock:
        layout = _layouts.get(key)
        if layout is not None and layout.blocks is document.blocks:
            _layouts.move_to_end(key)
            return layout
    try:
        lines = _article_lines(title, source_name, date_text, document, width)
    except Exception:  # noqa: BLE001 - a rendering bug must not take the pane down
        lines = _fallback_lines(title, document, width)
    layout = _Layout(document.blocks, _within_width(lines, width))
    with _layouts_lock:
        _layouts[key] = layout
        while len(_layouts) > _LAYOUTS_KEPT:
            _layouts.popitem(last=False)
    return layout


def _within_width(lines: list[Text], width: int) -> list[Text]:
    """Hard-split any line the breaker left wider than `width` (a last guarantee)."""
    fitted: list[Text] = []
    for line in lines:
        if line.cell_len <= width:
            fitted.append(line)
            continue
        offsets, used = [], 0
        for index, char in enumerate(line.plain):
            cells = cell_len(char)
            if used + cells > width:
                offsets.append(index)
                used = 0
            used += cells
        fitted.extend(line.divide(offsets))
    return fitted


def _fallback_lines(title: str, document: Document, width: int) -> list[Text]:
    """Title and block texts cut into lines of width // 2 characters (<= 2 cells each)."""
    texts = [title]
    for block in document.blocks:
        if isinstance(block, Digest | Paragraph):
            texts.append("".join(span.text for span in block.spans))
        elif isinstance(block, Subheading | SourceLine):
            texts.append(block.text)
    plain = _display(clean_line(" ".join(texts)))
    step = width // 2
    return [Text(plain[offset : offset + step]) for offset in range(0, len(plain), step)]
