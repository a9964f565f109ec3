"""Line breaking for Chinese and mixed text, in terminal cells: pure cell arithmetic.

Lines break between CJK characters anywhere except before closing or after opening
punctuation (kinsoku), and between words of narrow scripts at spaces; a word wider than
the line is cut. Every function here takes and returns Rich `Text` or strings and never
looks at a document.
Deliberately not here: what is laid out (`render.py`).
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.text import Text

from reader.core.text import clean_text, steady_width

_DISPLAY_REPLACEMENTS = (("\n", " "), ("\t", " "), ("\r", " "))


def one_line(text: str) -> str:
    """A string that is safe to put on one line whose width we measure ourselves."""
    text = steady_width(clean_text(text))
    for old, new in _DISPLAY_REPLACEMENTS:  # str.replace: translate() is slow on CJK
        if old in text:
            text = text.replace(old, new)
    return text


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
    spaces at a break are dropped. `plain` must already be `one_line`-safe.
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


def wrap(text: Text, width: int) -> list[Text]:
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


def indented(text: Text, width: int, prefix: str, prefix_style: str) -> list[Text]:
    lines = wrap(text, width - cell_len(prefix))
    return [Text(prefix, prefix_style) + line for line in lines]


def within_width(lines: list[Text], width: int) -> list[Text]:
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
