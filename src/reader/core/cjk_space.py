"""Whitespace as Chinese is written: the one rule for spaces in an article's text.

Runs collapse to one space, paragraph ends are stripped, and a run containing a line
break between two CJK / full-width characters is dropped (HTML source wraps lines
anywhere, so "稳增长\\n 的" means "稳增长的"). A plain space between CJK characters is kept,
because headings use it as a separator ("最重要任务 突出抓好"), and so is "5G 基站".
Deliberately not here: which text is in a paragraph (`html_blocks.py`).
"""

from __future__ import annotations

import re
import unicodedata

from reader.core.document import Span
from reader.core.text import clean_text

# Whitespace that needs an edit: anything but a lone " " inside the text. Lone spaces
# are most runs in English text, and skipping them keeps a megabyte of it fast.
_CHANGED_SPACE = re.compile(r"^\s+|\s+$|\s{2,}|[^\S ]")


_CJK_PUNCTUATION = frozenset("“”‘’…—·")


def _is_cjk(char: str) -> bool:
    """Wide (CJK, full-width) characters and the quotes Chinese text uses."""
    return char in _CJK_PUNCTUATION or unicodedata.east_asian_width(char) in ("W", "F")


def _space_edits(text: str) -> list[tuple[int, int, str]]:
    """(start, end, replacement) for each whitespace run in `text` that must change."""
    edits: list[tuple[int, int, str]] = []
    for match in _CHANGED_SPACE.finditer(text):
        start, end = match.span()
        at_edge = start == 0 or end == len(text)
        # Like CSS's segment-break rule: a line break between two CJK characters is
        # source wrapping, but a plain space there is the author's (titles use it).
        is_wrap = not at_edge and ("\n" in match.group() or "\r" in match.group())
        joins_cjk = is_wrap and _is_cjk(text[start - 1]) and _is_cjk(text[end])
        edits.append((start, end, "" if at_edge or joins_cjk else " "))
    return edits


def normalise_space(text: str) -> str:
    """Clean `text` and apply the whitespace rule of the module docstring."""
    return normalise_spans([Span(text)])[0].text if text else ""


def normalise_spans(spans: list[Span]) -> list[Span]:
    """Apply the whitespace rule across span boundaries, then merge alike spans."""
    spans = [Span(clean_text(s.text), s.bold, s.link, s.security) for s in spans]
    joined = "".join(span.text for span in spans)
    edits = _space_edits(joined)
    result: list[Span] = []
    position = index = 0
    for span in spans:
        start, end = position, position + len(span.text)
        position = end
        parts: list[str] = []
        cursor = start
        while index < len(edits) and edits[index][0] < end:
            run_start, run_end, replacement = edits[index]
            if run_start >= start:  # a run crossing spans is replaced in its first span
                parts += [joined[cursor:run_start], replacement]
            cursor = min(run_end, end)
            if run_end > end:
                break
            index += 1
        parts.append(joined[cursor:end])
        _append_merged(result, Span("".join(parts), span.bold, span.link, span.security))
    return result if result else [Span("")]


def _append_merged(spans: list[Span], span: Span) -> None:
    if not span.text:
        return
    if spans and span.security is None and spans[-1].security is None:
        last = spans[-1]
        if (last.bold, last.link) == (span.bold, span.link):
            spans[-1] = Span(last.text + span.text, last.bold, last.link)
            return
    spans.append(span)
