"""One typed settings tree for shelfwise: defaults here, a TOML file, environment, then ``--set`` overrides.

Settings are passed in, never read from a global. Precedence, lowest first:

1. the defaults below (each field documents itself);
2. a TOML file: ``--config FILE``, else ``shelfwise.toml`` inside the store folder when present;
3. environment variables ``SHELFWISE__SECTION__KEY=value`` (double underscores between levels);
4. ``--set section.key=value`` overrides (repeatable), echoed in JSON outputs.

Unknown keys are errors that name the key, so a typo never silently does nothing.

Example:
    >>> s = load_settings(overrides=["ingest.default_currency=EUR"])
    >>> s.ingest.default_currency
    'EUR'
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from shelfwise.api.config import ApiSettings
from shelfwise.assistant.config import AssistantSettings
from shelfwise.config_base import Section
from shelfwise.encoders.base import EncoderConfig
from shelfwise.encoders.item_text import ItemTextConfig
from shelfwise.experiments.config import ExperimentSettings
from shelfwise.index.lexical_fields import LexicalIndexConfig
from shelfwise.index.vector_exact import VectorIndexConfig
from shelfwise.privacy.consent import ConsentDefaults
from shelfwise.privacy.dp_config import DPSettings
from shelfwise.privacy.dp_training import DPTrainingSettings
from shelfwise.privacy.retention import RetentionDays
from shelfwise.profiles.config import ProfileConfig
from shelfwise.recommend.config import RecommendSettings
from shelfwise.rerank.config import RerankConfig
from shelfwise.search.config import SearchPipelineConfig

ENV_PREFIX = "SHELFWISE__"


class IngestSettings(Section):
    """How rows are validated and normalised on the way in."""

    default_currency: str = Field("USD", description="ISO 4217 code for prices given without a currency")
    max_future_seconds: int = Field(
        86_400, description="timestamps later than now + this are quarantined as clock errors"
    )
    min_year: int = Field(1990, description="timestamps before this year are quarantined")
    strict: bool = Field(False, description="exit non-zero when any row was quarantined")
    max_field_bytes: int = Field(
        2_097_152,
        gt=0,
        description="a row with a field longer than this (UTF-8 bytes) is quarantined; the rest of the file loads",
    )
    max_id_length: int = Field(
        256, gt=0, description="ids longer than this (characters) are quarantined: the API's cap on ids"
    )
    rating_min: float = Field(0.0, description="lowest value of a rating (or review) event")
    rating_max: float = Field(5.0, description="highest value of a rating (or review) event")
    unknown_items: Literal["accept", "quarantine"] = Field(
        "accept",
        description="events on items absent from the catalogue: accept (counted, catalogues arrive late) or quarantine",
    )
    batch_rows: int = Field(
        250_000,
        gt=0,
        description="accepted rows written per transaction: a crash keeps the batches written before it "
        "(smaller batches lose less to a crash but cost more: each one de-duplicates against the whole store)",
    )


class PrivacySettings(Section):
    """Pseudonymisation of shopper ids, PII scrubbing, DP releases, consent defaults and retention."""

    pseudonymise: bool = Field(
        False,
        description="replace user ids by a keyed hash (HMAC-SHA256) on ingestion; fixed when the store is created",
    )
    key_env: str = Field(
        "SHELFWISE_PSEUDONYMISE_KEY",
        description="environment variable holding the key; else the key file pseudonymise.key in $SHELFWISE_CONFIG_DIR (default ~/.config/shelfwise), outside the store",
    )
    scrub_pii: bool = Field(
        True,
        description="replace e-mails, phones, card numbers, IBANs, national ids and street addresses in free "
        "text (search queries, user attributes, quarantined raw rows) by typed placeholders on ingestion",
    )
    dp: DPSettings = Field(default_factory=DPSettings)
    default_consent: ConsentDefaults = Field(
        default_factory=ConsentDefaults,
        description="consent flags of a shopper with no recorded choice (privacy/consent.py says why)",
    )
    retention_days: RetentionDays = Field(
        default_factory=RetentionDays, description="days each kind of shopper data is kept"
    )
    purge_every_hours: float = Field(
        24.0,
        ge=0,
        description="the service applies retention this often (0: never; `shelfwise purge` by hand)",
    )
    dp_training: DPTrainingSettings = Field(default_factory=DPTrainingSettings)


class EvaluationSettings(Section):
    """The offline evaluation protocol (defaults: the published Amazon Beauty protocol)."""

    split: str = Field(
        "leave-one-out", description="leave-one-out | temporal | given (a split shipped with the data)"
    )
    ks: list[int] = Field(default_factory=lambda: [5, 10, 20], description="cut-offs K of every @K metric")
    tie_break_seed: int = Field(0, description="seed of the random tie-break (never by item id)")
    exclude_history: bool = Field(
        False,
        description="mask the user's own history items from the ranking (default: rankable, as published)",
    )
    sampled: int | None = Field(
        None, description="rank the target among this many sampled negatives instead of all items (labelled)"
    )
    event_types: list[str] | None = Field(
        None, description="event types that count as interactions (None = all)"
    )
    folds: int = Field(5, description="by-query folds of the search evaluation")
    report_valid: bool = Field(
        False, description="also report the validation split (model fitted on train only)"
    )


class ItemKNNSettings(Section):
    """Item-kNN baseline (implicit)."""

    k: int = Field(20, description="neighbours per item (20 is best on Beauty validation, history rankable)")
    similarity: Literal["bm25", "cosine"] = Field("bm25", description="bm25 | cosine")


class ALSSettings(Section):
    """ALS baseline (implicit)."""

    factors: int = Field(256, description="latent dimensions")
    regularization: float = Field(10.0, description="L2 weight")
    alpha: float = Field(40.0, description="confidence scale of observed interactions")
    iterations: int = Field(15, description="ALS sweeps")


class ProfileRetrieverSettings(Section):
    """The profile vector used as a retriever (tuned on Beauty validation, benchmarks/bench_profiles.py)."""

    short_weight: float = Field(
        1.0, description="weight of the short-term (session) vector against the long-term one"
    )
    short_half_life_events: float = Field(
        0.5, description="each newer event halves the weight of this many older"
    )


class ModelSettings(Section):
    """Hyper-parameters of every model, by model name."""

    itemknn: ItemKNNSettings = Field(default_factory=ItemKNNSettings)
    als: ALSSettings = Field(default_factory=ALSSettings)
    profile: ProfileRetrieverSettings = Field(default_factory=ProfileRetrieverSettings)


class SearchSettings(Section):
    """Product search: lexical index, text encoder, vector index, fusion."""

    lexical: LexicalIndexConfig = Field(
        default_factory=LexicalIndexConfig, description="lexical index (BM25) settings"
    )
    encoder: EncoderConfig = Field(default_factory=EncoderConfig, description="text encoder settings")
    vector: VectorIndexConfig = Field(default_factory=VectorIndexConfig, description="vector index settings")
    item_text: ItemTextConfig = Field(default_factory=ItemTextConfig, description="how an item becomes text")
    rrf_k: int = Field(60, description="reciprocal rank fusion constant: score = sum 1 / (rrf_k + rank)")
    candidates: int = Field(1000, description="candidates taken from each retriever before fusion")
    pipeline: SearchPipelineConfig = Field(
        default_factory=SearchPipelineConfig, description="the search pipeline (shelfwise search, API)"
    )


class Settings(Section):
    """The whole tree. New sections are added here as their subsystems land."""

    ingest: IngestSettings = Field(default_factory=IngestSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)
    models: ModelSettings = Field(default_factory=ModelSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    profiles: ProfileConfig = Field(default_factory=ProfileConfig)
    rerank: RerankConfig = Field(default_factory=RerankConfig)
    recommend: RecommendSettings = Field(default_factory=RecommendSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    experiments: ExperimentSettings = Field(default_factory=ExperimentSettings)
    assistant: AssistantSettings = Field(default_factory=AssistantSettings)
    seed: int = Field(0, description="seed of every random component unless a section sets its own")


class SettingsError(ValueError):
    """A configuration value or key is wrong; the message says which and why."""


def _parse_value(raw: str) -> Any:
    """Parse an override value: JSON when it parses (numbers, booleans, lists), else the plain string."""
    low = raw.strip().lower()
    if low in {"true", "false"}:
        return low == "true"
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _set_path(tree: dict[str, Any], dotted: str, value: Any) -> None:
    parts = [p for p in dotted.split(".") if p]
    if not parts:
        raise SettingsError(f"empty configuration key in override {dotted!r}")
    node = tree
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise SettingsError(f"{dotted!r}: {part!r} is a value, not a section")
        node = child
    node[parts[-1]] = value


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_overrides(overrides: Iterable[str]) -> dict[str, Any]:
    """Turn ``["a.b=1", "c=x"]`` into a nested dict; raises :class:`SettingsError` on a malformed item."""
    tree: dict[str, Any] = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise SettingsError(f"override {item!r} must look like KEY=VALUE, e.g. ingest.strict=true")
        _set_path(tree, key.strip(), _parse_value(raw))
    return tree


def env_overrides(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Collect ``SHELFWISE__SECTION__KEY`` variables into a nested dict."""
    env = os.environ if environ is None else environ
    tree: dict[str, Any] = {}
    for name, raw in env.items():
        if name.startswith(ENV_PREFIX) and len(name) > len(ENV_PREFIX):
            dotted = name[len(ENV_PREFIX) :].lower().replace("__", ".")
            _set_path(tree, dotted, _parse_value(raw))
    return tree


def load_settings(
    path: Path | None = None,
    *,
    overrides: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build :class:`Settings` from defaults, an optional TOML file, the environment and overrides.

    Raises:
        SettingsError: unknown key, wrong type or unreadable file, with the key path in the message.
    """
    tree: dict[str, Any] = {}
    if path is not None:
        try:
            tree = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"cannot read settings file {path}: {exc}") from exc
    tree = _merge(tree, env_overrides(environ))
    tree = _merge(tree, parse_overrides(overrides))
    try:
        return Settings.model_validate(tree)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise SettingsError(f"invalid settings: {problems}") from exc


def describe_settings() -> list[tuple[str, Any, str]]:
    """Every key with its default and description: ``(dotted_key, default, description)``."""
    rows: list[tuple[str, Any, str]] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            ann = info.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                walk(ann, f"{prefix}{name}.")
            else:
                rows.append(
                    (f"{prefix}{name}", info.get_default(call_default_factory=True), info.description or "")
                )

    walk(Settings, "")
    return rows
