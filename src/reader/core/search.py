"""Substring search over folded article text, fast enough to run on every keystroke.

Chinese has no spaces to split words on, so a term matches wherever it occurs as a
substring of an article's folded text (title, source name, body). Scanning 100k bodies
costs ~110 ms a query, so each article gets a signature of its UTF-16 unigrams, bigrams
and trigrams, stored bit-sliced (one packed bit row per signature row, one column per
article). Rows come in two kinds:

- *dedicated* rows, one per gram of a `Vocabulary` (the grams most articles share, chosen
  from a sample of the corpus). A dedicated row is exact: its bit is set exactly for the
  articles containing that gram. So a 1-3 unit term whose gram has a row is answered
  from the row alone, with no text scan, however many articles match.
- *hashed* rows shared by all other grams, Bloom-style: they only rule articles out.

Other terms AND the rows of all their grams, which leaves candidates that are then
checked with a real substring test. So the answer is always exactly that of a plain scan.
Answers are kept per term; a longer term (typing one more character) only re-checks the
hits of a shorter cached term it contains, and a multi-word query intersects its terms.

Folding in bulk (`fold_many`, `fold_joined`) uses a lookup table over UTF-16 code units,
built from `text.fold`'s per-character rule, so index and query always agree.
Deliberately not here: ranking (results are shown newest first), query syntax beyond
"all whitespace-separated terms must match".
"""

from __future__ import annotations

import hashlib
import operator
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat

import numpy as np
import numpy.typing as npt

from reader.core.text import _fold_char, fold

SIGNATURE_ROWS = 8192
"""Signature rows per article: dedicated rows first, then hashed ones."""
HASHED_ROWS = 2048
"""Rows shared by hashed grams (a power of two)."""
DEDICATED_ROWS = SIGNATURE_ROWS - HASHED_ROWS
"""At most this many grams get an exact row of their own."""
VOCABULARY_SAMPLE = 256
"""Articles sampled to choose the vocabulary (the first batch: the newest posts)."""
SEPARATOR = "\x00"
"""Joins texts in bulk operations; search texts never contain it."""

_TABLE_BITS = 16
_HASHED_BITS = HASHED_ROWS.bit_length() - 1
_MIX_TABLE = np.uint64(0x9E3779B97F4A7C15)
_MIX_HASHED = np.uint64(0xC2B2AE3D27D4EB4F)
_MAX_CACHED_TERMS = 64

SlotArray = npt.NDArray[np.int64]
Units = npt.NDArray[np.uint16]


# --- folding -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _fold_tables() -> tuple[Units, npt.NDArray[np.bool_]]:
    """Per UTF-16 unit: its folded unit, and whether it needs the slow path."""
    table = np.arange(0x10000, dtype=np.uint16)
    slow = np.zeros(0x10000, dtype=np.bool_)
    slow[0xD800:0xE000] = True  # astral characters: fold them character by character
    for code in range(0x80, 0x10000):
        if slow[code]:
            continue
        folded = _fold_char(chr(code))
        if len(folded) == 1 and ord(folded) < 0x10000:
            table[code] = ord(folded)
        else:
            slow[code] = True
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = code + 32
    return table, slow


@lru_cache(maxsize=1)
def _blank_units() -> npt.NDArray[np.bool_]:
    """Units that never occur inside a query term: the separator and whitespace."""
    blank = np.zeros(0x10000, dtype=np.bool_)
    blank[0] = True
    for code in range(0x10000):
        if chr(code).isspace():
            blank[code] = True
    return blank


def units_of(text: str) -> Units:
    """The UTF-16 code units of `text`."""
    return np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)


def text_of(units: Units) -> str:
    """Inverse of `units_of`."""
    return units.tobytes().decode("utf-16-le", "surrogatepass")


def fold_joined(texts: Sequence[str]) -> Units:
    """The folded texts joined by 0 units; texts must not contain the separator."""
    table, slow = _fold_tables()
    units = units_of(SEPARATOR.join(texts))
    if slow[units].any():  # rare: astral or multi-character folds
        return units_of(SEPARATOR.join(map(fold, texts)))
    return table[units]


def fold_many(texts: list[str]) -> list[str]:
    """`text.fold` applied to each text, vectorised; identical results, ~20x faster."""
    if not texts:
        return []
    joined = SEPARATOR.join(texts)
    if joined.count(SEPARATOR) != len(texts) - 1:
        return [fold(text) for text in texts]
    if joined.isascii():
        return joined.lower().split(SEPARATOR)
    return text_of(fold_joined(texts)).split(SEPARATOR)


# --- grams and the vocabulary ------------------------------------------------------------


def _grams(units: Units) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    """Key and start position of every unigram, bigram and trigram free of blank units.

    Keys cannot collide across sizes: units are non-zero, so a bigram key is >= 2**16
    and a trigram key >= 2**32.
    """
    size = units.size
    wide = units.astype(np.uint64)
    solid = ~_blank_units()[units]
    keys = [wide]
    masks = [solid]
    if size >= 2:
        keys.append((wide[:-1] << np.uint64(16)) | wide[1:])
        masks.append(solid[:-1] & solid[1:])
    if size >= 3:
        keys.append((wide[:-2] << np.uint64(32)) | (wide[1:-1] << np.uint64(16)) | wide[2:])
        masks.append(solid[:-2] & solid[1:-1] & solid[2:])
    all_keys = np.concatenate(keys)
    positions = np.concatenate([np.arange(size - n, dtype=np.int64) for n in range(len(keys))])
    keep = np.concatenate(masks)
    return all_keys[keep], positions[keep]


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """The grams that own a dedicated signature row, with a direct-mapped lookup table."""

    keys: npt.NDArray[np.uint64]
    """Gram key per dedicated row (row i belongs to keys[i])."""
    slot_keys: npt.NDArray[np.uint64]
    """Lookup table: the key stored in each slot (0 when empty)."""
    slot_rows: npt.NDArray[np.int32]
    """Lookup table: the row of the key in each slot."""
    fingerprint: str
    """Identifies the vocabulary, so chunks built with another one are rebuilt."""


def make_vocabulary(keys: npt.NDArray[np.uint64]) -> Vocabulary:
    """A vocabulary whose row i is keys[i]; a key losing its table slot stays hashed."""
    keys = np.ascontiguousarray(keys[:DEDICATED_ROWS], dtype=np.uint64)
    slots = _table_slot(keys)
    _, first = np.unique(slots, return_index=True)  # earlier (more common) keys win
    slot_keys = np.zeros(1 << _TABLE_BITS, dtype=np.uint64)
    slot_rows = np.full(1 << _TABLE_BITS, -1, dtype=np.int32)
    slot_keys[slots[first]] = keys[first]
    slot_rows[slots[first]] = first.astype(np.int32)
    fingerprint = hashlib.sha1(keys.tobytes()).hexdigest()
    return Vocabulary(keys, slot_keys, slot_rows, fingerprint)


def choose_vocabulary(folded: Sequence[str]) -> Vocabulary:
    """Dedicate rows to the grams found in the most of (a sample of) these texts."""
    sample = list(folded[:VOCABULARY_SAMPLE])
    if not sample:
        return make_vocabulary(np.zeros(0, dtype=np.uint64))
    units = units_of(SEPARATOR.join(sample))
    keys, positions = _grams(units)
    owner = np.cumsum(units == 0, dtype=np.uint64)[positions]
    pairs = np.unique((keys << np.uint64(16)) | owner) >> np.uint64(16)
    distinct, counts = np.unique(pairs, return_counts=True)
    order = np.lexsort((distinct, -counts))
    return make_vocabulary(distinct[order])


def _table_slot(keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    return ((keys * _MIX_TABLE) >> np.uint64(64 - _TABLE_BITS)).astype(np.int64)


def gram_rows(keys: npt.NDArray[np.uint64], vocabulary: Vocabulary) -> npt.NDArray[np.int64]:
    """The signature row of each gram key."""
    slots = _table_slot(keys)
    dedicated = vocabulary.slot_keys[slots] == keys
    hashed = ((keys * _MIX_HASHED) >> np.uint64(64 - _HASHED_BITS)).astype(np.int64)
    return np.where(dedicated, vocabulary.slot_rows[slots].astype(np.int64), hashed + DEDICATED_ROWS)


# --- signature chunks --------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Chunk:
    """Signatures of a run of consecutive slots, bit-sliced: rows[r] packs one bit per slot."""

    start: int
    count: int
    rows: npt.NDArray[np.uint8]
    fingerprint: str
    """The vocabulary the rows were built with."""


_Chunk = Chunk  # the name `store.py` has always imported


def build_chunk_from_units(start: int, count: int, units: Units, vocabulary: Vocabulary) -> Chunk:
    """Signatures for `count` folded texts given joined by 0 units (see `fold_joined`)."""
    keys, positions = _grams(units)
    owner = np.cumsum(units == 0, dtype=np.int64)[positions]
    flat = gram_rows(keys, vocabulary) * count + owner
    matrix = np.zeros(SIGNATURE_ROWS * count, dtype=np.bool_)
    matrix[flat] = True
    rows = np.packbits(matrix.reshape(SIGNATURE_ROWS, count), axis=1)
    return Chunk(start, count, rows, vocabulary.fingerprint)


def build_chunk(start: int, folded: list[str], vocabulary: Vocabulary) -> Chunk:
    """Signatures for `folded` texts occupying slots start, start+1, …"""
    return build_chunk_from_units(start, len(folded), units_of(SEPARATOR.join(folded)), vocabulary)


# --- the index ---------------------------------------------------------------------------


class SearchIndex:
    """Folded texts of all slots plus their signatures; answers term queries exactly."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        """Folded search text per slot."""
        self.vocabulary: Vocabulary | None = None
        """Chosen from the first texts added (or taken from the first prebuilt chunk)."""
        self._chunks: list[Chunk] = []
        self._answers: OrderedDict[str, tuple[int, SlotArray]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, folded: list[str], chunk: Chunk | None = None) -> None:
        """Append folded texts as new slots (with their signatures, built if not given)."""
        start = len(self.texts)
        if self.vocabulary is None and chunk is None:
            self.vocabulary = choose_vocabulary(folded)
        if chunk is not None and self.vocabulary is None:
            raise ValueError("the first prebuilt chunk needs `use_vocabulary` first")
        assert self.vocabulary is not None
        if chunk is None or chunk.fingerprint != self.vocabulary.fingerprint or chunk.count != len(folded):
            chunk = build_chunk(start, folded, self.vocabulary)
        elif chunk.start != start:
            chunk = Chunk(start, chunk.count, chunk.rows, chunk.fingerprint)
        self.texts.extend(folded)
        self._chunks.append(chunk)

    def use_vocabulary(self, vocabulary: Vocabulary) -> None:
        """Adopt the vocabulary prebuilt chunks were made with (only before any add)."""
        if self.vocabulary is None:
            self.vocabulary = vocabulary

    def search(self, terms: tuple[str, ...]) -> SlotArray:
        """Sorted slots whose text contains every term (all slots when there are none)."""
        slots = len(self.texts)
        if not terms:
            return np.arange(slots, dtype=np.int64)
        answers = sorted((self._term_answer(term, slots) for term in terms), key=len)
        result = answers[0]
        for other in answers[1:]:
            result = np.intersect1d(result, other, assume_unique=True)
        return result

    def _term_answer(self, term: str, slots: int) -> SlotArray:
        cached = self._answers.get(term)
        if cached is not None and cached[0] == slots:
            self._answers.move_to_end(term)
            return cached[1]
        answer = self._compute(term, slots)
        self._answers[term] = (slots, answer)
        if len(self._answers) > _MAX_CACHED_TERMS:
            self._answers.popitem(last=False)
        return answer

    def _compute(self, term: str, slots: int) -> SlotArray:
        if slots == 0 or self.vocabulary is None:
            return np.zeros(0, dtype=np.int64)
        units = units_of(term)
        keys, _ = _grams(units)
        rows = np.unique(gram_rows(keys, self.vocabulary))
        candidates = self._candidates(rows)
        if self._is_exact(units, keys):
            return candidates
        for shorter, (count, answer) in self._answers.items():
            if count == slots and shorter in term and answer.size < candidates.size:
                candidates = np.intersect1d(candidates, answer, assume_unique=True)
        return self._verify(term, candidates)

    def _is_exact(self, units: Units, keys: npt.NDArray[np.uint64]) -> bool:
        """Whether the term is one gram with a dedicated (exact) row."""
        if not 1 <= units.size <= 3 or keys.size == 0 or self.vocabulary is None:
            return False
        whole = keys[-1:]  # the longest gram comes last
        if _blank_units()[units].any():
            return False
        return bool(self.vocabulary.slot_keys[_table_slot(whole)][0] == whole[0])

    def _candidates(self, rows: npt.NDArray[np.int64]) -> SlotArray:
        """Slots whose signatures have every row in `rows` set."""
        found: list[SlotArray] = []
        for chunk in self._chunks:
            if rows.size:
                combined = np.bitwise_and.reduce(chunk.rows[rows], axis=0)
                hits = np.flatnonzero(np.unpackbits(combined, count=chunk.count))
            else:
                hits = np.arange(chunk.count)
            found.append(hits + chunk.start)
        return np.concatenate(found).astype(np.int64) if found else np.zeros(0, dtype=np.int64)

    def _verify(self, term: str, candidates: SlotArray) -> SlotArray:
        """The candidates whose text really contains `term` (the loop runs in C)."""
        if candidates.size == 0:
            return candidates
        texts = map(self.texts.__getitem__, candidates.tolist())
        found = np.fromiter(map(operator.contains, texts, repeat(term)), np.bool_, candidates.size)
        return candidates[found]
