"""Find post files, read them, and turn each into a `Post` or a `Problem` — never an exception.

Every file gets an answer: a malformed, binary, oversized, unreadable or vanished file
becomes a `Problem` with a one-line reason and the rest of the corpus still loads. Files are
read newest name first (Jekyll names start with the date), so the first batches of a
progressive load are the articles a user wants to see first.

Only reads the corpus: nothing here creates, changes or deletes a file in it. The only
file written is the warm-start cache, in the user's cache directory (see `cache.py`).
Large corpora are read by worker processes (see `parallel.py`); the first small batch is
always read in-process so the first screen does not wait for workers to start.
Deliberately not here: rendering an article (see `document.py`), the index (`search.py`).
"""

from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from reader.core import cache
from reader.core.body import find_url, search_body
from reader.core.files import NotRegularFile, read_regular_file
from reader.core.frontmatter import (
    CHINA_TIME,
    FrontMatterError,
    parse_date,
    parse_header,
    scalar_text,
    split_front_matter,
)
from reader.core.models import Article, Post, Problem
from reader.core.parallel import FileProblem, ParallelReader, ReadResult, Record, Task, worker_count
from reader.core.search import (
    SEPARATOR,
    Chunk,
    Vocabulary,
    build_chunk_from_units,
    choose_vocabulary,
    fold_joined,
    make_vocabulary,
    text_of,
)
from reader.core.store import Store
from reader.core.text import clean_line, fold

POST_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".html"})
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
"""Files above this size are reported, not read (`--max-size` changes it)."""
BATCH_SIZE = 1024
"""Files per progressive batch (and per worker task)."""


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A candidate post file as found on disk."""

    path: str
    size: int
    mtime_ns: int


@dataclass(slots=True)
class Batch:
    """What one step of a progressive load produced."""

    posts: list[Post] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    done: int = 0
    """Files handled so far, this batch included."""
    total: int = 0
    """Files found in all."""
    phase: str = "reading"
    """What the load is doing: "finding", "reading", "indexing" or "cached"."""
    chunk: Chunk | None = None
    """Prebuilt search signatures of `posts`, for `Store.add` (so the UI thread need not)."""


# --- finding files ---------------------------------------------------------------------


def discover(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[FileEntry], list[Problem]]:
    """All post files under `paths`, newest name first, plus problems met on the way.

    Directories are walked recursively; hidden ones are skipped; a symlinked directory is
    followed once (a loop is reported, not followed). A file named explicitly is read
    whatever its suffix.
    """
    found: dict[str, FileEntry] = {}
    problems: list[Problem] = []
    visited: set[tuple[int, int]] = set()
    for raw in paths:
        path = os.fspath(raw)
        try:
            info = os.stat(path)
        except OSError as error:
            problems.append(Problem(path, f"cannot open: {_os_reason(error)}"))
            continue
        if stat.S_ISDIR(info.st_mode):
            _walk(path, info, found, problems, visited)
        elif stat.S_ISREG(info.st_mode):
            found.setdefault(path, FileEntry(path, info.st_size, info.st_mtime_ns))
        else:
            problems.append(Problem(path, "not a regular file or directory"))
    keyed = sorted(((os.path.basename(p), p) for p in found), reverse=True)
    entries = [found[path] for _, path in keyed]
    return entries, problems


def _walk(
    root: str, info: os.stat_result, found: dict[str, FileEntry],
    problems: list[Problem], visited: set[tuple[int, int]],
) -> None:
    """Iterative directory walk (no recursion limit) guarding against symlink loops."""
    pending = [(root, info)]
    while pending:
        directory, dir_info = pending.pop()
        key = (dir_info.st_dev, dir_info.st_ino)
        if key in visited:
            if directory != root:
                problems.append(Problem(directory, "directory link loop, not followed", False))
            continue
        visited.add(key)
        try:
            with os.scandir(directory) as scan:
                entries = list(scan)
        except OSError as error:
            problems.append(Problem(directory, f"cannot list directory: {_os_reason(error)}"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    pending.append((entry.path, entry.stat()))
                elif os.path.splitext(entry.name)[1].lower() not in POST_SUFFIXES:
                    continue  # not a post (pictures, notes…): ignored, not a problem
                elif entry.is_file():
                    entry_info = entry.stat()
                    found.setdefault(
                        entry.path, FileEntry(entry.path, entry_info.st_size, entry_info.st_mtime_ns)
                    )
                elif entry.is_symlink() and not os.path.exists(entry.path):
                    problems.append(Problem(entry.path, "broken link: its target does not exist"))
                else:  # a FIFO, socket or device named like a post: never opened
                    problems.append(Problem(entry.path, "not a regular file"))
            except OSError as error:
                problems.append(Problem(entry.path, f"cannot read: {_os_reason(error)}"))


def _os_reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


# --- decoding --------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str | None]:
    """Bytes to text; returns (text, note) where note names a non-UTF-8 encoding used.

    UTF-8 (with or without BOM) is the norm. UTF-16 is used when a BOM says so; GB18030
    (a superset of GBK) when the bytes are not UTF-8 but decode cleanly as it.
    Raises ValueError for binary data.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "decoded as UTF-16"
        except UnicodeDecodeError:
            raise ValueError("not valid UTF-16 despite its byte-order mark") from None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        raise ValueError("binary file (not UTF-8 text)")
    try:
        return data.decode("gb18030"), "decoded as GB18030 (not UTF-8)"
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 or GB18030 text") from None


# --- one file --------------------------------------------------------------------------


def read_post(entry: FileEntry, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[Post | None, list[Problem]]:
    """Read one file. Returns the post (folded search text) or None, and any problems; never raises."""
    record, text, problems = _read_guarded(entry.path, entry.size, entry.mtime_ns, max_bytes)
    found = [Problem(path, reason, skipped) for path, _, _, reason, skipped in problems]
    if record is None:
        return None, found
    return Post(_article_of(record), fold(text), record[1], record[2]), found


def _read_guarded(path: str, size: int, mtime_ns: int, max_bytes: int,
                  ) -> tuple[Record | None, str, list[FileProblem]]:
    try:
        return _read_one(path, size, mtime_ns, max_bytes)
    except Exception as error:  # a last guard: one odd file must not stop a load
        return None, "", [(path, size, 0, f"unexpected error: {type(error).__name__}", True)]


def _read_one(path: str, size: int, mtime_ns: int, max_bytes: int,
              ) -> tuple[Record | None, str, list[FileProblem]]:
    """(record, unfolded search text, problems) for one file.

    Problems and records are keyed by the size and mtime seen when reading, so the cache
    re-reads a file that changed meanwhile.
    """
    data, mtime_ns, reason = _read_bytes(path, size, mtime_ns, max_bytes)
    if data is None:
        return None, "", [(path, size, mtime_ns, reason, True)]
    size = len(data)
    if not data.strip():
        return None, "", [(path, size, mtime_ns, "empty file", True)]
    try:
        text, note = decode(data)
    except ValueError as error:
        return None, "", [(path, size, mtime_ns, str(error), True)]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        header, body = split_front_matter(text)
        fields = parse_header(header)
    except FrontMatterError as error:
        return None, "", [(path, size, mtime_ns, str(error), True)]
    warnings = [note] if note else []
    record = _record(path, size, mtime_ns, fields, body, warnings)
    searchable = f"{record[4]}\n{record[7]}\n{search_body(body)}"
    return record, searchable, [(path, size, mtime_ns, warning, False) for warning in warnings]


def _read_bytes(path: str, size: int, mtime_ns: int, max_bytes: int) -> tuple[bytes | None, int, str]:
    """(data, mtime_ns, "") or (None, mtime_ns, reason); the size is rechecked when open."""
    if size > max_bytes:
        return None, mtime_ns, f"file is {_megabytes(size)}, over the {_megabytes(max_bytes)} limit"
    try:
        data, mtime_ns = read_regular_file(path, max_bytes + 1)
    except FileNotFoundError:
        return None, 0, "file vanished while loading"
    except (IsADirectoryError, NotRegularFile):
        return None, 0, "not a regular file"
    except OSError as error:
        return None, 0, f"cannot read: {_os_reason(error)}"
    if len(data) > max_bytes:
        return None, mtime_ns, f"file grew past the {_megabytes(max_bytes)} limit while loading"
    return data, mtime_ns, ""


def _record(path: str, size: int, mtime_ns: int, fields: dict[object, object], body: str,
            warnings: list[str]) -> Record:
    """Interpret header fields; anything unusable gets a fallback and a warning."""
    title = _clean(scalar_text(fields.get("title")) or "")
    if not title:
        warnings.append("no title; using the file name")
        title = clean_line(os.path.splitext(os.path.basename(path))[0]) or "(untitled)"
    date = parse_date(fields.get("date"))
    if date is None:
        raw = fields.get("date")
        shown = clean_line(raw)[:40] if isinstance(raw, str) else ("missing" if raw is None else "not a date")
        warnings.append(f"date {shown!r} is not a date; using the file's modification time")
        date = datetime.fromtimestamp(mtime_ns / 1e9, tz=CHINA_TIME)
    source_id = _clean(scalar_text(fields.get("categories")) or "") or "unknown"
    tag = _clean(scalar_text(fields.get("tags")) or "")
    source_name = tag.removesuffix("新闻") or tag or source_id
    url = find_url(body)
    if url is not None:
        url = _clean(url) or None
    return (path, size, mtime_ns, url or path, title[:500], date, source_id, source_name[:60], url)


def _clean(text: str) -> str:
    """`clean_line`, skipped when it could not change anything (the common case)."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return clean_line(text)


def _article_of(record: Record) -> Article:
    path, _, _, identity, title, date, source_id, source_name, url = record
    return Article(identity, path, title, date, source_id, source_name, url)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


# --- runs of files ---------------------------------------------------------------------


def read_files(task: Task, max_bytes: int, vocabulary: Vocabulary) -> ReadResult:
    """Read a run of files into one compact result (this runs in worker processes too)."""
    result = ReadResult()
    texts: list[str] = []
    for path, size, mtime_ns in task:
        record, text, problems = _read_guarded(path, size, mtime_ns, max_bytes)
        if record is not None:
            result.records.append(record)
            texts.append(text)
        result.problems.extend(problems)
    units = fold_joined(texts) if texts else np.zeros(0, np.uint16)
    result.texts = units.tobytes()
    result.rows = build_chunk_from_units(0, len(texts), units, vocabulary).rows
    return result


def batch_of(result: ReadResult, vocabulary: Vocabulary, done: int, total: int, phase: str) -> Batch:
    """Turn a compact result into a `Batch` of posts with a prebuilt chunk."""
    texts = text_of(np.frombuffer(result.texts, np.uint16)).split(SEPARATOR) if result.records else []
    posts = [
        Post(_article_of(record), text, record[1], record[2])
        for record, text in zip(result.records, texts, strict=True)
    ]
    problems = [Problem(path, reason, skipped) for path, _, _, reason, skipped in result.problems]
    chunk = Chunk(0, len(posts), result.rows, vocabulary) if posts else None
    return Batch(posts, problems, done, total, phase, chunk)


# --- the whole load --------------------------------------------------------------------

FIRST_BATCH = 256
"""Files read before anything else, in-process: the newest posts, for the first screen."""
PARALLEL_MIN_FILES = 3000
"""Below this many files to read, worker processes cost more than they save."""


def iter_load(
    paths: Iterable[str | os.PathLike[str]], max_bytes: int = DEFAULT_MAX_BYTES, *,
    use_cache: bool = True, cache_dir: str | os.PathLike[str] | None = None,
    parallel: bool | None = None,
) -> Iterator[Batch]:
    """The whole progressive load as batches: the first one carries discovery problems.

    The UI's loading worker and `load_store` both consume this; each batch can be added
    to a `Store` as it arrives (`store.add(batch.posts, batch.problems, batch.chunk)`).
    With `use_cache`, unchanged files come from the cache (phase "cached") and, when
    anything changed, the cache is rewritten after the last batch has been yielded.
    `parallel` forces worker processes on or off (default: by corpus size).
    """
    roots = [os.fspath(path) for path in paths]
    entries, problems = discover(roots)
    yield Batch(problems=problems, done=0, total=len(entries), phase="finding")
    plan = LoadPlan(roots, entries, max_bytes, use_cache, cache_dir)
    yield from plan.cached_batches()
    yield from plan.fresh_batches(parallel)
    plan.save()


class LoadPlan:
    """One load: which files the cache covers, reading the rest, and saving the cache."""

    def __init__(self, roots: list[str], entries: list[FileEntry], max_bytes: int,
                 use_cache: bool, cache_dir: str | os.PathLike[str] | None) -> None:
        self.max_bytes = max_bytes
        self.total = len(entries)
        self.done = 0
        self.location = cache.cache_file(roots, cache_dir) if use_cache else None
        self.cached = cache.load(self.location) if self.location else None
        self.vocabulary: Vocabulary | None = None
        if self.cached is not None and self.cached.max_bytes == max_bytes:
            self.vocabulary = make_vocabulary(self.cached.vocabulary_keys)
        else:
            self.cached = None
        self.results: list[ReadResult] = []
        """Everything yielded, for the cache."""
        self.changed = self.cached is None
        self.pending = [(e.path, e.size, e.mtime_ns) for e in entries]

    def cached_batches(self) -> Iterator[Batch]:
        """Batches of unchanged files straight from the cache."""
        if self.cached is None or self.vocabulary is None:
            return
        current = {path: (size, mtime) for path, size, mtime in self.pending}
        covered: set[str] = set()
        for result in self.cached.results:
            kept = cache.still_valid(result, current)
            self.changed |= len(kept.records) != len(result.records) or len(kept.problems) != len(result.problems)
            covered.update(record[0] for record in kept.records)
            covered.update(problem[0] for problem in kept.problems)
            if kept.records or kept.problems:
                yield self._batch(kept, "cached")
        self.pending = [item for item in self.pending if item[0] not in covered]
        self.changed |= bool(self.pending)

    def fresh_batches(self, parallel: bool | None) -> Iterator[Batch]:
        """Batches of files read now: a small first batch, then in-process or in parallel."""
        if self.pending and self.vocabulary is None:
            first, self.pending = self.pending[:FIRST_BATCH], self.pending[FIRST_BATCH:]
            yield self._first_batch(first)
        if parallel is None:
            parallel = len(self.pending) >= PARALLEL_MIN_FILES and worker_count() > 1
        tasks = [self.pending[i : i + BATCH_SIZE] for i in range(0, len(self.pending), BATCH_SIZE)]
        if parallel and tasks:
            yield from self._parallel(tasks)
        else:
            for task in tasks:
                yield self._batch(read_files(task, self.max_bytes, self._vocabulary()), "reading")

    def _first_batch(self, task: Task) -> Batch:
        records, texts, problems = [], [], []
        for path, size, mtime_ns in task:
            record, text, found = _read_guarded(path, size, mtime_ns, self.max_bytes)
            if record is not None:
                records.append(record)
                texts.append(text)
            problems.extend(found)
        folded = fold_joined(texts) if texts else np.zeros(0, np.uint16)
        self.vocabulary = choose_vocabulary(text_of(folded).split(SEPARATOR) if texts else [])
        rows = build_chunk_from_units(0, len(texts), folded, self.vocabulary).rows
        return self._batch(ReadResult(records, folded.tobytes(), rows, problems), "reading")

    def _parallel(self, tasks: list[Task]) -> Iterator[Batch]:
        vocabulary = self._vocabulary()
        finished = 0
        try:
            with ParallelReader() as reader:
                for result in reader.read(tasks, self.max_bytes, vocabulary):
                    finished += 1
                    yield self._batch(result, "reading")
        except Exception:  # a broken pool (no semaphores, killed worker): read in-process
            for task in tasks[finished:]:
                yield self._batch(read_files(task, self.max_bytes, vocabulary), "reading")

    def _vocabulary(self) -> Vocabulary:
        if self.vocabulary is None:
            self.vocabulary = choose_vocabulary([])
        return self.vocabulary

    def _batch(self, result: ReadResult, phase: str) -> Batch:
        self.results.append(result)
        self.done += len(result.records) + len({problem[0] for problem in result.problems if problem[4]})
        self.done = min(self.done, self.total)
        return batch_of(result, self._vocabulary(), self.done, self.total, phase)

    def save(self) -> None:
        """Rewrite the cache when anything differs from it (never raises)."""
        if self.location is None or not self.changed or self.vocabulary is None:
            return
        cache.save(self.location, cache.CachedCorpus(self.vocabulary.keys, self.max_bytes, self.results))


def load_store(
    paths: Iterable[str | os.PathLike[str]], max_bytes: int = DEFAULT_MAX_BYTES, *,
    use_cache: bool = True, cache_dir: str | os.PathLike[str] | None = None,
) -> Store:
    """Load everything under `paths` into a new store, in one go (the CLI's path)."""
    store = Store()
    for batch in iter_load(paths, max_bytes, use_cache=use_cache, cache_dir=cache_dir):
        store.add(batch.posts, batch.problems, batch.chunk)
    return store
