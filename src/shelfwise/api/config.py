"""Settings of the HTTP service (``[api]`` in shelfwise.toml, ``--set api.KEY=VALUE``)."""

from __future__ import annotations

from pydantic import Field

from shelfwise.config_base import Section


class RateLimitConfig(Section):
    """Token buckets per API key and scope: ``rate`` requests per second, bursts up to ``burst``.

    A rate of 0 turns the limit off for that scope (e.g. for a load test on loopback).
    """

    read_per_second: float = Field(50.0, ge=0, description="recommend / search / profile reads per key")
    events_per_second: float = Field(100.0, ge=0, description="event batches per key")
    admin_per_second: float = Field(20.0, ge=0, description="catalogue, users, experiments, keys per key")
    burst_seconds: float = Field(2.0, gt=0, description="bucket size = rate x this many seconds")
    # -- the front door (per client address / shopper; moving one-minute windows; 0 turns one off) --
    failed_auth_per_minute: int = Field(
        20, ge=0, description="failed sign-ins / invalid API keys per client address, then 429 for the minute"
    )
    shopper_writes_per_minute: int = Field(
        30,
        ge=0,
        description="storefront events (cart, product views) per shopper; views past it go unrecorded",
    )
    client_writes_per_minute: int = Field(
        120, ge=0, description="storefront events per client address, whatever the shopper cookie says"
    )


class CacheConfig(Section):
    """Response caches: per user (recommendations) and per query (search); events invalidate a user's."""

    ttl_seconds: float = Field(30.0, ge=0, description="time an entry lives; 0 turns the caches off")
    max_entries: int = Field(50_000, ge=0, description="entries per cache before the least recent go")


class ApiSettings(Section):
    """The HTTP service."""

    host: str = Field("127.0.0.1", description="address `shelfwise serve` binds (loopback by default)")
    port: int = Field(8000, ge=0, le=65535, description="port `shelfwise serve` binds")
    admin_key_env: str = Field(
        "SHELFWISE_ADMIN_KEY",
        description="environment variable whose value is accepted as an admin key (local use; never stored)",
    )
    access_log: bool = Field(
        True, description="log one line per request (method, route template, status, ms, request id; no ids)"
    )
    metrics_public: bool = Field(True, description="serve /metrics without a key (for a local scraper)")
    threads: int = Field(
        8, ge=1, le=256, description="requests computed at once (threads); more only contend on 2 cores"
    )
    max_k: int = Field(100, ge=1, description="largest k a request may ask for")
    max_batch: int = Field(10_000, ge=1, description="largest number of rows in one events / items request")
    impression_flush_seconds: float = Field(
        1.0, gt=0, description="impressions are buffered and written to the store this often"
    )
    follow_seconds: float = Field(
        1.0,
        gt=0,
        description="how often each worker polls the store for events, catalogue changes and deletions "
        "written by other processes (several workers on one store converge within about this long)",
    )
    # -- the front door (api/middleware.py, web/session.py) --
    max_body_bytes: int = Field(
        1 << 20, ge=1024, description="largest request body; larger ones get 413 before they are read (1 MiB)"
    )
    max_bulk_body_bytes: int = Field(
        32 << 20,
        ge=1024,
        description="largest body of the bulk writes POST /v1/events, /v1/items, /v1/items/delete (32 MiB)",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description='origins allowed cross-site (CORS off when empty), e.g. ["https://shop.example"]',
    )
    secret_key_env: str = Field(
        "SHELFWISE_SECRET_KEY",
        description="environment variable holding the key that signs page cookies; else the key file "
        "secret.key in $SHELFWISE_CONFIG_DIR (default ~/.config/shelfwise), outside the store",
    )
    session_hours: float = Field(8.0, gt=0, description="an admin sign-in on the pages lasts this long")
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
