"""A run of posts' folded search texts, built in one UTF-16 buffer as files are read.

Loading spends most of its time here: turning each body into search text
(`body.search_body`) and folding it (`text.fold`). With the C accelerator,
`FoldedTexts.add_post` does both for a post's raw UTF-8 body in one call (~10x faster),
and finds its URL on the way; when C declines (see `native/search_text.c`) or is not
built, the caller takes the Python path and hands over the text with `add`. Both give
the same texts (`tests/core/test_search_text.py`), each cut to its first
`MAX_SEARCH_UNITS` units here, the one place every path goes through. A post without a
URL is known by a hash of its folded text (`text_identity`), the same on both paths.

Deliberately not here: what is searched (the loader decides), the index (`index.py`).
"""

from __future__ import annotations

import ctypes
import hashlib

import numpy as np
import numpy.typing as npt

from reader.core import accel
from reader.core.search.folding import (
    MAX_SEARCH_UNITS,
    SEPARATOR,
    Units,
    fold_joined,
    fold_tables,
    text_of,
    text_offsets,
)

IDENTITY_PREFIX = "text:"
"""Starts the identity of a post known by its text (a URL or a path never does)."""


def text_identity(units: Units) -> str:
    """The identity of a post without a URL: a hash of its folded search text (title,
    source name, body), so one post under two file names is one article and a renamed
    file keeps its marks. Stable across versions while folding and `search_body` are
    (`tests/core/test_identity.py` pins one); the same units give it on any machine."""
    data = units.astype("<u2", copy=False).tobytes()
    return IDENTITY_PREFIX + hashlib.blake2b(data, digest_size=16).hexdigest()


class FoldedTexts:
    """Folded texts joined by 0 units, with their offsets (the shape `chunks.Chunk` keeps)."""

    def __init__(self) -> None:
        library = accel.library()
        self._search_text = library.reader_search_text if library is not None else None
        self._pending: list[str] = []
        """Unfolded texts, without C: folded together at the end (numpy, by table)."""
        self._units: Units = np.empty(1 << 16, dtype=np.uint16)
        self._address = self._units.ctypes.data
        self._used = 0
        self._starts: list[int] = []
        self._url = (ctypes.c_int64 * 2)()
        if self._search_text is not None:
            table, slow = fold_tables()
            self._tables = (table.ctypes.data, slow.ctypes.data)

    @property
    def native(self) -> bool:
        """Whether `add_post` can work (the C accelerator is there)."""
        return self._search_text is not None

    def __len__(self) -> int:
        return len(self._starts) + len(self._pending)

    def add_post(self, prefix: str, body: bytes) -> tuple[int, int] | None:
        """Add fold(prefix + search_body(body)) for a UTF-8 body; return the byte span of its
        URL (`find_url`), (-1, -1) when it has none. None when C declines or is missing:
        nothing was added, and the caller adds the text from Python with `add`."""
        if self._search_text is None:
            return None
        encoded = prefix.encode("utf-8", "surrogatepass")
        start = self._reserve(len(encoded) + 2 * len(body))
        written = self._search_text(
            encoded,
            len(encoded),
            body,
            len(body),
            *self._tables,
            self._address + 2 * start,
            self._url,
        )
        if written < 0:
            return None
        # C folds one unit to one unit (it declines the rest), so this is a prefix of
        # what the Python path keeps; the body is not cut before, as its URL is at the end.
        self._commit(start, min(written, MAX_SEARCH_UNITS))
        return self._url[0], self._url[1]

    def add(self, text: str) -> None:
        """Add fold(text), for a text from the Python path; it must not contain U+0000."""
        if self._search_text is None:
            self._pending.append(text)
            return
        units = fold_joined([text], MAX_SEARCH_UNITS)
        start = self._reserve(units.size)
        self._units[start : start + units.size] = units
        self._commit(start, units.size)

    def finish(self) -> tuple[Units, npt.NDArray[np.int64]]:
        """The joined units and the byte offset of each text plus one past the end."""
        if self._pending:
            units = fold_joined(self._pending, MAX_SEARCH_UNITS)
            return units, text_offsets(units, len(self._pending))
        if not self._starts:
            return self._units[:0], np.zeros(1, dtype=np.int64)
        units = self._units[: self._used]
        offsets = np.array([*self._starts, self._used + 1], dtype=np.int64) * 2
        return units, offsets

    def texts(self) -> list[str]:
        """The folded texts, one `str` each (for tests and small callers)."""
        units, _ = self.finish()
        return text_of(units).split(SEPARATOR) if len(self) else []

    def _reserve(self, units: int) -> int:
        """Room for a text of up to `units` units; returns where it starts."""
        start = self._used + 1 if self._starts else 0  # after the separator
        needed = start + units
        if needed > self._units.size:
            grown = np.empty(max(needed, 2 * self._units.size), dtype=np.uint16)
            grown[: self._used] = self._units[: self._used]
            self._units = grown
            self._address = grown.ctypes.data
        return start

    def _commit(self, start: int, written: int) -> None:
        if self._starts:
            self._units[self._used] = 0
        self._starts.append(start)
        self._used = start + written
