"""Untrusted text onto the screen: always as plain `Text`, never as markup.

Textual parses a `str` as markup almost everywhere (toasts, borders, palette help, option
prompts, `Static`), and `textual.markup.escape` misses tag forms such as `[$var]`,
`[B]` or `[@click=…]` inside `[$…]`: a post's title could then style the screen, crash
the parser or bind a click to an app action. Every corpus, cache or path string goes
through here on its way to a widget. Deliberately not here: what is shown (screens).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text

from reader.core.text import display_line

if TYPE_CHECKING:
    from textual.app import App
    from textual.notifications import SeverityLevel


def plain(text: str, style: str | Style = "") -> Text:
    """`text` as one line of display-safe, never-parsed `Text`."""
    return Text(display_line(text), style=style, end="")


def notify_plain(
    app: App[object],
    message: str,
    *,
    title: str = "",
    severity: SeverityLevel = "information",
    timeout: float | None = None,
) -> None:
    """A toast whose message and title are shown exactly as given (made display-safe)."""
    app.notify(
        display_line(message), title=display_line(title), severity=severity, timeout=timeout, markup=False
    )
