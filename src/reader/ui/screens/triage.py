"""The keys that triage articles: read, unread, starred, unread only, next unread, mark
all read and its undo. A mixin of `MainScreen`, which owns the state these act on.

The marks themselves change in `core.marking` (store at once, state store in the
background); this only picks the article a key means and redraws what shows marks.
"""

from __future__ import annotations

from reader.ui.plain import notify_plain
from reader.ui.screens.confirm import ConfirmScreen
from reader.ui.screens.parts import ScreenParts


class TriageKeys(ScreenParts):
    """Actions for `m`, `s`, `u`, `.`, `A` and `z` (bound in `MainScreen.BINDINGS`)."""

    unread_only: bool  # MainScreen's reactive

    def _marked_slot(self) -> int | None:
        """The article a mark key acts on: the open one while reading, else the highlighted one."""
        if self.focused is self.reading_pane and self.open_slot is not None:
            return self.open_slot
        return self.article_list.highlighted_slot

    def _marks_changed(self) -> None:
        self.show_sources()
        self.article_list.refresh()
        self.update_status()

    def action_toggle_read(self) -> None:
        slot = self._marked_slot()
        if slot is not None:
            self.marking.toggle_read(slot)
            self._marks_changed()

    def action_toggle_star(self) -> None:
        slot = self._marked_slot()
        if slot is not None:
            starred = self.marking.toggle_star(slot)
            notify_plain(self.app, "Starred." if starred else "Star removed.", timeout=2)
            self._marks_changed()

    def action_toggle_unread_only(self) -> None:
        self.unread_only = not self.unread_only

    def action_next_unread(self) -> None:
        """Open the next unread article of the list, after the one open or highlighted."""
        after = self.open_slot if self.open_slot is not None else self.article_list.highlighted_slot
        slots = self.article_list.slots
        slot = self.marking.next_unread(slots, after)
        if slot is None:
            notify_plain(self.app, "No unread articles left in this list.")
            return
        self.article_list.cursor = int((slots == slot).nonzero()[0][0])
        self.open_article(slot)

    def action_mark_all_read(self) -> None:
        """Mark every article of the list (this source and search) read, once confirmed."""
        slots = self.article_list.slots
        unread = int((~self.store.read_flags(slots)).sum()) if len(slots) else 0
        if not unread:
            notify_plain(self.app, "Every article in this list is read already.")
            return

        store = self.store

        def answered(yes: bool | None) -> None:
            if yes and store is not self.store:  # Ctrl+R while asking: these slots are gone
                notify_plain(self.app, "The corpus was reloaded meanwhile; nothing marked.")
            elif yes:
                alive = slots[[store.is_alive(int(slot)) for slot in slots.tolist()]] if len(slots) else slots
                count = self.marking.mark_all_read(alive)
                self._marks_changed()
                notify_plain(self.app, f"Marked {count:,} read. Press z to undo.", title="Mark all read")

        self.app.push_screen(ConfirmScreen(f"Mark {unread:,} unread article(s) in this list read?"), answered)

    def action_undo_mark_all(self) -> None:
        count = self.marking.undo()
        if count:
            self._marks_changed()
        notify_plain(self.app, f"{count:,} article(s) unread again." if count else "Nothing to undo.")
