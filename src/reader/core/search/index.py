"""The query engine: `SearchIndex` answers term queries exactly over signed chunks.

Rows of a signature come in two kinds (see `vocabulary.py`):

- *dedicated* rows, one per gram of the vocabulary. A dedicated row is exact: its bit is
  set exactly for the articles containing that gram. So a 1-3 unit term whose gram has a
  row is answered from the row alone, with no text scan, however many articles match
  (verifying 80k candidates would cost ~70 ms).
- *hashed* rows shared by all other grams, Bloom-style: they only rule articles out.
  Frequent grams have rows of their own, so these stay sparse and selective.

Other terms AND the rows of all their grams, which leaves candidates that are then
checked with a real substring test on the article's text. So the answer is always
exactly that of a plain scan. Answers are kept per term; a longer term (typing one more
character) only re-checks the hits of a shorter cached term it contains, and a
multi-word query intersects its terms.

The substring test runs `bytes.find` between two offsets of a chunk's UTF-16-LE text
(rejecting odd, misaligned positions).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from itertools import repeat
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from reader.core.search.chunks import Chunk, build_chunk
from reader.core.search.folding import units_of
from reader.core.search.vocabulary import Vocabulary, choose_vocabulary, gram_rows

SlotArray = npt.NDArray[np.int64]
MAX_CACHED_TERMS = 64
"""Term answers kept (most recently used)."""


class SearchIndex:
    """Folded texts of all slots plus their signatures; answers term queries exactly."""

    def __init__(self) -> None:
        self.vocabulary: Vocabulary | None = None
        """Chosen from the first texts added (or taken from the first prebuilt chunk)."""
        self._chunks: list[Chunk] = []
        self._chunk_starts: list[int] = []
        self._size = 0
        self._answers: OrderedDict[str, _Answer] = OrderedDict()

    def __len__(self) -> int:
        return self._size

    def add(self, folded: list[str]) -> None:
        """Append already folded texts as new slots."""
        if self.vocabulary is None:
            self.vocabulary = choose_vocabulary(folded)
        self.add_chunk(build_chunk(self._size, folded, self.vocabulary))

    def add_chunk(self, chunk: Chunk) -> None:
        """Append a prebuilt chunk as the next slots (its rows are rebuilt if need be)."""
        if chunk.count == 0:
            return
        if self.vocabulary is None:
            self.vocabulary = chunk.vocabulary
        if chunk.start != self._size or chunk.vocabulary is not self.vocabulary:
            chunk = chunk.moved_to(self._size, self.vocabulary)
        self._chunks.append(chunk)
        self._chunk_starts.append(chunk.start)
        self._size += chunk.count

    def text(self, slot: int) -> str:
        """The folded search text of a slot."""
        chunk = self._chunks[bisect_right(self._chunk_starts, slot) - 1]
        return chunk.text_at(slot - chunk.start)

    def search(self, terms: tuple[str, ...]) -> SlotArray:
        """Sorted slots whose text contains every term (all slots when there are none).

        Terms are answered in the order given (`query_terms`: longest, so rarest, first)
        and the search stops as soon as no slot is left: a pasted paragraph of words that
        match nothing costs one term, not thirty-two.
        """
        slots = self._size
        if not terms:
            return np.arange(slots, dtype=np.int64)
        result = self._term_answer(terms[0], slots)
        for term in terms[1:]:
            if result.size == 0:
                break
            result = np.intersect1d(result, self._term_answer(term, slots), assume_unique=True)
        return result

    def _term_answer(self, term: str, slots: int) -> SlotArray:
        cached = self._answers.get(term)
        if cached is not None and cached.slots == slots:
            self._answers.move_to_end(term)
            return cached.hits
        answer = self._compute(term, slots)
        self._answers[term] = answer
        if len(self._answers) > MAX_CACHED_TERMS:
            self._answers.popitem(last=False)
        return answer.hits

    def _compute(self, term: str, slots: int) -> _Answer:
        if slots == 0 or self.vocabulary is None:
            return _Answer(slots, np.zeros(0, dtype=np.int64), None)
        units = units_of(term)
        if units.size == 0 or not units.all():
            return _Answer(slots, np.zeros(0, dtype=np.int64), None)  # texts never hold the separator
        grams = gram_rows(units, self.vocabulary)
        candidates = self._candidates(grams.rows())
        if grams.is_exact(units.size):
            return _Answer(slots, candidates, None)
        # A shorter term this one contains (typically: the one before the last keystroke)
        # narrows the candidates, and where it was first found tells where to start looking.
        hint: tuple[str, _Answer] | None = None
        for shorter, answer in self._answers.items():
            if answer.slots != slots or shorter not in term:
                continue
            if answer.hits.size < candidates.size:
                candidates = np.intersect1d(candidates, answer.hits, assume_unique=True)
            if answer.positions is not None and (hint is None or len(shorter) > len(hint[0])):
                hint = (shorter, answer)
        starts = None
        if hint is not None:
            shorter, answer = hint
            candidates, _, where = np.intersect1d(
                candidates, answer.hits, assume_unique=True, return_indices=True
            )
            lead = term[: term.find(shorter)].encode("utf-16-le", "surrogatepass")  # bytes, not characters
            starts = answer.positions[where] - len(lead)  # type: ignore[index]
        hits, positions = self._verify(units.tobytes(), candidates, starts)
        return _Answer(slots, hits, positions)

    def _candidates(self, rows: npt.NDArray[np.int64]) -> SlotArray:
        """Slots whose signatures have every row in `rows` set."""
        found: list[SlotArray] = []
        for chunk in self._chunks:
            combined = np.bitwise_and.reduce(chunk.rows[rows], axis=0)
            found.append(np.flatnonzero(np.unpackbits(combined, count=chunk.count)) + chunk.start)
        return np.concatenate(found).astype(np.int64) if found else np.zeros(0, dtype=np.int64)

    def _verify(
        self,
        needle: bytes,
        candidates: SlotArray,
        starts: npt.NDArray[np.int64] | None,
    ) -> tuple[SlotArray, npt.NDArray[np.int64]]:
        """The candidates whose text contains `needle` (UTF-16-LE), and where it first is.

        `starts` (byte positions in each candidate's chunk) can say where to begin.
        """
        found = np.full(candidates.size, -1, dtype=np.int64)
        bounds = np.searchsorted(candidates, self._chunk_starts + [self._size])
        for chunk, low, high in zip(self._chunks, bounds[:-1], bounds[1:], strict=True):
            if low == high:
                continue
            local = candidates[low:high] - chunk.start
            begins, ends = chunk.offsets[local], chunk.offsets[local + 1] - 2
            if starts is not None:
                begins = np.maximum(begins, starts[low:high])
            # `bytes.find` between offsets runs in C; an odd position is a match that
            # straddles two UTF-16 units, so those few are searched again from there.
            positions = np.fromiter(
                map(chunk.text.find, repeat(needle), begins.tolist(), ends.tolist()), np.int64, local.size
            )
            for index in np.flatnonzero((positions > 0) & (positions & 1 == 1)).tolist():
                positions[index] = _aligned_find(
                    chunk.text, needle, int(positions[index]) + 1, int(ends[index])
                )
            found[low:high] = positions
        kept = found >= 0
        return candidates[kept], found[kept]


class _Answer(NamedTuple):
    """A term's cached answer."""

    slots: int
    """How many slots the index had (a later batch makes the answer stale)."""
    hits: SlotArray
    positions: npt.NDArray[np.int64] | None
    """Where the term first occurs in each hit (byte offset in its chunk), if known."""


def _aligned_find(text: bytes, needle: bytes, position: int, end: int) -> int:
    """The first even position of `needle` in text[position:end], else -1."""
    while True:
        position = text.find(needle, position, end)
        if position < 0 or position % 2 == 0:
            return position
        position += 1
