"""The knowledge core: March's (1991) mutual-learning rules as array kernels.

Every function here works on arrays whose *leading* axes are a batch of
independent worlds (runs) and whose last two axes are individuals x dimensions.
The Mesa model calls them with no batch axis (one world); the replication
study calls them with a batch of thousands of runs.  There is one
implementation of each rule, shared by both.

Conventions
-----------
beliefs  int8 (..., n, m), values in {-1, 0, +1}
reality  int8 (..., m),    values in {-1, +1}
code     int8 (..., s, m), one shared repertoire ("organizational code") per space
weights  float (..., s, n), how much each individual's action counts in each code

Random numbers come from a ``numpy.random.Generator`` passed in; never from a
global stream.  Bernoulli draws use 32-bit integer thresholds taken from the raw
bit stream (resolution 2**-32), and fair coins use single random bits: both are
exact enough for any statistic and several times cheaper than float draws.
"""

from __future__ import annotations

import numpy as np

BELIEF_DTYPE = np.int8
_TWO32 = float(2**32)


# --------------------------------------------------------------------------- draws
def coin_bits(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Independent fair bits (0/1, uint8), one random bit per element."""
    size = int(np.prod(shape, dtype=np.int64))
    words = rng.bit_generator.random_raw((size + 63) // 64)
    bits = np.unpackbits(np.asarray(words, dtype=np.uint64).view(np.uint8))[:size]
    return bits.reshape(shape)


def bernoulli(
    rng: np.random.Generator, p: float | np.ndarray, shape: tuple[int, ...]
) -> np.ndarray:
    """Boolean array, each element True with probability ``p`` (broadcastable)."""
    size = int(np.prod(shape, dtype=np.int64))
    words = rng.bit_generator.random_raw((size + 1) // 2)
    draws = np.asarray(words, dtype=np.uint64).view(np.uint32)[:size].reshape(shape)
    threshold = np.floor(np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0) * _TWO32)
    if np.ndim(threshold) == 0:
        if threshold >= _TWO32:
            return np.ones(shape, dtype=bool)
        return draws < np.uint32(threshold)
    # p == 1 must always succeed: compare in int64 so the threshold 2**32 fits
    return draws < threshold.astype(np.int64)


def draw_reality(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Reality: each dimension +1 or -1 with probability 1/2 (March rule 1)."""
    return (coin_bits(rng, shape).astype(BELIEF_DTYPE) << 1) - 1


def draw_beliefs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Naive beliefs: -1, 0, +1 with equal probability (March rule 2)."""
    return (rng.integers(0, 3, size=shape, dtype=np.int8) - 1).astype(BELIEF_DTYPE)


# --------------------------------------------------------------------------- rules
def act(beliefs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Actions: the belief, with every 0 replaced by a fresh fair coin flip.

    Undecided individuals still have to act; which way they go is luck, so a
    lucky individual can outperform its beliefs this period (Christensen 2015).
    Coins are drawn only for the zeros, which become rare as beliefs settle.
    """
    actions = np.ascontiguousarray(beliefs).copy()
    flat = actions.reshape(-1)
    undecided = np.flatnonzero(flat == 0)
    coins = coin_bits(rng, undecided.shape).view(np.int8)
    flat[undecided] = (coins << 1) - 1
    return actions


def score(states: np.ndarray, reality: np.ndarray) -> np.ndarray:
    """Matches minus misses against reality, summed over dimensions (int32).

    ``states`` is (..., k, m) and ``reality`` (..., m); zeros score nothing.
    """
    return np.einsum("...km,...m->...k", states, reality, dtype=np.int32)


def knowledge(states: np.ndarray, reality: np.ndarray) -> np.ndarray:
    """Score as a share of the dimensions, in [-1, 1] (March's knowledge level)."""
    return score(states, reality) / states.shape[-1]


def best_possible_score(beliefs: np.ndarray, reality: np.ndarray) -> np.ndarray:
    """The highest action score a belief vector could reach by lucky coin flips."""
    return score(beliefs, reality) + np.count_nonzero(beliefs == 0, axis=-1)


def socialize(
    beliefs: np.ndarray,
    target: np.ndarray,
    rate: float | np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Gradual socialization into the code, in place (March rule 3, Christensen 2015).

    Where the target code is non-zero and differs from the belief, with
    probability ``rate`` the belief takes *one step* toward it: -1 -> 0 -> +1
    for a +1 code.  The intermediate 0 sends the individual back to
    experimenting, which is what makes slow socialization pay.  ``target``
    broadcasts against ``beliefs``; ``rate`` against (..., n, m) (e.g. (..., n, 1)
    for one rate per individual).  Returns the number of beliefs changed.
    """
    if not beliefs.flags.c_contiguous:
        raise ValueError("socialize() updates beliefs in place: pass a C-contiguous array")
    target = np.broadcast_to(target, beliefs.shape)
    candidates = np.flatnonzero((beliefs != target) & (target != 0))
    if np.ndim(rate) > 0:  # per-individual (or per-element) rates
        rate = np.broadcast_to(rate, beliefs.shape)[np.unravel_index(candidates, beliefs.shape)]
    moved = candidates[bernoulli(rng, rate, candidates.shape)]
    # the target is +1 or -1 wherever it pulls, so the one-step move *is* the target value
    beliefs.reshape(-1)[moved] += target[np.unravel_index(moved, beliefs.shape)]
    return int(moved.size)


def superior_weights(action_scores: np.ndarray, code_scores: np.ndarray) -> np.ndarray:
    """March's superior group: 1 for individuals whose *action* beats the code.

    ``action_scores`` (..., n), ``code_scores`` (..., s) -> weights (..., s, n).
    """
    return (action_scores[..., None, :] > code_scores[..., :, None]).astype(np.float32)


def net_votes(actions: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted votes per code and dimension: (+1 votes) - (-1 votes).

    Actions are never 0, so the sign of the net vote is the (strict) majority
    and its size is k = (number who differ) - (number who agree) with the
    code whenever the code departs from the majority (March footnote 1).
    """
    return np.matmul(weights, actions.astype(np.float32))


def learn_code(
    code: np.ndarray,
    votes: np.ndarray,
    rate: float | np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """The code adopts the superior group's majority, in place (March rule 4).

    On each dimension where the majority differs from the code, the code
    switches to it with probability 1 - (1 - rate)**k, k = |net votes|.  A tie
    (net 0) or no superior group changes nothing.  ``rate`` broadcasts against
    (..., s, 1) so each code can have its own rigidity.  Returns changes made.
    """
    majority = np.sign(votes).astype(BELIEF_DTYPE)
    differs = (majority != 0) & (majority != code)
    keep = np.power(1.0 - np.asarray(rate, dtype=np.float64), np.abs(votes))
    switch = differs & ~bernoulli(rng, keep, code.shape)
    code[switch] = majority[switch]
    return int(np.count_nonzero(switch))


# --------------------------------------------------------------------------- dynamics
def replace_individuals(beliefs: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Turnover, in place: each individual leaves with probability ``rate`` and a
    newcomer with naive beliefs takes the place (March p3).  Returns the mask."""
    leaving = bernoulli(rng, rate, beliefs.shape[:-1])
    count = int(np.count_nonzero(leaving))
    if count:
        beliefs[leaving] = draw_beliefs(rng, (count, beliefs.shape[-1]))
    return leaving


def shift_reality(reality: np.ndarray, rate: float, rng: np.random.Generator) -> int:
    """Turbulence, in place: each dimension flips sign with probability ``rate``."""
    flips = bernoulli(rng, rate, reality.shape)
    reality[flips] *= -1
    return int(np.count_nonzero(flips))


def at_equilibrium(beliefs: np.ndarray, code: np.ndarray, reality: np.ndarray) -> np.ndarray:
    """March's stable state, per world: nothing is left to learn either way.

    No individual differs from the code on any dimension, and no individual
    could beat the code's score even with the luckiest coin flips.  ``code`` is
    (..., 1, m); returns a boolean per world (shape of the batch axes).
    """
    same = np.all(beliefs == code, axis=(-2, -1))
    if not same.any():  # the common case, and cheap to decide
        return same
    rows = np.nonzero(same)
    code_score = score(code[rows], reality[rows])[..., 0]
    best = best_possible_score(beliefs[rows], reality[rows])
    same[rows] = ~np.any(best > code_score[..., None], axis=-1)
    return same


def period(
    beliefs: np.ndarray,
    code: np.ndarray,
    reality: np.ndarray,
    socialization_rate: float | np.ndarray,
    code_learning_rate: float,
    turnover_rate: float,
    turbulence_rate: float,
    rng: np.random.Generator,
) -> None:
    """One March period for a batch of one-code worlds, in the published order:
    turnover, turbulence, individuals act, individuals socialize, the code learns.
    """
    if turnover_rate > 0:
        replace_individuals(beliefs, turnover_rate, rng)
    if turbulence_rate > 0:
        shift_reality(reality, turbulence_rate, rng)
    actions = act(beliefs, rng)
    action_scores = score(actions, reality)
    socialize(beliefs, code, socialization_rate, rng)
    weights = superior_weights(action_scores, score(code, reality))
    learn_code(code, net_votes(actions, weights), code_learning_rate, rng)
