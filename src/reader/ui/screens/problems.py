"""A modal list of every file that was skipped or loaded with a warning, filterable."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from reader.core.models import Problem
from reader.core.text import clean_line, fold, visible_controls


def problem_rows(problems: list[Problem]) -> list[tuple[str, str, bool]]:
    """(visible path, reason, skipped) per problem, sorted by path."""
    rows = [(visible_controls(p.path), clean_line(p.reason), p.skipped) for p in problems]
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
            yield OptionList(id="problems-list")

    def on_mount(self) -> None:
        self.query_one("#problems-dialog").border_title = "Problems / 问题文件"
        self.show_rows("")
        self.query_one(OptionList).focus()

    @on(Input.Changed, "#problems-filter")
    def filter_rows(self, event: Input.Changed) -> None:
        self.show_rows(event.value)

    def show_rows(self, needle: str) -> None:
        folded = fold(needle.strip())
        rows = [r for r in self.rows if not folded or folded in fold(f"{r[0]} {r[1]}")]
        skipped = sum(1 for row in self.rows if row[2])
        summary = Text(f"{skipped} skipped, {len(self.rows) - skipped} loaded with a warning")
        if needle.strip():
            summary.append(f" · {len(rows)} shown")
        self.query_one("#problems-summary", Static).update(summary)
        options = []
        for path, reason, is_skipped in rows:
            prompt = Text(no_wrap=False)
            prompt.append("skipped  " if is_skipped else "warning  ", "bold red" if is_skipped else "yellow")
            prompt.append(path, "bold")
            prompt.append("\n         " + reason)
            options.append(Option(prompt))
        if not options:
            options = [Option(Text("No problems." if not self.rows else "Nothing matches."), disabled=True)]
        self.query_one(OptionList).set_options(options)
