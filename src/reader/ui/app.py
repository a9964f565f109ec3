"""ReaderApp: stylesheet, global keys, command palette, and the main screen.

The app wires things together and stays thin: state and coordination live in
`screens/main.py`, the work in `reader.core`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from reader.core.loading.background import BackgroundLoad
from reader.core.loading.reading import DEFAULT_MAX_BYTES
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
    ) -> None:
        """`load`: the corpus load, if already started (see `cli.make_app`)."""
        super().__init__()
        self.paths = list(paths)
        self.max_bytes = max_bytes
        self.use_cache = use_cache
        self.follow_links = follow_links
        self._first_load = load

    def get_default_screen(self) -> Screen[None]:
        return MainScreen(self.paths, self.max_bytes, self.use_cache, self._first_load, self.follow_links)

    @property
    def main_screen(self) -> MainScreen:
        screen = self.screen_stack[0] if self.screen_stack else self.screen
        assert isinstance(screen, MainScreen)  # get_default_screen always makes one
        return screen

    def on_mount(self) -> None:
        self.sub_title = display_line(" ".join(self.paths))

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
        yield SystemCommand("Open link", "Open the article's link in the browser (o)", main.action_open_link)
        yield SystemCommand("Show keys", "List every key (?)", self.action_show_keys)
