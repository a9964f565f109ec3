"""The state store keeps marks, settings and history across runs, and never stops the reader.

Checked: a round trip through close and reopen; two processes writing one database at
once; a process killed with SIGKILL after marking; a corrupt or damaged file set aside; a
database that cannot be opened or written (state then lives in memory, with a message);
the history's cap and order; and the speed the UI counts on.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reader.core import state
from reader.core.state import HISTORY_SIZE, StateStore

URL = "http://finance.eastmoney.com/news/1344,{}.html"


def child_script(directory: Path, code: str) -> str:
    """Python source running `code` with `StateStore` imported and `directory` as `folder`."""
    head = "import os, signal, sys, time\nfrom reader.core.state import StateStore\n"
    return f"{head}folder = {str(directory)!r}\n{textwrap.dedent(code)}"


def run_child(directory: Path, code: str, *args: str) -> subprocess.Popen[str]:
    """A Python process running `child_script(directory, code)` with `args`."""
    return subprocess.Popen(
        [sys.executable, "-c", child_script(directory, code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# --- lasting --------------------------------------------------------------------------


def test_marks_settings_and_history_last_across_close_and_reopen(tmp_path: Path) -> None:
    started = time.time()
    with StateStore(str(tmp_path)) as store:
        assert store.problem is None
        store.set_read([URL.format(1), URL.format(2), URL.format(3)], True)
        store.set_starred(URL.format(2), True)
        store.set_starred(URL.format(4), True)
        store.set_read([URL.format(3)], False)
        store.set_setting("theme", "gruvbox")
        store.set_setting("layout", "wide")
        store.set_setting("theme", "nord")
        store.add_history("一刀切")
        store.add_history("芯片 5G")
    reopened = StateStore(str(tmp_path))
    marks = reopened.marks()
    assert set(marks) == {URL.format(1), URL.format(2), URL.format(4)}
    for number in (1, 2):
        read_at = marks[URL.format(number)][0]
        assert read_at is not None
        assert started - 1 <= read_at <= time.time() + 1
    assert marks[URL.format(1)][1] is False
    assert marks[URL.format(2)][1] is True
    assert marks[URL.format(4)] == (None, True)
    assert reopened.setting("theme") == "nord"
    assert reopened.setting("layout") == "wide"
    assert reopened.setting("missing") is None
    assert reopened.history() == ["一刀切", "芯片 5G"]
    assert reopened.problem is None
    reopened.close()


def test_unread_keeps_the_star_and_a_blank_mark_is_forgotten(tmp_path: Path) -> None:
    store = StateStore(str(tmp_path))
    store.set_read(["a", "b"], True)
    store.set_starred("a", True)
    store.flush()
    store.set_read(["a", "b"], False)
    assert store.marks() == {"a": (None, True)}  # queued: seen at once
    store.flush()
    assert store.marks() == {"a": (None, True)}
    store.set_starred("a", False)
    store.close()
    with sqlite3.connect(tmp_path / "state.db") as connection:
        assert connection.execute("SELECT COUNT(*) FROM marks").fetchone() == (0,)


def test_flush_commits_what_was_queued(tmp_path: Path) -> None:
    store = StateStore(str(tmp_path))
    store.set_read([f"r{n}" for n in range(300)], True)
    store.set_starred("s", True)
    store.add_history("q")
    store.flush()
    with sqlite3.connect(tmp_path / "state.db") as connection:  # another reader sees it all now
        assert connection.execute("SELECT COUNT(*) FROM marks").fetchone() == (301,)
        assert connection.execute("SELECT query FROM history").fetchall() == [("q",)]
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    store.close()


def test_marks_queued_are_seen_before_they_are_written(tmp_path: Path) -> None:
    store = StateStore(str(tmp_path))
    store.set_read(["a"], True)
    store.set_starred("b", True)
    marks = store.marks()
    assert marks["a"][0] is not None
    assert marks["b"] == (None, True)
    store.close()


def test_the_folder_is_private_and_the_environment_chooses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "deep" / "state"
    monkeypatch.setenv("READER_STATE_DIR", str(folder))
    with StateStore() as store:
        assert store.path == str(folder / "state.db")
        store.set_read(["a"], True)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert StateStore(str(folder)).marks().keys() == {"a"}


def test_close_is_idempotent_and_nothing_raises_after_it(tmp_path: Path) -> None:
    store = StateStore(str(tmp_path))
    store.set_read(["a"], True)
    store.close()
    store.close()
    store.set_read(["b"], True)
    store.flush()
    assert "b" in store.marks()
    store.close()


# --- two readers, and a killed one ------------------------------------------------------

ROUNDS = 200
WRITER = f"""
store = StateStore(folder)
name = sys.argv[1]
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # both start together
began = time.time()
for round in range({ROUNDS}):
    store.set_read([f"{{name}}-{{round}}-{{n}}" for n in range(25)], True)
    if name == "reader":
        store.set_read([f"shared-{{round}}"], True)
    else:
        store.set_starred(f"shared-{{round}}", True)
    store.set_setting(name, str(round))
    store.flush()  # a transaction each round, to meet the other process's
ended = time.time()
store.close()
print(store.problem, began, ended)
"""


def test_two_processes_write_one_database_at_once_and_lose_nothing(tmp_path: Path) -> None:
    StateStore(str(tmp_path)).close()  # both open an existing database
    start = str(time.time() + 1.0)
    children = [run_child(tmp_path, WRITER, name, start) for name in ("reader", "starrer")]
    spans = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        problem, began, ended = out.split()
        assert problem == "None", out
        spans.append((float(began), float(ended)))
    assert max(began for began, _ in spans) < min(ended for _, ended in spans)  # they did overlap
    store = StateStore(str(tmp_path))
    marks = store.marks()
    for name in ("reader", "starrer"):
        assert all(f"{name}-{r}-{n}" in marks for r in range(ROUNDS) for n in range(25))
        assert store.setting(name) == str(ROUNDS - 1)
    for round in range(ROUNDS):  # each process changed only its own field of a shared mark
        read_at, starred = marks[f"shared-{round}"]
        assert read_at is not None and starred, round
    assert len(marks) == 2 * ROUNDS * 25 + ROUNDS
    store.close()


def test_a_killed_process_keeps_what_it_marked_a_second_before(tmp_path: Path) -> None:
    child = run_child(
        tmp_path,
        """
        store = StateStore(folder)
        store.set_read([f"read-{n}" for n in range(500)], True)
        for n in range(50):
            store.set_starred(f"starred-{n}", True)
        store.set_setting("theme", "nord")
        store.add_history("罗俊杰 红黄蓝")
        time.sleep(1.5)
        os.kill(os.getpid(), signal.SIGKILL)
        """,
    )
    _, err = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL, err
    store = StateStore(str(tmp_path))
    assert store.problem is None
    marks = store.marks()
    assert all(marks[f"read-{n}"][0] is not None for n in range(500))
    assert all(marks[f"starred-{n}"] == (None, True) for n in range(50))
    assert store.setting("theme") == "nord"
    assert store.history() == ["罗俊杰 红黄蓝"]
    store.close()


# --- damage and refusal -----------------------------------------------------------------


def test_a_corrupt_file_is_set_aside_and_a_fresh_one_started(tmp_path: Path) -> None:
    garbage = bytes(range(256)) * 64
    (tmp_path / "state.db").write_bytes(garbage)
    store = StateStore(str(tmp_path))
    assert store.problem is not None
    assert "damaged" in store.problem and "state.db.corrupt-" in store.problem
    (aside,) = tmp_path.glob("state.db.corrupt-*")
    assert aside.read_bytes() == garbage
    assert store.path == str(tmp_path / "state.db")
    store.set_read(["a"], True)
    store.close()
    again = StateStore(str(tmp_path))
    assert again.problem is None
    assert set(again.marks()) == {"a"}
    again.close()


def test_a_damaged_database_is_found_at_open(tmp_path: Path) -> None:
    """A file with a good header and broken pages is damage too, not a database to use."""
    with StateStore(str(tmp_path)) as store:
        store.set_read([URL.format(n) for n in range(5000)], True)
    path = tmp_path / "state.db"
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(2 * page, len(data) - page, 3 * page):
        data[start + 8 : start + page] = os.urandom(page - 8)
    path.write_bytes(bytes(data))
    store = StateStore(str(tmp_path))
    assert store.problem is not None and "damaged" in store.problem
    assert len(list(tmp_path.glob("state.db.corrupt-*"))) == 1
    assert store.marks() == {}
    store.set_starred("b", True)
    store.close()
    assert StateStore(str(tmp_path)).marks() == {"b": (None, True)}


def test_a_database_that_cannot_be_opened_keeps_state_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only folder or a full disk (chmod does not stop root, so connect is made to fail)."""

    def refuse(*args: object, **kwargs: object) -> sqlite3.Connection:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    with StateStore(str(tmp_path)) as earlier:
        earlier.set_read(["kept"], True)
    monkeypatch.setattr(state.sqlite3, "connect", refuse)
    store = StateStore(str(tmp_path))
    assert store.problem is not None and "readonly" in store.problem
    assert "damaged" not in store.problem
    assert store.path is None
    assert list(tmp_path.glob("state.db.corrupt-*")) == []  # not damage: left as it is
    store.set_read(["a", "b"], True)
    store.set_starred("b", True)
    store.set_read(["a"], False)
    store.set_setting("theme", "nord")
    store.add_history("q")
    store.flush()
    assert store.marks().keys() == {"b"}
    assert store.marks()["b"][1] is True
    assert store.setting("theme") == "nord"
    assert store.history() == ["q"]
    store.close()
    store.close()
    monkeypatch.undo()
    assert StateStore(str(tmp_path)).marks().keys() == {"kept"}


def test_a_database_locked_too_long_at_open_is_not_taken_for_damage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with StateStore(str(tmp_path)) as earlier:
        earlier.set_starred("kept", True)
    monkeypatch.setattr(state, "BUSY_TIMEOUT_MS", 100)
    blocker = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    store = StateStore(str(tmp_path))
    blocker.execute("ROLLBACK")
    blocker.close()
    assert store.problem is not None and "locked" in store.problem
    assert list(tmp_path.glob("state.db.corrupt-*")) == []
    store.set_read(["a"], True)
    assert store.marks().keys() == {"a"}  # this session: in memory
    store.close()
    assert StateStore(str(tmp_path)).marks() == {"kept": (None, True)}


def test_a_failed_write_stays_queued_and_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state, "BUSY_TIMEOUT_MS", 100)
    store = StateStore(str(tmp_path))
    blocker = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock for long
    store.set_read(["a"], True)
    store.set_starred("b", True)
    started = time.monotonic()
    store.flush()  # returns on the failure: never hangs, never raises
    assert time.monotonic() - started < 5
    assert store.problem is not None and "locked" in store.problem
    assert set(store.marks()) == {"a", "b"}
    blocker.execute("ROLLBACK")
    blocker.close()
    store.flush()
    assert store.problem is None  # saving again: the message goes
    store.close()
    reopened = StateStore(str(tmp_path))
    assert set(reopened.marks()) == {"a", "b"}
    reopened.close()


def test_a_folder_inside_a_corpus_is_refused(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "state").mkdir(parents=True)
    store = StateStore(str(corpus / "state"), forbidden=[str(corpus)])
    assert store.problem is not None and "inside a corpus" in store.problem
    assert store.path is None
    store.set_read(["a"], True)
    store.close()
    assert list((corpus / "state").iterdir()) == []
    beside = StateStore(str(tmp_path / "corpus-state"), forbidden=[str(corpus)])  # a prefix is not inside
    assert beside.problem is None
    beside.close()


# --- history ----------------------------------------------------------------------------


def test_history_keeps_the_last_hundred_without_repeats(tmp_path: Path) -> None:
    store = StateStore(str(tmp_path))
    for number in range(150):
        store.add_history(f"q{number}")
    store.add_history("q60")  # searched again: moves to the end
    store.add_history("q149")
    store.add_history("")
    expected = [f"q{number}" for number in range(50, 149) if number != 60] + ["q60", "q149"]
    assert len(expected) == HISTORY_SIZE
    assert store.history() == expected
    store.close()
    with StateStore(str(tmp_path)) as reopened:
        assert reopened.history() == expected
        reopened.add_history("q51")
        reopened.add_history("new")
        expected = [query for query in expected[1:] if query != "q51"] + ["q51", "new"]
        assert reopened.history() == expected
    assert StateStore(str(tmp_path)).history() == expected


# --- speed ------------------------------------------------------------------------------


def test_marks_of_100k_articles_come_back_fast(tmp_path: Path) -> None:
    identities = [URL.format(202203010000000000 + n) for n in range(100_000)]
    with StateStore(str(tmp_path)) as store:
        started = time.perf_counter()
        store.set_read(identities, True)
        assert time.perf_counter() - started < 0.3  # mark-all on 100k: queued, not written
        for identity in identities[::10]:
            store.set_starred(identity, True)
    store = StateStore(str(tmp_path))
    best = min(_timed(store.marks) for _ in range(3))
    assert best < 0.5, f"marks() took {best:.3f} s for 100k"  # ~0.08 s on one core
    marks = store.marks()
    assert len(marks) == 100_000
    assert marks[identities[10]][1] is True and marks[identities[11]][1] is False
    started = time.perf_counter()
    for identity in identities[:1000]:
        store.set_read([identity], False)
    per_call = (time.perf_counter() - started) / 1000
    assert per_call < 0.001, f"set_read took {per_call * 1e6:.0f} µs a call"  # ~2 µs
    store.close()


def _timed(call: object) -> float:
    started = time.perf_counter()
    call()  # type: ignore[operator]
    return time.perf_counter() - started
