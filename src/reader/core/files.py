"""Reading a corpus file without ever blocking or writing, and decoding its bytes.

A path found as a regular file can be swapped for a FIFO or a device before it is read;
a plain `open()` would then block forever (or read without end). So files are opened
non-blocking and must still be regular files once open. Reading uses `os.read` on the
descriptor (no buffered file object): at 100k files per start-up every microsecond counts.
"""

from __future__ import annotations

import codecs
import errno
import os
import re
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


# --- decoding --------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str | None]:
    """Bytes to text; returns (text, note) where note is a warning about how it was decoded.

    UTF-8 (with or without BOM) is the norm; a last character cut off (a truncated
    copy) becomes U+FFFD rather than losing the post. UTF-32 and UTF-16 are used when a
    BOM says so; GB18030 (a superset of GBK) when the bytes are not UTF-8 but decode as
    Chinese text (`_looks_chinese`), since almost any bytes decode as *something* in it.
    Raises ValueError for anything else.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: FF FE starts both
        try:
            return data.decode("utf-32"), "decoded as UTF-32"
        except UnicodeDecodeError:
            pass  # FF FE 00 00 can also be UTF-16 with a U+0000 first
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "decoded as UTF-16"
        except UnicodeDecodeError:
            raise ValueError("not valid UTF-16 despite its byte-order mark") from None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        if error.end == len(data) and error.reason == "unexpected end of data":
            return _cut_off(data, error.start)
    if b"\x00" in data:
        raise ValueError("binary file (not UTF-8 text)")
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is None or _mostly_utf8(data) or not _looks_chinese(text):
        raise ValueError("not UTF-8 text, nor GB18030 Chinese")
    return text, "decoded as GB18030 (not UTF-8)"


def _mostly_utf8(data: bytes) -> bool:
    """UTF-8 with a few bad bytes (a lone surrogate, a stray byte): its multi-byte characters
    also pair up as GBK ideographs, so the GB18030 reading must not win. GBK text read as
    UTF-8 fails on nearly every non-ASCII byte."""
    text = _ASCII_RUNS.sub("", data.decode("utf-8", "replace"))
    bad = text.count("\ufffd")
    return len(text) - bad >= bad  # GBK read as UTF-8: ~1 valid character per 10 bad bytes


def _cut_off(data: bytes, start: int) -> tuple[str, str]:
    """UTF-8 whose last character lacks its final bytes: the rest, then U+FFFD."""
    try:
        text = data[:start].decode("utf-8")
    except UnicodeDecodeError:  # bad before the end too: not a mere cut
        raise ValueError("not UTF-8 text, nor GB18030 Chinese") from None
    return text + "\ufffd", "last character cut off; decoded with a replacement"


def _looks_chinese(text: str) -> bool:
    """Whether GB18030-decoded text reads as Chinese rather than mojibake.

    Chinese text in GBK/GB18030 is nearly all GB2312 characters (both bytes >= 0xA1);
    UTF-8 with a bad byte, or Latin-1/cp1252 text, decodes to characters spread over the
    whole code space. A real GBK post scores ~1.0 here, mojibake well under 0.9.
    """
    chinese = _ASCII_RUNS.sub("", text)
    if not chinese:
        return True
    if len(chinese.encode("gb2312", "ignore")) / 2 >= 0.9 * len(chinese):
        return True
    return _looks_traditional(chinese)


def _looks_traditional(chinese: str) -> bool:
    """Traditional Chinese in GBK: ideographs outside GB2312, whose second byte is mostly
    0x80 or above. Latin text misread as GBK pairs an accented letter with the ASCII
    letter after it, so its second bytes are nearly all below 0x80."""
    ideographs = _CJK.findall(chinese)
    if len(ideographs) < 0.9 * len(chinese):
        return False
    encoded = "".join(ideographs).encode("gbk", "ignore")
    high_trails = sum(1 for trail in encoded[1::2] if trail >= 0x80)
    return high_trails >= 0.5 * len(ideographs)


_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")


_CJK = re.compile("[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def os_reason(error: OSError | ValueError) -> str:
    return getattr(error, "strerror", None) or type(error).__name__


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def cannot(what: str, error: OSError | ValueError) -> str:
    """The reason a path could not be opened, listed or read, in one line."""
    if isinstance(error, OSError) and error.errno == errno.ENAMETOOLONG:
        return "path too long to read"  # below PATH_MAX (4096 bytes on Linux) nothing opens
    return f"cannot {what}: {os_reason(error)}"


def make_private_directory(directory: str) -> None:
    """Create a folder readable by its owner only (one already there is left as it is):
    the cache and the state hold what the corpus says, and another user must not plant
    either. `mkdir`'s mode is masked by the umask, hence the `chmod`."""
    parent = os.path.dirname(directory)
    if parent:
        os.makedirs(parent, exist_ok=True)
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        return
    os.chmod(directory, 0o700)
