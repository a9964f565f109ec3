"""Reading runs of post files in worker processes, returning compact results.

Loading is CPU-bound Python (decoding, front matter, body text, folding, signatures), so
threads would share one core. The loader runs inside a thread of a Textual app, which
must never `fork` (a forked child would inherit the app's threads and terminal state),
so workers are started with "forkserver" where available (its server preloads the
reading module, so each worker starts warm), else "spawn". Each task returns a
`ReadResult`: plain tuples, one UTF-16 blob of folded text with its offsets and one numpy
array of signature rows — cheap to pickle, and the same shape the cache stores.
Deliberately not here: what reading a file means (`reading.py`), ordering (`plan.py`).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from reader.core.loading.reading import read_files
from reader.core.records import ReadResult, Task
from reader.core.search import Vocabulary, blank_units, fold_tables, make_vocabulary

T = TypeVar("T")


_worker_vocabulary: Vocabulary | None = None


def read_task(task: Task, max_bytes: int, vocabulary_keys: npt.NDArray[np.uint64]) -> ReadResult:
    """Worker entry point; the vocabulary table is rebuilt once per worker."""
    global _worker_vocabulary
    if _worker_vocabulary is None or not np.array_equal(_worker_vocabulary.keys, vocabulary_keys):
        _worker_vocabulary = make_vocabulary(vocabulary_keys)
    return read_files(task, max_bytes, _worker_vocabulary)


def _warm_up() -> None:
    """Each worker's start: build its lookup tables (while the first batch is read)."""
    gc.disable()  # a worker makes no cycles and lives for one load: collections only cost
    fold_tables()
    blank_units()


def prepare_processes() -> None:
    """Start multiprocessing's resource tracker now, while `sys.stderr` is the real one.

    Textual swaps `sys.stderr` for an object whose file descriptor cannot be handed to a
    child, and the tracker, started on first use, passes it on: a pool created inside a
    running app failed with "bad value(s) in fds_to_keep" and the load silently ran on
    one core. Call this before the app starts.
    """
    try:
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()
    except Exception:  # no processes here: the load reads in-process
        pass


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["reader.core.loading.workers"])
        return context
    return multiprocessing.get_context("spawn")


def worker_count() -> int:
    """Processes worth starting: one per core, at most four."""
    return max(
        1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
    )


class ParallelReader:
    """A process pool reading tasks in order; `close` it (or use `with`)."""

    def __init__(self, workers: int | None = None, *, fork: bool = False) -> None:
        """`fork` starts the workers by forking this process at the first `submit`: only
        safe before any other thread runs (see `loader.start_early`)."""
        count = workers or worker_count()
        context = multiprocessing.get_context("fork") if fork else _context()
        self._pool = ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=_warm_up)
        self._futures: list[Future[Any]] = []
        if not fork:  # workers start one per submission: all of them now, while the first batch is read
            self._futures = [self._pool.submit(_warm_up) for _ in range(count)]

    def submit(self, function: Callable[..., T], *args: object) -> Future[T]:
        """Run `function(*args)` in a worker."""
        with warnings.catch_warnings():
            # Python 3.12+ warns about forking with threads alive; numpy's BLAS pool is one,
            # and it is fork-safe (as multiprocessing's "fork" start always relied on).
            warnings.simplefilter("ignore", DeprecationWarning)
            future = self._pool.submit(function, *args)
        self._futures = [pending for pending in self._futures if not pending.done()]  # for `close`
        self._futures.append(future)
        return future

    def __enter__(self) -> ParallelReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def read(self, tasks: list[Task], max_bytes: int, vocabulary: Vocabulary) -> Iterator[ReadResult]:
        """Results of `tasks` in order; raises if the pool breaks (the caller falls back)."""
        futures = [self.submit(read_task, task, max_bytes, vocabulary.keys) for task in tasks]
        for future in futures:
            yield future.result()

    def close(self) -> None:
        """Stop: tasks not started yet never run, and nothing waits for the running ones.

        With nothing left to run (a finished load), wait for the workers to exit (a few
        ms): a pool left shutting down races the interpreter's exit, whose hook then
        wrote to the pool's closed wake-up pipe ("Exception ignored … Bad file
        descriptor", one `reader --check` in five). A cancelled load still quits at once.
        """
        if all(future.done() for future in self._futures):
            self._pool.shutdown(wait=True)
            return
        # The pool's own `cancel_futures` does nothing once the pool object is collected,
        # which can happen before its manager thread looks: quitting mid-load then waited
        # for the whole load (seconds) at interpreter exit.
        for future in self._futures:
            future.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
