"""The in-memory corpus: articles, sources, problems, read state and the search index.

Articles live in append-only *slots* (an integer each), so batches from a progressive
load, a cache and a reload can all be added without renumbering. Each slot keeps the
loader's plain `Record`; an `Article` object is made only when a slot is looked at
(`store.articles[slot]`), so adding 100k cached articles costs milliseconds. A later file with the
same identity (canonical URL) replaces an earlier one when it is newer: the old slot is
marked dead and the duplicate is counted. Views (a source, a search) are numpy arrays of
slots in display order, so 100k rows filter and sort in milliseconds. A source is shown
under the name most of its live posts give (`tags`), so one odd file cannot rename it.

The store is driven by one thread (the UI's); loaders hand it finished batches.
Deliberately not here: reading files (`loader.py`) or drawing anything.
"""

from __future__ import annotations

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
        self._alive = _Column(np.bool_)
        self._read = _Column(np.bool_)
        self._micros = _Column(np.int64)
        self._source = _Column(np.int32)
        self._source_ids: list[str] = []
        self._source_names: list[str] = []
        self._name_votes: list[Counter[str]] = []
        """Per source number: how many live posts give each display name (first seen first)."""
        self._source_number: dict[str, int] = {}
        self._by_identity: dict[str, int] = {}
        self._order: SlotArray | None = None

    # --- adding ----------------------------------------------------------------------

    def add_batch(self, batch: Batch) -> None:
        """Add what one step of a load produced (see `loader.iter_load`)."""
        self.add_records(batch.records, batch.chunk, batch.problems)

    def add(self, posts: list[Post], problems: Iterable[Problem] = ()) -> None:
        """Add posts given as objects (folded search text), e.g. built by hand."""
        if posts:
            self.index.add([post.search_text for post in posts])
        self._add_records([record_of(p.article, p.size, p.mtime_ns) for p in posts], problems)

    def add_records(
        self, records: list[Record], chunk: Chunk | None, problems: Iterable[Problem] = ()
    ) -> None:
        """Add a loader's records with their chunk of search texts (None if no records)."""
        if records:
            if chunk is None or chunk.count != len(records):
                raise ValueError("a chunk must hold the records' texts")
            self.index.add_chunk(chunk)
        self._add_records(records, problems)

    def _add_records(self, records: list[Record], problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)
        if not records:
            return
        first = len(self._records)
        count = len(records)
        self._records.extend(records)
        self._alive.extend(repeat(True, count))
        self._read.extend(repeat(False, count))
        self._micros.extend(map(itemgetter(5), records))
        numbers = self._source_numbers(records)
        self._source.extend(numbers)
        voted = self._vote(Counter(zip(numbers, map(itemgetter(8), records), strict=True)))
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
        self._name_sources(voted)
        self._order = None

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

    # --- reading ---------------------------------------------------------------------

    @property
    def article_count(self) -> int:
        """Live articles (duplicates collapsed)."""
        return int(np.count_nonzero(self._alive.view))

    @property
    def skipped_count(self) -> int:
        """Files that could not be loaded at all."""
        return sum(1 for problem in self.problems if problem.skipped)

    def order(self) -> SlotArray:
        """Live slots, newest first (ties by path, for a stable order)."""
        if self._order is None:
            live = np.flatnonzero(self._alive.view)
            stamps = self._micros.view[live]
            self._order = live[np.argsort(-stamps, kind="stable")]
        return self._order

    def view(self, source_id: str = ALL_SOURCES, query: str = "") -> SlotArray:
        """Slots to list for a source and a query, newest first."""
        slots = self.order()
        if source_id != ALL_SOURCES:
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

    def slot_of(self, identity: str) -> int | None:
        """The live slot of an article identity, if loaded."""
        return self._by_identity.get(identity)

    def is_read(self, slot: int) -> bool:
        return bool(self._read.data[slot])

    def set_read(self, slot: int, read: bool = True) -> None:
        """Mark an article read or unread for this session."""
        self._read.data[slot] = read
