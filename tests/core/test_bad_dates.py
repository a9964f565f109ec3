"""A header date that cannot be read loads the post with a warning, never drops it.

The date then comes from the file name when it starts with YYYY-MM-DD (Jekyll style),
else from the file's modification time, and the warning says which.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from benchmarks.corpus import front
from hypothesis import given, settings
from hypothesis import strategies as st

from reader.core.frontmatter import CHINA_TIME, FrontMatterError, parse_header, parse_header_fast
from reader.core.loading.plan import load_store

MTIME = datetime(2020, 5, 6, 7, 8, 9, tzinfo=CHINA_TIME)
BAD_DATES = [
    "2021-02-30",
    "0000-00-00",
    "2021-12-01 22:00:00 +99:00",
    "2021-02-29 10:00:00",
    "2021-12-01 25:00:00",
]


def load_one(
    folder: Path, name: str, header_date: str | None
) -> tuple[list[tuple[str, datetime]], list[str]]:
    """(title, date) of the articles and the reasons of the problems of one post file."""
    text = front("坏日期") + "<p>正文</p>\n"
    if header_date is None:
        text = text.replace("date: 2022-03-01 09:56:11 +0800\n", "")
    else:
        text = text.replace("2022-03-01 09:56:11 +0800", header_date)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    os.utime(path, (MTIME.timestamp(), MTIME.timestamp()))
    store = load_store([folder], use_cache=False)
    articles = [(store.articles[slot].title, store.articles[slot].date) for slot in store.order()]
    assert all(not problem.skipped for problem in store.problems)
    return articles, [problem.reason for problem in store.problems]


@pytest.mark.parametrize("value", BAD_DATES)
def test_a_bad_date_takes_the_date_in_the_file_name(tmp_path: Path, value: str) -> None:
    articles, reasons = load_one(tmp_path, "2021-03-05-post.md", value)
    assert articles == [("坏日期", datetime(2021, 3, 5, tzinfo=CHINA_TIME))]
    assert reasons == [f'date "{value}" cannot be read; using the date in the file name']


@pytest.mark.parametrize("value", BAD_DATES)
def test_a_bad_date_without_a_dated_name_takes_the_modification_time(tmp_path: Path, value: str) -> None:
    articles, reasons = load_one(tmp_path, "post.md", value)
    assert articles == [("坏日期", MTIME)]
    assert reasons == [f'date "{value}" cannot be read; using the file\'s modification time']


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("2021-03-05-post.md", datetime(2021, 3, 5, tzinfo=CHINA_TIME)),
        ("2021-02-30-post.md", MTIME),  # the name's date is no date either
        ("20210305-post.md", MTIME),
    ],
)
def test_a_missing_date(tmp_path: Path, name: str, fallback: datetime) -> None:
    articles, reasons = load_one(tmp_path, name, None)
    assert articles == [("坏日期", fallback)]
    where = "the date in the file name" if fallback != MTIME else "the file's modification time"
    assert reasons == [f"no date; using {where}"]


def test_a_date_that_is_not_text(tmp_path: Path) -> None:
    articles, reasons = load_one(tmp_path, "2021-03-05-post.md", "{a: 1}")
    assert articles == [("坏日期", datetime(2021, 3, 5, tzinfo=CHINA_TIME))]
    assert reasons == ["date cannot be read; using the date in the file name"]


def test_headers_parse_as_before_unless_bad_dates_are_kept() -> None:
    with pytest.raises(FrontMatterError):
        parse_header("date: 2021-02-30\ntitle: [a\n")  # still an error: not about the date
    with pytest.raises(FrontMatterError):
        parse_header("date: 2021-02-30\n")
    assert parse_header("date: 2021-02-30\n", keep_bad_dates=True) == {"date": "2021-02-30"}
    assert parse_header("a: [2021-02-30, 2021-02-28]\n", keep_bad_dates=True)["a"][0] == "2021-02-30"


DATE_LIKE = st.builds(
    "{:04d}-{:02d}-{:02d}{}".format,
    st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.sampled_from(
        [
            "",
            " 22:00:00",
            " 24:00:00",
            " 22:00:00 +0800",
            " 22:00:00 +08:00",
            " 22:00:00 +99:00",
            "T22:00:00Z",
            " 22:00:00.5 -05:30",
        ]
    ),
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(["date", "title", "tags"]), DATE_LIKE), min_size=1, max_size=3))
def test_fast_and_slow_paths_agree_when_bad_dates_are_kept(pairs: list[tuple[str, str]]) -> None:
    """The fast path hands every date it cannot build to PyYAML, so with bad dates kept the
    two paths still give one answer, and a header that parsed before parses the same."""
    header = "".join(f"{key}: {value}\n" for key, value in pairs)
    kept = parse_header(header, keep_bad_dates=True)
    fast = parse_header_fast(header)
    if fast is not None:
        assert fast == kept
    try:
        strict = parse_header(header)
    except FrontMatterError:
        return
    assert strict == kept
    assert strict == yaml.load(header, Loader=yaml.CSafeLoader)
