"""Every malformed file becomes a Problem with a sensible reason; good siblings still load."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.corpus import HOSTILE, front, write_corpus

from reader.core import records
from reader.core.loading import background, plan, reading, workers
from reader.core.loading import early as early_module
from reader.core.loading.discovery import discover
from reader.core.loading.plan import load_store
from reader.core.loading.reading import read_post
from reader.core.models import posts_of
from reader.core.records import FileEntry
from reader.core.store import Store

GOOD = front("好文章") + "<p>正文内容</p>\n"


def reasons(store: Store) -> dict[str, list[tuple[str, bool]]]:
    found: dict[str, list[tuple[str, bool]]] = {}
    for problem in store.problems:
        found.setdefault(os.path.basename(problem.path), []).append((problem.reason, problem.skipped))
    return found


@pytest.mark.parametrize(
    ("name", "data", "reason", "skipped"),
    [
        ("empty.md", b"", "empty file", True),
        ("binary.md", bytes(range(256)) * 40, "binary", True),
        ("plain.md", "<p>正文</p>".encode(), "no front matter", True),
        ("unclosed.md", b'---\ntitle: "x"\n<p>body</p>\n', "not closed", True),
        ("invalid.md", HOSTILE["invalid-yaml"], "invalid YAML", True),
        ("list.md", HOSTILE["yaml-is-a-list"], "YAML list", True),
        ("python.md", HOSTILE["yaml-python-tag"], "invalid YAML", True),
        ("untitled.md", HOSTILE["missing-title"], "no title", False),
        ("bad-date.md", HOSTILE["bad-date"], "cannot be read", False),
        ("gbk.md", HOSTILE["gbk-encoded"], "GB18030", False),
        ("utf16.md", (front("UTF16文章") + "<p>正文</p>\n").encode("utf-16"), "UTF-16", False),
    ],
)
def test_malformed_file_gives_a_problem(
    tmp_path: Path, name: str, data: bytes, reason: str, skipped: bool
) -> None:
    (tmp_path / name).write_bytes(data)
    (tmp_path / "good.md").write_text(GOOD, encoding="utf-8")
    store = load_store([tmp_path], use_cache=False)
    [(found, was_skipped)] = reasons(store)[name]
    assert reason in found and was_skipped is skipped
    titles = {store.articles[slot].title for slot in store.order()}
    assert "好文章" in titles
    assert len(titles) == (1 if skipped else 2)


def test_alias_bomb_is_handled_quickly(tmp_path: Path) -> None:
    (tmp_path / "bomb.md").write_bytes(HOSTILE["yaml-billion-laughs"])
    started = time.perf_counter()
    store = load_store([tmp_path], use_cache=False)
    assert time.perf_counter() - started < 10  # ~0.05 s; expanded, the title is 387M items
    # Loaded, its nested title never turned into text: the file name stands in for it.
    assert store.article_count == 1 and store.articles[0].title == "bomb"
    assert ("no title; using the file name", False) in reasons(store)["bomb.md"]


@pytest.mark.parametrize("kind", ["date-only", "categories-list", "utf8-bom", "crlf"])
def test_odd_but_valid_files_load_cleanly(tmp_path: Path, kind: str) -> None:
    (tmp_path / f"{kind}.md").write_bytes(HOSTILE[kind])
    store = load_store([tmp_path], use_cache=False)
    assert store.article_count == 1
    assert store.problems == []  # cleanly: not even a warning
    article = store.articles[0]
    header_title = re.search(r'title: "([^"]*)"', HOSTILE[kind].decode("utf-8-sig"))
    assert header_title is not None and article.title == header_title.group(1)  # no BOM, no CR
    assert article.date.date() == dt.date(2022, 3, 1)
    assert article.date.utcoffset() == dt.timedelta(hours=8)
    if kind == "categories-list":
        assert article.source_id == "emnews"


def test_oversize_file(tmp_path: Path) -> None:
    (tmp_path / "big.md").write_text(GOOD + "<p>" + "长" * 5000 + "</p>", encoding="utf-8")
    store = load_store([tmp_path], max_bytes=4096, use_cache=False)
    [(reason, skipped)] = reasons(store)["big.md"]
    assert "over the" in reason and skipped


def test_directory_named_md_symlink_loop_and_hidden_dir(tmp_path: Path) -> None:
    (tmp_path / "x.md").mkdir()
    os.symlink(".", tmp_path / "loop")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "secret.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "good.md").write_text(GOOD, encoding="utf-8")
    entries, problems = discover([tmp_path])
    assert [os.path.basename(e.path) for e in entries] == ["good.md"]
    assert any("loop" in p.reason for p in problems)


def test_vanished_file(tmp_path: Path) -> None:
    entry = FileEntry(str(tmp_path / "gone.md"), 10, 0)
    post, problems = read_post(entry)
    assert post is None and "vanished" in problems[0].reason


def test_duplicates_collapse_to_the_newest(tmp_path: Path) -> None:
    url = "<http://example.com/same.html>\n"
    (tmp_path / "a.md").write_text(front("旧").replace("2022-03-01", "2022-01-01") + url, encoding="utf-8")
    (tmp_path / "b.md").write_text(front("新") + url, encoding="utf-8")
    store = load_store([tmp_path], use_cache=False)
    assert store.article_count == 1 and store.duplicates == 1
    assert store.articles[int(store.order()[0])].title == "新"


def test_hostile_corpus_loads_and_stays_fast(tmp_path: Path) -> None:
    write_corpus(tmp_path, count=50, hostile=True)
    started = time.perf_counter()
    store = load_store([tmp_path], use_cache=False)
    assert time.perf_counter() - started < 20  # ~0.1 s; a parser gone quadratic takes minutes
    assert store.article_count >= 50
    # every post file is accounted for: an article, or skipped with a reason
    posts = {
        os.path.join(folder, name)
        for folder, _, names in os.walk(tmp_path)
        for name in names
        if name.endswith((".md", ".markdown", ".txt", ".html"))
    }
    articles = {store.articles[slot].path for slot in store.order()}
    skipped = {problem.path for problem in store.problems if problem.skipped}
    assert skipped and not articles & skipped and articles | skipped <= posts
    assert len(posts - articles - skipped) == store.duplicates  # collapsed into another
    assert len(store.view(query="返回首页")) == 0
    assert len(store.view(query="深处的文字")) == 1


def test_parallel_and_in_process_agree(tmp_path: Path) -> None:
    write_corpus(tmp_path, count=600, hostile=True)
    one = list(plan.iter_load([tmp_path], use_cache=False, parallel=False))
    two = list(plan.iter_load([tmp_path], use_cache=False, parallel=True))
    posts = lambda batches: [(p.article, p.search_text) for b in batches for p in posts_of(b)]  # noqa: E731
    assert posts(one) == posts(two)
    problems = lambda batches: sorted((pr.path, pr.reason, pr.skipped) for b in batches for pr in b.problems)  # noqa: E731
    assert problems(one) == problems(two)


def test_background_load_hands_over_everything(tmp_path: Path) -> None:
    from reader.core.loading.background import BackgroundLoad

    for day in range(1, 6):
        (tmp_path / f"2022-03-0{day}-post.md").write_text(front(f"第{day}篇"), encoding="utf-8")
    load = BackgroundLoad([tmp_path], use_cache=False)
    titles = [post.article.title for batch in load.batches() for post in posts_of(batch)]
    assert sorted(titles) == [f"第{day}篇" for day in range(1, 6)]
    assert load.take() is None  # and it stays over


def test_cancelling_a_background_load_wakes_its_consumer(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    never = threading.Event()

    def stuck_load(*_: object, **__: object) -> Iterator[records.Batch]:
        never.wait(10)  # a load that produces nothing for a long time
        yield from ()

    monkeypatch.setattr(background, "iter_load", stuck_load)
    load = background.BackgroundLoad(["anywhere"], use_cache=False)
    taken: list[object] = []
    consumer = threading.Thread(target=lambda: taken.append(load.take()))
    consumer.start()
    load.cancel()  # e.g. the app quits mid-load: the UI's worker must not hang in take()
    consumer.join(timeout=5)
    never.set()
    assert not consumer.is_alive() and taken == [None]


# --- the app's early start: workers forked before Textual, reading the newest first -----


def early_start(paths: list[Path], fork: bool = False) -> early_module.EarlyStart:
    """What `start_early` makes, also where it would decline (pytest runs threads)."""
    roots = [str(path) for path in paths]
    reader = workers.ParallelReader(fork=fork)
    return early_module.EarlyStart(
        reader,
        reader.submit(early_module.read_newest, roots, reading.DEFAULT_MAX_BYTES),
        reader.submit(early_module.find_in_worker, roots),
    )


def contents(batches: list[records.Batch]) -> tuple[list[object], list[object]]:
    posts = sorted((p.article.path, p.article, p.search_text) for b in batches for p in posts_of(b))
    problems = sorted((pr.path, pr.reason, pr.skipped) for b in batches for pr in b.problems)
    return posts, problems


@pytest.mark.parametrize("fork", [False, True])
def test_an_early_start_loads_the_same_newest_first(tmp_path: Path, fork: bool) -> None:
    write_corpus(tmp_path / "corpus", count=700, hostile=True)
    corpus = tmp_path / "corpus"
    for extra in corpus.iterdir():  # one plain folder of files: what `read_newest` takes
        if extra.is_dir() and not extra.is_symlink():
            shutil.rmtree(extra)
        elif extra.is_symlink() or not extra.is_file():
            extra.unlink()
    plain = list(plan.iter_load([corpus], use_cache=False, parallel=False))
    early = list(plan.iter_load([corpus], use_cache=False, early=early_start([corpus], fork)))
    assert contents(early) == contents(plain)
    first = early[0]  # the newest files, read before all were found (total not known yet)
    assert first.phase == "reading" and first.total == 0
    newest = sorted((entry.path for entry in discover([corpus])[0]), key=os.path.basename, reverse=True)
    read_first = [p.article.path for p in posts_of(first)] + [pr.path for pr in first.problems]
    assert set(read_first) == set(newest[: early_module.FIRST_BATCH])
    assert early[-1].done == early[-1].total == len(newest)


def test_an_early_start_with_a_cache_serves_the_cache(tmp_path: Path) -> None:
    corpus, cache_dir = tmp_path / "corpus", tmp_path / "cache"
    write_corpus(corpus, count=400)
    cold = list(plan.iter_load([corpus], cache_dir=cache_dir))
    warm = list(plan.iter_load([corpus], cache_dir=cache_dir, early=early_start([corpus])))
    assert contents(warm) == contents(cold)
    assert {batch.phase for batch in warm} == {"cached", "finding"}  # nothing read twice


def test_the_newest_are_not_read_early_where_discovery_would_order_them_otherwise(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "2030-01-01-z.md").write_text(front("子目录里最新的"), encoding="utf-8")
    (tmp_path / "2020-01-01-a.md").write_text(front("旧"), encoding="utf-8")
    assert early_module.read_newest([str(tmp_path)], reading.DEFAULT_MAX_BYTES) is None
    assert early_module.read_newest([str(tmp_path / "sub"), str(tmp_path)], reading.DEFAULT_MAX_BYTES) is None
    batches = list(plan.iter_load([tmp_path], use_cache=False, early=early_start([tmp_path])))
    titles = [p.article.title for b in batches for p in posts_of(b)]
    assert sorted(titles) == ["子目录里最新的", "旧"]


def test_a_failed_early_start_still_loads_everything(tmp_path: Path) -> None:
    write_corpus(tmp_path, count=30)
    early = early_start([tmp_path])
    early.reader.close()  # e.g. workers killed: neither future comes back with an answer
    early.newest.cancel()
    early.found.cancel()
    batches = list(plan.iter_load([tmp_path], use_cache=False, early=early))
    assert len(contents(batches)[0]) == 30


def test_no_early_start_when_a_cache_will_serve_the_newest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_corpus(tmp_path / "corpus", count=5)
    monkeypatch.setattr(early_module.threading, "active_count", lambda: 1)  # as before the app starts
    monkeypatch.setattr(early_module, "worker_count", lambda: 2)
    load_store([tmp_path / "corpus"])  # writes the cache (READER_CACHE_DIR is a temp dir)
    assert early_module.start_early([tmp_path / "corpus"]) is None
    early = early_module.start_early([tmp_path / "corpus"], use_cache=False)
    assert early is not None
    assert len(list(plan.iter_load([tmp_path / "corpus"], use_cache=False, early=early))) >= 2


def test_a_held_load_waits_until_its_first_articles_are_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    produced: list[str] = []
    first = records.Batch(records=[("a.md", 1, 1, "a.md", "甲", 0, 28800, "s", "S", None)])

    def two_batches(*_: object, **__: object) -> Iterator[records.Batch]:
        produced.append("first")
        yield first
        produced.append("second")  # only once the first is shown (or after 2 s)
        yield records.Batch()

    monkeypatch.setattr(background, "iter_load", two_batches)
    load = background.BackgroundLoad(["anywhere"], use_cache=False)
    assert load.take(hold=True) == [first]
    threading.Event().wait(0.3)
    assert produced == ["first"]  # the UI is still drawing: the load waits
    load.shown()
    assert load.take() == [records.Batch()]
    assert load.take() is None and produced == ["first", "second"]


def test_an_early_start_one_task_at_a_time_loads_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_corpus(tmp_path / "corpus", count=300)
    monkeypatch.setattr(early_module.threading, "active_count", lambda: 1)  # as before the app starts
    monkeypatch.setattr(early_module, "worker_count", lambda: 2)
    early = early_module.start_early([tmp_path / "corpus"], use_cache=False, one_at_a_time=True)
    assert early is not None
    batches = list(plan.iter_load([tmp_path / "corpus"], use_cache=False, early=early))
    plain = list(plan.iter_load([tmp_path / "corpus"], use_cache=False, parallel=False))
    assert contents(batches) == contents(plain)
    assert batches[0].phase == "reading" and batches[0].total == 0  # the newest came first
