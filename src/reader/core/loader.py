"""Find post files, read them, and turn each into a `Post` or a `Problem` — never an exception.

Every file gets an answer: a malformed, binary, oversized, unreadable or vanished file
becomes a `Problem` with a one-line reason and the rest of the corpus still loads. Files are
read newest name first (Jekyll names start with the date), so the first batches of a
progressive load are the articles a user wants to see first.

Only reads: nothing here creates, changes or deletes a file.
Deliberately not here: rendering an article (see `document.py`), the index (`search.py`).
"""

from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from reader.core.body import body_text, find_url
from reader.core.frontmatter import (
    CHINA_TIME,
    FrontMatterError,
    parse_date,
    parse_header,
    scalar_text,
    split_front_matter,
)
from reader.core.models import Article, Post, Problem
from reader.core.search import fold_many
from reader.core.store import Store
from reader.core.text import clean_line

POST_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".html"})
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
"""Files above this size are reported, not read (`--max-size` changes it)."""
BATCH_SIZE = 2048
"""Files per progressive batch; a multiple of 8 so signature chunks pack cleanly."""


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
    entries = sorted(found.values(), key=lambda e: (os.path.basename(e.path), e.path), reverse=True)
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
                elif entry.is_file() and Path(entry.name).suffix.lower() in POST_SUFFIXES:
                    entry_info = entry.stat()
                    found.setdefault(
                        entry.path, FileEntry(entry.path, entry_info.st_size, entry_info.st_mtime_ns)
                    )
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
    """Read one file. Returns the post (or None) and any problems; never raises."""
    try:
        return _read_post(entry, max_bytes)
    except Exception as error:  # a last guard: one odd file must not stop a load
        reason = f"unexpected error: {type(error).__name__}"
        return None, [Problem(entry.path, reason)]


def _read_post(entry: FileEntry, max_bytes: int) -> tuple[Post | None, list[Problem]]:
    path = entry.path
    if entry.size > max_bytes:
        return None, [Problem(path, f"file is {_megabytes(entry.size)}, over the {_megabytes(max_bytes)} limit")]
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
            info = os.fstat(handle.fileno())
    except FileNotFoundError:
        return None, [Problem(path, "file vanished while loading")]
    except OSError as error:
        return None, [Problem(path, f"cannot read: {_os_reason(error)}")]
    if len(data) > max_bytes:
        return None, [Problem(path, f"file grew past the {_megabytes(max_bytes)} limit while loading")]
    if not data.strip():
        return None, [Problem(path, "empty file")]
    try:
        text, note = decode(data)
    except ValueError as error:
        return None, [Problem(path, str(error))]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        header, body = split_front_matter(text)
        fields = parse_header(header)
    except FrontMatterError as error:
        return None, [Problem(path, str(error))]
    warnings = [note] if note else []
    article = _article(path, fields, body, warnings, info)
    problems = [Problem(path, warning, skipped=False) for warning in warnings]
    searchable = f"{article.title}\n{article.source_name}\n{body_text(body)}"
    return Post(article, searchable, info.st_size, info.st_mtime_ns), problems


def _article(path: str, fields: dict[object, object], body: str, warnings: list[str],
             info: os.stat_result) -> Article:
    """Interpret header fields; anything unusable gets a fallback and a warning."""
    title = clean_line(scalar_text(fields.get("title")) or "")
    if not title:
        warnings.append("no title; using the file name")
        title = clean_line(Path(path).stem) or "(untitled)"
    date = parse_date(fields.get("date"))
    if date is None:
        raw = fields.get("date")
        shown = clean_line(raw)[:40] if isinstance(raw, str) else ("missing" if raw is None else "not a date")
        warnings.append(f"date {shown!r} is not a date; using the file's modification time")
        date = _mtime_date(info)
    source_id = clean_line(scalar_text(fields.get("categories")) or "") or "unknown"
    tag = clean_line(scalar_text(fields.get("tags")) or "")
    source_name = tag.removesuffix("新闻") or tag or source_id
    url = find_url(body)
    identity = url or path
    return Article(identity, path, title[:500], date, source_id, source_name[:60], url)


def _mtime_date(info: os.stat_result) -> datetime:
    return datetime.fromtimestamp(info.st_mtime, tz=CHINA_TIME)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


# --- many files ------------------------------------------------------------------------


def load_batches(
    entries: list[FileEntry], max_bytes: int = DEFAULT_MAX_BYTES, batch_size: int = BATCH_SIZE,
) -> Iterator[Batch]:
    """Read `entries` in batches; each batch's posts carry folded search text."""
    total = len(entries)
    for start in range(0, total, batch_size):
        batch = Batch(done=min(start + batch_size, total), total=total)
        for entry in entries[start : start + batch_size]:
            post, problems = read_post(entry, max_bytes)
            if post is not None:
                batch.posts.append(post)
            batch.problems.extend(problems)
        folded = fold_many([post.search_text for post in batch.posts])
        batch.posts = [
            Post(post.article, text, post.size, post.mtime_ns)
            for post, text in zip(batch.posts, folded, strict=True)
        ]
        yield batch


def iter_load(
    paths: Iterable[str | os.PathLike[str]], max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[Batch]:
    """The whole progressive load as batches: the first one carries discovery problems.

    The UI's loading worker and `load_store` both consume this; each batch can be added
    to a `Store` as it arrives.
    """
    entries, problems = discover(paths)
    yield Batch(problems=problems, done=0, total=len(entries), phase="finding")
    yield from load_batches(entries, max_bytes)


def load_store(
    paths: Iterable[str | os.PathLike[str]], max_bytes: int = DEFAULT_MAX_BYTES,
) -> Store:
    """Load everything under `paths` into a new store, in one go (the CLI's path)."""
    store = Store()
    for batch in iter_load(paths, max_bytes):
        store.add(batch.posts, batch.problems)
    return store
