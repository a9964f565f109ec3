"""The early start: worker processes forked before Textual is imported, reading the newest posts.

Without a cache, on Linux, the app forks its workers while no other thread runs (forking
is only safe then): one reads the newest files of the usual one-folder corpus, then
lists the whole folder, while the UI starts on a core of its own.
Deliberately not here: the rest of the load (`plan.py`).
"""

from __future__ import annotations

import heapq
import os
import sys
import threading
from collections.abc import Iterable
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from reader.core.loading import cache_place
from reader.core.loading.discovery import (
    Found,
    canonical_roots,
    find,
    is_pseudo,
    listing,
)
from reader.core.loading.reading import (
    DEFAULT_MAX_BYTES,
    collector_paused,
    first_vocabulary,
    read_files,
)
from reader.core.loading.workers import ParallelReader, worker_count
from reader.core.records import ReadResult, Task

FIRST_BATCH = 256
"""Files read before anything else, in-process: the newest posts, for the first screen."""


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
    with collector_paused():
        if len(roots) != 1 or is_pseudo(roots[0]) or not os.path.isdir(roots[0]):
            return None
        try:
            names, others = listing(roots[0])
        except OSError:
            return None
        if others:
            return None  # links or folders: their files would sort in among these
        prefix = os.path.join(roots[0], "")
        entries = [(prefix + name, -1, -1) for name in heapq.nlargest(FIRST_BATCH, names)]
        result = read_files(entries, max_bytes, None)
        return Newest(entries, result, first_vocabulary(result).keys)


def find_in_worker(roots: list[str], follow_links: bool = False) -> Found:
    """`discover` of canonical roots in a worker, short of the ordering: folder names
    pickle faster than paths."""
    with collector_paused():
        return find(roots, follow_links)


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
            return find(roots, follow_links)


def start_early(
    paths: Iterable[str | os.PathLike[str]],
    max_bytes: int = DEFAULT_MAX_BYTES,
    use_cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    one_at_a_time: bool = False,
    follow_links: bool = False,
) -> EarlyStart | None:
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
    location = cache_place.cache_file(roots, cache_dir, follow_links) if use_cache else None
    if location is not None and os.path.exists(location):
        return None
    try:
        reader = ParallelReader(fork=True)
        newest = reader.submit(read_newest, roots, max_bytes)  # forks the workers
        if not one_at_a_time:
            return EarlyStart(reader, newest, reader.submit(find_in_worker, roots, follow_links))
    except Exception:  # e.g. no working semaphores in a sandbox
        return None
    found: Future[Found] = Future()

    def find_after_newest() -> None:  # a thread may start now: the workers are forked
        wait([newest])
        try:
            found.set_result(reader.submit(find_in_worker, roots, follow_links).result())
        except BaseException as error:  # e.g. the load was cancelled: nobody is waiting
            found.set_exception(error)

    threading.Thread(target=find_after_newest, name="reader-find", daemon=True).start()
    return EarlyStart(reader, newest, found)
