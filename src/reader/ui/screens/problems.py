"""A modal list of every file that was skipped or loaded with a warning, filterable."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from reader.core.models import Problem
from reader.core.text import display_line, steady_width, visible_controls
from reader.ui.widgets.problem_list import ProblemList, ProblemRow


def problem_rows(problems: list[Problem]) -> list[ProblemRow]:
    """(visible path, reason, skipped) per problem, sorted by path."""
    rows = [(steady_width(visible_controls(p.path)), display_line(p.reason), p.skipped) for p in problems]
    return sorted(rows)


class ProblemsScreen(ModalScreen[None]):
    """Files the loader could not use, with the reason for each."""

    BINDINGS = [
        Binding("escape,q,exclamation_mark", "dismiss", "Close", id="problems.close"),
    ]

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__()
        self.rows = problem_rows(problems)

    def compose(self) -> ComposeResult:
        with Vertical(id="problems-dialog"):
            yield Static(id="problems-summary", markup=False)
            yield Input(placeholder="Filter by path or reason", id="problems-filter")
            yield ProblemList(self.rows, id="problems-list")

    def on_mount(self) -> None:
        self.query_one("#problems-dialog").border_title = "Problems / 问题文件"
        self.show_rows("")
        self.query_one(ProblemList).focus()

    @on(Input.Changed, "#problems-filter")
    def filter_rows(self, event: Input.Changed) -> None:
        self.show_rows(event.value)

    def show_rows(self, needle: str) -> None:
        problem_list = self.query_one(ProblemList)
        problem_list.filter(needle)
        skipped = sum(1 for row in self.rows if row[2])
        summary = Text(f"{skipped} skipped, {len(self.rows) - skipped} loaded with a warning")
        if needle.strip():
            summary.append(f" · {len(problem_list.shown)} shown")
        self.query_one("#problems-summary", Static).update(summary)
