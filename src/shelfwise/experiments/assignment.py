"""Deterministic sticky assignment: the same user and salt always land in the same arm.

``bucket(salt, user)`` is the first 60 bits of SHA-256 over ``salt + ":" + user`` read as a number in
[0, 1); arms take consecutive intervals of that range in proportion to their shares. No state is kept, so
every replica agrees, and changing one experiment's salt re-shuffles it independently of the others.

Example:
    >>> from shelfwise.experiments.config import Experiment, Variant
    >>> exp = Experiment(name="e1", variants=[Variant(name="a", share=0.5), Variant(name="b", share=0.5)])
    >>> assign(exp, "user-1") == assign(exp, "user-1")
    True
"""

from __future__ import annotations

import hashlib

from shelfwise.experiments.config import Experiment, Variant

_SCALE = float(1 << 60)


def bucket(salt: str, user_id: str) -> float:
    """A uniform number in [0, 1) fixed by ``(salt, user_id)``."""
    digest = hashlib.sha256(f"{salt}:{user_id}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 4) / _SCALE


def assign(experiment: Experiment, user_id: str) -> Variant:
    """The arm of ``user_id`` in ``experiment``."""
    u = bucket(experiment.salt or experiment.name, user_id)
    edge = 0.0
    for variant in experiment.variants:
        edge += variant.share
        if u < edge:
            return variant
    return experiment.variants[-1]
