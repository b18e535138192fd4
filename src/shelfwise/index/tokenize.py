"""Tokenisation of product text for the lexical index: English and Chinese.

Pipeline: Unicode NFKC (full-width to half-width) -> lower case -> possessive "'s" dropped -> split into runs of Han characters
and runs of letters/digits -> Han runs cut into words by jieba -> English stop words dropped -> English
words stemmed (Snowball, PyStemmer). Hyphenated words also yield their joined form ("t-shirt" -> "t",
"shirt", "tshirt") so that a query typed either way matches.

Example:
    >>> tok = Tokenizer(TokenizerConfig(stem=None))
    >>> tok("Men's T-Shirt, 100% cotton")
    ['men', 't', 'shirt', 'tshirt', '100', 'cotton']
"""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, Literal

from shelfwise.config_base import Section
from shelfwise.index._optional import require

logger = logging.getLogger(__name__)

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_HAN}]+|[^\W_]+(?:-[^\W_]+)*")
_HAN_RUN = re.compile(rf"[{_HAN}]")
_POSSESSIVE = re.compile(r"(?<=\w)['\u2019]s\b")

#: A short English stop list (articles, pronouns, prepositions, auxiliaries): product text is short, so
#: only words that never carry product meaning are dropped ("with" and "for" go; "no", "off", "up" stay).
ENGLISH_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "at",
        "by",
        "for",
        "with",
        "about",
        "to",
        "from",
        "in",
        "into",
        "on",
        "onto",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "he",
        "him",
        "his",
        "she",
        "her",
        "they",
        "them",
        "their",
        "as",
        "than",
        "then",
        "so",
        "such",
        "too",
        "very",
        "can",
        "will",
        "just",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "am",
    ]
)


class TokenizerConfig(Section):
    """Settings of :class:`Tokenizer`.

    Attributes:
        lowercase: fold case.
        stem: Snowball stemmer language for Latin-script words, or ``None``.
        stopwords: ``"en"`` drops :data:`ENGLISH_STOPWORDS`; ``None`` keeps everything.
        chinese: ``"jieba"`` segments Han text into words; ``"chars"`` emits single characters and
            bigrams (no dictionary needed).
        join_hyphenated: also emit the joined form of hyphenated words.
    """

    lowercase: bool = True
    stem: str | None = "english"
    stopwords: Literal["en"] | None = "en"
    chinese: Literal["jieba", "chars"] = "jieba"
    join_hyphenated: bool = True


@lru_cache(maxsize=1)
def _jieba() -> Any:
    jieba = require("jieba")
    jieba.setLogLevel(logging.WARNING)
    return jieba


def _han_words(run: str, mode: str) -> list[str]:
    if mode == "chars":
        chars = list(run)
        return chars + [a + b for a, b in itertools.pairwise(chars)]
    return [w for w in _jieba().lcut(run) if w.strip()]


class Tokenizer:
    """Callable that turns a string into index terms; also used on queries, so both sides agree.

    Args:
        config: settings.
    """

    def __init__(self, config: TokenizerConfig | None = None) -> None:
        self.config = config or TokenizerConfig()
        self._stop = ENGLISH_STOPWORDS if self.config.stopwords == "en" else frozenset()
        self._stemmer = None
        if self.config.stem:
            self._stemmer = require("Stemmer").Stemmer(self.config.stem)

    def __call__(self, text: str | None) -> list[str]:
        """Terms of one text (``None`` gives ``[]``)."""
        if not text:
            return []
        text = unicodedata.normalize("NFKC", str(text))
        if self.config.lowercase:
            text = text.lower()
        text = _POSSESSIVE.sub("", text)
        out: list[str] = []
        stop = self._stop
        for piece in _TOKEN.findall(text):
            if "-" in piece:
                parts = piece.split("-")
                if self.config.join_hyphenated:
                    parts.append("".join(parts))
                out.extend(w for w in parts if w not in stop)
            elif _HAN_RUN.match(piece):
                out.extend(_han_words(piece, self.config.chinese))
            elif piece not in stop:
                out.append(piece)
        if self._stemmer is not None and out:
            out = self._stemmer.stemWords(out)  # leaves digits and Han words as they are
        return out

    def many(self, texts: Iterable[str | None]) -> list[list[str]]:
        """Batch form of :meth:`__call__`."""
        return [self(t) for t in texts]
