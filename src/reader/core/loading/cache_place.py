"""Where warm-start caches live, and keeping that folder private, tidy and bounded.

One cache file per set of corpus roots, in the user's cache directory
(`READER_CACHE_DIR` overrides `platformdirs.user_cache_dir("reader")`), created 0700,
never inside a corpus: not in a root's tree, not in a file root's folder, not in a
folder the walk reached (`location_is_safe`, checked on real paths). After each save the
folder is tidied: temporaries of killed writers removed, caches not used for a month or
beyond the size cap evicted, least recently used first.
Deliberately not here: the file format (`cache_file.py`), which files are still valid
(`freshness.py`).
"""

from __future__ import annotations

import hashlib
import os
import re
import time

MAX_TOTAL_BYTES = 2 * 2**30
"""Cache files beyond this total are removed, least recently used first (see `tidy`)."""


MAX_UNUSED_SECONDS = 30 * 86400
"""A cache not opened for this long is removed (its corpus is likely gone or moved)."""


_TEMPORARY_MAX_SECONDS = 86400
"""A temporary this old is abandoned whoever wrote it (a PID can be reused)."""


TEMPORARY_NAME = re.compile(r"\.corpus-(\d+)-[^-]*\.tmp")
"""A temporary's name: the writer's PID, then mkstemp's random part."""


def cache_directory() -> str:
    """`READER_CACHE_DIR`, else the platform's user cache directory for "reader"."""
    configured = os.environ.get("READER_CACHE_DIR")
    if configured:
        return configured
    import platformdirs  # imported late: only needed when the cache is used

    return platformdirs.user_cache_dir("reader")


def cache_file(
    roots: list[str], directory: str | os.PathLike[str] | None = None, follow_links: bool = False
) -> str | None:
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


def mark_used(location: str) -> None:
    """Touch the cache's times: what keeps `tidy` from evicting a cache still in use.

    Called only after discovery, once `location_is_safe` said the cache is not in the
    corpus (with `--follow-links`, a link may lead into the cache folder)."""
    try:
        os.utime(location, follow_symlinks=False)
    except (OSError, NotImplementedError):  # read-only media; a system without lutimes
        pass


def remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def tidy(directory: str, written: str) -> None:
    """Remove what other runs left in the cache folder: temporaries of runs that were
    killed, and caches of corpora not opened for long or beyond the size cap (never
    `written`). Runs after a save only, one listing of the folder: never at start-up."""
    now = time.time()
    try:
        with os.scandir(directory) as listing:
            found = [
                (entry.name, entry.path, _lstat(entry))
                for entry in listing
                if entry.name.endswith((".tmp", ".cache"))
            ]
        room = MAX_TOTAL_BYTES - os.stat(written).st_size
    except OSError:
        return
    caches: list[tuple[float, int, str]] = []
    for name, path, info in found:
        if info is None:
            continue  # gone meanwhile (another run renamed its temporary)
        if name.startswith(".corpus-") and name.endswith(".tmp"):
            if _abandoned(name, info.st_mtime, now):
                remove_quietly(path)
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
    match = TEMPORARY_NAME.fullmatch(name)
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
        remove_quietly(path)
        total -= size
