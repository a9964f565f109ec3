"""The warm-start cache: what loading a corpus produced, so an unchanged corpus is ready at once.

One file per set of corpus roots, in the user's cache directory (`READER_CACHE_DIR`
overrides `platformdirs.user_cache_dir("reader")`), never inside a corpus root. It holds,
per run of files, the same `ReadResult` the loader makes (metadata, folded search text,
signature rows, problems), each file keyed by path + size + mtime_ns, so a changed or new
file is re-read and a deleted one dropped.

The format is plain data, never pickle (a cache file must not be able to run code):

    header  magic, version, metadata offset/length/CRC-32, total length
    sections  raw bytes: UTF-16 strings, int64 columns, signature rows
    metadata  JSON: section offsets, lengths and CRC-32s, counts, settings

Files are written to a temporary name and moved into place with `os.replace`, so a reader
sees either the old or the new file. Anything unexpected when reading (truncated, corrupt,
another version, wrong shapes) makes `load` return None and the corpus is read afresh.
Deliberately not here: deciding what to re-read (`loader.LoadPlan`).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from reader.core.parallel import FileProblem, ReadResult, Record
from reader.core.search import SEPARATOR, SIGNATURE_ROWS, text_of

MAGIC = b"RDRCACHE"
_CONTENT_MODULES = ("body", "cache", "files", "frontmatter", "loader", "models", "parallel", "search", "text")


def _scheme_version() -> int:
    """A fingerprint of the code that decides what a cache holds.

    A hand-bumped number was forgotten once, and an older cache then answered searches
    wrongly; hashing the sources of the modules that shape the cached data cannot be.
    """
    digest = hashlib.blake2b(digest_size=4)
    folder = os.path.dirname(os.path.abspath(__file__))
    for name in _CONTENT_MODULES:
        try:
            with open(os.path.join(folder, f"{name}.py"), "rb") as source:
                digest.update(source.read())
        except OSError:  # e.g. a zipped install: fall back to the package version
            from reader import __version__

            digest.update(__version__.encode())
    return int.from_bytes(digest.digest(), "little")


VERSION = _scheme_version()
"""Changes whenever the layout, the signature scheme or the search text may have changed."""
_HEADER = struct.Struct("<8sIQQIQ")  # magic, version, meta offset, meta length, meta crc, total
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_STRING_FIELDS = 6  # path, identity, title, source_id, source_name, url
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


# --- where ---------------------------------------------------------------------------------


def cache_directory() -> str:
    """`READER_CACHE_DIR`, else the platform's user cache directory for "reader"."""
    configured = os.environ.get("READER_CACHE_DIR")
    if configured:
        return configured
    import platformdirs  # imported late: only needed when the cache is used

    return platformdirs.user_cache_dir("reader")


def cache_file(roots: list[str], directory: str | os.PathLike[str] | None = None) -> str | None:
    """The cache file for these corpus roots, or None when the directory is inside one."""
    folder = os.path.realpath(os.fspath(directory) if directory else cache_directory())
    real_roots = sorted({os.path.realpath(root) for root in roots})
    for root in real_roots:
        if os.path.isdir(root) and os.path.commonpath([folder, root]) == root:
            return None
    digest = hashlib.sha256("\n".join(real_roots).encode("utf-8", "surrogatepass")).hexdigest()
    return os.path.join(folder, f"corpus-{digest[:24]}.cache")


# --- validity --------------------------------------------------------------------------------


def still_valid(result: ReadResult, current: dict[str, tuple[int, int]]) -> ReadResult:
    """The part of a cached result whose files still have the same size and mtime."""
    keep = [current.get(record[0]) == (record[1], record[2]) for record in result.records]
    problems = [p for p in result.problems if current.get(p[0]) == (p[1], p[2])]
    if all(keep):
        return result if len(problems) == len(result.problems) else ReadResult(
            result.records, result.texts, result.rows, problems
        )
    records = [record for record, kept in zip(result.records, keep, strict=True) if kept]
    texts = text_of(np.frombuffer(result.texts, np.uint16)).split(SEPARATOR)
    kept_texts = [text for text, kept in zip(texts, keep, strict=True) if kept]
    bits = np.unpackbits(result.rows, axis=1, count=len(keep))[:, np.array(keep, dtype=np.bool_)]
    rows = np.packbits(bits, axis=1)
    blob = SEPARATOR.join(kept_texts).encode("utf-16-le", "surrogatepass") if records else b""
    return ReadResult(records, blob, rows, problems)


# --- writing -------------------------------------------------------------------------------


def save(location: str, corpus: CachedCorpus) -> bool:
    """Write the cache atomically; returns False (and leaves no temporary) on any failure."""
    directory = os.path.dirname(location)
    temporary = None
    try:
        os.makedirs(directory, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".corpus-", suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            _write(out, corpus)
        os.replace(temporary, location)
        return True
    except (OSError, ValueError, UnicodeError):
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass
        return False


def _write(out: IO[bytes], corpus: CachedCorpus) -> None:
    out.write(b"\0" * _HEADER.size)
    sections: list[list[int]] = []

    def section(data: bytes | npt.NDArray[Any]) -> int:
        view = memoryview(data).cast("B")
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
    lengths: list[int] = []
    numbers: list[int] = []
    for path, size, mtime_ns, identity, title, date, source_id, source_name, url in result.records:
        fields = (path, identity, title, source_id, source_name, url or "")
        strings.extend(fields)
        lengths.extend(len(text) for text in fields)
        if url is None:
            lengths[-1] = -1
        offset = date.utcoffset() or timedelta(0)
        numbers.extend((size, mtime_ns, _microseconds(date - _EPOCH), int(offset.total_seconds())))
    for path, size, mtime_ns, reason, skipped in result.problems:
        strings.extend((path, reason))
        lengths.extend((len(path), len(reason)))
        numbers.extend((size, mtime_ns, int(skipped)))
    return {
        "records": len(result.records),
        "problems": len(result.problems),
        "strings": section("".join(strings).encode("utf-16-le", "surrogatepass")),
        "lengths": section(np.array(lengths, dtype="<i8")),
        "numbers": section(np.array(numbers, dtype="<i8")),
        "texts": section(result.texts),
        "rows": section(np.ascontiguousarray(result.rows, dtype=np.uint8)),
    }


def _microseconds(delta: timedelta) -> int:
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


# --- reading -------------------------------------------------------------------------------


def load(location: str) -> CachedCorpus | None:
    """The cache at `location`, or None when it is missing or not exactly right."""
    try:
        with open(location, "rb") as handle:
            return _read(handle, os.fstat(handle.fileno()).st_size)
    except Exception:  # a damaged cache of any kind is simply rebuilt
        return None


def _read(handle: IO[bytes], file_size: int) -> CachedCorpus | None:
    magic, version, meta_offset, meta_length, meta_crc, total = _HEADER.unpack(
        handle.read(_HEADER.size)
    )
    if magic != MAGIC or version != VERSION or total != file_size:
        return None
    if meta_offset + meta_length != total:
        return None
    handle.seek(meta_offset)
    encoded = handle.read(meta_length)
    if zlib.crc32(encoded) != meta_crc:
        return None
    meta = json.loads(encoded)
    if meta["signature_rows"] != SIGNATURE_ROWS:
        return None
    reader = _Sections(handle, meta["sections"], meta_offset)
    vocabulary = np.frombuffer(reader.get(meta["vocabulary"]), dtype="<u8").astype(np.uint64)
    results = [_read_result(chunk, reader) for chunk in meta["chunks"]]
    return CachedCorpus(vocabulary, int(meta["max_bytes"]), results)


class _Sections:
    """Reads sections by number, checking bounds and CRC-32 of each."""

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


def _read_result(chunk: dict[str, int], reader: _Sections) -> ReadResult:
    count, problem_count = chunk["records"], chunk["problems"]
    strings = reader.get(chunk["strings"]).decode("utf-16-le", "surrogatepass")
    lengths = np.frombuffer(reader.get(chunk["lengths"]), dtype="<i8").tolist()
    numbers = np.frombuffer(reader.get(chunk["numbers"]), dtype="<i8").tolist()
    texts = reader.get(chunk["texts"])
    rows = np.frombuffer(reader.get(chunk["rows"]), dtype=np.uint8)
    if len(lengths) != count * _STRING_FIELDS + problem_count * 2:
        raise ValueError("string table does not match the counts")
    if len(numbers) != count * _NUMBER_FIELDS + problem_count * 3:
        raise ValueError("number table does not match the counts")
    rows = rows.reshape(SIGNATURE_ROWS, (count + 7) // 8).copy()
    split = _Splitter(strings, lengths)
    records = [_record(split.take(_STRING_FIELDS), numbers[i * 4 : i * 4 + 4]) for i in range(count)]
    base = count * _NUMBER_FIELDS
    problems: list[FileProblem] = []
    for i in range(problem_count):
        path, reason = split.take(2)
        size, mtime_ns, skipped = numbers[base + i * 3 : base + i * 3 + 3]
        problems.append((path or "", size, mtime_ns, reason or "", bool(skipped)))
    if texts and len(texts) % 2 or (count == 0) != (not texts):
        raise ValueError("text blob does not match the counts")
    return ReadResult(records, texts, rows, problems)


class _Splitter:
    """Cuts consecutive strings of known lengths (-1: None) out of one string."""

    def __init__(self, strings: str, lengths: list[int]) -> None:
        self.strings = strings
        self.lengths = iter(lengths)
        self.position = 0

    def take(self, count: int) -> list[str | None]:
        taken: list[str | None] = []
        for _ in range(count):
            length = next(self.lengths)
            if length < 0:
                taken.append(None)
                continue
            taken.append(self.strings[self.position : self.position + length])
            self.position += length
        if self.position > len(self.strings):
            raise ValueError("string table is short")
        return taken


_ZONES: dict[int, timezone] = {}


def _record(strings: list[str | None], numbers: list[int]) -> Record:
    path, identity, title, source_id, source_name, url = strings
    size, mtime_ns, micros, offset = numbers
    zone = _ZONES.get(offset)
    if zone is None:
        zone = _ZONES.setdefault(offset, timezone(timedelta(seconds=offset)))
    date = (_EPOCH + timedelta(microseconds=micros)).astimezone(zone)
    return (path or "", size, mtime_ns, identity or "", title or "", date,
            source_id or "", source_name or "", url)
