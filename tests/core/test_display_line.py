"""`display_line`: the one way untrusted text becomes a line on screen."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from reader.core.links import refusal
from reader.core.text import display_line, steady_width

UNSTEADY = (
    "\u00ad\u200b\u200c\u200d\u2060\u2064\u206a\u180e\u034f\u17b4\u3164\uffa0\u115f\ufe0e\ufe0f"
    "\U0001d173\U0001f3fb\U0001f3ff\U000e0001\U000e0041\U000e007f\U000e0100"
)
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
odd_text = st.text(
    st.sampled_from(
        list(UNSTEADY)
        + list(BIDI)
        + ["\x1b", "\x07", "\x9b", "\n", "\t", "a", "中", "\U0001f1e8", "\U0001f1f3", "👍", "❤", " "]
    )
)


@given(st.one_of(st.text(), odd_text))
def test_no_control_bidi_or_unsteady_character_survives(text: str) -> None:
    shown = display_line(text)
    assert not [c for c in shown if unicodedata.category(c) in ("Cc", "Cs") or c in BIDI or c in UNSTEADY]
    assert "\n" not in shown and "\t" not in shown
    assert display_line(shown) == shown  # idempotent: showing twice changes nothing


@given(odd_text)
def test_width_is_the_sum_of_its_characters(text: str) -> None:
    # Rich and terminals agree when no character depends on its neighbours for its width.
    shown = steady_width(display_line(text))
    assert cell_len(shown) == sum(cell_len(char) for char in shown)


def test_flags_read_as_letters() -> None:
    assert display_line("中国\U0001f1e8\U0001f1f3") == "中国CN"


@given(st.text())
def test_refusal_never_raises(url: str) -> None:
    refusal(url)
    refusal("http://" + url)
