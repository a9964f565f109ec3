"""Links: which may be opened, how a browser is started, and that the pane shows what `o` opens."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reader.core import links
from reader.core.body import find_url
from reader.core.links import MAX_URL_CHARS, Refusal, browser_command, open_in_browser, refusal
from reader.core.loading.plan import load_store
from reader.core.loading.reading import read_post
from reader.core.opening import ArticleOpener
from reader.core.records import FileEntry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile_files import write_hostile_corpus  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[2]
SAMPLE = REPOSITORY / "sample_data"
HEADER = '---\ntitle: "t"\ndate: 2022-03-01 09:56:11 +0800\ncategories: emnews\ntags: 东财滚动新闻\n---\n'
DESKTOP = {"DISPLAY": ":0"}


def only_xdg_open(name: str) -> str | None:
    return "/usr/bin/xdg-open" if name == "xdg-open" else None


# --- which links may be opened ----------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://[oops",
        "http://[zz]/x",
        "https://example.com／evil",
        "http://example.com:99999999/",
        "http://example.com:port/",
    ],
)
def test_malformed_links_are_refused_not_raised(url: str) -> None:
    refused = refusal(url)
    assert isinstance(refused, Refusal) and "malformed" in refused.reason


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///etc/passwd", "data:text/html,x", "//evil.example/"]
)
def test_non_web_links_are_refused(url: str) -> None:
    refused = refusal(url)
    assert refused is not None and ("non-web" in refused.reason or "without a host" in refused.reason)


def test_links_that_would_look_different_on_screen_are_refused() -> None:
    for url in (
        "https://example.com/\u200bx",
        "https://exa\u00admple.com/",
        "https://e.com/a b",
        "https://e.com/\x1b[31m",
        "https://exa\u2064mple.com/",
        "https://e.com/\u3164",
        "https://e.com/\u180e",
    ):
        assert refusal(url) is not None, url


def test_an_over_long_link_is_refused_with_its_own_reason() -> None:
    refused = refusal("https://example.com/" + "a" * 200_000)
    assert refused is not None and "too long" in refused.reason
    assert refusal("https://example.com/" + "a" * (MAX_URL_CHARS - 40)) is None


def test_upper_case_and_chinese_links_may_be_opened() -> None:
    assert refusal("HTTPS://example.com/x") is None
    assert refusal("https://例子.cn/新闻?id=1") is None


# --- how a browser is started -----------------------------------------------------------


def test_console_browsers_are_refused() -> None:
    for browser in ("w3m", "lynx %s", "/usr/bin/elinks", "www-browser"):
        command = browser_command(
            "https://e.com/", {"BROWSER": browser, **DESKTOP}, "linux", lambda name: name
        )
        assert isinstance(command, Refusal) and "console browser" in command.reason, browser


def test_browser_variable_is_an_argv_never_a_shell() -> None:
    url = "https://e.com/;rm -rf ~"
    command = browser_command(url, {"BROWSER": "firefox --new-tab %s"}, "linux", lambda name: name)
    assert command == ["firefox", "--new-tab", url]
    assert browser_command(url, {"BROWSER": "w3m:firefox"}, "linux", lambda name: name) == ["firefox", url]


def test_a_shell_in_browser_gets_the_link_as_one_quoted_word(tmp_path: Path) -> None:
    url = "http://e.com/$(touch${IFS}" + str(tmp_path / "pwned") + ")`id`;x|y&z=1"
    command = browser_command(url, {"BROWSER": 'sh -c "echo %s"'}, "linux", lambda name: name)
    assert isinstance(command, list) and command[:2] == ["sh", "-c"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    assert done.stdout == url + "\n"  # the shell saw one literal word
    assert not (tmp_path / "pwned").exists()
    refused = browser_command(url, {"BROWSER": "cmd.exe /c start %s"}, "linux", lambda name: name)
    assert isinstance(refused, Refusal)


def test_without_a_display_nothing_is_started() -> None:
    command = browser_command("https://e.com/", {}, "linux", only_xdg_open)
    assert isinstance(command, Refusal) and "No graphical display" in command.reason
    assert browser_command("https://e.com/", DESKTOP, "linux", only_xdg_open) == [
        "xdg-open",
        "https://e.com/",
    ]
    assert browser_command("https://e.com/", {}, "darwin", only_xdg_open) == ["open", "https://e.com/"]


def test_the_browser_gets_no_terminal_and_is_not_waited_for(browser_calls: list[list[str]]) -> None:
    started: list[dict[str, object]] = []
    real = links.subprocess.Popen

    def record(argv: list[str], **options: object) -> object:
        started.append(options)
        return real(["true"], **options)  # type: ignore[call-overload]

    links.subprocess.Popen = record  # type: ignore[assignment,misc]
    try:
        assert open_in_browser("https://e.com/") is None
    finally:
        links.subprocess.Popen = real  # type: ignore[misc]
    (options,) = started
    assert options["start_new_session"] is True
    assert options["stdin"] == options["stdout"] == options["stderr"] == subprocess.DEVNULL


@pytest.mark.skipif(shutil.which("sleep") is None, reason="needs sleep(1)")
def test_a_slow_browser_does_not_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROWSER", f"{shutil.which('sleep')} 5 %s")
    begun = time.monotonic()
    assert open_in_browser("https://e.com/") is None  # started
    assert time.monotonic() - begun < 2  # and not waited for (it sleeps 5 s)


def test_a_failing_start_is_reported(monkeypatch: pytest.MonkeyPatch, browser_calls: list[list[str]]) -> None:
    def too_big(argv: list[str], **options: object) -> object:
        raise OSError(7, "Argument list too long")

    monkeypatch.setattr("reader.core.links.subprocess.Popen", too_big)
    refused = open_in_browser("https://e.com/")
    assert refused is not None and "Argument list too long" in refused.reason


def test_a_quick_failure_is_called_back(monkeypatch: pytest.MonkeyPatch) -> None:
    failures: list[str] = []
    monkeypatch.setenv("BROWSER", str(shutil.which("false")))
    assert open_in_browser("https://e.com/", on_failure=failures.append) is None
    deadline = time.monotonic() + 5
    while not failures and time.monotonic() < deadline:
        time.sleep(0.05)
    assert failures and "exit status 1" in failures[0]


# --- the link shown is the link opened ----------------------------------------------------


def shown_and_opened(path: Path, browser_calls: list[list[str]]) -> tuple[str, str | None, list[str] | None]:
    """(the reading pane's text, the article's URL, the argv `o` would start)."""
    post, _ = read_post(FileEntry(str(path)))
    assert post is not None
    article = post.article
    text = ArticleOpener().render(article, 300).text.plain
    browser_calls.clear()
    refused = open_in_browser(article.url or "")
    return text, article.url, (browser_calls[0] if refused is None else None)


def assert_pane_shows_what_o_opens(path: Path, browser_calls: list[list[str]]) -> None:
    text, url, argv = shown_and_opened(path, browser_calls)
    header = text.split("\n\n", 1)[0]
    if url is None:
        assert argv is None
        return
    assert url in header.replace("\n", ""), (path, url, header)
    if argv is not None:
        assert argv[-1] == url


def test_every_sample_post_shows_what_o_opens(browser_calls: list[list[str]]) -> None:
    posts = sorted(SAMPLE.glob("*.txt"))
    assert posts
    for path in posts:
        assert_pane_shows_what_o_opens(path, browser_calls)


def test_every_hostile_post_shows_what_o_opens(tmp_path: Path, browser_calls: list[list[str]]) -> None:
    root = tmp_path / "corpus"
    write_hostile_corpus(root, tmp_path / "outside", valid_count=3)
    store = load_store([root], use_cache=False)
    assert store.article_count > 3
    for slot in store.order().tolist():
        assert_pane_shows_what_o_opens(Path(store.articles[slot].path), browser_calls)


TRICKY_LINES = [
    "<HTTPS://evil.example/upper>",
    "\u3000<https://evil.example/ideographic-indent>",
    " \t<http://example.com/spaced>",
    "<http://" + "a" * 5000 + ".example/long>",
    "<https://example.com/[$text@click=app.bell]>",
    "<http://[oops>",
    "<https://ok.example/plain>",
    "not a link <https://inline.example/>",
    "<ftp://example.com/x>",
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(TRICKY_LINES), min_size=1, max_size=5), st.sampled_from(["", "\n", "\n\n"]))
def test_generated_bodies_show_what_o_opens(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], ending: str
) -> None:
    path = tmp_path_factory.mktemp("prop") / "post.md"
    path.write_text(HEADER + "<p>正文</p>\n\n" + "\n\n".join(lines) + ending, encoding="utf-8")
    calls: list[list[str]] = []
    real = links.subprocess.Popen, links.find_program, os.environ.get("DISPLAY")
    links.subprocess.Popen = lambda argv, **kw: calls.append(list(argv)) or real[0](["true"], **kw)  # type: ignore
    links.find_program = only_xdg_open  # type: ignore[assignment]
    os.environ["DISPLAY"] = ":0"
    try:
        assert_pane_shows_what_o_opens(path, calls)
    finally:
        links.subprocess.Popen, links.find_program = real[0], real[1]  # type: ignore[misc]
        if real[2] is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = real[2]


def test_finding_the_url_is_linear_on_lines_full_of_autolinks() -> None:
    # One 1 MB line of `<http` candidates: each used to copy the whole line (~2 s).
    body = "<https://ok.example/a>\n<p>" + "<http://e.com/x> " * 60_000 + "</p>\n"
    begun = time.monotonic()
    assert find_url(body) == "https://ok.example/a"
    assert time.monotonic() - begun < 0.3
