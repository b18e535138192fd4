"""The search pipeline on the demo shop (`shelfwise demo` + `shelfwise build`): real indexes, real encoder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from shelfwise.cli import app
from shelfwise.search import SearchPipeline, SearchRequest
from shelfwise.search.personal import personalised_order
from shelfwise.storage import ArtifactNotFoundError, open_store
from tests.search.conftest import search_settings as _settings


@pytest.fixture()
def pipe(demo_store: Path) -> Iterator[SearchPipeline]:
    with open_store(demo_store, create=False) as st:
        yield SearchPipeline.load(st, _settings())


def test_load_without_build_says_to_run_build(tmp_path: Path) -> None:
    from shelfwise.demo import run_demo

    run_demo(tmp_path / "raw")
    with (
        open_store(tmp_path / "raw", create=False) as st,
        pytest.raises(ArtifactNotFoundError, match="build"),
    ):
        SearchPipeline.load(st, _settings())


def test_brand_from_the_query_ranks_and_an_explicit_price_filters(pipe: SearchPipeline) -> None:
    resp = pipe.search(SearchRequest("gorilla glue under 20", k=10))
    assert resp.parsed["filters"]["brand"] == ["Gorilla"]
    assert resp.parsed["filters"]["price_max"] == 20.0
    uses = {c["field"]: c["use"] for c in resp.parsed["constraints"]}
    assert uses == {"brand": "boost", "price": "filter"}
    assert resp.applied_filters == {"price_max": 20.0} and resp.results and not resp.relaxed
    for hit in resp.results:
        item = pipe.catalog.items[hit.item_id]
        assert item.price is not None and item.price <= 20.0
        assert hit.reason and set(hit.breakdown) >= {"lexical", "dense", "fused", "relevance"}
    brands = [pipe.catalog.items[h.item_id].brand for h in resp.results]
    assert brands[:4] == ["Gorilla"] * 4, "the brand read from the query ranks first"
    assert any(b != "Gorilla" for b in brands), "...but is not a filter: other glues under $20 still show"
    assert "glue" in resp.results[0].title.lower()
    assert sum(resp.facets["brand"].values()) == resp.total


def test_impossible_constraint_is_relaxed_and_said(pipe: SearchPipeline) -> None:
    cheapest = min(i.price for i in pipe.catalog.items.values() if i.brand == "Gorilla" and i.price)
    limit = int(cheapest) - 1
    assert limit > 0
    resp = pipe.search(SearchRequest(f"gorilla glue under {limit}", k=5))
    assert resp.results, "relaxation must avoid an empty page"
    assert len(resp.relaxed) == 1 and "price" in resp.relaxed[0]
    assert "price_max" not in resp.applied_filters
    strict = pipe.search(SearchRequest("gorilla glue", k=5, filters={"price_max": limit, "brand": "Gorilla"}))
    assert strict.results and any("price" in r for r in strict.relaxed)


def test_explicit_filters_and_browse(pipe: SearchPipeline) -> None:
    cat = "Industrial & Scientific > Tapes, Adhesives & Sealants"
    resp = pipe.search(SearchRequest("", k=20, filters={"category": cat, "price_max": 15}))
    expected = sum(
        1
        for i in pipe.catalog.items.values()
        if i.category.startswith(cat.lower()) and i.price is not None and i.price <= 15
    )
    assert resp.total == expected > 0
    assert all(pipe.catalog.items[h.item_id].price <= 15 for h in resp.results)
    page2 = pipe.search(SearchRequest("", k=20, offset=20, filters={"category": cat, "price_max": 15}))
    assert not {h.item_id for h in resp.results} & {h.item_id for h in page2.results}


def test_catalogue_changes_reach_both_indexes(pipe: SearchPipeline) -> None:
    new = {"item_id": "NEW-1", "title": "Zyxquartz hyperflux capacitor", "brand": "Zyx", "price": 12.0}
    assert pipe.upsert_items([new]) == 1
    resp = pipe.search(SearchRequest("zyxquartz capacitor", k=3, use_query_filters=False))
    assert resp.results[0].item_id == "NEW-1"
    assert resp.results[0].breakdown["lexical"] > 0 and resp.results[0].breakdown["dense"] > 0.3
    assert pipe.delete_items(["NEW-1"]) == 1
    after = pipe.search(SearchRequest("zyxquartz capacitor", k=10, use_query_filters=False))
    assert "NEW-1" not in {h.item_id for h in after.results}


def test_a_new_brand_is_understood_and_suggested_without_a_rebuild(pipe: SearchPipeline) -> None:
    pipe.observe([{"user_id": "u9", "type": "search", "query": "gorilla tape heavy duty"}])
    before = pipe.search(SearchRequest("Quorvane kettle under 30", k=5))
    assert "brand" not in before.parsed["filters"] and not pipe.suggest("quorv")
    new = [
        {
            "item_id": f"QV-{n}",
            "title": f"Quorvane electric kettle {n}",
            "brand": "Quorvane",
            "category": "Kitchen > Kettles",
            "price": 20.0 + n,
        }
        for n in range(2)
    ]
    assert pipe.upsert_items(new) == 2
    resp = pipe.search(SearchRequest("Quorvane kettle under 30", k=5))
    assert resp.parsed["filters"]["brand"] == ["Quorvane"] and resp.parsed["filters"]["price_max"] == 30.0
    assert {h.item_id for h in resp.results[:2]} == {"QV-0", "QV-1"}, "the new brand ranks first"
    assert "quorvane" in pipe.suggest("quorv")
    assert pipe.search(SearchRequest("quorvan kettle", k=3)).parsed["corrected"] == "quorvane kettle"
    assert pipe.suggest("gorilla t", k=3)[0] == "gorilla tape heavy duty"  # past queries kept


def test_suggest_prefers_past_queries_then_catalogue(pipe: SearchPipeline) -> None:
    assert any(s.startswith("gorilla") for s in pipe.suggest("gor"))
    pipe.observe([{"user_id": "u9", "type": "search", "query": "gorilla tape heavy duty"}] * 2)
    assert pipe.suggest("gorilla t", k=3)[0] == "gorilla tape heavy duty"


def test_personalisation_reorders_only_below_strong_matches(pipe: SearchPipeline) -> None:
    base = pipe.search(SearchRequest("tape", k=40, user_id="fan", personalise=False))
    ids = [h.item_id for h in base.results]
    liked = ids[-1]  # a weaker match the shopper keeps buying
    pipe.observe(
        [{"user_id": "fan", "item_id": liked, "type": "purchase", "timestamp": 1.7e9 + n} for n in range(5)]
    )
    mine = pipe.search(SearchRequest("tape", k=40, user_id="fan"))
    new_ids = [h.item_id for h in mine.results]
    assert new_ids.index(liked) < ids.index(liked), "the shopper's item moves up"
    assert new_ids[0] == ids[0], "the strongest textual match stays first"
    assert mine.results[new_ids.index(liked)].breakdown["personal"] > 0


def test_personalised_order_never_puts_a_weak_match_above_a_strong_one() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        text = rng.random(30)
        order, _ = personalised_order(text, rng.random(30), weight=0.9, strong=0.8)
        scaled = (text - text.min()) / (text.max() - text.min())
        strong = scaled[order] >= 0.8
        assert not np.any(np.diff(strong.astype(int)) > 0), "no strong match after a weak one"


def test_cli_search_json(demo_store: Path) -> None:
    out = CliRunner().invoke(
        app, ["search", "gorilla glue", "--store", str(demo_store), "--k", "3", "--json"]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert len(data["results"]) == 3
    assert set(data["results"][0]) >= {"item_id", "title", "score", "reason"}
    assert data["parsed"]["normalized"] == "gorilla glue"
    assert data["parsed"]["filters"]["brand"] == ["Gorilla"]
    assert data["parsed"]["intent"] in {"navigational_brand", "specific_product"}


def test_train_search_then_search_uses_the_ranker(demo_store: Path, tmp_path: Path) -> None:
    import shutil

    from shelfwise.data.ingest import Ingestor

    store = tmp_path / "copy"
    shutil.copytree(demo_store, store)
    with open_store(store, create=False) as st:
        pipe = SearchPipeline.load(st, _settings())
        rows = ["query,item_id,relevance"]
        for q in ("glue", "tape", "safety glasses", "filament", "gloves", "multimeter"):
            for hit in pipe.search(SearchRequest(q, k=12, use_query_filters=False)).results:
                rel = 4 if q.split()[-1].rstrip("s") in hit.title.lower() else 1
                rows.append(f'"{q}",{hit.item_id},{rel}')
        (tmp_path / "j.csv").write_text("\n".join(rows) + "\n")
        with Ingestor(st, _settings()) as ing:
            ing.ingest_path(tmp_path / "j.csv", "judgements")
    runner = CliRunner()
    out = runner.invoke(app, ["train-search", "--no-cross-encoder", "--store", str(store), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["queries"] == 6
    out = runner.invoke(app, ["search", "duct tape", "--store", str(store), "--k", "3", "--json"])
    assert out.exit_code == 0, out.output
    assert "ranker" in json.loads(out.stdout)["results"][0]["breakdown"]


def test_a_restart_finds_items_added_after_the_build(demo_store: Path, tmp_path: Path) -> None:
    """An item stored after ``shelfwise build`` is searchable and suggested after a restart, with no
    rebuild; the manifests name the catalogue state they were built from."""
    import shutil

    from shelfwise.config import load_settings as _load
    from shelfwise.data.ingest import Ingestor

    store = tmp_path / "copy"
    shutil.copytree(demo_store, store)
    manifest = json.loads((store / "artifacts" / "lexical-index" / "v0001" / "manifest.json").read_text())
    row = {
        "item_id": "CRIMSON-1",
        "title": "Crimson Velvet Red Lipstick",
        "brand": "Velvetine",
        "category": "Beauty > Makeup > Lipstick",
        "price": 14.0,
        "available": True,
    }
    with open_store(store, create=False) as st:
        assert manifest["catalogue_seq"] == st.catalogue_seq()
        Ingestor(st, _load(environ={})).ingest_table([row], "items")
        pipe = SearchPipeline.load(st, _settings())  # the restart
        again = pipe.catch_up(st)
        assert again["items_applied"] == 0 and again["catalogue_seq"] == st.catalogue_seq()
    hits = pipe.search(SearchRequest("crimson lipstick", k=5)).results
    assert hits and hits[0].item_id == "CRIMSON-1"
    assert any(s.startswith("crimson") for s in pipe.suggest("crim"))
    assert pipe.search(SearchRequest("velvetine", k=5)).parsed["filters"].get("brand") == ["Velvetine"]


def test_catch_up_replays_stored_events_once(demo_store: Path, tmp_path: Path) -> None:
    import shutil

    from shelfwise.config import load_settings as _load
    from shelfwise.data.ingest import Ingestor

    store = tmp_path / "copy"
    shutil.copytree(demo_store, store)
    with open_store(store, create=False) as st:
        pipe = SearchPipeline.load(st, _settings())
        item = next(iter(pipe.catalog.items))
        before = pipe.catalog.items[item].popularity
        Ingestor(st, _load(environ={})).ingest_table(
            [
                {
                    "event_id": "late-buy",
                    "user_id": "late-u",
                    "item_id": item,
                    "type": "purchase",
                    "timestamp": 1_738_700_000,
                }
            ],
            "events",
        )
        rows = st.read_events(
            ["event_id", "user_id", "item_id", "type", "value", "query", "timestamp", "seq"],
            after_seq=st.max_event_seq() - 1,
        ).to_pylist()
        assert pipe.observe(rows) == 1  # applied on write
        report = pipe.catch_up(st)  # and handed over again by the store's feed
        assert report["events_applied"] == 0 and report["event_seq"] == st.max_event_seq()
    assert pipe.catalog.items[item].popularity == before + 5.0


def test_catch_up_forgets_a_shopper_deleted_in_the_store(demo_store: Path, tmp_path: Path) -> None:
    import shutil

    store = tmp_path / "copy"
    shutil.copytree(demo_store, store)
    with open_store(store, create=False) as st:
        pipe = SearchPipeline.load(st, _settings())
        assert pipe.profiles is not None and pipe.profiles.states
        user = sorted(pipe.profiles.states)[0]
        st.delete_user(user)  # another replica deleted them
        report = pipe.catch_up(st)
        assert report["users_forgotten"] == 1 and report["deletion_seq"] == st.deletion_seq()
        assert pipe.catch_up(st)["users_forgotten"] == 0
    assert user not in pipe.profiles.states
    assert pipe.forget_user(user) == {"profile": False}
