"""The in-memory corpus: articles, sources, problems, read state and the search index.

Articles live in append-only *slots* (an integer each), so batches from a progressive
load, a cache and a reload can all be added without renumbering. A later file with the
same identity (canonical URL) replaces an earlier one when it is newer: the old slot is
marked dead and the duplicate is counted. Views (a source, a search) are numpy arrays of
slots in display order, so 100k rows filter and sort in milliseconds.

The store is driven by one thread (the UI's); loaders hand it finished batches.
Deliberately not here: reading files (`loader.py`) or drawing anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import repeat

import numpy as np
import numpy.typing as npt

from reader.core.models import Article, Post, Problem, Source
from reader.core.search import Chunk, SearchIndex, SlotArray
from reader.core.text import query_terms

ALL_SOURCES = ""
"""The source id that stands for every source."""


class _Column:
    """A growable numpy column (amortised appends)."""

    def __init__(self, dtype: type) -> None:
        self.data = np.zeros(1024, dtype=dtype)
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
    def view(self) -> npt.NDArray[np.generic]:
        return self.data[: self.size]


class Store:
    """Every loaded article, addressable by slot, with counts and views."""

    def __init__(self) -> None:
        self.articles: list[Article] = []
        """Article per slot (dead slots keep theirs)."""
        self.index = SearchIndex()
        """Folded text and signatures per slot."""
        self.problems: list[Problem] = []
        """Every file skipped or loaded with a warning."""
        self.duplicates = 0
        """Files collapsed into another file with the same identity."""
        self._alive = _Column(np.bool_)
        self._read = _Column(np.bool_)
        self._timestamp = _Column(np.float64)
        self._source = _Column(np.int32)
        self._source_ids: list[str] = []
        self._source_names: list[str] = []
        self._source_number: dict[str, int] = {}
        self._by_identity: dict[str, int] = {}
        self._order: SlotArray | None = None

    # --- adding ----------------------------------------------------------------------

    def add(self, posts: list[Post], problems: Iterable[Problem] = (), chunk: Chunk | None = None) -> None:
        """Add a batch of posts (folded search text) and the problems met loading it."""
        self.problems.extend(problems)
        if not posts:
            return
        first = len(self.articles)
        self.articles.extend(post.article for post in posts)
        self.index.add([post.search_text for post in posts], chunk)
        self._alive.extend(repeat(True, len(posts)))
        self._read.extend(repeat(False, len(posts)))
        self._timestamp.extend(post.article.date.timestamp() for post in posts)
        self._source.extend(self._source_of(post.article) for post in posts)
        for offset, post in enumerate(posts):  # after extending: duplicates may share a batch
            if not self._claim_identity(post.article, first + offset):
                self._alive.data[first + offset] = False
        self._order = None

    def _claim_identity(self, article: Article, slot: int) -> bool:
        """Register `slot` for its identity; returns whether it is the live copy."""
        previous = self._by_identity.get(article.identity)
        if previous is None:
            self._by_identity[article.identity] = slot
            return True
        self.duplicates += 1
        older = self.articles[previous]
        if (article.date, article.path) <= (older.date, older.path):
            return False
        self._by_identity[article.identity] = slot
        self._alive.data[previous] = False
        return True

    def _source_of(self, article: Article) -> int:
        number = self._source_number.get(article.source_id)
        if number is None:
            number = len(self._source_ids)
            self._source_number[article.source_id] = number
            self._source_ids.append(article.source_id)
            self._source_names.append(article.source_name)
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
            stamps = self._timestamp.view[live]
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
        """"All" first, then each source by article count (most first), with unread counts."""
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
