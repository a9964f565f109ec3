"""Writes a hostile corpus for tests: malformed, binary, oversized and sneaky post files.

Mirrors the kinds that `shared/tools/make_corpus.py --hostile` writes, plus encodings,
file names and races it does not cover. Standard library only, and self-contained: tests
never read the shared tools. Each kind maps to the outcome the reader must reach:
"problem" (skipped, with a reason) or "article" (loaded, shown safely).

Deliberately not here: assertions (see tests/core/test_hostile.py and friends).
"""

from __future__ import annotations

import os
from pathlib import Path

MARKUP_TITLE = "[@click=app.quit]x[/]"
"""A title that would quit the app if anything treated it as Textual markup."""
RICH_TITLE = "[bold red]x"
"""A title that would turn red if treated as Rich markup."""
CLOSING_TITLE = "[/] 关闭标签"
"""A title that makes Textual's markup parser raise if it ever sees it."""
BAD_FILE_NAME = "bad\x1b]0;pwn\x07name.md"
"""A file name holding a terminal title escape sequence."""
BIDI_FILE_NAME = "hostile-\u202egnp.md"
"""A file name with a right-to-left override."""
RAW_FILE_NAME = b"hostile-\xff\xfe-not-utf8.md"
"""A file name that is not valid UTF-8 (as bytes)."""
HUGE_LINE_CHARS = 1_000_000
"""Characters in the under-the-limit huge line (3 MB of UTF-8)."""


def front(title: str, extra: str = "", date: str = "2022-03-01 09:56:11 +0800") -> str:
    """A scraper-style header with `title` written between double quotes as given."""
    return (
        f'---\nlayout: post\ntitle: "{title}"\ndate: {date}\ncategories: emnews\n'
        f"tags: 东财滚动新闻\n{extra}---\n"
    )


def valid_post(index: int) -> tuple[str, str]:
    """(file name, text) of a well-formed post; titles contain `有效文章{index}`."""
    day = 1 + index % 28
    url = f"http://finance.eastmoney.com/news/1344,2022030{index:04d}.html"
    body = (
        f"> 摘要{index}：工信部发布新规。\n\n<p>第一段，<strong>5G</strong>基站建设。</p>\n"
        f'<p>第二段 &amp; 实体，<a href="http://example.com/{index}">链接</a>。</p>\n\n<{url}>\n\n'
        "[返回东财滚动新闻](//finews.withounder.com/emnews/)｜[返回首页](//finews.withounder.com/)\n"
    )
    text = front(f"有效文章{index}", date=f"2022-03-{day:02d} 09:00:00 +0800") + body
    return f"2022-03-{day:02d}-valid-{index:03d}.md", text


def hostile_kinds(pwned: Path) -> dict[str, tuple[bytes, str]]:
    """name -> (file bytes, expected outcome: "problem" or "article").

    `pwned` is where the YAML python-tag payload would write if it ever ran.
    """
    gb_text = front("GB18030编码的文件") + "<p>这是GB18030编码，含𠀀。</p>\n"
    kinds: dict[str, tuple[bytes, str]] = {
        "empty": (b"", "problem"),
        "whitespace-only": (b"  \n\n\t\n", "problem"),
        "binary": (bytes(range(256)) * 40, "problem"),
        "no-front-matter": ("<p>只有正文，没有头信息。</p>\n".encode(), "problem"),
        "unclosed-front-matter": ('---\nlayout: post\ntitle: "没有结束"\n<p>正文</p>\n'.encode(), "problem"),
        "empty-front-matter": (b"---\n---\n<p>x</p>\n", "problem"),
        "front-matter-only": (front("只有头信息").encode(), "article"),
        "invalid-yaml": ('---\ntitle: "引号不成对\ndate: [2022\n---\n<p>正文</p>\n'.encode(), "problem"),
        "yaml-is-a-list": ("---\n- a\n- b\n---\n<p>正文</p>\n".encode(), "problem"),
        "yaml-is-a-string": ("---\n就是一句话\n---\n<p>正文</p>\n".encode(), "problem"),
        "yaml-python-tag": (
            (
                f"---\ntitle: !!python/object/apply:os.system ['touch {pwned}']\n"
                "date: 2022-03-01\n---\n<p>正文</p>\n"
            ).encode(),
            "problem",
        ),
        "yaml-python-name": (
            (f"---\ntitle: !!python/object/new:os.system ['touch {pwned}']\n---\n<p>x</p>\n").encode(),
            "problem",
        ),
        "yaml-billion-laughs": (
            (
                "---\na: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                "title: [*h,*h,*h,*h,*h,*h,*h,*h,*h]\ntags: [*h,*h]\n---\n<p>正文</p>\n"
            ).encode(),
            "article",
        ),
        "yaml-deep-nesting": (
            ("---\ntitle: " + "[" * 5000 + "]" * 5000 + "\n---\n<p>x</p>\n").encode(),
            "any",
        ),
        "header-too-long": (("---\ntitle: x\n" + "# 注释\n" * 40000 + "---\n<p>x</p>\n").encode(), "problem"),
        "title-is-mapping": (b"---\ntitle: {a: 1}\ndate: 2022-03-01\n---\n<p>x</p>\n", "article"),
        "title-huge-int": (("---\ntitle: 0x" + "f" * 5000 + "\n---\n<p>x</p>\n").encode(), "any"),
        "title-multiline": ('---\ntitle: "第一行\\n第二行\\t制表"\n---\n<p>x</p>\n'.encode(), "article"),
        "missing-title": (
            (
                "---\nlayout: post\ndate: 2022-03-01 09:56:11 +0800\ncategories: emnews\n---\n<p>无标题</p>\n"
            ).encode(),
            "article",
        ),
        "bad-date": (front("日期错误", date="昨天下午").encode(), "article"),
        "garbage-date": (front("日期乱码", date="9999-99-99 99:99:99 +9999").encode(), "article"),
        "date-only": (front("只有日期", date="2022-03-01").encode(), "article"),
        "ancient-date": (front("公元元年", date="0001-01-01 00:00:00 +2359").encode(), "article"),
        "categories-list": (
            front("分类是列表").replace("categories: emnews", "categories: [emnews, xinhuashe]").encode(),
            "article",
        ),
        "rich-markup-title": (
            (
                front("[bold red]假标题[/] [link=http://evil.example]点我[/link] [/]")
                + "<p>[blink]正文里的方括号[/blink] [/] [@click=app.quit]退出[/]</p>\n"
            ).encode(),
            "article",
        ),
        "click-markup-title": ((front(MARKUP_TITLE) + "<p>x</p>\n").encode(), "article"),
        "red-markup-title": ((front(RICH_TITLE) + "<p>x</p>\n").encode(), "article"),
        "closing-markup-title": ((front(CLOSING_TITLE) + "<p>x</p>\n").encode(), "article"),
        "markup-source": (
            front("来源是标记").replace("tags: 东财滚动新闻", 'tags: "[/]坏来源[@click=app.quit]"').encode()
            + b"<p>x</p>\n",
            "article",
        ),
        "ansi-escapes": (
            (
                front("\\e[2J\\e]0;hijacked\\a标题")
                + "<p>\x1b[31m红色\x1b[0m \x1b]8;;http://evil.example\x07链接\x1b]8;;\x07 "
                "\x9b2J \x07铃</p>\n"
            ).encode(),
            "article",
        ),
        "ansi-in-source": (
            front("来源有转义")
            .replace("tags: 东财滚动新闻", 'tags: "\\e]0;pwn\\a东财"')
            .replace("categories: emnews", 'categories: "\\e[31memnews"')
            .encode()
            + b"<p>x</p>\n",
            "article",
        ),
        "control-chars": (
            (
                front("控制\\u0000字符\\u202e反向\\x85C1")
                + "<p>\x00\x01\x08\x0b\x0c\x7f\u202e\u200b正文</p>\n"
            ).encode(),
            "article",
        ),
        "bidi-title": (
            (front("\u2066正常\u2069\u202b反向\u202c\u200f标题\u061c") + "<p>x</p>\n").encode(),
            "article",
        ),
        "escape-in-url": (
            (front("链接里有转义") + "<p>x</p>\n\n<http://evil.example/\x1b]0;pwned\x07>\n").encode(),
            "article",
        ),
        "script-and-style": (
            (
                front("脚本")
                + "<script>alert(1)</script><style>p{}</style><p>正文</p>"
                + '<a href="javascript:alert(1)">坏链接</a><a href="file:///etc/passwd">本地文件</a>'
                + "\n[md链接](javascript:alert(2)) <javascript:alert(3)>\n"
            ).encode(),
            "article",
        ),
        "deep-nesting": (
            (front("深层嵌套") + "<div>" * 20000 + "深处的文字" + "</div>" * 20000 + "\n").encode(),
            "article",
        ),
        "unclosed-tags": (
            (front("标签不闭合") + "<p><strong><span><a href='x'>没有闭合" * 50 + "\n").encode(),
            "article",
        ),
        "many-openers": (
            (front("很多尖括号") + "<" * 200_000 + "<script" * 20_000 + "\n").encode(),
            "article",
        ),
        "huge-line": ((front("超长单行") + "<p>" + "长" * HUGE_LINE_CHARS + "</p>\n").encode(), "article"),
        "huge-line-over-limit": (
            (front("超长单行超限") + "<p>" + "长" * 3_000_000 + "</p>\n").encode(),
            "problem",
        ),
        "gbk-encoded": (
            front("GBK编码的文件").encode("gbk") + "<p>这是GBK编码。</p>\n".encode("gbk"),
            "article",
        ),
        "gb18030-encoded": (gb_text.encode("gb18030"), "article"),
        "utf16-bom": ((front("UTF-16编码") + "<p>正文</p>\n").encode("utf-16"), "article"),
        "utf16-be-bom": (
            b"\xfe\xff" + (front("UTF-16大端") + "<p>正文</p>\n").encode("utf-16-be"),
            "article",
        ),
        "utf16-broken": (b"\xff\xfe" + b"\x00\xd8" + b"a", "problem"),
        "utf32-bom": ((front("UTF-32编码") + "<p>正文</p>\n").encode("utf-32"), "article"),
        "utf8-surrogate": (front("中\ud800").encode("utf-8", "surrogatepass"), "problem"),  # GB18030 mojibake
        "cp1252": (
            (
                '---\nlayout: post\ntitle: "Naïve cafés"\ndate: 2022-03-01 09:56:11 +0800\ncategories: blog\n'
                "tags: Blog\n---\n<p>Naïve cafés résumés</p>\n"
            ).encode("cp1252"),
            "problem",
        ),
        "utf8-cut-off": (
            (front("最后一个字被截断") + "<p>正文到此为止</p>\n<p>截断").encode()[:-1],
            "article",
        ),
        "impossible-date": (front("不存在的日期", date="2021-02-30").encode(), "article"),
        "zero-date": (front("零日期", date="0000-00-00").encode(), "article"),
        "offset-date": (front("时区越界", date="2021-12-01 22:00:00 +99:00").encode(), "article"),
        "utf8-bom": (b"\xef\xbb\xbf" + (front("带BOM") + "<p>正文</p>\n").encode(), "article"),
        "crlf": (
            (front("Windows换行") + "<p>第一段</p>\n<p>第二段</p>\n").replace("\n", "\r\n").encode(),
            "article",
        ),
        "cr-only": ((front("老Mac换行") + "<p>第一段</p>\n").replace("\n", "\r").encode(), "article"),
        "lone-surrogate-escape": ((front("代理项\\ud800") + "<p>正文</p>\n").encode(), "any"),
        "wide-and-emoji": (
            (front("🚀全角ＡＢＣ１２３混排ｱｲｳ") + "<p>Emoji 🇨🇳👨‍👩‍👧 和全角　空格、ＡＢＣ。</p>\n").encode(),
            "article",
        ),
        "nul-in-body": ((front("正文有NUL") + "<p>a\x00b</p>\n").encode(), "article"),
    }
    return kinds


def write_hostile_corpus(root: Path, pwned: Path, valid_count: int = 20) -> dict[str, str]:
    """Write valid posts and every hostile kind under `root`, and beside it one post that
    links from the corpus point to (they must not reach it); return file name -> outcome.

    Outcomes: "article", "problem", "any" (either is acceptable), "ignored" (not a post
    file, e.g. a directory or a `.jpg`), "warning" (a problem that is not skipped).
    """
    root.mkdir(parents=True, exist_ok=True)
    expected: dict[str, str] = {}
    for index in range(valid_count):
        name, text = valid_post(index)
        (root / name).write_text(text, encoding="utf-8")
        expected[name] = "article"
    for kind, (data, outcome) in hostile_kinds(pwned).items():
        name = f"hostile-{kind}.md"
        (root / name).write_bytes(data)
        expected[name] = outcome
    # Three posts, each its own body: posts without a URL are one article when their
    # text is the same (identity is a hash of it), and these must show as three.
    weird = front("名字古怪的文件") + "<p>x {}</p>\n"
    (root / BAD_FILE_NAME).write_text(weird.format("escape"), encoding="utf-8")
    expected[BAD_FILE_NAME] = "article"
    (root / BIDI_FILE_NAME).write_text(weird.format("bidi"), encoding="utf-8")
    expected[BIDI_FILE_NAME] = "article"
    with open(os.path.join(os.fsencode(root), RAW_FILE_NAME), "wb") as handle:
        handle.write(weird.format("raw").encode())
    expected[os.fsdecode(RAW_FILE_NAME)] = "article"
    (root / "hostile-directory.md").mkdir(exist_ok=True)
    expected["hostile-directory.md"] = "ignored"
    os.symlink(".", root / "hostile-symlink-loop")
    expected["hostile-symlink-loop"] = "warning"
    (root / "hostile-not-a-post.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 64)
    expected["hostile-not-a-post.jpg"] = "ignored"
    os.mkfifo(root / "hostile-fifo.md")
    expected["hostile-fifo.md"] = "problem"  # never opened: "not a regular file"
    os.symlink("/dev/zero", root / "hostile-dev-zero.md")
    expected["hostile-dev-zero.md"] = "problem"  # a device: "not a regular file"
    os.symlink(root / "does-not-exist.md", root / "hostile-dangling.md")
    expected["hostile-dangling.md"] = "problem"  # "broken link"
    (root.parent / "hostile-outside.md").write_text(weird, encoding="utf-8")
    for name, target in (
        ("hostile-link-up", ".."),
        ("hostile-link-to-root", "/"),
        ("hostile-link-out.md", "../hostile-outside.md"),
    ):
        os.symlink(target, root / name)
        expected[name] = "problem"  # "link leaves the corpus, not followed"
    return expected
