"""Moved to `reader.core.search.folded_texts`; this name stays while imports move over.

Import `FoldedTexts` from `reader.core.search` (or `reader.core.search.folded_texts`).
"""

from __future__ import annotations

from reader.core import accel
from reader.core.search.folded_texts import FoldedTexts

__all__ = ["FoldedTexts", "accel"]
