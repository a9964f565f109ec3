"""Property tests: arbitrary and near-valid files never crash loading, search or rendering.

Bounded for CI (a few hundred derandomised examples, no deadline); the whole file runs in
well under a minute. Set READER_FUZZ_EXAMPLES for a longer, random local run. Each example
writes its files to a fresh temporary folder, so examples never see each other's files.
"""

from __future__ import annotations

import json
import os
import tempfile
import unicodedata
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from reader.core.loading.discovery import discover
from reader.core.loading.plan import load_store
from reader.core.loading.reading import read_post
from reader.core.opening import ArticleOpener
from reader.core.text import clean_line, query_terms

BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
WIDTHS = (10, 40, 80, 200)
SIBLING_TITLE = "兄弟文章"
SIBLING = (
    f'---\nlayout: post\ntitle: "{SIBLING_TITLE}"\ndate: 2022-03-01 09:56:11 +0800\n'
    "categories: emnews\ntags: 东财滚动新闻\n---\n<p>兄弟的正文。</p>\n"
)

EXAMPLES = int(os.environ.get("READER_FUZZ_EXAMPLES", "0"))
"""Examples per property for an exploring local run (READER_FUZZ_EXAMPLES=5000)."""
# CI runs a fixed, derandomised set so a failure is never a fluke of the seed; an
# exploring run is random and keeps what it finds in .hypothesis/ to replay.
FUZZ = settings(
    max_examples=EXAMPLES or 300,
    deadline=None,
    derandomize=not EXAMPLES,
    database=settings.default.database if EXAMPLES else None,
    suppress_health_check=[HealthCheck.too_slow],
)


def unsafe_characters(text: str, allow: str = "") -> list[str]:
    """Characters that could act on a terminal: Cc, lone surrogates, bidi controls."""
    return [
        char
        for char in text
        if char not in allow and (unicodedata.category(char) in ("Cc", "Cs") or char in BIDI)
    ]


def check_rendering(opener: ArticleOpener, article: object, terms: tuple[str, ...]) -> None:
    for width in WIDTHS:
        rendered = opener.render(article, width, terms)  # type: ignore[arg-type]
        plain = rendered.text.plain
        assert not unsafe_characters(plain, allow="\n"), [hex(ord(c)) for c in unsafe_characters(plain, "\n")]
        lines = plain.split("\n")
        for line in lines:
            assert cell_len(line) <= width, (width, line)
        assert all(0 <= number < len(lines) for number in rendered.hit_lines)
        for span in rendered.text.spans:
            assert "@click" not in str(span.style)


# --- (a) arbitrary bytes next to a valid post ---------------------------------------------

HEADERISH = st.sampled_from(
    [
        b"---\n",
        b"---\r\n",
        b"\xef\xbb\xbf---\n",
        b"\xff\xfe",
        b"\xfe\xff",
        b"--- \n",
        b"",
    ]
)
YAMLISH = st.lists(
    st.sampled_from(
        [
            b"title: ",
            b"date: ",
            b"categories: ",
            b"tags: ",
            b'"',
            b"'",
            b"[",
            b"]",
            b"{",
            b"}",
            b"&a ",
            b"*a",
            b"!!python/object/apply:os.system ['true']",
            b"!!binary ",
            b"\n",
            b"- ",
            b"2022-03-01 09:56:11 +0800",
            b"\xe6\xa0\x87\xe9\xa2\x98",
            b"\x1b]0;x\x07",
            b"\x00",
            b"\\u202e",
            b"\\e[2J",
            b"---",
            b"\t",
            b"? ",
            b": ",
            b"|",
            b">",
            b"%YAML 1.1\n",
            b"~",
            b"0x",
            b"1e999",
        ]
    ),
    max_size=30,
).map(b"".join)
ANY_BYTES = st.one_of(
    st.binary(max_size=3000),
    st.tuples(
        HEADERISH,
        YAMLISH,
        st.sampled_from([b"\n---\n", b"\n---", b"\n", b""]),
        st.binary(max_size=500),
    ).map(lambda parts: b"".join(parts)),
    st.tuples(st.text(max_size=300), st.sampled_from(["utf-8", "utf-16", "gb18030", "utf-16-le"])).map(
        lambda pair: ("---\ntitle: x\n---\n" + pair[0]).encode(pair[1], errors="ignore")
    ),
)


@FUZZ
@given(data=ANY_BYTES)
def test_arbitrary_bytes_never_break_loading(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "2022-03-01-sibling.md").write_text(SIBLING, encoding="utf-8")
        fuzzed = root / "2022-03-02-fuzzed.md"
        fuzzed.write_bytes(data)
        store = load_store([root], use_cache=False)
        titles = {os.path.basename(a.path): a.title for a in store.articles}
        assert titles.get("2022-03-01-sibling.md") == SIBLING_TITLE
        problems = [p for p in store.problems if p.path == str(fuzzed)]
        skipped = [p for p in problems if p.skipped]
        if "2022-03-02-fuzzed.md" in titles:
            assert not skipped
            opener = ArticleOpener()
            (article,) = [a for a in store.articles if a.path == str(fuzzed)]
            check_rendering(opener, article, ("x",))
        else:
            assert len(skipped) == 1 and len(problems) == 1, problems
        for problem in store.problems:
            assert problem.reason and problem.reason == clean_line(problem.reason)
        for article in store.articles:
            for value in (article.title, article.source_name, article.source_id):
                assert value and not unsafe_characters(value)


# --- (b) near-valid posts through load, search, open and render -------------------------

SPECIAL = [
    "\x1b",
    "\x07",
    "\x00",
    "\x08",
    "\x7f",
    "\x85",
    "\x9b",
    "\u202e",
    "\u2066",
    "\u200f",
    "\u061c",
    "\u200d",
    "\ufe0f",
    "\u200b",
    "\u2028",
    "\t",
    "\n",
    "\r",
    "[",
    "]",
    "/",
    "[@click=app.quit]x[/]",
    "[bold red]",
    "[/]",
    "[link=http://evil.example]",
    "🇨🇳",
    "👨‍👩‍👧",
    "🚀",
    "Ａ",
    "ｱ",
    "　",
    "中",
    "文",
    "５Ｇ",
    "&amp;",
    "<b>",
    '"',
    "\\",
    ":",
    "#",
    "---",
    " ",
    "…",
    "ß",
    "İ",
    "ﬁ",
    "\u0301",
    "\U00020000",
]
CHARS = st.one_of(st.sampled_from(SPECIAL), st.characters(codec="utf-8"))
TITLE = st.lists(CHARS, max_size=25).map("".join)


def _title_line(pair: tuple[str, int]) -> str:
    title, form = pair
    if form == 0:  # JSON is valid YAML flow scalar syntax for most strings
        return f"title: {json.dumps(title, ensure_ascii=False)}"
    if form == 1:  # the scraper's form: only quotes escaped
        return 'title: "' + title.replace('"', '\\"') + '"'
    return f"title: {title}"


DATES = st.one_of(
    st.sampled_from(
        [
            "2022-03-01 09:56:11 +0800",
            "2022-03-01 09:56:11",
            "2022-03-01",
            "2022-3-1 9:56",
            "2022-03-01T09:56:11Z",
            "2022-03-01 09:56:11 +08:00",
            "0001-01-01 00:00:00 +2359",
            "9999-12-31 23:59:59 -2359",
            "2022-02-30",
            "昨天",
            "",
            "null",
            "[2022]",
            "{a: 1}",
            "1e999",
        ]
    ),
    st.text(max_size=20),
)
FRAGMENTS = [
    "<p>",
    "</p>",
    "<strong>",
    "</strong>",
    "<div>",
    "</div>",
    "<span>",
    "<script>alert(1)</script>",
    "<script>",
    "</script>",
    "<style>p{}</style>",
    "<!--",
    "-->",
    "&amp;",
    "&nbsp;",
    "&#x1b;",
    "&#27;",
    "&#0;",
    "&#x202e;",
    "&#xd800;",
    "&#9999999;",
    "&lt;",
    "&",
    '<a href="javascript:alert(1)">',
    "<a href='http://example.com/\x1b[31m'>",
    "</a>",
    "[x](javascript:alert(1))",
    "[链接](http://例子.com/路径)",
    "[返回首页](//finews.withounder.com/)",
    "\n<http://example.com/a>\n",
    "<https://例子.com/\x1b]0;x\x07>",
    "\n> ",
    "> 摘要",
    '<img src=x alt="\x1b[31m图">',
    '<img src="data:image/png;base64,' + "A" * 200 + '">',
    "<table><tr><th>名称</th><th>涨跌幅</th></tr><tr><td>",
    "</td><td>",
    "</td></tr></table>",
    "<tr><td>",
    "<br>",
    "<br/>",
    "<hr>",
    "<h2>",
    "</h2>",
    "<center>",
    "</center>",
    '<p class="em_media">（文章来源：新华社）</p>',
    '<span id="stock_1.600519"><a href="http://quote.eastmoney.com/unify/r/1.600519" class="keytip" '
    'data-code="1,600519">贵州茅台</a></span><span id="quote_1.600519"></span>',
    '<span id="bk_90.BK0478"><a class="keytip" data-code="90,BK0478">有色金属</a></span>',
    "<!-- EM_StockImg_Start -->",
    "<!-- EM_StockImg_End -->",
    '<div style="display:none">隐藏</div>',
    "\t",
    "\r\n",
    "\n\n",
    "<",
    ">",
    "<<<<",
    "]]",
    "((",
    "长" * 300,
    "word " * 30,
    "a" * 250,
]
BODY = st.lists(st.one_of(st.sampled_from(FRAGMENTS), TITLE), max_size=40).map("".join)
SOURCES = st.one_of(st.sampled_from(["emnews", "xinhuashe", "[/]", "\x1b[31m", "中国证券报"]), TITLE)
POST = st.tuples(st.tuples(TITLE, st.integers(0, 2)).map(_title_line), DATES, SOURCES, SOURCES, BODY)
QUERY = st.one_of(
    st.lists(
        st.one_of(st.sampled_from(SPECIAL + ["正文", "链接", "茅台", "x", "a", "5g", " "]), CHARS), max_size=8
    ).map("".join),
    st.just(""),
)


def _post_text(post: tuple[str, str, str, str, str]) -> str:
    title_line, date, category, tag, body = post
    return (
        f"---\nlayout: post\n{title_line}\ndate: {date}\n"
        f"categories: {json.dumps(category, ensure_ascii=False)}\n"
        f"tags: {json.dumps(tag, ensure_ascii=False)}\n---\n{body}\n"
    )


@settings(FUZZ, max_examples=EXAMPLES or 250)
@given(posts=st.lists(POST, min_size=1, max_size=4), queries=st.lists(QUERY, min_size=1, max_size=4))
def test_near_valid_posts_load_search_and_render_safely(
    posts: list[tuple[str, str, str, str, str]],
    queries: list[str],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        # A valid neighbour: test_hostile covers a corpus where every file is a problem.
        (root / "2022-02-01-sibling.md").write_text(SIBLING, encoding="utf-8")
        for index, post in enumerate(posts):
            (root / f"2022-03-0{index + 1}-post.md").write_text(_post_text(post), encoding="utf-8")
        store = load_store([root], use_cache=False)
        assert store.article_count + store.skipped_count == len(posts) + 1 or store.duplicates
        for article in store.articles:
            for value in (article.title, article.source_name, article.source_id, article.date_text):
                assert value and not unsafe_characters(value), article
            assert article.url is None or article.url.startswith(("http://", "https://"))
            assert article.url is None or not unsafe_characters(article.url)
        for source in store.sources():
            assert not unsafe_characters(source.name)

        # The search must answer exactly what a plain scan of the folded texts answers.
        entries, _ = discover([root])
        folded = {}
        for entry in entries:
            post, _ = read_post(entry)
            if post is not None:
                folded[entry.path] = post.search_text
        live = {store.articles[slot].path for slot in store.order().tolist()}
        for query in queries:
            terms = query_terms(query)
            found = {store.articles[slot].path for slot in store.view(query=query).tolist()}
            expected = {path for path in live if all(term in folded[path] for term in terms)}
            assert found == expected, (query, terms)

        opener = ArticleOpener()
        terms = query_terms(queries[0])
        for slot in store.order().tolist():
            check_rendering(opener, store.articles[slot], terms)
