"""The TUI process and its terminal: end when the terminal goes away, and end for good.

A reader left running with no terminal (its tmux session killed, its ssh connection
dropped) costs memory and a core for nothing, and nobody can quit it. A hang-up signal,
or the terminal failing under us, makes the app exit. Quitting must also end the
process: the load runs in a thread that is not a daemon (so a finished load's cache
write completes), and a thread stuck in a system call must not keep the process alive.
Deliberately not here: anything Textual (the app is only asked to exit).
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

HANGUP_STATUS = 129
"""Exit status after a hang-up, as a shell reports a command ended by SIGHUP."""
TERMINAL_POLL = 1.0
"""Seconds between checks that the terminal is still there."""
GRACE = 3.0
"""Seconds the app gets to exit on its own before the process ends anyway."""
LOAD_GRACE = 5.0
"""Seconds a finished app waits for the load thread (a cache being written) at exit."""
_GONE = {errno.EIO, errno.ENXIO, errno.EBADF}
"""What asking a hung-up terminal for its foreground group fails with (ENOTTY only means
it is not our controlling terminal, as under `setsid`: that one is never watched)."""


@contextmanager
def ending_with_terminal(app: Any) -> Iterator[None]:
    """While the app runs: a hang-up or a vanished terminal makes it exit."""
    stopped = threading.Event()

    def hang_up() -> None:
        if stopped.is_set():
            return
        stopped.set()
        # First the deadline: asking the app to exit waits for its event loop, which a
        # read stuck on a dead network file system could be blocking.
        threading.Thread(target=_exit_after, args=(GRACE,), name="reader-deadline", daemon=True).start()
        try:
            app.call_from_thread(app.exit, return_code=HANGUP_STATUS)
        except Exception:  # the app's loop is gone already
            pass

    def on_signal(number: int, frame: object) -> None:
        threading.Thread(target=hang_up, name="reader-hangup", daemon=True).start()

    previous = _install(signal.SIGHUP, on_signal) if hasattr(signal, "SIGHUP") else None
    terminal = _controlling_terminal()
    if terminal is not None:
        threading.Thread(
            target=_watch_terminal, args=(terminal, stopped, hang_up), name="reader-tty", daemon=True
        ).start()
    try:
        yield
    finally:
        stopped.set()
        if previous is not None:
            _install(signal.SIGHUP, previous)


def _install(number: int, handler: Any) -> Any:
    try:
        return signal.signal(number, handler)
    except ValueError:  # not the main thread (tests): no signal handling
        return None


def _exit_after(seconds: float) -> None:
    time.sleep(seconds)
    os._exit(HANGUP_STATUS)  # the app did not manage to exit: nobody can use it


def _controlling_terminal() -> int | None:
    """The descriptor of stdin or stdout when it is our controlling terminal, else None."""
    for stream in (sys.__stdin__, sys.__stdout__):
        try:
            if stream is not None and os.isatty(stream.fileno()):
                os.tcgetpgrp(stream.fileno())  # fails unless it is our controlling terminal
                return stream.fileno()
        except (OSError, ValueError):
            continue
    return None


def terminal_gone(fd: int) -> bool:
    """Whether the terminal on `fd` has hung up (its session ended, its pty closed)."""
    try:
        os.tcgetpgrp(fd)
    except OSError as error:
        return error.errno in _GONE
    return False


def _watch_terminal(fd: int, stopped: threading.Event, hang_up: Any) -> None:
    while not stopped.wait(TERMINAL_POLL):
        if terminal_gone(fd):
            hang_up()
            return


LOAD_THREAD = "reader-load"
"""The name of the thread that runs a corpus load (see `loader.BackgroundLoad`)."""


def finish_load_then_exit(code: int) -> None:
    """After the app: give the load thread (a cache being written) a moment to end, then
    end the process at once if it has not, so interpreter exit cannot wait on it forever.
    Other threads (idle pool workers) end by themselves at exit."""
    deadline = time.monotonic() + LOAD_GRACE
    loads = [thread for thread in threading.enumerate() if thread.name == LOAD_THREAD]
    for thread in loads:
        thread.join(max(deadline - time.monotonic(), 0))
    if any(thread.is_alive() for thread in loads):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
