"""The warm-start cache file: what loading a corpus produced, so an unchanged corpus is ready at once.

It holds, per run of files, the same `ReadResult` the loader makes (metadata, folded
search text, signature rows, problems), each file keyed by path + size + mtime_ns, so a
changed or new file is re-read and a deleted one dropped.

The format is plain data, never pickle (a cache file must not be able to run code):

    header  magic, version, metadata offset/length/CRC-32, total length
    sections  raw bytes: NUL-joined UTF-8 strings, int64 columns, UTF-16 texts, rows
    metadata  JSON: section offsets, lengths and CRC-32s, counts, settings

Runs are read lazily, one at a time (`CacheReader.results`), so the newest articles
reach the screen before the rest of a 300 MB cache is read. Files are written to a
temporary name and moved into place with `os.replace`, so a reader sees either the old or
the new file. Anything unexpected (not a regular file of ours, truncated, corrupt,
another version, wrong shapes) makes `open_cache` return None, or ends `results` early
with `damaged` set, and the files not yet served are read afresh.
Deliberately not here: where the file goes (`cache_place.py`), what to re-read (`plan.py`).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import repeat
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from reader import __version__
from reader.core.files import make_private_directory
from reader.core.loading.cache_place import remove_quietly, tidy
from reader.core.records import FileProblem, ReadResult, Record, new_record
from reader.core.search import SIGNATURE_ROWS

MAGIC = b"RDRCACHE"


CONTENT_SOURCES = (
    "body.py",
    "files.py",
    "frontmatter.py",
    "models.py",
    "records.py",
    "search",
    "text.py",
    "native",
    "loading/discovery.py",
    "loading/reading.py",
    "loading/cache_format.py",
)
"""What shapes the cached data, relative to `reader/core`: files, or folders taken whole."""


def _scheme_version() -> int:
    """A fingerprint of the code that decides what a cache holds.

    A hand-bumped number was forgotten once, and an older cache then answered searches
    wrongly; hashing the sources of the modules that shape the cached data cannot be.
    """
    digest = hashlib.blake2b(digest_size=4)
    core = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for name in CONTENT_SOURCES:
        path = os.path.join(core, name)
        files = (
            [path]
            if not os.path.isdir(path)
            else sorted(
                os.path.join(path, entry) for entry in os.listdir(path) if entry.endswith((".py", ".c", ".h"))
            )
        )
        for source_path in files:
            try:
                with open(source_path, "rb") as source:
                    digest.update(source.read())
            except OSError:  # e.g. a zipped install: fall back to the package version
                digest.update(__version__.encode())
    return int.from_bytes(digest.digest(), "little")


VERSION = _scheme_version()
"""Changes whenever the layout, the signature scheme or the search text may have changed."""


_HEADER = struct.Struct("<8sIQQIQ")  # magic, version, meta offset, meta length, meta crc, total


_STRING_FIELDS = 6  # path, identity, title, source_id, source_name, url ("" for none)


_NUMBER_FIELDS = 4  # size, mtime_ns, date in µs since the epoch, utc offset in seconds


@dataclass(slots=True)
class CachedCorpus:
    """Everything a cache file holds."""

    vocabulary_keys: npt.NDArray[np.uint64]
    """The search vocabulary the signature rows were built with."""
    max_bytes: int
    """The size limit the files were read with (problems depend on it)."""
    results: list[ReadResult] = field(default_factory=list)
    """Runs of files in the order they were loaded."""


def save(location: str, corpus: CachedCorpus) -> bool:
    """Write the cache atomically, then tidy its folder; False when it could not be written.

    A cache only saves time, so no ordinary failure (full disk, read-only folder, odd
    data) may stop the load that called this. The temporary goes on every way out,
    an interrupt included (re-raised after): each leak was a cache-sized file.
    """
    directory = os.path.dirname(location)
    temporary = None
    try:
        make_private_directory(directory)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".corpus-{os.getpid()}-", suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            _write(out, corpus)
        os.replace(temporary, location)
        temporary = None
    except Exception:
        return False
    finally:
        if temporary is not None:
            remove_quietly(temporary)
    tidy(directory, location)
    return True


def _write(out: IO[bytes], corpus: CachedCorpus) -> None:
    out.write(b"\0" * _HEADER.size)
    sections: list[list[int]] = []

    def section(data: bytes | npt.NDArray[Any]) -> int:
        view = _bytes_of(data)
        sections.append([out.tell(), view.nbytes, zlib.crc32(view)])
        out.write(view)
        return len(sections) - 1

    chunks = [_write_result(result, section) for result in corpus.results]
    meta = {
        "max_bytes": corpus.max_bytes,
        "signature_rows": SIGNATURE_ROWS,
        "vocabulary": section(np.ascontiguousarray(corpus.vocabulary_keys, dtype="<u8")),
        "chunks": chunks,
        "sections": sections,
    }
    encoded = json.dumps(meta).encode()
    meta_offset = out.tell()
    out.write(encoded)
    total = out.tell()
    out.seek(0)
    out.write(_HEADER.pack(MAGIC, VERSION, meta_offset, len(encoded), zlib.crc32(encoded), total))


def _write_result(result: ReadResult, section: Any) -> dict[str, int]:
    strings: list[str] = []
    numbers: list[int] = []
    for path, size, mtime_ns, identity, title, micros, offset, source_id, source_name, url in result.records:
        strings += (path, identity, title, source_id, source_name, url or "")
        numbers += (size, mtime_ns, micros, offset)
    for path, size, mtime_ns, reason, skipped in result.problems:
        strings += (path, reason)
        numbers += (size, mtime_ns, int(skipped))
    if any("\0" in text for text in strings):  # never so (paths and cleaned text), but be sure
        raise ValueError("a string holds the separator")
    blobs = {
        "strings": "\0".join(strings).encode("utf-8", "surrogatepass"),
        "numbers": np.array(numbers, dtype="<i8"),
        "texts": result.texts,
        "offsets": np.ascontiguousarray(result.offsets, dtype="<i8"),
        "rows": np.ascontiguousarray(result.rows, dtype=np.uint8),
    }
    run = {"records": len(result.records), "problems": len(result.problems), "crc": 0}
    for name in _RUN_SECTIONS:
        run[name] = section(blobs[name])
        run["crc"] = zlib.crc32(_bytes_of(blobs[name]), run["crc"])  # type: ignore[arg-type]
    return run


def _bytes_of(data: bytes | npt.NDArray[Any]) -> memoryview:
    """The bytes of a section, without a copy. Arrays are made flat first: `cast` refuses
    a view with a zero in its shape, as the rows of a run with no post have (8, 0), and
    such runs are ordinary (an empty folder, a run of files that are not posts)."""
    if isinstance(data, np.ndarray):
        return memoryview(np.ascontiguousarray(data).reshape(-1)).cast("B")  # type: ignore[arg-type]
    return memoryview(data).cast("B")


_RUN_SECTIONS = ("strings", "numbers", "texts", "offsets", "rows")
"""A run's sections, written back to back in this order (so one read gets them all)."""


def open_cache(location: str) -> CacheReader | None:
    """The cache at `location` ready to be read run by run, or None when missing or damaged.

    The load marks it used (`mark_used`) once it knows the cache lies outside the corpus.
    """
    handle = _open_own_file(location)
    if handle is None:
        return None
    try:
        return CacheReader(handle)
    except Exception:  # a damaged cache of any kind is simply rebuilt
        handle.close()
        return None


def _open_own_file(location: str) -> IO[bytes] | None:
    """The file at `location` open for reading, or None unless it is a regular file of ours.

    Opened non-blocking (which regular files ignore): a FIFO or a device there would
    block `open`, start-up with it, and quitting (the load's thread waits). A file
    another user owns may have been planted to show made-up articles: like anything
    odd, it counts as missing.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        descriptor = os.open(location, flags)
    except OSError:
        return None
    try:
        info = os.fstat(descriptor)
        if stat.S_ISREG(info.st_mode) and (not hasattr(os, "getuid") or info.st_uid == os.getuid()):
            return os.fdopen(descriptor, "rb")  # noqa: SIM115 - kept open while the runs are read
    except OSError:
        pass
    os.close(descriptor)
    return None


def load(location: str) -> CachedCorpus | None:
    """The whole cache at once, or None unless every part of it is intact."""
    reader = open_cache(location)
    if reader is None:
        return None
    with reader:
        results = list(reader.results())
        if reader.damaged:
            return None
        return CachedCorpus(reader.vocabulary_keys, reader.max_bytes, results)


class CacheReader:
    """An open cache file: settings up front, runs of files read on demand."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        file_size = os.fstat(handle.fileno()).st_size
        magic, version, meta_offset, meta_length, meta_crc, total = _HEADER.unpack(handle.read(_HEADER.size))
        if magic != MAGIC or version != VERSION or total != file_size or meta_offset + meta_length != total:
            raise ValueError("not a cache of this version")
        handle.seek(meta_offset)
        encoded = handle.read(meta_length)
        if zlib.crc32(encoded) != meta_crc:
            raise ValueError("metadata damaged")
        meta = json.loads(encoded)
        if meta["signature_rows"] != SIGNATURE_ROWS:
            raise ValueError("another signature size")
        self._sections = _Sections(handle, meta["sections"], meta_offset)
        self._chunks: list[dict[str, int]] = meta["chunks"]
        self.max_bytes = int(meta["max_bytes"])
        self.vocabulary_keys = np.frombuffer(self._sections.get(meta["vocabulary"]), dtype="<u8").astype(
            np.uint64
        )
        self.damaged = False
        """Set when `results` met a damaged run (the runs before it were fine)."""

    def __enter__(self) -> CacheReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._handle.close()

    def results(self) -> Iterator[ReadResult]:
        """The runs of files in their load order; stops at the first damaged one."""
        try:
            for chunk in self._chunks:
                try:
                    result = _read_result(chunk, self._sections)
                except Exception:
                    self.damaged = True
                    return
                yield result
        finally:
            self.close()


class _Sections:
    """Reads sections by number, checking bounds and CRC-32s.

    A run's sections lie back to back, so `run` reads them with one read and checks them
    with one CRC (combined from theirs): each call lets go of the interpreter lock, and
    while the UI thread is busy every re-acquisition can wait a switch interval.
    """

    def __init__(self, handle: IO[bytes], table: list[list[int]], limit: int) -> None:
        self.handle = handle
        self.table = table
        self.limit = limit

    def get(self, number: int) -> bytes:
        offset, length, crc = self.table[number]
        if offset < _HEADER.size or offset + length > self.limit:
            raise ValueError("section out of bounds")
        self.handle.seek(offset)
        data = self.handle.read(length)
        if len(data) != length or zlib.crc32(data) != crc:
            raise ValueError("section damaged")
        return data

    def run(self, numbers: list[int], crc: int) -> list[memoryview]:
        """Consecutive sections whose bytes together have CRC-32 `crc`, read in one go."""
        entries = [self.table[number] for number in numbers]
        start = entries[0][0]
        end = entries[-1][0] + entries[-1][1]
        if start < _HEADER.size or end > self.limit:
            raise ValueError("section out of bounds")
        position = start
        for offset, length, _ in entries:
            if offset != position:
                raise ValueError("sections are not consecutive")
            position += length
        self.handle.seek(start)
        data = self.handle.read(end - start)
        if len(data) != end - start or zlib.crc32(data) != crc:
            raise ValueError("run damaged")
        view = memoryview(data)
        return [view[offset - start : offset - start + length] for offset, length, _ in entries]


def _read_result(chunk: dict[str, int], reader: _Sections) -> ReadResult:
    count, problem_count = chunk["records"], chunk["problems"]
    string_view, number_view, text_view, offset_view, row_view = reader.run(
        [chunk[name] for name in _RUN_SECTIONS], chunk["crc"]
    )
    strings = str(string_view, "utf-8", "surrogatepass").split("\0")
    numbers = np.frombuffer(number_view, dtype="<i8")
    texts = bytes(text_view)
    offsets = np.frombuffer(offset_view, dtype="<i8").astype(np.int64)
    rows = np.frombuffer(row_view, dtype=np.uint8).copy()  # a copy: the run's buffer can go
    string_count = count * _STRING_FIELDS + problem_count * 2
    if string_count == 0 and strings == [""]:
        strings = []
    if len(strings) != string_count:
        raise ValueError("string table does not match the counts")
    if numbers.size != count * _NUMBER_FIELDS + problem_count * 3:
        raise ValueError("number table does not match the counts")
    if offsets.size != count + 1 or (count and (offsets[0] != 0 or offsets[-1] != len(texts) + 2)):
        raise ValueError("text offsets do not match the texts")
    if np.any(np.diff(offsets) < 2) or len(texts) % 2:
        raise ValueError("text offsets are out of order")
    rows = rows.reshape(SIGNATURE_ROWS, (count + 7) // 8)
    columns = (
        numbers[: count * _NUMBER_FIELDS].reshape(count, _NUMBER_FIELDS).T.tolist() if count else [[]] * 4
    )
    end = count * _STRING_FIELDS
    paths, identities, titles, source_ids, source_names, urls = (
        strings[i:end:_STRING_FIELDS] for i in range(6)
    )
    records = list(
        map(
            new_record,
            repeat(Record),
            zip(
                paths,
                columns[0],
                columns[1],
                identities,
                titles,
                columns[2],
                columns[3],
                source_ids,
                source_names,
                [url or None for url in urls],
                strict=True,
            ),
        )
    )
    problem_numbers = numbers[count * _NUMBER_FIELDS :].reshape(problem_count, 3).tolist()
    problems: list[FileProblem] = [
        FileProblem(path, size, mtime_ns, reason, bool(skipped))
        for path, reason, (size, mtime_ns, skipped) in zip(
            strings[end::2], strings[end + 1 :: 2], problem_numbers, strict=True
        )
    ]
    return ReadResult(records, texts, offsets, rows, problems)
