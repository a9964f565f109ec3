"""Substring search over folded article text, fast enough to run on every keystroke.

Chinese has no spaces to split words on, so a term matches wherever it occurs as a
substring of an article's folded text (title, source name, body). Scanning 100k bodies
costs ~110 ms a query, so each article gets a signature of its UTF-16 unigrams, bigrams
and trigrams, stored bit-sliced (one packed bit row per signature row, one column per
article), and a query only checks the articles its grams' rows leave; the answer is
always exactly that of a plain scan. The modules, each using only those above it:

- `folding`: fold tables (`text.fold` as a lookup over UTF-16 units), bulk folding, the
  layout of texts joined by 0 units with byte offsets, the per-post cap;
- `vocabulary`: gram keys and hashing, the `Vocabulary` of grams with exact rows;
- `chunks`: the `Chunk` (a run of articles' texts and rows) and its signature
  builders, numpy and C (`native/signatures.c`, through `accel`);
- `index`: `SearchIndex`, the query engine;
- `folded_texts`: `FoldedTexts`, the search texts of posts as the loader reads them
  (C from raw UTF-8 when it can, `native/search_text.c`); `text_identity`, the identity
  of a post without a URL.

Texts are kept as one UTF-16-LE byte string per `Chunk` (as a loader batch or the cache
delivers them) with byte offsets, never as one `str` per article: chunks move between
processes and the cache as they are.

Deliberately not here: ranking (results are shown newest first), query syntax beyond
"all whitespace-separated terms must match".
"""

from __future__ import annotations

from reader.core.search.chunks import Chunk, build_chunk, signatures
from reader.core.search.folded_texts import FoldedTexts, text_identity
from reader.core.search.folding import (
    MAX_SEARCH_UNITS,
    SEPARATOR,
    Units,
    blank_units,
    fold_joined,
    fold_many,
    fold_prefix,
    fold_tables,
    text_of,
    text_offsets,
    units_of,
)
from reader.core.search.index import SearchIndex, SlotArray
from reader.core.search.vocabulary import (
    DEDICATED_ROWS,
    SIGNATURE_ROWS,
    Vocabulary,
    choose_vocabulary,
    make_vocabulary,
)

__all__ = [
    "DEDICATED_ROWS",
    "MAX_SEARCH_UNITS",
    "SEPARATOR",
    "SIGNATURE_ROWS",
    "Chunk",
    "FoldedTexts",
    "SearchIndex",
    "SlotArray",
    "Units",
    "Vocabulary",
    "blank_units",
    "build_chunk",
    "choose_vocabulary",
    "fold_joined",
    "fold_many",
    "fold_prefix",
    "fold_tables",
    "make_vocabulary",
    "signatures",
    "text_identity",
    "text_of",
    "text_offsets",
    "units_of",
]
