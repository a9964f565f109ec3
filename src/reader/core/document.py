"""The document model of one article: typed blocks, spans, links and securities.

Plain frozen dataclasses, made by `html_blocks.parse_document` and laid out by
`render.py`; importing this costs nothing (no HTML parser).
Deliberately not here: parsing (`html_blocks.py`), rendering (`render.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class Security:
    """A stock or sector the site marked up with a quote link."""

    kind: str
    """"stock" or "sector"."""
    market: str
    """Exchange / market number from the site, e.g. "1" (Shanghai) or "90" (sectors)."""
    code: str
    """Security code, e.g. "601857" or "BK0478"."""
    name: str
    """Display name, e.g. "中国石油"."""


@dataclass(frozen=True, slots=True)
class Link:
    """A hyperlink target, numbered by its position in `Document.links`."""

    text: str
    """Text of the first span that linked here."""
    url: str
    """Target as written in the source (never fetched)."""


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text with one set of attributes."""

    text: str
    """Clean text; may start or end with a single space between words."""
    bold: bool = False
    """Shown bold (`<strong>` / `<b>`)."""
    link: int | None = None
    """1-based number into `Document.links`, or None."""
    security: Security | None = None
    """The security this text names, or None."""


@dataclass(frozen=True, slots=True)
class Digest:
    """The leading `> ` summary paragraph."""

    spans: tuple[Span, ...]
    """Content of the summary."""


@dataclass(frozen=True, slots=True)
class Paragraph:
    """An ordinary paragraph."""

    spans: tuple[Span, ...]
    """Content of the paragraph."""


@dataclass(frozen=True, slots=True)
class Subheading:
    """A section title (the sites write `<p><strong>…</strong></p>` or `<hN>`)."""

    text: str
    """Title text."""


@dataclass(frozen=True, slots=True)
class Picture:
    """An image; only its description and address are kept."""

    alt: str
    """Alternative text, possibly empty."""
    url: str
    """Image address (shortened if it is a `data:` URL)."""


@dataclass(frozen=True, slots=True)
class Table:
    """A table as rows of cell texts."""

    rows: tuple[tuple[str, ...], ...]
    """Rows of cell texts; rows may have different lengths."""
    has_header: bool
    """True when the first row is made of `<th>` cells."""


@dataclass(frozen=True, slots=True)
class SourceLine:
    """The "（文章来源：…）" credit line."""

    text: str
    """Credit text, e.g. "（文章来源：中国证券报）"."""


Block: TypeAlias = Digest | Paragraph | Subheading | Picture | Table | SourceLine


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed article body."""

    blocks: tuple[Block, ...]
    """Content in reading order."""
    links: tuple[Link, ...]
    """Link targets; `Span.link` numbers index this from 1."""
    securities: tuple[Security, ...]
    """Securities mentioned, unique, in order of first mention."""
    url: str | None
    """The article's original address (the last `<http…>` line), if any."""
    more_links: int = 0
    """Further link targets past `MAX_LINKS`, shown as plain text and not listed."""
