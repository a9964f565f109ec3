"""A post below a folder whose path is over PATH_MAX (4,096 bytes on Linux) is reported, not lost.

Such a tree can exist (made with relative paths) but no path-based call reaches into it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.corpus import front

from reader.core.loading.discovery import discover
from reader.core.loading.plan import load_store

NAME = "长" * 80  # 240 bytes of UTF-8 per folder name


@pytest.fixture
def deep(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """(corpus, path of the first folder whose path is too long), a post at the bottom."""
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "2022-01-01-near.md").write_text(front("浅处"), encoding="utf-8")
    folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    path, first_too_long = str(root), None
    try:
        while len(os.fsencode(path)) < 4096 + 2 * len(os.fsencode(NAME)):
            os.mkdir(NAME, dir_fd=folder)
            inner = os.open(NAME, os.O_RDONLY | os.O_DIRECTORY, dir_fd=folder)
            os.close(folder)
            folder, path = inner, os.path.join(path, NAME)
            if first_too_long is None and len(os.fsencode(path)) >= 4096:
                first_too_long = path
        post = os.open("2022-01-02-deep.md", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=folder)
        os.write(post, (front("深处") + "<p>深处的正文</p>\n").encode())
        os.close(post)
    finally:
        os.close(folder)
    assert first_too_long is not None
    yield root, first_too_long
    shutil.rmtree(root)  # fd-based on Linux: copes with the depth


def test_a_folder_past_path_max_is_reported(deep: tuple[Path, str]) -> None:
    root, too_long = deep
    entries, problems = discover([root])
    assert [os.path.basename(entry.path) for entry in entries] == ["2022-01-01-near.md"]
    assert [(p.path, p.reason, p.skipped) for p in problems] == [(too_long, "path too long to read", True)]
    store = load_store([root], use_cache=False)
    assert [article.title for article in store.articles] == ["浅处"]
    assert [p.reason for p in store.problems] == ["path too long to read"]
