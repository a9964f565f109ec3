"""Plain data the reader passes around: articles, sources, problems.

Frozen dataclasses of hashable, display-safe values. Every string in here has already been
through `text.clean_line`, so any layer may show it; none of it is markup.
Deliberately not here: loading, parsing or search logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from reader.core.records import Batch, Problem, Record

__all__ = [
    "Article",
    "Post",
    "Problem",
    "Record",
    "Source",
    "article_of",
    "date_fields",
    "posts_of",
    "record_of",
]


@dataclass(frozen=True, slots=True)
class Article:
    """One post as the list and the search know it; the body is re-read when opened."""

    identity: str
    """The canonical URL from the body's autolink, else a hash of the post's folded search
    text (`search.text_identity`), never the path; duplicates share it."""
    path: str
    """The file this article came from (the newest file when several share the identity)."""
    title: str
    """Display-safe, one line."""
    date: datetime
    """Timezone-aware publication time."""
    source_id: str
    """The `categories` value, e.g. `xinhuashe`."""
    source_name: str
    """The `tags` value without its trailing `新闻`, e.g. `新华社`; falls back to the id."""
    url: str | None
    """The article's original http(s) URL, if the body gives one."""

    @property
    def date_text(self) -> str:
        """`YYYY-MM-DD HH:MM` in the article's own offset, as the list shows it."""
        date = self.date  # not strftime: glibc does not zero-pad years below 1000
        return f"{date.year:04d}-{date.month:02d}-{date.day:02d} {date.hour:02d}:{date.minute:02d}"


@dataclass(frozen=True, slots=True)
class Source:
    """A news source with its counts, as the sidebar shows it."""

    source_id: str
    """The `categories` id; the empty string stands for "all sources"."""
    name: str
    """Display name."""
    count: int
    """Articles from this source."""
    unread: int
    """Of those, how many are not read this session."""


@dataclass(frozen=True, slots=True)
class Post:
    """The loader's result for one good file: the article plus its folded search text."""

    article: Article
    search_text: str
    """Folded (see `text.fold`) title, source name and body text, for the search index."""
    size: int
    """File size in bytes when read, for the cache key."""
    mtime_ns: int
    """File modification time when read, for the cache key."""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LOCAL_EPOCH = datetime(1970, 1, 1)
_ZONES: dict[int, timezone] = {}


def date_fields(date: datetime) -> tuple[int, int]:
    """An aware date as a record holds it: µs since the epoch, and its UTC offset in seconds."""
    offset = date.utcoffset() or timedelta(0)
    elapsed = date - _EPOCH
    micros = (elapsed.days * 86400 + elapsed.seconds) * 1_000_000 + elapsed.microseconds
    return micros, offset.days * 86400 + offset.seconds


def record_of(article: Article, size: int = 0, mtime_ns: int = 0) -> Record:
    """The record of an article (the inverse of `article_of`)."""
    micros, offset = date_fields(article.date)
    return Record(
        article.path,
        size,
        mtime_ns,
        article.identity,
        article.title,
        micros,
        offset,
        article.source_id,
        article.source_name,
        article.url,
    )


def article_of(record: Record) -> Article:
    """The article a record describes."""
    path, _, _, identity, title, micros, offset, source_id, source_name, url = record
    zone = _ZONES.get(offset)
    if zone is None:
        zone = _ZONES.setdefault(offset, timezone(timedelta(seconds=offset)))
    # Local time first: a date in year 1 east of Greenwich is in range, its UTC is not.
    date = (_LOCAL_EPOCH + timedelta(microseconds=micros + offset * 1_000_000)).replace(tzinfo=zone)
    return Article(identity, path, title, date, source_id, source_name, url)


def posts_of(batch: Batch) -> list[Post]:
    """A batch's records as `Post`s (for callers that want objects rather than columns)."""
    if batch.chunk is None:
        return []
    return [
        Post(article_of(record), batch.chunk.text_at(number), record.size, record.mtime_ns)
        for number, record in enumerate(batch.records)
    ]
