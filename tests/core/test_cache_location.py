"""The cache is never written inside the corpus, however the corpus was given or reached.

Checked on real paths: not in a directory root's tree, not in the folder of a file given
as a root, not in a folder the walk reached through a link.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from benchmarks.corpus import front

from reader.core.loading import cache_place
from reader.core.loading.plan import load_store


def tree(root: Path) -> dict[str, str]:
    """Every file under `root`, links followed (that is how a write could get in): path -> sha256."""
    files = {}
    for folder, _, names in os.walk(root, followlinks=True):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                files[path] = hashlib.sha256(handle.read()).hexdigest()
    return files


def posts(folder: Path, count: int = 3) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for day in range(1, count + 1):
        path = folder / f"2022-03-0{day}-post.md"
        path.write_text(front(f"第{day}篇") + f"<http://example.com/{day}.html>\n", encoding="utf-8")
        written.append(path)
    return written


def load_twice(roots: list[Path], **options: object) -> None:
    for _ in range(2):  # the second load would rewrite a cache it found wanting
        assert load_store(roots, **options).article_count >= 1  # type: ignore[arg-type]


def test_files_given_as_roots_keep_the_cache_out_of_their_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "DIR"
    files = posts(folder)
    before = tree(folder)
    load_twice(files, cache_dir=folder)  # `reader DIR/*.md` with the cache folder set to DIR
    monkeypatch.setenv("READER_CACHE_DIR", str(folder))
    monkeypatch.chdir(tmp_path)
    load_twice([Path("DIR") / path.name for path in files])
    assert tree(folder) == before


def test_a_link_in_the_corpus_to_the_cache_folder_is_not_written_through(tmp_path: Path) -> None:
    corpus, cache_dir = tmp_path / "corpus", tmp_path / "cache"
    posts(corpus)
    cache_dir.mkdir()
    os.symlink(cache_dir, corpus / "cache-link")
    before = tree(corpus)
    load_twice([corpus], cache_dir=cache_dir, follow_links=True)
    assert tree(corpus) == before
    assert os.listdir(cache_dir) == []


def test_a_cache_folder_reached_through_a_link_to_its_parent(tmp_path: Path) -> None:
    corpus, cache_dir = tmp_path / "corpus", tmp_path / "outside" / "deep" / "cache"
    posts(corpus)
    cache_dir.mkdir(parents=True)
    os.symlink(tmp_path / "outside", corpus / "outside-link")
    before = tree(corpus)
    load_twice([corpus], cache_dir=cache_dir, follow_links=True)
    assert tree(corpus) == before


def test_a_cache_folder_that_is_a_link_into_the_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    posts(corpus)
    (corpus / "sub").mkdir()
    os.symlink(corpus / "sub", tmp_path / "cache")
    before = tree(corpus)
    load_twice([corpus], cache_dir=tmp_path / "cache")
    assert tree(corpus) == before


def test_the_cache_is_still_written_where_it_is_safe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = posts(tmp_path / "home")
    monkeypatch.setenv("READER_CACHE_DIR", str(tmp_path / "home" / ".cache" / "reader"))
    load_store(files[:1])  # a file in the home folder, the cache below it: fine
    assert len(os.listdir(tmp_path / "home" / ".cache" / "reader")) == 1
    corpus, elsewhere = tmp_path / "corpus", tmp_path / "elsewhere"
    posts(corpus)
    os.symlink(tmp_path / "home", corpus / "home-link")  # followed, but the cache is not under it
    load_store([corpus], cache_dir=elsewhere, follow_links=True)
    assert len(os.listdir(elsewhere)) == 1


@pytest.mark.parametrize(
    ("folder", "reached", "files", "safe"),
    [
        ("/c/cache", [], [], True),
        ("/c/cache", ["/c/cache"], [], False),
        ("/c/cache", ["/c"], [], False),
        ("/c/cache", ["/"], [], False),
        ("/c/cache", ["/c/cach"], [], True),  # a sibling sharing a prefix
        ("/c/cache", ["/c/cache/sub"], [], True),
        ("/c/cache", [], ["/c/cache/a.md"], False),
        ("/c/cache", [], ["/c/a.md"], True),
        ("/c/cache", [], ["/c/cache/x/a.md"], True),
    ],
)
def test_location_is_safe(
    tmp_path: Path, folder: str, reached: list[str], files: list[str], safe: bool
) -> None:
    base = os.path.realpath(tmp_path)
    place = lambda path: base + path if path != "/" else "/"  # noqa: E731
    location = os.path.join(place(folder), "corpus-x.cache")
    reached_dirs, file_roots = [place(path) for path in reached], [place(path) for path in files]
    assert cache_place.location_is_safe(location, reached_dirs, file_roots) is safe


def test_a_cache_reached_through_a_link_is_not_even_touched(tmp_path: Path) -> None:
    # Marking a cache used (its times) is a write too: it waits until the walk says the
    # cache is outside the corpus.
    corpus, cache_dir = tmp_path / "corpus", tmp_path / "cache"
    posts(corpus)
    load_store([corpus], cache_dir=cache_dir, follow_links=True)  # a cache, before the link
    (location,) = cache_dir.glob("*.cache")
    os.utime(location, (1_000_000_000, 1_000_000_000))
    (corpus / "cache-link").symlink_to(cache_dir, target_is_directory=True)
    load_store([corpus], cache_dir=cache_dir, follow_links=True)
    assert [path.name for path in cache_dir.glob("*.cache")] == [location.name]
    assert os.stat(location).st_mtime == 1_000_000_000
