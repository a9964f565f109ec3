"""An article's identity: its URL, else a hash of its folded search text, never its path.

Marks are stored by identity (`core/state.py`), so a renamed file keeps its marks, one
post under two file names is one article, and an identity never changes between reader
versions unless the search text does (the pinned value below says when it did).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from benchmarks.corpus import front

from reader.core import accel
from reader.core.loading import reading
from reader.core.loading.plan import load_store
from reader.core.records import FileEntry, Record
from reader.core.search import FoldedTexts

NO_URL = (
    front("央行开展逆回购操作")
    + "<p>人民银行今日开展１００亿元逆回购操作。</p>\n<p>Second ＡＢＣ paragraph.</p>\n"
)
PINNED = "text:5c243cd3b83b9b64b38c227371d015f3"
"""The identity of `NO_URL`: blake2b-128 of the UTF-16-LE of its folded search text,
"央行开展逆回购操作\n东财滚动\n人民银行今日开展100亿元逆回购操作。\n\nsecond abc paragraph.\n".
If a change of folding or of what is searched moves it, every mark of a post without a
URL is lost: change it only on purpose, and say so."""

URL = "http://finance.eastmoney.com/news/1344,202203012291000001.html"
WITH_URL = front("有链接的文章") + f"<p>正文。</p>\n\n<{URL}>\n"


def read(*paths: Path) -> list[Record]:
    task = [(str(path), -1, -1) for path in paths]
    return reading.read_files(task, reading.DEFAULT_MAX_BYTES, None).records


@pytest.fixture(params=["C", "Python"])
def path_taken(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test on both paths: C when it is built (else it is Python twice), and Python."""
    if request.param == "Python":
        monkeypatch.setattr(accel, "library", lambda: None)
        assert not FoldedTexts().native
    return str(request.param)


def test_the_identity_of_a_post_without_url_is_pinned(tmp_path: Path, path_taken: str) -> None:
    post = tmp_path / "2022-03-01-post.md"
    post.write_text(NO_URL, encoding="utf-8")
    (record,) = read(post)
    assert record.url is None
    assert record.identity == PINNED


def test_the_identity_does_not_depend_on_the_file_around_it(tmp_path: Path, path_taken: str) -> None:
    """Read alone, first, in the middle or last of a run, and one by one: one identity."""
    names = []
    for number in range(3):
        other = tmp_path / f"other-{number}.md"
        other.write_text(front(f"别的文章{number}") + f"<p>其他内容{number}</p>\n", encoding="utf-8")
        names.append(other)
    post = tmp_path / "post.md"
    post.write_text(NO_URL, encoding="utf-8")
    for run in ([post, *names], [names[0], post, *names[1:]], [*names, post]):
        (found,) = [record for record in read(*run) if record.path == str(post)]
        assert found.identity == PINNED
    alone, _ = reading.read_post(FileEntry(str(post)))
    assert alone is not None
    assert alone.article.identity == PINNED
    others = {record.identity for record in read(*names)}
    assert len(others) == 3
    assert PINNED not in others


def test_a_renamed_file_keeps_its_identity(tmp_path: Path, path_taken: str) -> None:
    first = tmp_path / "2022-03-01-a.md"
    first.write_text(NO_URL, encoding="utf-8")
    (before,) = read(first)
    moved = tmp_path / "moved" / "2022-03-01-renamed.txt"
    moved.parent.mkdir()
    os.rename(first, moved)
    (after,) = read(moved)
    assert after.path != before.path
    assert after.identity == before.identity == PINNED


def test_the_same_post_under_two_names_is_one_article(tmp_path: Path, path_taken: str) -> None:
    (tmp_path / "a.md").write_text(NO_URL, encoding="utf-8")
    (tmp_path / "b.md").write_text(NO_URL, encoding="utf-8")
    (tmp_path / "c.md").write_text(
        front("另一篇") + "<p>人民银行今日开展１００亿元逆回购操作。</p>\n", encoding="utf-8"
    )
    store = load_store([tmp_path], use_cache=False)
    assert store.duplicates == 1
    assert len(store.view()) == 2
    identities = {store.articles[int(slot)].identity for slot in store.view()}
    assert PINNED in identities


def test_a_post_with_a_url_is_known_by_it(tmp_path: Path, path_taken: str) -> None:
    (tmp_path / "a.md").write_text(WITH_URL, encoding="utf-8")
    (tmp_path / "b.md").write_text(WITH_URL.replace("正文。", "改过的正文。"), encoding="utf-8")
    records = read(tmp_path / "a.md", tmp_path / "b.md")
    assert [record.identity for record in records] == [URL, URL]
    assert load_store([tmp_path], use_cache=False).duplicates == 1


def test_posts_with_no_searchable_body_stay_apart(tmp_path: Path, path_taken: str) -> None:
    """An image-only post has an empty search body: its title keeps it apart from others."""
    for number in range(3):
        (tmp_path / f"{number}.md").write_text(
            front(f"图片新闻{number}") + '<center><img src="https://x.example/a.jpg"></center>\n',
            encoding="utf-8",
        )
    store = load_store([tmp_path], use_cache=False)
    assert store.duplicates == 0
    assert len(store.view()) == 3
