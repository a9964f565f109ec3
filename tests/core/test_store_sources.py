"""A source's display name is the one most of its posts give, whatever file came first."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from reader.core.loading.plan import load_store
from reader.core.models import Article, Post
from reader.core.store import Store

ZONE = timezone(timedelta(hours=8))


def post(number: int, source_id: str, name: str) -> Post:
    date = datetime(2022, 3, 1, tzinfo=ZONE) + timedelta(minutes=number)
    article = Article(f"https://e.com/{number}", f"p{number}", f"标题{number}", date, source_id, name, None)
    return Post(article, f"标题{number}", 1, 1)


def names(store: Store) -> dict[str, str]:
    return {source.source_id: source.name for source in store.sources()[1:]}


def test_one_forged_tag_does_not_rename_the_source_when_it_comes_first() -> None:
    store = Store()
    store.add([post(99, "emnews", "假冒来源")])
    store.add([post(number, "emnews", "东财滚动") for number in range(3)])
    assert names(store) == {"emnews": "东财滚动"}


def test_the_name_follows_the_majority_as_batches_arrive() -> None:
    store = Store()
    store.add([post(0, "s", "甲"), post(1, "s", "乙")])
    assert names(store) == {"s": "甲"}  # a tie: the name seen first
    store.add([post(2, "s", "乙")])
    assert names(store) == {"s": "乙"}
    store.add([post(3, "s", "甲"), post(4, "s", "甲")])
    assert names(store) == {"s": "甲"}


def test_ties_go_to_the_name_seen_first_whatever_the_batching() -> None:
    posts = [post(0, "s", "乙"), post(1, "s", "甲"), post(2, "s", "甲"), post(3, "s", "乙")]
    for size in (1, 2, 4):
        store = Store()
        for start in range(0, len(posts), size):
            store.add(posts[start : start + size])
        assert names(store) == {"s": "乙"}


def test_a_replaced_duplicate_no_longer_votes() -> None:
    store = Store()
    store.add([post(0, "s", "甲"), *(post(number, "s", "乙") for number in (1, 2, 3))])
    assert names(store) == {"s": "乙"}
    newer = [
        Post(
            Article(
                old.article.identity,
                f"{old.article.path}-new",
                "标题",
                old.article.date + timedelta(days=1),
                "s",
                "丙",
                None,
            ),
            "标题",
            1,
            1,
        )
        for old in (post(1, "s", "乙"), post(2, "s", "乙"))
    ]
    store.add(newer)  # live posts now say 甲 once, 乙 once, 丙 twice
    assert store.article_count == 4
    assert names(store) == {"s": "丙"}


def test_a_newest_forged_file_does_not_rename_a_loaded_source(tmp_path: Path) -> None:
    def write(name: str, tag: str, day: int) -> None:
        (tmp_path / f"2022-03-{day:02d}-{name}.md").write_text(
            f'---\ntitle: "{name}"\ndate: 2022-03-{day:02d} 09:00:00 +0800\n'
            f"categories: emnews\ntags: {tag}\n---\n"
            f"正文\n\n<https://e.com/{name}>\n",
            encoding="utf-8",
        )

    for day in range(1, 6):
        write(f"real{day}", "东财滚动新闻", day)
    write("forged", "假冒来源新闻", 28)  # the newest file: read first
    store = load_store([tmp_path], use_cache=False)
    assert names(store) == {"emnews": "东财滚动"}
