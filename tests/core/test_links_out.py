"""Links out of the corpus are not followed unless asked; pseudo-filesystems are never read.

By default a symlink (to a folder or to a post) is followed only when its real target
stays inside the roots given; the others are problems ("link leaves the corpus, not
followed"). With `follow_links` they are followed, but never into /proc, /sys or /dev. A
file named as a root is read wherever it is.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from benchmarks.corpus import front

from reader.core.loading import cache_place, plan, reading
from reader.core.loading import early as early_module
from reader.core.loading.discovery import discover
from reader.core.loading.plan import load_store
from reader.core.models import posts_of

LEAVES = "link leaves the corpus, not followed"
PSEUDO = "pseudo-filesystem, not read"


def post(path: Path, title: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(front(title) + f"<p>{title}的正文</p>\n", encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """corpus/ with one post, beside outside/ with one post the corpus must not reach."""
    post(tmp_path / "corpus" / "2022-01-01-inside.md", "里面")
    post(tmp_path / "outside" / "2022-01-02-outside.md", "外面")
    return tmp_path / "corpus"


def found(root: Path | str, **options: bool) -> tuple[set[str], set[tuple[str, str, bool]]]:
    """(file names found, (link name, reason, skipped) of the problems)."""
    entries, problems = discover([root], **options)
    return (
        {os.path.basename(entry.path) for entry in entries},
        {(os.path.basename(p.path), p.reason, p.skipped) for p in problems},
    )


@pytest.mark.parametrize("target", ["..", "../outside", "/usr", "/", "../outside/2022-01-02-outside.md"])
def test_a_link_out_of_the_corpus_is_reported_not_followed(corpus: Path, target: str) -> None:
    name = "up.md" if target.endswith(".md") else "up"
    os.symlink(target, corpus / name)
    assert found(corpus) == ({"2022-01-01-inside.md"}, {(name, LEAVES, True)})


def test_the_posts_behind_a_link_out_are_not_loaded(corpus: Path) -> None:
    os.symlink("..", corpus / "up")
    os.symlink("../outside/2022-01-02-outside.md", corpus / "2023-01-01-alias.md")
    store = load_store([corpus], use_cache=False)
    assert [article.title for article in store.articles] == ["里面"]
    assert sorted((os.path.basename(p.path), p.reason, p.skipped) for p in store.problems) == [
        ("2023-01-01-alias.md", LEAVES, True),
        ("up", LEAVES, True),
    ]


def test_links_that_stay_inside_the_roots_are_followed(tmp_path: Path, corpus: Path) -> None:
    post(corpus / ".drafts" / "2022-01-03-draft.md", "草稿")  # hidden: reached only by the links
    os.symlink(".drafts", corpus / "drafts")
    os.symlink(".drafts/2022-01-03-draft.md", corpus / "2022-01-04-alias.md")
    os.symlink("../outside", corpus / "other")  # inside the second root given
    names, problems = found(corpus)
    assert names == {"2022-01-01-inside.md", "2022-01-03-draft.md", "2022-01-04-alias.md"}
    assert problems == {("other", LEAVES, True)}
    entries, problems = discover([corpus, tmp_path / "outside"])
    assert {os.path.basename(entry.path) for entry in entries} == names | {"2022-01-02-outside.md"}
    assert [(os.path.basename(p.path), p.reason) for p in problems] == []


def test_follow_links_follows_them_out(corpus: Path) -> None:
    os.symlink("../outside", corpus / "other")
    os.symlink("../outside/2022-01-02-outside.md", corpus / "2023-01-01-alias.md")
    assert found(corpus, follow_links=True) == (
        {"2022-01-01-inside.md", "2022-01-02-outside.md", "2023-01-01-alias.md"},
        set(),
    )
    store = load_store([corpus], use_cache=False, follow_links=True)
    assert sorted(article.title for article in store.articles) == [
        "外面",
        "外面",
        "里面",
    ]  # the link, its target


@pytest.mark.parametrize("target", ["/proc", "/sys", "/dev", "/proc/self", "/proc/version", "/dev/null"])
def test_no_link_leads_into_a_pseudo_filesystem(corpus: Path, target: str) -> None:
    name = "kernel.md" if os.path.isfile(target) or target == "/dev/null" else "kernel"
    os.symlink(target, corpus / name)
    assert found(corpus, follow_links=True) == ({"2022-01-01-inside.md"}, {(name, PSEUDO, True)})
    assert found(corpus) == ({"2022-01-01-inside.md"}, {(name, LEAVES, True)})


@pytest.mark.parametrize("root", ["/proc", "/sys", "/dev/", "/proc/self", "/proc/version", "/dev/null"])
def test_a_pseudo_filesystem_is_refused_as_a_root(tmp_path: Path, root: str) -> None:
    real = os.path.realpath(root)
    assert found(root, follow_links=True) == (set(), {(os.path.basename(real), PSEUDO, True)})
    os.symlink(root, tmp_path / "disguised")
    entries, problems = discover([tmp_path / "disguised"], follow_links=True)
    assert entries == [] and [(p.path, p.reason) for p in problems] == [(real, PSEUDO)]
    assert early_module.read_newest([root], reading.DEFAULT_MAX_BYTES) is None


def test_a_file_named_as_a_root_is_read_wherever_it_is(tmp_path: Path, corpus: Path) -> None:
    elsewhere = tmp_path / "outside" / "2022-01-02-outside.md"
    os.symlink(elsewhere, tmp_path / "named.md")
    for named in (elsewhere, tmp_path / "named.md"):
        store = load_store([corpus, named], use_cache=False)
        assert sorted(article.title for article in store.articles) == ["外面", "里面"]
        assert store.problems == []


def test_the_cache_of_a_load_that_follows_links_is_its_own(tmp_path: Path, corpus: Path) -> None:
    os.symlink("../outside", corpus / "other")
    cache_dir = tmp_path / "cache"
    assert cache_place.cache_file([str(corpus)], cache_dir, True) != cache_place.cache_file(
        [str(corpus)], cache_dir
    )
    followed = load_store([corpus], cache_dir=cache_dir, follow_links=True)
    assert sorted(article.title for article in followed.articles) == ["外面", "里面"]
    for _ in range(2):  # the second time from its own cache
        kept_in = load_store([corpus], cache_dir=cache_dir)
        assert [article.title for article in kept_in.articles] == ["里面"]
        assert [(p.reason, p.skipped) for p in kept_in.problems] == [(LEAVES, True)]
    again = load_store([corpus], cache_dir=cache_dir, follow_links=True)
    assert sorted(article.title for article in again.articles) == ["外面", "里面"]


def test_an_early_start_follows_links_as_told(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    os.symlink("../outside", corpus / "other")
    monkeypatch.setattr(early_module.threading, "active_count", lambda: 1)  # as before the app starts
    monkeypatch.setattr(early_module, "worker_count", lambda: 2)
    for follow_links, titles in ((False, ["里面"]), (True, ["外面", "里面"])):
        early = early_module.start_early([corpus], use_cache=False, follow_links=follow_links)
        assert early is not None
        batches = plan.iter_load([corpus], use_cache=False, early=early, follow_links=follow_links)
        assert sorted(post.article.title for batch in batches for post in posts_of(batch)) == titles
