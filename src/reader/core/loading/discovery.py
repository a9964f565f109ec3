"""Finding the post files under the corpus roots: a walk that stays inside them, newest first.

Roots are made canonical (real, absolute) once, so one corpus spelled two ways is one
corpus. Folders are walked iteratively (no recursion limit), hidden ones skipped; a link
is followed only when its target lies inside a root (unless `follow_links`), once (a loop
is reported), and never into /proc, /sys or /dev. Files are not stat'ed here: 100k
stats would cost ~0.25 s before the first screen; reading learns sizes and times.
Deliberately not here: reading the files (`reading.py`), their order of reading (`plan.py`).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable
from itertools import repeat

from reader.core import accel
from reader.core.files import cannot
from reader.core.records import FileEntry, Problem

POST_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".html"})


def discover(
    paths: Iterable[str | os.PathLike[str]], *, follow_links: bool = False
) -> tuple[list[FileEntry], list[Problem]]:
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
    return ordered(find(canonical_roots(paths), follow_links))


PSEUDO_FILESYSTEMS = ("/proc/", "/sys/", "/dev/")
"""Kernel views, not files (`reader /proc` walked the whole system): never read, by real path."""


def canonical_roots(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """The real, absolute paths of `paths`, each once, in the order given.

    One corpus spelled two ways (`DIR`, `./DIR/`, its absolute path, `DIR DIR/x.md`)
    must give the same paths in records, problems and the cache key, or the cache's
    newest run and a fresh listing show every post twice. Called at each entry of a
    load: a realpath per root, never per file.
    """
    return list(dict.fromkeys(_real(os.fspath(path)) for path in paths))


def _real(path: str) -> str:
    try:
        return os.path.realpath(path)
    except ValueError:  # a NUL in the path: no such file, as `os.stat` will say
        return os.path.abspath(path)


def is_pseudo(real: str) -> bool:
    return os.path.join(real, "").startswith(PSEUDO_FILESYSTEMS)


Found = tuple[list[FileEntry], list[tuple[str, list[str]]], list[Problem], list[str]]
"""What a walk found: files named explicitly, (folder, post file names) pairs, problems,
and the real paths of the folders it entered from outside their parent: the roots and the
targets of links it followed (every other folder it reached lies below one of these)."""


def find(roots: list[str], follow_links: bool = False) -> Found:
    """`discover` of canonical roots up to the ordering (compact: a worker sends it back,
    see `start_early`)."""
    named: list[FileEntry] = []
    walk = _Walk(roots, follow_links)
    for path in roots:
        if is_pseudo(path):
            walk.problems.append(Problem(path, "pseudo-filesystem, not read"))
            continue
        try:
            info = os.stat(path)
        except (OSError, ValueError) as error:
            walk.problems.append(Problem(path, cannot("open", error)))
            continue
        if stat.S_ISDIR(info.st_mode):
            walk.tree(path, info)
        elif stat.S_ISREG(info.st_mode):
            named.append(FileEntry(path, info.st_size, info.st_mtime_ns))
        else:
            walk.problems.append(Problem(path, "not a regular file or directory"))
    return named, walk.folders, walk.problems, walk.reached


def ordered(found: Found) -> tuple[list[FileEntry], list[Problem]]:
    named, folders, problems, _ = found
    return _newest_first(named, folders), problems


def _newest_first(named: list[FileEntry], folders: list[tuple[str, list[str]]]) -> list[FileEntry]:
    """Entries by file name, descending (Jekyll names start with the date); ties by path."""
    if not named and len(folders) == 1:  # the usual corpus: one folder, already sorted
        directory, names = folders[0]
        return list(
            map(_new_entry, repeat(FileEntry), zip(map(directory.__add__, names), repeat(-1), repeat(-1)))
        )
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
                files, others = listing(directory)
            except OSError as error:
                self.problems.append(Problem(directory, cannot("list directory", error)))
                continue
            prefix = os.path.join(directory, "")
            for kind, name in others:  # few
                self._other(kind, prefix, name, real, files, pending)
            if files:
                files.sort(reverse=True)
                self.folders.append((prefix, files))

    def _other(
        self,
        kind: str,
        prefix: str,
        name: str,
        parent: str,
        files: list[str],
        pending: list[tuple[str, str, os.stat_result, bool]],
    ) -> None:
        """Take in a listed entry other than a plain post file (`parent`: the real path of
        its folder): post files go to `files`, folders to `pending`, refusals to problems."""
        path = prefix + name
        if kind == "u":
            kind = _kind_of(path)
        if kind in ("f", "o"):
            if is_post_name(name) and kind == "f":
                files.append(name)
            elif is_post_name(name):  # a FIFO, socket or device named like a post: never opened
                self.problems.append(Problem(path, "not a regular file"))
            return
        try:
            info = os.stat(path)  # follows links
        except OSError as error:
            self._unreachable(kind, path, name, error)
            return
        is_dir = stat.S_ISDIR(info.st_mode)
        if not is_dir and not is_post_name(name):
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
        return "pseudo-filesystem, not read" if is_pseudo(real) else None

    def _unreachable(self, kind: str, path: str, name: str, error: OSError) -> None:
        """An entry that cannot be stat'ed: a problem when it is or may hold a post."""
        if error.errno == errno.ENAMETOOLONG:
            self.problems.append(Problem(path, "path too long to read"))
        elif is_post_name(name) and kind == "l" and not os.path.exists(path):
            self.problems.append(Problem(path, "broken link: its target does not exist"))
        elif is_post_name(name) or kind == "d":
            self.problems.append(Problem(path, cannot("read", error)))


def _kind_of(path: str) -> str:
    """The kind of an entry its listing did not give (some filesystems do not): one lstat."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return "u"
    if stat.S_ISLNK(mode):
        return "l"
    return "d" if stat.S_ISDIR(mode) else "f" if stat.S_ISREG(mode) else "o"


def listing(directory: str) -> tuple[list[str], list[tuple[str, str]]]:
    """A directory's visible entries: the names of its post files, and (kind, name) of
    the rest (kinds as `accel.list_dir` gives them). Raises OSError.

    Two regex scans of the whole listing instead of a loop over 100k names (~0.2 s).
    """
    listed = accel.list_dir(directory)
    if listed is None:
        with os.scandir(directory) as scan:
            listed = "".join([f"{_kind(entry)}{entry.name}\0" for entry in scan])
    files = [name for name in _VISIBLE_FILE.findall(listed) if is_post_name(name)]
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


def is_post_name(name: str) -> bool:
    return name.endswith(_SUFFIXES) or name.lower().endswith(_SUFFIXES)


_SUFFIXES = tuple(POST_SUFFIXES)


# One entry of a listing is "<kind><name>\0"; a match starts at an entry's start (after
# "\0" or at 0) and skips hidden names. File names are candidates, in any case:
# `is_post_name` has the last word.
_VISIBLE_FILE = re.compile(
    r"(?<![^\0])f([^.\0][^\0]*\.(?i:"
    + "|".join(re.escape(suffix[1:]) for suffix in sorted(POST_SUFFIXES))
    + r"))\0"
)


_VISIBLE_OTHER = re.compile(r"(?<![^\0])([dlou])([^.\0][^\0]*)\0")
