"""Triage: marking articles read, unread and starred, in the store at once and in the state
store in the background, with an undo for marking a whole view read.

The store's columns change instantly (the UI redraws from them); the state store queues
the same change and writes it off the UI thread. Both are keyed by article identity, so
a reload, a renamed file or a second copy of a post keeps its marks.
Deliberately not here: which slots a view holds (`store.view`), keys and widgets (`ui`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from reader.core.search import SlotArray
from reader.core.state import StateStore
from reader.core.store import Store


@dataclass(frozen=True, slots=True)
class Undo:
    """What a mark-all changed, to take back."""

    slots: SlotArray
    identities: list[str]


class Marking:
    """Read and star marks of one store, kept in step with the state store."""

    def __init__(self, store: Store, state: StateStore | None) -> None:
        self.store = store
        self.state = state
        self.last_mark_all: Undo | None = None

    def set_read(self, slot: int, read: bool) -> bool:
        """Mark one article; returns whether anything changed."""
        identities = self.store.set_read_many(np.array([slot], dtype=np.int64), read, time.time())
        if identities and self.state is not None:
            self.state.set_read(identities, read)
        return bool(identities)

    def toggle_read(self, slot: int) -> bool:
        """Flip one article's read mark; returns the new value."""
        read = not self.store.is_read(slot)
        self.set_read(slot, read)
        return read

    def toggle_star(self, slot: int) -> bool:
        """Flip one article's star; returns the new value."""
        starred = not self.store.is_starred(slot)
        identity = self.store.set_starred(slot, starred)
        if self.state is not None:
            self.state.set_starred(identity, starred)
        return starred

    def mark_all_read(self, slots: SlotArray) -> int:
        """Mark every article of a view read; returns how many changed (undo with `undo`)."""
        changed = slots[~self.store.read_flags(slots)]
        identities = self.store.set_read_many(changed, True, time.time())
        if identities and self.state is not None:
            self.state.set_read(identities, True)
        self.last_mark_all = Undo(changed, identities) if identities else None
        return len(identities)

    def undo(self) -> int:
        """Take back the last mark-all; returns how many articles are unread again."""
        undo, self.last_mark_all = self.last_mark_all, None
        if undo is None:
            return 0
        # By identity: a file read again since has a new slot, which must come back too.
        slots = [slot for identity in undo.identities if (slot := self.store.slot_of(identity)) is not None]
        identities = self.store.set_read_many(np.array(slots, dtype=np.int64), False)
        if identities and self.state is not None:
            self.state.set_read(identities, False)
        return len(identities)

    def next_unread(self, slots: SlotArray, after: int | None) -> int | None:
        """The first unread slot of `slots` after the row holding `after` (from the top
        when `after` is not in them), else None."""
        start = 0
        if after is not None:
            rows = np.flatnonzero(slots == after)
            start = int(rows[0]) + 1 if rows.size else 0
        rest = slots[start:]
        unread = rest[~self.store.read_flags(rest)]
        return int(unread[0]) if unread.size else None
