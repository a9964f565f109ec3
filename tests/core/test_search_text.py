"""The C search text (`FoldedTexts.add_post`) is exactly the Python path's, or declines.

For a body it accepts, C must give fold(prefix + search_body(body)), the span of
find_url(body) and so the same identity for a post without a URL; for anything else it
must decline and add nothing, so the loader can take the Python path. Checked on the
sample posts, a generated corpus with hostile files, the spellings and generated text of
`tests/body_inputs.py`, and whole loads with and without C.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from benchmarks.corpus import write_corpus
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.body_inputs import HOSTILE, LINES, PIECES, TEXT, TRICKY
from tests.native import require_accelerator

from reader.core import accel
from reader.core.body import find_url, search_body
from reader.core.frontmatter import split_utf8_front_matter
from reader.core.loading import discovery, reading
from reader.core.search import FoldedTexts, text_identity, units_of
from reader.core.text import fold

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
PREFIX = "Title 标题 ＡＢＣ\n新华社\n"
SPACES = [chr(code) for code in range(0x3001) if chr(code).isspace()]


@pytest.fixture(autouse=True)
def _needs_the_accelerator() -> None:
    require_accelerator()


def c_result(body: bytes, prefix: str = PREFIX) -> tuple[str, str | None, str] | None:
    """(folded text, URL, text identity) from C, or None when it declines (and then
    added nothing)."""
    texts = FoldedTexts()
    span = texts.add_post(prefix, body)
    if span is None:
        assert len(texts) == 0
        return None
    start, end = span
    units, offsets = texts.finish()
    identity = text_identity(units[: offsets[1] // 2 - 1])
    return texts.texts()[0], body[start:end].decode() if start >= 0 else None, identity


def python_result(body: str, prefix: str = PREFIX) -> tuple[str, str | None, str]:
    folded = fold(prefix + search_body(body))
    return folded, find_url(body), text_identity(units_of(folded))


def accepted_and_same(body: str, prefix: str = PREFIX) -> bool:
    """Whether C took `body`; when it did, it must agree with Python."""
    got = c_result(body.encode("utf-8", "surrogatepass"), prefix)
    if got is not None:
        assert got == python_result(body, prefix), repr(body)
    return got is not None


# --- C agrees wherever it answers ------------------------------------------------------

SPELLINGS = [
    *TRICKY,
    *(f"<http://a{space}b>\n[x](y{space}z)\n[x](y{space})" for space in SPACES),
    *(f"a &{after} b" for after in ["", " ", "\t", "\n", "\f", "<", "&", ";", "nbsp;", "nbsp", "x"]),
    "&nbsp;&nbsp;x&nbsp",
    "&nb<b>sp;",
    *(
        f"a<{end}b"
        for end in [
            "/p>",
            "/div>",
            "/tr>",
            "/td>",
            "/th>",
            "/li>",
            "/center>",
            "br",
            "/P>",
            "/pre>",
            "/d>",
            "/t>",
            "/c>",
            "/centre>",
            "b",
            "/",
        ]
    ),
    "<httpS://x.y/z>\n<Https://q>\n<https://>\n<https:/x>\n<http//x>\n<ftp://x>\n <http://t/> \n",
    "<httpſ://x>",
    "[返回x](y)\n[返回x](y)｜[z](w)\n[返回x](y) | [z](w) \n[返回x](y)|\n[返回x](y)｜[z]\n[返回x](y)x",
    "[a](b)[c](d) [e]( f) [g](h(i)) [[j](k)] [l]](m) [n](o)p",
    "",
    "\n\n\n",
    ">",
    "中文" * 1000 + "\n<p>" + "x" * 5000 + "</p>",
]


@pytest.mark.parametrize("body", SPELLINGS)
def test_spellings(body: str) -> None:
    accepted_and_same(body)


@settings(max_examples=700, deadline=None, derandomize=True)
@given(TEXT)
def test_generated_text(body: str) -> None:
    accepted_and_same(body)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(LINES)
def test_generated_lines(body: str) -> None:
    accepted_and_same(body)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=12), TEXT)
def test_any_prefix(prefix: str, body: str) -> None:
    accepted_and_same(body, prefix.replace("\x00", ""))


# Generated text C must take: the pieces without what it declines, and characters that
# fold to one unit (whitespace of every kind, letters that case-fold, full-width forms).
_DECLINED = ("\r", "\x00", "scr", "style", "SCRIPT", "Style", "ſ", "İ", "!--", "&")
_TAKEN_CHARS = st.sampled_from(
    [*(space for space in SPACES if space != "\r"), *"aZ:/.?=#<>[]()|｜中文。，ＡＢ５Ω"]
)
TAKEN_TEXT = st.lists(
    st.one_of(
        st.sampled_from([p for p in PIECES if not any(d in p for d in _DECLINED)] + ["&nbsp;"]), _TAKEN_CHARS
    ),
    max_size=40,
).map("".join)
TAKEN_LINES = st.lists(
    st.tuples(st.sampled_from(["", " ", "\t", ">", "> "]), TAKEN_TEXT, st.sampled_from(["", " ", "\t"])).map(
        "".join
    ),
    max_size=8,
).map("\n".join)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.one_of(TAKEN_TEXT, TAKEN_LINES))
def test_generated_text_c_takes(body: str) -> None:
    assert accepted_and_same(body), repr(body)


# --- C answers the usual post ----------------------------------------------------------


def bodies(folder: Path) -> list[bytes]:
    found = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.is_symlink():
            split = split_utf8_front_matter(path.read_bytes())
            if split is not None:
                found.append(split[1])
    return found


def test_sample_posts_are_all_taken_by_c() -> None:
    posts = bodies(SAMPLE_DATA)
    assert posts
    for body in posts:
        hidden = b"<script" in body.lower() or b"<style" in body.lower() or b"<!--" in body
        taken = accepted_and_same(body.decode())
        assert taken or hidden, body[:200]


def test_generated_posts_are_all_taken_by_c(tmp_path: Path) -> None:
    write_corpus(tmp_path, count=300, seed=11)
    posts = bodies(tmp_path)
    assert len(posts) == 300
    assert all(accepted_and_same(body.decode()) for body in posts)


@pytest.mark.parametrize(
    "body",
    [
        b"<p>\xff</p>",  # not UTF-8
        b"<p>\xe4\xb8</p>",  # truncated
        b"\xed\xa0\x80",  # a surrogate
        b"\xc0\xaf",  # overlong
        b"a\rb",
        b"a\x00b",
        "🚀".encode(),
        "ﬁ".encode(),  # folds to two characters
        b"<script>x</script>",
        b"<STYLE>x",
        b"<!-- x -->",
        b"&amp;",
        b"&#20013;",
    ],
)
def test_declines_what_python_must_do(body: bytes) -> None:
    assert c_result(body) is None


# --- whole loads ------------------------------------------------------------------------


def load_everything(folder: Path) -> list[object]:
    entries, _ = discovery.discover([folder])
    task = [(entry.path, entry.size, entry.mtime_ns) for entry in entries]
    result = reading.read_files(task, reading.DEFAULT_MAX_BYTES, None)
    return [result.records, result.problems, result.texts, result.offsets.tolist()]


def test_a_load_is_the_same_with_and_without_c(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_corpus(tmp_path, count=400, seed=3, hostile=True)
    for path in SAMPLE_DATA.iterdir():
        (tmp_path / f"sample-{path.name}").write_bytes(path.read_bytes())
    with_c = load_everything(tmp_path)
    monkeypatch.setattr(accel, "library", lambda: None)
    assert not FoldedTexts().native
    assert load_everything(tmp_path) == with_c
    assert len(with_c[0]) > 400
    records = with_c[0]
    assert isinstance(records, list)  # compared above: identities made from the text, not only URLs
    assert sum(record.identity.startswith("text:") for record in records) > 10


def test_texts_grow_past_the_first_buffer() -> None:
    texts = FoldedTexts()
    posts = [f"<p>第{number}条</p>\n" * 3000 for number in range(12)]
    for number, body in enumerate(posts):
        if number % 3 == 2:
            texts.add(f"t{number}\ns\n{search_body(body)}")
        else:
            assert texts.add_post(f"T{number}\nS\n", body.encode()) == (-1, -1)
    assert texts.texts() == [fold(f"t{n}\ns\n{search_body(body)}") for n, body in enumerate(posts)]
    units, offsets = texts.finish()
    assert offsets[-1] == units.size * 2 + 2


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_takes_linear_time(name: str) -> None:
    body = HOSTILE[name].encode("utf-8", "surrogatepass")
    started = time.perf_counter()
    c_result(body)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{name}: {elapsed:.2f} s for {len(body):,} bytes"
