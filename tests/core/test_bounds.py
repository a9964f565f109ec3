"""Work per file and per query is bounded: hostile posts and queries cost little.

Timings here are generous bounds (a tenth or less of what the unbounded code took), so
a busy machine does not make them flaky; memory is checked with tracemalloc's peak.
"""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.native import require_accelerator

from reader.core import accel
from reader.core import html_blocks as document_module
from reader.core.body import search_body
from reader.core.html_blocks import MAX_LINKS
from reader.core.loading.plan import load_store
from reader.core.markdown_layer import MAX_BODY_TAGS
from reader.core.models import Article, Post
from reader.core.opening import ArticleOpener
from reader.core.render import MORE_LINKS_NOTE
from reader.core.search import (
    MAX_SEARCH_UNITS,
    SEPARATOR,
    FoldedTexts,
    SearchIndex,
    choose_vocabulary,
    fold_prefix,
    signatures,
    text_offsets,
    units_of,
)
from reader.core.search import chunks as chunks_module
from reader.core.search import folded_texts as folded_texts_module
from reader.core.store import Store
from reader.core.text import MAX_QUERY_TERMS, fold, query_terms

HEADER = '---\ntitle: "开头"\ndate: 2022-03-01 09:56:11 +0800\ncategories: emnews\ntags: 东财新闻\n---\n'


def folded_prefix(text: str, limit: int) -> str:
    """What a capped search text must be: fold(text)'s first `limit` units, whole pairs only."""
    units = units_of(fold(text))[:limit]
    if units.size and 0xD800 <= units[-1] < 0xDC00:
        units = units[:-1]
    return units.tobytes().decode("utf-16-le", "surrogatepass")


# --- (a) the folded search text of one post ---------------------------------------------


@pytest.mark.parametrize("pure", [False, True], ids=["c", "python"])
def test_a_post_that_folds_18_fold_loads_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pure: bool
) -> None:
    if pure:
        monkeypatch.setattr(accel, "library", lambda: None)
    else:
        require_accelerator()
    # U+FDFA folds to 18 characters: 6 MB of it was 36 million units, and 4 GB to index.
    (tmp_path / "2022-03-01-fdfa.md").write_text(
        HEADER + "前文 needle\n" + "\ufdfa" * 2_000_000, encoding="utf-8"
    )
    tracemalloc.start()
    try:
        started = time.perf_counter()
        store = load_store([tmp_path], use_cache=False)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 300e6, f"peak {peak / 1e6:.0f} MB"
    assert elapsed < 5, f"{elapsed:.1f} s"
    assert store.article_count == 1
    assert store.view(query="needle").tolist() == [0]
    assert store.view(query="前文 开头").tolist() == [0]
    assert len(store.index.text(0)) == MAX_SEARCH_UNITS


def plain_body(characters: int) -> str:
    """Chinese paragraphs, longer than the cap, with the post's URL as its last line."""
    line = "".join(chr(0x4E00 + (number * 7919) % 20000) for number in range(1000))
    return f"<p>{line}</p>\n" * (characters // 1000) + "\n<https://e.com/plain>\n"


def test_c_and_python_cut_a_long_post_alike() -> None:
    body = plain_body(1_200_000)
    prefix = "标题 ＡＢＣ\n东财\n"
    expected = folded_prefix(prefix + search_body(body), MAX_SEARCH_UNITS)
    require_accelerator()
    with_c = FoldedTexts()
    assert with_c.native
    start, end = with_c.add_post(prefix, body.encode()) or (-1, -1)
    assert body.encode()[start:end] == b"https://e.com/plain"  # the whole body was read
    from_python = FoldedTexts()
    from_python.add(prefix + search_body(body))
    without_c = FoldedTexts()
    without_c._search_text = None  # the numpy path, as when the accelerator is not built
    without_c.add(prefix + search_body(body))
    assert with_c.texts() == from_python.texts() == without_c.texts() == [expected]
    assert len(expected) == MAX_SEARCH_UNITS


TEXT = st.text(st.sampled_from("ab中Ａ\ufdfa…ß🚀\U0001d400é"), max_size=60)


@settings(max_examples=300, deadline=None)
@given(TEXT, st.integers(0, 80))
def test_fold_prefix_is_a_prefix_of_fold(text: str, limit: int) -> None:
    assert fold_prefix(text, limit) == folded_prefix(text, limit)
    assert fold_prefix(text, None) == fold(text)


@settings(max_examples=100, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=5), st.integers(1, 40))
def test_every_path_cuts_texts_alike(texts: list[str], limit: int) -> None:
    expected = [folded_prefix(text, limit) for text in texts]
    for native in (True, False):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(folded_texts_module, "MAX_SEARCH_UNITS", limit)
            folded = FoldedTexts()
            if not native:
                folded._search_text = None
            for text in texts:
                folded.add(text)
            assert folded.texts() == expected


def test_choosing_the_vocabulary_samples_the_start_of_long_posts() -> None:
    # The first batch (the newest posts) picks the vocabulary; 32 posts of 200,000
    # units each made 6.4 million grams to count, ~700 MB.
    texts = [plain_body(200_000)[index:] for index in range(32)]
    tracemalloc.start()
    try:
        vocabulary = choose_vocabulary(texts)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100e6, f"peak {peak / 1e6:.0f} MB"
    assert vocabulary.keys.size > 1000  # the grams of the sampled starts


# --- (b) a pasted page as a query -------------------------------------------------------


def test_a_query_keeps_its_first_terms() -> None:
    words = [f"t{number}z" for number in range(MAX_QUERY_TERMS + 8)]
    terms = query_terms(" ".join(words))
    assert sorted(terms) == sorted(words[:MAX_QUERY_TERMS])
    assert query_terms("ab a abc b ab ＡＢＣ") == ("abc",)  # repeats and contained terms still go


def test_a_query_of_twenty_thousand_words_is_answered_at_once() -> None:
    store = Store()
    zone = timezone(timedelta(hours=8))
    words = [f"w{number}x" for number in range(20_000)]
    store.add(
        [
            Post(
                Article(
                    f"id{n}",
                    f"p{n}",
                    "t",
                    datetime(2022, 1, 1, tzinfo=zone) + timedelta(minutes=n),
                    "s",
                    "s",
                    None,
                ),
                fold(" ".join(words[n : n + 40])),
                1,
                1,
            )
            for n in range(2_000)
        ]
    )
    query = " ".join(words)
    started = time.perf_counter()
    found = store.view(query=query)
    elapsed = time.perf_counter() - started  # took 9 s (20,000 terms, quadratic dedupe)
    assert elapsed < 1, f"{elapsed:.2f} s"
    terms = query_terms(query)
    expected = [slot for slot in range(2_000) if all(term in store.index.text(slot) for term in terms)]
    assert sorted(found.tolist()) == expected


def test_a_search_stops_at_the_first_term_that_matches_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    index = SearchIndex()
    index.add([fold(f"第{number}篇 芯片 工信部") for number in range(50)])
    computed: list[str] = []
    compute = SearchIndex._compute

    def counting(self: SearchIndex, term: str, slots: int) -> object:
        computed.append(term)
        return compute(self, term, slots)

    monkeypatch.setattr(SearchIndex, "_compute", counting)
    terms = query_terms("芯片 " + " ".join(f"没有{number}" for number in range(20)) + " 工信部")
    assert index.search(terms).tolist() == []
    assert len(computed) == 1


# --- (c) opening an article -------------------------------------------------------------


def opened(tmp_path: Path, name: str, body: str) -> Article:
    path = tmp_path / f"2022-03-01-{name}.md"
    path.write_text(HEADER + body, encoding="utf-8")
    return Article(str(path), str(path), "开头", datetime(2022, 3, 1, tzinfo=UTC), "emnews", "东财", None)


def test_an_article_of_33000_links_opens_once_and_rerenders_quickly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = "".join(f'<p>段落 <a href="https://e.com/{n}">w</a></p>\n' for n in range(33_000))
    article = opened(tmp_path, "links", body)
    parses: list[str] = []
    parse = document_module.parse_document
    monkeypatch.setattr(document_module, "parse_document", lambda body: parses.append(body) or parse(body))
    opener = ArticleOpener()
    started = time.perf_counter()
    rendered = opener.render(article, 80)
    opening = time.perf_counter() - started
    lines = rendered.text.plain.split("\n")
    assert sum(line.startswith("[") and "https://e.com/" in line for line in lines) == MAX_LINKS
    assert lines[-1] == MORE_LINKS_NOTE.format(count=opener.document(article).more_links)
    # Each keystroke of a search and each resize renders again: before, 0.2 s (and up
    # to 1.3 s on a slower machine) every time; now ~20 ms.
    again = []
    for width, terms in [(100, ()), (100, ("w",)), (100, ("段落",)), (120, ("段落", "w")), (81, ())]:
        started = time.perf_counter()
        rerendered = opener.render(article, width, terms)
        again.append(time.perf_counter() - started)
        assert rerendered.hit_count == sum(fold(rerendered.text.plain).count(term) for term in terms)
    assert len(parses) == 1
    assert opening < 2, f"opened in {opening:.2f} s"
    assert max(again) < 0.15, f"rendered again in {max(again) * 1000:.0f} ms"


HUGE = {
    "table": lambda: (
        "<table>" + "".join("<tr>" + "<td>格</td>" * 10 + "</tr>" for _ in range(10_000)) + "</table>"
    ),
    "br": lambda: "<p>" + "行<br>" * 50_000 + "</p>",
    "markdown": lambda: "行\n\n" * 50_000,
    "markdown-links": lambda: "".join(f"[w](https://e.com/{n})\n\n" for n in range(33_000)),
}


@pytest.mark.parametrize("name", list(HUGE))
def test_huge_tables_and_many_breaks_render_bounded(tmp_path: Path, name: str) -> None:
    opener = ArticleOpener()
    article = opened(tmp_path, name, HUGE[name]())
    started = time.perf_counter()
    rendered = opener.render(article, 80)
    elapsed = time.perf_counter() - started  # "markdown" took 3 s, and 1 s to render again
    lines = rendered.text.plain.split("\n")
    assert len(lines) <= 2 * MAX_BODY_TAGS + MAX_LINKS + 10
    assert elapsed < 2, f"{elapsed:.2f} s"


def numpy_signatures(units: object, offsets: object, vocabulary: object) -> object:
    """`search.signatures` without the C accelerator (as when it was not built)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accel, "library", lambda: None)
        return signatures(units, offsets, vocabulary)  # type: ignore[arg-type]


def test_numpy_signatures_of_long_posts_take_bounded_memory() -> None:
    # 64 posts are signed together; their grams for 64 x 200,000 units took ~1 GB.
    folded = [fold(plain_body(200_000)[index:]) for index in range(64)]
    vocabulary = choose_vocabulary(folded)
    units = units_of(SEPARATOR.join(folded))
    offsets = text_offsets(units, len(folded))
    tracemalloc.start()
    try:
        rows = numpy_signatures(units, offsets, vocabulary)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200e6, f"peak {peak / 1e6:.0f} MB"
    assert np.array_equal(rows, signatures(units, offsets, vocabulary))  # C's bits, when built


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(st.sampled_from("工信部芯片ab 　"), max_size=30), min_size=1, max_size=70),
    st.integers(1, 9),
)
def test_numpy_signatures_are_the_same_in_pieces(texts: list[str], piece: int) -> None:
    units = units_of(SEPARATOR.join(texts))
    offsets = text_offsets(units, len(texts))
    vocabulary = choose_vocabulary(texts[: len(texts) // 2])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chunks_module, "PIECE_UNITS", piece)
        pieces = numpy_signatures(units, offsets, vocabulary)
    assert np.array_equal(pieces, signatures(units, offsets, vocabulary))
