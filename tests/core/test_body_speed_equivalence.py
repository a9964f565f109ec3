"""The faster `search_body`, `drop_hidden` and `find_url` give exactly what the previous code gave.

The reference below is `body.py` as it was before the speed-up (its regexes and functions,
renamed `_ref_*`, comments dropped). Every check compares the new functions with it, on the
sample posts, on a generated corpus with its hostile files, on generated text full of the
syntax the functions look at, and on spellings found while rewriting them. A last check
makes sure hostile inputs of a few megabytes still take well under a second.
"""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import pytest
from benchmarks.corpus import write_corpus
from hypothesis import given, settings
from tests.body_inputs import HOSTILE, LINES, TEXT, TRICKY

from reader.core.body import drop_hidden, find_url, search_body
from reader.core.frontmatter import FrontMatterError, split_front_matter

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"

# --- reference: the code before the speed-up -------------------------------------------

_REF_CHROME = re.compile(r"\[返回[^\]\n]*\]\([^)\n]*\)(?:[ \t]*[｜|][ \t]*\[[^\]\n]*\]\([^)\n]*\))*")
_REF_AUTOLINK = re.compile(r"<(https?://[^<>\s]+)>", re.IGNORECASE)
_REF_MARKDOWN_LINK = re.compile(r"\[([^\[\]\n]*)\]\([^()\s]*\)")
_REF_ANY_TAG = re.compile(r"<[^<>]*>")
_REF_HIDDEN_OPENERS = re.compile(r"<(script|style)\b|<!--", re.IGNORECASE)
_REF_BLOCK_CLOSERS = ("</p>", "</div>", "</tr>", "</td>", "</th>", "</li>", "</center>", "<br")


def _ref_find_url(body: str) -> str | None:
    position = len(body)
    while True:
        start = body.rfind("<", 0, position)
        if start < 0:
            return None
        url = _ref_autolink_line_at(body, start)
        if url is not None:
            return url
        position = start


def _ref_autolink_line_at(body: str, start: int) -> str | None:
    if body[start + 1 : start + 5].lower() != "http":
        return None
    line_start = body.rfind("\n", 0, start) + 1
    line_end = body.find("\n", start)
    line = body[line_start : len(body) if line_end < 0 else line_end].strip(" \t")
    match = _REF_AUTOLINK.fullmatch(line)
    return match.group(1) if match else None


def _ref_drop_hidden(body: str) -> str:
    if "<!--" not in body and "<s" not in body and "<S" not in body:
        return body
    pieces: list[str] = []
    position = 0
    lowered: str | None = None
    while True:
        opener = _REF_HIDDEN_OPENERS.search(body, position)
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


def _ref_content_lines(body: str) -> str:
    kept: list[str] = []
    for line in body.split("\n"):
        line = line.strip(" \t\r")
        if not line:
            continue
        first = line[0]
        if first == "[" and line.startswith("[返回") and _REF_CHROME.fullmatch(line):
            continue
        if first == "<" and _REF_AUTOLINK.fullmatch(line):
            continue
        if first == ">":
            line = line[1:]
        kept.append(line)
    return "\n".join(kept)


def _reference_search_body(body: str) -> str:
    text = _ref_content_lines(_ref_drop_hidden(body))
    if "](" in text:
        text = _REF_MARKDOWN_LINK.sub(r"\1", text)
    if "<" in text:
        for closer in _REF_BLOCK_CLOSERS:
            if closer in text:
                text = text.replace(closer, "\n" + closer)
        text = _REF_ANY_TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text.replace("&nbsp;", " "))
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text


# --- helpers ---------------------------------------------------------------------------


def assert_same(body: str) -> None:
    """Every public function of `body.py` answers `body` as the reference does."""
    assert search_body(body) == _reference_search_body(body)
    assert drop_hidden(body) == _ref_drop_hidden(body)
    assert find_url(body) == _ref_find_url(body)


def body_of(path: Path) -> str:
    """The body after the front matter, or the whole text when there is none usable."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    try:
        return split_front_matter(text)[1]
    except FrontMatterError:
        return text


# --- real and generated posts ----------------------------------------------------------


def test_sample_posts() -> None:
    paths = sorted(path for path in SAMPLE_DATA.iterdir() if path.is_file())
    assert paths
    for path in paths:
        assert_same(body_of(path))


def test_generated_corpus_with_hostile_files(tmp_path: Path) -> None:
    write_corpus(tmp_path, count=300, seed=7, hostile=True)
    paths = sorted(path for path in tmp_path.iterdir() if path.is_file() and not path.is_symlink())
    assert len(paths) > 300
    for path in paths:
        assert_same(body_of(path))
        assert_same(path.read_bytes().decode("utf-8", errors="replace"))  # front matter too


# --- spellings met while rewriting -----------------------------------------------------


@pytest.mark.parametrize("body", TRICKY)
def test_tricky_spellings(body: str) -> None:
    assert_same(body)


# --- generated text full of the syntax the functions look at ---------------------------


@settings(max_examples=700, deadline=None, derandomize=True)
@given(TEXT)
def test_generated_text(body: str) -> None:
    assert_same(body)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(LINES)
def test_generated_lines(body: str) -> None:
    assert_same(body)


# --- linear time on hostile input ------------------------------------------------------


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_takes_linear_time(name: str) -> None:
    body = HOSTILE[name]
    started = time.perf_counter()
    search_body(body)
    drop_hidden(body)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"{name}: {elapsed:.2f} s for {len(body):,} characters"
