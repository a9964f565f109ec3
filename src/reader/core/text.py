"""Text hygiene shared by every layer: make corpus text safe to show, and fold it for search.

Everything a corpus file contains is untrusted. `clean_text` removes what could act on a
terminal (C0/C1 controls, DEL, bidi overrides, lone surrogates) so the UI and the CLI can
print the rest as plain text. `fold` is the one normalisation search uses on both the
query and the haystack: NFKC plus case folding, so `５Ｇ` finds `5G` and `IPv6` finds `ipv6`.

Deliberately not here: HTML or Markdown handling (see `body.py`, `document.py`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# C0 controls except \t and \n, DEL, C1 controls, bidi embeddings/overrides/isolates,
# marks that reorder text, the BOM, and lone surrogates (YAML "\ud800" can produce one).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
# Line and paragraph separators (U+2028/U+2029) end a line as "\n" does: terminals
# disagree on their width, so one-line places flatten them too.
_LINE_BREAKS = "\t\n\u2028\u2029"
_UNSAFE_OR_NEWLINE = re.compile(_UNSAFE.pattern[:-1] + _LINE_BREAKS + "]")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")


def clean_text(text: str) -> str:
    """Remove characters that could act on a terminal; keep newlines and tabs."""
    return _UNSAFE.sub("", text)


def clean_line(text: str) -> str:
    """`clean_text` for one-line places (titles, list rows): also flattens line breaks/tabs."""
    text = _UNSAFE_OR_NEWLINE.sub(lambda m: " " if m.group() in _LINE_BREAKS else "", text)
    return _SPACES.sub(" ", text).strip()


def visible_controls(text: str) -> str:
    """Show unsafe characters the way `less` does (`^[`, `<U+202E>`), for paths and reasons.

    Used where silently dropping a character would hide what is really there, such as a
    file name with an escape sequence in it.
    """

    def show(match: re.Match[str]) -> str:
        code = ord(match.group())
        if code < 0x20:
            return "^" + chr(code + 0x40)
        if code == 0x7F:
            return "^?"
        return f"<U+{code:04X}>"

    return _UNSAFE_OR_NEWLINE.sub(show, text)


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    return unicodedata.normalize("NFKC", char).casefold()


def fold(text: str) -> str:
    """NFKC + casefold, the normal form of every search haystack and query.

    Only characters that change are normalised one by one: full NFKC over a whole Chinese
    article is ~250 µs, and almost every character of it is already in normal form.
    """
    if text.isascii():
        return text.lower()
    return "".join(map(_fold_char, text))


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """Fold `text` and return, for each folded character, the index of its source character.

    The reading pane highlights hits found in folded text on the original text; a few
    characters fold to several (`…` -> `...`), so positions need this map.
    """
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = _fold_char(char)
        folded.append(piece)
        origin.extend([index] * len(piece))
    return "".join(folded), origin


MAX_QUERY_TERMS = 32
"""Terms a query keeps at most (see `query_terms`): a pasted page is not 20,000 searches."""


@lru_cache(maxsize=64)
def query_terms(query: str) -> tuple[str, ...]:
    """Split a search query into folded terms, longest first; every term must match (AND).

    Whitespace (including the ideographic space) separates terms. Duplicates and terms
    contained in another term are dropped because they cannot narrow the result further.
    Only the first `MAX_QUERY_TERMS` terms left, in the order written, are kept; later ones
    are ignored. So the work is linear in the query (each word is checked against at most
    that many), and the callers that ask again for each keystroke get the cached answer.
    """
    kept: list[str] = []
    for term in fold(clean_line(query)).split():
        if any(term in other for other in kept):
            continue
        kept = [other for other in kept if other not in term]
        kept.append(term)
        if len(kept) == MAX_QUERY_TERMS:
            break
    return tuple(sorted(kept, key=len, reverse=True))


# Characters whose width terminals disagree on, with each other and with Rich, or that
# show nothing at all: Unicode's default-ignorable code points (soft hyphen, joiners,
# invisible operators, variation selectors, Hangul fillers, tag characters…) and emoji
# skin-tone modifiers. A row measured with one width and drawn with another pushes every
# cell after it sideways, and an invisible character hides what a link really says.
_UNSTEADY_WIDTH = re.compile(
    "[\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200d\u2060-\u206f\u3164"
    "\ufe00-\ufe0f\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U0001f3fb-\U0001f3ff"
    "\U000e0000-\U000e0fff]"
)
# Regional indicators pair up into a flag (2 cells) or stand alone (1 or 2): shown as the
# letters they spell, so 🇨🇳 reads "CN".
_REGIONAL_INDICATORS = re.compile("[\U0001f1e6-\U0001f1ff]")


def steady_width(text: str) -> str:
    """`text` without the characters whose terminal width is unpredictable (see above)."""
    if text.isascii():
        return text
    text = _UNSTEADY_WIDTH.sub("", text)
    if "\U0001f1e6" <= max(text, default="a"):
        text = _REGIONAL_INDICATORS.sub(lambda match: chr(ord(match.group()) - 0x1F1E6 + ord("A")), text)
    return text


def display_line(text: str) -> str:
    """Any untrusted string made fit for one line of the screen: the one way corpus text,
    cached text and paths become something to show (never markup: callers wrap the result
    in a Rich `Text` or pass `markup=False`)."""
    return clean_line(steady_width(text))
