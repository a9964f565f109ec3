"""Bit-sliced signatures: the `Chunk` (a run of articles' texts and signature rows) and
the two builders of its rows, numpy here and C (`native/signatures.c`, ~4x faster) when
the accelerator is built. Both set exactly the same bits (tests compare them).

Signatures cost a few numpy passes per code unit (table lookups and scattered bit
writes), ~35 µs an article, cheap enough to build for every file at start-up.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from reader.core import accel
from reader.core.search.folding import SEPARATOR, Units, text_offsets, units_of
from reader.core.search.vocabulary import (
    DEDICATED_ROWS,
    HASHED_BITS,
    MIX_A,
    MIX_B,
    SIGNATURE_ROWS,
    TABLE_BITS,
    Vocabulary,
    gram_rows,
)

GROUP = 64
"""Texts whose signatures are built together: their bit matrix stays in the CPU cache.
`native/signatures.c` uses the same groups (so the junk bits of grams spanning a separator
are the same too)."""
PIECE_UNITS = 1 << 18
"""Units whose grams numpy makes at once (~40 bytes each): 64 long posts stay cheap."""


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


def signatures(units: Units, offsets: npt.NDArray[np.int64], vocabulary: Vocabulary) -> npt.NDArray[np.uint8]:
    """Packed signature rows of the texts at `offsets` in `units` (see `Chunk.rows`).

    Uses the C version (`native/signatures.c`, ~4x faster) when it was built, else numpy;
    both set exactly the same bits.
    """
    count = offsets.size - 1
    rows = np.zeros((SIGNATURE_ROWS, (count + 7) // 8), dtype=np.uint8)
    starts = offsets // 2
    if count and _native_signatures(units, starts, vocabulary, rows):
        return rows
    for first in range(0, count, GROUP):
        last = min(first + GROUP, count)
        group = units[starts[first] : max(starts[first], starts[last] - 1)]
        lengths = np.diff(starts[first : last + 1])
        lengths[-1] -= 1  # the last text of the group has no separator after it
        rows[:, first // 8 : (last + 7) // 8] = _group_signatures(group, lengths, vocabulary)
    return rows


_TABLE_TYPES = {
    "unigram_rows": np.int32,
    "bigram_keys": np.uint32,
    "bigram_rows": np.int32,
    "trigram_heads": np.uint32,
    "trigram_tails": np.uint16,
    "trigram_rows": np.int32,
}
"""The vocabulary's tables as `native/signatures.c` reads them."""


def _native_signatures(
    units: Units, starts: npt.NDArray[np.int64], vocabulary: Vocabulary, rows: npt.NDArray[np.uint8]
) -> bool:
    """Fill `rows` with C; False (nothing done) when the accelerator is not there."""
    if accel.library() is None:
        return False
    tables = {name: getattr(vocabulary, name) for name in _TABLE_TYPES}
    if not all(
        table.flags.c_contiguous and table.dtype == _TABLE_TYPES[name] and table.size == 1 << TABLE_BITS
        for name, table in tables.items()
    ):
        raise ValueError("vocabulary tables must be contiguous full-size arrays of the expected types")
    units = np.ascontiguousarray(units, dtype=np.uint16)
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    scratch = np.empty(SIGNATURE_ROWS * (GROUP // 8), dtype=np.uint8)
    job = accel.SignatureJob(
        units=_pointer(units),
        starts=_pointer(starts),
        count=starts.size - 1,
        **{name: _pointer(table) for name, table in tables.items()},
        table_bits=TABLE_BITS,
        mix_a=int(MIX_A),
        mix_b=int(MIX_B),
        hashed_bits=HASHED_BITS,
        dedicated_rows=DEDICATED_ROWS,
        signature_rows=SIGNATURE_ROWS,
        out=_pointer(rows),
        row_bytes=rows.shape[1],
        scratch=_pointer(scratch),
    )
    return accel.signatures(job)  # the arrays above live until it returns


def _pointer(array: npt.NDArray[Any]) -> Any:
    """A typed ctypes pointer to the first element of a contiguous array."""
    return array.ctypes.data_as(ctypes.POINTER(np.ctypeslib.as_ctypes_type(array.dtype)))


def _group_signatures(
    units: Units, lengths: npt.NDArray[np.int64], vocabulary: Vocabulary
) -> npt.NDArray[np.uint8]:
    """Packed signature rows of a few texts joined by 0 units (`lengths` in units, + separator)."""
    count = lengths.size
    width = SIGNATURE_ROWS + 1
    matrix = np.zeros(width * count, dtype=np.bool_)  # row-major: one row per signature bit
    bounds = np.concatenate([[0], np.cumsum(lengths)])  # text t spans bounds[t]:bounds[t + 1]
    numbers = np.arange(count, dtype=np.int32)
    # In pieces of `PIECE_UNITS`, each with the two units after it so that every gram
    # starting in it is whole; a gram made twice sets the same bit twice.
    for start in range(0, units.size, PIECE_UNITS):
        stop = min(start + PIECE_UNITS + 2, units.size)
        owner = np.repeat(numbers, np.diff(np.clip(bounds, start, stop)))
        grams = gram_rows(units[start:stop], vocabulary)
        for rows, owners in (
            (grams.unigrams, owner),
            (grams.bigrams, owner[:-1]),
            (grams.trigrams, owner[:-2]),
        ):
            rows *= np.int32(count)
            rows += owners
            matrix[rows] = True
    return np.packbits(matrix.reshape(width, count)[:SIGNATURE_ROWS], axis=1)


def build_chunk(start: int, folded: list[str], vocabulary: Vocabulary) -> Chunk:
    """A chunk of already folded texts occupying slots start, start+1, …"""
    units = units_of(SEPARATOR.join(folded)) if folded else np.zeros(0, np.uint16)
    offsets = text_offsets(units, len(folded))
    return Chunk(
        start, len(folded), units.tobytes(), offsets, signatures(units, offsets, vocabulary), vocabulary
    )
