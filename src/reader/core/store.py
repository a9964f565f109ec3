"""The in-memory corpus: articles, sources, problems, read state and the search index.

Articles live in append-only *slots* (an integer each), so batches from a progressive
load, a cache and a reload can all be added without renumbering. Each slot keeps the
loader's plain `Record`; an `Article` object is made only when a slot is looked at
(`store.articles[slot]`), so adding 100k cached articles costs milliseconds. A later file with the
same identity (canonical URL) replaces an earlier one when it is newer: the old slot is
marked dead and the duplicate is counted. Views (a source, a search) are numpy arrays of
slots in display order, so 100k rows filter and sort in milliseconds. A source is shown
under the name most of its live posts give (`tags`), so one odd file cannot rename it.
A file read again (changed on disk) replaces its earlier read, and a removed file leaves:
the old slot dies and its problems go (`remove_paths`, `add_batch`); slots are never reused.

The store is driven by one thread (the UI's); loaders hand it finished batches.
Deliberately not here: reading files (`loader.py`) or drawing anything.

Over the ~400-line guideline on purpose: the columns, identities, sources and marks
change together on every add, removal and re-read, and their invariants (one live copy
per identity, votes for source names, marks by identity) are easier to keep in one class.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import repeat
from operator import itemgetter
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from reader.core.models import Article, Post, Source, article_of, record_of
from reader.core.records import Batch, Problem, Record
from reader.core.search import Chunk, SearchIndex, SlotArray
from reader.core.text import query_terms

ALL_SOURCES = ""
STARRED = "\x00starred"
"""The pseudo-source of starred articles (no `categories` value can hold a NUL)."""
Marks = dict[str, tuple[float | None, bool]]
"""Per article identity: when it was read (None: unread) and whether it is starred."""
"""The source id that stands for every source."""


class _Column:
    """A growable numpy column (amortised appends)."""

    def __init__(self, dtype: type) -> None:
        self.data: npt.NDArray[Any] = np.zeros(1024, dtype=dtype)
        self.size = 0

    def extend(self, values: Iterable[object]) -> None:
        items = np.fromiter(values, dtype=self.data.dtype)
        needed = self.size + items.size
        if needed > self.data.size:
            grown = np.zeros(max(needed, self.data.size * 2), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : needed] = items
        self.size = needed

    @property
    def view(self) -> npt.NDArray[Any]:
        return self.data[: self.size]


class Articles(Sequence[Article]):
    """`Article` per slot, made from the slot's record when asked for."""

    def __init__(self, records: list[Record]) -> None:
        self._records = records

    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, slot: int) -> Article: ...
    @overload
    def __getitem__(self, slot: slice) -> list[Article]: ...
    def __getitem__(self, slot: int | slice) -> Article | list[Article]:
        if isinstance(slot, slice):
            return [article_of(record) for record in self._records[slot]]
        return article_of(self._records[slot])


class Store:
    """Every loaded article, addressable by slot, with counts and views."""

    def __init__(self) -> None:
        self._records: list[Record] = []
        self.articles = Articles(self._records)
        """Article per slot (dead slots keep theirs)."""
        self.index = SearchIndex()
        """Folded text and signatures per slot."""
        self.problems: list[Problem] = []
        """Every file skipped or loaded with a warning."""
        self.duplicates = 0
        """Files collapsed into another file with the same identity."""
        self.marks: Marks = {}
        """Read and star marks by identity (the state store's, kept in step): applied to
        every article as it arrives, so a reload or a re-read file keeps its marks."""
        self._alive = _Column(np.bool_)
        self._read = _Column(np.bool_)
        self._starred = _Column(np.bool_)
        self._micros = _Column(np.int64)
        self._source = _Column(np.int32)
        self._source_ids: list[str] = []
        self._source_names: list[str] = []
        self._name_votes: list[Counter[str]] = []
        """Per source number: how many live posts give each display name (first seen first)."""
        self._source_number: dict[str, int] = {}
        self._by_identity: dict[str, int] = {}
        self._copies: dict[str, list[int]] = {}
        """Per identity held by more than one file: the slots of those files (see `_retire`)."""
        self._by_path: dict[str, int] | None = None
        """The slot of each file's latest read (live, or dead as a duplicate); made when
        first needed (`_path_index`): a load never reads a file twice, and keeping it
        during one would cost half as much again as adding its batches."""
        self._problem_paths: set[str] = set()
        self._order: SlotArray | None = None
        self._order_generation = 0
        """Bumped whenever `_order` is dropped: a search thread's stale order is not kept."""

    # --- adding ----------------------------------------------------------------------

    def add_batch(self, batch: Batch) -> None:
        """Add what one step of a load produced (see `loader.iter_load`), or a re-read of
        changed files (`plan.iter_changes`, phase "changes"): a file already here is then
        replaced, its old slot dead and its old problems gone (identity rules as for any
        other file). So is one in any batch after the first re-read or removal."""
        self.add_records(batch.records, batch.chunk, batch.problems, replacing=batch.phase == "changes")

    def add(self, posts: list[Post], problems: Iterable[Problem] = ()) -> None:
        """Add posts given as objects (folded search text), e.g. built by hand."""
        if posts:
            self.index.add([post.search_text for post in posts])
        self._add_records([record_of(p.article, p.size, p.mtime_ns) for p in posts], problems, True)

    def add_records(
        self,
        records: list[Record],
        chunk: Chunk | None,
        problems: Iterable[Problem] = (),
        *,
        replacing: bool = False,
    ) -> None:
        """Add a loader's records with their chunk of search texts (None if no records);
        `replacing`: they may be files already here, read again (see `add_batch`)."""
        if records:
            if chunk is None or chunk.count != len(records):
                raise ValueError("a chunk must hold the records' texts")
            self.index.add_chunk(chunk)
        self._add_records(records, problems, replacing)

    def _add_records(self, records: list[Record], problems: Iterable[Problem], replacing: bool) -> None:
        problems = list(problems)
        by_path = self._path_index() if replacing else self._by_path
        voted = self._forget_reread(by_path, records, problems) if by_path is not None else set()
        self.problems.extend(problems)
        self._problem_paths.update([problem.path for problem in problems])
        if not records:
            if voted:
                self._name_sources(voted)
                self._forget_order()
            return
        first = len(self._records)
        count = len(records)
        self._records.extend(records)
        self._alive.extend(repeat(True, count))
        self._extend_marks(records)
        self._micros.extend(map(itemgetter(5), records))
        numbers = self._source_numbers(records)
        self._source.extend(numbers)
        voted |= self._vote(Counter(zip(numbers, map(itemgetter(8), records), strict=True)))
        # Whole batches at C speed when no identity repeats (the usual case), else one by one.
        identities = list(map(itemgetter(3), records))
        known = self._by_identity
        if len(set(identities)) == count and not any(map(known.__contains__, identities)):
            known.update(zip(identities, range(first, first + count), strict=True))
        else:
            for slot, record in enumerate(records, first):  # after extending: duplicates may share a batch
                dead = self._claim_identity(record, slot)
                if dead is not None:
                    self._alive.data[dead] = False
                    voted |= self._vote(Counter([(int(self._source.data[dead]), self._records[dead][8])]), -1)
        if by_path is not None:
            before = len(by_path)
            by_path.update(zip(map(itemgetter(0), records), range(first, first + count), strict=True))
            if len(by_path) - before != count:  # a path twice in one batch: its last read wins
                voted |= self._retire_repeats(by_path, records, first)
        self._name_sources(voted)
        self._forget_order()

    def _take_marks(self, slot: int) -> None:
        """A slot that becomes the live copy of its identity shows that identity's marks."""
        read_at, starred = self.marks.get(self._records[slot][3], (None, False))
        self._read.data[slot] = read_at is not None
        self._starred.data[slot] = starred

    def _extend_marks(self, records: list[Record]) -> None:
        """The read and star columns of new records, from `marks` (nothing to look up for
        a first launch, one dict lookup a record otherwise)."""
        if not self.marks:
            self._read.extend(repeat(False, len(records)))
            self._starred.extend(repeat(False, len(records)))
            return
        found = list(map(self.marks.get, map(itemgetter(3), records)))
        self._read.extend(mark is not None and mark[0] is not None for mark in found)
        self._starred.extend(mark is not None and mark[1] for mark in found)

    def _vote(self, votes: Counter[tuple[int, str]], sign: int = 1) -> set[int]:
        """Add (or take back) votes of (source number, name); returns the sources touched.

        One Counter per batch (C speed), so 100k posts cost a hundred small updates.
        """
        for (number, name), count in votes.items():
            self._name_votes[number][name] += sign * count
        return {number for number, _ in votes}

    def _name_sources(self, numbers: Iterable[int]) -> None:
        """Name each source after what most of its live posts say, not after its first
        file: one forged tag must not rename a source. Ties go to the name seen first."""
        for number in numbers:
            votes = self._name_votes[number]
            self._source_names[number] = max(votes, key=votes.__getitem__)  # max keeps the first of equals

    def _source_numbers(self, records: list[Record]) -> list[int]:
        source_ids = list(map(itemgetter(7), records))
        numbers = list(map(self._source_number.get, source_ids))
        if None in numbers:  # a source seen for the first time
            numbers = [self._source_of(record) for record in records]
        return numbers  # type: ignore[return-value]

    def _claim_identity(self, record: Record, slot: int) -> int | None:
        """Register `slot` for its identity; returns the slot this makes dead, if any
        (`slot` itself, or the older copy it replaces)."""
        identity = record[3]
        previous = self._by_identity.get(identity)
        if previous is None:
            self._by_identity[identity] = slot
            return None
        self.duplicates += 1
        self._copies.setdefault(identity, [previous]).append(slot)
        older = self._records[previous]
        if (record[5], record[0]) <= (older[5], older[0]):
            return slot
        self._by_identity[identity] = slot
        return previous

    def _source_of(self, record: Record) -> int:
        source_id = record[7]
        number = self._source_number.get(source_id)
        if number is None:
            number = len(self._source_ids)
            self._source_number[source_id] = number
            self._source_ids.append(source_id)
            self._source_names.append(record[8])
            self._name_votes.append(Counter())
        return number

    # --- updating: files changed or removed on disk -----------------------------------

    def remove_paths(self, paths: Iterable[str], *, folders: Iterable[str] = ()) -> list[int]:
        """Forget files gone from disk: their articles leave every view, count and search,
        and their problems leave `problems`. `folders` removes everything below each folder
        (one pass over the paths). Returns the slots that were live and are not any more,
        in slot order (a copy of the same article in another file comes back instead).
        Unknown paths are ignored."""
        by_path = self._path_index()
        gone = set(paths)
        prefixes = tuple(os.path.join(folder, "") for folder in folders)
        if prefixes:
            gone.update([path for path in by_path if path.startswith(prefixes)])
            gone.update([path for path in self._problem_paths if path.startswith(prefixes)])
        alive = self._alive.data
        was_live = [slot for path in gone if (slot := by_path.get(path)) is not None and alive[slot]]
        voted = self._forget(by_path, gone)
        if voted:
            self._name_sources(voted)
            self._forget_order()
        return sorted(slot for slot in was_live if not alive[slot])

    def slot_of_path(self, path: str) -> int | None:
        """The slot of the latest read of the file at `path` (live, or dead as a duplicate;
        see `is_alive`), None if the file is not loaded."""
        return self._path_index().get(path)

    def is_alive(self, slot: int) -> bool:
        """Whether a slot is listed: not replaced by a newer read, a duplicate or a removal."""
        return bool(self._alive.data[slot])

    def _path_index(self) -> dict[str, int]:
        """`_by_path`, made from the records when first asked for (~10 ms at 100k)."""
        if self._by_path is None:
            self._by_path = dict(
                zip(map(itemgetter(0), self._records), range(len(self._records)), strict=True)
            )
        return self._by_path

    def _forget_reread(
        self, by_path: dict[str, int], records: list[Record], problems: list[Problem]
    ) -> set[int]:
        """Before adding a batch: what an earlier read of the same files left (their records
        die, their problems go), since a batch has the latest word on every file in it.
        Two set checks when nothing is read again."""
        paths = list(map(itemgetter(0), records))
        paths += [problem.path for problem in problems]
        if by_path.keys().isdisjoint(paths) and self._problem_paths.isdisjoint(paths):
            return set()
        return self._forget(by_path, set(paths))

    def _forget(self, by_path: dict[str, int], paths: set[str]) -> set[int]:
        """Retire the slots of `paths` and drop their problems; returns the sources touched."""
        voted = self._retire_all([slot for path in paths if (slot := by_path.pop(path, None)) is not None])
        if not self._problem_paths.isdisjoint(paths):
            self.problems[:] = [problem for problem in self.problems if problem.path not in paths]
            self._problem_paths.difference_update(paths)
        return voted

    def _retire_all(self, slots: list[int]) -> set[int]:
        """`_retire` of many slots (a folder of 100k moved away: ~0.1 s): those whose
        identity no other file shares, at numpy and Counter speed."""
        records, copies, by_identity = self._records, self._copies, self._by_identity
        shared = [slot for slot in slots if records[slot][3] in copies] if copies else []
        if shared:
            slots = [slot for slot in slots if records[slot][3] not in copies]
        live = np.array(slots, dtype=np.int64)
        live = live[self._alive.data[live]]
        self._alive.data[live] = False
        numbers = self._source.data[live].tolist()
        voted = self._vote(
            Counter(zip(numbers, [records[slot][8] for slot in live.tolist()], strict=True)), -1
        )
        for slot in slots:
            identity = records[slot][3]
            if by_identity.get(identity) == slot:
                del by_identity[identity]
        for slot in shared:
            voted |= self._retire(slot)
        return voted

    def _retire(self, slot: int) -> set[int]:
        """A file's slot stops counting (the file was re-read or removed); when it held its
        identity and other files share it, the best of them (`_claim_identity`'s rule:
        newest date, then greatest path) becomes live again. Returns the sources touched."""
        records = self._records
        identity = records[slot][3]
        voted: set[int] = set()
        if self._alive.data[slot]:
            self._alive.data[slot] = False
            voted = self._vote(Counter([(int(self._source.data[slot]), records[slot][8])]), -1)
        copies = self._copies.get(identity)
        if copies is None:
            if self._by_identity.get(identity) == slot:
                del self._by_identity[identity]
            return voted
        copies.remove(slot)
        self.duplicates -= 1
        if self._by_identity.get(identity) == slot:
            best = max(copies, key=lambda copy: (records[copy][5], records[copy][0]))
            self._by_identity[identity] = best
            self._alive.data[best] = True
            self._take_marks(best)
            voted |= self._vote(Counter([(int(self._source.data[best]), records[best][8])]))
        if len(copies) == 1:
            del self._copies[identity]
        return voted

    def _retire_repeats(self, last: dict[str, int], records: list[Record], first: int) -> set[int]:
        """Within one batch, earlier reads of a file read again later in it retire."""
        voted: set[int] = set()
        for slot, record in enumerate(records, first):
            if last[record[0]] != slot:
                voted |= self._retire(slot)
        return voted

    # --- reading ---------------------------------------------------------------------

    @property
    def article_count(self) -> int:
        """Live articles (duplicates collapsed)."""
        return int(np.count_nonzero(self._alive.view))

    @property
    def skipped_count(self) -> int:
        """Files that could not be loaded at all."""
        return sum(1 for problem in self.problems if problem.skipped)

    def _forget_order(self) -> None:
        self._order = None
        self._order_generation += 1

    def order(self) -> SlotArray:
        """Live slots, newest first (ties by path, for a stable order)."""
        order = self._order
        if order is None:
            generation = self._order_generation
            live = np.flatnonzero(self._alive.view)
            stamps = self._micros.view[live]
            order = live[np.argsort(-stamps, kind="stable")]
            if generation == self._order_generation:  # no change meanwhile (a search thread)
                self._order = order
        return order

    def view(
        self,
        source_id: str = ALL_SOURCES,
        query: str = "",
        *,
        unread_only: bool = False,
        keep: SlotArray | None = None,
    ) -> SlotArray:
        """Slots to list for a source (or `STARRED`) and a query, newest first. With
        `unread_only`, read articles go, except those in `keep` (the list on screen: an
        article read just now stays until the user changes the view)."""
        slots = self.order()
        if unread_only:
            listed = ~self._read.view[slots]
            if keep is not None and len(keep):
                listed |= np.isin(slots, keep)
            slots = slots[listed]
        if source_id == STARRED:
            slots = slots[self._starred.view[slots]]
        elif source_id != ALL_SOURCES:
            number = self._source_number.get(source_id, -1)
            slots = slots[self._source.view[slots] == number]
        terms = query_terms(query)
        if terms:
            hits = self.index.search(terms)
            mask = np.zeros(len(self.articles), dtype=np.bool_)
            mask[hits] = True
            slots = slots[mask[slots]]
        return slots

    def sources(self) -> list[Source]:
        """ "All" first, then each source by article count (most first), with unread counts."""
        live = self._alive.view
        count = np.bincount(self._source.view[live], minlength=len(self._source_ids))
        unread_mask = live & ~self._read.view
        unread = np.bincount(self._source.view[unread_mask], minlength=len(self._source_ids))
        sources = [
            Source(source_id, name, int(count[number]), int(unread[number]))
            for number, (source_id, name) in enumerate(zip(self._source_ids, self._source_names, strict=True))
            if count[number]
        ]
        sources.sort(key=lambda s: (-s.count, s.name))
        total = Source(ALL_SOURCES, "全部 / All", int(count.sum()), int(unread.sum()))
        return [total, *sources]

    def starred_source(self) -> Source:
        """The "★ Starred" pseudo-source with its counts (live articles only)."""
        starred = self._alive.view & self._starred.view
        unread = int(np.count_nonzero(starred & ~self._read.view))
        return Source(STARRED, "★ 星标 Starred", int(np.count_nonzero(starred)), unread)

    def known_paths(self) -> set[str]:
        """Every file the store has an answer for: its records' and its problems' paths."""
        return set(map(itemgetter(0), self._records)) | {problem.path for problem in self.problems}

    def slot_of(self, identity: str) -> int | None:
        """The live slot of an article identity, if loaded."""
        return self._by_identity.get(identity)

    def is_read(self, slot: int) -> bool:
        return bool(self._read.data[slot])

    def set_read(self, slot: int, read: bool = True, when: float | None = None) -> None:
        """Mark an article read (at `when`, a timestamp; now by default) or unread."""
        self.set_read_many(np.array([slot], dtype=np.int64), read, time.time() if when is None else when)

    def set_read_many(self, slots: SlotArray, read: bool, when: float | None = None) -> list[str]:
        """Mark articles read or unread at once (mark-all: 100k in a few ms of numpy plus
        one dict update each); returns the identities whose mark changed."""
        if read and when is None:
            when = time.time()
        changed = slots[self._read.data[slots] != read]
        self._read.data[changed] = read
        identities = [self._records[slot][3] for slot in changed.tolist()]
        marks = self.marks
        for identity in identities:
            starred = marks.get(identity, (None, False))[1]
            if read or starred:
                marks[identity] = (when if read else None, starred)
            else:
                marks.pop(identity, None)
        return identities

    def read_flags(self, slots: SlotArray) -> npt.NDArray[np.bool_]:
        """Whether each of `slots` is read."""
        flags: npt.NDArray[np.bool_] = self._read.data[slots]
        return flags

    def apply_marks(self, marks: Marks) -> None:
        """Take a state store's marks (read once at start-up, in a thread) for the articles
        already here and every one that arrives after."""
        self.marks = marks
        count = len(self._records)
        self._read.size = self._starred.size = 0
        self._extend_marks(self._records[:count])

    def is_starred(self, slot: int) -> bool:
        return bool(self._starred.data[slot])

    def set_starred(self, slot: int, starred: bool) -> str:
        """Star or unstar an article; returns its identity."""
        self._starred.data[slot] = starred
        identity = self._records[slot][3]
        read_at = self.marks.get(identity, (None, False))[0]
        if starred or read_at is not None:
            self.marks[identity] = (read_at, starred)
        else:
            self.marks.pop(identity, None)
        return identity
