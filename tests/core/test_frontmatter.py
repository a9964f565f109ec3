"""The front matter fast path agrees with PyYAML, and odd headers fail or fall back cleanly."""

from __future__ import annotations

import time
from datetime import date, datetime

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reader.core.frontmatter import (
    CHINA_TIME,
    FrontMatterError,
    parse_date,
    parse_header,
    parse_header_fast,
    split_front_matter,
)

KEYS = st.sampled_from(["layout", "title", "date", "categories", "tags", "author", "a_b"])
PLAIN = st.text(st.sampled_from("abcXYZyesnoONtrue_-9工信部芯片 :#\"'"), min_size=1, max_size=12)
QUOTED = st.text(min_size=0, max_size=20).map(
    lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
)
DATES = st.builds(
    lambda y, mo, d, h, mi, s, zone, full: (
        f"{y:04d}-{mo:02d}-{d:02d}" + (f" {h:02d}:{mi:02d}:{s:02d}{zone}" if full else "")
    ),
    st.integers(1, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 60),
    st.integers(0, 61),
    st.sampled_from(["", " +0800", " -0500"]),
    st.booleans(),
)
VALUES = st.one_of(PLAIN, QUOTED, DATES)
HEADERS = st.lists(st.tuples(KEYS, VALUES), min_size=1, max_size=6).map(
    lambda pairs: "".join(f"{key}: {value}\n" for key, value in pairs)
)


@settings(max_examples=600, deadline=None)
@given(HEADERS)
def test_fast_path_agrees_with_pyyaml(header: str) -> None:
    fast = parse_header_fast(header)
    if fast is not None:
        assert fast == yaml.load(header, Loader=yaml.CSafeLoader)


def test_the_scraper_header_takes_the_fast_path() -> None:
    header = (
        'layout: post\ntitle: "工信部：\\"稳增长\\"解读"\ndate: 2022-03-01 09:56:11 +0800\n'
        "categories: emnews\ntags: 东财滚动新闻\n"
    )
    fields = parse_header_fast(header)
    assert fields is not None
    assert fields["title"] == '工信部："稳增长"解读'
    assert fields == yaml.load(header, Loader=yaml.CSafeLoader)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-03-01 09:56:11 +0800", datetime(2022, 3, 1, 9, 56, 11, tzinfo=CHINA_TIME)),
        ("2022-03-01 09:56:11", datetime(2022, 3, 1, 9, 56, 11, tzinfo=CHINA_TIME)),
        ("2022-03-01", datetime(2022, 3, 1, tzinfo=CHINA_TIME)),
        ("昨天下午", None),
    ],
)
def test_dates(value: str, expected: datetime | None) -> None:
    assert parse_date(parse_header(f"date: {value}\n")["date"]) == expected


def test_date_only_is_a_date() -> None:
    assert parse_header("date: 2022-03-01\n")["date"] == date(2022, 3, 1)


@pytest.mark.parametrize(
    ("header", "key", "expected"),
    [
        ("categories: 2022\n", "categories", 2022),
        ("tags: yes\n", "tags", True),
        ("title: a\ntitle: b\n", "title", "b"),
        ("categories: [emnews, xinhuashe]\n", "categories", ["emnews", "xinhuashe"]),
    ],
)
def test_fallback_values(header: str, key: str, expected: object) -> None:
    assert parse_header_fast(header) is None
    assert parse_header(header)[key] == expected


@pytest.mark.parametrize(
    "header",
    [
        "title: !!python/object/apply:os.system ['echo pwned']\n",
        "- a\n- b\n",
        'title: "unclosed\ndate: [2022\n',
        "",
    ],
)
def test_bad_headers_raise(header: str) -> None:
    with pytest.raises(FrontMatterError):
        parse_header(header)


def test_alias_bomb_does_not_hang() -> None:
    lines = ["a: &a [x,x,x,x,x,x,x,x,x]"]
    for previous, name in zip("abcdefg", "bcdefgh", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    lines.append("title: [" + ",".join(["*h"] * 9) + "]")
    started = time.perf_counter()
    fields = parse_header("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 2
    assert isinstance(fields["title"], list)


@pytest.mark.parametrize(
    ("text", "header", "body"),
    [
        ("---\na: 1\n---\nbody\n", "a: 1\n", "body\n"),
        ("---  \na: 1\n---\t\nbody", "a: 1\n", "body"),
        ("---\n---\nbody", "", "body"),
        ("---\na: 1\n----\nb: 2\n---\n", "a: 1\n----\nb: 2\n", ""),
    ],
)
def test_split(text: str, header: str, body: str) -> None:
    assert split_front_matter(text) == (header, body)


@pytest.mark.parametrize("text", ["no header", "---\na: 1\nbody", "--- x\na: 1\n---\n"])
def test_split_refuses(text: str) -> None:
    with pytest.raises(FrontMatterError):
        split_front_matter(text)


# --- the byte-level split the loader uses for UTF-8 files --------------------------------

_SPLIT_PIECES = st.sampled_from(
    ["---", "--", "-", "\n", "\n---", "\n---\n", " ", "\t", "\r", "a", "中", "é", "title: x"]
)


@settings(max_examples=600, deadline=None, derandomize=True)
@given(st.lists(_SPLIT_PIECES, max_size=14).map("".join), st.sampled_from([64 * 1024, 12]))
def test_utf8_split_agrees_with_the_text_split(text: str, limit: int) -> None:
    assert_same_split(text, limit)


@pytest.mark.parametrize("length", range(6, 14))
@pytest.mark.parametrize("closing", ["---", "--- \t", "----"])
def test_utf8_split_agrees_at_the_header_limit(length: int, closing: str) -> None:
    header = ("中" * length)[:-1] + "\n" if length else ""
    assert_same_split(f"---\n{header}{closing}\n正文", 12)


def assert_same_split(text: str, limit: int) -> None:
    from reader.core import frontmatter

    original = frontmatter.MAX_HEADER_CHARS
    frontmatter.MAX_HEADER_CHARS = limit  # a small limit puts headers on both sides of it
    try:
        split = frontmatter.split_utf8_front_matter(text.encode())
        try:
            expected: tuple[str, str] | None = frontmatter.split_front_matter(text)
        except frontmatter.FrontMatterError:
            expected = None
    finally:
        frontmatter.MAX_HEADER_CHARS = original
    if split is None:
        assert expected is None or "\r" in text
    else:
        assert expected is not None and (split[0], split[1].decode()) == expected


def test_utf8_split_declines_what_is_not_utf8() -> None:
    from reader.core.frontmatter import split_utf8_front_matter

    assert split_utf8_front_matter("---\ntitle: 中\n---\n正文".encode()) == ("title: 中\n", "正文".encode())
    assert split_utf8_front_matter("---\ntitle: 中\n---\n".encode("gb18030")) is None
    assert split_utf8_front_matter(b"---\r\ntitle: x\r\n---\r\n") is None
