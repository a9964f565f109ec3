"""The Markdown layer of a post body: site chrome and autolink lines out, the digest found,
Markdown paragraphs turned into HTML, and the whole cut to size before parsing.

News posts are Markdown wrapped around site HTML; this pass is plain line and regex work
(no parser), so its cost is linear and small, and it bounds what the HTML parser of
`html_blocks.py` is given: `MAX_BODY_CHARS` characters and `MAX_BODY_TAGS` tags.
Deliberately not here: the HTML walk and whitespace rules (`html_blocks.py`).
"""

from __future__ import annotations

import itertools
import re

from reader.core.body import autolink_url
from reader.core.text import clean_line

MAX_BODY_CHARS = 200_000
"""Bodies longer than this are cut before parsing."""

MAX_BODY_TAGS = 5_000
"""Bodies are cut before this opening tag, counting the `<p>` of each plain Markdown
paragraph (real posts have a few dozen, a long table a few hundred): parsing 5,000 costs
~150 ms, once per article, and rendering them ~20 ms."""


_INLINE_AUTOLINK = re.compile(r"<(https?://[^\s<>\"']{1,2000})>")


_CHROME_LINK = r"\[返回[^\[\]\n]*\]\([^()\s]*\)"


_CHROME_LINE = re.compile(rf"{_CHROME_LINK}(?:\s*[｜|]\s*{_CHROME_LINK})*")


MD_LINK = re.compile(r"\[([^\[\]\n]{1,500})\]\(\s*([^()\s]{1,2000})\s*\)")


_QUOTE_MARK = re.compile(r"^[ \t]*>[ \t]?", re.MULTILINE)


_OPENING_TAG = re.compile(r"<[A-Za-z]")


_SHORT_LINE = 4000  # line-level patterns only run on lines this short (cheap on 3 MB)


def bound(body: str) -> tuple[str, bool]:
    """Cut `body` to the size limits; return it and whether it was cut."""
    too_long = len(body) > MAX_BODY_CHARS
    body, tags_cut = cut_at_tag(body[:MAX_BODY_CHARS])
    return body, too_long or tags_cut


def cut_at_tag(markup: str) -> tuple[str, bool]:
    """`markup` cut before its `MAX_BODY_TAGS`-th opening tag, and whether it was cut."""
    last = next(itertools.islice(_OPENING_TAG.finditer(markup), MAX_BODY_TAGS, None), None)
    if last is not None:
        return markup[: last.start()], True
    return markup, False


def split_markdown(body: str) -> tuple[str | None, str | None, str, bool]:
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
    # Each plain paragraph becomes a `<p>`, a tag `bound` did not count: 50,000 lines
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
