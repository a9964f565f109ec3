"""A load running in a thread, handed over to its consumer (the app) by a queue.

The TUI starts one before it imports Textual, so finding files and reading the newest
posts overlap the ~0.5 s of imports and start-up instead of following them.
Deliberately not here: what a load does (`plan.py`).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterable, Iterator

from reader.core.loading.discovery import canonical_roots
from reader.core.loading.early import EarlyStart
from reader.core.loading.plan import iter_load
from reader.core.loading.reading import DEFAULT_MAX_BYTES
from reader.core.records import Batch


class BackgroundLoad:
    """`iter_load` running in a thread from now on; its batches wait in a queue.

    The TUI starts one before it imports Textual, so finding files and reading the newest
    posts overlap the ~0.5 s of imports and start-up instead of following them (and do
    not queue behind the UI thread for the interpreter lock while it draws). Its roots
    are made canonical at once; `follow_links` as for `iter_load`.
    """

    def __init__(
        self,
        paths: Iterable[str | os.PathLike[str]],
        max_bytes: int = DEFAULT_MAX_BYTES,
        *,
        use_cache: bool = True,
        cache_dir: str | os.PathLike[str] | None = None,
        early: EarlyStart | None = None,
        follow_links: bool = False,
    ) -> None:
        self._queue: queue.Queue[Batch | BaseException | None] = queue.Queue()
        self._cancelled = threading.Event()
        self._shown = threading.Event()
        arguments = (canonical_roots(paths), max_bytes, use_cache, cache_dir, early, follow_links)
        # Not a daemon: quitting right after a load must let the cache write finish (a
        # cancelled load stops at its next batch and writes nothing).
        threading.Thread(target=self._run, args=arguments, name="reader-load").start()

    def _run(
        self,
        paths: list[str],
        max_bytes: int,
        use_cache: bool,
        cache_dir: str | os.PathLike[str] | None,
        early: EarlyStart | None,
        follow_links: bool,
    ) -> None:
        try:
            waited = False
            for batch in iter_load(
                paths,
                max_bytes,
                use_cache=use_cache,
                cache_dir=cache_dir,
                early=early,
                follow_links=follow_links,
            ):
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
