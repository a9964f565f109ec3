"""What the reader remembers between runs: read and star marks, settings, search history.

One SQLite database (`state.db`, standard library, WAL mode) in `$READER_STATE_DIR`, else
`platformdirs.user_data_dir("reader")`; the folder is created 0700 and is never inside a
corpus (`forbidden`). Marks are keyed by article identity (`Record.identity`: the canonical
URL, else a hash of the post's search text), never by path.

Marking is instant: `set_read` and `set_starred` only queue, and a daemon thread writes
the queue in one transaction at least once a second (`WRITE_DELAY`), so a `kill -9` loses
at most the last second of marks. Each write touches only the field it changes, so two
readers open on one database (WAL, `busy_timeout`) never undo each other's marks.

Nothing here raises. A corrupt file is set aside as `state.db.corrupt-<time>` and a fresh
one started; a database that cannot be opened (read-only folder, a folder in the corpus)
leaves the state in memory for the session; a write that fails (full disk, locked too
long) stays queued and is tried again. Each says so, in one line, in `problem`.
Deliberately not here: applying marks to articles (`store.py`), keys and screens (`ui`).

Over the ~400-line guideline on purpose: opening (and setting a damaged file aside),
the queue and its writer thread, and the reads all share one connection's life and one
lock; split, the crash and concurrency rules would be spread over several files.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from itertools import repeat

from reader.core.files import make_private_directory

FILE_NAME = "state.db"
SCHEMA_VERSION = 1
"""`PRAGMA user_version` of the layout below; a database from a newer reader is left alone."""
WRITE_DELAY = 0.25
"""Seconds the writer waits after the first queued change, to take a burst in one transaction."""
RETRY_DELAY = 1.0
"""Seconds before a failed write is tried again (sooner on `flush`)."""
BUSY_TIMEOUT_MS = 5000
"""How long a write waits for another reader holding the database."""
HISTORY_SIZE = 100
"""Searches kept in the history; older ones are dropped."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS marks (
    identity TEXT PRIMARY KEY NOT NULL,
    read_at REAL,
    starred INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
    query TEXT PRIMARY KEY NOT NULL,
    seq INTEGER NOT NULL
);
"""
_SET_READ = (
    "INSERT INTO marks (identity, read_at, starred) VALUES (?, ?, 0) "
    "ON CONFLICT (identity) DO UPDATE SET read_at = excluded.read_at"
)
_SET_STARRED = (
    "INSERT INTO marks (identity, read_at, starred) VALUES (?, NULL, ?) "
    "ON CONFLICT (identity) DO UPDATE SET starred = excluded.starred"
)
_FORGET_BLANK = "DELETE FROM marks WHERE identity = ? AND read_at IS NULL AND starred = 0"
_SET_SETTING = (
    "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
_ADD_HISTORY = (
    "INSERT INTO history (query, seq) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM history)) "
    "ON CONFLICT (query) DO UPDATE SET seq = excluded.seq"
)
_TRIM_HISTORY = "DELETE FROM history WHERE query NOT IN (SELECT query FROM history ORDER BY seq DESC LIMIT ?)"

Mark = tuple[float | None, bool]
"""(read time in seconds since the epoch, or None for unread; starred)."""


def state_directory() -> str:
    """`READER_STATE_DIR`, else the platform's user data directory for "reader"."""
    configured = os.environ.get("READER_STATE_DIR")
    if configured:
        return configured
    import platformdirs  # imported late: one less import for the CLI paths that never need it

    return platformdirs.user_data_dir("reader")


class _Changes:
    """Changes not yet in the database: the latest value per key, in arrival order."""

    __slots__ = ("read", "starred", "settings", "history")

    def __init__(self) -> None:
        self.read: dict[str, float | None] = {}
        self.starred: dict[str, bool] = {}
        self.settings: dict[str, str] = {}
        self.history: dict[str, None] = {}
        """Queries in the order searched (a repeat moves to the end)."""

    def __bool__(self) -> bool:
        return bool(self.read or self.starred or self.settings or self.history)

    def put_back(self, newer: _Changes) -> _Changes:
        """These changes (which failed to be written) with `newer` ones on top."""
        self.read.update(newer.read)
        self.starred.update(newer.starred)
        self.settings.update(newer.settings)
        for query in newer.history:
            self.history.pop(query, None)
            self.history[query] = None
        return self


class StateStore:
    """The reader's lasting state. Every method is safe from any thread and never raises."""

    def __init__(self, directory: str | None = None, *, forbidden: Sequence[str] = ()) -> None:
        self.problem: str | None = None
        """One line saying why state is not (all) being saved, or None when all is well. Set
        when opening; a failed write sets it too, and the next write that succeeds puts
        back what opening said."""
        self._opening_problem: str | None = None
        self.path: str | None = None
        """The database file, or None when state lives in memory only."""
        self._lock = threading.Condition()
        self._queued = _Changes()
        self._in_flight = _Changes()
        """Taken by the writer, until committed (still part of what `marks` reports)."""
        self._sequence = 0  # changes queued so far
        self._written = 0  # of those, how many are committed
        self._failures = 0  # failed writes so far
        self._flush_wanted = False
        self._closing = False
        self._closed = False
        self._settings: dict[str, str] = {}
        self._history: list[str] = []
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._read_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._at_exit: Callable[[], None] | None = None
        try:
            self._open(directory, forbidden)
        except Exception as error:  # a last guard: state must never stop the reader
            self._memory_only(f"state is not saved: unexpected {type(error).__name__}")
        self._opening_problem = self.problem
        if self._writer is not None:
            self._thread = threading.Thread(target=self._run, name="reader-state", daemon=True)
            self._thread.start()
            self._at_exit = partial(_close_at_exit, weakref.ref(self))
            atexit.register(self._at_exit)

    # --- reading ---------------------------------------------------------------------

    def marks(self) -> dict[str, Mark]:
        """Every identity with a mark: (read time or None, starred). Reads the database
        (so marks written by another reader since are seen), plus changes still queued."""
        with self._lock:
            pending = _Changes().put_back(self._in_flight).put_back(self._queued)
        rows: list[tuple[str, float | None, int]] = []
        with self._read_lock:
            if self._reader is not None:
                try:
                    rows = self._reader.execute("SELECT identity, read_at, starred FROM marks").fetchall()
                except sqlite3.Error as error:
                    self.problem = _reason("marks could not be read", error)
        found = {identity: (read_at, starred == 1) for identity, read_at, starred in rows}
        for identity, read_at in pending.read.items():
            found[identity] = (read_at, found.get(identity, (None, False))[1])
        for identity, starred in pending.starred.items():
            found[identity] = (found.get(identity, (None, False))[0], starred)
        for identity in {*pending.read, *pending.starred}:
            if found[identity] == (None, False):
                del found[identity]
        return found

    def setting(self, key: str) -> str | None:
        """A saved setting (e.g. "theme"), or None."""
        with self._lock:
            return self._settings.get(key)

    def history(self) -> list[str]:
        """Earlier searches, oldest first, the last `HISTORY_SIZE`."""
        with self._lock:
            return list(self._history)

    # --- changing (queued; the writer thread saves) -----------------------------------

    def set_read(self, identities: Iterable[str], read: bool) -> None:
        """Mark articles read now, or unread (their star is kept)."""
        identities = list(identities)
        if not identities:
            return
        when = time.time() if read else None
        with self._lock:
            self._queued.read.update(zip(identities, repeat(when)))
            self._changed()

    def set_starred(self, identity: str, starred: bool) -> None:
        """Star or unstar one article."""
        with self._lock:
            self._queued.starred[identity] = bool(starred)
            self._changed()

    def set_setting(self, key: str, value: str) -> None:
        with self._lock:
            self._settings[key] = value
            self._queued.settings[key] = value
            self._changed()

    def add_history(self, query: str) -> None:
        """Remember a search; one searched before moves to the end."""
        if not query:
            return
        with self._lock:
            if query in self._history:
                self._history.remove(query)
            self._history.append(query)
            del self._history[:-HISTORY_SIZE]
            self._queued.history.pop(query, None)
            self._queued.history[query] = None
            self._changed()

    def flush(self) -> None:
        """Wait until everything queued so far is committed, or a write failed (the
        changes then stay queued and `problem` says why)."""
        with self._lock:
            wanted = self._sequence
            failures = self._failures
            if self._thread is None or self._written >= wanted:
                return
            self._flush_wanted = True
            self._lock.notify_all()
            while self._written < wanted and self._failures == failures and self._thread.is_alive():
                self._lock.wait(0.25)

    def close(self) -> None:
        """Save what is queued, stop the writer and close the database (again: nothing)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._closing = True
            self._lock.notify_all()
        thread = self._thread
        if self._at_exit is not None:
            atexit.unregister(self._at_exit)
        if thread is not None:
            thread.join()
        with self._read_lock:
            self._disconnect()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- inside ----------------------------------------------------------------------

    def _changed(self) -> None:
        """Count a change and wake the writer (the lock is held)."""
        self._sequence += 1
        self._lock.notify_all()

    def _memory_only(self, problem: str) -> None:
        """Give up on the database: state lives in this process only, and `problem` says so."""
        self.problem = problem
        self.path = None
        self._disconnect()

    def _disconnect(self) -> None:
        for connection in (self._reader, self._writer):
            if connection is not None:
                try:
                    connection.close()
                except sqlite3.Error:
                    pass
        self._reader = self._writer = None

    def _open(self, directory: str | None, forbidden: Sequence[str]) -> None:
        folder = os.path.realpath(directory or state_directory())
        inside = os.path.join(folder, "")
        for place in forbidden:
            if inside.startswith(os.path.join(os.path.realpath(place), "")):
                self._memory_only(f"state is not saved: its folder {folder} is inside a corpus")
                return
        try:
            make_private_directory(folder)
        except OSError as error:
            self._memory_only(_reason(f"state is not saved: cannot create {folder}", error))
            return
        path = os.path.join(folder, FILE_NAME)
        try:
            self._connect(path)
        except sqlite3.OperationalError as error:  # read-only, no room, locked: not damage
            self._memory_only(_reason("state is not saved", error))
            return
        except sqlite3.DatabaseError as error:  # not a database, or a damaged one
            self._disconnect()
            aside = _set_aside(path)
            if aside is None:
                self._memory_only(_reason("state is not saved: the state database is damaged", error))
                return
            try:
                self._connect(path)
            except sqlite3.Error as again:
                self._memory_only(_reason("state is not saved", again))
                return
            self.problem = f"the state database was damaged and is set aside as {os.path.basename(aside)}"
        self.path = path

    def _connect(self, path: str) -> None:
        """Open (or create) the database, with both connections; raises sqlite3.Error."""
        writer = self._writer = _connection(path)
        version = writer.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise sqlite3.OperationalError(f"the state database is from a newer reader (version {version})")
        writer.execute("PRAGMA journal_mode = WAL")  # may stay "delete" (some network mounts): fine
        writer.execute("PRAGMA synchronous = NORMAL")  # in WAL: a killed process loses nothing committed
        if writer.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("database disk image is malformed")
        writer.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        self._settings = dict(writer.execute("SELECT key, value FROM settings").fetchall())
        self._history = [query for (query,) in writer.execute("SELECT query FROM history ORDER BY seq")]
        self._reader = _connection(path)

    def _run(self) -> None:
        """The writer thread: take what is queued, write it in one transaction, repeat."""
        while True:
            with self._lock:
                if not self._wait_for_work():
                    return
                changes, self._queued = self._queued, _Changes()
                self._in_flight = changes
                sequence = self._sequence
                self._flush_wanted = False
            saved = self._write(changes)
            with self._lock:
                self._in_flight = _Changes()
                if saved:
                    self._written = sequence
                    self.problem = self._opening_problem
                else:
                    self._queued = changes.put_back(self._queued)
                    self._failures += 1
                self._lock.notify_all()
                if not saved and not self._closing:
                    self._lock.wait_for(lambda: self._flush_wanted or self._closing, RETRY_DELAY)
            if not saved and self._closing:
                return  # the database refuses: what is left is lost with the process anyway

    def _wait_for_work(self) -> bool:
        """Wait (lock held) until there is something to write and its moment has come;
        False when closing with nothing left."""
        self._lock.wait_for(lambda: bool(self._queued) or self._closing)
        if not self._queued:
            return False
        deadline = time.monotonic() + WRITE_DELAY
        while not (self._flush_wanted or self._closing):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._lock.wait(left)
        return True

    def _write(self, changes: _Changes) -> bool:
        """Write `changes` in one transaction; False (nothing written) on any failure."""
        connection = self._writer
        if connection is None:
            return False
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany(_SET_READ, changes.read.items())
                connection.executemany(_SET_STARRED, changes.starred.items())
                blank = [identity for identity, read_at in changes.read.items() if read_at is None]
                blank += [identity for identity, starred in changes.starred.items() if not starred]
                connection.executemany(_FORGET_BLANK, zip(blank))
                connection.executemany(_SET_SETTING, changes.settings.items())
                if changes.history:
                    connection.executemany(_ADD_HISTORY, zip(changes.history))
                    connection.execute(_TRIM_HISTORY, (HISTORY_SIZE,))
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:
            self.problem = _reason("marks are not being saved", error)
            return False
        except Exception as error:  # a last guard: the writer thread must live on
            self.problem = f"marks are not being saved: unexpected {type(error).__name__}"
            return False
        return True


def _connection(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), usable from any
    thread (each has its lock), that waits `BUSY_TIMEOUT_MS` for another writer."""
    connection = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return connection


def _close_at_exit(store: weakref.ref[StateStore]) -> None:
    """Save what is queued when the interpreter exits (the writer is a daemon thread)."""
    alive = store()
    if alive is not None:
        alive.close()


def _set_aside(path: str) -> str | None:
    """Rename a damaged database (and its journal files) out of the way; its new name."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = f"{path}.corrupt-{stamp}"
    number = 1
    while os.path.lexists(aside):
        number += 1
        aside = f"{path}.corrupt-{stamp}-{number}"
    try:
        os.rename(path, aside)
    except OSError:
        return None
    for suffix in ("-wal", "-shm", "-journal"):
        try:
            os.rename(path + suffix, aside + suffix)
        except OSError:
            pass
    return aside


def _reason(what: str, error: BaseException) -> str:
    """`what`, and the error's first line, as one line."""
    detail = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"{what}: {detail}"
