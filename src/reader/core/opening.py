"""Open one article for reading: re-read its file, parse the body, render it to width.

The store keeps only metadata and folded search text, so the body is read again here,
when the user opens the article (a few ms). Parsed documents are cached, so re-wrapping
after a resize or re-highlighting for a new query does not parse again. The HTML parser
(`html_blocks`: BeautifulSoup, lxml, soupsieve, ~170 ms of imports) is imported on first
use, not with this module, so the first screen does not wait for it;
`prepare_in_background` loads it meanwhile. That is the one import in a function here,
and it is for start-up time, not to dodge a cycle.
Deliberately not here: widgets; `render.py` turns the document into Rich text.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace

from reader.core.document import Document
from reader.core.files import NotRegularFile, decode, read_regular_file
from reader.core.frontmatter import FrontMatterError, split_front_matter
from reader.core.loading.reading import DEFAULT_MAX_BYTES
from reader.core.models import Article
from reader.core.render import RenderedArticle, render_article


def prepare_in_background() -> None:
    """Import the HTML parser in a thread, so the first open does not wait."""

    def load() -> None:
        import reader.core.html_blocks  # noqa: F401 - imported for its side effect: loaded modules

    threading.Thread(target=load, name="reader-prepare", daemon=True).start()


class ArticleUnavailable(Exception):
    """The article's file can no longer be read; the message says why, in one line."""


class ArticleOpener:
    """Reads, parses and renders articles, keeping the last few parsed documents."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, keep: int = 32) -> None:
        self.max_bytes = max_bytes
        self._documents: OrderedDict[str, Document] = OrderedDict()
        self._keep = keep

    def document(self, article: Article) -> Document:
        """The parsed body of `article` (cached by path)."""
        cached = self._documents.get(article.path)
        if cached is not None:
            self._documents.move_to_end(article.path)
            return cached
        from reader.core.html_blocks import parse_document

        document = parse_document(self._read_body(article.path))
        self._documents[article.path] = document
        if len(self._documents) > self._keep:
            self._documents.popitem(last=False)
        return document

    def render(self, article: Article, width: int, terms: tuple[str, ...] = ()) -> RenderedArticle:
        """The article laid out for a pane `width` cells wide, with `terms` highlighted."""
        # The header shows the article's own URL, the one `o` opens (see `links.py`).
        document = replace(self.document(article), url=article.url)
        return render_article(article.title, article.source_name, article.date_text, document, width, terms)

    def _read_body(self, path: str) -> str:
        try:
            data, _, _ = read_regular_file(path, self.max_bytes)
        except NotRegularFile:
            raise ArticleUnavailable("the file is no longer a regular file") from None
        except OSError as error:
            raise ArticleUnavailable(f"cannot read the file: {error.strerror or error}") from None
        if data is None or len(data) > self.max_bytes:
            raise ArticleUnavailable("the file has grown past the size limit")
        try:
            text, _ = decode(data)
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            return split_front_matter(text)[1]
        except (ValueError, FrontMatterError) as error:
            raise ArticleUnavailable(f"the file changed and is no longer a post: {error}") from None
