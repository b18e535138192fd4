"""Shop-managed search rules: synonyms and redirects, applied at query time without a rebuild.

Stored as one JSON object in the store's meta (key :data:`META_KEY`), so every process serving the store
reads the same rules: the API writes them (admin key), and each pipeline re-reads them when it catches up
with the store (:meth:`~shelfwise.search.pipeline.SearchPipeline.catch_up`).

- ``synonyms``: ``word -> [alternatives]``; a query word also matches (and retrieves) its alternatives
  ("sellotape" -> ["tape"]). One-way: add the reverse entry for both ways.
- ``redirects``: ``query -> URL``; the response carries ``redirect`` (results are still returned).

Example:
    >>> rules = SearchRules.from_json({"synonyms": {"Sellotape": ["tape"]}, "redirects": {"Gift Cards": "/gift"}})
    >>> rules.synonyms, rules.redirect_for("  gift   CARDS ")
    ({'sellotape': ['tape']}, '/gift')
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

#: The store meta key holding the rules.
META_KEY = "search_rules"


def _key(text: str) -> str:
    return " ".join(str(text).lower().split())


@dataclass(frozen=True)
class SearchRules:
    """Synonyms and redirects of one shop (keys normalised: lower case, single spaces)."""

    synonyms: dict[str, list[str]] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> SearchRules:
        """Rules from their JSON form (a dict or a JSON string); raises ``ValueError`` saying what is wrong."""
        if isinstance(data, str):
            data = json.loads(data)
        if data is None:
            return cls()
        if not isinstance(data, dict) or set(data) - {"synonyms", "redirects"}:
            raise ValueError('rules must be an object with "synonyms" and/or "redirects"')
        syn = data.get("synonyms") or {}
        red = data.get("redirects") or {}
        if not isinstance(syn, dict) or not all(isinstance(v, list) for v in syn.values()):
            raise ValueError('"synonyms" must map a word to a list of alternatives')
        if not isinstance(red, dict) or not all(isinstance(v, str) and v.strip() for v in red.values()):
            raise ValueError('"redirects" must map a query to a URL')
        return cls(
            {_key(k): [_key(x) for x in v if str(x).strip()] for k, v in syn.items() if _key(k)},
            {_key(k): v.strip() for k, v in red.items() if _key(k)},
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"synonyms": self.synonyms, "redirects": self.redirects}

    def redirect_for(self, query: str) -> str | None:
        """The redirect URL of ``query``, or ``None``."""
        return self.redirects.get(_key(query))


def load_rules(store: Any) -> SearchRules:
    """The store's rules (empty when it has none)."""
    return SearchRules.from_json(store.get_meta(META_KEY))


def save_rules(store: Any, rules: SearchRules) -> None:
    """Write the store's rules (every serving process picks them up when it next catches up)."""
    store.set_meta(META_KEY, rules.to_json())
