"""Deterministic seed derivation: one root seed, one stream per unit of work.

Every stochastic unit (a run of a sweep, a batch of March runs) gets a
``SeedSequence`` derived from the root and the unit's *index in the design*,
never from the order in which work is handed out.  The derivation is a pure
function, so the same unit gets the same stream in any process, on any
machine, in a fresh sweep or a resumed one.
"""

from __future__ import annotations

import numpy as np

SeedLike = int | np.random.SeedSequence


def as_seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Accept an integer root seed or an existing ``SeedSequence``."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, (int, np.integer)) and int(seed) >= 0:
        return np.random.SeedSequence(int(seed))
    raise ValueError(f"seed must be a non-negative integer or a SeedSequence, got {seed!r}")


def child_seed(root: SeedLike, *index: int) -> np.random.SeedSequence:
    """The stream of the unit at ``index`` (one or more non-negative integers).

    Equivalent to ``root.spawn(...)[i]`` for a single index, but stateless: it
    does not depend on how many children were spawned before.
    """
    base = as_seed_sequence(root)
    return np.random.SeedSequence(base.entropy, spawn_key=(*base.spawn_key, *map(int, index)))


def seed_label(seed: np.random.SeedSequence) -> str:
    """A compact, recordable name of a stream: entropy and spawn key."""
    key = "-".join(str(k) for k in seed.spawn_key)
    return f"{seed.entropy}:{key}" if key else str(seed.entropy)
