"""Fast, rough reading of a post body: its canonical URL and its plain text for search.

This runs on every file at start-up, so it avoids an HTML parser (~700 µs a post with
BeautifulSoup) and also avoids the regular expressions that are slow on Chinese text
(multiline `^` anchors, `[ \\t…]+` classes scanned over every character): lines are
handled with `str.split`/`strip`/`startswith`, and every regex that scans a whole text
starts with one literal character (`<`, `[`, `&`), which the engine skips to quickly.
A pass over the text costs about as much as copying it, so `search_body` makes few: one
search for hidden elements, one split into lines, one substitution for block ends, one
for tags; the rare steps run only when a one-character `in` or a regex `search` (both
cheaper than a two-character `in`) finds their mark. Every step stays linear on hostile
input (unclosed tags, a 3 MB line, thousands of `<script` openers, "<<<<").
The reading pane uses the full parser in `document.py`.
"""

from __future__ import annotations

import html
import re

# Matched against one line at a time, so the classes need not exclude "\n".
_CHROME_LINE = re.compile(r"\[返回[^\]]*\]\([^)]*\)(?:[ \t]*[｜|][ \t]*\[[^\]]*\]\([^)]*\))*")
# `<https?://…>` in any case. The cases are spelled out because under re.IGNORECASE every
# character tested against `[^<>\s]` is case-folded first, which is slower. "ſ" (U+017F)
# is the one other character IGNORECASE lets match "s"; h, t and p have none.
_AUTOLINK = re.compile(r"<([hH][tT][tT][pP][sS\u017f]?://[^<>\s]+)>")
_MARKDOWN_LINK = re.compile(r"\[([^\[\]\n]*)\]\([^()\s]*\)")
# Any character but `<` and `>`: `[^<>]` spelled as ranges, which compile to one table
# lookup per character rather than two comparisons. Excluding `<` means an unclosed `<`
# fails at the next `<`, which keeps the pass linear on input like "<<<<…".
_NOT_BRACKET = r"[\x00-;=?-\U0010ffff]"
# Runs of adjacent tags, one match per run: removing a run removes each of its tags.
_TAGS = re.compile(f"<{_NOT_BRACKET}*+>(?:<{_NOT_BRACKET}*+>)*+")
# The `<` of a block end: `</p>`, `</div>`, `</tr>`, `</td>`, `</th>`, `</li>`, `</center>`
# or any `<br`. It ends a line, so words of two paragraphs do not run together.
_BLOCK_END = re.compile(r"<(?=/(?:p|div|t[rdh]|li|center)>|br)")
# `<script`, `<style` (any case) or `<!--`, with `<` in front of the alternatives so the
# engine has a literal to skip to. The letter classes are what re.IGNORECASE allowed (it
# also lets "ſ" match s, and "İ"/"ı" match i), spelled out for the same reason as above.
_HIDDEN_OPENER = re.compile(r"<(?:([sS\u017f](?:[cC][rR][iI\u0130\u0131][pP][tT]|[tT][yY][lL][eE]))\b|!--)")
_NBSP = re.compile("&nbsp;")


def find_url(body: str) -> str | None:
    """The article's original URL: the last `<http…>` autolink alone on a line.

    Linear: once a line has been looked at, the search goes on above it (a line holding
    thousands of `<http` is copied once, not once per `<`).
    """
    position = len(body)
    while True:
        start = body.rfind("<", 0, position)
        if start < 0:
            return None
        line_start = body.rfind("\n", 0, start) + 1
        if body[start + 1 : start + 5].lower() == "http":
            line_end = body.find("\n", start)
            url = autolink_url(body[line_start : len(body) if line_end < 0 else line_end])
            if url is not None:
                return url
            position = line_start  # an autolink line is the whole line: none other here
        else:
            position = start


def autolink_url(line: str) -> str | None:
    """The URL of a line that is a `<http…>` autolink alone (spaces and tabs around it).

    The one rule for "this line is the article's link": the loader takes the last such
    line as the article's URL (`find_url`), and the reading pane drops these lines from
    the text, so what the header shows and what `o` opens cannot differ.
    """
    match = _AUTOLINK.fullmatch(line.strip(" \t\r"))
    return match.group(1) if match else None


def drop_hidden(body: str) -> str:
    """Remove `<script>`/`<style>` elements and HTML comments, in one linear pass.

    An unclosed one hides the rest of the body, as a browser would.
    """
    opener = _HIDDEN_OPENER.search(body)
    if opener is None:
        return body
    # The previous version only searched bodies holding "<!--", "<s" or "<S". Keep that
    # for the one spelling of an opener without them: "<ſcript" or "<ſtyle".
    if body[opener.start() + 1] == "\u017f" and not ("<s" in body or "<S" in body or "<!--" in body):
        return body
    pieces: list[str] = []
    position = 0
    lowered: str | None = None
    while True:
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
        opener = _HIDDEN_OPENER.search(body, position)
        if opener is None:
            pieces.append(body[position:])
            break
    return "".join(pieces)


def _content_lines(body: str) -> str:
    """The body without blank lines, `[返回…](…)` chrome lines, autolink lines and `>` marks."""
    kept: list[str] = []
    for line in body.split("\n"):
        line = line.strip(" \t\r")
        if not line:
            continue
        first = line[0]
        if first == "<":
            # Most lines are HTML; the regex runs only on lines that could be autolinks.
            if line[-1] == ">" and line[1] in "hH" and _AUTOLINK.fullmatch(line):
                continue
        elif first == ">":
            line = line[1:]
        elif first == "[" and line.startswith("[返回") and _CHROME_LINE.fullmatch(line):
            continue
        kept.append(line)
    return "\n".join(kept)


def search_body(body: str) -> str:
    """The body's text for the search index: tags, chrome, autolinks, link targets removed.

    Not display-safe (no `clean_text`: search text is never shown), but free of the
    bulk separator "\\x00". Whitespace is left as it is; search terms never contain any.
    """
    text = _content_lines(drop_hidden(body))
    # Cheaper than `"](" in text`; where the search finds no link the sub changes nothing.
    if _MARKDOWN_LINK.search(text):
        text = _MARKDOWN_LINK.sub(r"\1", text)
    if "<" in text:
        # Block ends first: the line break goes in front of the tag, which then goes.
        text = _TAGS.sub("", _BLOCK_END.sub("\n<", text))
    if "&" in text:
        # "&nbsp;" becomes a plain space, where html.unescape would give U+00A0.
        text = html.unescape(_NBSP.sub(" ", text))
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text
