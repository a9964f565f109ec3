"""The warm-start cache: round trip, invalidation, damage, and never writing the corpus."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from benchmarks.corpus import write_corpus

from reader.core.loading import cache_format, cache_place
from reader.core.loading.plan import iter_load, load_store
from reader.core.models import posts_of
from reader.core.store import Store


def snapshot(store: Store) -> tuple[object, ...]:
    articles = sorted(
        (a.path, a.identity, a.title, a.date, a.source_id, a.source_name, a.url)
        for a in (store.articles[s] for s in store.order())
    )
    problems = sorted((p.path, p.reason, p.skipped) for p in store.problems)
    texts = sorted(store.index.text(slot) for slot in range(len(store.index)))
    return articles, problems, texts, store.duplicates


def phases(root: Path) -> list[str]:
    return [batch.phase for batch in iter_load([root]) if posts_of(batch)]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    write_corpus(root, count=120, hostile=True)
    return root


def cache_files() -> list[str]:
    return [name for name in os.listdir(os.environ["READER_CACHE_DIR"]) if name.endswith(".cache")]


def test_round_trip(corpus: Path) -> None:
    cold = load_store([corpus])
    assert len(cache_files()) == 1
    assert set(phases(corpus)) == {"cached"}
    warm = load_store([corpus])
    assert snapshot(warm) == snapshot(cold)
    assert warm.view(query="工信部").tolist() == cold.view(query="工信部").tolist()


def test_changed_new_and_deleted_files(corpus: Path) -> None:
    load_store([corpus])
    posts = sorted(corpus.glob("2*.md"))
    changed, deleted = posts[0], posts[1]
    changed.write_text(
        changed.read_text(encoding="utf-8").replace("<p>", "<p>独一无二的改动", 1), encoding="utf-8"
    )
    os.utime(changed, ns=(1, 1))
    deleted.unlink()
    (corpus / "2099-01-01-new.md").write_text(
        '---\ntitle: "新文件"\ndate: 2099-01-01 00:00:00 +0800\n---\n<p>新的正文</p>\n', encoding="utf-8"
    )
    warm = load_store([corpus])
    assert snapshot(warm) == snapshot(load_store([corpus], use_cache=False))
    assert len(warm.view(query="独一无二的改动")) == 1
    assert len(warm.view(query="新的正文")) == 1
    assert all(warm.articles[s].path != str(deleted) for s in warm.order())


@pytest.mark.parametrize("damage", ["truncate", "flip", "version", "garbage", "empty"])
def test_damaged_cache_is_rebuilt(corpus: Path, damage: str) -> None:
    expected = snapshot(load_store([corpus]))
    [name] = cache_files()
    path = Path(os.environ["READER_CACHE_DIR"]) / name
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data[len(data) // 3] ^= 0xFF
    elif damage == "version":
        data[8] += 1
    elif damage == "garbage":
        data = bytearray(os.urandom(len(data)))
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    assert cache_format.load(str(path)) is None
    assert snapshot(load_store([corpus])) == expected
    assert cache_format.load(str(path)) is not None  # rewritten


def test_cache_dir_inside_the_corpus_is_refused(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READER_CACHE_DIR", str(corpus / "cache"))
    assert cache_place.cache_file([str(corpus)]) is None
    load_store([corpus])
    assert not (corpus / "cache").exists()


def test_corpus_is_never_written(corpus: Path) -> None:
    def listing() -> dict[str, str]:
        found = {}
        for folder, _dirs, files in os.walk(corpus):
            for name in files:
                path = os.path.join(folder, name)
                found[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        return found

    before = listing()
    load_store([corpus])
    load_store([corpus])
    assert listing() == before


def test_no_cache_writes_nothing(corpus: Path) -> None:
    load_store([corpus], use_cache=False)
    assert cache_files() == []


def test_different_max_bytes_is_not_served_from_cache(corpus: Path) -> None:
    load_store([corpus])
    small = load_store([corpus], max_bytes=2048)
    assert snapshot(small) == snapshot(load_store([corpus], max_bytes=2048, use_cache=False))


def test_bulk_stat_agrees_with_os_stat(tmp_path: Path) -> None:
    from tests.native import require_accelerator

    from reader.core import accel

    require_accelerator()
    (tmp_path / "a.md").write_text("x", encoding="utf-8")
    (tmp_path / "空 白.md").write_text("长" * 10, encoding="utf-8")
    (tmp_path / "dir").mkdir()
    paths = [str(tmp_path / name) for name in ("a.md", "空 白.md", "gone.md", "dir")]
    expected = []
    for path in paths:
        try:
            info = os.stat(path)
            expected.append((info.st_size, info.st_mtime_ns))
        except OSError:
            expected.append(None)
    assert accel.stat_many(paths) == expected
    assert expected[2] is None and expected[1] == (30, os.stat(paths[1]).st_mtime_ns)


def test_newest_cached_posts_come_before_discovery_and_changes_there_are_seen(corpus: Path) -> None:
    load_store([corpus])
    newest = max(corpus.glob("2*.md"))
    newest.write_text(newest.read_text(encoding="utf-8").replace("<p>", "<p>最新的改动", 1), encoding="utf-8")
    os.utime(newest, ns=(2, 2))
    batches = list(iter_load([corpus]))
    assert batches[0].phase == "cached" and posts_of(batches[0]) and batches[0].total == 0
    assert [batch.phase for batch in batches].index("finding") == 1
    warm = Store()
    for batch in batches:
        warm.add_batch(batch)
    assert snapshot(warm) == snapshot(load_store([corpus], use_cache=False))
    assert len(warm.view(query="最新的改动")) == 1
