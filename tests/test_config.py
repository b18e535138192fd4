from __future__ import annotations

from pathlib import Path

import pytest

from shelfwise.config import SettingsError, describe_settings, load_settings, parse_overrides


def test_precedence_defaults_file_env_overrides(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[ingest]\ndefault_currency = "GBP"\nmin_year = 2000\n')
    env = {"SHELFWISE__INGEST__MIN_YEAR": "2005", "SHELFWISE__INGEST__STRICT": "true"}
    s = load_settings(path, overrides=["ingest.min_year=2010"], environ=env)
    assert s.ingest.default_currency == "GBP"  # from the file
    assert s.ingest.strict is True  # from the environment
    assert s.ingest.min_year == 2010  # override beats both
    assert load_settings(environ={}).ingest.default_currency == "USD"


def test_unknown_keys_and_bad_values_name_the_key() -> None:
    with pytest.raises(SettingsError, match=r"ingest\.min_yaer"):
        load_settings(overrides=["ingest.min_yaer=3"], environ={})
    with pytest.raises(SettingsError, match=r"ingest\.min_year"):
        load_settings(overrides=["ingest.min_year=soon"], environ={})
    with pytest.raises(SettingsError, match="KEY=VALUE"):
        parse_overrides(["ingest.strict"])


def test_override_values_parse_as_json_or_text() -> None:
    assert parse_overrides(["a.b=1.5", "a.c=true", "d=[1,2]", "e=hello"]) == {
        "a": {"b": 1.5, "c": True},
        "d": [1, 2],
        "e": "hello",
    }


def test_every_key_is_described() -> None:
    rows = describe_settings()
    keys = [r[0] for r in rows]
    assert "ingest.default_currency" in keys and "privacy.pseudonymise" in keys
    own = ("ingest.", "privacy.", "evaluation.", "models.", "search.rrf_k", "search.candidates")
    assert all(description for key, _, description in rows if key.startswith(own))
    assert any(key.startswith("rerank.") for key in keys) and any(key.startswith("profiles.") for key in keys)
