"""The wire types every stage of a load passes on: found files, records, problems, results, batches.

These sit at the bottom of the core: discovery, reading, the worker processes, the cache
file and the store all speak them, and import them from here rather than from each other.
Records and problems are named tuples: cheap to pickle between processes, to cache and
to keep 100k of, and read by name where code wants clarity.
Deliberately not here: behaviour (see `loading/`), display objects (`models.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from reader.core.search import Chunk


class FileEntry(NamedTuple):
    """A candidate post file as found on disk."""

    path: str
    size: int = -1
    """Bytes, or -1 when not known yet: discovery does not stat (reading does)."""
    mtime_ns: int = -1


Task = list[tuple[str, int, int]]
"""Files to read: (path, size, mtime_ns) each."""


class Record(NamedTuple):
    """One good file as plain data. `models.article_of` turns one into an `Article`."""

    path: str
    size: int
    """File size in bytes when read (with `mtime_ns`, the cache's key for the file)."""
    mtime_ns: int
    identity: str
    """The canonical URL, else a hash of the post's folded search text ("text:…",
    `search.text_identity`): files sharing it are one article, and marks are kept by it."""
    title: str
    micros: int
    """Publication time in µs since the epoch."""
    offset: int
    """The publication time's UTC offset in seconds."""
    source_id: str
    source_name: str
    url: str | None


new_record = tuple.__new__
"""`new_record(Record, fields)`: a record from a tuple of its fields, at tuple speed (the
named tuple's own constructor costs three times as much, on 100k cached records)."""


class FileProblem(NamedTuple):
    """One problem of a file, keyed like a record by the file's size and mtime when read."""

    path: str
    size: int
    mtime_ns: int
    reason: str
    skipped: bool


@dataclass(frozen=True, slots=True)
class Problem:
    """A file that could not be read as an article, or was read with a caveat."""

    path: str
    """The file's path, exactly as found (make it visible with `text.visible_controls`)."""
    reason: str
    """One line saying what is wrong, e.g. `front matter is not closed by '---'`."""
    skipped: bool = True
    """True when the file is not in the corpus; False for a loaded file with a warning."""


@dataclass(slots=True)
class ReadResult:
    """What reading a run of files produced: good files in order, plus problems."""

    records: list[Record] = field(default_factory=list)
    """Metadata of each good file."""
    texts: bytes = b""
    """Folded search texts of the good files, UTF-16-LE, joined by U+0000."""
    offsets: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(1, np.int64))
    """Byte offset of each text in `texts`, plus one past the end (see `search.Chunk`)."""
    rows: npt.NDArray[np.uint8] = field(default_factory=lambda: np.zeros((0, 0), np.uint8))
    """Packed signature rows of the good files (see `search.Chunk`)."""
    problems: list[FileProblem] = field(default_factory=list)
    """Problems met, keyed by the file's size and mtime like the records."""


@dataclass(slots=True)
class Batch:
    """What one step of a progressive load produced, ready for `Store.add_batch`."""

    records: list[Record] = field(default_factory=list)
    """The good files, in slot order."""
    chunk: Chunk | None = None
    """Their folded texts and search signatures (None when there are no records)."""
    problems: list[Problem] = field(default_factory=list)
    done: int = 0
    """Files handled so far, this batch included."""
    total: int = 0
    """Files found in all."""
    phase: str = "reading"
    """What the load is doing: "finding", "reading" or "cached"."""
