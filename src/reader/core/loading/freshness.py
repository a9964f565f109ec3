"""Which cached files still hold: the same path, size and modification time as on disk.

Checking 100k files costs ~0.35 s of system calls, so `FileKeys` stats them in a thread
while the cache is read, a block per call to `accel.stat_many`.
Deliberately not here: reading the cache (`cache_file.py`), deciding what to re-read (`plan.py`).
"""

from __future__ import annotations

import threading

import numpy as np

from reader.core import accel
from reader.core.records import ReadResult
from reader.core.search import text_offsets


class FileKeys:
    """(size, mtime_ns) of the files found, stat'ed by a thread in the order given.

    Checking 100k files costs ~0.35 s of system calls, so the thread does it while the
    cache is read, a block of files per call to `accel.stat_many` (which lets go of the
    interpreter lock once per block, not once per file); `get` only waits when asked for
    a file the thread has not reached yet (the cache holds files in the order found).
    """

    _BLOCK = 2048

    def __init__(self, paths: list[str]) -> None:
        self.find = set(paths)
        self._known: dict[str, tuple[int, int] | None] = {}
        self._done = False
        self._changed = threading.Condition()
        threading.Thread(target=self._run, args=(paths,), name="reader-stat", daemon=True).start()

    def _run(self, paths: list[str]) -> None:
        try:
            for start in range(0, len(paths), self._BLOCK):
                chunk = paths[start : start + self._BLOCK]
                block = dict(zip(chunk, accel.stat_many(chunk), strict=True))
                with self._changed:
                    self._known.update(block)
                    self._changed.notify_all()
        finally:
            with self._changed:
                self._done = True
                self._changed.notify_all()

    def get(self, path: str) -> tuple[int, int] | None:
        """The file's key, or None when it was not found or cannot be stat'ed now."""
        if path not in self.find:
            return None
        if path not in self._known:
            with self._changed:
                self._changed.wait_for(lambda: path in self._known or self._done)
        return self._known.get(path)

    def keys_of(self, paths: list[str]) -> list[tuple[int, int] | None]:
        """`get` for many files (without a Python call per file when all are known)."""
        keys = list(map(self._known.get, paths))
        if None in keys:
            keys = [self.get(path) if key is None else key for path, key in zip(paths, keys, strict=True)]
        return keys


class StatKeys:
    """(size, mtime_ns) of a few files, stat'ed at once (any file may be asked about)."""

    def __init__(self, paths: list[str]) -> None:
        self._known = dict(zip(paths, accel.stat_many(paths), strict=True))

    def keys_of(self, paths: list[str]) -> list[tuple[int, int] | None]:
        return list(map(self._known.get, paths))

    def get(self, path: str) -> tuple[int, int] | None:
        return self._known.get(path)


def still_valid(result: ReadResult, keys: FileKeys | StatKeys) -> ReadResult:
    """The part of a cached result whose files were found and have the same size and mtime."""
    current = keys.keys_of([record.path for record in result.records])
    keep = [
        key == (record.size, record.mtime_ns) for key, record in zip(current, result.records, strict=True)
    ]
    problems = [p for p in result.problems if keys.get(p[0]) == (p[1], p[2])]
    if all(keep):
        if len(problems) == len(result.problems):
            return result
        return ReadResult(result.records, result.texts, result.offsets, result.rows, problems)
    numbers = [number for number, kept in enumerate(keep) if kept]
    records = [result.records[number] for number in numbers]
    offsets = result.offsets.tolist()
    texts = b"\0\0".join(result.texts[offsets[n] : offsets[n + 1] - 2] for n in numbers)
    bits = np.unpackbits(result.rows, axis=1, count=len(keep))[:, np.array(keep, dtype=np.bool_)]
    units = np.frombuffer(texts, np.uint16)
    return ReadResult(records, texts, text_offsets(units, len(records)), np.packbits(bits, axis=1), problems)
