"""Every malformed file becomes a Problem with a sensible reason; good siblings still load."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.corpus import HOSTILE, front, write_corpus
from reader.core import loader
from reader.core.loader import FileEntry, discover, load_store, read_post

GOOD = front("好文章") + "<p>正文内容</p>\n"


def reasons(store: loader.Store) -> dict[str, list[tuple[str, bool]]]:
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
        ("bad-date.md", HOSTILE["bad-date"], "not a date", False),
        ("gbk.md", HOSTILE["gbk-encoded"], "GB18030", False),
        ("utf16.md", (front("UTF16文章") + "<p>正文</p>\n").encode("utf-16"), "UTF-16", False),
    ],
)
def test_malformed_file_gives_a_problem(tmp_path: Path, name: str, data: bytes, reason: str, skipped: bool) -> None:
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
    store = load_store([tmp_path], use_cache=False)
    assert store.article_count + len(store.problems) >= 1


@pytest.mark.parametrize("kind", ["date-only", "categories-list", "utf8-bom", "crlf"])
def test_odd_but_valid_files_load_cleanly(tmp_path: Path, kind: str) -> None:
    (tmp_path / f"{kind}.md").write_bytes(HOSTILE[kind])
    store = load_store([tmp_path], use_cache=False)
    assert store.article_count == 1
    assert not [p for p in store.problems if p.skipped]
    article = store.articles[0]
    assert article.date.utcoffset() is not None
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
    store = load_store([tmp_path], use_cache=False)
    assert store.article_count >= 50
    assert len(store.view(query="返回首页")) == 0
    assert len(store.view(query="深处的文字")) == 1


def test_parallel_and_in_process_agree(tmp_path: Path) -> None:
    write_corpus(tmp_path, count=600, hostile=True)
    one = list(loader.iter_load([tmp_path], use_cache=False, parallel=False))
    two = list(loader.iter_load([tmp_path], use_cache=False, parallel=True))
    posts = lambda batches: [(p.article, p.search_text) for b in batches for p in b.posts]  # noqa: E731
    assert posts(one) == posts(two)
    problems = lambda batches: sorted((pr.path, pr.reason, pr.skipped) for b in batches for pr in b.problems)  # noqa: E731
    assert problems(one) == problems(two)


def test_background_load_hands_over_everything(tmp_path: Path) -> None:
    from reader.core.loader import BackgroundLoad

    for day in range(1, 6):
        (tmp_path / f"2022-03-0{day}-post.md").write_text(front(f"第{day}篇"), encoding="utf-8")
    load = BackgroundLoad([tmp_path], use_cache=False)
    titles = [post.article.title for batch in load.batches() for post in batch.posts]
    assert sorted(titles) == [f"第{day}篇" for day in range(1, 6)]
    assert load.take() is None  # and it stays over


def test_cancelling_a_background_load_wakes_its_consumer(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from reader.core import loader

    never = threading.Event()

    def stuck_load(*_: object, **__: object) -> Iterator[loader.Batch]:
        never.wait(10)  # a load that produces nothing for a long time
        yield from ()

    monkeypatch.setattr(loader, "iter_load", stuck_load)
    load = loader.BackgroundLoad(["anywhere"], use_cache=False)
    taken: list[object] = []
    consumer = threading.Thread(target=lambda: taken.append(load.take()))
    consumer.start()
    load.cancel()  # e.g. the app quits mid-load: the UI's worker must not hang in take()
    consumer.join(timeout=5)
    never.set()
    assert not consumer.is_alive() and taken == [None]
