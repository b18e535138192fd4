"""The shared :class:`OnlineState`: one Redis (``redis://host:port/db?prefix=shop``) for every replica of a shop.

Every key starts with the shop's prefix (``?prefix=`` in the URL, else one derived from the store), so several
shops share one Redis. Under the prefix ``P``:

=========================  ================================================================  =====================
key                        what                                                              TTL
=========================  ================================================================  =====================
``P:kv:<key>``             :meth:`get` / :meth:`set` values and :meth:`incr` counters        as written
``P:gen:<owner>``          an owner's cache generation (``INCR`` on each invalidation)       1 day, renewed
``P:gencat``               the catalogue generation (``INCR`` on :meth:`invalidate_all`)     none
``P:c:<cache>:<key>``      a cached response (hash: ``v`` pickled value, ``o`` owner)        ``cache_ttl``
``P:lru:<cache>``          entries by last use (zset), trimmed to ``cache_max_entries``      -
``P:exp:<cache>``          entries by expiry (zset), to prune the LRU index                  -
``P:own:<owner>``          the entry keys of an owner (set)                                  ``cache_ttl``
``P:hold:<owner>``         the replica that last invalidated an owner; only it may cache     ``hold_seconds``
``P:holdcat``              the same for the catalogue                                        ``hold_seconds``
``P:caches``               the cache names (set)                                             none
``P:tb:<bucket>``          a token bucket (hash: tokens, time), one Lua step per request     refill time + 1 s
``P:replica:<id>``         a replica's follower cursors (hash), for operators to see lag     1 day, renewed
``P:ch:<channel>``         pub/sub channels (cache invalidations)                            -
=========================  ================================================================  =====================

Atomic steps run in Redis as Lua scripts (``register_script``): the token bucket, a cache write that checks the
generations it was computed under, an owner's invalidation, the LRU trim. Times inside scripts come from
Redis's ``TIME``, so replicas' clocks do not matter.

Replicas follow the store on their own (``api.follow_seconds``), so right after an event through replica A,
replica B may still compute that shopper's responses without it. So that B does not put such a response in the
cache every replica reads (A would serve it too), an invalidation leaves a *hold*: for ``hold_seconds`` only the
replica that invalidated may cache for that owner (B's follower then applies the event and invalidates again). Scripts touch keys derived inside them: a single Redis
(or a primary with replicas), not Redis Cluster.

Follower cursors say how far *this process* applied the store's logs; they are kept in the process (a Redis
restart must not make every replica replay the whole event log) and mirrored to ``P:replica:<id>``.

Cached responses are pickled: the Redis is trusted like the store is (do not expose it to the network).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import pickle
import queue
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from shelfwise.online.base import CURSORS, INVALIDATE_CHANNEL, Handler, OnlineState

log = logging.getLogger(__name__)

#: Seconds an owner's generation key lives after its last bump (longer than any request).
GENERATION_TTL = 86_400
#: Seconds a replica's mirrored cursors live after their last move.
REPLICA_TTL = 86_400

_TAKE_TOKEN = """
local rate = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(b[1]) or cap
local last = tonumber(b[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(cap / rate * 1000) + 1000)
return tostring(wait)
"""

# KEYS: owner generation, catalogue generation, entry, lru, exp, cache names, owner set, owner hold, catalogue hold
# ARGV: owner gen, catalogue gen, value, owner ('' = none), cache, ttl ms, max entries, key prefix, replica
_CACHE_PUT = """
local go = tonumber(redis.call('GET', KEYS[1]) or '0')
local gc = tonumber(redis.call('GET', KEYS[2]) or '0')
if go ~= tonumber(ARGV[1]) or gc ~= tonumber(ARGV[2]) then return 0 end
for _, hold in ipairs({KEYS[8], KEYS[9]}) do
  local by = redis.call('GET', hold)
  if by and by ~= ARGV[9] then return 0 end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[6])
local dead = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now)
for _, k in ipairs(dead) do redis.call('ZREM', KEYS[4], k) end
if #dead > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now) end
local before = redis.call('HGET', KEYS[3], 'o')
if before and before ~= '' and before ~= ARGV[4] then redis.call('SREM', ARGV[8] .. 'own:' .. before, KEYS[3]) end
redis.call('HSET', KEYS[3], 'v', ARGV[3], 'o', ARGV[4], 'c', ARGV[5])
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('ZADD', KEYS[4], now, KEYS[3])
redis.call('ZADD', KEYS[5], now + ttl, KEYS[3])
redis.call('SADD', KEYS[6], ARGV[5])
if ARGV[4] ~= '' then
  redis.call('SADD', KEYS[7], KEYS[3])
  redis.call('PEXPIRE', KEYS[7], ttl)
end
local extra = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[7])
if extra > 0 then
  for _, k in ipairs(redis.call('ZRANGE', KEYS[4], 0, extra - 1)) do
    local o = redis.call('HGET', k, 'o')
    if o and o ~= '' then redis.call('SREM', ARGV[8] .. 'own:' .. o, k) end
    redis.call('DEL', k)
    redis.call('ZREM', KEYS[5], k)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, extra - 1)
end
return 1
"""

# KEYS: entry, lru
_CACHE_GET = """
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return false end
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], 'XX', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), KEYS[1])
return v
"""

# KEYS: owner generation, owner set, owner hold; ARGV: owner, key prefix, generation ttl s, replica, hold ms
_INVALIDATE_OWNER = """
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
if tonumber(ARGV[5]) > 0 then redis.call('SET', KEYS[3], ARGV[4], 'PX', tonumber(ARGV[5])) end
local n = 0
for _, k in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local e = redis.call('HMGET', k, 'o', 'c')
  if e[1] == ARGV[1] then
    n = n + redis.call('DEL', k)
    redis.call('ZREM', ARGV[2] .. 'lru:' .. e[2], k)
    redis.call('ZREM', ARGV[2] .. 'exp:' .. e[2], k)
  end
end
redis.call('DEL', KEYS[2])
return n
"""

# KEYS: catalogue generation, cache names, catalogue hold; ARGV: key prefix, replica, hold ms
_INVALIDATE_ALL = """
redis.call('INCR', KEYS[1])
if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[3], ARGV[2], 'PX', tonumber(ARGV[3])) end
for _, c in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local lru = ARGV[1] .. 'lru:' .. c
  for _, k in ipairs(redis.call('ZRANGE', lru, 0, -1)) do redis.call('DEL', k) end
  redis.call('DEL', lru, ARGV[1] .. 'exp:' .. c)
end
return 1
"""

# KEYS: owner set; ARGV: owner
_HOLDS_OWNER = """
for _, k in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('HGET', k, 'o') == ARGV[1] then return 1 end
  redis.call('SREM', KEYS[1], k)
end
return 0
"""

# KEYS: cache names; ARGV: key prefix -> flat list name, size, ...
_CACHE_SIZES = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for _, c in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local lru, exp = ARGV[1] .. 'lru:' .. c, ARGV[1] .. 'exp:' .. c
  local dead = redis.call('ZRANGEBYSCORE', exp, '-inf', now)
  for _, k in ipairs(dead) do redis.call('ZREM', lru, k) end
  if #dead > 0 then redis.call('ZREMRANGEBYSCORE', exp, '-inf', now) end
  table.insert(out, c)
  table.insert(out, redis.call('ZCARD', lru))
end
return out
"""


class OnlineStateUnavailable(ConnectionError):
    """The shared online state cannot be reached (the message names the URL and what to do)."""


F = TypeVar("F", bound=Callable[..., Any])


def _reported(method: F) -> F:
    """Raise :class:`OnlineStateUnavailable` (a ``ConnectionError``, one line) for redis-py's connection errors,
    which are not ``ConnectionError`` s, so callers need not know the client library."""

    @functools.wraps(method)
    def wrapper(self: RedisOnlineState, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except self._errors as exc:
            raise OnlineStateUnavailable(f"the online state at {self.url} is unreachable ({exc})") from None

    return wrapper  # type: ignore[return-value]


def redact(url: str) -> str:
    """``url`` without a password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = f"{parts.username}:***@" if parts.username else ":***@"
    netloc = f"{user}{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def split_prefix(url: str) -> tuple[str, str | None]:
    """``(url without ?prefix=, the prefix or None)``: the prefix is ours, not a redis-py option."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((v for k, v in query if k == "prefix"), None)
    rest = urlencode([(k, v) for k, v in query if k != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefix or None


def prefix_for(store_url: str) -> str:
    """The default key prefix of a shop: a digest of its store's location (the same for every replica)."""
    return "shelfwise:" + hashlib.sha1(store_url.encode("utf-8")).hexdigest()[:12]


class RedisOnlineState(OnlineState):
    """Online state in one Redis, shared by every replica of a shop.

    Args:
        url: ``redis://[:password@]host:port/db`` (``rediss://`` for TLS; ``?prefix=`` sets the key prefix).
        prefix: the key prefix when the URL names none (default ``shelfwise``).
        cache_ttl: seconds a cached response lives (0 turns response caching off).
        cache_max_entries: entries per cache name before the least recently used go.
        replica: this process's name in the mirrored cursors (default host, pid and a random part).
        hold_seconds: after this replica invalidates an owner (or the catalogue), how long the *other* replicas
            may not cache responses for it: they may not have followed the change yet, and a response they
            computed without it would be served by every replica. Give it more than ``api.follow_seconds``.
        flush_seconds: how often the counts of :meth:`incr_many` are sent.
        connect_timeout: seconds to wait for Redis before :class:`OnlineStateUnavailable`.

    Raises:
        OnlineStateUnavailable: Redis does not answer ``PING``.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str | None = None,
        cache_ttl: float = 30.0,
        cache_max_entries: int = 50_000,
        replica: str | None = None,
        hold_seconds: float = 2.0,
        flush_seconds: float = 0.2,
        connect_timeout: float = 3.0,
    ) -> None:
        import redis

        bare, named = split_prefix(url)
        self.url = redact(url)
        self._bare = bare
        self.prefix = (named or prefix or "shelfwise").rstrip(":")
        self.p = self.prefix + ":"
        self.cache_ttl = cache_ttl
        self.cache_max_entries = cache_max_entries
        self.caching = cache_ttl > 0 and cache_max_entries > 0
        self._hold_ms = max(0, int(hold_seconds * 1000))
        self.replica = replica or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.client = redis.Redis.from_url(
            bare, socket_connect_timeout=connect_timeout, socket_timeout=30, health_check_interval=30
        )
        self._errors: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError)
        self._response_error = redis.ResponseError
        self.check()
        self._take = self.client.register_script(_TAKE_TOKEN)
        self._put = self.client.register_script(_CACHE_PUT)
        self._get = self.client.register_script(_CACHE_GET)
        self._inv_owner = self.client.register_script(_INVALIDATE_OWNER)
        self._inv_all = self.client.register_script(_INVALIDATE_ALL)
        self._holds = self.client.register_script(_HOLDS_OWNER)
        self._sizes = self.client.register_script(_CACHE_SIZES)
        self._cursors: dict[str, int] = {}
        self.flush_seconds = flush_seconds
        self._pending: Counter[str] = Counter()
        self._pending_lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        self._handlers: dict[str, list[Handler]] = {}
        self._lock = threading.Lock()
        self._requests: queue.Queue[tuple[str, str, threading.Event]] = queue.Queue()
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()
        self.listening = "not started"

    # -- health ------------------------------------------------------------------------------------
    def check(self) -> None:
        """Raise :class:`OnlineStateUnavailable` unless Redis answers ``PING``."""
        try:
            self.client.ping()
        except self._errors as exc:
            raise OnlineStateUnavailable(
                f"the online state at {self.url} is unreachable ({exc}); start Redis "
                '(`eval "$(bash scripts/dev_services.sh start)"`) or fix --state'
            ) from None

    def health(self) -> str:
        """``ok``, or what is wrong (for ``/health/ready``)."""
        try:
            self.check()
        except OnlineStateUnavailable as exc:
            return f"failed: {exc}"
        return "ok" if self.listening in ("ok", "not started") else f"failed: {self.listening}"

    # -- key / value -------------------------------------------------------------------------------
    def _kv(self, key: str) -> str:
        return f"{self.p}kv:{key}"

    @_reported
    def get(self, key: str) -> bytes | None:
        if key in self._pending:
            self.flush_counters()
        value: Any = self.client.get(self._kv(key))
        return None if value is None else bytes(value)

    @_reported
    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        if not isinstance(value, (bytes, bytearray)):
            raise TypeError(f"online state values are bytes, not {type(value).__name__} (use set_json)")
        self.client.set(self._kv(key), bytes(value), px=None if ttl is None else max(1, int(ttl * 1000)))

    @_reported
    def delete(self, *keys: str) -> int:
        return int(self.client.delete(*[self._kv(k) for k in keys])) if keys else 0

    @_reported
    def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        with self._pending_lock:
            amount += self._pending.pop(key, 0)  # this call carries what incr_many still holds for the key
        try:
            if ttl is None:
                return int(self.client.incrby(self._kv(key), amount))
            pipe = self.client.pipeline(transaction=True)
            pipe.set(self._kv(key), 0, nx=True, px=max(1, int(ttl * 1000)))
            pipe.incrby(self._kv(key), amount)
            return int(pipe.execute()[1])
        except self._response_error as exc:
            raise ValueError(f"the value at {key!r} is not an integer ({exc})") from None

    def incr_many(self, amounts: Mapping[str, int]) -> None:
        """Add to counters without waiting for Redis: summed here and sent in one pipeline every
        ``flush_seconds`` by a background thread (a request does not pay a round trip for its exposure
        counters; other replicas see them that much later; a crash loses at most that interval's counts).
        Reads through this object (:meth:`counters`, :meth:`get`, :meth:`incr`) include them at once."""
        with self._pending_lock:
            self._pending.update(amounts)
            if self._flusher is None:
                self._flusher = threading.Thread(
                    target=self._flush_loop, name="shelfwise-counters", daemon=True
                )
                self._flusher.start()

    def flush_counters(self) -> None:
        """Send the counts :meth:`incr_many` holds (one pipeline); kept for the next try when Redis fails."""
        with self._pending_lock:
            taken, self._pending = self._pending, Counter()
        if not taken:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for key, amount in taken.items():
                pipe.incrby(self._kv(key), amount)
            pipe.execute()
        except self._errors as exc:
            with self._pending_lock:
                self._pending.update(taken)
            log.warning("could not send counters to %s (kept for the next try): %s", self.url, exc)

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self.flush_counters()

    @_reported
    def counters(self, prefix: str) -> dict[str, int]:
        self.flush_counters()
        start = len(self._kv(""))
        pattern = _glob_escape(self._kv(prefix)) + "*"
        keys = list(self.client.scan_iter(match=pattern, count=1000))
        out: dict[str, int] = {}
        for k, v in zip(keys, self.client.mget(keys) if keys else [], strict=True):
            if v is None:
                continue
            try:
                out[k.decode("utf-8")[start:]] = int(v)
            except ValueError:
                continue
        return out

    # -- rate limits -------------------------------------------------------------------------------
    @_reported
    def _spend_token(self, bucket: str, rate: float, capacity: float) -> float:
        wait = self._take(keys=[f"{self.p}tb:{bucket}"], args=[repr(rate), repr(capacity)])
        return max(0.0, float(wait))

    def window_storage(self) -> Any:
        """A ``limits`` storage in this Redis under this shop's prefix (the moving-window limits)."""
        from limits.storage import RedisStorage

        return RedisStorage(self._bare, key_prefix=f"{self.p}limits")

    # -- pub / sub ---------------------------------------------------------------------------------
    @_reported
    def publish(self, channel: str, message: bytes) -> int:
        return int(self.client.publish(f"{self.p}ch:{channel}", message))

    def subscribe(self, channel: str, handler: Handler) -> Callable[[], None]:
        with self._lock:
            first = channel not in self._handlers
            self._handlers.setdefault(channel, []).append(handler)
            if self._listener is None:
                self._listener = threading.Thread(target=self._listen, name="shelfwise-online", daemon=True)
                self._listener.start()
        if first:  # the listener thread owns the pub/sub connection: ask it, wait for Redis to confirm
            done = threading.Event()
            self._requests.put(("subscribe", f"{self.p}ch:{channel}", done))
            if not done.wait(10):
                log.warning("Redis did not confirm the subscription to %s within 10 s", channel)

        def unsubscribe() -> None:
            with self._lock:
                handlers = self._handlers.get(channel, [])
                if handler in handlers:
                    handlers.remove(handler)

        return unsubscribe

    def _listen(self) -> None:
        """The listener thread: subscribes on request, delivers messages, reconnects after Redis restarts."""
        pubsub = self.client.pubsub()
        waiting: dict[str, threading.Event] = {}
        self.listening = "ok"
        while not self._stop.is_set():
            try:
                while not self._requests.empty():
                    _, name, done = self._requests.get_nowait()
                    waiting[name] = done
                    pubsub.subscribe(name)
                message = pubsub.get_message(timeout=0.1)
                if self.listening != "ok":
                    log.info("the online state's listener is back on %s", self.url)
                    self.listening = "ok"
            except self._errors as exc:
                if self.listening == "ok":
                    log.warning("the online state's listener lost %s: %s; retrying", self.url, exc)
                self.listening = f"pub/sub on {self.url} lost: {exc}"
                time.sleep(0.5)
                continue
            if message is None:
                continue
            name = message["channel"].decode("utf-8")
            if message["type"] == "subscribe" and name in waiting:
                waiting.pop(name).set()
            elif message["type"] == "message":
                self._deliver(name[len(self.p) + 3 :], message["data"])
        pubsub.close()

    def _deliver(self, channel: str, data: bytes) -> None:
        with self._lock:
            handlers = list(self._handlers.get(channel, ()))
        for handler in handlers:
            try:
                handler(bytes(data))
            except Exception:
                log.exception("a handler of %s failed", channel)

    # -- response caches ---------------------------------------------------------------------------
    def _gen_key(self, owner: str | None) -> str:
        return f"{self.p}gen:{owner}" if owner else f"{self.p}gen:"

    @_reported
    def generation(self, owner: str | None) -> tuple[int, int]:
        mine, cat = self.client.mget([self._gen_key(owner), f"{self.p}gencat"])
        return (int(mine or 0), int(cat or 0))

    @_reported
    def cache_get(self, cache: str, key: str) -> Any:
        if not self.caching:
            return None
        raw = self._get(keys=[f"{self.p}c:{cache}:{key}", f"{self.p}lru:{cache}"])
        return None if raw is None else pickle.loads(raw)  # written by this shop's replicas only

    @_reported
    def cache_put(
        self, cache: str, key: str, value: Any, *, owner: str | None, generation: tuple[int, int]
    ) -> bool:
        if not self.caching:
            return False
        p = self.p
        keys = [
            self._gen_key(owner),
            f"{p}gencat",
            f"{p}c:{cache}:{key}",
            f"{p}lru:{cache}",
            f"{p}exp:{cache}",
            f"{p}caches",
            f"{p}own:{owner or ''}",
            f"{p}hold:{owner or ''}",
            f"{p}holdcat",
        ]
        args: list[bytes | str | int] = [
            int(generation[0]),
            int(generation[1]),
            pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL),
            owner or "",
            cache,
            max(1, int(self.cache_ttl * 1000)),
            int(self.cache_max_entries),
            p,
            self.replica,
        ]
        return bool(self._put(keys=keys, args=args))

    @_reported
    def invalidate_owner(self, owner: str) -> int:
        dropped = int(
            self._inv_owner(
                keys=[self._gen_key(owner), f"{self.p}own:{owner}", f"{self.p}hold:{owner}"],
                args=[owner, self.p, GENERATION_TTL, self.replica, self._hold_ms],
            )
        )
        self.publish(INVALIDATE_CHANNEL, owner.encode())
        return dropped

    @_reported
    def invalidate_all(self) -> None:
        self._inv_all(
            keys=[f"{self.p}gencat", f"{self.p}caches", f"{self.p}holdcat"],
            args=[self.p, self.replica, self._hold_ms],
        )
        self.publish(INVALIDATE_CHANNEL, b"*")

    @_reported
    def holds_owner(self, owner: str) -> bool:
        return bool(self._holds(keys=[f"{self.p}own:{owner}"], args=[owner]))

    @_reported
    def cache_sizes(self) -> dict[str, int]:
        flat = self._sizes(keys=[f"{self.p}caches"], args=[self.p])
        return {flat[i].decode("utf-8"): int(flat[i + 1]) for i in range(0, len(flat), 2)}

    # -- follower cursors (this process's, mirrored for operators) ---------------------------------
    def cursor(self, name: str) -> int:
        with self._lock:
            return self._cursors.get(name, 0)

    def advance_cursor(self, name: str, value: int) -> int:
        if name not in CURSORS:
            raise ValueError(f"unknown cursor {name!r}; one of {', '.join(CURSORS)}")
        with self._lock:
            current = self._cursors.get(name, 0)
            if value <= current:
                return current
            self._cursors[name] = int(value)
        try:
            key = f"{self.p}replica:{self.replica}"
            pipe = self.client.pipeline(transaction=False)
            pipe.hset(key, name, int(value))
            pipe.expire(key, REPLICA_TTL)
            pipe.execute()
        except self._errors as exc:  # the mirror is for operators; following goes on without it
            log.warning("could not mirror cursor %s to %s: %s", name, self.url, exc)
        return int(value)

    def close(self) -> None:
        self._stop.set()
        for thread in (self._listener, self._flusher):
            if thread is not None:
                thread.join(timeout=5)
        self.flush_counters()
        self.client.close()


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a Redis ``MATCH`` pattern."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)
