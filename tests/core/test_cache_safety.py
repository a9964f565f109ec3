"""The cache is never trusted, never blocks, never breaks a load, and never grows unbounded."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from benchmarks.corpus import write_corpus

from reader.core.loading import cache_format, cache_place
from reader.core.loading.plan import iter_load, load_store
from reader.core.loading.reading import read_files
from reader.core.records import ReadResult
from reader.core.search import choose_vocabulary
from reader.core.store import Store

NOT_A_POST = "no front matter, so not a post\n"
DAY = 86400


def snapshot(store: Store) -> tuple[object, ...]:
    articles = sorted((a.path, a.title, a.date) for a in (store.articles[s] for s in store.order()))
    return articles, sorted((p.path, p.reason) for p in store.problems)


def cache_dir() -> Path:
    return Path(os.environ["READER_CACHE_DIR"])


def leftovers() -> list[str]:
    return [name for name in os.listdir(cache_dir()) if name.endswith(".tmp")]


def location_of(root: Path) -> str:
    location = cache_place.cache_file([str(root)])
    assert location is not None
    return location


def phases(root: Path) -> set[str]:
    return {batch.phase for batch in iter_load([root]) if batch.records or batch.problems}


def write_posts_then_problems(root: Path, posts: int, problems: int) -> None:
    """`posts` posts, then `problems` files that are not posts, which sort after them."""
    write_corpus(root, count=posts)
    for number in range(problems):
        (root / f"0000-not-a-post-{number:05d}.md").write_text(NOT_A_POST, encoding="utf-8")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    write_corpus(root, count=40)
    return root


# --- 7: the cache is not trusted -------------------------------------------------------------


def test_cache_directory_is_created_private_whatever_the_umask(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "new" / "cache"
    monkeypatch.setenv("READER_CACHE_DIR", str(folder))
    old = os.umask(0)
    try:
        load_store([corpus])
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert len(list(folder.glob("corpus-*.cache"))) == 1


def test_cache_owned_by_another_user_is_ignored(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = snapshot(load_store([corpus]))
    assert phases(corpus) == {"cached"}
    real = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: real + 1)
    assert cache_format.open_cache(location_of(corpus)) is None
    assert "cached" not in phases(corpus)  # read afresh
    assert snapshot(load_store([corpus])) == expected


# --- 8: runs without a post, failures while saving, what other runs left -------------------


def test_runs_without_a_post_round_trip(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(NOT_A_POST, encoding="utf-8")
    write_corpus(tmp_path / "posts", count=3)
    vocabulary = choose_vocabulary([])
    posts = [(str(path), -1, -1) for path in sorted((tmp_path / "posts").iterdir())]
    results = [
        read_files([(str(tmp_path / "a.md"), -1, -1)], 1 << 20, vocabulary),
        ReadResult(),
        read_files(posts, 1 << 20, vocabulary),
        read_files([], 1 << 20, vocabulary),
    ]
    assert results[0].rows.size == 0 and results[0].problems and not results[0].records
    location = str(tmp_path / "cache" / "corpus-test.cache")
    assert cache_format.save(location, cache_format.CachedCorpus(vocabulary.keys, 1 << 20, results))
    loaded = cache_format.load(location)
    assert loaded is not None and len(loaded.results) == len(results)
    for written, read in zip(results, loaded.results, strict=True):
        assert (read.records, read.problems, read.texts) == (written.records, written.problems, written.texts)
        assert np.array_equal(read.offsets, written.offsets)
        assert read.rows.size == written.rows.size and np.array_equal(
            read.rows.reshape(-1), written.rows.reshape(-1)
        )


@pytest.mark.parametrize(("posts", "problems"), [(300, 1100), (0, 30)])
def test_corpus_with_runs_without_a_post_loads_and_is_cached(
    tmp_path: Path, posts: int, problems: int
) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    write_posts_then_problems(root, posts, problems)
    cold = load_store([root])
    assert cold.article_count == posts and len(cold.problems) == problems
    assert leftovers() == []
    assert phases(root) == {"cached"}
    assert snapshot(load_store([root])) == snapshot(cold)


def run_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reader", "--check", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )


def test_check_of_an_empty_folder_and_of_non_posts_ends_normally(tmp_path: Path) -> None:
    # The CLI starts workers before the load (`start_early`): the empty folder's run, read
    # by them, has no post either; the cache of both is written, then used.
    (tmp_path / "empty").mkdir()
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.md").write_text(NOT_A_POST, encoding="utf-8")
    for _ in range(2):
        for folder, problems in (("empty", 0), ("junk", 1)):
            done = run_check(tmp_path / folder)
            assert (done.returncode, done.stderr) == (2, "")
            assert "articles: 0" in done.stdout and f"problems: {problems}" in done.stdout
    assert len(list(cache_dir().glob("corpus-*.cache"))) == 2
    assert leftovers() == []


@pytest.mark.parametrize("error", [KeyboardInterrupt, TypeError, MemoryError, OSError(28, "No space left")])
def test_a_failed_write_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException | type[BaseException]
) -> None:
    def failing(out: object, corpus: object) -> None:
        out.write(b"partly written")  # type: ignore[attr-defined]
        raise error

    monkeypatch.setattr(cache_format, "_write", failing)
    location = str(cache_dir() / "corpus-test.cache")
    corpus = cache_format.CachedCorpus(np.zeros(0, np.uint64), 1)
    if isinstance(error, type) and not issubclass(error, Exception):
        with pytest.raises(error):
            cache_format.save(location, corpus)  # an interrupt goes on, after the clean-up
    else:
        assert cache_format.save(location, corpus) is False
    assert os.listdir(cache_dir()) == []


def test_a_load_ends_normally_when_the_cache_cannot_be_written(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(out: object, corpus: object) -> None:
        raise RuntimeError("an unexpected failure")

    monkeypatch.setattr(cache_format, "_write", failing)
    assert load_store([corpus]).article_count == 40
    assert os.listdir(cache_dir()) == []


def ended_process() -> int:
    """The PID of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def test_temporaries_of_killed_runs_are_removed_on_the_next_save(corpus: Path) -> None:
    folder = cache_dir()
    now = time.time()
    names = {
        f".corpus-{ended_process()}-abc.tmp": (now, False),  # its writer is gone
        f".corpus-{os.getpid()}-live.tmp": (now, True),  # a live writer's: never
        f".corpus-{os.getpid()}-old.tmp": (now - 2 * DAY, False),  # a day old: abandoned
        ".corpus-k2j4h5gq.tmp": (now, True),  # an older version's: it waits the day
        ".corpus-zx81ab3c.tmp": (now - 2 * DAY, False),
    }
    for name, (modified, _) in names.items():
        (folder / name).write_bytes(b"x")
        os.utime(folder / name, (modified, modified))
    load_store([corpus])
    assert sorted(leftovers()) == sorted(name for name, (_, kept) in names.items() if kept)


def fake_cache(name: str, size: int, age: float) -> Path:
    path = cache_dir() / f"corpus-{name}.cache"
    path.write_bytes(b"\0" * size)
    when = time.time() - age
    os.utime(path, (when, when))
    return path


def test_caches_unused_for_a_month_are_evicted(corpus: Path) -> None:
    old = fake_cache("old", 10, 31 * DAY)
    recent = fake_cache("recent", 10, 29 * DAY)
    load_store([corpus])
    assert not old.exists() and recent.exists()
    assert os.path.exists(location_of(corpus))


def test_least_recently_used_caches_go_beyond_the_cap(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_store([corpus])
    location = location_of(corpus)
    written = cache_format.load(location)
    assert written is not None
    older, old, new = (fake_cache(name, 1000, hours * 3600) for name, hours in (("c", 3), ("b", 2), ("a", 1)))
    # Room for the one written and two of the three: the least recently used goes.
    monkeypatch.setattr(cache_place, "MAX_TOTAL_BYTES", os.path.getsize(location) + 2500)
    assert cache_format.save(location, written)
    assert (older.exists(), old.exists(), new.exists()) == (False, True, True)
    monkeypatch.setattr(cache_place, "MAX_TOTAL_BYTES", 1)  # nothing fits: all go but the one written
    assert cache_format.save(location, written)
    assert [path.name for path in cache_dir().glob("*.cache")] == [os.path.basename(location)]


def test_opening_a_cache_marks_it_used(corpus: Path, tmp_path: Path) -> None:
    load_store([corpus])
    location = location_of(corpus)
    month = time.time() - 40 * DAY
    os.utime(location, (month, month))
    assert phases(corpus) == {"cached"}  # unchanged: not rewritten, only opened
    assert os.path.getmtime(location) > time.time() - DAY
    other = tmp_path / "other"
    write_corpus(other, count=3)
    load_store([other])  # saves, and evicts what was not used for a month
    assert os.path.exists(location)


# --- 9: a FIFO or a device at the cache path -------------------------------------------------


def test_fifo_at_the_cache_path_does_not_block_the_load(corpus: Path) -> None:
    location = location_of(corpus)
    os.makedirs(os.path.dirname(location), exist_ok=True)
    os.mkfifo(location)
    loaded: list[Store] = []
    thread = threading.Thread(target=lambda: loaded.append(load_store([corpus])), daemon=True)
    thread.start()
    thread.join(timeout=5)
    if thread.is_alive():  # a writer lets the blocked open go on, so the thread ends
        os.close(os.open(location, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("opening the cache blocked on a FIFO")
    assert loaded and loaded[0].article_count == 40
    assert stat.S_ISREG(os.stat(location).st_mode)  # replaced by a real cache


def test_device_at_the_cache_path_is_treated_as_missing(corpus: Path) -> None:
    location = location_of(corpus)
    os.makedirs(os.path.dirname(location), exist_ok=True)
    os.symlink(os.devnull, location)
    assert cache_format.open_cache(location) is None
    assert load_store([corpus]).article_count == 40
