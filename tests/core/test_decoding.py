"""Decoding a post's bytes: what is taken for GB18030, cut-off UTF-8, UTF-32, over-long paths."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest
from benchmarks.corpus import front

from reader.core.files import decode
from reader.core.loading.plan import load_store
from reader.core.search import FoldedTexts
from reader.core.store import Store

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
GOOD = front("好文章") + "<p>正文内容</p>\n"
CP1252_POST = (
    '---\nlayout: post\ntitle: "Naïve cafés"\ndate: 2022-03-01 09:56:11 +0800\ncategories: blog\n'
    "tags: Blog\n---\n<p>Naïve cafés résumés</p>\n"
)


def load_beside_a_good_post(folder: Path, name: str, data: bytes) -> Store:
    (folder / name).write_bytes(data)
    (folder / "good.md").write_text(GOOD, encoding="utf-8")
    return load_store([folder], use_cache=False)


def problems_of(store: Store, name: str) -> list[tuple[str, bool]]:
    return [(p.reason, p.skipped) for p in store.problems if os.path.basename(p.path) == name]


@pytest.mark.parametrize(
    "data",
    [
        front("中\ud800").encode("utf-8", "surrogatepass") + "<p>正文</p>\n".encode(),  # a lone surrogate
        front("代理项\ud800").encode("utf-8", "surrogatepass"),
        CP1252_POST.encode("cp1252"),
    ],
    ids=["surrogate-with-body", "surrogate", "cp1252"],
)
def test_mojibake_is_not_taken_for_gb18030(tmp_path: Path, data: bytes) -> None:
    data.decode("gb18030")  # it does decode, as nonsense: that alone must not do
    store = load_beside_a_good_post(tmp_path, "odd.md", data)
    assert problems_of(store, "odd.md") == [("not UTF-8 text, nor GB18030 Chinese", True)]
    assert [article.title for article in store.articles] == ["好文章"]
    assert [source.name for source in store.sources() if source.source_id] == ["东财滚动"]


def sample_posts() -> list[Path]:
    posts = sorted(SAMPLE_DATA.iterdir())
    assert len(posts) >= 5
    return posts


@pytest.mark.parametrize("post", sample_posts(), ids=lambda path: path.name)
def test_a_real_gbk_post_still_decodes_with_its_warning(tmp_path: Path, post: Path) -> None:
    text = post.read_text(encoding="utf-8")
    utf8 = load_store([post], use_cache=False)
    store = load_beside_a_good_post(tmp_path, "gbk.md", text.encode("gbk"))
    assert problems_of(store, "gbk.md") == [("decoded as GB18030 (not UTF-8)", False)]
    [title] = [article.title for article in store.articles if os.path.basename(article.path) == "gbk.md"]
    assert title == utf8.articles[0].title


def long_post() -> bytes:
    paragraphs = "".join(
        f"<p>第{n}段：工信部发布原材料工业座谈会纪要，要求保障初级产品供给。</p>\n" for n in range(400)
    )
    return (front("很长的文章") + paragraphs + "<p>最后一句话结尾是中文字符").encode()


@pytest.mark.parametrize("cut", [1, 2])
def test_a_cut_off_last_character_is_replaced_not_the_post_lost(tmp_path: Path, cut: int) -> None:
    data = long_post()[:-cut]
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    texts = FoldedTexts()
    if texts.native:  # the C path declines it, so the Python path below decodes it
        assert texts.add_post("", data[data.index(b"<p>") :]) is None
    store = load_beside_a_good_post(tmp_path, "cut.md", data)
    assert problems_of(store, "cut.md") == [("last character cut off; decoded with a replacement", False)]
    assert len(store.view(query="最后一句话结尾是中文")) == 1
    assert len(store.view(query="第399段")) == 1


def test_a_cut_off_emoji_at_the_end(tmp_path: Path) -> None:
    data = (front("表情") + "<p>结尾🚀").encode()[:-2]
    text, note = decode(data)
    assert text == front("表情") + "<p>结尾\ufffd"
    assert note == "last character cut off; decoded with a replacement"


def test_bad_utf8_before_the_end_is_not_a_cut(tmp_path: Path) -> None:
    data = (front("坏") + "<p>正文</p>").encode() + b"\xff\xfe\x80" + "尾巴中".encode()[:-1]
    store = load_beside_a_good_post(tmp_path, "bad.md", data)
    assert problems_of(store, "bad.md") == [("not UTF-8 text, nor GB18030 Chinese", True)]


@pytest.mark.parametrize("codec", ["utf-32", "utf-32-be"])
def test_utf32_with_a_bom_is_decoded(tmp_path: Path, codec: str) -> None:
    text = front("UTF32文章") + "<p>三十二位正文</p>\n"
    data = text.encode(codec)
    if codec == "utf-32-be":
        data = codecs.BOM_UTF32_BE + data
    assert data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or codec == "utf-32-be"
    store = load_beside_a_good_post(tmp_path, "wide.md", data)
    assert problems_of(store, "wide.md") == [("decoded as UTF-32", False)]
    assert len(store.view(query="三十二位正文")) == 1


def test_utf16_with_a_bom_still_decodes() -> None:
    text = front("UTF16文章") + "<p>正文</p>\n"
    assert decode(text.encode("utf-16")) == (text, "decoded as UTF-16")
    assert decode(codecs.BOM_UTF16_BE + text.encode("utf-16-be")) == (text, "decoded as UTF-16")


def test_traditional_chinese_in_gbk_still_decodes() -> None:
    from reader.core.files import decode

    header = '---\ntitle: "臺灣"\ndate: 2022-03-01\n---\n'
    body = "<p>臺灣經濟發展與兩岸關係，總統府今日發表聲明。證券交易所指數上漲，銀行業績優於預期。</p>\n"
    text, note = decode((header + body).encode("gbk"))
    assert "證券交易所" in text and note == "decoded as GB18030 (not UTF-8)"
