"""Article body -> document model: the blocks, links and securities of one post.

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
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TypeAlias

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from bs4.element import PageElement

from reader.core.body import autolink_url
from reader.core.text import clean_line, clean_text

MAX_BODY_CHARS = 200_000
"""Bodies longer than this are cut before parsing."""
MAX_BODY_TAGS = 5_000
"""Bodies are cut before this opening tag, counting the `<p>` of each plain Markdown
paragraph (real posts have a few dozen, a long table a few hundred): parsing 5,000 costs
~150 ms, once per article, and rendering them ~20 ms."""
TRUNCATED_NOTE = "…（正文过长，已截断）"
"""Last paragraph of a body that was cut."""
MAX_DATA_URL_CHARS = 60
"""`data:` URLs are shortened to this many characters plus "…"."""
MAX_LINKS = 300
"""Links numbered and listed per article (real posts have a few dozen); the text of any
further link stays in place, unnumbered, and `Document.more_links` counts them, so a
post of 30,000 links does not make a list of 30,000 lines on every render."""


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


# --- Markdown layer -------------------------------------------------------------------

_INLINE_AUTOLINK = re.compile(r"<(https?://[^\s<>\"']{1,2000})>")
_CHROME_LINK = r"\[返回[^\[\]\n]*\]\([^()\s]*\)"
_CHROME_LINE = re.compile(rf"{_CHROME_LINK}(?:\s*[｜|]\s*{_CHROME_LINK})*")
_MD_LINK = re.compile(r"\[([^\[\]\n]{1,500})\]\(\s*([^()\s]{1,2000})\s*\)")
_QUOTE_MARK = re.compile(r"^[ \t]*>[ \t]?", re.MULTILINE)
_OPENING_TAG = re.compile(r"<[A-Za-z]")
_SHORT_LINE = 4000  # line-level patterns only run on lines this short (cheap on 3 MB)


def _bound(body: str) -> tuple[str, bool]:
    """Cut `body` to the size limits; return it and whether it was cut."""
    too_long = len(body) > MAX_BODY_CHARS
    body, tags_cut = _cut_at_tag(body[:MAX_BODY_CHARS])
    return body, too_long or tags_cut


def _cut_at_tag(markup: str) -> tuple[str, bool]:
    """`markup` cut before its `MAX_BODY_TAGS`-th opening tag, and whether it was cut."""
    last = next(itertools.islice(_OPENING_TAG.finditer(markup), MAX_BODY_TAGS, None), None)
    if last is not None:
        return markup[: last.start()], True
    return markup, False


def _split_markdown(body: str) -> tuple[str | None, str | None, str, bool]:
    """Remove chrome and autolink lines; return (url, leading quote, HTML to parse, and
    whether paragraphs past the `MAX_BODY_TAGS`-th were left out)."""
    url: str | None = None
    kept: list[str] = []
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        found = autolink_url(line)  # the loader's rule: the header shows what `o` opens
        if found is not None:
            url = clean_line(found)
            kept.append("")
            continue
        stripped = line.strip()
        if len(stripped) < _SHORT_LINE:
            if _CHROME_LINE.fullmatch(stripped):
                kept.append("")
                continue
        kept.append(line)
    # Each plain paragraph becomes a `<p>`, a tag `_bound` did not count: 50,000 lines
    # of "行" and blank lines would be 50,000 blocks to parse and to render.
    chunks = _chunks(kept, MAX_BODY_TAGS + 2)  # a quote, then one more than is kept
    quote: str | None = None
    if chunks and _is_quote(chunks[0]):
        quote = _QUOTE_MARK.sub("", chunks.pop(0))
    markup = "\n".join(_chunk_html(chunk) for chunk in chunks[:MAX_BODY_TAGS])
    return url, quote, markup, len(chunks) > MAX_BODY_TAGS


def _chunks(lines: list[str], limit: int) -> list[str]:
    """Group lines into Markdown paragraphs (separated by blank lines), at most `limit`."""
    chunks: list[str] = []
    for is_blank, group in itertools.groupby(lines, key=lambda line: not line.strip()):
        if not is_blank:
            chunks.append("\n".join(group))
            if len(chunks) == limit:
                break
    return chunks


def _is_quote(chunk: str) -> bool:
    return all(line.lstrip().startswith(">") for line in chunk.split("\n"))


def _chunk_html(chunk: str) -> str:
    """HTML for one Markdown paragraph: plain text becomes its own `<p>`."""
    if _is_quote(chunk):
        chunk = _QUOTE_MARK.sub("", chunk)
    # `<https://…>` inline would parse as a tag; turn it into a Markdown link instead.
    chunk = _INLINE_AUTOLINK.sub(r"[\1](\1)", chunk)
    if "<" not in chunk:
        return f"<p>{chunk}</p>"
    return chunk


# --- Whitespace -----------------------------------------------------------------------

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
    return _normalise_spans([Span(text)])[0].text if text else ""


def _normalise_spans(spans: list[Span]) -> list[Span]:
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
        for match in _MD_LINK.finditer(text):
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
        spans, self.spans = _normalise_spans(self.spans), []
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
    spans = _normalise_spans(spans)
    return Digest(tuple(spans)) if spans[0].text else None


def parse_document(body: str) -> Document:
    """Parse a post body into a `Document`; never raises (see the module docstring)."""
    try:
        return _parse(body)
    except Exception:  # noqa: BLE001 - hostile input must still show something
        return _fallback(body)


def _parse(body: str) -> Document:
    body, was_cut = _bound(body)
    url, quote, markup, chunks_cut = _split_markdown(body)
    markup, tags_cut = _cut_at_tag(markup)  # the `<p>`s of plain paragraphs count too
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
