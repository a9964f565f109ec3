"""A corpus that updates itself: the watcher's changes taken into the running app.

A mixin of `MainScreen`. One `CorpusWatcher` per app (started with the first load, kept
across Ctrl+R, closed on quit) hands settled changes to a thread worker, which reads the
changed files off the UI thread; the UI thread then drops removed articles, adds the new
and re-read ones, and redraws without moving the selection or the scroll position. The
status line counts what is new; `g` goes to the newest.
The watch starts once the first load is over (setting it up walks the corpus holding the
interpreter lock); posts that arrived meanwhile are found by listing the corpus again.
Deliberately not here: watching and reading (`core.loading.watch`, `core.loading.plan`).
"""

from __future__ import annotations

import threading
import time

from reader.core.loading.discovery import discover
from reader.core.loading.plan import iter_changes
from reader.core.loading.watch import Changes, CorpusWatcher, merged
from reader.core.records import Batch
from reader.core.store import Store
from reader.ui.plain import notify_plain
from reader.ui.screens.parts import ScreenParts

WATCH_TAKE = 0.5
"""Seconds the watch worker waits for changes before looking whether it should stop."""
WATCH_READY = 30.0
"""Seconds to wait for the watch to be set up (a huge corpus on a slow disk)."""


class LiveCorpus(ScreenParts):
    """Starts the watcher and applies what it sees (see the module docstring)."""

    # MainScreen's, beyond what ScreenParts declares:
    paths: list[str]
    follow_links: bool
    max_bytes: int
    is_loading: bool
    new_count: int
    new_slots: set[int]
    _restore_slot: int | None
    keep_shown: bool

    _watcher: CorpusWatcher | None = None

    def start_watching(self) -> None:
        """Watch the corpus folders, once per app (a reload keeps the same watcher)."""
        if self._watcher is not None:
            return
        try:
            self._watcher = CorpusWatcher(self.paths, follow_links=self.follow_links)
        except Exception as error:  # noqa: BLE001 - a reader that does not update is still a reader
            notify_plain(self.app, f"Not watching the corpus for changes: {error}", severity="warning")
            return
        # A plain daemon thread, not a Textual worker: it lives as long as the app, and
        # waiting for the app's workers to finish must not wait for it.
        threading.Thread(
            target=self._watch_corpus, args=(self._watcher,), name="reader-watch", daemon=True
        ).start()

    def stop_watching(self) -> None:
        if self._watcher is not None:
            self._watcher.close()

    def _watch_corpus(self, watcher: CorpusWatcher) -> None:
        """Take settled changes, read them here, hand them to the UI thread."""
        try:
            self._watch_loop(watcher)
            stopped = watcher.error  # None: closed on quit, nothing to say
        except Exception as error:  # noqa: BLE001 - the app may be gone; else say what stopped
            stopped = error
        if stopped is None:
            return
        try:
            self.app.call_from_thread(
                notify_plain, self.app, f"Stopped watching the corpus: {stopped}", severity="warning"
            )
        except Exception:  # noqa: BLE001 - the app has ended
            pass

    def _watch_loop(self, watcher: CorpusWatcher) -> None:
        waiting: list[Changes] = []
        if watcher.wait_ready(WATCH_READY):
            waiting.append(self._missed(watcher))
        while watcher.running:
            changes = watcher.take(timeout=WATCH_TAKE)
            if changes:
                waiting.append(changes)
            if not waiting or self.is_loading:  # a load in progress reads them anyway
                continue
            store = self.store
            changes = merged(waiting)  # in the order they were told: added then gone is gone
            waiting.clear()
            batches = list(
                iter_changes(changes.to_read, self.max_bytes, store.index.vocabulary, parallel=False)
            )
            self.app.call_from_thread(self.take_changes, store, changes, batches)

    def _missed(self, watcher: CorpusWatcher) -> Changes:
        """Posts that arrived between the load's listing and the watch's start (it starts
        once the load is over): found by listing again, not yet known to the store."""
        entries, _ = discover(watcher.roots, follow_links=self.follow_links)
        known = self.store.known_paths()
        found = {entry.path for entry in entries}
        return Changes(
            added=[path for path in found if path not in known],
            removed=[path for path in known if path not in found],
        )

    def take_changes(self, store: Store, changes: Changes, batches: list[Batch]) -> None:
        """Apply read changes to the store and redraw, keeping selection and scroll."""
        if store is not self.store:
            return  # a reload replaced this store, and read these files itself
        highlighted = self.article_list.highlighted_slot
        old = {
            slot: (store.articles[slot].path, store.articles[slot].identity)
            for slot in (highlighted, self.open_slot)
            if slot is not None
        }
        store.remove_paths(changes.removed, folders=changes.removed_folders)
        for batch in batches:
            store.add_batch(batch)
        added = {slot for path in changes.added if (slot := store.slot_of_path(path)) is not None}
        # New since the user last looked at the top, and still there (a new post removed
        # again is not news any more).
        self.new_slots = {slot for slot in self.new_slots | added if store.is_alive(slot)}
        self.new_count = len(self.new_slots)
        self._follow(store, highlighted, old)
        self.keep_shown = True
        try:
            self.refresh_views()
        finally:
            self.keep_shown = False
        self.update_status()

    def _follow(self, store: Store, highlighted: int | None, old: dict[int, tuple[str, str]]) -> None:
        """A highlighted or open article whose file changed, or that a newer copy replaced,
        moves to its new slot; an open one that went away says so."""
        if highlighted is not None and not store.is_alive(highlighted):
            moved = _successor(store, *old[highlighted])
            if moved is not None:
                self._restore_slot = moved  # the redraw that follows keeps it highlighted
        if self.open_slot is not None and not store.is_alive(self.open_slot):
            moved = _successor(store, *old[self.open_slot])
            if moved is not None:
                self.open_article(moved)
            else:
                self.open_slot = None
                self.reading_pane.show_message(f"This article's file was removed ({time.strftime('%H:%M')}).")


def _successor(store: Store, path: str, identity: str) -> int | None:
    """The live slot that took over from an article: its file read again, else another
    copy of the same article."""
    for slot in (store.slot_of_path(path), store.slot_of(identity)):
        if slot is not None and store.is_alive(slot):
            return slot
    return None
