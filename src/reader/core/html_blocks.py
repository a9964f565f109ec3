"""Article body -> document: the HTML and Markdown of one post read into the model of `document.py`.

A post body (the text after the YAML front matter) is Markdown mixed with the news
sites' HTML. `parse_document` turns it into a `Document` of typed blocks that the
reading pane renders; nothing here knows about terminals or Textual.

What it deliberately avoids:

- Fetching anything. URLs are kept as text; `data:` URLs are shortened for display.
- Recursion over the tree. The walk uses an explicit stack, so 20,000 nested `<div>`s
  cannot raise `RecursionError`; any other failure falls back to one tag-stripped
  paragraph, so `parse_document` never raises.
- Unbounded work. Bodies are cut at `MAX_BODY_CHARS` characters and at the
  `MAX_BODY_TAGS`-th opening tag (BeautifulSoup costs ~13 µs per node, so a megabyte of
  tags would take seconds); a cut body ends with the paragraph `TRUNCATED_NOTE`. Only the
  first `MAX_LINKS` link targets are numbered.
- Site chrome: `[返回…](…)` navigation lines, the K-line chart between
  `<!-- EM_StockImg_Start -->` and `<!-- EM_StockImg_End -->`, hidden elements, scripts.

Whitespace follows how Chinese is written (and CSS's segment-break rule): runs collapse
to one space, paragraph ends are stripped, and a run containing a line break between two
CJK / full-width characters is dropped (HTML source wraps lines anywhere, so
"稳增长\\n 的" means "稳增长的"). A plain space between CJK characters is kept, because
headings use it as a separator ("最重要任务 突出抓好"), and so is "5G 基站".
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup
from bs4.element import Comment, NavigableString, PageElement, Tag

from reader.core.cjk_space import normalise_space, normalise_spans
from reader.core.document import (
    Block,
    Digest,
    Document,
    Link,
    Paragraph,
    Picture,
    Security,
    SourceLine,
    Span,
    Subheading,
    Table,
)
from reader.core.markdown_layer import MAX_BODY_CHARS, MD_LINK, bound, cut_at_tag, split_markdown
from reader.core.text import clean_line

TRUNCATED_NOTE = "…（正文过长，已截断）"
"""Last paragraph of a body that was cut."""
MAX_DATA_URL_CHARS = 60
"""`data:` URLs are shortened to this many characters plus "…"."""
MAX_LINKS = 300
"""Links numbered and listed per article (real posts have a few dozen); the text of any
further link stays in place, unnumbered, and `Document.more_links` counts them, so a
post of 30,000 links does not make a list of 30,000 lines on every render."""


# --- Markdown layer -------------------------------------------------------------------


# --- Whitespace -----------------------------------------------------------------------


# --- HTML layer -----------------------------------------------------------------------

_SKIPPED_TAGS = frozenset(
    "script style noscript template iframe object embed head title meta link svg math "
    "button input select textarea audio video canvas".split()
)
_BLOCK_TAGS = frozenset(
    "html body p div center section article header footer main aside nav ul ol li dl dt "
    "dd blockquote pre figure figcaption address form fieldset details summary".split()
)
_HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_BOLD_TAGS = frozenset(("strong", "b"))
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_SECURITY_ID = re.compile(r"(stock|bk)_([^.\s]+)\.(\S+)")
_QUOTE_ID = re.compile(r"(?:bk)?quote_")
_DATA_CODE = re.compile(r"(\w+),(\w+)")


@dataclass
class _Registry:
    """Links and securities shared by every walk over one body."""

    links: list[Link] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=dict)
    securities: dict[Security, None] = field(default_factory=dict)
    unlisted: set[str] = field(default_factory=set)
    """Targets met after `MAX_LINKS` were numbered."""

    def link(self, url: str, text: str) -> int | None:
        """Number for `url`, registering it on first use; None once `MAX_LINKS` are taken."""
        number = self.numbers.get(url)
        if number is None:
            if len(self.links) >= MAX_LINKS:
                self.unlisted.add(url)
                return None
            self.links.append(Link(clean_line(text), url))
            number = self.numbers[url] = len(self.links)
        return number


def _display_url(raw: str) -> str:
    url = clean_line(raw)
    if url.lower().startswith("data:") and len(url) > MAX_DATA_URL_CHARS:
        return url[:MAX_DATA_URL_CHARS] + "…"
    return url


def _attribute(tag: Tag, name: str) -> str:
    value = tag.get(name)
    if isinstance(value, list):
        return " ".join(value)
    return value or ""


def _classes(tag: Tag) -> list[str]:
    return _attribute(tag, "class").split()


def _is_hidden(tag: Tag) -> bool:
    return tag.has_attr("hidden") or bool(_HIDDEN_STYLE.search(_attribute(tag, "style")))


def _security_of(tag: Tag) -> Security | None:
    """The security a site quote span (or bare quote anchor) names, if any."""
    match = _SECURITY_ID.fullmatch(_attribute(tag, "id")) if tag.name == "span" else None
    if match:
        kind = "stock" if match.group(1) == "stock" else "sector"
        market, code = match.group(2), match.group(3)
    elif tag.name == "a" and "keytip" in _classes(tag):
        code_match = _DATA_CODE.fullmatch(_attribute(tag, "data-code"))
        if not code_match:
            return None
        market, code = code_match.group(1), code_match.group(2)
        kind = "sector" if code.upper().startswith("BK") else "stock"
    else:
        return None
    name = normalise_space(tag.get_text())
    if not name:
        return None
    return Security(kind, clean_line(market), clean_line(code), clean_line(name))


def _table_of(table: Tag) -> Table | None:
    rows: list[tuple[str, ...]] = []
    first_is_header = False
    for row in table.find_all("tr"):
        if not isinstance(row, Tag) or row.find_parent("table") is not table:
            continue  # rows of a nested table belong to its cell text
        cells = [c for c in row.children if isinstance(c, Tag) and c.name in ("td", "th")]
        if not cells:
            continue
        if not rows:
            first_is_header = all(cell.name == "th" for cell in cells)
        rows.append(tuple(clean_line(normalise_space(cell.get_text(" "))) for cell in cells))
    return Table(tuple(rows), first_is_header) if rows else None


@dataclass(frozen=True, slots=True)
class _Exit:
    """Stack marker: what to undo when the walk leaves `tag`."""

    tag: Tag
    bold: bool
    link: bool
    block: str | None


class _Walker:
    """Turns one parsed tree into blocks, iteratively (no recursion on depth)."""

    def __init__(self, registry: _Registry) -> None:
        self.registry = registry
        self.blocks: list[Block] = []
        self.spans: list[Span] = []
        self.bold_depth = 0
        self.link_urls: list[str] = []
        self.in_chart = False

    def walk(self, root: Tag) -> list[Block]:
        stack: list[PageElement | _Exit] = [root]
        while stack:
            item = stack.pop()
            if isinstance(item, _Exit):
                self._leave(item)
            elif isinstance(item, Comment):
                self._comment(item)
            elif isinstance(item, NavigableString):
                if type(item) is NavigableString:  # not CData, Doctype, script text…
                    self._text(str(item))
            elif isinstance(item, Tag):
                exit_marker = self._enter(item)
                if exit_marker is not None:
                    stack.append(exit_marker)
                    stack.extend(reversed(item.contents))
        self._flush(None)
        return self.blocks

    def _comment(self, comment: Comment) -> None:
        if "EM_StockImg_Start" in comment:
            self.in_chart = True
        elif "EM_StockImg_End" in comment:
            self.in_chart = False

    def _enter(self, tag: Tag) -> _Exit | None:
        """Handle an opening tag; return an exit marker if its children are wanted."""
        name = tag.name
        if name in _SKIPPED_TAGS or _is_hidden(tag) or self._is_chrome(tag):
            return None
        security = _security_of(tag)
        if security is not None:
            self.registry.securities.setdefault(security)
            self.spans.append(Span(security.name, self.bold_depth > 0, None, security))
            return None
        if name in ("img", "table", "br", "hr"):
            self._flush(None)
            self._standalone(tag)
            return None
        block = self._block_kind(tag)
        if block is not None:
            self._flush(None)
        is_bold = name in _BOLD_TAGS
        self.bold_depth += is_bold
        href = _attribute(tag, "href").strip() if name == "a" else ""
        if href:
            self.link_urls.append(_display_url(href))
        return _Exit(tag, is_bold, bool(href), block)

    def _is_chrome(self, tag: Tag) -> bool:
        if tag.name == "a" and "EmImageRemark" in _classes(tag):
            return True
        if tag.name == "span" and _QUOTE_ID.match(_attribute(tag, "id")):
            return True
        return self.in_chart and tag.name == "img"

    def _standalone(self, tag: Tag) -> None:
        if tag.name == "img":
            alt = clean_line(_attribute(tag, "alt"))
            url = _display_url(_attribute(tag, "src"))
            if alt or url:
                self.blocks.append(Picture(alt, url))
        elif tag.name == "table":
            table = _table_of(tag)
            if table is not None:
                self.blocks.append(table)

    @staticmethod
    def _block_kind(tag: Tag) -> str | None:
        if tag.name in _HEADING_TAGS:
            return "heading"
        if tag.name == "p" and "em_media" in _classes(tag):
            return "source"
        if tag.name == "p" and _is_single_strong(tag):
            return "heading"
        return "paragraph" if tag.name in _BLOCK_TAGS else None

    def _leave(self, marker: _Exit) -> None:
        self.bold_depth -= marker.bold
        if marker.link:
            self.link_urls.pop()
        if marker.block is not None:
            self._flush(marker.block)

    def _text(self, text: str) -> None:
        """Add a text node, turning Markdown `[text](url)` into linked spans."""
        bold = self.bold_depth > 0
        url = self.link_urls[-1] if self.link_urls else None
        cursor = 0
        for match in MD_LINK.finditer(text):
            self._add(text[cursor : match.start()], bold, url)
            self._add(match.group(1), bold, _display_url(match.group(2)))
            cursor = match.end()
        self._add(text[cursor:], bold, url)

    def _add(self, text: str, bold: bool, url: str | None) -> None:
        # Links are numbered when they first carry visible text, so an anchor around an
        # image does not leave an unused number behind.
        link = self.registry.link(url, text) if url and text.strip() else None
        if text:
            self.spans.append(Span(text, bold, link))

    def _flush(self, kind: str | None) -> None:
        """Close the current run of spans as a block of `kind` (None: paragraph)."""
        if not self.spans:
            return
        spans, self.spans = normalise_spans(self.spans), []
        text = "".join(span.text for span in spans)
        if not text:
            return
        plain = all(span.link is None and span.security is None for span in spans)
        if kind == "source":
            self.blocks.append(SourceLine(text))
        elif kind == "heading" and plain:
            self.blocks.append(Subheading(text))
        else:
            self.blocks.append(Paragraph(tuple(spans)))


def _is_single_strong(tag: Tag) -> bool:
    """True for `<p>` whose only non-blank child is one `<strong>`/`<b>`."""
    children = [child for child in tag.contents if not _is_blank(child)]
    return len(children) == 1 and isinstance(children[0], Tag) and children[0].name in _BOLD_TAGS


def _is_blank(node: PageElement) -> bool:
    if isinstance(node, Comment):
        return True
    return isinstance(node, NavigableString) and not node.strip()


# --- Entry points ---------------------------------------------------------------------


def _parse_html(markup: str, registry: _Registry) -> list[Block]:
    soup = BeautifulSoup(markup, "lxml")
    return _Walker(registry).walk(soup)


def _digest_of(blocks: list[Block]) -> Digest | None:
    spans: list[Span] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            spans += [*block.spans, Span(" ")]
        elif isinstance(block, Subheading | SourceLine):
            spans += [Span(block.text, bold=isinstance(block, Subheading)), Span(" ")]
    spans = normalise_spans(spans)
    return Digest(tuple(spans)) if spans[0].text else None


def parse_document(body: str) -> Document:
    """Parse a post body into a `Document`; never raises (see the module docstring)."""
    try:
        return _parse(body)
    except Exception:  # noqa: BLE001 - hostile input must still show something
        return _fallback(body)


def _parse(body: str) -> Document:
    body, was_cut = bound(body)
    url, quote, markup, chunks_cut = split_markdown(body)
    markup, tags_cut = cut_at_tag(markup)  # the `<p>`s of plain paragraphs count too
    was_cut = was_cut or chunks_cut or tags_cut
    registry = _Registry()
    blocks: list[Block] = []
    if quote is not None:
        digest = _digest_of(_parse_html(quote, registry))
        if digest is not None:
            blocks.append(digest)
    if markup.strip():
        blocks += _parse_html(markup, registry)
    if was_cut:
        blocks.append(Paragraph((Span(TRUNCATED_NOTE),)))
    links, securities = tuple(registry.links), tuple(registry.securities)
    return Document(tuple(blocks), links, securities, url, len(registry.unlisted))


_ANY_TAG = re.compile(r"<[^<>]*>")


def _fallback(body: str) -> Document:
    """Last resort: the body's text without tags, as one paragraph."""
    try:
        text = normalise_space(html.unescape(_ANY_TAG.sub(" ", body[:MAX_BODY_CHARS])))
    except Exception:  # noqa: BLE001 - e.g. MemoryError on a pathological body
        text = ""
    blocks: tuple[Block, ...] = (Paragraph((Span(text),)),) if text else ()
    return Document(blocks, (), (), None)
