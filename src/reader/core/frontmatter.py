"""Split a post into its YAML front matter and body, and turn the header into fields.

Two parsers agree on one result: a strict fast path for the five-line header the scraper
writes, and PyYAML's safe loader (the C one when present) for everything else. The fast path
first tries one regex for the scraper's exact header (about 2 µs), then a line-by-line reader
(about 10 µs), and hands anything whose meaning is not certain to PyYAML (~70 µs);
`tests/core/test_frontmatter.py` checks they agree. `parse_date` likewise reads the
scraper's `YYYY-MM-DD HH:MM:SS +0800` directly and only takes a regex for other shapes.

Deliberately not here: reading files or decoding bytes (see `loader.py`).

At the ~400-line guideline: the fast path for the scraper's header and the YAML path
live together because property tests hold them to the same answers.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from typing import Any


def _yaml_loader() -> tuple[Any, Any]:
    """PyYAML and its safe loader, imported on first use: the fast path needs neither."""
    import yaml

    try:  # the C loader is ~10x faster; fall back when libyaml is missing
        return yaml, yaml.CSafeLoader
    except AttributeError:  # pragma: no cover - depends on the platform's PyYAML build
        return yaml, yaml.SafeLoader


@cache
def _dates_kept_loader() -> Any:
    """The safe loader, except that a timestamp it cannot build stays its text.

    PyYAML's timestamp constructor raises on `2021-02-30`, `0000-00-00` or `+99:00`, which
    failed the whole header and dropped the post; a bad date is the loader's to warn about
    (see `parse_date`, which gives None for that text), not a reason to lose the file.
    """
    _, safe_loader = _yaml_loader()

    class DatesKeptLoader(safe_loader):  # type: ignore[misc, valid-type]
        pass

    def timestamp(loader: Any, node: Any) -> Any:
        try:
            return loader.construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return loader.construct_scalar(node)

    DatesKeptLoader.add_constructor("tag:yaml.org,2002:timestamp", timestamp)
    return DatesKeptLoader


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


def split_utf8_front_matter(data: bytes) -> tuple[str, bytes] | None:
    """`split_front_matter` of undecoded UTF-8: (header, body bytes), leaving the body as it is.

    None when anything is unusual (no header, a "\r", a header that is not UTF-8 or too
    long): the caller then decodes the whole file and takes the general path, which says
    what is wrong. The `---` lines are ASCII, so their byte positions are found as
    `split_front_matter` finds their character positions.
    """
    if not data.startswith(b"---") or b"\r" in data:
        return None
    first_end = data.find(b"\n")
    if first_end < 0 or data[3:first_end].strip(b" \t"):
        return None
    position = first_end
    while True:  # the first `---[ \t]*` line after the opening one, as `_find_closing`
        found = data.find(b"\n---", position)
        if found < 0:
            return None
        line_end = data.find(b"\n", found + 1)
        if line_end < 0:
            line_end = len(data)
        if not data[found + 4 : line_end].strip(b" \t"):
            break
        position = found + 1
    try:
        header = data[first_end + 1 : found + 1].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(header) > MAX_HEADER_CHARS - 3:  # past where `split_front_matter` looks
        return None
    return header, data[line_end + 1 :]


# --- fast path -------------------------------------------------------------------------

# A double-quoted scalar with only `\"` and `\\` escapes, written as runs of plain characters
# between escapes (same language as `(?:char|escape)*`, but the regex engine scans each run
# in one tight loop instead of trying two branches per character).
_QUOTED_CHAR = r'[^"\\\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]'
_QUOTED_BODY = rf'{_QUOTED_CHAR}*(?:\\["\\]{_QUOTED_CHAR}*)*'
_QUOTED = re.compile(rf'"({_QUOTED_BODY})"')
_ESCAPE = re.compile(r'\\(["\\])')
_PLAIN = re.compile(r"[A-Za-z\u4e00-\u9fff][\w\u4e00-\u9fff-]*")
_YAML_WORDS = frozenset(
    "y n yes no on off true false null".split()
)  # plain scalars PyYAML would turn into bool/None
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?: ([0-9]{2}):([0-9]{2}):([0-9]{2})( [+-][0-9]{4})?)?")

# The scraper's own shapes, for `_scraper_header` and `parse_date`. Hours stop at 23 because
# newer Pythons' fromisoformat reads "24:00:00" as the next midnight, where datetime() refuses.
_STAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2} (?:[01][0-9]|2[0-3]):[0-9]{2}:[0-9]{2}"
_CHINA_STAMP = re.compile(rf"{_STAMP} \+0800")
_SCRAPER_PLAIN = r"[A-Za-z\u4e00-\u9fff][0-9A-Za-z\u4e00-\u9fff]*"  # a subset of _PLAIN
# _QUOTED_CHAR plus "\n": a scraped title sometimes runs over lines
_TITLE_CHAR = r'[^"\\\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]'
_SCRAPER_HEADER = re.compile(
    rf"layout: ({_SCRAPER_PLAIN})\n"
    rf'title: "({_TITLE_CHAR}*(?:\\["\\]{_TITLE_CHAR}*)*)"\n'
    rf"date: ({_STAMP}(?: \+0800)?)\n"
    rf"categories: ({_SCRAPER_PLAIN})\n"
    rf"tags: ({_SCRAPER_PLAIN})\n"
)
"""The header exactly as the scraper writes it, titles that run over lines included."""


def _scraper_header(header: str) -> dict[str, Any] | None:
    """The scraper's five-line header read with one regex, or None to read it line by line.

    Gives what the line-by-line reader gives for the same text (each group is a subset of
    what `_fast_value` accepts, read the same way), and for a title that runs over several
    lines, which that reader leaves to PyYAML, what PyYAML gives (see `_fold_title`).
    """
    shape = _SCRAPER_HEADER.fullmatch(header)
    if shape is None:
        return None
    layout, title, stamp, categories, tags = shape.groups()
    if not _YAML_WORDS.isdisjoint((layout.lower(), categories.lower(), tags.lower())):
        return None  # "tags: yes" is a bool to PyYAML; let the careful path refuse it
    if "\n" in title:
        title = _fold_title(title)
        if title is None:
            return None
    if "\\" in title:  # after folding: an escape never contains a space or a break
        title = _ESCAPE.sub(r"\1", title)
    if len(stamp) == 19:  # no offset: PyYAML gives a naive datetime
        try:  # fromisoformat reads this exact shape as datetime(int(...), ...) would
            stamp = datetime.fromisoformat(stamp)
        except ValueError:  # 2021-02-30: the careful path hands it to PyYAML
            return None
    return {"layout": layout, "title": title, "date": stamp, "categories": categories, "tags": tags}


def _fold_title(text: str) -> str | None:
    """A double-quoted title that spans lines, folded as YAML does; None if unsure.

    YAML drops the spaces around each line break, turns a lone break into a space and
    n breaks in a row into n - 1 newlines. A line starting with a document marker
    ("--- x" is an error) is left to PyYAML.
    """
    lines = text.split("\n")
    if any(line.startswith(("---", "...")) for line in lines):
        return None
    pieces = [lines[0].rstrip(" ")]
    breaks = 0
    last = len(lines) - 1
    for index in range(1, last + 1):
        breaks += 1
        # spaces before the closing quote stay; those before a break go
        line = lines[index].lstrip(" ") if index == last else lines[index].strip(" ")
        if line or index == last:
            pieces.append(" " if breaks == 1 else "\n" * (breaks - 1))
            pieces.append(line)
            breaks = 0
    return "".join(pieces)


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
    scraper = _scraper_header(header)
    if scraper is not None:
        return scraper
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


def parse_header(header: str, *, keep_bad_dates: bool = False) -> dict[str, Any]:
    """Parse a header into a mapping; raise FrontMatterError with a one-line reason.

    With `keep_bad_dates` (what the loader asks for), a date PyYAML cannot build stays
    text instead of failing the header. The fast path never builds such a date (it hands
    it to PyYAML), so both paths agree either way; without it, headers parse exactly as
    they always did.
    """
    fast = parse_header_fast(header)
    if fast is not None:
        return fast
    yaml, safe_loader = _yaml_loader()
    if keep_bad_dates:
        safe_loader = _dates_kept_loader()
    try:
        # PyYAML shares aliased nodes by reference, so an alias bomb stays small here;
        # `interpret_header` only ever looks at scalars, never walks a nested value.
        data = yaml.load(header, Loader=safe_loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "error"
        raise FrontMatterError(f"invalid YAML front matter: {first_line}") from None
    except (RecursionError, MemoryError, ValueError, OverflowError) as error:
        raise FrontMatterError(f"invalid YAML front matter: {type(error).__name__}") from None
    if data is None:
        raise FrontMatterError("front matter is empty")
    if not isinstance(data, dict):
        raise FrontMatterError(f"front matter is a YAML {type(data).__name__}, not a mapping of fields")
    return data


# --- interpretation --------------------------------------------------------------------

_OFFSET_DATE = re.compile(
    r"\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2}|[+-]\d{2})?\s*"
)
_MIDNIGHT = time()


def parse_date(value: Any) -> datetime | None:
    """Turn a header `date` into an aware datetime, or None when it is not a date."""
    if isinstance(value, str):
        if _CHINA_STAMP.fullmatch(value):  # the scraper's shape: most dates, read in C
            try:
                naive = datetime.fromisoformat(value[:19])
            except ValueError:  # 2021-02-30: the general path below says None too
                pass
            else:
                return datetime.combine(naive, naive.time(), CHINA_TIME)
        return _parse_date_text(value)
    # combine() rather than replace(tzinfo=...): the same datetime, at a third of the cost
    if isinstance(value, datetime):
        return value if value.tzinfo else datetime.combine(value, value.time(), CHINA_TIME)
    if isinstance(value, date):
        return datetime.combine(value, _MIDNIGHT, CHINA_TIME)
    return None


def _parse_date_text(value: str) -> datetime | None:
    """Date text the fast shape did not take: loosely as the scraper's, else by `_OFFSET_DATE`."""
    common = _common_date(value)
    if common is not None:
        return common
    match = _OFFSET_DATE.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    zone = CHINA_TIME
    if offset == "Z":
        zone = UTC
    elif offset:
        digits = offset[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
        if minutes >= 24 * 60:
            return None
        zone = _zone(minutes if offset[0] == "+" else -minutes)
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=zone,
        )
    except ValueError:
        return None


@cache  # at most 2 * 24 * 60 offsets, and a corpus uses a handful: share one object each
def _zone(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


def _common_date(value: str) -> datetime | None:
    """`YYYY-MM-DD HH:MM:SS +0800` read loosely, else None.

    Looser than `_CHINA_STAMP`: int() also takes a space or a non-ASCII digit in a digit
    slot ("2021-12-01 2 :00:00 +0800"); kept so such dates read as they always have.
    """
    if (
        len(value) != 25
        or value[19:] != " +0800"
        or not value[:19].replace("-", "").replace(":", "").replace(" ", "").isdecimal()
    ):
        return None
    try:
        return datetime(
            int(value[:4]),
            int(value[5:7]),
            int(value[8:10]),
            int(value[11:13]),
            int(value[14:16]),
            int(value[17:19]),
            tzinfo=CHINA_TIME,
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
