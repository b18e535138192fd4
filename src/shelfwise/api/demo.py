"""``shelfwise demo`` serving the sample shop: build what is missing, start the service, print requests.

Requests printed for pasting use the admin key from ``$SHELFWISE_ADMIN_KEY`` (or ``api.admin_key_env``) by its
variable's name, never its value (a secret someone set in the environment does not belong on a screen or in a
terminal log); when it is unset the demo makes a random key for this run only, and prints that one (nothing is
hard-coded or stored).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from shelfwise.config import Settings
from shelfwise.storage import open_store

log = logging.getLogger(__name__)


def prepare_store(path: Path, settings: Settings) -> list[str]:
    """Build the item artifacts and train the recommender when the store lacks them; returns what ran."""
    done = []
    with open_store(path, create=False) as store:
        names = store.artifacts.names()
        if not {"item-vectors", "vector-index", "lexical-index", "query-vocabulary"} <= set(names):
            from shelfwise.build import build_item_artifacts

            log.info("building item artifacts (encoding the catalogue once)")
            build_item_artifacts(store, settings)
            done.append("build")
        if "recommender" not in names:
            from shelfwise.recommend import train_recommender

            log.info("training the recommender")
            train_recommender(store, settings)
            done.append("train")
    return done


def admin_key(settings: Settings) -> tuple[str, bool]:
    """The admin key from the environment, else a fresh random one set there for this process.

    Returns:
        ``(key, generated)``.
    """
    env = settings.api.admin_key_env
    key = os.environ.get(env)
    if key:
        return key, False
    key = "sw_demo_" + secrets.token_urlsafe(18)
    os.environ[env] = key
    return key, True


def key_reference(settings: Settings, key: str, generated: bool) -> str:
    """What the printed requests say for the admin key: the key itself when the demo made it for this run,
    else the environment variable it came from (``$SHELFWISE_ADMIN_KEY``, which the shell expands)."""
    return key if generated else f"${settings.api.admin_key_env}"


def ready_to_paste(url: str, key: str, user_id: str, item_id: str, query: str) -> list[tuple[str, str]]:
    """``(what, curl command)`` pairs that work against the running demo.

    Args:
        key: what to put after ``Bearer`` (see :func:`key_reference`: a variable reference when the key came
            from the environment).
    """
    auth = f'-H "Authorization: Bearer {key}"'
    js = '-H "Content-Type: application/json"'

    def post(path: str, body: dict[str, Any]) -> str:
        return f"curl -s {auth} {js} -X POST {url}{path} -d '{json.dumps(body)}'"

    return [
        ("readiness", f"curl -s {url}/health/ready"),
        ("home feed of a shopper", post("/v1/recommendations", {"user_id": user_id, "slot": "home", "k": 5})),
        ("similar items", post("/v1/recommendations", {"slot": "similar", "item_id": item_id, "k": 5})),
        (
            "bought together",
            post("/v1/recommendations", {"slot": "bought_together", "item_id": item_id, "k": 5}),
        ),
        (
            "more diverse feed",
            post("/v1/recommendations", {"user_id": user_id, "k": 5, "method": "mmr", "diversity": 0.8}),
        ),
        ("search", post("/v1/search", {"query": query, "k": 5})),
        ("autocomplete", f"curl -s {auth} '{url}/v1/search/suggest?prefix={query[:3]}'"),
        (
            "send a click (changes the next feed)",
            post("/v1/events", {"events": [{"user_id": user_id, "item_id": item_id, "type": "click"}]}),
        ),
        ("the shopper's profile", f"curl -s {auth} {url}/v1/users/{user_id}/profile"),
        (
            "start an A/B test",
            post(
                "/v1/experiments",
                {
                    "name": "diversity-test",
                    "variants": [
                        {"name": "control", "share": 0.5},
                        {"name": "diverse", "share": 0.5, "params": {"method": "mmr", "diversity": 0.6}},
                    ],
                },
            ),
        ),
        ("its results", f"curl -s {auth} {url}/v1/experiments/diversity-test/results"),
        ("a read-only key", post("/v1/keys", {"name": "storefront", "scopes": ["read"]})),
        ("metrics", f"curl -s {url}/metrics | grep shelfwise_request"),
        ("API docs", f"open {url}/docs"),
    ]
