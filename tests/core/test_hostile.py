"""Hostile corpora: nothing in a file can crash the reader, reach the terminal, or be lost.

Every kind from `tests/hostile_files.py` is written next to valid posts; each file must
become an article shown safely or a problem with a one-line reason. Also covers files
that change or vanish while loading, the size limit, and that loading, searching and
rendering never write inside the corpus.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import time
import unicodedata
from pathlib import Path

import pytest
from rich.cells import cell_len

from reader.core.loading.discovery import discover
from reader.core.loading.plan import load_store
from reader.core.loading.reading import read_post
from reader.core.models import Article
from reader.core.opening import ArticleOpener, ArticleUnavailable
from reader.core.store import Store
from reader.core.text import clean_line, visible_controls

# tests/ holds the shared generator; tests/core has no __init__.py, so put it on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile_files import (  # noqa: E402
    BAD_FILE_NAME,
    BIDI_FILE_NAME,
    CLOSING_TITLE,
    MARKUP_TITLE,
    RAW_FILE_NAME,
    RICH_TITLE,
    front,
    write_hostile_corpus,
)

HEAVY = frozenset({"hostile-huge-line.md", "hostile-many-openers.md", "hostile-deep-nesting.md"})
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def unsafe_characters(text: str, allow: str = "") -> list[str]:
    """Characters that could act on a terminal: Cc, lone surrogates, bidi controls."""
    return [
        char
        for char in text
        if char not in allow and (unicodedata.category(char) in ("Cc", "Cs") or char in BIDI)
    ]


@pytest.fixture(autouse=True)
def _cache_outside_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str], Store]:
    """(corpus root, python-tag payload path, file name -> outcome, loaded store)."""
    base = tmp_path_factory.mktemp("hostile")
    root = base / "corpus"
    pwned = base / "pwned"
    expected = write_hostile_corpus(root, pwned)
    store = load_store([root], use_cache=False)
    return root, pwned, expected, store


def _by_name(store: Store) -> tuple[dict[str, Article], dict[str, list[tuple[bool, str]]]]:
    articles = {os.path.basename(article.path): article for article in store.articles}
    problems: dict[str, list[tuple[bool, str]]] = {}
    for problem in store.problems:
        problems.setdefault(os.path.basename(problem.path), []).append((problem.skipped, problem.reason))
    return articles, problems


def test_every_file_is_an_article_or_a_problem(corpus: tuple[Path, Path, dict[str, str], Store]) -> None:
    _, _, expected, store = corpus
    articles, problems = _by_name(store)
    for name, outcome in expected.items():
        shown = visible_controls(name)
        skipped = [reason for is_skipped, reason in problems.get(name, []) if is_skipped]
        if outcome == "article":
            assert name in articles, f"{shown} should load: {problems.get(name)}"
            assert not skipped, shown
        elif outcome == "problem":
            assert name not in articles, shown
            assert len(skipped) == 1, f"{shown}: {problems.get(name)}"
        elif outcome == "any":
            assert (name in articles) != bool(skipped), f"{shown}: {problems.get(name)}"
        elif outcome == "warning":
            assert problems.get(name) and not skipped, shown
        else:  # "ignored": not a post file (directory, .jpg, fifo, device, dangling link)
            assert name not in articles and not skipped, shown


def test_all_valid_posts_load(corpus: tuple[Path, Path, dict[str, str], Store]) -> None:
    _, _, _, store = corpus
    titles = {article.title for article in store.articles}
    assert {f"有效文章{index}" for index in range(20)} <= titles
    for index in range(20):
        (slot,) = store.view(query=f"有效文章 5G 摘要{index}：").tolist()
        assert store.articles[slot].title == f"有效文章{index}"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("hostile-empty.md", "empty"),
        ("hostile-binary.md", "binary"),
        ("hostile-no-front-matter.md", "no front matter"),
        ("hostile-unclosed-front-matter.md", "not closed"),
        ("hostile-empty-front-matter.md", "empty"),
        ("hostile-invalid-yaml.md", "invalid yaml"),
        ("hostile-yaml-is-a-list.md", "not a mapping"),
        ("hostile-yaml-is-a-string.md", "not a mapping"),
        ("hostile-yaml-python-tag.md", "yaml"),
        ("hostile-header-too-long.md", "longer than"),
        ("hostile-huge-line-over-limit.md", "limit"),
        ("hostile-utf16-broken.md", "utf-16"),
        ("hostile-utf8-surrogate.md", "not utf-8 text, nor gb18030 chinese"),
        ("hostile-cp1252.md", "not utf-8 text, nor gb18030 chinese"),
        ("hostile-link-up", "link leaves the corpus, not followed"),
        ("hostile-link-to-root", "link leaves the corpus, not followed"),
        ("hostile-link-out.md", "link leaves the corpus, not followed"),
        ("hostile-dev-zero.md", "link leaves the corpus, not followed"),
    ],
)
def test_problem_reasons_say_what_is_wrong(
    corpus: tuple[Path, Path, dict[str, str], Store],
    name: str,
    words: str,
) -> None:
    _, _, _, store = corpus
    _, problems = _by_name(store)
    ((skipped, reason),) = problems[name]
    assert skipped
    assert words in reason.lower()


def test_problem_reasons_are_one_clean_line(corpus: tuple[Path, Path, dict[str, str], Store]) -> None:
    _, _, _, store = corpus
    assert store.problems
    for problem in store.problems:
        assert problem.reason and problem.reason == clean_line(problem.reason), problem
        assert len(problem.reason) < 300, problem
        assert not unsafe_characters(visible_controls(problem.path)), problem


@pytest.mark.parametrize(
    ("name", "note"),
    [
        ("hostile-gbk-encoded.md", "GB18030"),
        ("hostile-gb18030-encoded.md", "GB18030"),
        ("hostile-utf16-bom.md", "UTF-16"),
        ("hostile-utf16-be-bom.md", "UTF-16"),
        ("hostile-utf32-bom.md", "UTF-32"),
        ("hostile-utf8-cut-off.md", "last character cut off"),
        ("hostile-impossible-date.md", 'date "2021-02-30" cannot be read'),
        ("hostile-zero-date.md", 'date "0000-00-00" cannot be read'),
        ("hostile-offset-date.md", 'date "2021-12-01 22:00:00 +99:00" cannot be read'),
    ],
)
def test_odd_encodings_and_dates_load_with_a_note(
    corpus: tuple[Path, Path, dict[str, str], Store],
    name: str,
    note: str,
) -> None:
    _, _, _, store = corpus
    articles, problems = _by_name(store)
    assert name in articles
    assert [(False, reason) for _, reason in problems[name]] == problems[name]
    assert any(note in reason for _, reason in problems[name])


def test_titles_sources_and_urls_are_clean(corpus: tuple[Path, Path, dict[str, str], Store]) -> None:
    _, _, _, store = corpus
    for article in store.articles:
        for value in (article.title, article.source_name, article.source_id, article.date_text):
            assert value, article
            assert not unsafe_characters(value), article
            assert clean_line(value) == value, article
        if article.url is not None:
            assert article.url.startswith(("http://", "https://")), article
            assert not unsafe_characters(article.url), article
    for source in store.sources():
        assert not unsafe_characters(source.name) and not unsafe_characters(source.source_id)


def test_control_characters_are_removed_from_titles(corpus: tuple[Path, Path, dict[str, str], Store]) -> None:
    _, _, _, store = corpus
    articles, _ = _by_name(store)
    assert articles["hostile-ansi-escapes.md"].title == "[2J]0;hijacked标题"
    assert articles["hostile-control-chars.md"].title == "控制字符反向C1"
    assert articles["hostile-bidi-title.md"].title == "正常反向标题"
    assert articles["hostile-title-multiline.md"].title == "第一行 第二行 制表"
    assert articles["hostile-ansi-in-source.md"].source_name == "]0;pwn东财"


def test_markup_titles_are_kept_literally(corpus: tuple[Path, Path, dict[str, str], Store]) -> None:
    _, _, _, store = corpus
    articles, _ = _by_name(store)
    assert articles["hostile-click-markup-title.md"].title == MARKUP_TITLE
    assert articles["hostile-red-markup-title.md"].title == RICH_TITLE
    assert articles["hostile-closing-markup-title.md"].title == CLOSING_TITLE


def test_odd_file_names_are_kept_and_shown_visibly(corpus: tuple[Path, Path, dict[str, str], Store]) -> None:
    root, _, _, store = corpus
    paths = {article.path for article in store.articles}
    for name in (BAD_FILE_NAME, BIDI_FILE_NAME, os.fsdecode(RAW_FILE_NAME)):
        path = os.path.join(root, name)
        assert path in paths
        shown = visible_controls(path)
        assert not unsafe_characters(shown)
    assert visible_controls(BAD_FILE_NAME) == "bad^[]0;pwn^Gname.md"
    assert visible_controls(BIDI_FILE_NAME) == "hostile-<U+202E>gnp.md"


def test_yaml_python_tag_never_runs(corpus: tuple[Path, Path, dict[str, str], Store]) -> None:
    _, pwned, _, _ = corpus
    assert not pwned.exists()


def test_alias_bomb_is_fast(corpus: tuple[Path, Path, dict[str, str], Store]) -> None:
    root, _, _, _ = corpus
    started = time.perf_counter()
    store = load_store([root / "hostile-yaml-billion-laughs.md"], use_cache=False)
    assert time.perf_counter() - started < 5
    assert store.article_count == 1


def _rendered_lines(
    opener: ArticleOpener,
    article: Article,
    width: int,
    terms: tuple[str, ...] = (),
) -> list[str]:
    rendered = opener.render(article, width, terms)
    plain = rendered.text.plain
    found = unsafe_characters(plain, allow="\n")
    assert not found, (article.path, [hex(ord(char)) for char in found])
    for span in rendered.text.spans:
        style = str(span.style)
        assert "@click" not in style and "link" not in style, (article.path, style)
    lines = plain.split("\n")
    for line in lines:
        assert cell_len(line) <= max(width, 10), (article.path, width, line)
    return lines


@pytest.mark.parametrize("width", [10, 41, 80])
def test_every_article_renders_safely(corpus: tuple[Path, Path, dict[str, str], Store], width: int) -> None:
    _, _, _, store = corpus
    opener = ArticleOpener()
    for article in store.articles:
        if os.path.basename(article.path) in HEAVY and width != 80:
            continue  # seconds each at narrow widths; test_deep_nesting_and_huge_lines_render has them
        _rendered_lines(opener, article, width, ("正文", "x"))


def test_deep_nesting_and_huge_lines_render(corpus: tuple[Path, Path, dict[str, str], Store]) -> None:
    _, _, _, store = corpus
    articles, _ = _by_name(store)
    opener = ArticleOpener()
    for name in (
        "hostile-deep-nesting.md",
        "hostile-huge-line.md",
        "hostile-many-openers.md",
        "hostile-unclosed-tags.md",
    ):
        lines = _rendered_lines(opener, articles[name], 80, ("长",))
        assert len(lines) >= 2


def test_bodies_show_text_not_escapes_or_scripts(corpus: tuple[Path, Path, dict[str, str], Store]) -> None:
    _, _, _, store = corpus
    articles, _ = _by_name(store)
    opener = ArticleOpener()

    def body(name: str) -> str:
        return "\n".join(_rendered_lines(opener, articles[name], 200))

    assert "红色" in body("hostile-ansi-escapes.md") and "链接" in body("hostile-ansi-escapes.md")
    assert "正文" in body("hostile-control-chars.md")
    scripted = body("hostile-script-and-style.md")
    assert "alert(1)</script>" not in scripted and "p{}" not in scripted and "正文" in scripted
    rich = body("hostile-rich-markup-title.md")
    assert "[bold red]假标题[/]" in rich and "[@click=app.quit]退出[/]" in rich
    assert "[@click=app.quit]x[/]" in body("hostile-click-markup-title.md")
    assert "这是GBK编码" in body("hostile-gbk-encoded.md")
    assert "𠀀" in body("hostile-gb18030-encoded.md")
    assert "正文" in body("hostile-utf16-bom.md")
    assert "第二段" in body("hostile-crlf.md")


def test_search_finds_hostile_articles_and_survives_odd_queries(
    corpus: tuple[Path, Path, dict[str, str], Store],
) -> None:
    _, _, _, store = corpus
    articles, _ = _by_name(store)
    gbk = store.slot_of(articles["hostile-gbk-encoded.md"].identity)
    assert gbk in store.view(query="GBK编码").tolist()
    assert len(store.view(query="深处的文字")) <= 1
    for query in ("\x1b[31m", "\x00", "[/]", "\u202e", "\ud800", "*", "(", "\\", "🇨🇳", "   ", "ｱｲｳ"):
        store.view(query=query)
    click = store.slot_of(articles["hostile-click-markup-title.md"].identity)
    assert click in store.view(query="[@click=app.quit]x[/]").tolist()


@pytest.mark.parametrize("count", [1, 3])
def test_a_corpus_of_only_bad_files_loads_empty(tmp_path: Path, count: int) -> None:
    for index in range(count):
        (tmp_path / f"bad-{index}.md").write_bytes(b"" if index % 2 else b"\x00\xff")
    store = load_store([tmp_path], use_cache=False)
    assert store.article_count == 0
    assert store.skipped_count == count
    assert len(store.view(query="x")) == 0


@pytest.mark.parametrize("text", ["a中!!!!!!!!!!", "!丂!!!!!!!!!", "例子.com/]0;x)"])
def test_wrapped_lines_fit_after_kinsoku(text: str) -> None:
    from reader.core.wrap import line_ranges

    assert all(cell_len(text[start:end]) <= 10 for start, end in line_ranges(text, 10))


def test_size_limit_skips_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "big.md").write_text(front("大文件") + "<p>" + "字" * 1000 + "</p>\n", encoding="utf-8")
    (tmp_path / "small.md").write_text(front("小文件") + "<p>字</p>\n", encoding="utf-8")
    store = load_store([tmp_path], max_bytes=1024, use_cache=False)
    assert [article.title for article in store.articles] == ["小文件"]
    (problem,) = store.problems
    assert problem.skipped and "limit" in problem.reason and problem.path.endswith("big.md")


def test_unreadable_file_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests may run as root, which reads chmod-000 files; refuse the open instead.
    locked = tmp_path / "locked.md"
    locked.write_text(front("锁住") + "<p>x</p>\n", encoding="utf-8")
    real_open = os.open

    def refusing_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(file) == str(locked):
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("os.open", refusing_open)
    store = load_store([tmp_path], use_cache=False)
    (problem,) = store.problems
    assert problem.skipped and "cannot read" in problem.reason


def test_files_that_change_or_vanish_while_loading(tmp_path: Path) -> None:
    names = ["deleted", "emptied", "grown", "binary", "directory", "fine"]
    for name in names:
        (tmp_path / f"{name}.md").write_text(front(name) + "<p>正文</p>\n", encoding="utf-8")
    entries, problems = discover([tmp_path])
    assert not problems and len(entries) == len(names)
    (tmp_path / "deleted.md").unlink()
    (tmp_path / "emptied.md").write_bytes(b"")
    (tmp_path / "grown.md").write_bytes(b"x" * 5000)
    (tmp_path / "binary.md").write_bytes(b"\x00\xff" * 100)
    (tmp_path / "directory.md").unlink()
    (tmp_path / "directory.md").mkdir()
    outcome = {}
    for entry in entries:
        post, found = read_post(entry, max_bytes=4096)
        name = Path(entry.path).stem
        assert (post is None) == bool(found), name
        outcome[name] = found[0].reason if found else post.article.title if post else None
    assert "vanished" in outcome["deleted"]
    assert "empty" in outcome["emptied"]
    assert "limit" in outcome["grown"]
    assert "binary" in outcome["binary"]
    assert outcome["directory"]
    assert outcome["fine"] == "fine"


def test_opening_a_file_that_changed_since_loading(tmp_path: Path) -> None:
    for name in ("gone", "garbled", "fine"):
        (tmp_path / f"{name}.md").write_text(front(name) + "<p>正文</p>\n", encoding="utf-8")
    store = load_store([tmp_path], use_cache=False)
    articles = {article.title: article for article in store.articles}
    (tmp_path / "gone.md").unlink()
    (tmp_path / "garbled.md").write_bytes(b"\x00\xff" * 100)
    opener = ArticleOpener()
    for name in ("gone", "garbled"):
        with pytest.raises(ArticleUnavailable) as raised:
            opener.render(articles[name], 80)
        message = str(raised.value)
        assert message and message == clean_line(message)
    assert "正文" in opener.render(articles["fine"], 80).text.plain


def _snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    """Path -> (mode, mtime_ns, sha256 or link target) of everything under `root`."""
    found: dict[str, tuple[int, int, str]] = {}
    for directory, folders, files in os.walk(root, followlinks=False):
        for name in folders + files:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):
                with open(path, "rb") as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                digest = os.readlink(path)
            else:
                digest = ""
            found[os.fsdecode(path)] = (info.st_mode, info.st_mtime_ns, digest)
    return found


def test_the_reader_never_writes_inside_the_corpus(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write_hostile_corpus(root, tmp_path / "pwned", valid_count=5)
    before = _snapshot(root)
    for _ in range(2):  # the second load may come from the cache
        store = load_store([root])
        opener = ArticleOpener()
        for query in ("有效文章", "正文", "GBK"):
            store.view(query=query)
        for article in store.articles:
            opener.render(article, 60, ("正文",))
    assert _snapshot(root) == before
    assert not (tmp_path / "pwned").exists()
