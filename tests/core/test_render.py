"""Tests for reader.core.render: widths, highlighting, links, tables and golden layouts.

Golden files hold `render_article(...).text.plain` at width 80 for each sample post.
After an intended layout change, regenerate them with

    READER_UPDATE_GOLDEN=1 PYTHONPATH=src pytest tests/core/test_render.py

and read the diff before committing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len, get_character_cell_size
from rich.text import Text

from reader.core import render as render_module
from reader.core.document import Document, Link, Paragraph, Picture, Span, Subheading, Table
from reader.core.html_blocks import MAX_LINKS, parse_document
from reader.core.render import (
    HIGHLIGHT_STYLE,
    LINKS_HEADING,
    MIN_WIDTH,
    MORE_LINKS_NOTE,
    SECURITY_STYLE,
    RenderedArticle,
    render_article,
)
from reader.core.text import fold, query_terms
from reader.core.wrap import WIDE_CHARACTERS, line_ranges
from reader.core.wrap import wrap as _wrap

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
SEEDS = sorted(SAMPLE_DATA.glob("*.txt"))
GOLDEN = Path(__file__).resolve().parent / "golden"
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def front_matter_field(front: str, name: str) -> str:
    match = re.search(rf"^{name}:\s*\"?(.*?)\"?\s*$", front, re.MULTILINE)
    return match.group(1) if match else ""


def render_seed(path: Path, width: int, terms: tuple[str, ...] = ()) -> RenderedArticle:
    _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
    return render_article(
        front_matter_field(front, "title"),
        front_matter_field(front, "tags"),
        front_matter_field(front, "date"),
        parse_document(body),
        width,
        terms,
    )


def seed_path(prefix: str) -> Path:
    (path,) = [p for p in SEEDS if p.name.startswith(prefix)]
    return path


def highlighted(line: Text) -> list[str]:
    return [line.plain[s.start : s.end] for s in line.spans if s.style == HIGHLIGHT_STYLE]


def doc(*blocks: Paragraph | Subheading | Picture | Table, links: tuple[Link, ...] = ()) -> Document:
    return Document(tuple(blocks), links, (), None)


@pytest.mark.parametrize("width", [40, 80, 120])
@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_lines_fit_and_hold_no_markup(path: Path, width: int) -> None:
    plain = render_seed(path, width).text.plain
    for line in plain.split("\n"):
        assert cell_len(line) <= width, line
        assert line == line.rstrip()
    for needle in ("<p", "&nbsp;", "返回首页", "EM_StockImg", "K图"):
        assert needle not in plain
    assert not CONTROL.search(plain)


@pytest.mark.parametrize("width", [40, 80])
@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_closing_punctuation_never_starts_a_line(path: Path, width: int) -> None:
    for line in render_seed(path, width).text.plain.split("\n"):
        assert not line.startswith(tuple("，。、；：？！）》”")), line


def test_header_has_title_source_date_and_url() -> None:
    lines = render_seed(seed_path("000"), 120).text.plain.split("\n")
    assert lines[0] == "工信部：杜绝随意停限产等“一刀切”行为 全力保障初级产品供给"
    assert lines[1] == (
        "东财滚动新闻 · 2022-03-01 09:56:11 +0800 · "
        "http://futures.eastmoney.com/news/1516,202203012292386811.html"
    )
    assert lines[2] == ""
    assert lines[3].startswith("▎ 2月25日")


def test_highlight_marks_every_hit() -> None:
    rendered = render_seed(seed_path("000"), 80, query_terms("一刀切"))
    assert rendered.hit_count >= 2
    assert rendered.hit_lines and list(rendered.hit_lines) == sorted(set(rendered.hit_lines))
    lines = rendered.text.split("\n")
    marks = [mark for number in rendered.hit_lines for mark in highlighted(lines[number])]
    assert marks == ["一刀切"] * rendered.hit_count
    untouched = set(range(len(lines))) - set(rendered.hit_lines)
    assert not any(highlighted(lines[number]) for number in untouched)


def test_highlight_uses_folded_terms() -> None:
    rendered = render_seed(seed_path("001"), 80, query_terms("５ｇ"))
    assert query_terms("５ｇ") == ("5g",)
    assert rendered.hit_count >= 3
    lines = rendered.text.split("\n")
    assert {mark for n in rendered.hit_lines for mark in highlighted(lines[n])} == {"5G"}


def test_highlight_maps_expanding_folds_back() -> None:
    # "…" folds to "..." and "Ⅻ" to "xii": positions after them must still line up.
    document = doc(Paragraph((Span("前…后 Ⅻ 5ＧIPv6 ipV6"),)))
    rendered = render_article("t", "s", "d", document, 80, query_terms("ipv6 后"))
    (line,) = [line for line in rendered.text.split("\n") if "前" in line.plain]
    assert highlighted(line) == ["后", "IPv6", "ipV6"]
    assert rendered.hit_count == 3


def test_no_terms_no_hits() -> None:
    rendered = render_seed(seed_path("000"), 80)
    assert (rendered.hit_lines, rendered.hit_count) == ((), 0)
    assert not any(span.style == HIGHLIGHT_STYLE for span in rendered.text.spans)


def test_hit_lines_index_the_plain_lines() -> None:
    rendered = render_seed(seed_path("003"), 40, query_terms("工业"))
    lines = rendered.text.plain.split("\n")
    assert rendered.hit_lines == tuple(n for n, line in enumerate(lines) if "工业" in fold(line))


def test_securities_are_marked() -> None:
    rendered = render_seed(seed_path("000"), 120)
    plain = rendered.text.plain
    assert "中国石油(601857)" in plain and "有色金属(BK0478)" in plain
    styled = [plain[s.start : s.end] for s in rendered.text.spans if s.style == SECURITY_STYLE]
    assert styled == ["中国石油(601857)", "有色金属(BK0478)"]


def test_links_numbered_and_listed() -> None:
    document = parse_document(
        '<p>见<a href="https://a.example/1">公告</a>和[附件](https://b.example/2)，'
        '再看<a href="https://a.example/1">公告</a>。</p>'
    )
    plain = render_article("t", "s", "d", document, 60).text.plain
    assert "见公告[1]和附件[2]，再看公告[1]。" in plain
    tail = plain.split("\n")[-3:]
    assert tail == [LINKS_HEADING, "[1] https://a.example/1", "[2] https://b.example/2"]


def test_links_past_the_limit_are_counted_under_the_list() -> None:
    anchors = [f'<a href="https://e.com/{n}">w{n}</a>' for n in range(MAX_LINKS + 7)]
    document = parse_document("<p>" + " ".join(anchors) + "</p>")
    lines = render_article("t", "s", "d", document, 60).text.plain.split("\n")
    listed = [line for line in lines if line.startswith("[") and "https://e.com/" in line]
    assert len(listed) == MAX_LINKS
    assert lines[-1] == MORE_LINKS_NOTE.format(count=7)
    assert f"w{MAX_LINKS} w{MAX_LINKS + 1}" in "\n".join(lines)  # shown, not numbered


def test_no_links_section_without_links() -> None:
    assert LINKS_HEADING not in render_seed(seed_path("000"), 80).text.plain


def test_table_is_aligned_and_fits() -> None:
    document = parse_document(
        "<table><tr><th>名称</th><th>涨跌幅</th><th>备注</th></tr>"
        "<tr><td>比亚迪</td><td>1.20%</td><td>新能源汽车龙头企业，今年以来涨幅居前，机构持仓较高</td></tr>"
        "<tr><td>x</td></tr></table>"
    )
    for width in (10, 24, 40, 80):
        lines = render_article("t", "s", "d", document, width).text.plain.split("\n")
        table = [line for line in lines if line.startswith(tuple("┌│├└"))]
        assert len(table) == 6
        assert len({cell_len(line) for line in table}) == 1
        assert all(cell_len(line) <= width for line in table)
    lines = render_article("t", "s", "d", document, 40).text.plain.split("\n")
    assert "│ 名称   │ 涨跌幅 │ 备注               │" in lines  # 40 cells
    assert "│ 比亚迪 │ 1.20%  │ 新能源汽车龙头企…  │" in lines  # wide char cut: pad after …


def test_pictures_and_subheadings() -> None:
    document = doc(Picture("图片", "https://x/1.jpg"), Picture("走势图", ""), Subheading("小标题"))
    plain = render_article("t", "s", "d", document, 40).text.plain
    assert plain.split("\n")[3:] == ["[图片]", "", "[图片: 走势图]", "", "小标题"]


@pytest.mark.parametrize("width", [-5, 0, 9, 10, 11, 300, 5000])
def test_any_width_is_accepted(width: int) -> None:
    rendered = render_seed(seed_path("003"), width, ("工业",))
    limit = min(max(width, 10), 1000)
    assert all(cell_len(line) <= limit for line in rendered.text.plain.split("\n"))


def test_hostile_header_and_body_text_is_literal_and_clean() -> None:
    document = parse_document("<p>[bold red]x[/] \x1b[2J ❤\ufe0f👨\u200d👩 " + "长" * 500 + "</p>")
    rendered = render_article("标题\x1b]0;pwn\x07\n[i]", "源\t", "\u202e日期", document, 20)
    plain = rendered.text.plain
    assert "[bold red]x[/]" in plain and "[i]" in plain
    assert not CONTROL.search(plain)
    assert all(cell_len(line) <= 20 for line in plain.split("\n"))


def test_line_ranges_keep_words_and_drop_break_spaces() -> None:
    plain = "alpha beta gamma 中文字符测试文本"
    lines = [plain[start:end] for start, end in line_ranges(plain, 12)]
    assert lines == ["alpha beta", "gamma 中文字", "符测试文本"]


def test_wide_character_class_is_really_wide() -> None:
    ranges = re.findall(r"(.)-(.)", WIDE_CHARACTERS)
    for first, last in ranges:
        for code in range(ord(first), ord(last) + 1):
            assert get_character_cell_size(chr(code)) == 2, hex(code)


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_golden(path: Path) -> None:
    plain = render_seed(path, 80).text.plain + "\n"
    golden = GOLDEN / f"{path.stem}.txt"
    if os.environ.get("READER_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(plain, encoding="utf-8")
    assert golden.exists(), f"{golden} is missing; run with READER_UPDATE_GOLDEN=1 to create it"
    assert plain == golden.read_text(encoding="utf-8"), (
        f"{path.name} renders differently from {golden.name}. If the change is intended, "
        "regenerate with READER_UPDATE_GOLDEN=1 PYTHONPATH=src pytest tests/core/test_render.py "
        "and review the diff."
    )


WRAP_TEXT = st.text(st.sampled_from("ab 中文，。“” \u3000\u0301\u200b…x5"), max_size=30)


@settings(max_examples=300, deadline=None)
@given(WRAP_TEXT, st.integers(MIN_WIDTH, 30))
def test_wrapping_a_short_line_is_the_line_breakers_answer(plain: str, width: int) -> None:
    expected = [plain[start:end] for start, end in line_ranges(plain, width)]
    assert [line.plain for line in _wrap(Text(plain), width)] == expected


def test_a_layout_reused_for_new_terms_keeps_no_old_highlight() -> None:
    document = parse_document("<p>工信部 芯片</p><p>芯片 国产</p>")
    first = render_article("t", "s", "d", document, 40, ("芯片",))
    assert first.hit_count == 2
    again = render_article("t", "s", "d", document, 40, ("国产",))
    assert again.hit_count == 1
    assert [again.text.plain[s.start : s.end] for s in again.text.spans if s.style == HIGHLIGHT_STYLE] == [
        "国产"
    ]
    plain = render_article("t", "s", "d", document, 40)
    assert not [s for s in plain.text.spans if s.style == HIGHLIGHT_STYLE]
    fresh = render_article("t", "s", "d", parse_document("<p>工信部 芯片</p><p>芯片 国产</p>"), 40, ("芯片",))
    assert (first.text.plain, first.text.spans, first.hit_lines) == (
        fresh.text.plain,
        fresh.text.spans,
        fresh.hit_lines,
    )


def test_new_terms_at_the_same_width_do_not_lay_the_article_out_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    layouts: list[int] = []
    article_lines = render_module._article_lines

    def counting(*args: object) -> list[Text]:
        layouts.append(1)
        return article_lines(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(render_module, "_article_lines", counting)
    document = parse_document("<p>工信部 芯片</p>" * 50)
    for terms in [(), ("芯片",), ("工信",), ("芯片", "工信部")]:  # a search being typed
        render_article("t", "s", "d", document, 70, terms)
    assert len(layouts) == 1
    render_article("t", "s", "d", document, 71)  # a resize does lay it out again
    assert len(layouts) == 2
