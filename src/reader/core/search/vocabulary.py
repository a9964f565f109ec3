"""Grams, their signature rows, and the vocabulary of grams that own a row.

A search signature has `SIGNATURE_ROWS` rows: the first `DEDICATED_ROWS` belong one each
to the grams of a `Vocabulary` (the unigrams, bigrams and trigrams most articles share,
chosen from a sample of the corpus), so their bit is exact; all other unigrams and
bigrams share `HASHED_ROWS` rows by hash, Bloom-style, and other trigrams set nothing.
`gram_rows` maps every unit of a text to the rows of the grams starting there; the
signature builders (`chunks.py`, and `native/signatures.c` with the same constants)
and the query engine (`index.py`) both go through it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from reader.core.search.folding import SEPARATOR, Units, blank_units, units_of

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

TABLE_BITS = 16
"""Slots of the vocabulary's lookup tables: 1 << TABLE_BITS."""
HASHED_BITS = HASHED_ROWS.bit_length() - 1
MIX_A = np.uint32(0x9E3779B1)
"""Multipliers of the hash that picks table slots and hashed rows."""
MIX_B = np.uint32(0x85EBCA77)


def gram_keys(units: Units) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    """Key and start position of every unigram, bigram and trigram free of blank units.

    Keys cannot collide across sizes: units are non-zero, so a bigram key is >= 2**16
    and a trigram key >= 2**32.
    """
    size = units.size
    wide = units.astype(np.uint64)
    solid = ~blank_units()[units]
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
    """A vocabulary whose row i is keys[i] (keys are gram keys as made by `gram_keys`)."""
    keys = np.ascontiguousarray(keys[:DEDICATED_ROWS], dtype=np.uint64)
    rows = np.arange(keys.size, dtype=np.int32)
    unigram_rows = hashed_rows(np.arange(0x10000, dtype=np.uint32)).astype(np.int32)
    unigram_rows[blank_units()] = TRASH_ROW
    is_unigram = keys < 0x10000
    unigram_rows[keys[is_unigram].astype(np.int64)] = rows[is_unigram]
    is_bigram = (keys >= 0x10000) & (keys < 0x1_0000_0000)
    bigram = _table(keys[is_bigram].astype(np.uint32), None, rows[is_bigram])
    is_trigram = keys >= 0x1_0000_0000
    heads = (keys[is_trigram] >> np.uint64(16)).astype(np.uint32)
    tails = (keys[is_trigram] & np.uint64(0xFFFF)).astype(np.uint16)
    trigram = _table(heads, tails, rows[is_trigram])
    fingerprint = hashlib.sha1(keys.tobytes()).hexdigest()
    return Vocabulary(
        keys, unigram_rows, bigram[0], bigram[2], trigram[0], trigram[1], trigram[2], fingerprint
    )


def _table(
    heads: npt.NDArray[np.uint32], tails: npt.NDArray[np.uint16] | None, rows: npt.NDArray[np.int32]
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint16], npt.NDArray[np.int32]]:
    """A direct-mapped table of (head, tail) -> row; earlier (more common) entries win."""
    slots = slot_of(heads, tails)
    tails = np.zeros(heads.size, np.uint16) if tails is None else tails
    _, first = np.unique(slots, return_index=True)
    slot_heads = np.zeros(1 << TABLE_BITS, dtype=np.uint32)  # 0 never matches: units are non-zero
    slot_tails = np.zeros(1 << TABLE_BITS, dtype=np.uint16)
    slot_rows = np.full(1 << TABLE_BITS, TRASH_ROW, dtype=np.int32)
    slot_heads[slots[first]] = heads[first]
    slot_tails[slots[first]] = tails[first]
    slot_rows[slots[first]] = rows[first]
    return slot_heads, slot_tails, slot_rows


def slot_of(
    heads: npt.NDArray[np.uint32], tails: npt.NDArray[np.uint16] | None = None
) -> npt.NDArray[np.uint32]:
    """Table slot of a bigram (`heads`) or of a trigram (its first two units, last unit)."""
    mixed = heads * MIX_A
    if tails is not None:
        mixed ^= tails.astype(np.uint32) * MIX_B
    mixed *= MIX_A
    mixed >>= np.uint32(32 - TABLE_BITS)
    return mixed


def hashed_rows(keys: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """The hashed row of each gram key (a unit, or two units as `first << 16 | second`)."""
    mixed = keys * MIX_B
    mixed >>= np.uint32(32 - HASHED_BITS)
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
    keys, positions = gram_keys(units)
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
    slots = slot_of(heads)
    hashed = hashed_rows(heads).view(np.int32)
    bigrams = np.where(
        np.take(vocabulary.bigram_keys, slots) == heads, np.take(vocabulary.bigram_rows, slots), hashed
    )
    heads, tails = heads[:-1], units[2:]
    slots = slot_of(heads, tails)
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
        rows: npt.NDArray[np.int64] = np.unique(
            np.concatenate([self.unigrams, self.bigrams, self.trigrams]).astype(np.int64)
        )
        kept: npt.NDArray[np.int64] = rows[rows != TRASH_ROW]
        return kept

    def is_exact(self, length: int) -> bool:
        """Whether a term of `length` units is one gram with a dedicated (exact) row."""
        whole = (self.unigrams, self.bigrams, self.trigrams)[length - 1] if 1 <= length <= 3 else None
        return whole is not None and bool(whole[0] < DEDICATED_ROWS)
