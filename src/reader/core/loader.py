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
import errno
import gc
import heapq
import os
import queue
import re
import stat
import sys
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from reader.core import accel, cache
from reader.core.body import find_url, search_body
from reader.core.files import NotRegularFile, read_regular_file
from reader.core.frontmatter import (
    CHINA_TIME,
    FrontMatterError,
    parse_date,
    parse_header,
    scalar_text,
    split_front_matter,
    split_utf8_front_matter,
)
from reader.core.models import Post, Problem, Record, article_of, date_fields
from reader.core.parallel import FileProblem, ParallelReader, ReadResult, Task, worker_count
from reader.core.search import (
    SEPARATOR,
    Chunk,
    Vocabulary,
    choose_vocabulary,
    make_vocabulary,
    signatures,
    text_of,
)
from reader.core.search_text import FoldedTexts
from reader.core.store import Store
from reader.core.text import clean_line

POST_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".html"})
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
"""Files above this size are reported, not read (`--max-size` changes it)."""
BATCH_SIZE = 1024
"""Files per progressive batch (and per worker task)."""


# --- finding files ---------------------------------------------------------------------


class FileEntry(NamedTuple):
    """A candidate post file as found on disk."""

    path: str
    size: int = -1
    """Bytes, or -1 when not known yet: discovery does not stat (reading does)."""
    mtime_ns: int = -1


def discover(paths: Iterable[str | os.PathLike[str]], *,
             follow_links: bool = False) -> tuple[list[FileEntry], list[Problem]]:
    """All post files under `paths`, newest name first, plus problems met on the way.

    Roots are made canonical first (`canonical_roots`). Directories are walked
    recursively; hidden ones are skipped; a symlink (to a folder or a post) is followed
    when its real target stays inside the roots, or with `follow_links` anywhere but a
    pseudo-filesystem; a folder is listed once (a link loop is reported, not followed).
    A file named explicitly is read whatever its suffix. Files are not stat'ed here (100k
    stats cost ~0.25 s before the first screen): the reader learns sizes and times when
    it opens a file. Every step is a comprehension or a sort, as this runs over every
    name before the first screen.
    """
    return _ordered(_found(canonical_roots(paths), follow_links))


PSEUDO_FILESYSTEMS = ("/proc/", "/sys/", "/dev/")
"""Kernel views, not files (`reader /proc` walked the whole system): never read, by real path."""


def canonical_roots(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """The real, absolute paths of `paths`, each once, in the order given.

    One corpus spelled two ways (`DIR`, `./DIR/`, its absolute path, `DIR DIR/x.md`)
    must give the same paths in records, problems and the cache key, or the cache's
    newest run and a fresh listing show every post twice. Called at each entry of a
    load: a realpath per root, never per file.
    """
    return list(dict.fromkeys(map(_real, map(os.fspath, paths))))


def _real(path: str) -> str:
    try:
        return os.path.realpath(path)
    except ValueError:  # a NUL in the path: no such file, as `os.stat` will say
        return os.path.abspath(path)


def _is_pseudo(real: str) -> bool:
    return os.path.join(real, "").startswith(PSEUDO_FILESYSTEMS)


Found = tuple[list[FileEntry], list[tuple[str, list[str]]], list[Problem], list[str]]
"""What a walk found: files named explicitly, (folder, post file names) pairs, problems,
and the real paths of the folders it entered from outside their parent: the roots and the
targets of links it followed (every other folder it reached lies below one of these)."""


def _found(roots: list[str], follow_links: bool = False) -> Found:
    """`discover` of canonical roots up to the ordering (compact: a worker sends it back,
    see `start_early`)."""
    named: list[FileEntry] = []
    walk = _Walk(roots, follow_links)
    for path in roots:
        if _is_pseudo(path):
            walk.problems.append(Problem(path, "pseudo-filesystem, not read"))
            continue
        try:
            info = os.stat(path)
        except (OSError, ValueError) as error:
            walk.problems.append(Problem(path, _cannot("open", error)))
            continue
        if stat.S_ISDIR(info.st_mode):
            walk.tree(path, info)
        elif stat.S_ISREG(info.st_mode):
            named.append(FileEntry(path, info.st_size, info.st_mtime_ns))
        else:
            walk.problems.append(Problem(path, "not a regular file or directory"))
    return named, walk.folders, walk.problems, walk.reached


def _ordered(found: Found) -> tuple[list[FileEntry], list[Problem]]:
    named, folders, problems, _ = found
    return _newest_first(named, folders), problems


def _newest_first(named: list[FileEntry], folders: list[tuple[str, list[str]]]) -> list[FileEntry]:
    """Entries by file name, descending (Jekyll names start with the date); ties by path."""
    if not named and len(folders) == 1:  # the usual corpus: one folder, already sorted
        directory, names = folders[0]
        return list(map(_new_entry, repeat(FileEntry), zip(map(directory.__add__, names), repeat(-1), repeat(-1))))
    given = {entry.path: entry for entry in named}
    found = dict.fromkeys(given)
    for directory, names in folders:
        found.update(dict.fromkeys(map(directory.__add__, names)))
    ordered = sorted(found, reverse=True)
    ordered.sort(key=os.path.basename, reverse=True)
    return [given.get(path) or FileEntry(path) for path in ordered]


_new_entry = tuple.__new__  # FileEntry(path) costs twice as much through its __new__


class _Walk:
    """The directory walk of one discovery: what it found, and where it has been.

    Real paths are known without a system call for plain folders (the parent's real path
    and the name); only a link, or an entry of unknown kind, costs a `realpath` or `lstat`.
    """

    def __init__(self, roots: list[str], follow_links: bool) -> None:
        self.folders: list[tuple[str, list[str]]] = []
        """(directory with a trailing separator, post file names newest first)."""
        self.problems: list[Problem] = []
        self.reached: list[str] = []
        """See `Found`: what the cache must stay out of."""
        self._visited: set[tuple[int, int]] = set()
        self._follow_links = follow_links
        self._inside = tuple(os.path.join(root, "") for root in roots)

    def tree(self, root: str, info: os.stat_result) -> None:
        """Walk a root folder, iteratively (no recursion limit), guarding against loops."""
        pending = [(root, root, info, True)]  # path, real path, stat, entered from outside its parent
        while pending:
            directory, real, dir_info, jumped = pending.pop()
            key = (dir_info.st_dev, dir_info.st_ino)
            if key in self._visited:  # a plain folder seen twice is in two roots: no news
                if jumped and directory != root:
                    self.problems.append(Problem(directory, "directory link loop, not followed", False))
                continue
            self._visited.add(key)
            if jumped:
                self.reached.append(real)
            try:
                files, others = _listing(directory)
            except OSError as error:
                self.problems.append(Problem(directory, _cannot("list directory", error)))
                continue
            prefix = os.path.join(directory, "")
            for kind, name in others:  # few
                self._other(kind, prefix, name, real, files, pending)
            if files:
                files.sort(reverse=True)
                self.folders.append((prefix, files))

    def _other(self, kind: str, prefix: str, name: str, parent: str, files: list[str],
               pending: list[tuple[str, str, os.stat_result, bool]]) -> None:
        """Take in a listed entry other than a plain post file (`parent`: the real path of
        its folder): post files go to `files`, folders to `pending`, refusals to problems."""
        path = prefix + name
        if kind == "u":
            kind = _kind_of(path)
        if kind in ("f", "o"):
            if _is_post_name(name) and kind == "f":
                files.append(name)
            elif _is_post_name(name):  # a FIFO, socket or device named like a post: never opened
                self.problems.append(Problem(path, "not a regular file"))
            return
        try:
            info = os.stat(path)  # follows links
        except OSError as error:
            self._unreachable(kind, path, name, error)
            return
        is_dir = stat.S_ISDIR(info.st_mode)
        if not is_dir and not _is_post_name(name):
            return  # not a post (pictures, notes…): ignored, not a problem
        real = os.path.join(parent, name) if kind == "d" else _real(path)
        refusal = self._refusal(real, kind == "d")
        if refusal is not None:
            self.problems.append(Problem(path, refusal))
        elif is_dir:
            pending.append((path, real, info, kind != "d"))
        elif stat.S_ISREG(info.st_mode):
            files.append(name)
        else:
            self.problems.append(Problem(path, "not a regular file"))

    def _refusal(self, real: str, plain: bool) -> str | None:
        """Why the entry at real path `real` is not read, or None. A link is followed only
        where it stays inside the roots (unless told to follow links); nothing, a plain
        folder below "/" included, enters a pseudo-filesystem."""
        if not plain and not self._follow_links and not os.path.join(real, "").startswith(self._inside):
            return "link leaves the corpus, not followed"
        return "pseudo-filesystem, not read" if _is_pseudo(real) else None

    def _unreachable(self, kind: str, path: str, name: str, error: OSError) -> None:
        """An entry that cannot be stat'ed: a problem when it is or may hold a post."""
        if error.errno == errno.ENAMETOOLONG:
            self.problems.append(Problem(path, "path too long to read"))
        elif _is_post_name(name) and kind == "l" and not os.path.exists(path):
            self.problems.append(Problem(path, "broken link: its target does not exist"))
        elif _is_post_name(name) or kind == "d":
            self.problems.append(Problem(path, _cannot("read", error)))


def _kind_of(path: str) -> str:
    """The kind of an entry its listing did not give (some filesystems do not): one lstat."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return "u"
    if stat.S_ISLNK(mode):
        return "l"
    return "d" if stat.S_ISDIR(mode) else "f" if stat.S_ISREG(mode) else "o"


def _listing(directory: str) -> tuple[list[str], list[tuple[str, str]]]:
    """A directory's visible entries: the names of its post files, and (kind, name) of
    the rest (kinds as `accel.list_dir` gives them). Raises OSError.

    Two regex scans of the whole listing instead of a loop over 100k names (~0.2 s).
    """
    listed = accel.list_dir(directory)
    if listed is None:
        with os.scandir(directory) as scan:
            listed = "".join([f"{_kind(entry)}{entry.name}\0" for entry in scan])
    files = [name for name in _VISIBLE_FILE.findall(listed) if _is_post_name(name)]
    return files, _VISIBLE_OTHER.findall(listed)


def _kind(entry: os.DirEntry[str]) -> str:
    try:
        if entry.is_symlink():
            return "l"
        if entry.is_file(follow_symlinks=False):
            return "f"
        return "d" if entry.is_dir(follow_symlinks=False) else "o"
    except OSError:
        return "u"


def _is_post_name(name: str) -> bool:
    return name.endswith(_SUFFIXES) or name.lower().endswith(_SUFFIXES)


_SUFFIXES = tuple(POST_SUFFIXES)
# One entry of a listing is "<kind><name>\0"; a match starts at an entry's start (after
# "\0" or at 0) and skips hidden names. File names are candidates, in any case:
# `_is_post_name` has the last word.
_VISIBLE_FILE = re.compile(
    r"(?<![^\0])f([^.\0][^\0]*\.(?i:" + "|".join(re.escape(suffix[1:]) for suffix in sorted(POST_SUFFIXES)) + r"))\0"
)
_VISIBLE_OTHER = re.compile(r"(?<![^\0])([dlou])([^.\0][^\0]*)\0")


def _os_reason(error: OSError | ValueError) -> str:
    return getattr(error, "strerror", None) or type(error).__name__


def _cannot(what: str, error: OSError | ValueError) -> str:
    """The reason a path could not be opened, listed or read, in one line."""
    if isinstance(error, OSError) and error.errno == errno.ENAMETOOLONG:
        return "path too long to read"  # below PATH_MAX (4096 bytes on Linux) nothing opens
    return f"cannot {what}: {_os_reason(error)}"


# --- decoding --------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str | None]:
    """Bytes to text; returns (text, note) where note is a warning about how it was decoded.

    UTF-8 (with or without BOM) is the norm; a last character cut off (a truncated
    copy) becomes U+FFFD rather than losing the post. UTF-32 and UTF-16 are used when a
    BOM says so; GB18030 (a superset of GBK) when the bytes are not UTF-8 but decode as
    Chinese text (`_looks_chinese`), since almost any bytes decode as *something* in it.
    Raises ValueError for anything else.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: FF FE starts both
        try:
            return data.decode("utf-32"), "decoded as UTF-32"
        except UnicodeDecodeError:
            pass  # FF FE 00 00 can also be UTF-16 with a U+0000 first
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "decoded as UTF-16"
        except UnicodeDecodeError:
            raise ValueError("not valid UTF-16 despite its byte-order mark") from None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        if error.end == len(data) and error.reason == "unexpected end of data":
            return _cut_off(data, error.start)
    if b"\x00" in data:
        raise ValueError("binary file (not UTF-8 text)")
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is None or _mostly_utf8(data) or not _looks_chinese(text):
        raise ValueError("not UTF-8 text, nor GB18030 Chinese")
    return text, "decoded as GB18030 (not UTF-8)"


def _mostly_utf8(data: bytes) -> bool:
    """UTF-8 with a few bad bytes (a lone surrogate, a stray byte): its multi-byte characters
    also pair up as GBK ideographs, so the GB18030 reading must not win. GBK text read as
    UTF-8 fails on nearly every non-ASCII byte."""
    text = _ASCII_RUNS.sub("", data.decode("utf-8", "replace"))
    bad = text.count("\ufffd")
    return len(text) - bad >= bad  # GBK read as UTF-8: ~1 valid character per 10 bad bytes


def _cut_off(data: bytes, start: int) -> tuple[str, str]:
    """UTF-8 whose last character lacks its final bytes: the rest, then U+FFFD."""
    try:
        text = data[:start].decode("utf-8")
    except UnicodeDecodeError:  # bad before the end too: not a mere cut
        raise ValueError("not UTF-8 text, nor GB18030 Chinese") from None
    return text + "\ufffd", "last character cut off; decoded with a replacement"


def _looks_chinese(text: str) -> bool:
    """Whether GB18030-decoded text reads as Chinese rather than mojibake.

    Chinese text in GBK/GB18030 is nearly all GB2312 characters (both bytes >= 0xA1);
    UTF-8 with a bad byte, or Latin-1/cp1252 text, decodes to characters spread over the
    whole code space. A real GBK post scores ~1.0 here, mojibake well under 0.9.
    """
    chinese = _ASCII_RUNS.sub("", text)
    if not chinese:
        return True
    if len(chinese.encode("gb2312", "ignore")) / 2 >= 0.9 * len(chinese):
        return True
    return _looks_traditional(chinese)


def _looks_traditional(chinese: str) -> bool:
    """Traditional Chinese in GBK: ideographs outside GB2312, whose second byte is mostly
    0x80 or above. Latin text misread as GBK pairs an accented letter with the ASCII
    letter after it, so its second bytes are nearly all below 0x80."""
    ideographs = _CJK.findall(chinese)
    if len(ideographs) < 0.9 * len(chinese):
        return False
    encoded = "".join(ideographs).encode("gbk", "ignore")
    high_trails = sum(1 for trail in encoded[1::2] if trail >= 0x80)
    return high_trails >= 0.5 * len(ideographs)


_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")
_CJK = re.compile("[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


# --- one file --------------------------------------------------------------------------


def read_post(entry: FileEntry, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[Post | None, list[Problem]]:
    """Read one file. Returns the post (folded search text) or None, and any problems; never raises."""
    texts = FoldedTexts()
    record, problems = _read_guarded(entry.path, entry.size, max_bytes, texts)
    found = [Problem(path, reason, skipped) for path, _, _, reason, skipped in problems]
    if record is None:
        return None, found
    return Post(article_of(record), texts.texts()[0], record[1], record[2]), found


def _read_guarded(path: str, size: int, max_bytes: int, texts: FoldedTexts) -> tuple[Record | None, list[FileProblem]]:
    try:
        return _read_one(path, size, max_bytes, texts)
    except Exception as error:  # a last guard: one odd file must not stop a load
        return None, [(path, size, 0, f"unexpected error: {type(error).__name__}", True)]


def _read_one(path: str, size: int, max_bytes: int, texts: FoldedTexts) -> tuple[Record | None, list[FileProblem]]:
    """The record and problems of one file (`size` -1 when unknown); a good file's search
    text goes to `texts`.

    Problems and records are keyed by the size and mtime seen when reading, so the cache
    re-reads a file that changed meanwhile.
    """
    data, size, mtime_ns, reason = _read_bytes(path, size, max_bytes)
    if data is None:
        return None, [(path, size, mtime_ns, reason, True)]
    if texts.native:
        read = _read_utf8(path, size, mtime_ns, data, texts)
        if read is not None:
            return read
    if not data.strip():
        return None, [(path, size, mtime_ns, "empty file", True)]
    try:
        text, note = decode(data)
    except ValueError as error:
        return None, [(path, size, mtime_ns, str(error), True)]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        header, body = split_front_matter(text)
        fields = parse_header(header, keep_bad_dates=True)
    except FrontMatterError as error:
        return None, [(path, size, mtime_ns, str(error), True)]
    warnings = [note] if note else []
    head = _head(path, mtime_ns, fields, warnings)
    texts.add(_search_prefix(head) + search_body(body))
    return _record(path, size, mtime_ns, head, find_url(body)), _warnings(path, size, mtime_ns, warnings)


def _read_utf8(path: str, size: int, mtime_ns: int, data: bytes,
               texts: FoldedTexts) -> tuple[Record, list[FileProblem]] | None:
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
    return [(path, size, mtime_ns, warning, False) for warning in warnings]


def _read_bytes(path: str, size: int, max_bytes: int) -> tuple[bytes | None, int, int, str]:
    """(data, size, mtime_ns, "") or (None, size, mtime_ns, reason), as seen once open."""
    if size > max_bytes:
        return None, size, 0, f"file is {_megabytes(size)}, over the {_megabytes(max_bytes)} limit"
    try:
        data, size_now, mtime_ns = read_regular_file(path, max_bytes)
    except FileNotFoundError:
        return None, size, 0, "file vanished while loading"
    except (IsADirectoryError, NotRegularFile):
        return None, size, 0, "not a regular file"
    except OSError as error:
        return None, size, 0, _cannot("read", error)
    if data is None and size < 0:
        return None, size_now, mtime_ns, f"file is {_megabytes(size_now)}, over the {_megabytes(max_bytes)} limit"
    if data is None or len(data) > max_bytes:
        return None, size_now, mtime_ns, f"file grew past the {_megabytes(max_bytes)} limit while loading"
    return data, len(data), mtime_ns, ""


Head = tuple[str, int, int, str, str]
"""A header's fields as a record keeps them: title, date (µs, UTC offset s), source id, source name."""


def _head(path: str, mtime_ns: int, fields: dict[object, object], warnings: list[str]) -> Head:
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
    """The record of a file from its header fields and the URL found in its body."""
    if url is not None:
        url = _clean(url) or None
    title, micros, offset, source_id, source_name = head
    return (path, size, mtime_ns, url or path, title, micros, offset, source_id, source_name, url)


def _clean(text: str) -> str:
    """`clean_line`, skipped when it could not change anything (the common case)."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return clean_line(text)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


# --- runs of files ---------------------------------------------------------------------


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
    result.texts = units.tobytes()
    if vocabulary is not None:
        result.rows = signatures(units, result.offsets, vocabulary)
    return result


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

    @property
    def posts(self) -> list[Post]:
        """The records as `Post`s (for callers that want objects rather than columns)."""
        if self.chunk is None:
            return []
        return [
            Post(article_of(record), self.chunk.text_at(number), record[1], record[2])
            for number, record in enumerate(self.records)
        ]


def batch_of(result: ReadResult, vocabulary: Vocabulary, done: int, total: int, phase: str) -> Batch:
    """Turn a compact result into a `Batch`."""
    problems = [Problem(path, reason, skipped) for path, _, _, reason, skipped in result.problems]
    chunk = None
    if result.records:
        chunk = Chunk(0, len(result.records), result.texts, result.offsets, result.rows, vocabulary)
    return Batch(result.records, chunk, problems, done, total, phase)


# --- the whole load --------------------------------------------------------------------

FIRST_BATCH = 256
"""Files read before anything else, in-process: the newest posts, for the first screen."""
PARALLEL_MIN_FILES = 3000
"""Below this many files to read, worker processes cost more than they save."""


def iter_load(
    paths: Iterable[str | os.PathLike[str]], max_bytes: int = DEFAULT_MAX_BYTES, *,
    use_cache: bool = True, cache_dir: str | os.PathLike[str] | None = None,
    parallel: bool | None = None, early: EarlyStart | None = None, follow_links: bool = False,
) -> Iterator[Batch]:
    """The whole progressive load as batches: the first one carries discovery problems.

    The UI's loading worker and `load_store` both consume this; each batch can be added
    to a `Store` as it arrives (`store.add_batch(batch)`). With `use_cache`, unchanged
    files come from the cache (phase "cached") and, when anything changed, the cache is
    rewritten after the last batch has been yielded. The cache's first run (the newest
    posts) comes even before the files are found, checked by stat alone; its batch has
    `total` 0, as the number of files is not known yet. `parallel` forces worker processes
    on or off (default: by the number of files to read). `early` (see `start_early`)
    brings workers already started, reading the newest files and finding all of them;
    the load closes them (start them with the same `follow_links`). Roots are made
    canonical here (`canonical_roots`): records, problems and the cache key use real paths.
    `follow_links` follows links out of the roots too (see `discover`).
    """
    roots = canonical_roots(paths)
    try:
        with _collector_paused():
            plan = LoadPlan(roots, max_bytes, use_cache, cache_dir, follow_links)
            yield from plan.first_cached_batch()
            if early is not None:
                yield from plan.newest_batch(early.newest_read())
            found = _found(roots, follow_links) if early is None else early.files_found(roots, follow_links)
            entries, problems = _ordered(found)
            named, _, _, reached = found
            plan.found(entries, reached, [entry.path for entry in named])
            yield Batch(problems=problems, done=plan.done, total=plan.total, phase="finding")
            yield from plan.cached_batches()
            yield from plan.fresh_batches(parallel, early.reader if early is not None else None)
        plan.save()
    finally:
        if early is not None:
            early.reader.close()


class Newest(NamedTuple):
    """The newest files of a corpus, read by a worker while the app starts."""

    entries: Task
    result: ReadResult
    """Those files read, their signature rows made with `vocabulary_keys`."""
    vocabulary_keys: npt.NDArray[np.uint64]


def read_newest(roots: list[str], max_bytes: int) -> Newest | None:
    """Read the `FIRST_BATCH` newest files without finding them all first (a worker runs
    this, see `start_early`): only for the usual corpus, one folder of post files and
    nothing else (else None, and the load reads its first batch as usual)."""
    roots = canonical_roots(roots)
    with _collector_paused():
        if len(roots) != 1 or _is_pseudo(roots[0]) or not os.path.isdir(roots[0]):
            return None
        try:
            names, others = _listing(roots[0])
        except OSError:
            return None
        if others:
            return None  # links or folders: their files would sort in among these
        prefix = os.path.join(roots[0], "")
        entries = [(prefix + name, -1, -1) for name in heapq.nlargest(FIRST_BATCH, names)]
        result = read_files(entries, max_bytes, None)
        return Newest(entries, result, _first_vocabulary(result).keys)


def _find_in_worker(roots: list[str], follow_links: bool = False) -> Found:
    """`discover` of canonical roots in a worker, short of the ordering: folder names
    pickle faster than paths."""
    with _collector_paused():
        return _found(roots, follow_links)


@dataclass
class EarlyStart:
    """Worker processes forked before the app starts, reading the newest files and
    finding them all (see `start_early`)."""

    reader: ParallelReader
    newest: Future[Newest | None]
    found: Future[Found]

    def newest_read(self) -> Newest | None:
        try:
            return self.newest.result()
        except Exception:  # the load reads its first batch itself
            return None

    def files_found(self, roots: list[str], follow_links: bool = False) -> Found:
        """What the walk of (canonical) `roots` found, by a worker unless it failed."""
        try:
            return self.found.result()
        except Exception:
            return _found(roots, follow_links)


def start_early(paths: Iterable[str | os.PathLike[str]], max_bytes: int = DEFAULT_MAX_BYTES,
                use_cache: bool = True, cache_dir: str | os.PathLike[str] | None = None, *,
                one_at_a_time: bool = False, follow_links: bool = False) -> EarlyStart | None:
    """Fork the worker processes now, and have one find the files and read the newest.

    For the app, called before Textual is imported: finding and reading the first posts
    (and starting workers, ~0.4 s with the fork server) then stay off the interpreter
    lock the UI needs to start. Forking is only safe while no other thread runs, so call
    this before starting any. None where that cannot be (not Linux, a thread already
    running, one core, no processes) or is not worth it: with a cache, the newest posts
    come from it, and busy workers would only slow the start. `one_at_a_time` finds the
    files only once the newest are read, so that with two cores the app starting up
    keeps one to itself. Give the load (`iter_load`) the same `follow_links`.
    """
    if sys.platform != "linux" or threading.active_count() > 1 or worker_count() < 2:
        return None
    roots = canonical_roots(paths)
    location = cache.cache_file(roots, cache_dir, follow_links) if use_cache else None
    if location is not None and os.path.exists(location):
        return None
    try:
        reader = ParallelReader(fork=True)
        newest = reader.submit(read_newest, roots, max_bytes)  # forks the workers
        if not one_at_a_time:
            return EarlyStart(reader, newest, reader.submit(_find_in_worker, roots, follow_links))
    except Exception:  # e.g. no working semaphores in a sandbox
        return None
    found: Future[Found] = Future()

    def find_after_newest() -> None:  # a thread may start now: the workers are forked
        wait([newest])
        try:
            found.set_result(reader.submit(_find_in_worker, roots, follow_links).result())
        except BaseException as error:  # e.g. the load was cancelled: nobody is waiting
            found.set_exception(error)

    threading.Thread(target=find_after_newest, name="reader-find", daemon=True).start()
    return EarlyStart(reader, newest, found)


@contextmanager
def _collector_paused() -> Iterator[None]:
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


def _first_vocabulary(result: ReadResult) -> Vocabulary:
    """The vocabulary chosen from the first batch read (the newest posts); fills its rows."""
    units = np.frombuffer(result.texts, np.uint16)
    vocabulary = choose_vocabulary(text_of(units).split(SEPARATOR) if result.records else [])
    result.rows = signatures(units, result.offsets, vocabulary)
    return vocabulary


class LoadPlan:
    """One load: which files the cache covers, reading the rest, and saving the cache."""

    def __init__(self, roots: list[str], max_bytes: int, use_cache: bool,
                 cache_dir: str | os.PathLike[str] | None, follow_links: bool = False) -> None:
        self.max_bytes = max_bytes
        self.total = 0
        """Files found (0 until `found`)."""
        self.done = 0
        self.location = cache.cache_file(roots, cache_dir, follow_links) if use_cache else None
        self.cached = cache.open_cache(self.location) if self.location else None
        self.vocabulary: Vocabulary | None = None
        if self.cached is not None and self.cached.max_bytes == max_bytes:
            self.vocabulary = make_vocabulary(self.cached.vocabulary_keys)
        elif self.cached is not None:
            self.cached.close()
            self.cached = None
        self._runs = self.cached.results() if self.cached is not None else iter(())
        self._covered: set[str] = set()
        """Files served from the cache."""
        self.results: list[ReadResult] = []
        """Everything yielded, for the cache."""
        self.changed = self.cached is None
        self.pending: Task = []
        self._reached: list[str] = []
        self._file_roots: list[str] = []

    def first_cached_batch(self) -> Iterator[Batch]:
        """The cache's first run (the newest posts), its files checked by stat alone."""
        result = next(self._runs, None)
        if result is None:
            return
        paths = [record[0] for record in result.records] + [problem[0] for problem in result.problems]
        yield from self._cached(result, cache.StatKeys(paths))

    def found(self, entries: list[FileEntry], reached: list[str], file_roots: list[str]) -> None:
        """The files discovery found: all but those already served are still to do.

        `reached` and `file_roots` (real paths, see `Found`) are where the cache must not go.
        """
        self._reached, self._file_roots = reached, file_roots
        if self.cached is not None and self.location is not None \
                and cache.location_is_safe(self.location, reached, file_roots):
            cache.mark_used(self.location)
        self.total = len(entries)
        covered = self._covered
        self.pending = [(path, size, mtime_ns) for path, size, mtime_ns in entries if path not in covered]
        self.done = min(self.done, self.total)

    def cached_batches(self) -> Iterator[Batch]:
        """Batches of unchanged files straight from the cache, newest first, as it is read."""
        if self.cached is None or self.vocabulary is None:
            return
        keys = cache.FileKeys([item[0] for item in self.pending])
        for result in self._runs:
            yield from self._cached(result, keys)
        self.changed |= self.cached.damaged
        self.pending = [item for item in self.pending if item[0] not in self._covered]
        self.changed |= bool(self.pending)

    def _cached(self, result: ReadResult, keys: cache.FileKeys | cache.StatKeys) -> Iterator[Batch]:
        kept = cache.still_valid(result, keys)
        self.changed |= len(kept.records) != len(result.records) or len(kept.problems) != len(result.problems)
        self._covered.update(record[0] for record in kept.records)
        self._covered.update(problem[0] for problem in kept.problems)
        if kept.records or kept.problems:
            yield self._batch(kept, "cached")

    def newest_batch(self, newest: Newest | None) -> Iterator[Batch]:
        """The newest files, read by a worker before they were all found (when the cache
        did not serve the newest posts already)."""
        if newest is None or self.vocabulary is not None:
            return
        self.vocabulary = make_vocabulary(newest.vocabulary_keys)
        self._covered.update(path for path, _, _ in newest.entries)
        yield self._batch(newest.result, "reading")

    def fresh_batches(self, parallel: bool | None, reader: ParallelReader | None = None) -> Iterator[Batch]:
        """Batches of files read now: a small first batch, then in-process or in parallel.

        Without a `reader` (workers already running), worker processes start before the
        first batch is read, and batches are read in-process until they are ready.
        """
        if parallel is None:
            parallel = reader is not None or (len(self.pending) >= PARALLEL_MIN_FILES and worker_count() > 1)
        # Starting processes blocks (the fork server imports the loader first), so a
        # thread does it while this one reads the first batch.
        starting = _starter.submit(_start_pool) if parallel and self.pending and reader is None else None
        try:
            if self.pending and self.vocabulary is None:
                first, self.pending = self.pending[:FIRST_BATCH], self.pending[FIRST_BATCH:]
                yield self._first_batch(first)
            tasks = [self.pending[i : i + BATCH_SIZE] for i in range(0, len(self.pending), BATCH_SIZE)]
            # Workers take ~0.4 s to start: read in-process meanwhile rather than wait.
            while starting is not None and not starting.done() and len(tasks) > 1:
                yield self._batch(read_files(tasks.pop(0), self.max_bytes, self._vocabulary()), "reading")
            if starting is not None:
                reader = starting.result()
            if reader is not None and parallel and tasks:
                yield from self._parallel(reader, tasks)
            else:
                for task in tasks:
                    yield self._batch(read_files(task, self.max_bytes, self._vocabulary()), "reading")
        finally:
            if starting is not None:
                started = starting.result()
                if started is not None:
                    started.close()

    def _first_batch(self, task: Task) -> Batch:
        result = read_files(task, self.max_bytes, None)
        self.vocabulary = _first_vocabulary(result)
        return self._batch(result, "reading")

    def _parallel(self, reader: ParallelReader, tasks: list[Task]) -> Iterator[Batch]:
        vocabulary = self._vocabulary()
        finished = 0
        try:
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
        if self.total:
            self.done = min(self.done, self.total)
        return batch_of(result, self._vocabulary(), self.done, self.total, phase)

    def save(self) -> None:
        """Rewrite the cache when anything differs from it (never raises), unless it would
        go inside the corpus: a folder the walk reached (a link can lead to the cache
        folder) or the folder of a file root."""
        if self.location is None or not self.changed or self.vocabulary is None:
            return
        if not cache.location_is_safe(self.location, self._reached, self._file_roots):
            return
        cache.save(self.location, cache.CachedCorpus(self.vocabulary.keys, self.max_bytes, self.results))


_starter = ThreadPoolExecutor(1, thread_name_prefix="reader-pool-start")


def _start_pool() -> ParallelReader | None:
    """A started worker pool, or None when processes cannot be started here."""
    try:
        return ParallelReader()
    except Exception:  # e.g. no working semaphores in a sandbox: read in-process
        return None


class BackgroundLoad:
    """`iter_load` running in a thread from now on; its batches wait in a queue.

    The TUI starts one before it imports Textual, so finding files and reading the newest
    posts overlap the ~0.5 s of imports and start-up instead of following them (and do
    not queue behind the UI thread for the interpreter lock while it draws). Its roots
    are made canonical at once; `follow_links` as for `iter_load`.
    """

    def __init__(self, paths: Iterable[str | os.PathLike[str]], max_bytes: int = DEFAULT_MAX_BYTES, *,
                 use_cache: bool = True, cache_dir: str | os.PathLike[str] | None = None,
                 early: EarlyStart | None = None, follow_links: bool = False) -> None:
        self._queue: queue.Queue[Batch | BaseException | None] = queue.Queue()
        self._cancelled = threading.Event()
        self._shown = threading.Event()
        arguments = (canonical_roots(paths), max_bytes, use_cache, cache_dir, early, follow_links)
        # Not a daemon: quitting right after a load must let the cache write finish (a
        # cancelled load stops at its next batch and writes nothing).
        threading.Thread(target=self._run, args=arguments, name="reader-load").start()

    def _run(self, paths: list[str], max_bytes: int, use_cache: bool,
             cache_dir: str | os.PathLike[str] | None, early: EarlyStart | None, follow_links: bool) -> None:
        try:
            waited = False
            for batch in iter_load(paths, max_bytes, use_cache=use_cache, cache_dir=cache_dir, early=early,
                                   follow_links=follow_links):
                if not self._put(batch):
                    return  # cancelled; leaving the loop closes the load: no cache is written
                if batch.records and not waited:
                    # Reading the rest of the cache, or taking in the workers' results,
                    # only takes the interpreter lock from the UI starting up: let it
                    # draw the newest articles first (see `shown`).
                    waited = True
                    self._shown.wait(timeout=2.0)
        except BaseException as error:  # handed to the consumer, which reports it
            self._put(error)
            return
        self._put(None)

    def _put(self, item: Batch | BaseException | None) -> bool:
        """Queue `item`; False once cancelled (nobody is taking any more)."""
        if self._cancelled.is_set():
            return False
        self._queue.put(item)
        return True

    def batches(self) -> Iterator[Batch]:
        """The batches as they come (blocking); re-raises what stopped the load, if anything."""
        while (ready := self.take()) is not None:
            yield from ready

    def take(self, limit: int = 8, *, hold: bool = False) -> list[Batch] | None:
        """The batches ready now (at most `limit`), waiting for one; None once the load is over.

        A consumer that is slower than the load (a UI drawing frames) gets what piled
        up in one go, instead of one round trip per batch, but not so much at once that
        adding it blocks the UI for long. After the first articles the load waits until
        they are taken, or with `hold`, until the consumer says they are `shown`.
        """
        if self._cancelled.is_set():
            return None
        ready: list[Batch] = []
        item = self._queue.get()
        while True:
            if item is None or isinstance(item, BaseException):
                if ready:  # hand over what came before; the next call gets the end
                    self._queue.put(item)
                    return ready
                if item is None:
                    self._queue.put(None)  # so a later call knows too
                    return None
                raise item
            ready.append(item)
            if item.records and not hold:
                self._shown.set()
            if len(ready) >= limit:
                return ready
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return ready

    def shown(self) -> None:
        """The first articles are on screen: the load goes on at full speed (see `take`)."""
        self._shown.set()

    def cancel(self) -> None:
        """Stop after the current batch (a reload replaced this load, or the app quit)."""
        self._cancelled.set()
        self._shown.set()  # wakes the load if it waits for the first articles to show
        self._queue.put(None)  # wakes a consumer waiting in `take`


def load_store(
    paths: Iterable[str | os.PathLike[str]], max_bytes: int = DEFAULT_MAX_BYTES, *,
    use_cache: bool = True, cache_dir: str | os.PathLike[str] | None = None, early: EarlyStart | None = None,
    follow_links: bool = False,
) -> Store:
    """Load everything under `paths` into a new store, in one go (the CLI's path); roots
    are made canonical by `iter_load`."""
    store = Store()
    for batch in iter_load(paths, max_bytes, use_cache=use_cache, cache_dir=cache_dir, early=early,
                           follow_links=follow_links):
        store.add_batch(batch)
    return store
