"""One load, in order: the cache's newest run, the files found, what the cache still covers,
then the rest read in-process or by workers — as batches a store takes one by one.

The first small batch is always read in-process, so the first screen does not wait for
workers to start; the cache is rewritten after the last batch when anything changed, and
only where `cache_place.location_is_safe` allows.
Deliberately not here: reading a file (`reading.py`), threads (`background.py`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from reader.core.loading import cache_format, cache_place, freshness
from reader.core.loading.discovery import canonical_roots, find, ordered
from reader.core.loading.early import FIRST_BATCH, EarlyStart, Newest
from reader.core.loading.reading import (
    DEFAULT_MAX_BYTES,
    collector_paused,
    first_vocabulary,
    read_files,
)
from reader.core.loading.workers import ParallelReader, worker_count
from reader.core.records import Batch, FileEntry, Problem, ReadResult, Task
from reader.core.search import Chunk, Vocabulary, choose_vocabulary, make_vocabulary
from reader.core.store import Store

BATCH_SIZE = 1024
"""Files per progressive batch (and per worker task)."""


def batch_of(result: ReadResult, vocabulary: Vocabulary, done: int, total: int, phase: str) -> Batch:
    """Turn a compact result into a `Batch`."""
    problems = [Problem(path, reason, skipped) for path, _, _, reason, skipped in result.problems]
    chunk = None
    if result.records:
        chunk = Chunk(0, len(result.records), result.texts, result.offsets, result.rows, vocabulary)
    return Batch(result.records, chunk, problems, done, total, phase)


PARALLEL_MIN_FILES = 3000
"""Below this many files to read, worker processes cost more than they save."""


def iter_load(
    paths: Iterable[str | os.PathLike[str]],
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    use_cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    parallel: bool | None = None,
    early: EarlyStart | None = None,
    follow_links: bool = False,
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
        with collector_paused():
            plan = LoadPlan(roots, max_bytes, use_cache, cache_dir, follow_links)
            yield from plan.first_cached_batch()
            if early is not None:
                yield from plan.newest_batch(early.newest_read())
            found = find(roots, follow_links) if early is None else early.files_found(roots, follow_links)
            entries, problems = ordered(found)
            named, _, _, reached = found
            plan.found(entries, reached, [entry.path for entry in named])
            yield Batch(problems=problems, done=plan.done, total=plan.total, phase="finding")
            yield from plan.cached_batches()
            yield from plan.fresh_batches(parallel, early.reader if early is not None else None)
        plan.save()
    finally:
        if early is not None:
            early.reader.close()


class LoadPlan:
    """One load: which files the cache covers, reading the rest, and saving the cache."""

    def __init__(
        self,
        roots: list[str],
        max_bytes: int,
        use_cache: bool,
        cache_dir: str | os.PathLike[str] | None,
        follow_links: bool = False,
    ) -> None:
        self.max_bytes = max_bytes
        self.total = 0
        """Files found (0 until `found`)."""
        self.done = 0
        self.location = cache_place.cache_file(roots, cache_dir, follow_links) if use_cache else None
        self.cached = cache_format.open_cache(self.location) if self.location else None
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
        yield from self._cached(result, freshness.StatKeys(paths))

    def found(self, entries: list[FileEntry], reached: list[str], file_roots: list[str]) -> None:
        """The files discovery found: all but those already served are still to do.

        `reached` and `file_roots` (real paths, see `Found`) are where the cache must not go.
        """
        self._reached, self._file_roots = reached, file_roots
        if (
            self.cached is not None
            and self.location is not None
            and cache_place.location_is_safe(self.location, reached, file_roots)
        ):
            cache_place.mark_used(self.location)
        self.total = len(entries)
        covered = self._covered
        self.pending = [(path, size, mtime_ns) for path, size, mtime_ns in entries if path not in covered]
        self.done = min(self.done, self.total)

    def cached_batches(self) -> Iterator[Batch]:
        """Batches of unchanged files straight from the cache, newest first, as it is read."""
        if self.cached is None or self.vocabulary is None:
            return
        keys = freshness.FileKeys([item[0] for item in self.pending])
        for result in self._runs:
            yield from self._cached(result, keys)
        self.changed |= self.cached.damaged
        self.pending = [item for item in self.pending if item[0] not in self._covered]
        self.changed |= bool(self.pending)

    def _cached(self, result: ReadResult, keys: freshness.FileKeys | freshness.StatKeys) -> Iterator[Batch]:
        kept = freshness.still_valid(result, keys)
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
        starting = _starter.submit(start_pool) if parallel and self.pending and reader is None else None
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
        self.vocabulary = first_vocabulary(result)
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
        if not cache_place.location_is_safe(self.location, self._reached, self._file_roots):
            return
        cache_format.save(
            self.location, cache_format.CachedCorpus(self.vocabulary.keys, self.max_bytes, self.results)
        )


def iter_changes(
    paths: Iterable[str],
    max_bytes: int = DEFAULT_MAX_BYTES,
    vocabulary: Vocabulary | None = None,
    *,
    parallel: bool | None = None,
) -> Iterator[Batch]:
    """Read files added or changed on disk (see `watch.CorpusWatcher`) as batches of at
    most `BATCH_SIZE` files, phase "changes", each ready for `Store.add_batch` (which
    replaces a file already there). Runs anywhere but the UI thread.

    `vocabulary` is the store's (`store.index.vocabulary`), so the rows fit its index;
    None (an empty store) chooses one from the first batch, as a load does. With
    `PARALLEL_MIN_FILES` or more (or `parallel`), worker processes read them, else this
    thread does. Every path gets an answer, as in a load: a file gone meanwhile is a
    problem ("file vanished while loading"). Removed files are not read: give them to
    `Store.remove_paths`. Half-written files are the watcher's business (it holds them
    back until they settle); a file still broken when read is recorded as a problem like
    any other, and replaced when it changes again.
    """
    wanted = list(dict.fromkeys(paths))
    tasks: list[Task] = [
        [(path, -1, -1) for path in wanted[start : start + BATCH_SIZE]]
        for start in range(0, len(wanted), BATCH_SIZE)
    ]
    total = len(wanted)
    done = 0

    def batch(result: ReadResult, vocabulary: Vocabulary) -> Batch:
        nonlocal done
        done += len(result.records) + len({problem[0] for problem in result.problems if problem[4]})
        return batch_of(result, vocabulary, min(done, total), total, "changes")

    if tasks and vocabulary is None:
        result = read_files(tasks.pop(0), max_bytes, None)
        vocabulary = first_vocabulary(result)
        yield batch(result, vocabulary)
    if not tasks or vocabulary is None:
        return
    if parallel is None:
        parallel = total >= PARALLEL_MIN_FILES and worker_count() > 1
    reader = start_pool() if parallel and len(tasks) > 1 else None
    if reader is None:
        for task in tasks:
            yield batch(read_files(task, max_bytes, vocabulary), vocabulary)
        return
    finished = 0
    try:
        for result in reader.read(tasks, max_bytes, vocabulary):
            finished += 1
            yield batch(result, vocabulary)
    except Exception:  # a broken pool: the rest in this thread
        for task in tasks[finished:]:
            yield batch(read_files(task, max_bytes, vocabulary), vocabulary)
    finally:
        reader.close()


def read_changes(
    paths: Iterable[str], max_bytes: int = DEFAULT_MAX_BYTES, vocabulary: Vocabulary | None = None
) -> Batch:
    """`iter_changes` in one batch, read in this thread (for a few files)."""
    wanted = list(dict.fromkeys(paths))
    task: Task = [(path, -1, -1) for path in wanted]
    result = read_files(task, max_bytes, vocabulary)
    if vocabulary is None:
        vocabulary = first_vocabulary(result)
    done = len(result.records) + len({problem[0] for problem in result.problems if problem[4]})
    return batch_of(result, vocabulary, done, len(wanted), "changes")


_starter = ThreadPoolExecutor(1, thread_name_prefix="reader-pool-start")


def start_pool() -> ParallelReader | None:
    """A started worker pool, or None when processes cannot be started here."""
    try:
        return ParallelReader()
    except Exception:  # e.g. no working semaphores in a sandbox: read in-process
        return None


def load_store(
    paths: Iterable[str | os.PathLike[str]],
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    use_cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    early: EarlyStart | None = None,
    follow_links: bool = False,
) -> Store:
    """Load everything under `paths` into a new store, in one go (the CLI's path); roots
    are made canonical by `iter_load`."""
    store = Store()
    for batch in iter_load(
        paths, max_bytes, use_cache=use_cache, cache_dir=cache_dir, early=early, follow_links=follow_links
    ):
        store.add_batch(batch)
    return store
