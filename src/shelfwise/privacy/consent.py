"""A shopper's consent: three flags, the default for a shopper with no record, and how each is honoured.

Flags (the users table's ``consent`` column, a JSON object; ingest reads it from the users file, and
``PUT /v1/users/{id}/consent`` / ``shelfwise consent`` set it):

``personalisation``
    recommendations and search may use the shopper's history and profile. Without it they answer as for an
    anonymous shopper (``personalised: false`` with the reason), no live profile is built or served, and the
    stored profile is deleted when the flag is withdrawn.
``analytics``
    the shopper's impressions and exposures count in dashboard and experiment analytics (no experiment arm
    is assigned and impressions are logged without the user key when it is off).
``training``
    the shopper's events may be learned from: every trained model and every aggregate (popularity, DP
    releases) reads events through :func:`consented_events`, which leaves them out.

**Default** (``privacy.default_consent``): all three flags on. The store holds events the shop collected
under its own legal basis; for first-party recommendations, aggregate statistics and model training that
basis is usually legitimate interest (GDPR Art. 6(1)(f)) with a right to object (Art. 21), so a missing
record means "not objected", and a recorded ``false`` (the objection) is honoured at the next request. A
shop that relies on opt-in consent (Art. 6(1)(a)) instead sets the defaults to ``false``: then only
shoppers with a recorded ``true`` are personalised, counted or trained on. A record with some flags
missing takes the default for those.

Changes are logged by the store (``consent_seq`` / ``read_consent_changes``), so every serving process
picks them up at its next follower tick (:class:`ConsentBook`); the process that took the change applies
it at once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from shelfwise.config_base import Section

__all__ = [
    "FLAGS",
    "Consent",
    "ConsentBook",
    "ConsentDefaults",
    "Flag",
    "consented_counts",
    "consented_events",
    "drop_withheld",
    "parse_flags",
    "personal_key",
    "record_consent",
    "stored_consent",
    "withheld_users",
]

_YES = frozenset({"yes", "true", "on", "1"})
_NO = frozenset({"no", "false", "off", "0"})
Flag = Literal["personalisation", "analytics", "training"]
FLAGS: tuple[Flag, ...] = ("personalisation", "analytics", "training")


class ConsentDefaults(Section):
    """``privacy.default_consent``: the flags of a shopper with no recorded choice (see the module doc)."""

    personalisation: bool = Field(
        True, description="personalise a shopper with no recorded choice (legitimate interest, opt-out)"
    )
    analytics: bool = Field(True, description="count a shopper with no recorded choice in analytics")
    training: bool = Field(
        True, description="train models and aggregates on a shopper with no recorded choice"
    )


@dataclass(frozen=True)
class Consent:
    """One shopper's effective consent (record merged over the defaults)."""

    personalisation: bool = True
    analytics: bool = True
    training: bool = True

    def allows(self, flag: Flag) -> bool:
        """Whether the flag is on."""
        return bool(getattr(self, flag))

    def to_dict(self) -> dict[str, bool]:
        """JSON-ready."""
        return asdict(self)

    @classmethod
    def of(cls, record: str | Mapping[str, Any] | None, default: ConsentDefaults | None = None) -> Consent:
        """The effective consent of a stored record (JSON text or a mapping; None = no record)."""
        base = (default or ConsentDefaults()).model_dump()
        flags = _record(record)
        return cls(**{f: bool(flags.get(f, base[f])) for f in FLAGS})


def _record(record: str | Mapping[str, Any] | None) -> dict[str, Any]:
    if record is None:
        return {}
    parsed: Any = record
    if isinstance(record, str):
        try:
            parsed = json.loads(record)
        except ValueError:
            return {}
    if not isinstance(parsed, Mapping):
        return {}
    return {k: v for k, v in parsed.items() if k in FLAGS and isinstance(v, bool)}


def parse_flags(values: Mapping[str, Any]) -> dict[str, bool]:
    """Validate flags given by a caller (API body, CLI options): known names, booleans or yes/no.

    Raises:
        ValueError: an unknown flag or a value that is not a boolean; the message names it and the fix.
    """
    out: dict[str, bool] = {}
    for name, value in values.items():
        if name not in FLAGS:
            raise ValueError(f"unknown consent flag {name!r}; known: {', '.join(FLAGS)}")
        if isinstance(value, bool):
            out[name] = value
        elif isinstance(value, str) and value.strip().lower() in _YES | _NO:
            out[name] = value.strip().lower() in _YES
        else:
            raise ValueError(f"consent flag {name!r} must be true/false (yes/no), not {value!r}")
    return out


def stored_consent(store: Any, user_id: str, default: ConsentDefaults | None = None) -> Consent:
    """A shopper's effective consent read from the store's users table (the defaults when unrecorded)."""
    users = store.read_users()
    rows = users.filter(pc.equal(users.column("user_id"), user_id)).column("consent").to_pylist()
    return Consent.of(rows[0] if rows else None, default)


def personal_key(store: Any, user_id: str | None, default: ConsentDefaults | None = None) -> str | None:
    """``user_id`` when the shopper allows personalisation, else None (answer as for an anonymous shopper):
    for one-off callers such as the CLI; a service uses its :class:`ConsentBook`."""
    if user_id is None or stored_consent(store, user_id, default).personalisation:
        return user_id
    return None


def record_consent(
    store: Any, user_id: str, flags: Mapping[str, Any], current: Consent
) -> tuple[dict[str, bool], int]:
    """Store a change of consent: the given flags over ``current`` (the effective consent before), all three
    recorded explicitly so a later change of the defaults does not change a choice the shopper made.

    Returns:
        ``(record, consent_seq)``.

    Raises:
        ValueError: an unknown flag or a non-boolean value (see :func:`parse_flags`), or no flag at all.
    """
    given = parse_flags(flags)
    if not given:
        raise ValueError(f"no consent flag given; set one of {', '.join(FLAGS)}")
    record = {**current.to_dict(), **given}
    return record, int(store.set_consent(user_id, json.dumps(record, sort_keys=True)))


def _recorded(users: pa.Table) -> pa.Table:
    """The users rows that carry a consent record (most shoppers of a large shop have none)."""
    return users.filter(pc.is_valid(users.column("consent")))


def withheld_users(store: Any, flag: Flag, default: ConsentDefaults | None = None) -> tuple[set[str], bool]:
    """Who may not be used for ``flag``, read from the store's users table.

    Returns:
        ``(users, invert)``: when the default allows the flag, ``users`` are those whose record says no and
        ``invert`` is false; when the default denies it, ``users`` are the only ones whose record says yes
        and ``invert`` is true (everyone else is withheld).
    """
    default = default or ConsentDefaults()
    allowed_by_default = bool(getattr(default, flag))
    users = _recorded(store.read_users())
    ids = users.column("user_id").to_pylist()
    records = users.column("consent").to_pylist()
    picked = set()
    for uid, rec in zip(ids, records, strict=True):
        if rec is None:
            continue
        says = _record(rec).get(flag)
        if says is None:
            continue
        if says is not allowed_by_default:
            picked.add(str(uid))
    return picked, not allowed_by_default


def drop_withheld(
    events: pa.Table, store: Any, flag: Flag = "training", default: ConsentDefaults | None = None
) -> pa.Table:
    """``events`` (with a ``user_id`` column) without the rows of shoppers whose consent withholds ``flag``."""
    users, invert = withheld_users(store, flag, default)
    if not users and not invert:
        return events
    member = pc.is_in(events.column("user_id"), value_set=pa.array(sorted(users), pa.string()))
    keep = member if invert else pc.invert(member)
    return events.filter(pc.fill_null(keep, not invert))  # a row without a shopper: as the default says


def consented_events(
    store: Any,
    flag: Flag = "training",
    columns: Sequence[str] | None = None,
    *,
    types: Sequence[str] | None = None,
    default: ConsentDefaults | None = None,
) -> pa.Table:
    """The store's events a purpose may use: ``read_events`` without the events of shoppers whose consent
    withholds ``flag``. Every trained model and aggregate reads its events here (``flag="training"``);
    their events stay stored."""
    cols = list(columns) if columns is not None else None
    read = [*cols, "user_id"] if cols is not None and "user_id" not in cols else cols
    events = drop_withheld(store.read_events(read, types=types), store, flag, default)
    return events.select(cols) if cols is not None else events


def consented_counts(
    store: Any, flags: Sequence[Flag] = ("analytics", "training"), default: ConsentDefaults | None = None
) -> dict[str, int]:
    """``store.counts()`` with the events (total, per type, shoppers with events) and impressions of shoppers
    who withhold any of ``flags`` left out: what a dashboard shows (statistics are analytics, and an aggregate
    of their events). Equal to ``store.counts()`` when nobody withholds."""
    counts = dict(store.counts())
    if not any(any(withheld_users(store, f, default)) for f in flags):
        return counts
    events = store.read_events(["user_id", "type"])
    impressions = store.read_impressions()
    for flag in flags:
        events = drop_withheld(events, store, flag, default)
        impressions = drop_withheld(impressions, store, flag, default)
    counts = {k: v for k, v in counts.items() if not k.startswith("events_")}
    counts["events"] = events.num_rows
    counts["users_with_events"] = len(pc.unique(events.column("user_id")))
    for row in pc.value_counts(events.column("type")).to_pylist():
        counts[f"events_{row['values']}"] = int(row["counts"])
    counts["impressions"] = impressions.num_rows
    return counts


class ConsentBook:
    """The consent of shoppers as one serving process knows it: recorded choices over the defaults.

    Loaded from the store, kept current by :meth:`refresh` (the follower's tick reads the store's consent log
    after the last seen ``seq``) and by :meth:`record` for changes this process made itself.
    """

    def __init__(self, default: ConsentDefaults | None = None) -> None:
        self.default = default or ConsentDefaults()
        self._records: dict[str, Consent] = {}
        self._seq = 0
        self._lock = threading.Lock()

    @property
    def seq(self) -> int:
        """The newest consent log entry applied."""
        return self._seq

    def get(self, user_id: str | None) -> Consent:
        """The effective consent of a shopper (the defaults for an anonymous or unrecorded one)."""
        found = self._records.get(user_id) if user_id is not None else None
        return found if found is not None else Consent.of(None, self.default)

    def allows(self, user_id: str | None, flag: Flag) -> bool:
        """Whether ``user_id`` consents to ``flag`` (an anonymous request has no record: the default)."""
        return self.get(user_id).allows(flag)

    def record(
        self, user_id: str, consent: str | Mapping[str, Any] | None, seq: int | None = None
    ) -> Consent:
        """Apply one shopper's stored consent; returns the effective one."""
        effective = Consent.of(consent, self.default)
        with self._lock:
            self._records[user_id] = effective
            if seq is not None:
                self._seq = max(self._seq, int(seq))
        return effective

    def forget(self, user_id: str) -> None:
        """Drop a deleted shopper's record."""
        with self._lock:
            self._records.pop(user_id, None)

    @classmethod
    def from_store(cls, store: Any, default: ConsentDefaults | None = None) -> ConsentBook:
        """Every recorded choice in the store's users table, current to its consent log."""
        book = cls(default)
        seq = int(store.consent_seq())  # read first: a change racing with the read is re-read by refresh
        users = _recorded(store.read_users())
        for user, consent in zip(*(users.column(c).to_pylist() for c in ("user_id", "consent")), strict=True):
            if consent is not None:
                book.record(str(user), consent)
        book._seq = seq
        return book

    def gate(self, flag: Flag) -> Callable[[str], bool]:
        """A predicate ``user_id -> allowed`` for ``flag`` that follows this book's changes."""
        return lambda user_id: self.allows(user_id, flag)

    def refresh(self, store: Any) -> list[str]:
        """Apply the store's consent changes after :attr:`seq`; returns the shoppers whose consent changed."""
        if store.consent_seq() <= self._seq:
            return []
        table = store.read_consent_changes(self._seq)
        changed = []
        for seq, user, consent in zip(
            *(table.column(c).to_pylist() for c in ("seq", "user_id", "consent")), strict=True
        ):
            before = self.get(user)
            if self.record(user, consent, seq) != before:
                changed.append(user)
        return changed
