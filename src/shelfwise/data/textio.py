"""Small text helpers for loaders: open plain / gzip / zip files in place, strip HTML to plain text.

Example:
    >>> strip_html("<p>Soft&nbsp;cotton</p><br/><style>.x {color: red}</style>Machine wash")
    'Soft cotton Machine wash'
"""

from __future__ import annotations

import gzip
import html
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import IO

_WS = re.compile(r"\s+")
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "noscript"})


@contextmanager
def open_text(path: Path, member: str | None = None, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """Open a text file for reading, decompressing ``.gz`` and ``.zip`` in place (nothing is extracted).

    Args:
        path: the file. A ``.zip`` must hold exactly one file unless ``member`` names one.
        member: the file inside a ``.zip`` to read.
        encoding: text encoding of the (decompressed) content.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if a zip holds several files and ``member`` is not given.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding=encoding, newline="") as fh:
            yield fh
    elif path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/") and not n.startswith("__MACOSX/")]
            if member is None:
                if len(names) != 1:
                    raise ValueError(f"{path} holds {len(names)} files {names}; pass member=")
                member = names[0]
            with zf.open(member) as raw:
                yield io.TextIOWrapper(raw, encoding=encoding, newline="")
    else:
        with path.open("r", encoding=encoding, newline="") as fh:
            yield fh


class _TextExtractor(HTMLParser):
    """Collect the text content of an HTML fragment, dropping script/style blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        self.parts.append(" ")  # every tag separates words: "<td>a</td><td>b</td>" -> "a b"

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS and self._skip:
            self._skip -= 1
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def strip_html(text: str | None) -> str:
    """Return the plain text of an HTML(-ish) fragment: tags and script/style dropped, entities decoded,
    whitespace collapsed to single spaces. Plain text passes through (whitespace-normalised)."""
    if not text:
        return ""
    if "<" not in text and "&" not in text:
        return _WS.sub(" ", text).strip()
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    return _WS.sub(" ", html.unescape("".join(parser.parts)).replace("\xa0", " ")).strip()


def clean_text(text: str | None) -> str | None:
    """Decode HTML entities and collapse whitespace; empty -> ``None`` (for titles, names)."""
    if text is None:
        return None
    out = _WS.sub(" ", html.unescape(text).replace("\xa0", " ")).strip()
    return out or None
