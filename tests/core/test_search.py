"""Search answers exactly what a brute-force scan of the folded texts would."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.native import require_accelerator

from reader.core import accel, search
from reader.core.body import search_body
from reader.core.models import Article, Post
from reader.core.search import SearchIndex, fold_many
from reader.core.store import Store
from reader.core.text import fold, query_terms

ALPHABET = "工信部芯片的中国国产ＡＢＣabcIPv6ｉｐｖ６ 　，。🚀é"
TEXTS = st.lists(st.text(st.sampled_from(ALPHABET), max_size=40), min_size=0, max_size=40)
QUERIES = st.text(st.sampled_from(ALPHABET), max_size=8)


def brute_force(texts: list[str], query: str) -> list[int]:
    terms = query_terms(query)
    return [slot for slot, text in enumerate(texts) if all(term in fold(text) for term in terms)]


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.lists(QUERIES, min_size=1, max_size=6), st.integers(1, 7))
def test_index_matches_brute_force(texts: list[str], queries: list[str], batch: int) -> None:
    index = SearchIndex()
    folded = fold_many([text.replace("\x00", "") for text in texts])
    for start in range(0, len(folded), batch):
        index.add(folded[start : start + batch])
    clean = [text.replace("\x00", "") for text in texts]
    for query in queries + [q[:-1] for q in queries]:  # typing, then backspacing
        terms = query_terms(query)
        expected = brute_force(clean, query) if terms else list(range(len(texts)))
        assert index.search(terms).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=20))
def test_fold_many_equals_fold(texts: list[str]) -> None:
    assert fold_many(texts) == [fold(text) for text in texts]


@settings(max_examples=100, deadline=None)
@given(TEXTS, QUERIES)
def test_store_view_matches_brute_force(texts: list[str], query: str) -> None:
    from datetime import datetime, timedelta, timezone

    store = Store()
    zone = timezone(timedelta(hours=8))
    posts = [
        Post(
            Article(
                f"id{i}",
                f"p{i}",
                "t",
                datetime(2022, 1, 1, tzinfo=zone) + timedelta(minutes=i),
                "s",
                "s",
                None,
            ),
            fold(text.replace("\x00", "")),
            1,
            1,
        )
        for i, text in enumerate(texts)
    ]
    store.add(posts)
    expected = set(brute_force([t.replace("\x00", "") for t in texts], query))
    assert set(store.view(query=query).tolist()) == expected
    assert np.all(np.diff([store.articles[s].date.timestamp() for s in store.view(query=query)]) <= 0)


def test_search_text_leaves_out_chrome_markup_and_urls() -> None:
    body = (
        "> 摘要\n\n<!-- EM_StockImg_Start --><a href='http://x.example/k'><img src='k.png'></a>"
        '<!-- EM_StockImg_End --><p>正文<span class="keytip">中国石油</span>和</p>\n\n'
        "<http://finance.eastmoney.com/news/1.html>\n\n"
        "[返回东财滚动新闻](//finews.withounder.com/emnews/)｜[返回首页](//finews.withounder.com/)"
    )
    text = fold(search_body(body))
    assert "中国石油和" in text and "摘要" in text
    for absent in ["返回首页", "em_stockimg", "http", "keytip", "href", "finews"]:
        assert absent not in text


def test_a_match_straddling_two_characters_is_not_a_match() -> None:
    # "\u6141\u6200\u4100" is 41 61 00 62 00 41 in UTF-16-LE: "ab" (61 00 62 00) sits
    # at an odd byte offset, across two characters, so it must not count.
    index = SearchIndex()
    index.add(["\u6141\u6200\u4100", "x\u6141\u6200\u4100ab"])
    assert index._verify("ab".encode("utf-16-le"), np.array([0, 1]), None)[0].tolist() == [1]


def test_narrowing_from_a_shorter_term_counts_utf16_units() -> None:
    # "🚀" is one character but two UTF-16 units: the start hint for "🚀，" taken from
    # where "，" was found must step back two units, not one.
    index = SearchIndex()
    index.add([""])
    index.add(["🚀，"])
    assert index.search(("，",)).tolist() == [1]
    assert index.search(("🚀，",)).tolist() == [1]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(st.sampled_from(ALPHABET + "\n "), max_size=90), min_size=1, max_size=150))
def test_c_signatures_set_exactly_the_bits_numpy_sets(texts: list[str]) -> None:
    require_accelerator()
    folded = fold_many([text.replace("\x00", "") for text in texts])
    vocabulary = search.choose_vocabulary(folded[: len(folded) // 2])
    units = search.units_of(search.SEPARATOR.join(folded))
    offsets = search.text_offsets(units, len(folded))
    native = search.signatures(units, offsets, vocabulary)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accel, "library", lambda: None)
        assert np.array_equal(search.signatures(units, offsets, vocabulary), native)
