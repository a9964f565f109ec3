"""The warm-start cache: what loading a corpus produced, so an unchanged corpus is ready at once.

One file per set of corpus roots, in the user's cache directory (`READER_CACHE_DIR`
overrides `platformdirs.user_cache_dir("reader")`), never inside a corpus root. It holds,
per run of files, the same `ReadResult` the loader makes (metadata, folded search text,
signature rows, problems), each file keyed by path + size + mtime_ns, so a changed or new
file is re-read and a deleted one dropped.

The format is plain data, never pickle (a cache file must not be able to run code):

    header  magic, version, metadata offset/length/CRC-32, total length
    sections  raw bytes: NUL-joined UTF-8 strings, int64 columns, UTF-16 texts, rows
    metadata  JSON: section offsets, lengths and CRC-32s, counts, settings

Runs are read lazily, one at a time (`CacheReader.results`), so the newest articles
reach the screen before the rest of a 300 MB cache is read. Files are written to a
temporary name and moved into place with `os.replace`, so a reader sees either the old or
the new file. Anything unexpected (truncated, corrupt, another version, wrong shapes)
makes `open_cache` return None, or ends `results` early with `damaged` set, and the
files not yet served are read afresh.
Nor is it trusted: the folder is created private (0700), and a cache file that is not a
regular file of this user's counts as missing. Saving never fails a load, removes
temporaries that killed runs left, and evicts caches unused for `MAX_UNUSED_SECONDS` or
beyond `MAX_TOTAL_BYTES`, least recently used (opened) first.
Deliberately not here: deciding what to re-read (`loader.LoadPlan`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import struct
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from reader.core import accel
from reader.core.parallel import FileProblem, ReadResult
from reader.core.search import SIGNATURE_ROWS, text_offsets

MAGIC = b"RDRCACHE"
_CONTENT_MODULES = (
    "body", "cache", "files", "frontmatter", "loader", "models", "parallel", "search", "search_text",
    "text", "native/signatures.c", "native/search_text.c",
)


def _scheme_version() -> int:
    """A fingerprint of the code that decides what a cache holds.

    A hand-bumped number was forgotten once, and an older cache then answered searches
    wrongly; hashing the sources of the modules that shape the cached data cannot be.
    """
    digest = hashlib.blake2b(digest_size=4)
    folder = os.path.dirname(os.path.abspath(__file__))
    for name in _CONTENT_MODULES:
        try:
            with open(os.path.join(folder, name if "/" in name else f"{name}.py"), "rb") as source:
                digest.update(source.read())
        except OSError:  # e.g. a zipped install: fall back to the package version
            from reader import __version__

            digest.update(__version__.encode())
    return int.from_bytes(digest.digest(), "little")


VERSION = _scheme_version()
"""Changes whenever the layout, the signature scheme or the search text may have changed."""
_HEADER = struct.Struct("<8sIQQIQ")  # magic, version, meta offset, meta length, meta crc, total
_STRING_FIELDS = 6  # path, identity, title, source_id, source_name, url ("" for none)
_NUMBER_FIELDS = 4  # size, mtime_ns, date in µs since the epoch, utc offset in seconds
MAX_TOTAL_BYTES = 2 * 2**30
"""Cache files beyond this total are removed, least recently used first (see `_tidy`)."""
MAX_UNUSED_SECONDS = 30 * 86400
"""A cache not opened for this long is removed (its corpus is likely gone or moved)."""
_TEMPORARY_MAX_SECONDS = 86400
"""A temporary this old is abandoned whoever wrote it (a PID can be reused)."""
_TEMPORARY = re.compile(r"\.corpus-(\d+)-[^-]*\.tmp")
"""A temporary's name: the writer's PID, then mkstemp's random part."""


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


def cache_file(roots: list[str], directory: str | os.PathLike[str] | None = None,
               follow_links: bool = False) -> str | None:
    """The cache file for these corpus roots, or None when it would lie in the corpus.

    Keyed by the roots' real paths and by `follow_links` (the files found differ). The
    roots alone are checked here; `location_is_safe` checks again, before writing, with
    every directory the walk reached.
    """
    folder = os.path.realpath(os.fspath(directory) if directory else cache_directory())
    real_roots = sorted({os.path.realpath(root) for root in roots})
    key = "\n".join(real_roots) + ("\n\0links followed" if follow_links else "")  # no path holds a NUL
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    location = os.path.join(folder, f"corpus-{digest[:24]}.cache")
    directories = [root for root in real_roots if os.path.isdir(root)]
    files = [root for root in real_roots if root not in directories]
    return location if location_is_safe(location, directories, files) else None


def location_is_safe(location: str, reached_dirs: list[str], file_roots: list[str]) -> bool:
    """Whether writing `location` leaves the corpus untouched: its folder's real path is
    neither in a directory the walk reached nor the folder of a file named as a root.

    `reached_dirs` and `file_roots` are real paths (the loader makes them so). Below a
    file root's folder is fine: `reader ~/a.md` keeps its cache in ~/.cache as usual.
    """
    folder = os.path.realpath(os.path.dirname(location))
    inside = os.path.join(folder, "")
    if any(inside.startswith(os.path.join(reached, "")) for reached in reached_dirs):
        return False
    return all(os.path.dirname(root) != folder for root in file_roots)


# --- validity --------------------------------------------------------------------------------


class FileKeys:
    """(size, mtime_ns) of the files found, stat'ed by a thread in the order given.

    Checking 100k files costs ~0.35 s of system calls, so the thread does it while the
    cache is read, a block of files per call to `accel.stat_many` (which lets go of the
    interpreter lock once per block, not once per file); `get` only waits when asked for
    a file the thread has not reached yet (the cache holds files in the order found).
    """

    _BLOCK = 2048

    def __init__(self, paths: list[str]) -> None:
        self._found = set(paths)
        self._known: dict[str, tuple[int, int] | None] = {}
        self._done = False
        self._changed = threading.Condition()
        threading.Thread(target=self._run, args=(paths,), name="reader-stat", daemon=True).start()

    def _run(self, paths: list[str]) -> None:
        try:
            for start in range(0, len(paths), self._BLOCK):
                chunk = paths[start : start + self._BLOCK]
                block = dict(zip(chunk, accel.stat_many(chunk), strict=True))
                with self._changed:
                    self._known.update(block)
                    self._changed.notify_all()
        finally:
            with self._changed:
                self._done = True
                self._changed.notify_all()

    def get(self, path: str) -> tuple[int, int] | None:
        """The file's key, or None when it was not found or cannot be stat'ed now."""
        if path not in self._found:
            return None
        if path not in self._known:
            with self._changed:
                self._changed.wait_for(lambda: path in self._known or self._done)
        return self._known.get(path)


    def keys_of(self, paths: list[str]) -> list[tuple[int, int] | None]:
        """`get` for many files (without a Python call per file when all are known)."""
        keys = list(map(self._known.get, paths))
        if None in keys:
            keys = [self.get(path) if key is None else key for path, key in zip(paths, keys, strict=True)]
        return keys


class StatKeys:
    """(size, mtime_ns) of a few files, stat'ed at once (any file may be asked about)."""

    def __init__(self, paths: list[str]) -> None:
        self._known = dict(zip(paths, accel.stat_many(paths), strict=True))

    def keys_of(self, paths: list[str]) -> list[tuple[int, int] | None]:
        return list(map(self._known.get, paths))

    def get(self, path: str) -> tuple[int, int] | None:
        return self._known.get(path)


def still_valid(result: ReadResult, keys: FileKeys | StatKeys) -> ReadResult:
    """The part of a cached result whose files were found and have the same size and mtime."""
    current = keys.keys_of([record[0] for record in result.records])
    keep = [key == (record[1], record[2]) for key, record in zip(current, result.records, strict=True)]
    problems = [p for p in result.problems if keys.get(p[0]) == (p[1], p[2])]
    if all(keep):
        if len(problems) == len(result.problems):
            return result
        return ReadResult(result.records, result.texts, result.offsets, result.rows, problems)
    numbers = [number for number, kept in enumerate(keep) if kept]
    records = [result.records[number] for number in numbers]
    offsets = result.offsets.tolist()
    texts = b"\0\0".join(result.texts[offsets[n] : offsets[n + 1] - 2] for n in numbers)
    bits = np.unpackbits(result.rows, axis=1, count=len(keep))[:, np.array(keep, dtype=np.bool_)]
    units = np.frombuffer(texts, np.uint16)
    return ReadResult(records, texts, text_offsets(units, len(records)), np.packbits(bits, axis=1), problems)


# --- writing -------------------------------------------------------------------------------


def save(location: str, corpus: CachedCorpus) -> bool:
    """Write the cache atomically, then tidy its folder; False when it could not be written.

    A cache only saves time, so no ordinary failure (full disk, read-only folder, odd
    data) may stop the load that called this. The temporary goes on every way out,
    an interrupt included (re-raised after): each leak was a cache-sized file.
    """
    directory = os.path.dirname(location)
    temporary = None
    try:
        _make_private_directory(directory)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".corpus-{os.getpid()}-", suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            _write(out, corpus)
        os.replace(temporary, location)
        temporary = None
    except Exception:
        return False
    finally:
        if temporary is not None:
            _remove(temporary)
    _tidy(directory, location)
    return True


def _make_private_directory(directory: str) -> None:
    """Create the cache folder readable by its owner only (one already there is left as
    it is): the cache holds what the corpus says, and another user must not plant one.
    `mkdir`'s mode is masked by the umask, hence the `chmod`."""
    parent = os.path.dirname(directory)
    if parent:
        os.makedirs(parent, exist_ok=True)
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        return
    os.chmod(directory, 0o700)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _tidy(directory: str, written: str) -> None:
    """Remove what other runs left in the cache folder: temporaries of runs that were
    killed, and caches of corpora not opened for long or beyond the size cap (never
    `written`). Runs after a save only, one listing of the folder: never at start-up."""
    now = time.time()
    try:
        with os.scandir(directory) as listing:
            found = [(entry.name, entry.path, _lstat(entry))
                     for entry in listing if entry.name.endswith((".tmp", ".cache"))]
        room = MAX_TOTAL_BYTES - os.stat(written).st_size
    except OSError:
        return
    caches: list[tuple[float, int, str]] = []
    for name, path, info in found:
        if info is None:
            continue  # gone meanwhile (another run renamed its temporary)
        if name.startswith(".corpus-") and name.endswith(".tmp"):
            if _abandoned(name, info.st_mtime, now):
                _remove(path)
        elif name.startswith("corpus-") and name != os.path.basename(written):
            caches.append((info.st_mtime, info.st_size, path))
    _evict(caches, room, now)


def _lstat(entry: os.DirEntry[str]) -> os.stat_result | None:
    try:
        return entry.stat(follow_symlinks=False)
    except OSError:
        return None


def _abandoned(name: str, modified: float, now: float) -> bool:
    """True for a temporary no live writer will finish: its writer's process is gone, or
    it is a day old (older versions put no PID in the name: they wait the day)."""
    if now - modified > _TEMPORARY_MAX_SECONDS:
        return True
    match = _TEMPORARY.fullmatch(name)
    return match is not None and not _process_alive(int(match[1]))


def _process_alive(pid: int) -> bool:
    """Whether a process with this PID exists (when that cannot be known safely: True)."""
    if pid <= 0 or os.name != "posix":  # kill(0, …) means a process group; Windows' kill kills
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def _evict(caches: list[tuple[float, int, str]], room: int, now: float) -> None:
    """Remove caches (last used, size, path) unused for `MAX_UNUSED_SECONDS`, then the least
    recently used while they take more than `room` bytes, so the folder stays bounded."""
    total = sum(size for _, size, _ in caches)
    for used, size, path in sorted(caches):
        if now - used <= MAX_UNUSED_SECONDS and total <= room:
            return  # oldest first: the rest are newer, and there is room
        _remove(path)
        total -= size


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
    return memoryview(data.reshape(-1) if isinstance(data, np.ndarray) else data).cast("B")


_RUN_SECTIONS = ("strings", "numbers", "texts", "offsets", "rows")
"""A run's sections, written back to back in this order (so one read gets them all)."""


# --- reading -------------------------------------------------------------------------------


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


def mark_used(location: str) -> None:
    """Touch the cache's times: what keeps `_tidy` from evicting a cache still in use.

    Called only after discovery, once `location_is_safe` said the cache is not in the
    corpus (with `--follow-links`, a link may lead into the cache folder)."""
    try:
        os.utime(location, follow_symlinks=False)
    except (OSError, NotImplementedError):  # read-only media; a system without lutimes
        pass


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
        self.vocabulary_keys = np.frombuffer(self._sections.get(meta["vocabulary"]), dtype="<u8").astype(np.uint64)
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
    columns = numbers[: count * _NUMBER_FIELDS].reshape(count, _NUMBER_FIELDS).T.tolist() if count else [[]] * 4
    end = count * _STRING_FIELDS
    paths, identities, titles, source_ids, source_names, urls = (strings[i:end:_STRING_FIELDS] for i in range(6))
    records = list(zip(paths, columns[0], columns[1], identities, titles, columns[2], columns[3],
                       source_ids, source_names, [url or None for url in urls], strict=True))
    problem_numbers = numbers[count * _NUMBER_FIELDS :].reshape(problem_count, 3).tolist()
    problems: list[FileProblem] = [
        (path, size, mtime_ns, reason, bool(skipped))
        for path, reason, (size, mtime_ns, skipped) in zip(
            strings[end::2], strings[end + 1 :: 2], problem_numbers, strict=True
        )
    ]
    return ReadResult(records, texts, offsets, rows, problems)
