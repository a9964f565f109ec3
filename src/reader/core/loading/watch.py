"""Watching the corpus while the reader runs: post files added, changed or removed, told
once they have settled, in a few coalesced `Changes` rather than one message a file.

`CorpusWatcher` runs `watchfiles` (inotify on Linux, FSEvents, ReadDirectoryChanges;
polling where those are unavailable, or with `READER_WATCH_POLL=1`, for network mounts)
in a daemon thread. It keeps to what a load reads (`discovery`): post names only (a file
given by name whatever its name), nothing in or under a hidden folder, nothing whose real
path leaves the roots unless `follow_links`, never /proc, /sys or /dev. A file is told
only once its size and modification time have stayed the same for `settle` seconds, and
a post whose front matter is still open (or that is still empty) is held back until it is
closed, re-checked every `settle` seconds, for up to `HOLD_INCOMPLETE` seconds of no
change: a scraper's half-written file is never read as a broken one (one left broken that
long is told, and the read records its problem, as a load would; it is told again when it
changes). A folder moved or created in the corpus is walked for its posts (inotify only
sees what is written after it watches the folder); one moved out is told as
`removed_folders`.
Deliberately not here: reading the files (`plan.iter_changes`), the store (`Store.remove_paths`).

Over the ~400-line guideline on purpose: the filters, the settling of half-written
files and the coalescing of bursts act on one stream of events in one thread; they are
kept with it so the order of those steps can be read in one place.
"""

from __future__ import annotations

import os
import queue
import stat
import threading
import time
from codecs import BOM_UTF8
from collections.abc import Iterable
from dataclasses import dataclass, field

import watchfiles

from reader.core.frontmatter import MAX_HEADER_CHARS
from reader.core.loading.discovery import canonical_roots, is_post_name, is_pseudo, listing
from reader.core.loading.plan import iter_changes
from reader.core.loading.reading import DEFAULT_MAX_BYTES
from reader.core.store import Store

POLL_VARIABLE = "READER_WATCH_POLL"
"""Set to 1 to poll instead of using the system's notifications (network mounts)."""
POLL_DELAY_MS = 1000
"""Between two polls (each stats every file: ~0.15 s of a core at 100k files)."""
HOLD_INCOMPLETE = 10.0
"""Seconds a post whose front matter is still open may stay unchanged before it is told
anyway (and its read records the problem)."""
TICK_MS = 100
"""How often pending files are looked at again when nothing else happens."""
STEP_MS = 50
"""watchfiles' quiet time before it hands over a group of events (and checks for `close`)."""
_HEAD_BYTES = 4 * MAX_HEADER_CHARS + 8
"""Enough bytes to find the end of any header a load accepts."""


@dataclass(frozen=True, slots=True)
class Changes:
    """Post files that changed on disk, by their canonical paths (as a load spells them:
    canonical root plus the names below it). A path is in one list at most."""

    added: list[str] = field(default_factory=list)
    """New files (or files the store may hold already, moved over: `add_batch` replaces)."""
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    removed_folders: list[str] = field(default_factory=list)
    """Folders that left the corpus whole (moved away): every file below them is gone."""

    @property
    def to_read(self) -> list[str]:
        """The files to read again: added, then changed."""
        return self.added + self.changed

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.removed_folders)

    def __len__(self) -> int:
        return len(self.added) + len(self.changed) + len(self.removed) + len(self.removed_folders)


class _Pending:
    """A post file seen changing, not told yet."""

    __slots__ = ("kind", "seen", "due", "held")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        """"added", "changed" or "removed": what the first event said (a hint, see `Changes`)."""
        self.seen: tuple[int, int] | None = None
        """(size, mtime_ns) at the last look, None if it could not be stat'ed."""
        self.due = 0.0
        self.held: float | None = None
        """Since when an unchanged file has been held back as half-written."""


class CorpusWatcher:
    """Watch `roots` (made canonical) from now on, in a daemon thread; `take` the changes.

    Start it when a load starts, so nothing is missed, and apply what it tells after that
    load is in the store (a file can be told that the load reads too: adding it again
    replaces it). `close` ends the thread promptly (well under a second).
    """

    def __init__(
        self,
        roots: Iterable[str | os.PathLike[str]],
        *,
        follow_links: bool = False,
        settle: float = 0.3,
        debounce_ms: int = 200,
    ) -> None:
        self.roots = canonical_roots(roots)
        self.follow_links = follow_links
        self.settle = settle
        self.debounce_ms = debounce_ms
        self.polling = bool(os.environ.get(POLL_VARIABLE, "").strip() not in ("", "0"))
        """Whether it polls (set once it runs: also when notifications are unavailable)."""
        self.error: BaseException | None = None
        """What stopped the watch, if anything did (it then tells nothing more)."""
        self._named = {root for root in self.roots if os.path.isfile(root)}
        """Roots that are files: watched whatever their names."""
        self._inside = tuple(os.path.join(root, "") for root in self.roots)
        self._under = sorted(self._inside, key=len, reverse=True)
        """Roots with a separator, longest first: the root a path lies in."""
        self._pending: dict[str, _Pending] = {}
        self._folders: set[str] = set()
        """Visible folders in the corpus (to know a deleted path was one)."""
        self._real_folders: dict[str, str] = {}
        self._queue: queue.Queue[Changes | None] = queue.Queue()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reader-watch", daemon=True)
        self._thread.start()

    # --- the consumer's side ----------------------------------------------------------

    def take(self, timeout: float | None = None) -> Changes | None:
        """Everything told since the last call, merged into one `Changes`, waiting up to
        `timeout` seconds (None: until something comes) for the first; None when nothing
        came, or once closed."""
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        told = [first]
        while True:
            try:
                told.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if None in told or self._stop.is_set():
            self._queue.put(None)  # later calls return at once too
            return None
        return merged(changes for changes in told if changes is not None)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the watch is set up (or has failed); True when it is watching."""
        self._ready.wait(timeout)
        return self._ready.is_set() and self.error is None and self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def close(self, timeout: float = 1.0) -> None:
        """Stop watching; the thread ends within `timeout` (a step, ~50 ms, in practice)."""
        self._stop.set()
        self._queue.put(None)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def __enter__(self) -> CorpusWatcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- the thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            watched = [root for root in self.roots if not is_pseudo(root) and os.path.exists(root)]
            while watched and not self._stop.is_set():
                try:
                    self._watch(watched)
                    return
                except OSError:
                    # No notifications here (no inotify, or its watch limit reached): poll.
                    if self.polling:
                        raise
                    self.polling = True
        except BaseException as error:  # kept for the consumer; the reader goes on without
            self.error = error
        finally:
            self._ready.set()

    def _watch(self, roots: list[str]) -> None:
        for events in watchfiles.watch(
            *roots,
            watch_filter=None,
            debounce=self.debounce_ms,
            step=STEP_MS,
            stop_event=self._stop,
            rust_timeout=TICK_MS,
            yield_on_timeout=True,
            force_polling=self.polling or None,
            poll_delay_ms=POLL_DELAY_MS,
            recursive=True,
            ignore_permission_denied=True,
            raise_interrupt=False,
        ):
            if not self._ready.is_set():  # watching now: what happens meanwhile waits for us
                for root in roots:
                    if root not in self._named:
                        self._folders.update(self._walk(root, files=False)[1])
                self._ready.set()
            now = time.monotonic()
            self._real_folders.clear()  # links may have changed since
            gone_folders = self._note(events, now)
            told = self._look(now)
            if gone_folders:
                told.removed_folders.extend(gone_folders)
            if told:
                self._queue.put(told)

    def _note(self, events: set[tuple[watchfiles.Change, str]], now: float) -> list[str]:
        """Take in a group of events: post files become pending, new folders are walked.
        Returns folders that have gone."""
        gone: list[str] = []
        for change, path in sorted(events, key=lambda event: event[1]):
            if not self._visible(path):
                continue
            if path in self._named or (is_post_name(os.path.basename(path)) and path not in self._folders):
                self._pend(path, change, now)
            elif change == watchfiles.Change.deleted:
                if path in self._folders:
                    gone.append(path)
                    self._forget_folder(path)
            elif change == watchfiles.Change.added and os.path.isdir(path) and self._inside_roots(path):
                self._take_folder(path, now)
        return gone

    def _pend(self, path: str, change: watchfiles.Change, now: float) -> None:
        pending = self._pending.get(path)
        if pending is None:
            kind = {watchfiles.Change.added: "added", watchfiles.Change.deleted: "removed"}
            pending = self._pending[path] = _Pending(kind.get(change, "changed"))
        elif pending.kind == "removed" and change != watchfiles.Change.deleted:
            pending.kind = "changed"  # deleted, then written again: a replacement
        pending.seen = _stamp(path)
        pending.due = now + self.settle
        pending.held = None

    def _look(self, now: float) -> Changes:
        """Look again at the pending files that are due: tell those that settled."""
        told = Changes()
        for path, pending in list(self._pending.items()):
            if pending.due > now:
                continue
            try:
                info = os.stat(path)
            except FileNotFoundError:
                told.removed.append(path)
                del self._pending[path]
                continue
            except OSError:  # e.g. a link loop: the read says what is wrong
                info = None
            if info is not None and stat.S_ISDIR(info.st_mode):  # a folder named like a post
                del self._pending[path]
                if path not in self._named and self._inside_roots(path):
                    self._take_folder(path, now)
                continue
            seen = None if info is None else (info.st_size, info.st_mtime_ns)
            if seen != pending.seen:  # still changing: look again later
                pending.seen, pending.due, pending.held = seen, now + self.settle, None
                continue
            if info is not None and stat.S_ISREG(info.st_mode) and _half_written(path):
                if pending.held is None:
                    pending.held = now
                if now - pending.held < HOLD_INCOMPLETE:
                    pending.due = now + self.settle
                    continue
            del self._pending[path]
            (told.added if pending.kind == "added" else told.changed).append(path)
        return told

    def _take_folder(self, folder: str, now: float) -> None:
        """A folder that appeared (created, moved in): its posts are pending as added."""
        files, folders = self._walk(folder)
        self._folders.update(folders)
        for path in files:
            if path not in self._pending:
                self._pend(path, watchfiles.Change.added, now)

    def _forget_folder(self, folder: str) -> None:
        prefix = os.path.join(folder, "")
        self._folders = {known for known in self._folders if known != folder and not known.startswith(prefix)}
        for path in [path for path in self._pending if path.startswith(prefix)]:
            del self._pending[path]

    def _walk(self, top: str, *, files: bool = True) -> tuple[list[str], list[str]]:
        """Post files (unless not `files`) and visible folders at and below folder `top`,
        as a load finds them."""
        found: list[str] = []
        folders: list[str] = []
        pending = [top]
        visited: set[tuple[int, int]] = set()
        while pending:
            folder = pending.pop()
            try:
                info = os.stat(folder)
                if (info.st_dev, info.st_ino) in visited:
                    continue
                visited.add((info.st_dev, info.st_ino))
                names, others = listing(folder)
            except OSError:
                continue
            folders.append(folder)
            prefix = os.path.join(folder, "")
            if files:
                found.extend(prefix + name for name in names)
            for kind, name in others:
                path = prefix + name
                if kind == "d" or (kind in ("l", "u") and os.path.isdir(path) and self._inside_roots(path)):
                    pending.append(path)
                elif files and kind in ("l", "u") and is_post_name(name) and self._inside_roots(path):
                    found.append(path)
        return found, folders

    # --- which paths count ------------------------------------------------------------

    def _visible(self, path: str) -> bool:
        """In the corpus as a load sees it: below a root with no hidden name on the way
        (or a root itself), its real path inside the roots (unless following links)."""
        if path in self._named:
            return True
        for root in self._under:
            if path.startswith(root):
                break
        else:
            return False
        if any(name.startswith(".") for name in path[len(root) :].split(os.sep)):
            return False
        return self._inside_roots(path)

    def _inside_roots(self, path: str) -> bool:
        """Whether the real path of `path` stays inside the roots (always, with
        `follow_links`), and out of the pseudo-filesystems. One realpath per folder."""
        folder, name = os.path.split(path)
        real_folder = self._real_folders.get(folder)
        if real_folder is None:
            real_folder = self._real_folders[folder] = os.path.realpath(folder)
        real = os.path.realpath(path) if os.path.islink(path) else os.path.join(real_folder, name)
        if is_pseudo(real):
            return False
        return self.follow_links or real in self._named or os.path.join(real, "").startswith(self._inside)


def merged(told: Iterable[Changes]) -> Changes:
    """Several `Changes` in the order told as one: a path's last word counts, except that
    a file added then changed stays added, and a folder removed takes what was told below
    it before."""
    kinds: dict[str, str] = {}
    folders: dict[str, None] = {}
    for changes in told:
        for folder in changes.removed_folders:
            prefix = os.path.join(folder, "")
            for path in [path for path in kinds if path.startswith(prefix)]:
                del kinds[path]
            folders[folder] = None
        for kind, paths in (
            ("added", changes.added),
            ("changed", changes.changed),
            ("removed", changes.removed),
        ):
            for path in paths:
                if not (kind == "changed" and kinds.get(path) == "added"):
                    kinds.pop(path, None)  # moved to the end: the order told
                    kinds[path] = kind
    lists: dict[str, list[str]] = {"added": [], "changed": [], "removed": []}
    for path, kind in kinds.items():
        lists[kind].append(path)
    return Changes(lists["added"], lists["changed"], lists["removed"], list(folders))


def apply_changes(
    store: Store,
    changes: Changes,
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    parallel: bool | None = False,
) -> list[int]:
    """`changes` into `store`, all in this thread (the CLI's and the tests' way; the app
    reads in a worker and adds on the UI thread, see README): removals first, then the
    files read again. Returns the slots that left the list."""
    gone = store.remove_paths(changes.removed, folders=changes.removed_folders)
    for batch in iter_changes(changes.to_read, max_bytes, store.index.vocabulary, parallel=parallel):
        store.add_batch(batch)
    return gone


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def _half_written(path: str) -> bool:
    """A post still being written: empty, or its front matter opened and not yet closed
    (UTF-8; other encodings are taken as they are). A file that is no post at all, or
    whose header is longer than a load accepts, is not: its read says what is wrong."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return False
        data = os.read(descriptor, _HEAD_BYTES)
    except OSError:
        return False
    finally:
        os.close(descriptor)
    return is_half_written(data, complete=len(data) < _HEAD_BYTES)


def is_half_written(data: bytes, *, complete: bool = True) -> bool:
    """Whether the start of a file, `data` (all of it when `complete`), is a post whose
    writing has not finished: nothing but blanks, or a `---` line not yet followed by its
    closing `---` line."""
    data = data.removeprefix(BOM_UTF8)
    if not data.strip():
        return True
    if not data.startswith(b"---"):
        return b"---".startswith(data)
    first_end = data.find(b"\n")
    if data[3 : first_end if first_end >= 0 else len(data)].strip(b" \t\r"):
        return False  # not a front matter line: no post, whatever comes
    if first_end < 0:
        return True
    position = first_end
    while (found := data.find(b"\n---", position)) >= 0:
        line_end = data.find(b"\n", found + 1)
        if not data[found + 4 : line_end if line_end >= 0 else len(data)].strip(b" \t\r"):
            return False
        position = found + 1
    return complete
