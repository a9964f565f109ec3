"""Reading a corpus file without ever blocking or writing: the one place that opens files.

A path found as a regular file can be swapped for a FIFO or a device before it is read;
a plain `open()` would then block forever (or read without end). So files are opened
non-blocking and must still be regular files once open.
"""

from __future__ import annotations

import os
import stat


class NotRegularFile(OSError):
    """The path is (now) a FIFO, device, directory or other non-regular file."""


def read_regular_file(path: str, limit: int) -> tuple[bytes, int]:
    """Up to `limit` bytes of the regular file at `path`, and its mtime_ns once open.

    Raises FileNotFoundError, NotRegularFile or another OSError.
    """
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(f"{path} is not a regular file")
        with os.fdopen(descriptor, "rb", closefd=True) as handle:
            descriptor = -1
            return handle.read(limit), info.st_mtime_ns
    finally:
        if descriptor >= 0:
            os.close(descriptor)
