"""Settings of the search pipeline (``[search.pipeline]`` in the settings tree)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shelfwise.config_base import Section

#: Constraint keys the parser can extract (see :meth:`~shelfwise.search.query.ParsedQuery.filters`).
QUERY_CONSTRAINTS = ("brand", "category", "colour", "colour_exclude", "size", "price")


class CrossEncoderConfig(Section):
    """The cross-encoder re-ranking feature: MiniLM fine-tuned on graded (query, item) labels."""

    enabled: bool = Field(
        False,
        description="fine-tune and use the cross-encoder (off: on this CPU budget it did not improve held-out "
        "NDCG and costs ~100 ms per query on the top 50; benchmarks/results/evaluate_crowdflower_search_shelfwise.md)",
    )
    max_length: int = Field(64, description="tokens of query + item text per pair")
    layers: int = Field(
        4, ge=1, le=6, description="transformer layers of MiniLM kept (fewer = faster, on a CPU budget)"
    )
    trainable_layers: int | None = Field(
        2, description="full fine-tuning updates only the top N layers and the head (None = every weight)"
    )
    quantize: bool = Field(True, description="dynamic int8 linear layers for scoring (2-3x faster on CPU)")
    max_judged_per_query: int | None = Field(
        8, description="judged pairs per training query used for fine-tuning, sampled (None = all)"
    )
    epochs: float = Field(1.0, description="passes over the training pairs")
    batch_size: int = Field(16, description="pairs per optimisation step")
    learning_rate: float = Field(3e-5, description="AdamW learning rate of the encoder (LoRA uses 10x)")
    head: Literal["cosine", "linear"] = Field(
        "cosine",
        description="cosine of the query's and the item's token states read jointly (starts near the "
        "bi-encoder), or a linear layer on the pooled pair",
    )
    head_learning_rate: float = Field(2e-3, description="AdamW learning rate of the linear head")
    lora: bool = Field(False, description="train LoRA adapters (peft) instead of every weight")
    lora_rank: int = Field(8, description="LoRA rank")
    negatives_per_query: int = Field(
        3, description="unjudged top hybrid candidates per training query added with gain 0"
    )
    depth: int = Field(30, description="candidates per query scored by the cross-encoder")
    threads: int = Field(1, description="torch threads for training and scoring")
    seed: int = Field(0, description="seed of initialisation and shuffling")


class RankerConfig(Section):
    """The learned re-ranker: LightGBM lambdarank over retrieval, text-match, cross-encoder and other features."""

    enabled: bool = Field(True, description="train LightGBM (false: fused retrieval order only)")
    depth: int = Field(100, description="candidates per query re-scored by the ranker")
    n_estimators: int = Field(150, description="boosting rounds (early stopping may keep fewer)")
    learning_rate: float = Field(0.05, description="shrinkage")
    num_leaves: int = Field(15, description="leaves per tree")
    min_child_samples: int = Field(40, description="minimum rows per leaf")
    feature_fraction: float = Field(0.8, description="share of features per tree")
    threads: int = Field(1, description="LightGBM threads")
    early_stopping_rounds: int = Field(40, description="stop when the held-out NDCG@10 stalls this long")
    train_negatives: int = Field(
        60, description="top unjudged hybrid candidates per training query, labelled gain 0"
    )
    judged_groups: bool = Field(
        True,
        description="also train on each query's judged items alone (the graded order without the presumed "
        "negatives)",
    )
    valid_fraction: float = Field(
        0.0, ge=0, lt=1, description="share of training queries held out for early stopping (0 = none)"
    )
    cross_fit_folds: int = Field(
        2, description="inner folds giving out-of-fold cross-encoder scores for the ranker's training rows"
    )
    seed: int = Field(0, description="seed of the early-stopping split")


class SearchPipelineConfig(Section):
    """How a search request is answered (retrieval depth, query constraints, relaxation, personalisation)."""

    depth: int = Field(200, description="candidates taken from each of the lexical and dense indexes")
    retrieval_text: Literal["search_text", "original"] = Field(
        "search_text",
        description="text the indexes search: the parser's corrected text without price phrases, or the raw query",
    )
    query_filters: list[str] = Field(
        default_factory=lambda: ["price"],
        description="constraints read from the query text that become hard filters (default: only an explicit "
        "price limit such as 'under $10'; the others are ranking evidence with a confidence). Any of "
        + ", ".join(QUERY_CONSTRAINTS),
    )
    relevance_floor: float = Field(
        0.5,
        ge=0,
        le=1,
        description="calibrated probability of relevance from which a candidate is a confident match (the "
        "match count and the main list hold only these; the rest go to more_results)",
    )
    calibration: tuple[float, float, float, float] = Field(
        (-4.455, 4.295, 6.534, -1.546),
        description="logistic relevance mapping (intercept, concept coverage, cosine, coverage x cosine "
        "relative to the best candidate), fitted on CrowdFlower's judgements and half of the labelled demo-shop "
        "queries by benchmarks/bench_search_calibration.py --demo (benchmarks/results/search_calibration.md)",
    )
    price_buckets: int = Field(5, ge=2, le=10, description="price facet buckets (quantiles, rounded edges)")
    relax_order: list[str] = Field(
        default_factory=lambda: ["colour", "size", "price", "category", "brand", "colour_exclude"],
        description="constraints dropped one by one, in this order, while the result would be empty",
    )
    fusion: Literal["rrf", "linear"] = Field(
        "rrf", description="candidate fusion before re-ranking: reciprocal rank or learned linear"
    )
    personal_weight: float = Field(
        0.15, ge=0, lt=1, description="boost of a full personal affinity, in units of the text-score range"
    )
    strong_match: float = Field(
        0.85, ge=0, le=1, description="scaled text score from which personalisation cannot demote a result"
    )
    facet_limit: int = Field(20, description="categories / brands listed per facet")
    ranker: RankerConfig = Field(default_factory=RankerConfig)
    cross_encoder: CrossEncoderConfig = Field(default_factory=CrossEncoderConfig)
