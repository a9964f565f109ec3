"""Reading a corpus file without ever blocking or writing: the one place that opens files.

A path found as a regular file can be swapped for a FIFO or a device before it is read;
a plain `open()` would then block forever (or read without end). So files are opened
non-blocking and must still be regular files once open. Reading uses `os.read` on the
descriptor (no buffered file object): at 100k files per start-up every microsecond counts.
"""

from __future__ import annotations

import os
import stat

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


class NotRegularFile(OSError):
    """The path is (now) a FIFO, device, directory or other non-regular file."""


def read_regular_file(path: str, limit: int) -> tuple[bytes | None, int, int]:
    """(data, size, mtime_ns) of the regular file at `path`, size and mtime seen once open.

    `data` is None when the file is over `limit` bytes (it is then not read); it can be
    `limit + 1` bytes long when the file grew while being read.
    Raises FileNotFoundError, NotRegularFile or another OSError.
    """
    descriptor = os.open(path, _FLAGS)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(f"{path} is not a regular file")
        if info.st_size > limit:
            return None, info.st_size, info.st_mtime_ns
        wanted = info.st_size + 1
        data = os.read(descriptor, wanted)
        if len(data) < wanted:  # the usual case: the whole file, then end of file
            return data, info.st_size, info.st_mtime_ns
        pieces = [data]  # it grew since fstat: read on, up to one byte past the limit
        total = len(data)
        while total <= limit:
            more = os.read(descriptor, limit + 1 - total)
            if not more:
                break
            pieces.append(more)
            total += len(more)
        return b"".join(pieces), info.st_size, info.st_mtime_ns
    finally:
        os.close(descriptor)
