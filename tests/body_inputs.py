"""Post bodies that stress the body-text code: spellings met while rewriting it, generators
of text full of the syntax it looks at, and hostile inputs of a few megabytes.

Shared by the tests that compare two implementations of the same text rules
(`core/test_body_speed_equivalence.py`, `core/test_search_text.py`).
"""

from __future__ import annotations

from hypothesis import strategies as st

TRICKY = [
    "",
    "<",
    ">",
    "<<<<p>>>>",
    "<a</p>b>",  # an unclosed `<` before a block end: the end still breaks the line
    "<br<span>x>",  # an unclosed `<br`: "\n<br" stays, the span goes
    "x<br>y</td></tr><tr><td>z",
    "<pre>x</pre>y</pa>z</div >w</LI>v</p >u</table>t<BR>s<bR/>",
    "a<br",
    "<p>x</p><p>y</p>\n <p>z</p>",
    "<[/](y)p>",  # a Markdown link whose removal makes a block end
    "[a<b>](c) [d](e f) [g](h)",
    "<<!--x-->/p>q",  # a comment whose removal makes a block end
    "<ſcript>hidden?</ſcript>shown",  # IGNORECASE lets ſ match s, but "<s" is absent
    "<span>a</span><ſcript>hidden</ſcript>shown",
    "<ſcript>x</ſcript><!-- c -->y",
    "<ſtyle>x</ſtyle>y<Sx>",
    "<scrİpt>x</scrİpt>y",
    "İİİ<script>a</script>b<p>c</p>",  # lower() lengthens İ: indices shift
    "<SCRIPT >x</script >y<STYLE>p{}</Style>z<!-- c -->w",
    "<script>never closed",
    "<!-- never closed",
    "<scripts>not a script</scripts>",
    "&amp</p>;",
    "&am</p>p;",
    "&nb<i>sp; &nbsp; &amp;nbsp; &#x4e2d;&#20013;&#0;&#x110000;",
    "\x00<p>\x00</p>&n\x00bsp;<scr\x00ipt>",
    "a\n>\n",
    "> \n>>x\n> <p>y</p>",
    ">[返回首页](//x/)",
    "<p\n>x",
    "a<\n>b",
    "\r\n<p>a</p>\r\n\r\n",
    " \t\r",
    "<http://a>\n[返回x](y)",
    "<HTTPS://A.B/c>\n  <httpſ://x>  \n<http://a b>\n<http://a\u3000>",
    "<http://x></p>",
    "[返回x](y)  ｜  [返回z](w)|[返回](v)",
    "[返回x](y)\t｜\t[返回z](w)",
    "[返回x](y)\u3000｜[返回z](w)",
    "[返回x](y) ｜ [返回z](w\n[返回a](b)｜",
    "[返回</p>](x)\n[返回<script>](y)\nafter",
    "text [返回首页](http://x) inline",
    "\u2028\x0b\x0c\x1c<p>a\u2029b</p>\x85",
    "<http://example.com/a>\n\n<https://example.com/b>",
    "x\n<http://example.com/a>\n<p>last</p>",
]


PIECES = [
    *"<>[]()!&;/ \n\t\r\x00-=\"'|｜",
    " ｜ ", "\t｜",
    "p", "/p", "br", "script", "style", "!--", "-->", "strong", "center", "a", "div", "li", "td",
    "<p>", "</p>", "<br>", "<br/>", "<script>", "</script>", "<style>", "</style>", "<!--",
    "<strong>", "</strong>", "<center>", "</center>", "<a href='x'>", "</a>", "</div>", "</tr>",
    "</td>", "</th>", "</li>", "<img src=\"a.jpg\" />", "<span id=\"q\">", "</pre>", "</P>",
    "SCRIPT", "Style", "ſcript", "scrİpt", "scrıpt", "İ", "ſ", "http", "https://", "S",
    "中", "国", "石油", "，", "。", "　", "工业经济平稳运行",
    "&nbsp;", "&amp;", "&#x4e2d;", "&#20013;", "&lt;", "&amp", "&nbsp", "&#",
    "[返回首页](http://x)", "[返回", "](", "｜[返回东财滚动新闻](//x/)", "[链接](http://y)",
    "<http://example.com/a>", "<https://example.com/b?c=1>", "<HTTP://X>", "<httpſ://x>",
    "\n<http://example.com/a>\n", "\n[返回首页](//x/)｜[返回东财滚动新闻](//y/)\n",
    "\n> ", "\n ",
]
TEXT = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=40).map("".join)
"""Text made mostly of the pieces above, with a few arbitrary characters between them."""
LEADS = st.sampled_from(["", " ", "\t", " \r", ">", "> "])
TRAILS = st.sampled_from(["", " ", "\r", "\t"])
LINES = st.lists(st.tuples(LEADS, TEXT, TRAILS).map("".join), max_size=8).map("\n".join)
"""Lines of such text, some with blanks or a `>` in front and blanks behind."""


HOSTILE = {
    "unclosed <": "<" * 2_000_000,
    "many <script": "<script" * 300_000,
    "many <SCRIPT lines": "<SCRIPT>\n" * 300_000,
    "many <ſcript": "<ſcript " * 300_000,
    "many <!--": "<!--" * 500_000,
    "3 MB line": "<p>" + "长" * 3_000_000 + "</p>",
    "many [": "[" * 2_000_000,
    "many [a](": "[a](" * 500_000,
    "many &": "&" * 2_000_000,
    "many entities": "&#x4e2d;&a" * 100_000,
    "blank lines": "\n \t\r" * 500_000,
    "many <br": "<br" * 600_000,
    "many </p": "</p" * 600_000,
    "one long tag": "<a " * 600_000 + ">",
    "many <https://": "<https://" * 200_000,
    "long autolink": "<http://" + "x" * 2_000_000 + ">",
    "many [返回": "[返回" * 500_000,
    "long chrome": "[返回首页](" + "x" * 2_000_000,
    "many tags": "<b>" * 600_000,
    "deep nesting": "<div>" * 300_000 + "x" + "</div>" * 300_000,
    "NULs": "\x00" * 2_000_000,
}

