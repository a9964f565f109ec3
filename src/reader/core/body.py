"""Fast, rough reading of a post body: its canonical URL and its plain text for search.

This runs on every file at start-up, so it avoids an HTML parser (~700 µs a post with
BeautifulSoup) and also avoids the regular expressions that are slow on Chinese text
(multiline `^` anchors, `[ \\t…]+` classes scanned over every character): lines are
handled with `str.split`/`strip`/`startswith`, and the only regexes left start with a
literal (`<`, `[`), which the engine can skip to quickly. Every step stays linear on
hostile input (unclosed tags, a 3 MB line, thousands of `<script` openers, "<<<<").
The reading pane uses the full parser in `document.py`.
"""

from __future__ import annotations

import html
import re


_CHROME = re.compile(
    r"\[返回[^\]\n]*\]\([^)\n]*\)(?:[ \t]*[｜|][ \t]*\[[^\]\n]*\]\([^)\n]*\))*"
)
_AUTOLINK = re.compile(r"<(https?://[^<>\s]+)>", re.IGNORECASE)
_MARKDOWN_LINK = re.compile(r"\[([^\[\]\n]*)\]\([^()\s]*\)")
# `[^<>]` rather than `[^>]`: an unclosed `<` then fails at the next `<`, which keeps
# the pass linear on input like "<<<<…".
_ANY_TAG = re.compile(r"<[^<>]*>")
_HIDDEN_OPENERS = re.compile(r"<(script|style)\b|<!--", re.IGNORECASE)
# Closing tags of blocks end a line, so words of two paragraphs do not run together.
_BLOCK_CLOSERS = ("</p>", "</div>", "</tr>", "</td>", "</th>", "</li>", "</center>", "<br")


def find_url(body: str) -> str | None:
    """The article's original URL: the last `<http…>` autolink alone on a line."""
    position = len(body)
    while True:
        start = body.rfind("<", 0, position)
        if start < 0:
            return None
        url = _autolink_line_at(body, start)
        if url is not None:
            return url
        position = start


def _autolink_line_at(body: str, start: int) -> str | None:
    """The URL when the `<` at `start` opens an autolink that is alone on its line."""
    if body[start + 1 : start + 5].lower() != "http":
        return None
    line_start = body.rfind("\n", 0, start) + 1
    line_end = body.find("\n", start)
    line = body[line_start : len(body) if line_end < 0 else line_end].strip(" \t")
    match = _AUTOLINK.fullmatch(line)
    return match.group(1) if match else None


def drop_hidden(body: str) -> str:
    """Remove `<script>`/`<style>` elements and HTML comments, in one linear pass.

    An unclosed one hides the rest of the body, as a browser would.
    """
    if "<!--" not in body and "<s" not in body and "<S" not in body:
        return body
    pieces: list[str] = []
    position = 0
    lowered: str | None = None
    while True:
        opener = _HIDDEN_OPENERS.search(body, position)
        if opener is None:
            pieces.append(body[position:])
            break
        pieces.append(body[position : opener.start()])
        if opener.group(1):
            if lowered is None:
                lowered = body.lower()
            close = lowered.find(f"</{opener.group(1).lower()}", opener.end())
            end_mark = ">"
        else:
            close = body.find("-->", opener.end())
            end_mark = "-->"
        if close < 0:
            break
        end = body.find(end_mark, close)
        position = len(body) if end < 0 else end + len(end_mark)
    return "".join(pieces)


def _content_lines(body: str) -> str:
    """The body without blank lines, `[返回…](…)` chrome lines, autolink lines and `>` marks."""
    kept: list[str] = []
    for line in body.split("\n"):
        line = line.strip(" \t\r")
        if not line:
            continue
        first = line[0]
        if first == "[" and line.startswith("[返回") and _CHROME.fullmatch(line):
            continue
        if first == "<" and _AUTOLINK.fullmatch(line):
            continue
        if first == ">":
            line = line[1:]
        kept.append(line)
    return "\n".join(kept)


def search_body(body: str) -> str:
    """The body's text for the search index: tags, chrome, autolinks, link targets removed.

    Not display-safe (no `clean_text`: search text is never shown), but free of the
    bulk separator "\\x00". Whitespace is left as it is; search terms never contain any.
    """
    text = _content_lines(drop_hidden(body))
    if "](" in text:
        text = _MARKDOWN_LINK.sub(r"\1", text)
    if "<" in text:
        for closer in _BLOCK_CLOSERS:
            if closer in text:
                text = text.replace(closer, "\n" + closer)
        text = _ANY_TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text.replace("&nbsp;", " "))
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text
