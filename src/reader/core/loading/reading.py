"""Reading one post file, and a run of them, into records and problems — never an exception.

Every file gets an answer: a malformed, binary, oversized, unreadable or vanished file
becomes a problem with a one-line reason, and the rest of the corpus still loads. Only
reads: nothing here creates, changes or deletes a file. This module runs in the worker
processes too (`workers.py`), so it imports nothing that starts threads or processes.
Deliberately not here: finding files (`discovery.py`), the order and batching of a load
(`plan.py`), the index (`search`).
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from reader.core.body import find_url, search_body
from reader.core.files import NotRegularFile, cannot, decode, megabytes, read_regular_file
from reader.core.frontmatter import (
    CHINA_TIME,
    FrontMatterError,
    parse_date,
    parse_header,
    scalar_text,
    split_front_matter,
    split_utf8_front_matter,
)
from reader.core.models import Post, article_of, date_fields
from reader.core.records import FileEntry, FileProblem, Problem, ReadResult, Record, Task
from reader.core.search import (
    SEPARATOR,
    FoldedTexts,
    Units,
    Vocabulary,
    choose_vocabulary,
    signatures,
    text_identity,
    text_of,
)
from reader.core.text import clean_line

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
"""Files above this size are reported, not read (`--max-size` changes it)."""


def read_post(entry: FileEntry, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[Post | None, list[Problem]]:
    """Read one file. Returns the post (folded search text) or None, and any problems; never raises."""
    texts = FoldedTexts()
    record, problems = _read_guarded(entry.path, entry.size, max_bytes, texts)
    found = [Problem(path, reason, skipped) for path, _, _, reason, skipped in problems]
    if record is None:
        return None, found
    units, offsets = texts.finish()
    record = _with_identities([record], units, offsets)[0]
    return Post(article_of(record), text_of(units), record[1], record[2]), found


def _read_guarded(
    path: str, size: int, max_bytes: int, texts: FoldedTexts
) -> tuple[Record | None, list[FileProblem]]:
    try:
        return _read_one(path, size, max_bytes, texts)
    except Exception as error:  # a last guard: one odd file must not stop a load
        return None, [FileProblem(path, size, 0, f"unexpected error: {type(error).__name__}", True)]


def _read_one(
    path: str, size: int, max_bytes: int, texts: FoldedTexts
) -> tuple[Record | None, list[FileProblem]]:
    """The record and problems of one file (`size` -1 when unknown); a good file's search
    text goes to `texts`.

    Problems and records are keyed by the size and mtime seen when reading, so the cache
    re-reads a file that changed meanwhile.
    """
    data, size, mtime_ns, reason = _read_bytes(path, size, max_bytes)
    if data is None:
        return None, [FileProblem(path, size, mtime_ns, reason, True)]
    if texts.native:
        read = _read_utf8(path, size, mtime_ns, data, texts)
        if read is not None:
            return read
    if not data.strip():
        return None, [FileProblem(path, size, mtime_ns, "empty file", True)]
    try:
        text, note = decode(data)
    except ValueError as error:
        return None, [FileProblem(path, size, mtime_ns, str(error), True)]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        header, body = split_front_matter(text)
        fields = parse_header(header, keep_bad_dates=True)
    except FrontMatterError as error:
        return None, [FileProblem(path, size, mtime_ns, str(error), True)]
    warnings = [note] if note else []
    head = _head(path, mtime_ns, fields, warnings)
    texts.add(_search_prefix(head) + search_body(body))
    return _record(path, size, mtime_ns, head, find_url(body)), _warnings(path, size, mtime_ns, warnings)


def _read_utf8(
    path: str, size: int, mtime_ns: int, data: bytes, texts: FoldedTexts
) -> tuple[Record, list[FileProblem]] | None:
    """The usual file, UTF-8 with a well-formed header, read without decoding its body: the
    C accelerator makes the search text from the bytes. None for anything else, with
    nothing added to `texts`; `_read_one` then takes the general path."""
    split = split_utf8_front_matter(data)
    if split is None:
        return None
    header, body = split
    try:
        fields = parse_header(header, keep_bad_dates=True)
    except FrontMatterError:
        return None
    warnings: list[str] = []
    head = _head(path, mtime_ns, fields, warnings)
    url = texts.add_post(_search_prefix(head), body)
    if url is None:
        return None
    start, end = url
    found = body[start:end].decode("utf-8") if start >= 0 else None
    return _record(path, size, mtime_ns, head, found), _warnings(path, size, mtime_ns, warnings)


def _warnings(path: str, size: int, mtime_ns: int, warnings: list[str]) -> list[FileProblem]:
    return [FileProblem(path, size, mtime_ns, warning, False) for warning in warnings]


def _read_bytes(path: str, size: int, max_bytes: int) -> tuple[bytes | None, int, int, str]:
    """(data, size, mtime_ns, "") or (None, size, mtime_ns, reason), as seen once open."""
    if size > max_bytes:
        return None, size, 0, f"file is {megabytes(size)}, over the {megabytes(max_bytes)} limit"
    try:
        data, size_now, mtime_ns = read_regular_file(path, max_bytes)
    except FileNotFoundError:
        return None, size, 0, "file vanished while loading"
    except (IsADirectoryError, NotRegularFile):
        return None, size, 0, "not a regular file"
    except OSError as error:
        return None, size, 0, cannot("read", error)
    if data is None and size < 0:
        return (
            None,
            size_now,
            mtime_ns,
            f"file is {megabytes(size_now)}, over the {megabytes(max_bytes)} limit",
        )
    if data is None or len(data) > max_bytes:
        return None, size_now, mtime_ns, f"file grew past the {megabytes(max_bytes)} limit while loading"
    return data, len(data), mtime_ns, ""


Head = tuple[str, int, int, str, str]
"""A header's fields as a record keeps them: title, date (µs, UTC offset s), source id, source name."""


def _head(path: str, mtime_ns: int, fields: dict[str, Any], warnings: list[str]) -> Head:
    """Interpret header fields; anything unusable gets a fallback and a warning."""
    title = _clean(scalar_text(fields.get("title")) or "")
    if not title:
        warnings.append("no title; using the file name")
        title = clean_line(os.path.splitext(os.path.basename(path))[0]) or "(untitled)"
    date = parse_date(fields.get("date"))
    if date is None:
        date = _fallback_date(path, mtime_ns, fields.get("date"), warnings)
    micros, offset = date_fields(date)
    source_id = _clean(scalar_text(fields.get("categories")) or "") or "unknown"
    tag = _clean(scalar_text(fields.get("tags")) or "")
    source_name = tag.removesuffix("新闻") or tag or source_id
    return title[:500], micros, offset, source_id, source_name[:60]


def _fallback_date(path: str, mtime_ns: int, raw: object, warnings: list[str]) -> datetime:
    """The date of a post whose header gives none that can be read, with a warning.

    Jekyll names start with the publication date, which beats the file's modification
    time (a copy or a checkout changes that).
    """
    named = _name_date(path)
    fallback = "the date in the file name" if named else "the file's modification time"
    warnings.append(f"{_date_trouble(raw)}; using {fallback}")
    return named or datetime.fromtimestamp(mtime_ns / 1e9, tz=CHINA_TIME)


def _date_trouble(raw: object) -> str:
    """What is wrong with a header's `date` value, for the warning (one clean line)."""
    if raw is None:
        return "no date"
    shown = scalar_text(raw)
    return "date cannot be read" if shown is None else f'date "{clean_line(shown)[:40]}" cannot be read'


def _name_date(path: str) -> datetime | None:
    """Midnight China time of the YYYY-MM-DD a file name starts with, else None."""
    name = os.path.basename(path)
    if not _NAME_DATE.match(name):
        return None
    try:
        return datetime(int(name[:4]), int(name[5:7]), int(name[8:10]), tzinfo=CHINA_TIME)
    except ValueError:
        return None


_NAME_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?![0-9])")


def _search_prefix(head: Head) -> str:
    """What a post's search text starts with, before its body: title and source name."""
    return f"{head[0]}\n{head[4]}\n"


def _record(path: str, size: int, mtime_ns: int, head: Head, url: str | None) -> Record:
    """The record of a file from its header fields and the URL found in its body.

    Its identity is the URL; without one it is left "" here, for `_with_identities` to
    fill in from the post's folded text once the run's texts are finished.
    """
    if url is not None:
        url = _clean(url) or None
    title, micros, offset, source_id, source_name = head
    return Record(path, size, mtime_ns, url or "", title, micros, offset, source_id, source_name, url)


def _with_identities(records: list[Record], units: Units, offsets: npt.NDArray[np.int64]) -> list[Record]:
    """`records` (whose texts are `units` at `offsets`, in order) with the identity of
    each one without a URL made from its folded search text (`text_identity`): the same
    text on the C and the Python path, so the same identity."""
    for number, record in enumerate(records):
        if record[9] is None:
            start, end = int(offsets[number]) // 2, int(offsets[number + 1]) // 2 - 1
            records[number] = record._replace(identity=text_identity(units[start:end]))
    return records


def _clean(text: str) -> str:
    """`clean_line`, skipped when it could not change anything (the common case)."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return clean_line(text)


def read_files(task: Task, max_bytes: int, vocabulary: Vocabulary | None) -> ReadResult:
    """Read a run of files into one compact result (this runs in worker processes too).

    Without a vocabulary the result has no signature rows yet (see `LoadPlan._first_batch`).
    """
    result = ReadResult()
    texts = FoldedTexts()
    for path, size, _ in task:
        record, problems = _read_guarded(path, size, max_bytes, texts)
        if record is not None:
            result.records.append(record)
        result.problems.extend(problems)
    units, result.offsets = texts.finish()
    _with_identities(result.records, units, result.offsets)
    result.texts = units.tobytes()
    if vocabulary is not None:
        result.rows = signatures(units, result.offsets, vocabulary)
    return result


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while loading, on again after (or when abandoned).

    A load makes ~10 objects a file, none in a cycle, and each collection walks every
    object alive (100k records): with it on, discovery and adding batches cost ~3x.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def first_vocabulary(result: ReadResult) -> Vocabulary:
    """The vocabulary chosen from the first batch read (the newest posts); fills its rows."""
    units = np.frombuffer(result.texts, np.uint16)
    vocabulary = choose_vocabulary(text_of(units).split(SEPARATOR) if result.records else [])
    result.rows = signatures(units, result.offsets, vocabulary)
    return vocabulary
