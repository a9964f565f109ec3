"""One corpus spelled several ways is one corpus: roots are real, absolute paths, each once.

`reader DIR` then `reader ./DIR/` used to show every cached post twice: the cache's first
run held one spelling of the paths and discovery found another.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from benchmarks.corpus import front

from reader.core.loading import discovery, reading
from reader.core.loading import early as early_module
from reader.core.loading.background import BackgroundLoad
from reader.core.loading.discovery import discover
from reader.core.loading.plan import iter_load, load_store
from reader.core.models import posts_of
from reader.core.store import Store


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DIR/ (the working directory's) with posts, a broken file and one with a warning."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "DIR"
    folder.mkdir()
    for day in range(1, 10):
        url = f"<http://example.com/{day}.html>\n"
        (folder / f"2022-03-0{day}-x.md").write_text(front(f"第{day}篇") + url, encoding="utf-8")
    (folder / "2022-04-01-broken.md").write_bytes(b"\x00\xff" * 10)
    (folder / "2022-04-02-untitled.md").write_text(front("").replace('title: ""\n', ""), encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "2022-05-01-deep.md").write_text(front("子目录"), encoding="utf-8")
    return folder


SPELLINGS = [
    ["DIR"],
    ["./DIR/"],
    ["DIR//"],
    ["DIR/../DIR"],
    ["ABSOLUTE"],
    ["LINK"],
    ["DIR", "DIR/2022-03-01-x.md"],
    ["DIR", "./DIR", "ABSOLUTE"],
    ["DIR/sub", "DIR"],
    ["DIR", "DIR/sub"],
]


def spelled(spelling: list[str], corpus: Path) -> list[str]:
    if not (corpus.parent / "LINK").exists():
        os.symlink("DIR", corpus.parent / "LINK")
    return [str(corpus) if root == "ABSOLUTE" else root for root in spelling]


def summary(store: Store) -> tuple[int, int, int, Counter[tuple[str, str]]]:
    problems = Counter((p.path, p.reason) for p in store.problems)
    return store.article_count, len(store.articles), store.duplicates, problems


@pytest.mark.parametrize("spelling", SPELLINGS, ids=lambda roots: " ".join(roots))
def test_a_corpus_spelled_another_way_loads_the_same(corpus: Path, spelling: list[str]) -> None:
    first = load_store(["DIR"])  # writes the cache with one spelling
    again = load_store(spelled(spelling, corpus))  # the cache's first run, then discovery
    articles, slots, duplicates, problems = summary(again)
    assert (articles, slots, duplicates) == (11, 11, 0)
    assert summary(first) == summary(again)
    assert all(count == 1 for count in problems.values()) and len(problems) == 2
    real = os.path.realpath(corpus)
    assert all(article.path.startswith(real + os.sep) for article in again.articles)
    assert all(path.startswith(real + os.sep) for path, _ in problems)


def test_roots_are_made_canonical_in_order_once(corpus: Path) -> None:
    real = os.path.realpath(corpus)
    roots = spelled(["./DIR/", "LINK", "DIR/sub", "DIR//"], corpus)
    assert discovery.canonical_roots(roots) == [real, os.path.join(real, "sub")]
    entries, _ = discover(["./DIR/", "DIR"])
    assert len(entries) == 12 and all(entry.path.startswith(real + os.sep) for entry in entries)


def test_every_way_in_gives_canonical_paths(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.path.realpath(corpus)
    background = BackgroundLoad(["./DIR/"], use_cache=False)
    paths = {post.article.path for batch in background.batches() for post in posts_of(batch)}
    assert len(paths) == 11 and all(path.startswith(real + os.sep) for path in paths)
    newest = early_module.read_newest(["DIR/sub/"], reading.DEFAULT_MAX_BYTES)
    assert newest is not None
    assert [path for path, _, _ in newest.entries] == [f"{real}/sub/2022-05-01-deep.md"]
    monkeypatch.setattr(early_module.threading, "active_count", lambda: 1)  # as before the app starts
    monkeypatch.setattr(early_module, "worker_count", lambda: 2)
    early = early_module.start_early(["./DIR/"], use_cache=False)
    assert early is not None
    batches = list(iter_load(["DIR"], use_cache=False, early=early))
    paths = [post.article.path for batch in batches for post in posts_of(batch)]
    assert len(paths) == 11 and all(path.startswith(real + os.sep) for path in paths)
