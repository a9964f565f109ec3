#!/usr/bin/env python3
"""Write a synthetic news corpus in the same file format as the repository's sample_data/.

A port of the team's shared `make_corpus.py` that needs nothing outside this repository:
sentences and titles come from `sample_data/*.txt` (found from this file's location).
Tests import it (`from benchmarks.corpus import write_corpus`); `run.py` uses it too.

Every post is a text file: YAML front matter (layout, title, date, categories,
tags) between two `---` lines, then a body that mixes Markdown (a `>` digest,
`<url>` autolinks, `[text](url)` links) with the HTML the news sites emit
(<p>, <strong>, <center><img>, stock and sector quote spans, tables, entities).
Sentences are drawn from the seed posts, so the text is real Chinese news prose.

  python benchmarks/corpus.py OUT [--count N] [--seed S] [--nested] [--hostile]

--count N   how many well-formed posts (default 1000)
--nested    spread posts over OUT/YYYY/MM/ folders instead of one flat folder
--hostile   also write the hostile and malformed files listed in HOSTILE below,
            named hostile-*.md, which a reader must survive (skip with a clear
            reason, or show safely) without crashing, hanging or losing the rest
Deterministic for a given --seed. Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "sample_data"

MEDIA = [  # (category id as the site spells it, display name); roughly by volume
    ("emnews", "东财滚动"),
    ("zhongguozhengquanbao", "中国证券报"),
    ("zhengquanribaowang", "证券日报网"),
    ("xinhuashe", "新华社"),
    ("shanghaizhengquanbao", "上海证券报"),
    ("zhengquanshibao", "证券时报"),
    ("gongxinweibao", "工信微报"),
    ("jingjicankaobao", "经济参考报"),
    ("diyicaijing", "第一财经"),
    ("renminribao", "人民日报"),
    ("zhongguojingjiwang", "中国经济网"),
    ("meirijingjixinwen", "每日经济新闻"),
]

STOCKS = [  # (market prefix, code, name)
    ("1", "601857", "中国石油"),
    ("1", "600519", "贵州茅台"),
    ("0", "300750", "宁德时代"),
    ("0", "002594", "比亚迪"),
    ("1", "600036", "招商银行"),
    ("1", "601318", "中国平安"),
    ("0", "000858", "五粮液"),
    ("1", "600028", "中国石化"),
    ("0", "000333", "美的集团"),
    ("1", "601012", "隆基绿能"),
    ("0", "000651", "格力电器"),
    ("1", "600900", "长江电力"),
    ("1", "601899", "紫金矿业"),
    ("0", "002475", "立讯精密"),
    ("1", "688981", "中芯国际"),
    ("1", "601633", "长城汽车"),
    ("0", "300059", "东方财富"),
    ("1", "600309", "万华化学"),
    ("116", "00700", "腾讯控股"),
    ("105", "NIO", "蔚来"),
]
SECTORS = [
    ("BK0478", "有色金属"),
    ("BK0900", "新能源车"),
    ("BK0891", "国产芯片"),
    ("BK0493", "新能源"),
    ("BK0727", "医疗服务"),
    ("BK0428", "电力行业"),
]


def seed_sentences() -> tuple[list[str], list[str]]:
    """Plain-text sentences and titles taken from the seed posts."""
    sentences, titles = [], []
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        _, front, body = text.split("---\n", 2)
        titles.append(re.search(r'title: "(.*)"', front).group(1))
        plain = re.sub(r"<[^>]+>", "", body)
        plain = re.sub(r"\[[^\]]*\]\([^)]*\)|<http[^>]*>|^> ", "", plain, flags=re.M)
        for piece in re.split(r"(?<=[。！？])", plain):
            piece = piece.strip()
            if 8 <= len(piece) <= 220:
                sentences.append(piece)
    return sentences, titles


class Writer:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.sentences, self.titles = seed_sentences()

    def sentence(self) -> str:
        return self.rng.choice(self.sentences)

    def title(self) -> str:
        r = self.rng
        if r.random() < 0.3:
            return r.choice(self.titles)
        head = r.choice(["工信部", "央行", "证监会", "发改委", "国家统计局", "财政部", r.choice(STOCKS)[2]])
        words = self.sentence().rstrip("。！？")[: r.randint(10, 28)]
        title = f"{head}：{words}"
        if r.random() < 0.05:
            title += '（"稳增长"解读）'
        return title

    def stock(self) -> str:
        market, code, name = self.rng.choice(STOCKS)
        return (
            f'<span id="stock_{market}.{code}"><a href="http://quote.eastmoney.com/unify/r/'
            f'{market}.{code}" class="keytip" data-code="{market},{code}">{name}</a></span>'
            f'<span id="quote_{market}.{code}"></span>'
        )

    def sector(self) -> str:
        code, name = self.rng.choice(SECTORS)
        return (
            f'<span id="bk_90.{code}"><a href="http://quote.eastmoney.com/unify/r/90.{code}" '
            f'class="keytip" data-code="90,{code}">{name}</a></span><span id="bkquote_90.{code}"></span>'
        )

    def paragraph(self) -> str:
        r = self.rng
        parts = []
        for _ in range(r.randint(1, 6)):
            s = self.sentence()
            roll = r.random()
            if roll < 0.12:
                s = f"<strong>{s}</strong>"
            elif roll < 0.22:
                cut = r.randint(0, len(s) - 1)
                s = s[:cut] + (self.stock() if r.random() < 0.7 else self.sector()) + s[cut:]
            elif roll < 0.25:
                s = s.replace("，", "，&nbsp;", 1)
            parts.append(s)
        return "<p>" + "".join(parts) + "</p>"

    def image(self) -> str:
        n = self.rng.randint(10**19, 10**20 - 1)
        return (
            f'<center><img src="https://dfscdn.dfcfw.com/download/D{n}.jpg" alt="图片" width="580" '
            f'style="border:#d1d1d1 1px solid;padding:3px;margin:5px 0;" /></center>'
        )

    def table(self) -> str:
        rows = "".join(
            f"<tr><td>{name}</td><td>{self.rng.uniform(-10, 10):.2f}%</td></tr>"
            for _, _, name in self.rng.sample(STOCKS, 4)
        )
        return f"<table><tr><th>名称</th><th>涨跌幅</th></tr>{rows}</table>"

    def html_body(self, paragraphs: int) -> str:
        blocks = []
        for _ in range(paragraphs):
            roll = self.rng.random()
            blocks.append(self.image() if roll < 0.08 else self.table() if roll < 0.1 else self.paragraph())
        return ("\n " if self.rng.random() < 0.5 else "").join(blocks)

    def post(self, index: int, when: dt.datetime) -> tuple[str, str]:
        """Return (file name, text) for one well-formed post."""
        r = self.rng
        media_id, media_name = MEDIA[min(int(r.paretovariate(1.1)) - 1, len(MEDIA) - 1)]
        stamp = when.strftime("%Y-%m-%d %H:%M:%S")
        if r.random() < 0.8:
            stamp += " +0800"
        title = self.title().replace('"', '\\"')
        paragraphs = max(1, int(r.lognormvariate(1.8, 0.7)))
        news_id = f"{when:%Y%m%d}{2200000000 + index:010d}"
        if media_id == "emnews":
            url = f"http://finance.eastmoney.com/news/1{r.randint(100, 999)},{news_id}.html"
            back = "[返回东财滚动新闻](//finews.withounder.com/emnews/)｜[返回首页](//finews.withounder.com/)"
            if r.random() < 0.4:  # a bare digest, as the feed often carries
                body = f"\n{self.sentence()}\n\n<{url}>\n"
            else:
                body = (
                    f"> {self.sentence()}{self.sentence()}\n\n{self.html_body(paragraphs)}\n\n"
                    f"<{url}>\n\n{back}"
                )
            name = f"{when:%Y-%m-%d}-{news_id}.md"
        else:
            code = f"NW{news_id}"
            source = f'<p class="em_media">（文章来源：{media_name}）</p>'
            url = f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode={code}"
            back = (
                f"[返回{media_name}新闻](//finews.withounder.com/category/{media_id}.html)"
                f"｜[返回首页](//finews.withounder.com/)"
            )
            body = f"{self.html_body(paragraphs)}{source}\n\n<{url}>\n\n{back}"
            name = f"{when:%Y-%m-%d}-{code}.md"
        text = (
            f'---\nlayout: post\ntitle: "{title}"\ndate: {stamp}\ncategories: {media_id}\n'
            f"tags: {media_name}新闻\n---\n{body}"
        )
        return name, text


def front(title: str, extra: str = "") -> str:
    return (
        f'---\nlayout: post\ntitle: "{title}"\ndate: 2022-03-01 09:56:11 +0800\n'
        f"categories: emnews\ntags: 东财滚动新闻\n{extra}---\n"
    )


HOSTILE: dict[str, bytes] = {
    "empty": b"",
    "binary": bytes(range(256)) * 40,
    "no-front-matter": "<p>只有正文，没有头信息。</p>\n".encode(),
    "unclosed-front-matter": '---\nlayout: post\ntitle: "没有结束"\n<p>正文</p>\n'.encode(),
    "front-matter-only": front("只有头信息").encode(),
    "invalid-yaml": '---\ntitle: "引号不成对\ndate: [2022\n---\n<p>正文</p>\n'.encode(),
    "yaml-is-a-list": "---\n- a\n- b\n---\n<p>正文</p>\n".encode(),
    "yaml-python-tag": (
        "---\ntitle: !!python/object/apply:os.system ['echo pwned > /tmp/pwned']\n"
        "date: 2022-03-01\n---\n<p>正文</p>\n"
    ).encode(),
    "yaml-billion-laughs": (
        "---\na: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
        "title: [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n---\n<p>正文</p>\n"
    ).encode(),
    "missing-title": (
        "---\nlayout: post\ndate: 2022-03-01 09:56:11 +0800\ncategories: emnews\n---\n<p>无标题</p>\n"
    ).encode(),
    "bad-date": front("日期错误").replace("2022-03-01 09:56:11 +0800", "昨天下午").encode(),
    "date-only": front("只有日期").replace("2022-03-01 09:56:11 +0800", "2022-03-01").encode(),
    "categories-list": front("分类是列表")
    .replace("categories: emnews", "categories: [emnews, xinhuashe]")
    .encode(),
    "rich-markup-title": (
        front("[bold red]假标题[/] [link=http://evil.example]点我[/link] [/]")
        + "<p>[blink]正文里的方括号[/blink] [/] [@click=app.quit]退出[/]</p>\n"
    ).encode(),
    "ansi-escapes": (
        front("\\e[2J\\e]0;hijacked\\a标题")
        + "<p>\x1b[31m红色\x1b[0m \x1b]8;;http://evil.example\x07链接\x1b]8;;\x07 \x9b2J \x07铃</p>\n"
    ).encode(),
    "control-chars": (
        front("控制\\u0000字符\\u202e反向") + "<p>\x00\x01\x08\x0b\x0c\x7f\u202e\u200b正文</p>\n"
    ).encode(),
    "script-and-style": (
        front("脚本")
        + "<script>alert(1)</script><style>p{}</style><p>正文</p>"
        + '<a href="javascript:alert(1)">坏链接</a><a href="file:///etc/passwd">本地文件</a>\n'
    ).encode(),
    "deep-nesting": (front("深层嵌套") + "<div>" * 20000 + "深处的文字" + "</div>" * 20000 + "\n").encode(),
    "unclosed-tags": (front("标签不闭合") + "<p><strong><span><a href='x'>没有闭合" * 50 + "\n").encode(),
    "huge-line": (front("超长单行") + "<p>" + "长" * 3_000_000 + "</p>\n").encode(),
    "gbk-encoded": front("GBK编码的文件").encode("gbk") + "<p>这是GBK编码。</p>\n".encode("gbk"),
    "utf8-bom": b"\xef\xbb\xbf" + (front("带BOM") + "<p>正文</p>\n").encode(),
    "crlf": (front("Windows换行") + "<p>第一段</p>\n<p>第二段</p>\n").replace("\n", "\r\n").encode(),
    "lone-surrogate-escape": (front("代理项\\ud800") + "<p>正文</p>\n").encode(),
    "wide-and-emoji": (
        front("🚀全角ＡＢＣ１２３混排ｱｲｳ") + "<p>Emoji 🇨🇳👨‍👩‍👧 和全角　空格、ＡＢＣ。</p>\n"
    ).encode(),
}


def write_hostile(out: Path) -> None:
    for name, data in HOSTILE.items():
        (out / f"hostile-{name}.md").write_bytes(data)
    (out / "hostile-directory.md").mkdir(exist_ok=True)
    loop = out / "hostile-symlink-loop"
    if not loop.exists() and not loop.is_symlink():
        os.symlink(".", loop)
    (out / "hostile-not-a-post.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 64)


def write_corpus(
    out: Path, count: int = 1000, seed: int = 1, nested: bool = False, hostile: bool = False
) -> None:
    """Write `count` well-formed posts (and the hostile files) under `out`."""
    rng = random.Random(seed)
    writer = Writer(rng)
    out.mkdir(parents=True, exist_ok=True)
    start = dt.datetime(2021, 12, 1, 6, 0, 0)
    span = int(dt.timedelta(days=240).total_seconds())
    for index in range(count):
        when = start + dt.timedelta(seconds=rng.randrange(span))
        name, text = writer.post(index, when)
        folder = out / f"{when:%Y}" / f"{when:%m}" if nested else out
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    if hostile:
        write_hostile(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nested", action="store_true")
    parser.add_argument("--hostile", action="store_true")
    args = parser.parse_args()
    write_corpus(args.out, args.count, args.seed, args.nested, args.hostile)


if __name__ == "__main__":
    main()
