"""Command line: launch the reader, or use the same core from scripts (--check, --search).

`--check` and `--search` never import Textual, so they start fast and work without a
terminal. Every corpus string printed here goes through `clean_line` or
`visible_controls`, so a hostile file cannot send escape sequences to the terminal.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from reader import __version__
from reader.core import accel
from reader.core.loading.background import BackgroundLoad
from reader.core.loading.early import start_early
from reader.core.loading.plan import load_store
from reader.core.loading.reading import DEFAULT_MAX_BYTES
from reader.core.loading.workers import prepare_processes
from reader.core.store import Store
from reader.core.text import display_line, query_terms, visible_controls
from reader.terminal import ending_with_terminal, finish_load_then_exit

if TYPE_CHECKING:
    from textual.app import App

    from reader.ui.app import ReaderApp


def sample_data_dir() -> Path:
    """The bundled sample corpus: inside an installed wheel, else the repository's."""
    packaged = Path(__file__).resolve().parent / "sample_data"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "sample_data"


def make_app(
    paths: Sequence[str],
    max_bytes: int = DEFAULT_MAX_BYTES,
    use_cache: bool = True,
    follow_links: bool = False,
) -> ReaderApp:
    """The TUI, its corpus load already under way while Textual is imported."""
    # The UI thread and the loading threads share the interpreter lock. A thread back
    # from a system call (reading a file, the cache) waits up to a switch interval for
    # it, so with the default 5 ms a warm 20k load took 1.8 s instead of 1.1 s.
    sys.setswitchinterval(0.001)
    prepare_processes()
    # Without a cache: workers forked now, before any thread runs, read the newest files.
    early = start_early(paths, max_bytes, use_cache, one_at_a_time=True, follow_links=follow_links)
    load = BackgroundLoad(paths, max_bytes, use_cache=use_cache, early=early, follow_links=follow_links)
    from reader.ui.app import ReaderApp  # Textual is only imported for the TUI

    return ReaderApp(paths, max_bytes=max_bytes, use_cache=use_cache, load=load, follow_links=follow_links)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reader",
        description="A terminal reader for folders of Chinese financial news posts "
        "(Jekyll-style files: YAML front matter + HTML/Markdown body).",
        epilog="With no PATH, opens the bundled sample corpus. Keys: press ? in the app.",
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="post files or folders (searched recursively)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help="load, print counts and problems; exit 0 if clean, 1 with problems, 2 if nothing loaded",
    )
    mode.add_argument(
        "--search",
        metavar="QUERY",
        help="print matching articles (date, source, title, path), newest first; exit 1 if none",
    )
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the start-up cache")
    parser.add_argument(
        "--follow-links",
        action="store_true",
        help="also follow symbolic links whose target is outside the given folders",
    )
    parser.add_argument(
        "--max-size",
        type=_megabytes,
        default=DEFAULT_MAX_BYTES / 2**20,
        metavar="MB",
        help="skip (and report) files larger than this many megabytes (default: %(default)g)",
    )
    parser.add_argument(
        "--version", action="version", version=f"reader {__version__} (search backend: {accel.backend()})"
    )
    return parser


MAX_SIZE_MB = 1024.0
"""The largest `--max-size`: a post file is text, and each is read whole into memory."""


def _megabytes(value: str) -> float:
    """`--max-size`: a finite number of megabytes above 0 and at most `MAX_SIZE_MB`."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not math.isfinite(number) or not 0 < number <= MAX_SIZE_MB:
        raise argparse.ArgumentTypeError(f"must be a number of megabytes above 0 and at most {MAX_SIZE_MB:g}")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    paths = args.paths or [str(sample_data_dir())]
    max_bytes = max(int(args.max_size * 2**20), 1)
    use_cache = not args.no_cache
    if args.search is not None and not query_terms(args.search):
        parser.error("the search query is empty (give at least one word)")  # exits with status 2
    if args.check or args.search is not None:
        # workers forked while no thread runs
        early = start_early(paths, max_bytes, use_cache, follow_links=args.follow_links)
        store = load_store(paths, max_bytes, use_cache=use_cache, early=early, follow_links=args.follow_links)
        try:
            return run_check(store) if args.check else run_search(store, args.search)
        except BrokenPipeError:  # `reader --search … | head`: the reader stopped listening
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit's flush
            return 141  # as a shell reports a command ended by SIGPIPE
    return run_app(make_app(paths, max_bytes, use_cache, args.follow_links))


def run_app(app: App[None], *, headless: bool = False, exit_hard: bool = True) -> int:
    """Run the TUI; its exit status is non-zero when it stopped on an error.

    With `exit_hard`, ends the process even when something still runs (a load blocked on
    a slow disk): the user asked to quit, or the terminal went away.
    """
    with ending_with_terminal(app):
        app.run(headless=headless)
    code = app.return_code or 0
    if exit_hard:
        finish_load_then_exit(code)
    return code


def run_check(store: Store) -> int:
    """Print what loaded and every problem; the exit code says how it went."""
    out = sys.stdout
    sources = store.sources()[1:]
    print(f"articles: {store.article_count}", file=out)
    print(f"sources: {len(sources)}", file=out)
    for source in sources:
        print(f"  {display_line(source.source_id)} ({display_line(source.name)}): {source.count}", file=out)
    print(f"duplicates collapsed: {store.duplicates}", file=out)
    skipped = store.skipped_count
    print(
        f"problems: {len(store.problems)} ({skipped} skipped, {len(store.problems) - skipped} warnings)",
        file=out,
    )
    for problem in sorted(store.problems, key=lambda p: (p.path, p.reason)):
        kind = "skipped" if problem.skipped else "warning"
        print(f"  {visible_controls(problem.path)}: {kind}: {display_line(problem.reason)}", file=out)
    if store.article_count == 0:
        return 2
    return 1 if store.problems else 0


def run_search(store: Store, query: str) -> int:
    """One line per matching article, newest first; exit 1 when nothing matches."""
    slots = store.view(query=query)
    for slot in slots.tolist():
        article = store.articles[slot]  # strings may come from the cache file: cleaned here
        source, title = display_line(article.source_name), display_line(article.title)
        print(f"{article.date_text}\t{source}\t{title}\t{visible_controls(article.path)}")
    return 0 if len(slots) else 1


if __name__ == "__main__":
    sys.exit(main())
