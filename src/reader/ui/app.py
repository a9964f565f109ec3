"""ReaderApp: stylesheet, global keys, command palette, and the main screen.

The app wires things together and stays thin: state and coordination live in
`screens/main.py`, the work in `reader.core`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from pathlib import Path
from threading import Thread

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from reader.core.loading.background import BackgroundLoad
from reader.core.loading.reading import DEFAULT_MAX_BYTES
from reader.core.state import StateStore
from reader.core.store import Marks
from reader.core.text import display_line
from reader.ui.commands import JumpProvider
from reader.ui.screens.help import HelpScreen
from reader.ui.screens.main import MainScreen
from reader.ui.widgets.article_list import ArticleList
from reader.ui.widgets.reading_pane import ReadingPane
from reader.ui.widgets.search_box import SearchBox
from reader.ui.widgets.source_sidebar import SourceSidebar


def _styles_dir() -> Path:
    """`styles/` inside an installed wheel, else the repository's top-level one."""
    packaged = Path(__file__).resolve().parent.parent / "styles"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "styles"


STYLES_DIR = _styles_dir()
STYLESHEET = STYLES_DIR / "app.tcss"


class ReaderApp(App[None]):
    """A three-pane reader for a folder of news posts."""

    TITLE = "reader"
    CSS_PATH = [STYLESHEET]
    COMMANDS = App.COMMANDS | {JumpProvider}
    BINDINGS = [
        # Not priority: `q` must stay typeable in the search box (Ctrl+Q always quits).
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark,f1", "show_keys", "Keys", tooltip="List every key", id="show-keys"),
        Binding(
            "ctrl+r", "reload", "Reload", show=False, tooltip="Re-read the corpus from disk", id="reload"
        ),
    ]

    def __init__(
        self,
        paths: Sequence[str],
        max_bytes: int = DEFAULT_MAX_BYTES,
        use_cache: bool = True,
        load: BackgroundLoad | None = None,
        follow_links: bool = False,
        state: StateStore | None = None,
    ) -> None:
        """`load`: the corpus load, if already started (see `cli.make_app`); `state`: the
        lasting marks and settings (by default the user's, never inside the corpus)."""
        super().__init__()
        self.paths = list(paths)
        self.max_bytes = max_bytes
        self.use_cache = use_cache
        self.follow_links = follow_links
        self._first_load = load
        self.state = state if state is not None else StateStore(forbidden=_corpus_folders(self.paths))
        self.marks: Future[Marks] = Future()
        """Read and star marks, read from the state store in a thread while the app starts."""
        self.reload_marks(self.marks)
        self._state_problem: str | None = None

    def get_default_screen(self) -> Screen[None]:
        return MainScreen(self.paths, self.max_bytes, self.use_cache, self._first_load, self.follow_links)

    @property
    def main_screen(self) -> MainScreen:
        screen = self.screen_stack[0] if self.screen_stack else self.screen
        assert isinstance(screen, MainScreen)  # get_default_screen always makes one
        return screen

    def on_mount(self) -> None:
        self.sub_title = display_line(" ".join(self.paths))
        saved = self.state.setting("theme")
        if saved and saved in self.available_themes:
            self.theme = saved
        self.check_state()
        self.set_interval(STATE_CHECK, self.check_state)

    def reload_marks(self, into: Future[Marks] | None = None) -> None:
        """Read the marks again in a thread (Ctrl+R: another reader may have marked some)."""
        self.marks = into if into is not None else Future()
        Thread(target=_read_marks, args=(self.state, self.marks), name="reader-marks", daemon=True).start()

    def check_state(self) -> None:
        """Say when the state store has a problem (it can start while the app runs: a full
        disk), once per new problem."""
        problem = self.state.problem
        if problem and problem != self._state_problem:
            self.notify(display_line(problem), title="Read marks", severity="warning", markup=False)
        self._state_problem = problem

    def watch_theme(self, theme: str) -> None:
        self.state.set_setting("theme", theme)

    def action_show_keys(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(
            HelpScreen(
                [
                    ("Anywhere", list(self.BINDINGS)),
                    ("Main", list(MainScreen.BINDINGS)),
                    ("Sources", list(SourceSidebar.BINDINGS)),
                    ("Articles", list(ArticleList.BINDINGS)),
                    ("Reader", list(ReadingPane.BINDINGS)),
                    ("Search box", list(SearchBox.BINDINGS)),
                ]
            )
        )

    def action_reload(self) -> None:
        self.main_screen.reload()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        main = self.main_screen
        yield SystemCommand("Search", "Search titles, bodies and sources (/)", main.action_search)
        yield SystemCommand("Reload corpus", "Re-read every file from disk (Ctrl+R)", self.action_reload)
        yield SystemCommand(
            "Show problems", "Files that were skipped, and why (!)", main.action_show_problems
        )
        yield SystemCommand("Toggle read", "Mark the article read or unread (m)", main.action_toggle_read)
        yield SystemCommand("Toggle star", "Star or unstar the article (s)", main.action_toggle_star)
        yield SystemCommand(
            "Unread only", "Show only unread articles, or all (u)", main.action_toggle_unread_only
        )
        yield SystemCommand("Next unread", "Open the next unread article (.)", main.action_next_unread)
        yield SystemCommand(
            "Mark all read", "Mark every article in the list read (A)", main.action_mark_all_read
        )
        yield SystemCommand("Open link", "Open the article's link in the browser (o)", main.action_open_link)
        yield SystemCommand("Show keys", "List every key (?)", self.action_show_keys)


STATE_CHECK = 5.0
"""Seconds between looks at the state store's health."""


def _corpus_folders(paths: Sequence[str]) -> list[str]:
    """Real folders the state store must stay out of: the roots, and file roots' folders."""
    folders = []
    for path in paths:
        real = os.path.realpath(path)
        folders.append(real if os.path.isdir(real) else os.path.dirname(real))
    return folders


def _read_marks(state: StateStore, into: Future[Marks]) -> None:
    try:
        into.set_result(state.marks())
    except Exception:  # noqa: BLE001 - no marks is better than no reader
        into.set_result({})
