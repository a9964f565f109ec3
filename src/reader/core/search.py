"""Substring search over folded article text, fast enough to run on every keystroke.

Chinese has no spaces to split words on, so a term matches wherever it occurs as a
substring of an article's folded text (title, source name, body). Scanning 100k bodies
costs ~110 ms a query, so each article gets a signature of its UTF-16 unigrams, bigrams
and trigrams, stored bit-sliced (one packed bit row per signature row, one column per
article). Rows come in two kinds:

- *dedicated* rows, one per gram of a `Vocabulary` (the grams most articles share, chosen
  from a sample of the corpus). A dedicated row is exact: its bit is set exactly for the
  articles containing that gram. So a 1-3 unit term whose gram has a row is answered
  from the row alone, with no text scan, however many articles match (verifying 80k
  candidates would cost ~70 ms).
- *hashed* rows shared by all other grams, Bloom-style: they only rule articles out.
  Frequent grams have rows of their own, so these stay sparse and selective.

Other terms AND the rows of all their grams, which leaves candidates that are then
checked with a real substring test on the article's text. So the answer is always
exactly that of a plain scan. Answers are kept per term; a longer term (typing one more
character) only re-checks the hits of a shorter cached term it contains, and a
multi-word query intersects its terms.

Texts are kept as one UTF-16-LE byte string per `Chunk` (a run of articles, as a
loader batch or the cache delivers them) with byte offsets, never as one `str` per
article: chunks move between processes and the cache as they are, and the substring
test runs `bytes.find` between two offsets (rejecting odd, misaligned positions).
Signatures cost a few numpy passes per code unit (table lookups and scattered bit
writes), ~35 µs an article, cheap enough to build for every file at start-up.

Folding in bulk (`fold_many`, `fold_joined`) uses a lookup table over UTF-16 code units,
built from `text.fold`'s per-character rule, so index and query always agree.
Deliberately not here: ranking (results are shown newest first), query syntax beyond
"all whitespace-separated terms must match".
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from reader.core import accel
from reader.core.text import _fold_char, fold

SIGNATURE_ROWS = 8192
"""Signature rows per article: dedicated rows first, then hashed ones."""
HASHED_ROWS = 2048
"""Rows shared by hashed grams (a power of two)."""
DEDICATED_ROWS = SIGNATURE_ROWS - HASHED_ROWS
"""At most this many grams get an exact row of their own."""
VOCABULARY_SAMPLE = 256
"""Articles sampled to choose the vocabulary (the first batch: the newest posts)."""
VOCABULARY_SAMPLE_CHARS = 8192
"""Of each, only the start is sampled (longer than most posts): counting grams costs
~100 bytes a unit, so 256 posts of a million units would need gigabytes."""
SEPARATOR = "\x00"
"""Joins texts in bulk operations; search texts never contain it."""
MAX_SEARCH_UNITS = 1_000_000
"""A post's folded search text is cut to this many UTF-16 units (~3 MB of Chinese, far
more than any real article), so one hostile file (6 MB of U+FDFA folds 18-fold) costs
bounded memory and time in folding, signatures and the vocabulary."""

_TABLE_BITS = 16
_HASHED_BITS = HASHED_ROWS.bit_length() - 1
_MIX_A = np.uint32(0x9E3779B1)
_MIX_B = np.uint32(0x85EBCA77)
_MAX_CACHED_TERMS = 64
_GROUP = 64
"""Texts whose signatures are built together: their bit matrix stays in the CPU cache."""
_PIECE_UNITS = 1 << 18
"""Units whose grams numpy makes at once (~40 bytes each): 64 long posts stay cheap."""

SlotArray = npt.NDArray[np.int64]
Units = npt.NDArray[np.uint16]


# --- folding -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _fold_tables() -> tuple[Units, npt.NDArray[np.bool_]]:
    """Per UTF-16 unit: its folded unit, and whether it needs the slow path."""
    table = np.arange(0x10000, dtype=np.uint16)
    slow = np.zeros(0x10000, dtype=np.bool_)
    slow[0xD800:0xE000] = True  # astral characters: fold them character by character
    is_normalized = unicodedata.is_normalized
    for code in range(0x80, 0x10000):
        if slow[code]:
            continue
        char = chr(code)
        if is_normalized("NFKC", char) and char.casefold() == char:
            continue  # most characters: a quick check instead of normalising (~10x faster)
        folded = _fold_char(char)
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
    every_unit = "".join(map(chr, range(0x10000)))
    blank[[match.start() for match in re.finditer(r"\s", every_unit)]] = True  # \s is str.isspace
    return blank


def units_of(text: str) -> Units:
    """The UTF-16 code units of `text`."""
    return np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)


def text_of(units: Units) -> str:
    """Inverse of `units_of`."""
    return units.tobytes().decode("utf-16-le", "surrogatepass")


def fold_joined(texts: Sequence[str], limit: int | None = None) -> Units:
    """The folded texts joined by 0 units; texts must not contain the separator.

    With `limit`, each folded text is cut to its first `limit` units (`fold_prefix`).
    """
    table, slow = _fold_tables()
    if limit is not None:
        texts = [text[:limit] for text in texts]  # no copy when already short enough
    units = units_of(SEPARATOR.join(texts))
    if slow[units].any():  # rare: astral or multi-character folds
        return units_of(SEPARATOR.join(fold_prefix(text, limit) for text in texts))
    return table[units]  # one unit per unit: no text got longer than `limit`


_FOLD_STEP = 1 << 16
"""Characters folded at a time by `fold_prefix` (at most 18 units each)."""


def fold_prefix(text: str, limit: int | None) -> str:
    """`fold(text)` cut to its first `limit` UTF-16 units (all of it for None).

    Folds a piece at a time and stops once it has enough, so a text of characters that
    fold to many (U+FDFA gives 18) never makes more than `limit` plus one piece. Folding
    is per character, so the result is exactly a prefix of `fold(text)`.
    """
    if limit is None:
        return fold(text)
    text = text[:limit]  # every character folds to one unit or more
    pieces: list[str] = []
    size = 0
    for start in range(0, len(text), _FOLD_STEP):
        pieces.append(fold(text[start : start + _FOLD_STEP]))
        size += len(pieces[-1])  # characters: never more than units
        if size >= limit:
            break
    return _cut_units("".join(pieces), limit)


def _cut_units(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-16 units, never inside a surrogate pair."""
    if len(text) <= limit // 2:
        return text
    units = units_of(text)
    if units.size <= limit:
        return text
    end = limit - int(0xD800 <= units[limit - 1] < 0xDC00)  # a pair's first half alone
    return text_of(units[:end])


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
    """The grams that own a dedicated signature row, with direct-mapped lookup tables.

    Tables are indexed by a 16-bit hash; a slot holds one dedicated gram (the more
    common one wins a collision, the other stays hashed), so a lookup is two gathers and
    a compare — fast enough to run over every code unit of a corpus.
    """

    keys: npt.NDArray[np.uint64]
    """Gram key per dedicated row (row i belongs to keys[i])."""
    unigram_rows: npt.NDArray[np.int32]
    """Row of every UTF-16 unit as a unigram (dedicated, else hashed; blanks: `TRASH_ROW`)."""
    bigram_keys: npt.NDArray[np.uint32]
    bigram_rows: npt.NDArray[np.int32]
    trigram_heads: npt.NDArray[np.uint32]
    """First two units of the trigram in each slot (its last unit is in `trigram_tails`)."""
    trigram_tails: npt.NDArray[np.uint16]
    trigram_rows: npt.NDArray[np.int32]
    fingerprint: str
    """Identifies the vocabulary, so chunks built with another one are rebuilt."""


TRASH_ROW = SIGNATURE_ROWS
"""Where grams that set no bit go (dropped before packing): non-dedicated trigrams, blanks."""


def make_vocabulary(keys: npt.NDArray[np.uint64]) -> Vocabulary:
    """A vocabulary whose row i is keys[i] (keys are gram keys as made by `_grams`)."""
    keys = np.ascontiguousarray(keys[:DEDICATED_ROWS], dtype=np.uint64)
    rows = np.arange(keys.size, dtype=np.int32)
    unigram_rows = _hashed_rows(np.arange(0x10000, dtype=np.uint32)).astype(np.int32)
    unigram_rows[_blank_units()] = TRASH_ROW
    is_unigram = keys < 0x10000
    unigram_rows[keys[is_unigram].astype(np.int64)] = rows[is_unigram]
    is_bigram = (keys >= 0x10000) & (keys < 0x1_0000_0000)
    bigram = _table(keys[is_bigram].astype(np.uint32), None, rows[is_bigram])
    is_trigram = keys >= 0x1_0000_0000
    heads = (keys[is_trigram] >> np.uint64(16)).astype(np.uint32)
    tails = (keys[is_trigram] & np.uint64(0xFFFF)).astype(np.uint16)
    trigram = _table(heads, tails, rows[is_trigram])
    fingerprint = hashlib.sha1(keys.tobytes()).hexdigest()
    return Vocabulary(keys, unigram_rows, bigram[0], bigram[2], trigram[0], trigram[1], trigram[2], fingerprint)


def _table(heads: npt.NDArray[np.uint32], tails: npt.NDArray[np.uint16] | None,
           rows: npt.NDArray[np.int32]) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint16], npt.NDArray[np.int32]]:
    """A direct-mapped table of (head, tail) -> row; earlier (more common) entries win."""
    slots = _slot(heads, tails)
    tails = np.zeros(heads.size, np.uint16) if tails is None else tails
    _, first = np.unique(slots, return_index=True)
    slot_heads = np.zeros(1 << _TABLE_BITS, dtype=np.uint32)  # 0 never matches: units are non-zero
    slot_tails = np.zeros(1 << _TABLE_BITS, dtype=np.uint16)
    slot_rows = np.full(1 << _TABLE_BITS, TRASH_ROW, dtype=np.int32)
    slot_heads[slots[first]] = heads[first]
    slot_tails[slots[first]] = tails[first]
    slot_rows[slots[first]] = rows[first]
    return slot_heads, slot_tails, slot_rows


def _slot(heads: npt.NDArray[np.uint32], tails: npt.NDArray[np.uint16] | None = None) -> npt.NDArray[np.uint32]:
    """Table slot of a bigram (`heads`) or of a trigram (its first two units, last unit)."""
    mixed = heads * _MIX_A
    if tails is not None:
        mixed ^= tails.astype(np.uint32) * _MIX_B
    mixed *= _MIX_A
    mixed >>= np.uint32(32 - _TABLE_BITS)
    return mixed


def _hashed_rows(keys: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """The hashed row of each gram key (a unit, or two units as `first << 16 | second`)."""
    mixed = keys * _MIX_B
    mixed >>= np.uint32(32 - _HASHED_BITS)
    mixed += np.uint32(DEDICATED_ROWS)
    return mixed


def _sorted_unique(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """`np.unique` by sorting: numpy 2.4's default hash-based unique is ~50x slower here."""
    values = np.sort(values)
    keep = np.ones(values.size, dtype=np.bool_)
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def choose_vocabulary(folded: Sequence[str]) -> Vocabulary:
    """Dedicate rows to the grams found in the most of (a sample of) these texts."""
    sample = [text[:VOCABULARY_SAMPLE_CHARS] for text in folded[:VOCABULARY_SAMPLE]]
    if not sample:
        return make_vocabulary(np.zeros(0, dtype=np.uint64))
    units = units_of(SEPARATOR.join(sample))
    keys, positions = _grams(units)
    owner = np.cumsum(units == 0, dtype=np.uint64)[positions]
    pairs = _sorted_unique((keys << np.uint64(16)) | owner) >> np.uint64(16)
    distinct, counts = np.unique(pairs, return_counts=True)
    order = np.lexsort((distinct, -counts))
    keys = distinct[order]
    return make_vocabulary(np.concatenate([_ALWAYS_DEDICATED, keys[~np.isin(keys, _ALWAYS_DEDICATED)]]))


_ALWAYS_DEDICATED = np.array([ord(c) for c in "0123456789abcdefghijklmnopqrstuvwxyz"], dtype=np.uint64)
"""Latin letters and digits get exact rows even when the sample lacks them: a first
keystroke like "i" (of "ipv6") must not fall back to checking every article."""


def gram_rows(units: Units, vocabulary: Vocabulary) -> Grams:
    """Signature rows of the unigram, bigram and trigram starting at each unit.

    Grams that span a separator or a space get junk rows: never dedicated ones (the
    vocabulary has no blanks), so they can only cost a false candidate, never a miss.
    Each step is one numpy pass (`take` and `where`, no boolean-mask indexing, which
    costs twice as much): this runs over every code unit of the corpus.
    """
    unigrams = np.take(vocabulary.unigram_rows, units)
    wide = units.astype(np.uint32)
    heads = wide[:-1] << np.uint32(16)
    heads |= wide[1:]
    slots = _slot(heads)
    hashed = _hashed_rows(heads).view(np.int32)
    bigrams = np.where(np.take(vocabulary.bigram_keys, slots) == heads, np.take(vocabulary.bigram_rows, slots), hashed)
    heads, tails = heads[:-1], units[2:]
    slots = _slot(heads, tails)
    found = np.take(vocabulary.trigram_heads, slots) == heads
    found &= np.take(vocabulary.trigram_tails, slots) == tails
    trigrams = np.where(found, np.take(vocabulary.trigram_rows, slots), np.int32(TRASH_ROW))
    return Grams(unigrams, bigrams, trigrams)


class Grams(NamedTuple):
    """Rows of the grams starting at each unit of a run (see `gram_rows`)."""

    unigrams: npt.NDArray[np.int32]
    bigrams: npt.NDArray[np.int32]
    trigrams: npt.NDArray[np.int32]
    """`TRASH_ROW` where the trigram has no dedicated row (others are not indexed)."""

    def rows(self) -> npt.NDArray[np.int64]:
        """Every row set, once each (junk `TRASH_ROW` left out)."""
        rows = np.unique(np.concatenate([self.unigrams, self.bigrams, self.trigrams]).astype(np.int64))
        return rows[rows != TRASH_ROW]

    def is_exact(self, length: int) -> bool:
        """Whether a term of `length` units is one gram with a dedicated (exact) row."""
        whole = (self.unigrams, self.bigrams, self.trigrams)[length - 1] if 1 <= length <= 3 else None
        return whole is not None and bool(whole[0] < DEDICATED_ROWS)


# --- signature chunks --------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Chunk:
    """A run of consecutive slots: their folded texts and bit-sliced signatures."""

    start: int
    """Slot of the first text."""
    count: int
    text: bytes
    """The folded texts, UTF-16-LE, joined by U+0000."""
    offsets: npt.NDArray[np.int64]
    """Byte offset where each text starts, plus one past the end (len(text) + 2)."""
    rows: npt.NDArray[np.uint8]
    """rows[r] packs one bit per text: whether its signature has row r."""
    vocabulary: Vocabulary
    """The vocabulary the rows were built with."""

    def text_at(self, number: int) -> str:
        """The folded text of the chunk's text `number`."""
        begin, end = int(self.offsets[number]), int(self.offsets[number + 1]) - 2
        return self.text[begin:end].decode("utf-16-le", "surrogatepass")

    def moved_to(self, start: int, vocabulary: Vocabulary) -> Chunk:
        """This chunk at another slot, its rows rebuilt if made with another vocabulary."""
        rows = self.rows
        if vocabulary.fingerprint != self.vocabulary.fingerprint:
            rows = signatures(np.frombuffer(self.text, np.uint16), self.offsets, vocabulary)
        return Chunk(start, self.count, self.text, self.offsets, rows, vocabulary)


def text_offsets(units: Units, count: int) -> npt.NDArray[np.int64]:
    """Byte offsets of `count` texts joined by 0 units (see `Chunk.offsets`)."""
    offsets = np.empty(count + 1, dtype=np.int64)
    if count == 0:
        offsets[0] = 0
        return offsets
    separators = np.flatnonzero(units == 0)
    if separators.size != count - 1:
        raise ValueError("units do not hold `count` texts")
    offsets[0] = 0
    offsets[1:-1] = (separators + 1) * 2
    offsets[-1] = units.size * 2 + 2
    return offsets


def signatures(units: Units, offsets: npt.NDArray[np.int64], vocabulary: Vocabulary) -> npt.NDArray[np.uint8]:
    """Packed signature rows of the texts at `offsets` in `units` (see `Chunk.rows`).

    Uses the C version (`native/signatures.c`, ~4x faster) when it was built, else numpy;
    both set exactly the same bits.
    """
    count = offsets.size - 1
    rows = np.zeros((SIGNATURE_ROWS, (count + 7) // 8), dtype=np.uint8)
    starts = offsets // 2
    native = accel.library()
    if native is not None and count:
        _call_native(native.reader_signatures, np.ascontiguousarray(units, dtype=np.uint16),
                     np.ascontiguousarray(starts, dtype=np.int64), vocabulary, rows)
        return rows
    for first in range(0, count, _GROUP):
        last = min(first + _GROUP, count)
        group = units[starts[first] : max(starts[first], starts[last] - 1)]
        lengths = np.diff(starts[first : last + 1])
        lengths[-1] -= 1  # the last text of the group has no separator after it
        rows[:, first // 8 : (last + 7) // 8] = _group_signatures(group, lengths, vocabulary)
    return rows


def _call_native(function: Any, units: Units, starts: npt.NDArray[np.int64], vocabulary: Vocabulary,
                 rows: npt.NDArray[np.uint8]) -> None:
    tables = (vocabulary.unigram_rows, vocabulary.bigram_keys, vocabulary.bigram_rows,
              vocabulary.trigram_heads, vocabulary.trigram_tails, vocabulary.trigram_rows)
    expected = (np.int32, np.uint32, np.int32, np.uint32, np.uint16, np.int32)  # what the C code reads
    size = 1 << _TABLE_BITS
    if not all(t.flags.c_contiguous and t.dtype == d and t.size == size for t, d in zip(tables, expected, strict=True)):
        raise ValueError("vocabulary tables must be contiguous full-size arrays of the expected types")
    scratch = np.empty(SIGNATURE_ROWS * (_GROUP // 8), dtype=np.uint8)
    function(
        units.ctypes.data, starts.ctypes.data, starts.size - 1, *(table.ctypes.data for table in tables),
        _TABLE_BITS, int(_MIX_A), int(_MIX_B), _HASHED_BITS, DEDICATED_ROWS, SIGNATURE_ROWS,
        rows.ctypes.data, rows.shape[1], scratch.ctypes.data,
    )


def _group_signatures(units: Units, lengths: npt.NDArray[np.int64], vocabulary: Vocabulary) -> npt.NDArray[np.uint8]:
    """Packed signature rows of a few texts joined by 0 units (`lengths` in units, + separator)."""
    count = lengths.size
    width = SIGNATURE_ROWS + 1
    matrix = np.zeros(width * count, dtype=np.bool_)  # row-major: one row per signature bit
    bounds = np.concatenate([[0], np.cumsum(lengths)])  # text t spans bounds[t]:bounds[t + 1]
    numbers = np.arange(count, dtype=np.int32)
    # In pieces of `_PIECE_UNITS`, each with the two units after it so that every gram
    # starting in it is whole; a gram made twice sets the same bit twice.
    for start in range(0, units.size, _PIECE_UNITS):
        stop = min(start + _PIECE_UNITS + 2, units.size)
        owner = np.repeat(numbers, np.diff(np.clip(bounds, start, stop)))
        grams = gram_rows(units[start:stop], vocabulary)
        for rows, owners in ((grams.unigrams, owner), (grams.bigrams, owner[:-1]), (grams.trigrams, owner[:-2])):
            rows *= np.int32(count)
            rows += owners
            matrix[rows] = True
    return np.packbits(matrix.reshape(width, count)[:SIGNATURE_ROWS], axis=1)


def build_chunk(start: int, folded: list[str], vocabulary: Vocabulary) -> Chunk:
    """A chunk of already folded texts occupying slots start, start+1, …"""
    units = units_of(SEPARATOR.join(folded)) if folded else np.zeros(0, np.uint16)
    offsets = text_offsets(units, len(folded))
    return Chunk(start, len(folded), units.tobytes(), offsets, signatures(units, offsets, vocabulary), vocabulary)


# --- the index ---------------------------------------------------------------------------


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
        if len(self._answers) > _MAX_CACHED_TERMS:
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
            candidates, _, where = np.intersect1d(candidates, answer.hits, assume_unique=True, return_indices=True)
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

    def _verify(self, needle: bytes, candidates: SlotArray, starts: npt.NDArray[np.int64] | None,
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
                positions[index] = _aligned_find(chunk.text, needle, int(positions[index]) + 1, int(ends[index]))
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
