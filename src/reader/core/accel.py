"""The optional C accelerator (`native/signatures.c`, `native/search_text.c`), loaded with ctypes.

It is compiled at install time by `hatch_build.py` when a C compiler is there; every
function here has a pure-Python twin that gives the same answers, used when the library
is missing or `READER_PURE_PYTHON` is set. The foreign calls release the interpreter
lock, so they also run without waiting on a busy UI thread.
"""

from __future__ import annotations

import ctypes
import os
import sys
from functools import lru_cache
from typing import Any

import numpy as np

LIBRARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "native", "_accel.so")


@lru_cache(maxsize=1)
def library() -> Any:
    """The loaded library with its functions typed, or None."""
    if os.environ.get("READER_PURE_PYTHON"):
        return None
    try:
        loaded = ctypes.CDLL(LIBRARY)
    except OSError:
        return None
    pointer, i64, i32, u32 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int32, ctypes.c_uint32
    loaded.reader_signatures.argtypes = [
        pointer, pointer, i64, pointer, pointer, pointer, pointer, pointer, pointer,
        i32, u32, u32, i32, i32, i32, pointer, i64, pointer,
    ]
    loaded.reader_signatures.restype = None
    loaded.reader_stat_many.argtypes = [ctypes.c_char_p, i64, pointer]
    loaded.reader_stat_many.restype = None
    loaded.reader_list_dir.argtypes = [ctypes.c_char_p, pointer, i64]
    loaded.reader_list_dir.restype = i64
    loaded.reader_search_text.argtypes = [
        ctypes.c_char_p, i64, ctypes.c_char_p, i64, pointer, pointer, pointer, pointer,
    ]
    loaded.reader_search_text.restype = i64
    return loaded


def list_dir(path: str) -> str | None:
    """The entries of a directory but "." and "..", as "<kind><name>\0" each: kind is
    f(ile), d(irectory), l(ink), o(ther) or u(nknown). None when the library is missing
    or the directory cannot be read (the caller then uses os.scandir, which says why)."""
    loaded = library()
    if loaded is None:
        return None
    try:
        encoded = os.fsencode(path)
    except (UnicodeError, TypeError):
        return None
    if b"\0" in encoded:
        return None
    capacity = 8 << 20
    for _ in range(5):  # the directory can grow between two calls
        buffer = np.empty(capacity, dtype=np.uint8)
        used = loaded.reader_list_dir(encoded, buffer.ctypes.data, capacity)
        if used < 0:
            return None
        if used <= capacity:
            return buffer[:used].tobytes().decode(sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())
        capacity = used + (1 << 16)
    return None


def stat_many(paths: list[str]) -> list[tuple[int, int] | None]:
    """(size, mtime_ns) of each file, or None where it cannot be stat'ed."""
    loaded = library()
    if loaded is None or not paths:
        return [_stat(path) for path in paths]
    try:
        blob = b"\0".join(map(os.fsencode, paths)) + b"\0"
    except (UnicodeError, TypeError):
        return [_stat(path) for path in paths]
    if blob.count(b"\0") != len(paths):  # a NUL inside a path: not a path C can take
        return [_stat(path) for path in paths]
    out = np.empty(2 * len(paths), dtype=np.int64)
    loaded.reader_stat_many(blob, len(paths), out.ctypes.data)
    pairs = out.reshape(-1, 2).tolist()
    return [None if size < 0 else (size, mtime) for size, mtime in pairs]


def _stat(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_size, info.st_mtime_ns
