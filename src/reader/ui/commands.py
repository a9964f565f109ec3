"""Command palette provider: jump to a source, or to an article by title search."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from reader.core.text import fold
from reader.ui.plain import plain
from reader.ui.screens.main import MainScreen

MAX_ARTICLE_HITS = 20


class JumpProvider(Provider):
    """Sources by name; articles whose text contains the typed words (newest first)."""

    def _main(self) -> MainScreen | None:
        screen = self.app.screen_stack[0] if self.app.screen_stack else None
        return screen if isinstance(screen, MainScreen) else None

    async def discover(self) -> Hits:
        main = self._main()
        if main is None:
            return
        for source in main.store.sources():
            yield DiscoveryHit(
                plain(f"Source: {source.name} ({source.count})"),
                partial(self._choose_source, main, source.source_id),
                help="Show only this source",
            )

    async def search(self, query: str) -> Hits:
        main = self._main()
        if main is None or not query.strip():
            return
        matcher = self.matcher(query)
        for source in main.store.sources():
            label = f"Source: {source.name} ({source.count})"
            score = matcher.match(label)
            if score > 0:
                yield Hit(
                    score,
                    plain(label),
                    partial(self._choose_source, main, source.source_id),
                    help="Show only this source",
                )
        store = main.store
        for slot in store.view("", query)[:MAX_ARTICLE_HITS].tolist():
            article = store.articles[slot]
            needle = fold(query.strip())
            score = 0.9 if needle in fold(article.title) else 0.5
            # Help text is always parsed as markup, so corpus text goes in the prompt only.
            yield Hit(
                score,
                plain(f"{article.date_text}  {article.source_name}  {article.title}"),
                partial(self._open_article, main, slot),
                help="Open this article",
            )

    @staticmethod
    def _choose_source(main: MainScreen, source_id: str) -> None:
        main.source_id = source_id

    @staticmethod
    def _open_article(main: MainScreen, slot: int) -> None:
        main.source_id = ""
        main.open_article(slot)
