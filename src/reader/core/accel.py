"""The optional C accelerator (`native/signatures.c`, `native/search_text.c`), loaded with ctypes.

It is compiled at install time by `hatch_build.py` when a C compiler is there: into the
wheel beside its sources (`native/_accel.so`), or for an editable install into the
checkout's `build/native/` (git-ignored). Every function here has a pure-Python twin that
gives the same answers, used when the library is missing, was built from other sources
than the ones installed beside this file (see `native/__init__.py`), or
`READER_PURE_PYTHON` is set; `backend()` says which runs and why (`reader --version`).
The foreign calls release the interpreter lock, so they also run without waiting on a
busy UI thread.
"""

from __future__ import annotations

import ctypes
import os
import sys
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from reader.core import native

PACKAGED_LIBRARY = os.path.join(native.HERE, native.LIBRARY_NAME)
"""Where a wheel puts the library."""
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(native.HERE))))
CHECKOUT_LIBRARY = os.path.join(_ROOT, *native.BUILD_FOLDER, native.LIBRARY_NAME)
"""Where an editable install of a checkout (`<root>/src/reader/…`) puts it."""

_u16p, _i64p = ctypes.POINTER(ctypes.c_uint16), ctypes.POINTER(ctypes.c_int64)
_i32p, _u32p, _u8p = (
    ctypes.POINTER(ctypes.c_int32),
    ctypes.POINTER(ctypes.c_uint32),
    ctypes.POINTER(ctypes.c_uint8),
)


class SignatureJob(ctypes.Structure):
    """The arguments of `reader_signatures`, by name (`reader_signature_job` in signatures.c)."""

    _fields_ = [
        ("units", _u16p),
        ("starts", _i64p),
        ("count", ctypes.c_int64),
        ("unigram_rows", _i32p),
        ("bigram_keys", _u32p),
        ("bigram_rows", _i32p),
        ("trigram_heads", _u32p),
        ("trigram_tails", _u16p),
        ("trigram_rows", _i32p),
        ("table_bits", ctypes.c_int32),
        ("mix_a", ctypes.c_uint32),
        ("mix_b", ctypes.c_uint32),
        ("hashed_bits", ctypes.c_int32),
        ("dedicated_rows", ctypes.c_int32),
        ("signature_rows", ctypes.c_int32),
        ("out", _u8p),
        ("row_bytes", ctypes.c_int64),
        ("scratch", _u8p),
    ]


def candidates() -> list[str]:
    """Library files to try, in order: `$READER_NATIVE_LIBRARY` alone when set."""
    chosen = os.environ.get("READER_NATIVE_LIBRARY")
    if chosen:
        return [chosen]
    return [PACKAGED_LIBRARY, CHECKOUT_LIBRARY]


class Refusal(NamedTuple):
    """Why a library is not used."""

    summary: str
    """A few words, for `reader --version`: "not built", "stale: reinstall", …"""
    detail: str
    """The whole story (paths, hashes, the loader's error), for tests and debugging."""


NOT_BUILT = Refusal("not built", "the C accelerator was not built (no C compiler at install time?)")


def load(path: str, sources: str = native.HERE) -> tuple[Any, Refusal | None]:
    """(the library at `path` with its functions typed, None) or (None, why not).

    Refused unless it was built from exactly the sources in `sources`.
    """
    if not os.path.isfile(path):
        return None, NOT_BUILT if path in (PACKAGED_LIBRARY, CHECKOUT_LIBRARY) else Refusal(
            "not found", f"no library at {path}"
        )
    try:
        loaded = ctypes.CDLL(os.path.abspath(path))
        built_from = loaded.reader_sources_hash
        job_size = loaded.reader_signature_job_size
    except (OSError, AttributeError) as error:  # AttributeError: an older build
        return None, Refusal("unusable: reinstall", f"the C accelerator at {path} cannot be used ({error})")
    built_from.argtypes, built_from.restype = [], ctypes.c_char_p
    expected = native.sources_hash(sources)
    if expected is None:
        return None, Refusal("sources missing", f"the C accelerator's sources are missing from {sources}")
    found = (built_from() or b"").decode("ascii", "replace")
    if found != expected:
        detail = (
            f"the C accelerator at {path} was built from other sources ({found[:12]}, not {expected[:12]})"
        )
        return None, Refusal("stale: reinstall", detail)
    job_size.argtypes, job_size.restype = [], ctypes.c_int64
    if job_size() != ctypes.sizeof(SignatureJob):
        return None, Refusal(
            "unusable: reinstall", f"the C accelerator at {path} lays out its arguments differently"
        )
    _declare(loaded)
    return loaded, None


def _declare(loaded: Any) -> None:
    pointer, i64 = ctypes.c_void_p, ctypes.c_int64
    loaded.reader_signatures.argtypes = [ctypes.POINTER(SignatureJob)]
    loaded.reader_signatures.restype = None
    loaded.reader_stat_many.argtypes = [ctypes.c_char_p, i64, pointer]
    loaded.reader_stat_many.restype = None
    loaded.reader_list_dir.argtypes = [ctypes.c_char_p, pointer, i64]
    loaded.reader_list_dir.restype = i64
    loaded.reader_search_text.argtypes = [
        ctypes.c_char_p,
        i64,
        ctypes.c_char_p,
        i64,
        pointer,
        pointer,
        pointer,
        pointer,
    ]
    loaded.reader_search_text.restype = i64


_why_not: Refusal | None = None


@lru_cache(maxsize=1)
def library() -> Any:
    """The loaded library with its functions typed, or None (`backend()` says why)."""
    global _why_not
    if os.environ.get("READER_PURE_PYTHON"):
        _why_not = Refusal("READER_PURE_PYTHON set", "READER_PURE_PYTHON is set")
        return None
    refusals: list[Refusal] = []
    for path in candidates():
        loaded, why = load(path)
        if loaded is not None:
            _why_not = None
            return loaded
        if why is not None:
            refusals.append(why)
    _why_not = next((why for why in refusals if why != NOT_BUILT), NOT_BUILT)
    return None


def backend(detail: bool = False) -> str:
    """Which implementation runs: "C accelerator", or "Python/numpy, C accelerator <why not>"
    (in a few words, or with `detail` the whole story)."""
    if library() is not None or _why_not is None:
        return "C accelerator"
    if detail:
        return f"Python/numpy: {_why_not.detail}"
    if _why_not.summary.startswith("READER_"):
        return f"Python/numpy, {_why_not.summary}"
    return f"Python/numpy, C accelerator {_why_not.summary}"


def signatures(job: SignatureJob) -> bool:
    """Run `reader_signatures(job)`; False (nothing done) when the library is missing."""
    loaded = library()
    if loaded is None:
        return False
    loaded.reader_signatures(ctypes.byref(job))
    return True


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
            return (
                buffer[:used].tobytes().decode(sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())
            )
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
