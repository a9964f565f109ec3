"""Opening an article's link: which links may be opened, and how, without touching the terminal.

The URL itself is decided once, by the loader (`body.find_url`, cleaned into the record);
the reading pane shows that same string and `o` hands exactly it to a browser, or refuses
with a reason. A link opens only when it is an http(s) URL that parses, fits on a command
line and looks on screen as it is; the browser is started in a session of its own with
no terminal (a console browser cannot fight the app for the tty) and is never waited for.
Deliberately not here: finding the URL in a body (`body.py`), any widget.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from shutil import which as find_program
from urllib.parse import urlsplit

from reader.core.text import display_line

MAX_URL_CHARS = 8192
"""Longer links are refused: browsers and command lines handle them badly (E2BIG)."""
CONSOLE_BROWSERS = frozenset(
    {
        "lynx",
        "w3m",
        "links",
        "links2",
        "elinks",
        "www-browser",
        "browsh",
        "carbonyl",
        "netrik",
        "retawq",
        "edbrowse",
        "amfora",
        "chawan",
        "cha",
    }
)
"""Browsers that draw in the terminal: they would take over the reader's own tty."""
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "busybox", "fish"})
"""POSIX-style shells: a URL put into their command line is quoted first."""
OTHER_SHELLS = frozenset({"cmd", "cmd.exe", "powershell", "powershell.exe", "pwsh", "pwsh.exe"})
"""Shells whose quoting rules differ: a `$BROWSER` running one is refused."""
GRAPHICAL_OPENERS = (
    ("xdg-open",),
    ("gio", "open"),
    ("x-www-browser",),
    ("firefox",),
    ("chromium",),
    ("chromium-browser",),
    ("google-chrome",),
)
"""What opens a URL on a Linux/BSD desktop, in order of preference."""
FAILURE_WAIT = 5.0
"""Seconds to watch a started browser for a quick failure worth reporting."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A link that is not opened, and a one-line reason to show."""

    reason: str


def refusal(url: str | None) -> Refusal | None:
    """Why `url` must not be opened, or None when it may be."""
    if not url:
        return Refusal("This article has no link.")
    if len(url) > MAX_URL_CHARS:
        return Refusal(f"This link is {len(url):,} characters long, too long to hand to a browser.")
    shown = display_line(url)[:200]
    if display_line(url) != url or any(char.isspace() for char in url):
        return Refusal(f"Refused a link with hidden or blank characters: {shown}")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return Refusal(f"Refused a malformed link: {shown}")
    if parts.scheme.lower() not in ("http", "https"):
        return Refusal(f"Refused to open a non-web link: {shown}")
    if not host:
        return Refusal(f"Refused a link without a host: {shown}")
    return None


def browser_command(
    url: str,
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    which: Callable[[str], str | None] | None = None,
) -> list[str] | Refusal:
    """The argv that opens `url` in a graphical browser here, or why there is none.

    `$BROWSER` (entries separated by the path separator, `%s` standing for the URL) comes
    first, as for Python's `webbrowser`, except that console browsers are refused.
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    which = which or find_program
    console: list[str] = []
    for entry in filter(None, environ.get("BROWSER", "").split(os.pathsep)):
        try:
            words = shlex.split(entry)
        except ValueError:
            continue
        if not words or which(words[0]) is None:
            continue
        program = os.path.basename(words[0]).lower()
        if program in CONSOLE_BROWSERS:
            console.append(program)
            continue
        if "%s" not in entry:
            return [*words, url]
        if program in SHELLS:  # `sh -c "firefox %s"`: the URL must reach the shell as one word
            return [word.replace("%s", shlex.quote(url)) for word in words]
        if program in OTHER_SHELLS:
            return Refusal(
                f"$BROWSER runs {program}, which would read the link as commands; "
                "set it to the browser itself."
            )
        return [word.replace("%s", url) for word in words]
    copy_hint = "copy the link with y instead"
    if console:
        return Refusal(
            f"$BROWSER is a console browser ({console[0]}), which would take over this terminal; {copy_hint}."
        )
    if platform == "darwin":
        return ["open", url]
    if platform == "win32":
        return ["explorer", url]
    if not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")):
        return Refusal(f"No graphical display to open a browser on; {copy_hint}.")
    for opener in GRAPHICAL_OPENERS:
        if which(opener[0]) is not None:
            return [*opener, url]
    return Refusal(f"No browser found; {copy_hint}.")


def open_in_browser(url: str, on_failure: Callable[[str], None] | None = None) -> Refusal | None:
    """Start a browser on `url` without waiting for it; None once started, else why not.

    The browser gets a new session and /dev/null for its input and output, so it can
    neither read keys meant for the reader nor draw over it. `on_failure` is called
    (from another thread) when it exits with an error soon after starting.
    """
    refused = refusal(url)
    if refused is not None:
        return refused
    command = browser_command(url)
    if isinstance(command, Refusal):
        return command
    try:
        process = subprocess.Popen(  # an argv list: never a shell
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as error:
        return Refusal(f"Could not start {os.path.basename(command[0])}: {error.strerror or error}")
    threading.Thread(
        target=_watch, args=(process, command[0], on_failure), daemon=True, name="reader-browser"
    ).start()
    return None


def _watch(process: subprocess.Popen[bytes], program: str, on_failure: Callable[[str], None] | None) -> None:
    """Reap the browser process; report a quick failure."""
    try:
        code = process.wait(FAILURE_WAIT)
    except subprocess.TimeoutExpired:
        process.wait()  # still running: a browser window is up; reap it when it ends
        return
    if code and on_failure is not None:
        on_failure(f"{os.path.basename(program)} could not open the link (exit status {code}).")
