#!/usr/bin/env python3
"""Measure the reader's speed figures against the bars of issue 3 and print a table.

    python benchmarks/run.py [--sizes 20000,100000] [--runs 5] [--keep DIR]

For each size it writes a corpus with `benchmarks/corpus.py` into a temporary directory
(or reuses DIR/<size>), then runs every measurement in a fresh subprocess so peak RSS
(`ru_maxrss`, the process itself plus its worker processes) belongs to that phase alone:

- floor: read every file's bytes (the OS page cache is warm: the corpus was just
  written, and every run reads it again, so "cold" below means "no reader cache", not
  "nothing in memory");
- first paint: the real app, headless (`App.run_test`, 160x45): from the start of the
  measuring process (before Textual is imported) until the article list holds rows and
  a frame has been drawn, with no reader cache; "first paint, warm" with the cache. The
  same run reports the longest the app's event loop was blocked while the corpus
  loads ("key while loading": how late a 10 ms timer fired; a keypress waits as long);
- first batch: the same for the core alone (`start_early` + `iter_load`, as the app
  and the CLI start a load, to the first rows of a `Store`);
- cold/warm load, TUI: the same app run until its status says loaded (the UI thread
  shares the interpreter lock with the load, so this is slower than the core figure);
- cold: the cache file is deleted, then the time until the last batch is in the Store
  (everything searchable); the cache write that follows is timed separately;
- warm: the same with the cache present;
- search: typing 工信部, 芯片, ipv6 and a no-hit query one keystroke at a time and then
  backspacing each, timing `Store.view(query=...)` per keystroke;
- open: `html_blocks.parse_document` + `render.render_article`
  over a sample of articles plus the largest post;
- mark read: one `Marking.set_read(slot, True)` (the UI thread's part: the store's
  columns, the state store's queue) on a loaded store with a real `StateStore` in a
  temporary folder, median over ~200 slots; "mark all": `mark_all_read` of the whole
  corpus ("written": until the state store has committed it, off the UI thread);
- new posts on screen: the app as in "first paint, warm", idle after its load, while a
  separate process (a scraper) writes 10 new posts into the corpus folder: from its first
  write until all 10 are in the app's store and a frame has been drawn, and the longest
  the event loop was blocked meanwhile (as in "key while loading"); "burst of 5,000" the
  same with 5,000 posts written at once. The new posts are copies of existing ones with
  a new title, a date in the future and a URL of their own (new articles, not
  duplicates), named to sort newest; they are removed afterwards.
The app's state store (read marks, settings) is a fresh folder per run
(`READER_STATE_DIR`), shared by that run's "first paint" and "first paint, warm".
The reader's modules are compiled to bytecode first, as after a first launch. Medians
(and p95 for search) are over --runs runs. Standard library + the reader only.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUERIES = ["工信部", "芯片", "ipv6", "zzqx"]
BARS = {  # figure: (unit, bar at 100k, bar at 20k)
    "first paint": ("s", 1.0, 0.8),
    "first paint, warm": ("s", 1.0, 0.8),
    "key while loading": ("ms", None, None),
    "first batch": ("s", None, None),
    "cold load, TUI": ("s", None, None),
    "warm load, TUI": ("s", None, None),
    "cold load": ("s", 6.0, 1.5),
    "cold / floor": ("x", 12.0, None),
    "warm load": ("s", 1.5, 0.5),
    "search p95": ("ms", 30.0, 10.0),
    "open median": ("ms", 20.0, 20.0),
    "open max": ("ms", 120.0, 120.0),
    "peak RSS": ("MB", 800.0, 250.0),
    "mark read": ("ms", 1.0, None),
    "mark read max": ("ms", None, None),
    "mark all": ("ms", 300.0, None),
    "mark all, written": ("s", None, None),
    "new posts on screen": ("s", 2.0, None),
    "new posts, block": ("ms", 50.0, None),
    "burst of 5,000": ("s", 10.0, None),
    "burst, block": ("ms", 100.0, None),
    "burst, written": ("s", None, None),
    "burst, peak RSS": ("MB", None, None),
}
NEW_POSTS = (10, 5000)
"""Posts written into the corpus while the app runs: a few, then a burst."""
NEW_MARK = "-reader-bench-new-"
"""In the names of the posts the live phases write (and remove)."""
WRITER = (  # the scraper: writes the prepared posts as fast as it can
    "import json, sys, time\n"
    "posts = json.load(open(sys.argv[1], encoding='utf-8'))\n"
    "started = time.monotonic()\n"
    "for path, text in posts:\n"
    "    with open(path, 'wb') as handle:\n"
    "        handle.write(text.encode('utf-8'))\n"
    "print(started, time.monotonic())\n"
)


# --- phases (each runs in its own subprocess) ------------------------------------------------


def phase_floor(root: str) -> dict[str, float]:
    started = time.perf_counter()
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(folder, name), "rb") as handle:
                total += len(handle.read())
    return {"seconds": time.perf_counter() - started, "bytes": total}


def phase_load(root: str, cache_dir: str) -> dict[str, float]:
    from reader.core.loading.early import start_early
    from reader.core.loading.plan import iter_load
    from reader.core.store import Store

    store = Store()
    started = time.perf_counter()
    first = loaded = None
    early = start_early([root], cache_dir=cache_dir)  # as the app and the CLI start a load
    for batch in iter_load([root], cache_dir=cache_dir, early=early):
        store.add_batch(batch)
        if first is None and batch.records:
            store.view()[:50].tolist()
            first = time.perf_counter() - started
        if batch.phase != "finding" and batch.done >= batch.total:
            loaded = time.perf_counter() - started
    ended = time.perf_counter() - started
    loaded = loaded if loaded is not None else ended
    return {
        "first": first or ended,
        "loaded": loaded,
        "save": ended - loaded,
        "articles": store.article_count,
    }


def phase_tui(root: str, cache_dir: str, state_dir: str) -> dict[str, float]:
    started = time.perf_counter()
    import asyncio

    os.environ["READER_CACHE_DIR"] = cache_dir
    os.environ["READER_STATE_DIR"] = state_dir
    from reader.cli import make_app

    app = make_app([root])  # as `reader ROOT` does: the load starts before Textual is imported
    from reader.ui.widgets.article_list import ArticleList

    figures: dict[str, float] = {}
    keys: list[float] = []
    draw_row = ArticleList.row_text

    def row_text(self: ArticleList, slot: int, width: int) -> object:  # the first row drawn
        figures.setdefault("first", time.perf_counter() - started)
        return draw_row(self, slot, width)

    ArticleList.row_text = row_text  # type: ignore[method-assign]

    async def drive() -> None:
        async with app.run_test(size=(160, 45)) as pilot:
            screen = app.main_screen
            while "first" not in figures:
                await asyncio.sleep(0.002)
            # Responsiveness: how late a 10 ms timer fires on the app's event loop (keys
            # and redraws wait just as long), with a key pressed now and then.
            while screen.is_loading:
                for _ in range(5):
                    slept = time.perf_counter()
                    await asyncio.sleep(0.01)
                    keys.append(time.perf_counter() - slept - 0.01)
                await pilot.press("j")
            figures["loaded"] = time.perf_counter() - started

    asyncio.run(drive())
    figures["key max"] = max(keys, default=0.0) * 1000
    return figures


def phase_search(root: str, cache_dir: str) -> dict[str, object]:
    from reader.core.loading.plan import load_store

    store = load_store([root], cache_dir=cache_dir)
    store.view()  # the app lists (and so sorts) the corpus before anyone can type
    timings: dict[str, list[float]] = {}
    for query in QUERIES:
        steps = [query[:n] for n in range(1, len(query) + 1)]
        steps += [query[:n] for n in range(len(query) - 1, 0, -1)]
        for step in steps:
            started = time.perf_counter()
            store.view(query=step)
            timings.setdefault(query, []).append((time.perf_counter() - started) * 1000)
    return {"keystrokes": timings}


def phase_open(root: str, cache_dir: str) -> dict[str, object]:
    try:
        from reader.core import html_blocks, render
    except ImportError as error:
        return {"missing": str(error)}
    from reader.core.files import decode
    from reader.core.frontmatter import split_front_matter
    from reader.core.loading.plan import load_store

    store = load_store([root], cache_dir=cache_dir)
    order = store.order().tolist()
    paths = [store.articles[slot].path for slot in order[:: max(1, len(order) // 200)]]
    paths.append(max((store.articles[s].path for s in order), key=os.path.getsize))
    times = []
    for path in paths:
        started = time.perf_counter()
        with open(path, "rb") as handle:
            text = decode(handle.read())[0]
        _, body = split_front_matter(text.replace("\r\n", "\n"))
        parsed = html_blocks.parse_document(body)
        article = store.articles[order[0]]
        render.render_article(article.title, article.source_name, article.date_text, parsed, 100)
        times.append((time.perf_counter() - started) * 1000)
    return {"median": statistics.median(times), "max": max(times)}


def phase_mark(root: str, cache_dir: str, state_dir: str, what: str) -> dict[str, object]:
    from reader.core.loading.plan import load_store
    from reader.core.marking import Marking
    from reader.core.state import StateStore

    store = load_store([root], cache_dir=cache_dir)
    order = store.order()
    store.view()  # the app lists the corpus before anyone can mark
    state = StateStore(state_dir)
    marking = Marking(store, state)
    if what == "all":
        started = time.perf_counter()
        changed = marking.mark_all_read(order)
        took = time.perf_counter() - started
        state.flush()
        written = time.perf_counter() - started
        state.close()
        return {"all": took * 1000, "written": written, "changed": changed, "problem": state.problem}
    times = []
    for slot in order[:: max(1, len(order) // 200)].tolist():
        started = time.perf_counter()
        marking.set_read(slot, True)
        times.append((time.perf_counter() - started) * 1000)
    state.close()
    return {"median": statistics.median(times), "max": max(times), "problem": state.problem}


def new_posts(root: str, count: int) -> list[tuple[str, str]]:
    """`count` new posts for `root`: copies of existing ones with a new title, a date in
    the future and a URL of their own, named to sort after every existing post."""
    names = sorted(n for n in os.listdir(root) if n.endswith(".md") and NEW_MARK not in n)
    tag = f"{os.getpid()}-{time.time_ns() % 10**9}"
    posts = []
    for number in range(count):
        source = os.path.join(root, names[(number * 7919) % len(names)])
        with open(source, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        when = time.gmtime(4102444800 + 60 * number)  # 2100-01-01 onwards
        text = re.sub(r"^title: *([\"']?)", rf"title: \1新到 {number}：", text, count=1, flags=re.M)
        text = re.sub(
            r"^date: .*$", time.strftime("date: %Y-%m-%d %H:%M:%S +0800", when), text, count=1, flags=re.M
        )
        url = f"<http://bench.invalid/new/{tag}/{number}.html>"
        text, found = re.subn(r"^<https?://[^>\s]+>[ \t]*$", url, text, flags=re.M)
        if not found:
            text = text.rstrip("\n") + f"\n\n{url}\n"
        name = time.strftime("%Y-%m-%d", when) + f"{NEW_MARK}{tag}-{number:05d}.md"
        posts.append((os.path.join(root, name), text))
    return posts


def remove_new_posts(root: str) -> int:
    """Remove what the live phases wrote (also after a phase that failed)."""
    gone = 0
    for name in os.listdir(root):
        if NEW_MARK in name:
            os.unlink(os.path.join(root, name))
            gone += 1
    return gone


def phase_live(root: str, cache_dir: str, state_dir: str, count: str) -> dict[str, object]:
    """The app idle on a loaded corpus; another process writes `count` new posts."""
    import asyncio

    os.environ["READER_CACHE_DIR"] = cache_dir
    os.environ["READER_STATE_DIR"] = state_dir
    posts = new_posts(root, int(count))
    plan = os.path.join(state_dir, "new-posts.json")
    with open(plan, "w", encoding="utf-8") as handle:
        json.dump(posts, handle, ensure_ascii=False)
    expected = [os.path.join(os.path.realpath(root), os.path.basename(path)) for path, _ in posts]
    from reader.cli import make_app

    app = make_app([root])
    from rich.console import RenderableType
    from textual.screen import Screen

    from reader.core.loading.watch import Changes
    from reader.core.records import Batch
    from reader.core.store import Store
    from reader.ui.app import ReaderApp
    from reader.ui.screens.main import MainScreen

    seen: dict[str, float] = {}
    frames: list[float] = []
    takes: list[tuple[float, float, int]] = []  # (when, how long, how many changes) on the UI thread
    take_changes = MainScreen.take_changes
    display = ReaderApp._display

    def all_in(store: Store) -> bool:
        for path in expected:
            slot = store.slot_of_path(path)
            if slot is None or not store.is_alive(slot):
                return False
        return True

    def taking(self: MainScreen, store: Store, changes: Changes, batches: list[Batch]) -> None:
        started = time.monotonic()
        take_changes(self, store, changes, batches)
        takes.append((started, time.monotonic() - started, len(changes)))
        if "in" not in seen and all_in(self.store):
            seen["in"] = time.monotonic()

    def drawing(self: ReaderApp, screen: Screen[object], renderable: RenderableType | None) -> None:
        display(self, screen, renderable)
        if renderable is not None:
            frames.append(time.monotonic())

    MainScreen.take_changes = taking  # type: ignore[method-assign, assignment]
    ReaderApp._display = drawing  # type: ignore[method-assign, assignment]
    figures: dict[str, object] = {}
    lates: list[float] = []

    async def drive() -> None:
        async with app.run_test(size=(160, 45)):
            main = app.main_screen
            while main.is_loading or main._watcher is None or not main._watcher.wait_ready(0):
                await asyncio.sleep(0.02)
            await asyncio.sleep(1.0)  # idle: the load's after-work (parser, cache) is done
            writer = subprocess.Popen([sys.executable, "-c", WRITER, plan], stdout=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 20 + int(count) / 100
            while not ("in" in seen and frames[-1] > seen["in"]) and time.monotonic() < deadline:
                slept = time.perf_counter()
                await asyncio.sleep(0.01)
                lates.append(time.perf_counter() - slept - 0.01)
            shown = time.monotonic()
            first, last = map(float, writer.communicate()[0].split())
            if "in" not in seen:
                figures["missing"] = f"{count} new posts not all in after {shown - first:.0f} s"
            drawn = [frame for frame in frames if "in" in seen and frame > seen["in"]]
            figures["shown"] = (drawn[0] if drawn else shown) - first
            figures["in"] = seen.get("in", shown) - first
            figures["written"] = last - first
            figures["new_count"] = main.new_count
            figures["takes"] = [(round(when - first, 3), round(took * 1000, 1), n) for when, took, n in takes]

    try:
        asyncio.run(drive())
    finally:
        remove_new_posts(root)
    figures["block"] = max(lates, default=0.0) * 1000
    return figures


def run_phase(name: str, *args: str) -> dict[str, object]:
    """Run `phase_<name>` in a fresh interpreter; adds its peak RSS in MB."""
    code = (
        "import json, resource, sys\n"
        f"sys.path[:0] = [{str(REPO / 'src')!r}, {str(REPO)!r}]\n"
        "from benchmarks.run import phase_" + name + " as phase\n"
        "if __name__ == '__main__':\n"
        f"    result = phase(*{list(args)!r})\n"
        "    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "    result['rss'] = own / 1024\n"
        "    result['rss_workers'] = kids / 1024\n"
        "    print(json.dumps(result))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if output.returncode:
        print(output.stderr[-2000:], file=sys.stderr)
        return {"missing": f"phase {name} failed", "rss": 0.0, "rss_workers": 0.0}
    return json.loads(output.stdout.strip().splitlines()[-1])


# --- the table ---------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(root: str, runs: int, cache_dir: str) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {name: [] for name in BARS}
    figures.update({"floor": [], "cache write": [], "search max": []})
    cache_file = None
    for _ in range(runs):
        floor = run_phase("floor", root)
        shutil.rmtree(cache_dir, ignore_errors=True)
        cold = run_phase("load", root, cache_dir)
        warm = run_phase("load", root, cache_dir)
        search = run_phase("search", root, cache_dir)
        shutil.rmtree(cache_dir, ignore_errors=True)
        with tempfile.TemporaryDirectory(prefix="reader-bench-state-") as state_dir:
            tui_cold = run_phase("tui", root, cache_dir, state_dir)
            tui_warm = run_phase("tui", root, cache_dir, state_dir)
        live_figures(figures, root, cache_dir)
        figures["first paint"].append(float(tui_cold["first"]))  # type: ignore[arg-type]
        figures["first paint, warm"].append(float(tui_warm["first"]))  # type: ignore[arg-type]
        figures["key while loading"].append(float(tui_cold["key max"]))  # type: ignore[arg-type]
        figures["cold load, TUI"].append(float(tui_cold["loaded"]))  # type: ignore[arg-type]
        figures["warm load, TUI"].append(float(tui_warm["loaded"]))  # type: ignore[arg-type]
        figures["floor"].append(float(floor["seconds"]))  # type: ignore[arg-type]
        figures["first batch"].append(float(cold["first"]))  # type: ignore[arg-type]
        figures["cold load"].append(float(cold["loaded"]))  # type: ignore[arg-type]
        figures["cold / floor"].append(float(cold["loaded"]) / float(floor["seconds"]))  # type: ignore[arg-type]
        figures["cache write"].append(float(cold["save"]))  # type: ignore[arg-type]
        figures["warm load"].append(float(warm["loaded"]))  # type: ignore[arg-type]
        keystrokes = [t for values in search["keystrokes"].values() for t in values]  # type: ignore[union-attr]
        figures["search p95"].append(percentile(keystrokes, 0.95))
        figures["search max"].append(max(keystrokes))
        phases = (cold, warm, search, tui_cold, tui_warm)
        figures["peak RSS"].append(max(float(r["rss"]) + float(r["rss_workers"]) for r in phases))  # type: ignore[arg-type]
        cache_file = cache_dir
    opened = run_phase("open", root, cache_dir or "")
    if "median" in opened:
        figures["open median"].append(float(opened["median"]))  # type: ignore[arg-type]
        figures["open max"].append(float(opened["max"]))  # type: ignore[arg-type]
    else:
        print(f"  open article: skipped ({opened.get('missing')})")
    _ = cache_file
    return figures


def live_figures(figures: dict[str, list[float]], root: str, cache_dir: str) -> None:
    """Marking and new posts arriving, each in a fresh process with a fresh state store
    (the cache is warm: "first paint, warm" has just run)."""
    with tempfile.TemporaryDirectory(prefix="reader-bench-state-") as state_dir:
        one = run_phase("mark", root, cache_dir, state_dir, "one")
    with tempfile.TemporaryDirectory(prefix="reader-bench-state-") as state_dir:
        every = run_phase("mark", root, cache_dir, state_dir, "all")
    for result in (one, every):
        if result.get("problem") or "missing" in result:
            print(f"  marking: {result.get('problem') or result.get('missing')}", file=sys.stderr)
    if "median" in one:
        figures["mark read"].append(float(one["median"]))  # type: ignore[arg-type]
        figures["mark read max"].append(float(one["max"]))  # type: ignore[arg-type]
    if "all" in every:
        figures["mark all"].append(float(every["all"]))  # type: ignore[arg-type]
        figures["mark all, written"].append(float(every["written"]))  # type: ignore[arg-type]
    names = {10: ("new posts on screen", "new posts, block"), 5000: ("burst of 5,000", "burst, block")}
    for count in NEW_POSTS:
        remove_new_posts(root)  # left by a phase that failed
        with tempfile.TemporaryDirectory(prefix="reader-bench-state-") as state_dir:
            live = run_phase("live", root, cache_dir, state_dir, str(count))
        remove_new_posts(root)
        if "missing" in live:
            print(f"  {count} new posts: {live['missing']}", file=sys.stderr)
        if "shown" not in live:
            continue
        shown, block = names.get(count, (f"{count} new", f"{count} new, block"))
        figures.setdefault(shown, []).append(float(live["shown"]))  # type: ignore[arg-type]
        figures.setdefault(block, []).append(float(live["block"]))  # type: ignore[arg-type]
        if count == NEW_POSTS[-1]:
            figures["burst, written"].append(float(live["written"]))  # type: ignore[arg-type]
            # Its own: the writer, started by vfork, counts the app's memory as its own peak.
            figures["burst, peak RSS"].append(float(live["rss"]))  # type: ignore[arg-type]


def report(size: int, figures: dict[str, list[float]]) -> None:
    column = 0 if size >= 100_000 else 1
    print(f"\n== {size:,} posts ==")
    print(f"{'figure':<20}{'median':>10}{'p95':>10}{'bar':>10}  verdict")
    for name, values in figures.items():
        if not values:
            continue
        unit, *bars = BARS.get(name, ("s" if name != "search max" else "ms", None, None))
        bar = bars[column] if bars else None
        median = statistics.median(values)
        verdict = "" if bar is None else ("PASS" if median <= bar else "MISS")
        bar_text = "" if bar is None else f"{bar:g} {unit}"
        print(
            f"{name:<20}{median:>9.3g}{unit[:2]:>1}{percentile(values, 0.95):>9.3g} {bar_text:>10}  {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="write/reuse corpora under this directory")
    args = parser.parse_args()
    sys.path[:0] = [str(REPO / "src"), str(REPO)]
    from benchmarks.corpus import write_corpus

    # A launch after the first finds the reader's modules compiled; make it so here too,
    # even where PYTHONDONTWRITEBYTECODE is set (it is in some CI images).
    compileall.compile_dir(str(REPO / "src" / "reader"), quiet=1)

    base = args.keep or Path(tempfile.mkdtemp(prefix="reader-bench-"))
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            root = base / str(size)
            if not root.exists():
                print(f"writing {size:,} posts to {root} …", flush=True)
                write_corpus(root, count=size)
            figures = measure(str(root), args.runs, str(base / f"cache-{size}"))
            report(size, figures)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
