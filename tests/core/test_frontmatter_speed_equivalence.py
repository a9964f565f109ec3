"""The faster `parse_header` and `parse_date` give exactly what the previous code gave.

The reference below is the code of `frontmatter.py` before the speed-up (its fast path,
`parse_header` and date reading, renamed `ref_*`, comments dropped; `split_front_matter` did
not change). Every check compares the new functions with it: equal dicts with equal value
types, the same `FrontMatterError` message, and dates with the same instant and UTC offset.
"""

from __future__ import annotations

import math
import os
import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from benchmarks.corpus import write_corpus
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

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"

# --- reference: the code before the speed-up -------------------------------------------

try:
    from yaml import CSafeLoader as _RefSafeLoader
except ImportError:  # pragma: no cover - depends on the platform's PyYAML build
    from yaml import SafeLoader as _RefSafeLoader  # type: ignore[assignment]

_REF_QUOTED = re.compile(
    r'"((?:[^"\\\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]|\\["\\])*)"'
)
_REF_ESCAPE = re.compile(r'\\(["\\])')
_REF_PLAIN = re.compile(r"[A-Za-z\u4e00-\u9fff][\w\u4e00-\u9fff-]*")
_REF_YAML_WORDS = frozenset("y n yes no on off true false null".split())
_REF_DATE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?: ([0-9]{2}):([0-9]{2}):([0-9]{2})( [+-][0-9]{4})?)?"
)


def _ref_fast_value(raw: str) -> Any:
    if raw.startswith('"'):
        quoted = _REF_QUOTED.fullmatch(raw)
        if quoted is None:
            raise LookupError(raw)
        value = quoted.group(1)
        return _REF_ESCAPE.sub(r"\1", value) if "\\" in value else value
    if "0" <= raw[:1] <= "9":
        return _ref_fast_date(raw)
    if _REF_PLAIN.fullmatch(raw) and raw.lower() not in _REF_YAML_WORDS and raw[-1] != "-":
        return raw
    raise LookupError(raw)


def _ref_fast_date(raw: str) -> Any:
    stamp = _REF_DATE.fullmatch(raw)
    if stamp is None:
        raise LookupError(raw)
    year, month, day, hour, minute, second, offset = stamp.groups()
    if offset:
        return raw
    try:
        if hour is None:
            return date(int(year), int(month), int(day))
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        raise LookupError(raw) from None


def ref_parse_header_fast(header: str) -> dict[str, Any] | None:
    result: dict[str, Any] = {}
    for line in header.split("\n"):
        if not line:
            continue
        key, colon, raw = line.partition(": ")
        if not colon or not raw or key in result or not _ref_is_fast_key(key):
            return None
        try:
            result[key] = _ref_fast_value(raw)
        except LookupError:
            return None
    return result or None


def _ref_is_fast_key(key: str) -> bool:
    return key.isascii() and key.islower() and key.replace("_", "").isalpha() and key[0] != "_"


def ref_parse_header(header: str) -> dict[str, Any]:
    fast = ref_parse_header_fast(header)
    if fast is not None:
        return fast
    try:
        data = yaml.load(header, Loader=_RefSafeLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "error"
        raise FrontMatterError(f"invalid YAML front matter: {first_line}") from None
    except (RecursionError, MemoryError, ValueError, OverflowError) as error:
        raise FrontMatterError(f"invalid YAML front matter: {type(error).__name__}") from None
    if data is None:
        raise FrontMatterError("front matter is empty")
    if not isinstance(data, dict):
        raise FrontMatterError(f"front matter is a YAML {type(data).__name__}, not a mapping of fields")
    return data


_REF_OFFSET_DATE = re.compile(
    r"\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2}|[+-]\d{2})?\s*"
)


def ref_parse_date(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=CHINA_TIME)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=CHINA_TIME)
    if not isinstance(value, str):
        return None
    common = _ref_common_date(value)
    if common is not None:
        return common
    match = _REF_OFFSET_DATE.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    zone = CHINA_TIME
    if offset == "Z":
        zone = UTC
    elif offset:
        digits = offset[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
        if minutes >= 24 * 60:
            return None
        zone = timezone(timedelta(minutes=minutes if offset[0] == "+" else -minutes))
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=zone,
        )
    except ValueError:
        return None


def _ref_common_date(value: str) -> datetime | None:
    if (
        len(value) != 25
        or value[19:] != " +0800"
        or not value[:19].replace("-", "").replace(":", "").replace(" ", "").isdecimal()
    ):
        return None
    try:
        return datetime(
            int(value[:4]),
            int(value[5:7]),
            int(value[8:10]),
            int(value[11:13]),
            int(value[14:16]),
            int(value[17:19]),
            tzinfo=CHINA_TIME,
        )
    except ValueError:
        return None


# --- comparing --------------------------------------------------------------------------


def _same(new: Any, old: Any, depth: int = 0) -> bool:
    """Equal values of the same types, all the way down (lists only sampled: alias bombs)."""
    if type(new) is not type(old):
        return False
    if isinstance(new, dict):
        keys_new, keys_old = list(new), list(old)
        return len(keys_new) == len(keys_old) and all(
            _same(a, b, depth + 1) and _same(new[a], old[b], depth + 1)
            for a, b in zip(keys_new, keys_old, strict=False)
        )
    if isinstance(new, list):
        # PyYAML builds both sides alike; a billion-laughs list is too big to walk whole
        return len(new) == len(old) and (
            depth > 12 or all(_same(a, b, depth + 1) for a, b in zip(new[:3], old[:3], strict=False))
        )
    if isinstance(new, float) and math.isnan(new):
        return math.isnan(old)
    if isinstance(new, datetime):
        return new == old and new.utcoffset() == old.utcoffset() and new.fold == old.fold
    return bool(new == old)


def _outcome(parse: Any, header: str) -> tuple[str, Any]:
    try:
        return "fields", parse(header)
    except FrontMatterError as error:
        return "error", str(error)


def _same_date(new: datetime | None, old: datetime | None) -> bool:
    if new is None or old is None:
        return new is None and old is None
    return (
        type(new) is type(old)
        and new == old
        and new.utcoffset() == old.utcoffset()
        and new.replace(tzinfo=None) == old.replace(tzinfo=None)
        and new.fold == old.fold
    )


def assert_header_same(header: str) -> None:
    """parse_header and then parse_date(date) agree with the reference on this header."""
    new_kind, new = _outcome(parse_header, header)
    old_kind, old = _outcome(ref_parse_header, header)
    assert new_kind == old_kind, (header, new, old)
    if new_kind == "error":
        assert new == old, header
        return
    assert _same(new, old), (header, new, old)
    fast, ref_fast = parse_header_fast(header), ref_parse_header_fast(header)
    if ref_fast is not None:  # the fast path never gives up on what it used to accept
        assert fast is not None and _same(fast, ref_fast), header
    assert _same_date(parse_date(new.get("date")), ref_parse_date(old.get("date"))), header


def assert_date_same(value: Any) -> None:
    assert _same_date(parse_date(value), ref_parse_date(value)), value


def scraper_header(
    title: str, stamp: str, layout: str = "post", categories: str = "emnews", tags: str = "东财滚动新闻"
) -> str:
    return f'layout: {layout}\ntitle: "{title}"\ndate: {stamp}\ncategories: {categories}\ntags: {tags}\n'


# --- real and generated headers ---------------------------------------------------------


def _headers_under(folder: Path) -> list[str]:
    """Every header split_front_matter finds in the regular files of `folder`."""
    headers = []
    for entry in sorted(os.scandir(folder), key=lambda entry: entry.name):
        if not entry.is_file(follow_symlinks=False):
            continue
        try:
            text = Path(entry.path).read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        try:
            headers.append(split_front_matter(text)[0])
        except FrontMatterError:
            continue
    return headers


def test_sample_data_headers() -> None:
    headers = _headers_under(SAMPLE_DATA)
    assert len(headers) >= 5
    for header in headers:
        assert_header_same(header)
        assert parse_header_fast(header) is not None  # the real header takes the fast path


def test_generated_corpus_with_hostile_files(tmp_path: Path) -> None:
    write_corpus(tmp_path, count=300, seed=7, hostile=True)
    headers = _headers_under(tmp_path)
    assert len(headers) > 300
    multi_line_titles = 0
    for header in headers:
        assert_header_same(header)
        multi_line_titles += header.count("\n") > 5
    assert multi_line_titles  # the corpus has titles running over lines: folding is covered


# --- hand-picked edges ------------------------------------------------------------------

TITLES = [
    '工信部：\\"稳增长\\"解读',
    "a\\\\b",
    "a\\\\",
    "abc\n",
    "abc\n ",
    "a  \n  b",
    "a\n\nb",
    "a\n  \n\n b  ",
    "a\n---x",
    "a\n--- x",
    "a\n---",
    "a\n...x",
    "a\n... x",
    "a\n ---",
    "a \n\n",
    "\nx",
    "  \n  x",
    "\n",
    "",
    " ",
    "比亚迪：（文章来源：证券日报网）\n\n\n\n｜",
    '国家统计局：举措\n 罗俊（\\"稳增长\\"解读）',
    'a\\\\\n\\"b',
    "a\\\n b",
    "a\tb",
    "a\n\tb",
    "a\rb",
    "a\u3000b",
    "a\u2028b",
    "a\ufeffb",
    "a\x85b",
    "a: b # c",
    "\\u00e9",
    "\\n",
]
STAMPS = [
    "2021-12-01 22:00:00 +0800",
    "2021-12-01 22:00:00",
    "2021-12-01",
    "2021-12-01 24:00:00 +0800",
    "2021-12-01 24:00:00",
    "2021-12-01 23:59:60",
    "2021-02-29 10:00:00",
    "2021-02-29 10:00:00 +0800",
    "2024-02-29 10:00:00",
    "0000-01-01 00:00:00",
    "0000-01-01 00:00:00 +0800",
    "2021-13-45 00:00:00 +0800",
    "2021-12-01 22:00:00 -0530",
    "2021-12-01 22:00:00 +08:00",
    "2021-12-01T22:00:00Z",
    "2021-12-01 2 :00:00 +0800",
    "２０２１-12-01 22:00:00 +0800",
    "2021-12-01 22:00:00  +0800",
    " 2021-12-01 22:00:00 +0800",
    "2021-12-01 22:00:00 +0800 ",
    "2021-12-01 22:00:00 +2400",
    "2021-12-01 22:00:00 +2359",
    "2021-12-01 22:00:00 -0000",
    "昨天下午",
    "",
]


@pytest.mark.parametrize("title", TITLES)
@pytest.mark.parametrize("stamp", STAMPS[:12])
def test_scraper_shaped_edges(title: str, stamp: str) -> None:
    assert_header_same(scraper_header(title, stamp))


@pytest.mark.parametrize(
    "plain", ["post", "yes", "Yes", "NULL", "y", "on", "tag-", "a_b", "a-b", "新闻", "é", "Ａ", "e5", "x1"]
)
def test_scraper_shaped_plain_values(plain: str) -> None:
    for header in (
        scraper_header("t", STAMPS[0], layout=plain),
        scraper_header("t", STAMPS[0], categories=plain),
        scraper_header("t", STAMPS[0], tags=plain),
    ):
        assert_header_same(header)


@pytest.mark.parametrize("stamp", STAMPS)
def test_date_edges(stamp: str) -> None:
    assert_date_same(stamp)
    assert_header_same(f"date: {stamp}\n")


def test_date_grid() -> None:
    """The scraper's shape over every boundary of each field, as text and through a header."""
    for year in ("0000", "0001", "2021", "2024", "9999"):
        for month in ("00", "01", "02", "12", "13"):
            for day in ("00", "01", "28", "29", "30", "31", "32"):
                for hour in ("00", "23", "24", "25", "99"):
                    for rest in ("00:00", "59:59", "60:00", "00:60"):
                        stamp = f"{year}-{month}-{day} {hour}:{rest}"
                        for value in (stamp, stamp + " +0800"):
                            assert_date_same(value)
                        assert_header_same(scraper_header("t", stamp))


def test_date_objects() -> None:
    for value in (
        datetime(2021, 12, 1, 22, 0, 0),
        datetime(2021, 12, 1, 22, 0, 0, 123456),
        datetime(2021, 12, 1, 22, 0, 0, fold=1),
        datetime(2021, 12, 1, 22, 0, 0, tzinfo=UTC),
        datetime(2021, 12, 1, 22, 0, 0, tzinfo=timezone(timedelta(hours=-5))),
        date(2021, 12, 1),
        date(1, 1, 1),
        datetime.min,
        datetime.max,
        None,
        20211201,
        ["2021-12-01"],
        time(1, 2),
    ):
        assert_date_same(value)


def test_fast_dates_share_the_china_zone() -> None:
    assert parse_date("2021-12-01 22:00:00 +0800").tzinfo is CHINA_TIME
    assert parse_date(datetime(2021, 12, 1)).tzinfo is CHINA_TIME
    assert parse_date("2021-12-01 22:00:00 -0530").tzinfo is parse_date("2021-12-02 -05:30").tzinfo


# --- property tests ---------------------------------------------------------------------
# Headers are built ordinary but for at most one odd spot, so the odd spot decides whether a
# fast path takes the header: that is where the new and the old code could part ways.

CLEAN_TITLE_PIECES = list("ab工信部：“” :#-.") + [
    '\\"',
    "\\\\",
    "\n",
    "\n\n",
    " \n ",
    "\n  ",
    "\n ",
    "---",
    "\n-",
    "\n..",
]
ODD_TITLE_PIECES = [
    "\t",
    "\\n",
    "\\u00e9",
    "\\x41",
    "\\",
    "\u3000",
    "\u2028",
    "\x85",
    "\x7f",
    "\ufeff",
    "é",
    "\r",
    '"',
    "\n\t",
    "\\\n",
    "\n---",
    "\n...",
    "\n--- ",
    "\n... ",
]
CLEAN_TITLES = st.lists(st.sampled_from(CLEAN_TITLE_PIECES), max_size=12).map("".join)
ODD_TITLES = st.lists(st.sampled_from(CLEAN_TITLE_PIECES + ODD_TITLE_PIECES), min_size=1, max_size=12).map(
    "".join
) | st.sampled_from(TITLES)
CLEAN_PLAINS = st.sampled_from(
    ["post", "emnews", "xinhuashe", "新华社新闻", "东财滚动新闻", "a1", "Tag", "Z9工"]
)
ODD_PLAINS = st.sampled_from(
    [
        "yes",
        "no",
        "null",
        "true",
        "True",
        "NO",
        "y",
        "n",
        "on",
        "Off",
        "~",
        "12",
        "012",
        "0x1F",
        "1_000",
        "1e3",
        "3.14",
        ".inf",
        ".nan",
        "-1",
        "+1",
        "1:30",
        "é",
        "Ａ",
        "tag-",
        "a-b",
        "a_b",
        "[a, b]",
        "{a: 1}",
        "|",
        ">",
        "&a",
        "*a",
        "!!str 1",
        "'single'",
        "''",
        '""',
        "-",
        "---",
        "...",
        "a #b",
        "a b",
        " a",
        "a ",
        "a:b",
        "a: b",
        "\\u00e9",
        "2021-12-01",
        "",
        "\t",
    ]
) | st.text(
    st.sampled_from("abcXYZyesnoONtrueNull_-9工信部芯片 :#\"'.~=<|>!&*[]{},%@`"), min_size=1, max_size=12
)


def _stamps(wide: bool) -> st.SearchStrategy[str]:
    """The scraper's shape; `wide` takes every field to and past its range."""
    return st.builds(
        lambda y, mo, d, h, mi, s, zone: f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}{zone}",
        st.integers(1 - wide, 9999),
        st.integers(1 - wide, 12 + wide),
        st.integers(1 - wide, 31 + wide),
        st.integers(0, 23 + 2 * wide),
        st.integers(0, 59 + wide),
        st.integers(0, 59 + 2 * wide),
        st.sampled_from(["", " +0800"]),
    )


SCRAPER_STAMPS = _stamps(wide=False)  # day 31 still makes 2021-02-31 now and then
WIDE_STAMPS = _stamps(wide=True)


@st.composite
def odd_stamps(draw: st.DrawFn) -> str:
    """Dates in many other shapes: ISO, sloppy, offset in every spelling, impossible."""
    year = draw(st.sampled_from(["2021", "0000", "0001", "2024", "9999", "21", "２０２１", "202 "]))
    month = draw(st.sampled_from(["12", "02", "00", "13", "1", " 1", "-1"]))
    day = draw(st.sampled_from(["01", "29", "30", "31", "32", "45", "1", "٣"]))
    hour = draw(st.sampled_from(["22", "00", "23", "24", "25", "2 ", "9", "+1"]))
    minute = draw(st.sampled_from(["00", "59", "60", "5"]))
    second = draw(st.sampled_from(["00", "59", "60", "61", "00.5", ""]))
    zone = draw(
        st.sampled_from(
            [
                " +0800",
                "",
                "+0800",
                " +08:00",
                "+08",
                " Z",
                "Z",
                " -0530",
                " -05:30",
                " +2400",
                " +2359",
                " -0000",
                "  +0800",
                " +08000",
                " +0800 ",
                " +08",
            ]
        )
    )
    joint = draw(st.sampled_from([" ", "T", "  ", "t", "\t"]))
    shape = draw(st.sampled_from(["full", "date", "minutes", "padded"]))
    text = f"{year}-{month}-{day}"
    if shape != "date":
        text += f"{joint}{hour}:{minute}" + (f":{second}" if second and shape != "minutes" else "")
        text += zone
    if shape == "padded":
        text = draw(st.sampled_from(["", " ", "\t"])) + text + draw(st.sampled_from(["", " ", "\t"]))
    return text


ODD_STAMPS = odd_stamps() | WIDE_STAMPS | st.sampled_from(STAMPS)
CLEAN_KEYS = st.sampled_from(["title", "date", "categories", "tags", "layout", "author", "a_b"])
ODD_KEYS = st.sampled_from(
    ["_x", "Title", "x1", "标题", "", " title", "title ", "date\t", "? a", "- a", "a b", "#c", "a-b", "tags:"]
)
CLEAN_VALUES = st.one_of(
    CLEAN_TITLES.map(lambda title: f'"{title}"'.replace("\n", "")),
    CLEAN_PLAINS,
    SCRAPER_STAMPS,
    st.sampled_from(["2021-12-01", "2021-02-30", "2021-12-01 22:00:00 -0530"]),
)
ODD_VALUES = st.one_of(ODD_TITLES.map(lambda title: f'"{title}"'), ODD_PLAINS, ODD_STAMPS)


@st.composite
def free_headers(draw: st.DrawFn) -> str:
    """Lines of `key: value` in any order, one of them odd in its key, separator, value or tail."""
    keys = draw(st.lists(CLEAN_KEYS, min_size=1, max_size=6, unique=True))
    odd_line = draw(st.integers(-1, len(keys) - 1))
    lines = []
    for index, key in enumerate(keys):
        if index != odd_line:
            lines.append(f"{key}: {draw(CLEAN_VALUES)}")
            continue
        part = draw(st.sampled_from(["key", "separator", "value", "tail", "line"]))
        key = draw(ODD_KEYS | CLEAN_KEYS) if part == "key" else key  # a clean one may repeat
        separator = draw(st.sampled_from([":", ":  ", " : ", ":\t", ": \t"])) if part == "separator" else ": "
        value = draw(ODD_VALUES if part == "value" else CLEAN_VALUES)
        tail = draw(st.sampled_from([" ", "\t", " # note", "#x", " #"])) if part == "tail" else ""
        line = f"{key}{separator}{value}{tail}"
        if part == "line":
            line = draw(
                st.sampled_from(["", "  ", "# comment", "---x", "--- x", "...", "key", "- a", "a: [b"])
            )
        lines.append(line)
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n", "\n  \n"]))


@st.composite
def scraper_like_headers(draw: st.DrawFn) -> str:
    """The scraper's five lines, at most one of them odd (or changed in order or number)."""
    odd = draw(st.sampled_from(["none"] * 3 + ["title", "date", "layout", "categories", "tags", "lines"]))
    header = scraper_header(
        draw(ODD_TITLES if odd == "title" else CLEAN_TITLES),
        draw(ODD_STAMPS if odd == "date" else SCRAPER_STAMPS),
        draw(ODD_PLAINS if odd == "layout" else CLEAN_PLAINS),
        draw(ODD_PLAINS if odd == "categories" else CLEAN_PLAINS),
        draw(ODD_PLAINS if odd == "tags" else CLEAN_PLAINS),
    )
    if odd == "lines":
        change = draw(st.sampled_from(["cut", "extra", "duplicate", "swap", "blank"]))
        if change == "cut":
            header = header[:-1]
        elif change == "extra":
            header += f"{draw(CLEAN_KEYS | ODD_KEYS)}: {draw(CLEAN_VALUES | ODD_VALUES)}\n"
        elif change == "duplicate":
            header += draw(
                st.sampled_from(["title: x\n", "date: 2021-12-01\n", "tags: y\n", "layout: post\n"])
            )
        elif change == "blank":
            header = "\n" + header + "\n"
        else:
            lines = header.splitlines(keepends=True)
            first, second = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[first], lines[second] = lines[second], lines[first]
            header = "".join(lines)
    return header


@settings(derandomize=True, max_examples=400, deadline=None, database=None)
@given(free_headers())
def test_free_form_headers_agree(header: str) -> None:
    assert_header_same(header)


@settings(derandomize=True, max_examples=600, deadline=None, database=None)
@given(scraper_like_headers())
def test_scraper_like_headers_agree(header: str) -> None:
    assert_header_same(header)


@settings(derandomize=True, max_examples=400, deadline=None, database=None)
@given(SCRAPER_STAMPS | ODD_STAMPS | st.text(st.sampled_from("0123456789-: +T.Z"), max_size=30))
def test_dates_agree(value: str) -> None:
    assert_date_same(value)
