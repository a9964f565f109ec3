"""The keys for an article's link: `o` opens it in a browser, `y` copies it. A mixin of
`MainScreen`; what may be opened, and how, is decided in `core.links`.
"""

from __future__ import annotations

from reader.core.links import open_in_browser
from reader.core.text import display_line
from reader.ui.plain import notify_plain
from reader.ui.screens.parts import ScreenParts


class LinkKeys(ScreenParts):
    """Actions for `o` and `y` (bound in `MainScreen.BINDINGS`)."""

    def _link_slot(self) -> int | None:
        return self.open_slot if self.open_slot is not None else self.article_list.highlighted_slot

    def action_open_link(self) -> None:
        """Open the article's link (the one its header shows) in a graphical browser."""
        slot = self._link_slot()
        if slot is None:
            return
        url = self.store.articles[slot].url
        refused = open_in_browser(url or "", on_failure=self._browser_failed)
        if refused is not None:
            notify_plain(self.app, refused.reason, severity="warning" if url else "information")
        else:
            notify_plain(self.app, url or "", title="Opened in browser")

    def _browser_failed(self, message: str) -> None:
        """Called from the thread that watches the browser."""
        self.app.call_from_thread(notify_plain, self.app, message, severity="error")

    def action_copy_link(self) -> None:
        """Copy the article's link to the clipboard (through the terminal, OSC 52)."""
        slot = self._link_slot()
        if slot is None:
            return
        url = self.store.articles[slot].url
        if not url:
            notify_plain(self.app, "This article has no link.")
            return
        shown = display_line(url)  # what the header shows is what is copied
        self.app.copy_to_clipboard(shown)
        notify_plain(self.app, shown, title="Link copied")
