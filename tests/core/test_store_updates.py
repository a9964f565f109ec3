"""A store kept in step with a corpus that changes: removed files leave every view, count
and search; a file read again replaces its earlier read (never a duplicate row)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from reader.core.loading.plan import batch_of, iter_changes, load_store, read_changes
from reader.core.loading.reading import DEFAULT_MAX_BYTES, read_files
from reader.core.loading.watch import Changes, apply_changes
from reader.core.models import Article, Post
from reader.core.records import Problem
from reader.core.store import Store

ZONE = timezone(timedelta(hours=8))


def text(title: str, body: str, *, url: str | None = None, source: str = "emnews", day: int = 1) -> str:
    link = f"<{url}>\n" if url else ""
    return (
        f'---\nlayout: post\ntitle: "{title}"\ndate: 2022-03-{day:02} 09:56:11 +0800\n'
        f"categories: {source}\ntags: {source}新闻\n---\n<p>{body}</p>\n{link}"
    )


def corpus(tmp_path: Path) -> tuple[Path, Store]:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "2022-03-01-a.md").write_text(text("甲文章", "芯片产业"), encoding="utf-8")
    (folder / "2022-03-02-b.md").write_text(
        text("乙文章", "工信部", source="xinhua", day=2), encoding="utf-8"
    )
    (folder / "2022-03-03-c.md").write_text(text("丙文章", "芯片与工信部", day=3), encoding="utf-8")
    return folder, load_store([folder], use_cache=False)


def titles(store: Store, source: str = "", query: str = "") -> list[str]:
    return [store.articles[slot].title for slot in store.view(source, query)]


def counts(store: Store) -> dict[str, int]:
    return {source.source_id: source.count for source in store.sources()}


def test_a_removed_file_leaves_views_sources_search_and_problems(tmp_path: Path) -> None:
    folder, store = corpus(tmp_path)
    (folder / "2022-03-04-bad.md").write_bytes(b"no header")
    apply_changes(store, Changes(added=[str(folder / "2022-03-04-bad.md")]))
    assert len(store.problems) == 1
    assert counts(store) == {"": 3, "emnews": 2, "xinhua": 1}
    assert titles(store) == ["丙文章", "乙文章", "甲文章"]
    gone = store.remove_paths([str(folder / "2022-03-02-b.md"), str(folder / "2022-03-04-bad.md")])
    assert [store.articles[slot].title for slot in gone] == ["乙文章"]
    assert titles(store) == ["丙文章", "甲文章"]
    assert titles(store, query="工信部") == ["丙文章"]
    assert titles(store, "xinhua") == []
    assert counts(store) == {"": 2, "emnews": 2}
    assert store.article_count == 2 and store.problems == []
    assert store.slot_of_path(str(folder / "2022-03-02-b.md")) is None
    assert store.remove_paths([str(folder / "unknown.md")]) == []


def test_a_changed_file_replaces_its_record_without_a_duplicate(tmp_path: Path) -> None:
    folder, store = corpus(tmp_path)
    path = folder / "2022-03-01-a.md"
    before = store.slot_of_path(str(path))
    path.write_text(text("甲文章（更新）", "新能源", source="xinhua"), encoding="utf-8")
    apply_changes(store, Changes(changed=[str(path)]))
    after = store.slot_of_path(str(path))
    assert before is not None and after is not None and after != before
    assert not store.is_alive(before) and store.is_alive(after)
    assert titles(store) == ["丙文章", "乙文章", "甲文章（更新）"]
    assert titles(store, query="新能源") == ["甲文章（更新）"]
    assert titles(store, query="芯片") == ["丙文章"]  # the old text is not found any more
    assert counts(store) == {"": 3, "xinhua": 2, "emnews": 1}
    assert store.article_count == 3 and store.duplicates == 0 and store.problems == []


def test_a_batch_of_changes_alone_replaces_what_the_load_read(tmp_path: Path) -> None:
    folder, store = corpus(tmp_path)
    path = folder / "2022-03-01-a.md"
    path.write_text(text("甲文章（新）", "新能源"), encoding="utf-8")
    for batch in iter_changes([str(path)], vocabulary=store.index.vocabulary):
        store.add_batch(batch)
    assert titles(store) == ["丙文章", "乙文章", "甲文章（新）"] and store.article_count == 3


def test_a_retitled_file_keeps_its_identity_and_replaces_its_record(tmp_path: Path) -> None:
    folder, store = corpus(tmp_path)
    path = folder / "2022-03-04-linked.md"
    url = "https://example.com/linked"
    path.write_text(text("有链接", "芯片产业", url=url, day=4), encoding="utf-8")
    apply_changes(store, Changes(added=[str(path)]))
    path.write_text(text("有链接改了标题", "芯片产业", url=url, day=4), encoding="utf-8")
    apply_changes(store, Changes(changed=[str(path)]))
    assert titles(store) == ["有链接改了标题", "丙文章", "乙文章", "甲文章"] and store.duplicates == 0
    assert store.slot_of(url) == store.slot_of_path(str(path))


def test_a_file_that_breaks_becomes_a_problem_and_mends(tmp_path: Path) -> None:
    folder, store = corpus(tmp_path)
    path = folder / "2022-03-01-a.md"
    path.write_bytes(b'---\ntitle: "x"\n')
    apply_changes(store, Changes(changed=[str(path)]))
    assert titles(store) == ["丙文章", "乙文章"]
    assert [(problem.path, problem.skipped) for problem in store.problems] == [(str(path), True)]
    path.write_text(text("甲文章", "芯片产业"), encoding="utf-8")
    apply_changes(store, Changes(changed=[str(path)]))
    assert titles(store) == ["丙文章", "乙文章", "甲文章"]
    assert store.problems == []


def test_a_warning_is_replaced_by_the_next_read(tmp_path: Path) -> None:
    folder, store = corpus(tmp_path)
    path = folder / "2022-03-01-a.md"
    path.write_text(text("", "无标题"), encoding="utf-8")
    apply_changes(store, Changes(changed=[str(path)]))
    assert [problem.reason for problem in store.problems] == ["no title; using the file name"]
    path.write_text(text("有标题", "有标题"), encoding="utf-8")
    apply_changes(store, Changes(changed=[str(path)]))
    assert store.problems == [] and "有标题" in titles(store)


def test_removing_the_live_copy_of_an_article_brings_back_the_other(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    url = "https://example.com/same"
    (folder / "2022-03-01-first.md").write_text(text("早的副本", "同一篇", url=url), encoding="utf-8")
    (folder / "2022-03-02-second.md").write_text(text("中的副本", "同一篇", url=url, day=2), encoding="utf-8")
    (folder / "2022-03-03-third.md").write_text(text("晚的副本", "同一篇", url=url, day=3), encoding="utf-8")
    store = load_store([folder], use_cache=False)
    assert titles(store) == ["晚的副本"] and store.duplicates == 2
    gone = store.remove_paths([str(folder / "2022-03-03-third.md")])
    assert titles(store) == ["中的副本"] and store.duplicates == 1
    assert [store.articles[slot].title for slot in gone] == ["晚的副本"]
    assert store.slot_of(url) == store.slot_of_path(str(folder / "2022-03-02-second.md"))
    store.remove_paths([str(folder / "2022-03-02-second.md")])
    assert titles(store) == ["早的副本"] and store.duplicates == 0
    assert titles(store, query="同一篇") == ["早的副本"]


def test_a_changed_copy_keeps_the_identity_rules(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    url = "https://example.com/same"
    first, second = folder / "2022-03-01-first.md", folder / "2022-03-02-second.md"
    first.write_text(text("早的副本", "同一篇", url=url), encoding="utf-8")
    second.write_text(text("晚的副本", "同一篇", url=url, day=2), encoding="utf-8")
    store = load_store([folder], use_cache=False)
    first.write_text(text("早的副本改到最新", "同一篇", url=url, day=5), encoding="utf-8")
    apply_changes(store, Changes(changed=[str(first)]))
    assert titles(store) == ["早的副本改到最新"] and store.duplicates == 1 and store.article_count == 1
    second.write_text(text("晚的副本", "同一篇", url="https://example.com/other", day=2), encoding="utf-8")
    apply_changes(store, Changes(changed=[str(second)]))
    assert titles(store) == ["早的副本改到最新", "晚的副本"] and store.duplicates == 0


def test_a_file_read_twice_in_one_batch_is_listed_once(tmp_path: Path) -> None:
    folder, store = corpus(tmp_path)
    path = str(folder / "2022-03-01-a.md")
    vocabulary = store.index.vocabulary
    assert vocabulary is not None
    result = read_files([(path, -1, -1), (path, -1, -1)], DEFAULT_MAX_BYTES, vocabulary)
    store.add_batch(batch_of(result, vocabulary, 2, 2, "changes"))
    assert titles(store) == ["丙文章", "乙文章", "甲文章"] and store.duplicates == 0
    store.remove_paths([path])  # no earlier read of it is left behind
    assert titles(store) == ["丙文章", "乙文章"]


def test_a_source_is_renamed_when_the_files_naming_it_go(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for day, name in ((1, "甲"), (2, "乙"), (3, "乙")):
        page = text(f"文章{day}", "正文", day=day).replace("tags: emnews新闻", f"tags: {name}新闻")
        (folder / f"2022-03-0{day}-{day}.md").write_text(page, encoding="utf-8")
    store = load_store([folder], use_cache=False)
    assert [source.name for source in store.sources()[1:]] == ["乙"]
    store.remove_paths([str(folder / "2022-03-02-2.md")])
    changed = folder / "2022-03-03-3.md"
    changed.write_text(text("文章3", "正文", day=3).replace("tags: emnews新闻", "tags: 甲新闻"), "utf-8")
    apply_changes(store, Changes(changed=[str(changed)]))
    assert [(source.name, source.count) for source in store.sources()[1:]] == [("甲", 2)]


def test_a_folder_removed_takes_everything_below_it(tmp_path: Path) -> None:
    folder, store = corpus(tmp_path)
    (folder / "sub").mkdir()
    (folder / "subway").mkdir()
    (folder / "sub" / "2022-03-05-d.md").write_text(text("丁文章", "地铁"), encoding="utf-8")
    (folder / "sub" / "2022-03-05-e.md").write_bytes(b"")
    (folder / "subway" / "2022-03-05-f.md").write_text(text("戊文章", "地铁"), encoding="utf-8")
    paths = [str(path) for path in sorted(folder.glob("sub*/*.md"))]
    apply_changes(store, Changes(added=paths))
    assert store.article_count == 5 and len(store.problems) == 1
    gone = store.remove_paths([], folders=[str(folder / "sub")])
    assert [store.articles[slot].title for slot in gone] == ["丁文章"]
    assert store.article_count == 4 and store.problems == []
    assert titles(store, query="地铁") == ["戊文章"]


def test_changes_read_in_batches_are_all_added(tmp_path: Path) -> None:
    folder, store = corpus(tmp_path)
    paths = []
    for number in range(2500):
        path = folder / f"2022-04-01-many-{number:04}.md"
        path.write_text(text(f"多{number}", f"第{number}篇"), encoding="utf-8")
        paths.append(str(path))
    batches = list(iter_changes(paths + paths[:5], vocabulary=store.index.vocabulary, parallel=False))
    assert [len(batch.records) for batch in batches] == [1024, 1024, 452]
    assert batches[-1].done == batches[-1].total == 2500 and {batch.phase for batch in batches} == {"changes"}
    for batch in batches:
        store.add_batch(batch)
    assert store.article_count == 2503 and titles(store, query="第2499篇") == ["多2499"]


def test_changes_into_an_empty_store_choose_a_vocabulary(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.md").write_text(text("第一篇", "芯片"), encoding="utf-8")
    store = Store()
    apply_changes(store, Changes(added=[str(folder / "a.md")]))
    assert store.index.vocabulary is not None and titles(store, query="芯片") == ["第一篇"]
    other = Store()
    other.add_batch(read_changes([str(folder / "a.md"), str(folder / "gone.md")]))
    assert titles(other, query="芯片") == ["第一篇"]
    assert [problem.reason for problem in other.problems] == ["file vanished while loading"]


def test_many_changes_read_by_worker_processes_match_those_read_here(tmp_path: Path) -> None:
    folder, store = corpus(tmp_path)
    paths = []
    for number in range(2100):
        path = folder / f"2022-04-01-many-{number:04}.md"
        path.write_text(text(f"多{number}", f"第{number}篇"), encoding="utf-8")
        paths.append(str(path))
    here = list(iter_changes(paths, vocabulary=store.index.vocabulary, parallel=False))
    there = list(iter_changes(paths, vocabulary=store.index.vocabulary, parallel=True))
    assert [batch.records for batch in there] == [batch.records for batch in here]
    assert all(np.array_equal(a.chunk.rows, b.chunk.rows) for a, b in zip(here, there, strict=True))


def test_hand_built_posts_replace_by_path() -> None:
    date = datetime(2022, 3, 1, tzinfo=ZONE)

    def built(title: str, identity: str) -> Post:
        return Post(Article(identity, "/c/p.md", title, date, "s", "名", None), title, 1, 1)

    store = Store()
    store.add([built("一", "https://e.com/1")], [Problem("/c/p.md", "a warning", False)])
    store.add([built("二", "https://e.com/2")])
    assert titles(store) == ["二"] and store.problems == [] and store.slot_of("https://e.com/1") is None
