"""Split a post into its YAML front matter and body, and turn the header into fields.

Two parsers agree on one result: a strict fast path for the five-line header the scraper
writes (about 10 µs instead of PyYAML's ~70 µs), and PyYAML's safe loader (the C one when
present) for everything else. The fast path only accepts lines whose meaning is certain and
hands anything unusual to PyYAML; `tests/core/test_frontmatter.py` checks they agree.

Deliberately not here: reading files or decoding bytes (see `loader.py`).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

import yaml

try:  # the C loader is ~10x faster; fall back when libyaml is missing
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on the platform's PyYAML build
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

MAX_HEADER_CHARS = 64 * 1024
"""A header longer than this is not a post header; refuse it rather than parse it."""

CHINA_TIME = timezone(timedelta(hours=8))
"""Dates without an offset are taken as China time: the corpus is Chinese news."""



class FrontMatterError(ValueError):
    """The file has no usable front matter; the message is the one-line reason."""


def split_front_matter(text: str) -> tuple[str, str]:
    """Return (header, body) of a post whose text starts with a `---` line."""
    first_end = text.find("\n")
    if not text.startswith("---") or first_end < 0 or text[3:first_end].strip(" \t"):
        raise FrontMatterError("no front matter (the file does not start with '---')")
    closing = _find_closing(text, first_end, first_end + 1 + MAX_HEADER_CHARS)
    if closing is None:
        if _find_closing(text, first_end, len(text)) is not None:
            raise FrontMatterError(f"front matter is longer than {MAX_HEADER_CHARS} characters")
        raise FrontMatterError("front matter is not closed by a '---' line")
    line_start, line_end = closing
    return text[first_end + 1 : line_start], text[line_end + 1 :]


def _find_closing(text: str, start: int, limit: int) -> tuple[int, int] | None:
    """(start, end) of the first `---[ \t]*` line whose newline is at or after `start`."""
    position = start
    while True:
        found = text.find("\n---", position, limit + 1)
        if found < 0:
            return None
        line_start = found + 1
        line_end = text.find("\n", line_start)
        if line_end < 0:
            line_end = len(text)
        if line_start + 3 <= limit and not text[line_start + 3 : line_end].strip(" \t"):
            return line_start, line_end
        position = line_start


# --- fast path -------------------------------------------------------------------------

_QUOTED = re.compile(
    r'"((?:[^"\\\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]|\\["\\])*)"'
)
_ESCAPE = re.compile(r'\\(["\\])')
_PLAIN = re.compile(r"[A-Za-z\u4e00-\u9fff][\w\u4e00-\u9fff-]*")
_YAML_WORDS = frozenset(
    "y n yes no on off true false null".split()
)  # plain scalars PyYAML would turn into bool/None
_DATE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?: ([0-9]{2}):([0-9]{2}):([0-9]{2})( [+-][0-9]{4})?)?"
)


def _fast_value(raw: str) -> Any:
    """The value PyYAML would give for `raw`, or raise LookupError if unsure."""
    if raw.startswith('"'):
        quoted = _QUOTED.fullmatch(raw)
        if quoted is None:
            raise LookupError(raw)
        value = quoted.group(1)
        return _ESCAPE.sub(r"\1", value) if "\\" in value else value
    if "0" <= raw[:1] <= "9":
        return _fast_date(raw)
    if _PLAIN.fullmatch(raw) and raw.lower() not in _YAML_WORDS and raw[-1] != "-":
        return raw
    raise LookupError(raw)


def _fast_date(raw: str) -> Any:
    stamp = _DATE.fullmatch(raw)
    if stamp is None:
        raise LookupError(raw)
    year, month, day, hour, minute, second, offset = stamp.groups()
    if offset:  # PyYAML's timestamp needs "+08:00", so "+0800" stays a string
        return raw
    try:
        if hour is None:
            return date(int(year), int(month), int(day))
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        raise LookupError(raw) from None


def parse_header_fast(header: str) -> dict[str, Any] | None:
    """Parse the scraper's simple header, or return None to send it to PyYAML."""
    result: dict[str, Any] = {}
    for line in header.split("\n"):
        if not line:
            continue
        key, colon, raw = line.partition(": ")
        if not colon or not raw or key in result or not _is_fast_key(key):
            return None
        try:
            result[key] = _fast_value(raw)
        except LookupError:
            return None
    return result or None


def _is_fast_key(key: str) -> bool:
    """Lower-case ASCII letters and underscores, starting with a letter."""
    return key.isascii() and key.islower() and key.replace("_", "").isalpha() and key[0] != "_"


def parse_header(header: str) -> dict[str, Any]:
    """Parse a header into a mapping; raise FrontMatterError with a one-line reason."""
    fast = parse_header_fast(header)
    if fast is not None:
        return fast
    try:
        # PyYAML shares aliased nodes by reference, so an alias bomb stays small here;
        # `interpret_header` only ever looks at scalars, never walks a nested value.
        data = yaml.load(header, Loader=_SafeLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "error"
        raise FrontMatterError(f"invalid YAML front matter: {first_line}") from None
    except (RecursionError, MemoryError, ValueError, OverflowError) as error:
        raise FrontMatterError(f"invalid YAML front matter: {type(error).__name__}") from None
    if data is None:
        raise FrontMatterError("front matter is empty")
    if not isinstance(data, dict):
        raise FrontMatterError(
            f"front matter is a YAML {type(data).__name__}, not a mapping of fields"
        )
    return data


# --- interpretation --------------------------------------------------------------------

_OFFSET_DATE = re.compile(
    r"\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2}|[+-]\d{2})?\s*"
)


def parse_date(value: Any) -> datetime | None:
    """Turn a header `date` into an aware datetime, or None when it is not a date."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=CHINA_TIME)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=CHINA_TIME)
    if not isinstance(value, str):
        return None
    common = _common_date(value)
    if common is not None:
        return common
    match = _OFFSET_DATE.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    zone = CHINA_TIME
    if offset == "Z":
        zone = timezone.utc
    elif offset:
        digits = offset[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
        if minutes >= 24 * 60:
            return None
        zone = timezone(timedelta(minutes=minutes if offset[0] == "+" else -minutes))
    try:
        return datetime(
            int(year), int(month), int(day),
            int(hour or 0), int(minute or 0), int(second or 0), tzinfo=zone,
        )
    except ValueError:
        return None


def _common_date(value: str) -> datetime | None:
    """The scraper's `YYYY-MM-DD HH:MM:SS +0800` without a regex, else None."""
    if len(value) != 25 or value[19:] != " +0800" or not value[:19].replace("-", "").replace(
        ":", ""
    ).replace(" ", "").isdecimal():
        return None
    try:
        return datetime(
            int(value[:4]), int(value[5:7]), int(value[8:10]),
            int(value[11:13]), int(value[14:16]), int(value[17:19]), tzinfo=CHINA_TIME,
        )
    except ValueError:
        return None


def scalar_text(value: Any) -> str | None:
    """A header value as text when it is a scalar (or a list starting with one), else None.

    Never calls str() on a nested value: a YAML alias bomb is cheap as a graph but
    enormous as text.
    """
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        try:
            return str(value)
        except ValueError:  # an int past Python's digit limit (a 5000-digit hex title)
            return None
    return None
