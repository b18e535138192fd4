"""Consent: the flags and their defaults, and the one consented read every trained model and aggregate uses."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.privacy.consent import (
    Consent,
    ConsentBook,
    ConsentDefaults,
    consented_events,
    parse_flags,
    record_consent,
    stored_consent,
)
from shelfwise.privacy.releases import release_counts
from shelfwise.storage import Store, open_store


def test_a_record_overrides_the_defaults_flag_by_flag() -> None:
    assert Consent.of(None) == Consent(True, True, True)  # the documented default: opt-out
    assert Consent.of('{"training": false}') == Consent(True, True, False)
    opt_in = ConsentDefaults(personalisation=False, analytics=False, training=False)
    assert Consent.of(None, opt_in) == Consent(False, False, False)
    assert Consent.of({"personalisation": True}, opt_in) == Consent(True, False, False)
    assert Consent.of("not json", opt_in) == Consent(False, False, False)
    assert Consent.of('{"training": "no"}') == Consent(True, True, True)  # not a boolean: not a record


def test_flags_from_callers_are_checked() -> None:
    assert parse_flags({"training": "no", "analytics": True, "personalisation": "YES"}) == {
        "training": False,
        "analytics": True,
        "personalisation": True,
    }
    with pytest.raises(ValueError, match="unknown consent flag 'marketing'"):
        parse_flags({"marketing": True})
    with pytest.raises(ValueError, match="true/false"):
        parse_flags({"training": "maybe"})


def _shop(store: Store) -> None:
    with Ingestor(store, load_settings(environ={})) as ing:
        ing.ingest_table([{"item_id": f"i{n}", "title": f"item {n}"} for n in range(3)], "items")
        ing.ingest_table(
            [
                {"user_id": "yes", "consent": None},
                {"user_id": "no-training", "consent": '{"training": false}'},
                {"user_id": "opted-in", "consent": '{"training": true}'},
            ],
            "users",
        )
        ing.ingest_table(
            [
                {"user_id": u, "item_id": f"i{n % 3}", "type": "view", "timestamp": 1_700_000_000 + n}
                for n, u in enumerate(["yes", "no-training", "opted-in", "anon-1"] * 3)
            ],
            "events",
        )


def test_training_reads_leave_out_shoppers_who_withhold_it_and_their_events_stay(tmp_path: Path) -> None:
    with open_store(tmp_path / "s") as st:
        _shop(st)
        users = set(consented_events(st, "training", ["user_id"]).column("user_id").to_pylist())
        assert users == {"yes", "opted-in", "anon-1"}
        opt_in = ConsentDefaults(training=False)
        only = consented_events(st, "training", ["item_id"], default=opt_in)
        assert only.column_names == ["item_id"] and only.num_rows == 3  # only the recorded yes
        assert st.read_events(["user_id"], user_ids=["no-training"]).num_rows == 3  # still stored
        # aggregates too: a DP release counts no event of theirs (epsilon large: the noise is small)
        dp = load_settings(environ={}, overrides=["privacy.dp.epsilon_budget=1000"]).privacy.dp
        released = release_counts(st, "item", dp, epsilon=500.0)
        assert sum(released["counts"].values()) == pytest.approx(9, abs=1)  # 12 with theirs


def test_record_consent_keeps_the_other_flags_and_the_book_follows_the_log(tmp_path: Path) -> None:
    with open_store(tmp_path / "s") as st:
        _shop(st)
        book = ConsentBook.from_store(st)
        assert not book.allows("no-training", "training") and book.allows("anon-1", "training")
        current = stored_consent(st, "yes")
        record, seq = record_consent(st, "yes", {"personalisation": "no"}, current)
        assert record == {"personalisation": False, "analytics": True, "training": True}
        assert json.loads(st.read_users().to_pylist()[-1]["consent"]) == record  # ordered: "yes" last
        assert book.refresh(st) == ["yes"] and book.seq == seq
        assert not book.allows("yes", "personalisation")
        assert book.refresh(st) == []  # nothing new
        with pytest.raises(ValueError, match="no consent flag"):
            record_consent(st, "yes", {}, current)


def test_consented_events_keep_the_store_schema(tmp_path: Path) -> None:
    with open_store(tmp_path / "s") as st:
        _shop(st)
        everything = consented_events(st)
        assert everything.schema == st.read_events().schema
        assert isinstance(everything, pa.Table) and everything.num_rows == 9


def test_experiment_analytics_leave_out_shoppers_who_withhold_analytics(tmp_path: Path) -> None:
    import datetime as dt

    from shelfwise.experiments.analysis import analyse
    from shelfwise.experiments.config import Experiment, ExperimentSettings, Variant

    exp = Experiment(name="exp", variants=[Variant(name="control", share=0.5), Variant(name="b", share=0.5)])
    when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    users = ["u1", "u2", "u3", "u4"]
    with open_store(tmp_path / "s") as st:
        st.write_impressions(
            pa.table(
                {
                    "request_id": [f"r-{u}" for u in users],
                    "user_id": users,
                    "timestamp": [when] * 4,
                    "context": ["{}"] * 4,
                    "item_ids": [["i0"]] * 4,
                    "scores": [[1.0]] * 4,
                    "arm": ["exp:control", "exp:b", "exp:control", "exp:b"],
                }
            )
        )
        with Ingestor(st, load_settings(environ={})) as ing:
            ing.ingest_table(
                [
                    {
                        "user_id": u,
                        "item_id": "i0",
                        "type": "click",
                        "request_id": f"r-{u}",
                        "timestamp": 1_704_067_300,
                    }
                    for u in users
                ],
                "events",
            )
        counted = analyse(st, exp, ExperimentSettings())
        st.set_consent("u2", '{"analytics": false}')
        without = analyse(st, exp, ExperimentSettings())
        opt_in = analyse(st, exp, ExperimentSettings(), default_consent=ConsentDefaults(analytics=False))
    assert counted.attributed_events == 4 and without.attributed_events == 3
    assert opt_in.attributed_events == 0  # nobody recorded a yes


def test_dashboard_counts_leave_out_shoppers_who_withhold_analytics_or_training(tmp_path: Path) -> None:
    from shelfwise.privacy.consent import consented_counts

    with open_store(tmp_path / "s") as st:
        _shop(st)
        assert consented_counts(st, ["analytics"]) == st.counts()  # nobody withholds analytics yet
        counts = consented_counts(st)  # "no-training" withholds training: not in the statistics
        assert (counts["events"], counts["events_view"], counts["users_with_events"]) == (9, 9, 3)
        st.set_consent("anon-1", '{"analytics": false}')
        counts = consented_counts(st)
        assert (counts["events"], counts["users_with_events"]) == (6, 2)
        assert st.counts()["events"] == 12  # stored all the same
        opt_in = consented_counts(st, default=ConsentDefaults(analytics=False))
        assert opt_in["events"] == 0 and "events_view" not in opt_in


def test_the_consent_command_sets_shows_and_refuses_nonsense(tmp_path: Path) -> None:
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "shelfwise", "consent", *args, "--store", str(tmp_path / "s")]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300)

    with open_store(tmp_path / "s") as st:
        _shop(st)
    done = run("yes", "--training", "no", "--analytics", "no", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["changed"] and out["effective"] == {
        "personalisation": True,
        "analytics": False,
        "training": False,
    }
    shown = run("yes")
    assert shown.returncode == 0 and "training no" in shown.stdout and "personalisation yes" in shown.stdout
    bad = run("yes", "--training", "maybe")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "true/false" in bad.stderr
    with open_store(tmp_path / "s") as st:
        assert not stored_consent(st, "yes").training and st.consent_seq() == 3  # two records ingested, then this
