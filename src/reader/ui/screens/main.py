"""The main screen: sources | articles | reading pane, and the state that ties them together.

The screen owns the state (store, source, query, open article) and translates between
its children: widgets post messages up, the screen pushes data down. Loading and
searching run in thread workers; results come back to the UI thread before they touch
any widget.

Over the ~400-line guideline on purpose: this is where the screen's state lives, and
every key that changes it; what is computed lives in `reader.core` and what is drawn in
the widgets. Split by theme, one state would be spread over several files.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from reader.core.loading.background import BackgroundLoad
from reader.core.marking import Marking
from reader.core.opening import ArticleOpener, ArticleUnavailable, prepare_in_background
from reader.core.records import Batch
from reader.core.search import SlotArray
from reader.core.state import StateStore
from reader.core.store import ALL_SOURCES, STARRED, Store
from reader.core.text import display_line, query_terms
from reader.ui.plain import notify_plain, plain
from reader.ui.screens.links import LinkKeys
from reader.ui.screens.live import LiveCorpus
from reader.ui.screens.problems import ProblemsScreen
from reader.ui.screens.triage import TriageKeys
from reader.ui.widgets.article_list import ArticleList
from reader.ui.widgets.reading_pane import ReadingPane
from reader.ui.widgets.search_box import SearchBox
from reader.ui.widgets.source_sidebar import SourceSidebar

SEARCH_DELAY = 0.05
"""Seconds of typing pause before a search runs (each keystroke restarts the wait)."""
NARROW_WIDTH = 110
"""Terminal width below which the layout stacks (see `-narrow` in styles/app.tcss)."""
REFRESH_INTERVAL = 0.5
"""While loading, redraw list and counts at most this often."""
READER_TITLE = "阅读 Reader"
"""The reading pane's border title when no article is open."""


class MainScreen(TriageKeys, LinkKeys, LiveCorpus, Screen[None]):
    """Three panes, a status line and the footer."""

    BINDINGS = [
        Binding("slash", "search", "Search", tooltip="Search titles, bodies and sources", id="search"),
        Binding("escape", "back", "Back", show=False, id="back"),
        Binding("n", "hit(1)", "Next hit", id="next-hit"),
        Binding("N", "hit(-1)", "Prev hit", show=False, id="previous-hit"),
        Binding("left_square_bracket", "step_article(-1)", "Prev article", show=False, id="previous-article"),
        Binding("right_square_bracket", "step_article(1)", "Next article", show=False, id="next-article"),
        Binding("space", "page_article", "Page", tooltip="Page the article down", id="page-article"),
        Binding("m", "toggle_read", "Read/unread", id="toggle-read"),
        Binding("s", "toggle_star", "Star", tooltip="Star or unstar the article", id="toggle-star"),
        Binding(
            "u", "toggle_unread_only", "Unread only", tooltip="Show only unread articles", id="unread-only"
        ),
        Binding(
            "full_stop",
            "next_unread",
            "Next unread",
            show=False,
            tooltip="Open the next unread article",
            id="next-unread",
        ),
        Binding(
            "A",
            "mark_all_read",
            "Mark all read",
            show=False,
            tooltip="Mark every article in the list read (asks first)",
            id="mark-all-read",
        ),
        Binding(
            "z",
            "undo_mark_all",
            "Undo mark all",
            show=False,
            tooltip="Undo the last mark-all-read",
            id="undo-mark-all",
        ),
        Binding(
            "o", "open_link", "Open link", tooltip="Open the article's link in the browser", id="open-link"
        ),
        Binding("y", "copy_link", "Copy link", show=False, tooltip="Copy the article's link", id="copy-link"),
        Binding("exclamation_mark", "show_problems", "Problems", show=False, id="show-problems"),
    ]

    source_id: reactive[str] = reactive(ALL_SOURCES)
    """The source the list shows ("" for all)."""
    search_query: reactive[str] = reactive("")
    """The search the list is narrowed by ("" for none)."""
    is_loading: reactive[bool] = reactive(False)
    """True while the corpus is still being read."""
    unread_only: reactive[bool] = reactive(False)
    """The list shows only unread articles (`u`)."""

    def __init__(
        self,
        paths: Sequence[str],
        max_bytes: int,
        use_cache: bool = True,
        load: BackgroundLoad | None = None,
        follow_links: bool = False,
    ) -> None:
        super().__init__()
        self.paths = list(paths)
        self.follow_links = follow_links
        """Follow links out of the corpus folders (`--follow-links`), on reloads too."""
        self.max_bytes = max_bytes
        self.use_cache = use_cache
        self._load: BackgroundLoad | None = None
        """The load in progress."""
        self._early_load = load
        """A load started before the app was (see `cli.make_app`), used by the first `reload`."""
        self.store = Store()
        """Everything loaded so far."""
        self.marking = Marking(self.store, None)
        """Read and star marks of `store`, written to the app's state store."""
        self.opener = ArticleOpener(max_bytes)
        self.open_slot: int | None = None
        """The article in the reading pane."""
        self._progress = ""
        self._last_refresh = 0.0
        self._search_timer: Timer | None = None
        self._before_search: tuple[str, int | None] | None = None
        self._restore_slot: int | None = None
        """The article to highlight once the next result shows (Esc in the search box)."""
        self._load_started = 0.0
        self._hit_status = ""
        self.new_count = 0
        """Articles that appeared since the user last looked at the top of the list."""
        self.new_slots: set[int] = set()
        self.keep_shown = False
        """True while a live update redraws: read articles on screen stay listed."""

    # --- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            yield SourceSidebar(id="sources")
            with Vertical(id="list-column"):
                yield SearchBox(id="search")
                yield ArticleList(id="articles")
            yield ReadingPane(id="reader")
        yield Static(id="status", markup=False)
        yield Footer()

    @property
    def sidebar(self) -> SourceSidebar:
        return self.query_one(SourceSidebar)

    @property
    def article_list(self) -> ArticleList:
        return self.query_one(ArticleList)

    @property
    def reading_pane(self) -> ReadingPane:
        return self.query_one(ReadingPane)

    @property
    def search_box(self) -> SearchBox:
        return self.query_one(SearchBox)

    def on_mount(self) -> None:
        state = self._state()
        self.search_box.history = state.history() if state is not None else []
        self.search_box.remember("")
        self.article_list.store = self.store
        self.sidebar.border_title = "来源 Sources"
        self.article_list.border_title = "文章 Articles"
        self.reading_pane.border_title = READER_TITLE
        self.article_list.focus()
        self.reload()

    def on_unmount(self) -> None:
        if self._load is not None:
            self._load.cancel()  # quitting mid-load: stop reading, write no cache
        self.stop_watching()
        state = self._state()
        if state is not None:
            state.close()  # writes what is still queued

    def _state(self) -> StateStore | None:
        state = getattr(self.app, "state", None)
        return state if isinstance(state, StateStore) else None

    # --- loading ---------------------------------------------------------------------

    def reload(self) -> None:
        """(Re)read the corpus from disk in the background."""
        self.new_count, self.new_slots = 0, set()
        self.store = Store()
        self.marking = Marking(self.store, self._state())
        self.article_list.store = self.store
        self.open_slot = None
        self.reading_pane.show(None)
        self.reading_pane.border_title = READER_TITLE
        self.is_loading = True
        self._progress = "finding files…"
        self._load_started = time.monotonic()
        self.article_list.empty_message = "Loading…"
        self.refresh_views()
        if self._load is not None:
            self._load.cancel()
        self._load = self._early_load or BackgroundLoad(
            self.paths, self.max_bytes, use_cache=self.use_cache, follow_links=self.follow_links
        )
        self._early_load = None
        self.load_corpus(self._load)

    @work(thread=True, exclusive=True, group="corpus", exit_on_error=False)
    def load_corpus(self, load: BackgroundLoad) -> None:
        """Hand the load's batches to the UI thread, one by one, as they come."""
        worker = get_current_worker()
        store = self.store
        marks = getattr(self.app, "marks", None)
        if marks is not None:  # before any article shows: its marks come with it
            self.app.call_from_thread(store.apply_marks, marks.result())
        while (batches := load.take(hold=True)) is not None:
            if worker.is_cancelled:
                load.cancel()
                return
            self.app.call_from_thread(self.add_batches, store, batches)
        self.app.call_from_thread(self.loading_finished, store)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed background job is reported; the app stays usable."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        detail = display_line(f"{type(error).__name__}: {error}")[:300]
        self.log.error(f"worker {event.worker.name!r} failed: {detail}")
        if event.worker.group == "corpus":
            self.is_loading = False
            self._progress = "load failed (Ctrl+R retries)"
            self.article_list.empty_message = "The corpus could not be loaded."
            self.refresh_views()
            notify_plain(self.app, detail, title="Loading the corpus failed", severity="error", timeout=30)
        else:
            notify_plain(self.app, detail, title="A background task failed", severity="error", timeout=15)

    def add_batches(self, store: Store, batches: list[Batch]) -> None:
        for batch in batches:
            self.add_batch(store, batch)

    def add_batch(self, store: Store, batch: Batch) -> None:
        if store is not self.store:
            return  # a reload replaced this load
        if batch.records and not len(store.articles):
            # The first rows are about to show: once drawn, the load may take the
            # interpreter lock again; the article parser loads a little later.
            if self._load is not None:
                self.call_after_refresh(self._load.shown)
            self.set_timer(0.3, prepare_in_background)
        store.add_batch(batch)
        phase = "reading" if batch.phase == "reading" else batch.phase
        # total is 0 while files are still being found (the newest cached posts come first)
        self._progress = (
            f"{phase} {batch.done:,}/{batch.total:,}" if batch.total else f"{phase} {batch.done:,}"
        )
        if batch.phase != "finding" and 0 < batch.total <= batch.done:
            self.loading_finished(store)  # everything is in; the cache is written after this
            return
        now = time.monotonic()
        if now - self._last_refresh > REFRESH_INTERVAL or not len(self.article_list.slots):
            self._last_refresh = now
            self.refresh_views()

    def loading_finished(self, store: Store) -> None:
        if store is not self.store or not self.is_loading:
            return
        self.is_loading = False
        self._progress = ""
        self.log.info(f"corpus loaded in {time.monotonic() - self._load_started:.2f} s")
        self.article_list.empty_message = "No articles" if not self.search_query else "No matches"
        self.refresh_views()
        # Only now: setting up the watch walks the corpus holding the interpreter lock
        # (0.24 s at 100k); before first paint it delayed it by as much.
        self.start_watching()
        if store.skipped_count:
            notify_plain(
                self.app,
                f"{store.skipped_count} file(s) skipped; press ! to see why.",
                title="Some files could not be read",
                severity="warning",
            )

    # --- views -----------------------------------------------------------------------

    def refresh_views(self) -> None:
        """Redraw sources, list and status from the store (search runs in a worker)."""
        self.show_sources()
        if self.search_query.strip():
            self.schedule_search(0)
        else:
            self.show_slots(
                self.store.view(self.source_id, unread_only=self.unread_only, keep=self._kept()),
                "",
            )
        self.update_status()

    def _kept(self) -> SlotArray | None:
        """What an unread-only view keeps although read: the list on screen, while the
        corpus itself changes (a live update); None when the user changes the view."""
        return self.article_list.slots if self.keep_shown else None

    def show_sources(self) -> None:
        """The sidebar: all, starred (once anything is), then each source, with counts
        (unread in brackets)."""
        all_sources, *sources = self.store.sources()
        if (
            self.source_id not in (ALL_SOURCES, STARRED)
            and not self.is_loading
            and all(source.source_id != self.source_id for source in sources)
        ):
            self.source_id = ALL_SOURCES  # its last file went: show everything (redraws)
            return
        starred = self.store.starred_source()
        shown = [starred] if starred.count or self.source_id == STARRED else []
        self.sidebar.show_sources([all_sources, *shown, *sources], self.source_id)

    def show_slots(self, slots: SlotArray, query: str) -> None:
        terms = query_terms(query)
        keep = self._restore_slot if self._restore_slot is not None else self.article_list.highlighted_slot
        self._restore_slot = None
        if keep is None:
            keep = self.open_slot
        self.article_list.empty_message = (
            "Loading…"
            if self.is_loading and not len(slots)
            else f"No matches for “{display_line(query)}”"
            if terms
            else "No articles"
        )
        self.article_list.show(slots, keep_slot=keep, terms=terms)
        self.update_status()

    def update_status(self) -> None:
        store = self.store
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {store.article_count:,} articles", "bold")
        shown = len(self.article_list.slots)
        if self.search_query.strip():
            text.append(f" · {shown:,} match “{display_line(self.search_query)}”", "bold")
            if self.reading_pane.rendered is not None:
                text.append(f" · {self.reading_pane.rendered.hit_count} hits in article")
                if self._hit_status:
                    text.append(f" ({self._hit_status}, n/N)")
        elif self.source_id:
            text.append(f" · {shown:,} in {'starred' if self.source_id == STARRED else 'source'}")
        if self.unread_only:
            text.append(" · unread only (u)", "bold")
        if self.new_count:
            text.append(f" · {self.new_count:,} new (g: newest)", "bold green")
        if store.duplicates:
            text.append(f" · {store.duplicates:,} duplicates collapsed", "dim")
        if store.skipped_count:
            text.append(f" · {store.skipped_count} skipped (!)", "bold yellow")
        if self._progress:
            text.append(f" · {self._progress}", "dim" if not self.is_loading else "bold")
        self.query_one("#status", Static).update(text, layout=False)  # one fixed line: no re-layout

    # --- sources and list ------------------------------------------------------------

    @on(SourceSidebar.Chosen)
    def choose_source(self, event: SourceSidebar.Chosen) -> None:
        self.source_id = event.source_id

    def watch_source_id(self) -> None:
        self.refresh_views()

    @on(ArticleList.Opened)
    def open_from_list(self, event: ArticleList.Opened) -> None:
        self.open_article(event.slot)
        self.reading_pane.focus()

    @on(ArticleList.Highlighted)
    def follow_highlight(self, event: ArticleList.Highlighted) -> None:
        if self.new_count and event.slot in self.new_slots:
            self.new_count = 0  # the user went to what is new
            self.new_slots = set()
            self.update_status()
        self._sync_bindings()

    _binding_state: tuple[bool, bool] | None = None

    def _sync_bindings(self) -> None:
        """Refresh the footer only when what `check_action` answers changed: the footer
        rebuilds all its keys on a refresh (~25 ms), and highlights move on every batch."""
        state = (
            bool(query_terms(self.search_query)),
            self.open_slot is not None or self.article_list.highlighted_slot is not None,
        )
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    def open_article(self, slot: int) -> None:
        """Show `slot` in the reading pane and mark it read."""
        article = self.store.articles[slot]
        self.open_slot = slot
        terms = query_terms(self.search_query)
        pane = self.reading_pane
        try:
            pane.show(self.opener.render(article, self._pane_width(), terms))
        except ArticleUnavailable as error:
            pane.show_message(display_line(str(error)))
        pane.border_title = plain(article.title)  # a str would be parsed as markup
        self._hit_status = ""
        if self.marking.set_read(slot, True):
            self.show_sources()
        self.article_list.refresh()
        self.update_status()
        self._sync_bindings()

    def _pane_width(self) -> int:
        return max(self.reading_pane.size.width - 2, 20)

    def on_resize(self, event: events.Resize) -> None:
        # Below NARROW_WIDTH the sidebar goes and the list stacks above the article.
        self.set_class(event.size.width < NARROW_WIDTH, "-narrow")
        self.call_after_refresh(self._rewrap)

    def _rewrap(self) -> None:
        """Lay the open article out again (new width or new search), keeping the position."""
        if self.open_slot is not None and self.reading_pane.rendered is not None:
            article = self.store.articles[self.open_slot]
            rendered = self.opener.render(article, self._pane_width(), query_terms(self.search_query))
            self.reading_pane.show(rendered, keep_position=True)
            self.update_status()

    # --- search ----------------------------------------------------------------------

    def action_search(self) -> None:
        box = self.search_box
        if self.focused is not box:
            self._before_search = (self.search_query, self.article_list.highlighted_slot)
        box.add_class("-active")
        box.focus()

    @on(Input.Changed, "#search")
    def query_typed(self, event: Input.Changed) -> None:
        self.search_query = event.value

    def watch_search_query(self) -> None:
        self.schedule_search(SEARCH_DELAY)
        self._sync_bindings()

    def schedule_search(self, delay: float) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(delay, self.run_search) if delay else None
        if not delay:
            self.run_search()

    def run_search(self) -> None:
        query, source = self.search_query, self.source_id
        if not query_terms(query):
            self.show_slots(self.store.view(source, unread_only=self.unread_only, keep=self._kept()), "")
            self._rewrap()
            return
        self.search_worker(self.store, source, query, self.unread_only, self._kept())

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def search_worker(
        self, store: Store, source: str, query: str, unread_only: bool, keep: SlotArray
    ) -> None:
        slots = store.view(source, query, unread_only=unread_only, keep=keep)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.search_done, store, source, query, slots)

    def search_done(self, store: Store, source: str, query: str, slots: SlotArray) -> None:
        if (store, source, query) != (self.store, self.source_id, self.search_query):
            return  # stale: the user typed on, or switched source
        self.show_slots(slots, query)
        self._rewrap()

    @on(Input.Submitted, "#search")
    def keep_search(self, event: Input.Submitted) -> None:
        self.search_box.remember(event.value)
        state = self._state()
        if state is not None and event.value.strip():
            state.add_history(event.value.strip())
        self.article_list.focus()

    @on(SearchBox.Cancelled)
    def cancel_search(self) -> None:
        previous_query, previous_slot = self._before_search or ("", None)
        self._before_search = None
        self.search_box.value = previous_query
        self.search_box.set_class(bool(previous_query), "-active")
        # The earlier result comes back from a search worker: it keeps this highlight.
        self._restore_slot = previous_slot
        self.search_query = previous_query
        self.schedule_search(0)
        self.article_list.focus()

    def action_back(self) -> None:
        """Esc: leave the reading pane, then clear an active search."""
        if self.focused is self.reading_pane:
            self.article_list.focus()
        elif self.search_query:
            self._before_search = None
            self.search_box.value = ""
            self.search_box.remove_class("-active")
            self.search_query = ""
            self.schedule_search(0)

    def action_hit(self, direction: int) -> None:
        if not query_terms(self.search_query):
            notify_plain(self.app, "No search is active: press / to search.")
            return
        if self.open_slot is None and self.article_list.highlighted_slot is not None:
            self.open_article(self.article_list.highlighted_slot)
        number = self.reading_pane.jump_hit(direction)
        total = len(self.reading_pane.hit_lines)
        if number is None:
            notify_plain(self.app, "No hits in this article.")
        else:
            self._hit_status = f"hit line {number}/{total}"
            self.update_status()

    # --- articles --------------------------------------------------------------------

    def action_step_article(self, step: int) -> None:
        article_list = self.article_list
        if not len(article_list.slots):
            return
        article_list.cursor = max(0, min(article_list.cursor + step, len(article_list.slots) - 1))
        slot = article_list.highlighted_slot
        if slot is not None:
            self.open_article(slot)

    def action_page_article(self) -> None:
        """Space: page the article; at its end, open the next unread one (as newsboat)."""
        if self.open_slot is None and self.article_list.highlighted_slot is not None:
            self.open_article(self.article_list.highlighted_slot)
            return
        pane = self.reading_pane
        if self.open_slot is not None and pane.scroll_offset.y >= pane.max_scroll_y:
            self.action_next_unread()
            return
        pane.action_page(1)

    def watch_unread_only(self) -> None:
        self.refresh_views()

    def action_show_problems(self) -> None:
        self.app.push_screen(ProblemsScreen(self.store.problems))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "hit":
            return True if query_terms(self.search_query) else None
        if action in ("toggle_read", "toggle_star", "open_link", "copy_link"):
            has_article = self.open_slot is not None or self.article_list.highlighted_slot is not None
            return True if has_article else None
        return True
