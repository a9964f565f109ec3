"""Tests for reader.core.document: seed posts, site chrome, whitespace and hostile input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reader.core.document import (
    Block,
    Digest,
    Document,
    Paragraph,
    Picture,
    Security,
    SourceLine,
    Subheading,
    Table,
)
from reader.core.html_blocks import MAX_LINKS, TRUNCATED_NOTE, parse_document
from reader.core.markdown_layer import MAX_BODY_CHARS, MAX_BODY_TAGS

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
SEEDS = sorted(SAMPLE_DATA.glob("*.txt"))
# C0 controls (newline and tab included: no block text should span lines), DEL, C1, bidi.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def body_of(path: Path) -> str:
    """The text after the front matter (good enough for the seeds)."""
    return path.read_text(encoding="utf-8").split("---\n", 2)[2]


def seed(prefix: str) -> Document:
    (path,) = [p for p in SEEDS if p.name.startswith(prefix)]
    return parse_document(body_of(path))


def block_texts(block: Block) -> list[str]:
    if isinstance(block, Digest | Paragraph):
        return [span.text for span in block.spans]
    if isinstance(block, Subheading | SourceLine):
        return [block.text]
    if isinstance(block, Picture):
        return [block.alt, block.url]
    return [cell for row in block.rows for cell in row]


def all_texts(document: Document) -> list[str]:
    texts = [text for block in document.blocks for text in block_texts(block)]
    texts += [part for link in document.links for part in (link.text, link.url)]
    texts += [s.name for s in document.securities]
    return texts + ([document.url] if document.url else [])


def paragraph_text(block: Block) -> str:
    assert isinstance(block, Paragraph | Digest), block
    return "".join(span.text for span in block.spans)


def test_seeds_are_present() -> None:
    assert len(SEEDS) == 5


def test_digest_comes_from_leading_quote() -> None:
    first = seed("000").blocks[0]
    assert isinstance(first, Digest)
    assert paragraph_text(first).startswith("2月25日，2022年原材料工业座谈会")


def test_securities_from_quote_spans() -> None:
    document = seed("000")
    assert Security("stock", "1", "601857", "中国石油") in document.securities
    assert Security("sector", "90", "BK0478", "有色金属") in document.securities
    spans = [span for block in document.blocks if isinstance(block, Paragraph) for span in block.spans]
    named = [span.text for span in spans if span.security is not None]
    assert named == ["中国石油", "有色金属"]
    assert document.links == ()  # quote links are securities, not links


def test_original_url_is_last_autolink() -> None:
    document = seed("000")
    assert document.url == "http://futures.eastmoney.com/news/1516,202203012292386811.html"
    assert all(document.url not in text for b in document.blocks for text in block_texts(b))


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_no_chrome_or_markup_left(path: Path) -> None:
    document = parse_document(body_of(path))
    assert document.blocks
    for text in all_texts(document):
        for needle in ("返回首页", "<p", "&nbsp;", "EM_StockImg", "quote_"):
            assert needle not in text
        assert not CONTROL.search(text)


def test_pictures_keep_content_images_and_drop_chart() -> None:
    pictures = [b for b in seed("003").blocks if isinstance(b, Picture)]
    assert [p.alt for p in pictures] == ["图片", "图片", "图片"]
    assert pictures[0].url == "https://dfscdn.dfcfw.com/download/D25190181418872390205.jpg"
    assert not any("K图" in p.alt or "GetPic" in p.url for p in pictures)


def test_bold_runs_inside_paragraph_stay_paragraph() -> None:
    paragraphs = [b for b in seed("003").blocks if isinstance(b, Paragraph)]
    bold = [s.text for p in paragraphs for s in p.spans if s.bold]
    assert "工业经济持续恢复增长，" in bold


def test_subheading_and_source_line() -> None:
    blocks = seed("001").blocks
    assert Subheading("抓好政策落实提振市场信心") in blocks
    assert blocks[-1] == SourceLine("（文章来源：中国证券报）")


def test_plain_space_between_cjk_is_kept_in_headings() -> None:
    assert Subheading("把稳定工业增长作为最重要任务 突出抓好四方面工作") in seed("002").blocks


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<p>稳增长\n 的</p>", "稳增长的"),
        ("<p>扎实推进5G 基站</p>", "扎实推进5G 基站"),
        ("<p>  a \t\n b  </p>", "a b"),
        ("<p>A&nbsp;B &amp; C</p>", "A B & C"),
        ("<p>“一刀切”\n行为</p>", "“一刀切”行为"),
        ("<p>中<b>国\n</b> 石油</p>", "中国石油"),
        ("<p>Hello\nworld</p>", "Hello world"),
    ],
)
def test_whitespace_rule(body: str, expected: str) -> None:
    (block,) = parse_document(body).blocks
    assert paragraph_text(block) == expected


def test_table_with_header() -> None:
    body = "<table><tr><th>名称</th><th>涨跌幅</th></tr><tr><td>比亚迪</td><td>1.20%</td></tr></table>"
    assert parse_document(body).blocks == (Table((("名称", "涨跌幅"), ("比亚迪", "1.20%")), True),)


def test_table_without_header() -> None:
    body = "<p>前</p><table><tr><td>a</td><td>b</td></tr></table><p>后</p>"
    blocks = parse_document(body).blocks
    assert blocks[1] == Table((("a", "b"),), False)
    assert [paragraph_text(blocks[0]), paragraph_text(blocks[2])] == ["前", "后"]


def test_links_are_numbered_in_order_and_reused() -> None:
    body = (
        '<p>see <a href="https://a.example/">A</a>, [B](https://b.example/) and '
        '<a href="https://a.example/">A again</a> or <a href="javascript:void(0)">js</a></p>'
    )
    document = parse_document(body)
    assert [link.url for link in document.links] == [
        "https://a.example/",
        "https://b.example/",
        "javascript:void(0)",
    ]
    block = document.blocks[0]
    assert isinstance(block, Paragraph)
    linked = [(s.text, s.link) for s in block.spans if s.link]
    assert linked == [("A", 1), ("B", 2), ("A again", 1), ("js", 3)]


def test_anchor_around_image_leaves_no_unused_link() -> None:
    body = '<a href="https://x.example/big.jpg"><img src="https://x.example/s.jpg" alt="图"></a>'
    document = parse_document(body)
    assert document.blocks == (Picture("图", "https://x.example/s.jpg"),)
    assert document.links == ()


def test_chrome_line_and_autolink_are_not_content() -> None:
    body = (
        "东财快讯：某公司发布公告。\n\n<https://a.example/news/1.html>\n\n"
        "[返回东财滚动新闻](//finews.withounder.com/emnews/)|[返回首页](//finews.withounder.com/)\n"
    )
    document = parse_document(body)
    (block,) = document.blocks
    assert isinstance(block, Paragraph)
    assert paragraph_text(block) == "东财快讯：某公司发布公告。"
    assert document.url == "https://a.example/news/1.html"
    assert document.links == ()


def test_markdown_paragraphs_split_on_blank_lines() -> None:
    document = parse_document("第一段\n\n第二段 [链接](https://a.example/)\n\n> 不是摘要")
    assert [paragraph_text(b) for b in document.blocks] == ["第一段", "第二段 链接", "不是摘要"]
    assert all(isinstance(b, Paragraph) for b in document.blocks)


def test_hidden_script_style_and_comments_are_dropped() -> None:
    body = (
        '<p style="display: none">hidden</p><script>var x = "<p>";</script>'
        "<style>p {}</style><!-- comment --><p>正文<span hidden>secret</span></p>"
    )
    assert [paragraph_text(b) for b in parse_document(body).blocks] == ["正文"]


def test_data_url_is_shortened_and_alt_kept() -> None:
    body = '<img src="data:image/png;base64,' + "A" * 10_000 + '" alt="示意图">'
    (picture,) = parse_document(body).blocks
    assert isinstance(picture, Picture)
    assert picture.alt == "示意图"
    assert picture.url.startswith("data:image/png") and picture.url.endswith("…")
    assert len(picture.url) <= 61


def test_deep_nesting_is_walked_without_recursion() -> None:
    depth = 4_000  # deeper than Python's recursion limit, under MAX_BODY_TAGS
    document = parse_document("<div>" * depth + "深处" + "</div>" * depth)
    assert [paragraph_text(b) for b in document.blocks] == ["深处"]


def test_long_body_is_truncated_with_note() -> None:
    document = parse_document("字" * (MAX_BODY_CHARS + 10))
    first, last = document.blocks
    assert len(paragraph_text(first)) == MAX_BODY_CHARS
    assert paragraph_text(last) == TRUNCATED_NOTE


def test_plain_paragraphs_count_towards_the_tag_limit() -> None:
    # Each Markdown paragraph becomes a `<p>`: 50,000 of them were 50,000 blocks.
    document = parse_document("行\n\n" * (2 * MAX_BODY_TAGS))
    *paragraphs, last = document.blocks
    assert len(paragraphs) <= MAX_BODY_TAGS
    assert all(paragraph_text(block) == "行" for block in paragraphs)
    assert paragraph_text(last) == TRUNCATED_NOTE


def test_only_the_first_links_are_numbered_the_rest_counted() -> None:
    extra = 5
    anchors = [f'<a href="https://e.com/{n}">w{n}</a>' for n in range(MAX_LINKS + extra)]
    document = parse_document("<p>" + " ".join(anchors) + ' <a href="https://e.com/0">again</a></p>')
    assert [link.url for link in document.links] == [f"https://e.com/{n}" for n in range(MAX_LINKS)]
    assert document.more_links == extra
    (paragraph,) = document.blocks
    assert isinstance(paragraph, Paragraph)
    numbered = {span.text.strip(): span.link for span in paragraph.spans if span.link is not None}
    assert numbered["again"] == 1  # a known target keeps its number
    text = paragraph_text(paragraph)
    assert all(f"w{n}" in text for n in range(MAX_LINKS + extra))
    assert not any(f"w{n}" in numbered for n in range(MAX_LINKS, MAX_LINKS + extra))


HOSTILE = {
    "deep-divs": "<div>" * 20_000 + "x" + "</div>" * 20_000,
    "unclosed": "<p>abc<b>bold<i>it<table><tr><td>x<a href='https://a",
    "script-in-pre": "<pre>a<script>alert(1)</script>b</pre>",
    "controls": "<p>red \x1b[31mX\x1b[0m \x07bell \x00nul \u202eRTL \x9bcsi</p>",
    "rich-markup": "<p>[bold red]x[/]</p>",
    "data-image": '<img src="data:text/html;base64,PHNjcmlwdD4=" alt="a\x1bb">',
    "empty": "",
    "whitespace": " \n\t\n ",
    "many-lt": "<<<<" * 10_000,
    "megabyte-line": "稳增长 的" * 200_000,
    "tags-everywhere": "<b>x</b>y" * 50_000,
    "broken-entities": "<p>&#0; &#xD800; &#x110000; &bogus; &#27;[31m</p>",
    "surrogates": "<p>\ud800 lone</p>",
    "bad-attributes": '<span id="stock_"><a data-code=",">名</a></span><img src=javascript:x>',
    "cdata-doctype": "<!DOCTYPE html><![CDATA[x]]><?php echo 1 ?><p>ok</p>",
    "markdown-junk": "[" * 5_000 + "](" * 5_000,
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_bodies_never_raise(body: str) -> None:
    document = parse_document(body)
    for text in all_texts(document):
        assert not CONTROL.search(text), repr(text[:80])
        assert not any("\ud800" <= char <= "\udfff" for char in text)


def test_rich_markup_stays_literal() -> None:
    (block,) = parse_document("<p>[bold red]x[/]</p>").blocks
    assert paragraph_text(block) == "[bold red]x[/]"


def test_control_characters_are_removed_not_the_text() -> None:
    (block,) = parse_document(HOSTILE["controls"]).blocks
    # lxml turns NUL into U+FFFD, which is harmless on a terminal.
    assert paragraph_text(block).replace("\ufffd", "") == "red [31mX[0m bell nul RTL csi"


def test_script_inside_pre_is_dropped() -> None:
    (block,) = parse_document(HOSTILE["script-in-pre"]).blocks
    assert paragraph_text(block) == "ab"
