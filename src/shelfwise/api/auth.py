"""API keys with scopes, stored hashed; the FastAPI dependencies that check them and apply rate limits.

A key looks like ``sw_<key id>_<secret>``. Only the SHA-256 of the whole key is stored (store metadata
``api_keys``); keys are 192-bit random tokens, so a fast hash is safe and verification costs microseconds.
The key id makes lookup O(1); the comparison is constant-time.

Scopes: ``read`` (recommend, search, profiles), ``events`` (send events), ``admin`` (everything).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from shelfwise.api.config import ApiSettings
from shelfwise.api.errors import ApiError
from shelfwise.api.ratelimit import RateLimiter, WindowLimiter

Scope = Literal["read", "events", "admin"]
SCOPES: tuple[str, ...] = ("read", "events", "admin")
META_KEY = "api_keys"
ENV_KEY_ID = "env-admin"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """A stored key: never the key itself, only its hash."""

    key_id: str
    name: str
    scopes: tuple[str, ...]
    hash: str
    created_at: float
    rate_per_second: float | None = None  # overrides the scope's default rate when set

    def allows(self, scope: str) -> bool:
        """``admin`` allows everything; otherwise the scope must be granted."""
        return "admin" in self.scopes or scope in self.scopes

    def public(self) -> dict[str, Any]:
        """What may be shown about a key (no hash)."""
        return {
            "key_id": self.key_id,
            "name": self.name,
            "scopes": list(self.scopes),
            "created_at": self.created_at,
            "rate_per_second": self.rate_per_second,
        }


@dataclass
class KeyRing:
    """The keys of one service: stored ones plus the admin key from the environment (memory only).

    Args:
        store: where hashed keys persist (``get_meta`` / ``set_meta``); None keeps them in memory.
        env_admin_key: a key accepted with the admin scope (from ``api.admin_key_env``).
    """

    store: Any = None
    env_admin_key: str | None = None
    _keys: dict[str, ApiKey] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    #: called after a key is created or revoked (the service tells its other replicas to :meth:`reload`)
    on_change: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        self.reload()
        self._env_hash = _digest(self.env_admin_key) if self.env_admin_key else None

    def reload(self) -> None:
        """Read the stored keys again (another replica created or revoked one)."""
        if self.store is None:
            return
        rows = self.store.get_meta(META_KEY, []) or []
        keys = {k.key_id: k for k in (ApiKey(**{**r, "scopes": tuple(r["scopes"])}) for r in rows)}
        with self._lock:
            self._keys = keys

    @classmethod
    def from_settings(cls, store: Any, settings: ApiSettings) -> KeyRing:
        """Stored keys plus the admin key in ``$<api.admin_key_env>`` when it is set."""
        return cls(store=store, env_admin_key=os.environ.get(settings.admin_key_env) or None)

    def accept_admin_key(self, token: str) -> None:
        """Also accept ``token`` as an admin key (memory only; e.g. a key made for one run)."""
        self.env_admin_key = token
        self._env_hash = _digest(token)

    def _persist(self) -> None:
        if self.store is not None:
            self.store.set_meta(META_KEY, [asdict(k) for k in self._keys.values()])
        if self.on_change is not None:
            self.on_change()

    def create(
        self, name: str, scopes: list[str], rate_per_second: float | None = None
    ) -> tuple[str, ApiKey]:
        """Make a key; returns ``(the key, its record)``. The key is shown once and never stored."""
        bad = sorted(set(scopes) - set(SCOPES))
        if bad or not scopes:
            raise ApiError(422, "invalid_scope", f"unknown scopes {bad}; use some of {', '.join(SCOPES)}")
        key_id = secrets.token_hex(4)
        token = f"sw_{key_id}_{secrets.token_urlsafe(24)}"
        record = ApiKey(
            key_id, name, tuple(sorted(set(scopes))), _digest(token), time.time(), rate_per_second
        )
        with self._lock:
            self._keys[key_id] = record
            self._persist()
        return token, record

    def revoke(self, key_id: str) -> bool:
        """Delete a stored key; False when there is none with that id."""
        with self._lock:
            found = self._keys.pop(key_id, None) is not None
            if found:
                self._persist()
        return found

    def list(self) -> list[ApiKey]:
        """Stored keys (not the environment one)."""
        return sorted(self._keys.values(), key=lambda k: k.created_at)

    def verify(self, token: str) -> ApiKey | None:
        """The key record for ``token``, or None when it is not a valid key."""
        digest = _digest(token)
        if self._env_hash is not None and hmac.compare_digest(digest, self._env_hash):
            return ApiKey(ENV_KEY_ID, "admin key from the environment", ("admin",), self._env_hash, 0.0)
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "sw":
            return None
        record = self._keys.get(parts[1])
        if record is None or not hmac.compare_digest(digest, record.hash):
            return None
        return record

    def by_id(self, key_id: str) -> ApiKey | None:
        """The record of a key that is still accepted (a stored one, or the environment's admin key)."""
        if key_id == ENV_KEY_ID:
            if self._env_hash is None:
                return None
            return ApiKey(ENV_KEY_ID, "admin key from the environment", ("admin",), self._env_hash, 0.0)
        return self._keys.get(key_id)

    @property
    def empty(self) -> bool:
        """True when no key at all would be accepted."""
        return not self._keys and self._env_hash is None


_bearer = HTTPBearer(auto_error=False, description="an API key: `Authorization: Bearer sw_...`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key (alternative header)")


def _rate_for(settings: ApiSettings, scope: str, key: ApiKey) -> float:
    if key.rate_per_second is not None:
        return key.rate_per_second
    rl = settings.rate_limit
    return {"read": rl.read_per_second, "events": rl.events_per_second}.get(scope, rl.admin_per_second)


class Gatekeeper:
    """Checks API keys (and admin sign-ins on the pages) and limits failed attempts per client address.

    After ``failed_per_minute`` failures from one address within a minute, every attempt from it (valid or
    not) gets 429 with ``Retry-After`` until the window frees: otherwise a guesser could still tell a right
    key by its answer.

    Args:
        keys: the key ring.
        failed_per_minute: failures allowed per address and minute (0: unlimited).
        storage: where failures are counted (a ``limits`` storage; default in-process).
    """

    def __init__(self, keys: KeyRing, failed_per_minute: int, storage: Any = None) -> None:
        self.keys = keys
        self.failures = WindowLimiter(failed_per_minute, namespace="failed-auth", storage=storage)

    def authenticate(self, token: str | None, client: str) -> ApiKey:
        """The key record of ``token`` sent from address ``client``.

        Raises:
            ApiError: 429 when the address failed too often; 401 when the key is missing or not valid.
        """
        wait = self.failures.blocked(client)
        if wait > 0:
            raise ApiError(
                429,
                "too_many_failures",
                "too many failed authentications from this address; wait before trying again",
                fix=f"wait {round(wait + 0.5)} s (Retry-After), then send a valid key",
                headers={"Retry-After": str(max(1, round(wait + 0.5)))},
            )
        if not token:
            self.failures.hit(client)
            raise ApiError(
                401, "missing_key", "this route needs an API key", headers={"WWW-Authenticate": "Bearer"}
            )
        key = self.keys.verify(token)
        if key is None:
            self.failures.hit(client)
            raise ApiError(
                401,
                "invalid_key",
                "the API key is not valid (revoked or mistyped)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return key


def token_of(headers: dict[str, str]) -> str | None:
    """The API key of a request: ``X-API-Key``, else ``Authorization: Bearer`` (lower-case header names)."""
    header = headers.get("x-api-key", "").strip()
    if header:
        return header
    auth = headers.get("authorization", "")
    scheme, _, credentials = auth.partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


#: Where :class:`shelfwise.api.middleware.KeyGate` leaves the key it verified (``scope["state"]``).
VERIFIED = "api_key"


def require(scope: Scope) -> Any:
    """A dependency: the request must carry a valid key with ``scope``; rate limits apply per key and scope.

    The key itself is checked by :class:`shelfwise.api.middleware.KeyGate` before the body is read; this
    dependency takes the key the gate verified (or verifies it, in an app without the gate).
    """

    def check(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        header: Annotated[str | None, Depends(_header)],
    ) -> ApiKey:
        state = request.app.state
        key = request.scope.get("state", {}).get(VERIFIED)
        if not isinstance(key, ApiKey):
            token = header or (bearer.credentials if bearer else None)
            if not token:
                raise ApiError(
                    401, "missing_key", "this route needs an API key", headers={"WWW-Authenticate": "Bearer"}
                )
            key = state.keys.verify(token)
            if key is None:
                raise ApiError(
                    401,
                    "invalid_key",
                    "the API key is not valid (revoked or mistyped)",
                    headers={"WWW-Authenticate": "Bearer"},
                )
        if not key.allows(scope):
            raise ApiError(
                403, "missing_scope", f"this key has scopes {list(key.scopes)}; this route needs {scope!r}"
            )
        wait = state.limiter.take(f"{key.key_id}:{scope}", _rate_for(state.settings.api, scope, key))
        if wait > 0:
            state.metrics.rate_limited.labels(scope).inc()
            raise ApiError(
                429,
                "rate_limited",
                f"rate limit of the {scope!r} scope reached for this key",
                headers={"Retry-After": str(max(1, round(wait + 0.5)))},
            )
        return key

    return check


ReadKey = Annotated[ApiKey, Depends(require("read"))]
EventsKey = Annotated[ApiKey, Depends(require("events"))]
AdminKey = Annotated[ApiKey, Depends(require("admin"))]


def new_limiter(settings: ApiSettings) -> RateLimiter:
    """The rate limiter of an app."""
    return RateLimiter(burst_seconds=settings.rate_limit.burst_seconds)
