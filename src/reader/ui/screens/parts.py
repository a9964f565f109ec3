"""What the main screen's key mixins (`triage`, `links`, `live`) use of the screen.

`MainScreen` provides every name here; declaring them once keeps the mixins typed and
says in one place what they depend on.
"""

from __future__ import annotations

from typing import Any

from textual.widget import Widget

from reader.core.marking import Marking
from reader.core.store import Store
from reader.ui.widgets.article_list import ArticleList
from reader.ui.widgets.reading_pane import ReadingPane


class ScreenParts:
    """The main screen's state and redraws, as its mixins see them."""

    app: Any
    focused: Widget | None
    store: Store
    marking: Marking
    open_slot: int | None

    @property
    def article_list(self) -> ArticleList:
        raise NotImplementedError

    @property
    def reading_pane(self) -> ReadingPane:
        raise NotImplementedError

    def show_sources(self) -> None:
        raise NotImplementedError

    def refresh_views(self) -> None:
        raise NotImplementedError

    def update_status(self) -> None:
        raise NotImplementedError

    def open_article(self, slot: int) -> None:
        raise NotImplementedError
