"""The process: bad options and empty queries, exit statuses, cached text on the way out,
and a reader that ends with its terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from textual.app import App

from reader.cli import main, run_app, run_search
from reader.core.loading.plan import load_store
from reader.core.models import record_of
from reader.terminal import HANGUP_STATUS

REPOSITORY = Path(__file__).resolve().parents[1]
SAMPLE = REPOSITORY / "sample_data"


@pytest.mark.parametrize("query", ["   ", "\x01\x02", "\udcff", "\u3000\t"])
def test_an_empty_query_is_an_error(query: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--search", query, str(SAMPLE)])
    assert stopped.value.code == 2
    assert "query is empty" in capsys.readouterr().err


@pytest.mark.parametrize("size", ["nan", "inf", "-1", "0", "-inf", "1e400", "abc"])
def test_max_size_must_be_a_sensible_number(size: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--check", "--max-size", size, str(SAMPLE)])
    assert stopped.value.code == 2
    assert "--max-size" in capsys.readouterr().err


def test_search_output_cleans_text_that_came_from_a_cache(capsys: pytest.CaptureFixture[str]) -> None:
    store = load_store([SAMPLE], use_cache=False)
    slot = int(store.order()[0])
    article = store.articles[slot]
    # A planted cache can hold anything: put escapes where a fresh load never would.
    planted = article.__class__(
        article.identity,
        article.path,
        "\x1b]0;pwned\x07标题\x1b[2J",
        article.date,
        article.source_id,
        "源\x9b31m",
        article.url,
    )
    store._records[slot] = record_of(planted)
    assert run_search(store, article.title) == 0  # the index still has the real text
    out = capsys.readouterr().out
    assert "标题" in out and "源31m" in out
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out


class Failing(App[None]):
    def on_mount(self) -> None:
        raise RuntimeError("boom")


def test_an_internal_error_exits_non_zero() -> None:
    code = run_app(Failing(), headless=True, exit_hard=False)
    assert code != 0


def _take_terminal() -> None:
    """In the child, after `setsid`: make stdin (the pty) the controlling terminal, as a
    terminal emulator or tmux does for the program in a pane."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def spawn_on_terminal(*argv: str) -> tuple[int, subprocess.Popen[bytes]]:
    """Run `argv` as a session leader whose controlling terminal is a new pseudo-terminal;
    returns (master fd, process). Closing the master hangs the terminal up."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    process = subprocess.Popen(
        list(argv),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=_take_terminal,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    return master, process


def drain_until(master: int, needle: bytes, seconds: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + seconds
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                seen += os.read(master, 65536)
            except OSError:
                break
    return seen


@pytest.mark.skipif(sys.platform != "linux", reason="pseudo-terminals as on Linux")
@pytest.mark.parametrize("hangup", ["default", "ignored"])
def test_the_reader_ends_when_its_terminal_goes_away(hangup: str) -> None:
    # With SIGHUP ignored (nohup, some shells and make set-ups), only noticing the
    # terminal itself is gone can end the reader.
    trap = "trap '' HUP; " if hangup == "ignored" else ""
    command = f'{trap}exec "{sys.executable}" -m reader --no-cache "{SAMPLE}"'
    master, process = spawn_on_terminal("/bin/sh", "-c", command)
    try:
        screen = drain_until(master, "文章".encode(), 30)
        assert "文章".encode() in screen, screen[-500:]
        os.close(master)  # the terminal hangs up, as when its tmux session is killed
        code = process.wait(timeout=15)
        assert code == HANGUP_STATUS or code == -signal.SIGHUP
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.skipif(sys.platform != "linux", reason="pseudo-terminals as on Linux")
def test_a_hung_up_terminal_is_noticed_without_the_signal() -> None:
    # What the watcher relies on when SIGHUP never arrives (it went to another process
    # group, or something swallowed it): the terminal itself says it is gone.
    probe = (
        "import signal, sys, time\n"
        "from reader.terminal import terminal_gone\n"
        "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
        "print('alive' if not terminal_gone(0) else 'gone-early', flush=True)\n"
        "deadline = time.monotonic() + 10\n"
        "while not terminal_gone(0) and time.monotonic() < deadline: time.sleep(0.05)\n"
        "sys.exit(7 if terminal_gone(0) else 3)\n"
    )
    master, process = spawn_on_terminal(sys.executable, "-c", probe)
    try:
        assert b"alive" in drain_until(master, b"alive", 20)
        os.close(master)
        assert process.wait(timeout=15) == 7
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_stuck_load_thread_does_not_keep_the_process(tmp_path: Path) -> None:
    script = (
        "import threading, time\n"
        "from reader import terminal\n"
        "terminal.LOAD_GRACE = 0.5\n"
        "threading.Thread(target=time.sleep, args=(60,), name=terminal.LOAD_THREAD).start()\n"
        "terminal.finish_load_then_exit(4)\n"
    )
    begun = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], timeout=30)
    assert done.returncode == 4 and time.monotonic() - begun < 20
