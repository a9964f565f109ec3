"""The command line: `--check` and `--search` on the sample and a hostile corpus.

Everything printed must be safe for a terminal (no ESC, BEL, C1 or bidi characters),
whatever the file names and contents are.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.corpus import write_corpus

from reader import __version__
from reader.cli import main
from reader.core.text import visible_controls

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile_files import write_hostile_corpus  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[1]
SAMPLE = REPOSITORY / "sample_data"
UNSAFE_OUTPUT = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


@pytest.fixture(autouse=True)
def _cache_outside_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("cli") / "corpus"
    expected = write_hostile_corpus(root, root.parent / "pwned", valid_count=5)
    return root, expected


def _problem_names(expected: dict[str, str]) -> list[str]:
    return [name for name, outcome in expected.items() if outcome == "problem"]


def test_check_lists_every_hostile_file_safely(
    hostile: tuple[Path, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, expected = hostile
    assert main(["--check", "--no-cache", str(root)]) == 1
    out = capsys.readouterr().out
    assert not UNSAFE_OUTPUT.search(out), [hex(ord(c)) for c in UNSAFE_OUTPUT.findall(out)]
    lines = out.splitlines()
    for name in _problem_names(expected):
        (line,) = [line for line in lines if line.startswith(f"  {root / name}: ")]
        assert line.split(": ", 2)[1] == "skipped" and line.split(": ", 2)[2].strip()
    assert f"  {root / 'hostile-symlink-loop'}: warning: " in out
    assert "hostile-gbk-encoded.md: warning: decoded as GB18030" in out
    assert "hostile-utf16-bom.md: warning: decoded as UTF-16" in out


def test_check_without_python_import_of_textual(hostile: tuple[Path, dict[str, str]]) -> None:
    """Once through a real process: `python -m reader --check`, its bytes and exit code, and
    every module it imported (`-X importtime` lists them on stderr): never Textual."""
    root, expected = hostile
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY / "src"), "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reader", "--check", "--no-cache", str(root)],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr.decode(errors="replace")
    timings = done.stderr.decode().splitlines()
    imported = {line.rsplit("|", 1)[-1].strip() for line in timings if line.startswith("import time:")}
    assert {"reader.cli", "reader.core.store"} <= imported  # the list is complete enough to trust
    assert not [name for name in imported if name.split(".")[0] == "textual"]
    assert [line for line in timings if not line.startswith("import time:")] == []  # nothing else
    out = done.stdout
    for byte in (b"\x1b", b"\x07", b"\x9b", b"\xc2\x9b", b"\xe2\x80\xae", b"\xe2\x81\xa6"):
        assert byte not in out
    text = out.decode("utf-8")
    assert not UNSAFE_OUTPUT.search(text)
    for name in _problem_names(expected):
        assert f"{visible_controls(str(root / name))}: skipped: " in text


def test_search_shows_odd_file_names_visibly(
    hostile: tuple[Path, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, _ = hostile
    assert main(["--search", "名字古怪的文件", str(root)]) == 0
    out = capsys.readouterr().out
    assert not UNSAFE_OUTPUT.search(out)
    assert "bad^[]0;pwn^Gname.md" in out
    assert "hostile-<U+202E>gnp.md" in out
    assert "hostile-<U+DCFF><U+DCFE>-not-utf8.md" in out


def test_search_output_is_literal_for_markup_titles(
    hostile: tuple[Path, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, _ = hostile
    assert main(["--search", "[@click=app.quit]x[/]", str(root)]) == 0
    out = capsys.readouterr().out
    assert "\t[@click=app.quit]x[/]\t" in out
    assert not UNSAFE_OUTPUT.search(out)


def test_max_size_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    post = '---\ntitle: "大"\ndate: 2022-03-01\n---\n<p>' + "字" * 400_000 + "</p>\n"
    (tmp_path / "big.md").write_text(post, encoding="utf-8")
    (tmp_path / "small.md").write_text(
        '---\ntitle: "小"\ndate: 2022-03-01\n---\n<p>字</p>\n', encoding="utf-8"
    )
    assert main(["--check", "--max-size", "1", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "articles: 1" in out
    assert "big.md: skipped: file is 1.1 MB, over the 1.0 MB limit" in out
    assert main(["--check", str(tmp_path)]) == 0


def test_check_sample_data_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", "--no-cache", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "articles: 5" in out
    assert "problems: 0" in out


def test_check_defaults_to_the_sample(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", "--no-cache"]) == 0
    assert "articles: 5" in capsys.readouterr().out


def test_check_empty_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", "--no-cache", str(tmp_path)]) == 2
    assert "articles: 0" in capsys.readouterr().out


def test_check_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", "--no-cache", str(tmp_path / "nowhere")]) == 2
    assert "nowhere: skipped: cannot open" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("压舱石", 3),
        ("５Ｇ", 4),
        ("5g", 4),
        ("ipv6", 1),
        ("IPv6", 1),
        ("罗俊杰 红黄蓝", 1),
        ("工信部 新华社", 1),
    ],
)
def test_search_sample_data(query: str, count: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--search", query, "--no-cache", str(SAMPLE)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == count
    for line in lines:
        date, source, title, path = line.split("\t")
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", date) and source and title
        assert Path(path).is_file()
    dates = [line.split("\t")[0] for line in lines]
    assert dates == sorted(dates, reverse=True)  # newest first


def test_search_both_words_finds_the_xinhua_post(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--search", "工信部 新华社", "--no-cache", str(SAMPLE)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.split("\t")[1] == "新华社"


def test_search_ignores_site_chrome(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--search", "返回首页", "--no-cache", str(SAMPLE)]) == 1
    assert capsys.readouterr().out == ""


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    for flag in ("--version", "--help"):
        with pytest.raises(SystemExit) as raised:
            main([flag])
        assert raised.value.code == 0
    out = capsys.readouterr().out
    assert f"reader {__version__}" in out
    assert "--max-size" in out and "--check" in out


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`reader --search … | head -1`: no traceback once the reader of the pipe has gone."""
    write_corpus(tmp_path, count=3000)
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY / "src"), "PYTHONIOENCODING": "utf-8"}
    command = [sys.executable, "-m", "reader", "--no-cache", "--search", "工信部", str(tmp_path)]
    reader = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert reader.stdout is not None and reader.stderr is not None
    assert reader.stdout.readline()  # the first match, then the pipe is closed
    reader.stdout.close()
    errors = reader.stderr.read()
    assert reader.wait(timeout=120) == 141
    assert errors == b""
