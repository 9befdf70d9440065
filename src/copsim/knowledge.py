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

Random numbers come from a ``numpy.random.Generator`` passed in (March's
batches, :mod:`copsim.march`) or from keyed draws (:class:`copsim.draws.Keyed`,
the social model's ensembles: a draw per flat index of the array it is for);
never from a global stream.  Bernoulli draws use 32-bit integer thresholds taken from the raw
bit stream (resolution 2**-32), and fair coins use single random bits: both are
exact enough for any statistic and several times cheaper than float draws.

Performance notes
-----------------
The kernels avoid the three things that dominate numpy time on these small-m
arrays: broadcasting over a short last axis (a code row is repeated to the
beliefs' shape once, see :func:`expand_rows`), index arithmetic such as
``unravel_index`` (flat indices are used throughout), and integer reductions
over the short last axis (scores are float32 matrix products, exact for
integers below 2**24).  ``benchmarks/bench_march.py`` measures the result.
"""

from __future__ import annotations

import numpy as np

from copsim.draws import Keyed

BELIEF_DTYPE = np.int8
_TWO32 = float(2**32)


# --------------------------------------------------------------------------- draws
def coin_bits(rng: np.random.Generator | Keyed, shape: tuple[int, ...]) -> np.ndarray:
    """Independent fair bits (0/1, uint8), one random bit per element."""
    if isinstance(rng, Keyed):
        rows = int(np.prod(shape[:-1], dtype=np.int64))
        return np.ascontiguousarray(rng.bits_rows(rows, shape[-1])).reshape(shape)
    size = int(np.prod(shape, dtype=np.int64))
    words = np.asarray(rng.bit_generator.random_raw((size + 63) // 64), dtype=np.uint64)
    return np.unpackbits(words.view(np.uint8), count=size).reshape(shape)


def _uniform_words(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform 32-bit integers (uint32), two per raw 64-bit draw."""
    size = int(np.prod(shape, dtype=np.int64))
    words = rng.bit_generator.random_raw((size + 1) // 2)
    return np.asarray(words, dtype=np.uint64).view(np.uint32)[:size].reshape(shape)


def thresholds(p: float | np.ndarray) -> np.ndarray:
    """Integer thresholds floor(p * 2**32) (int64, so p = 1 gives 2**32 and always
    succeeds): a 32-bit draw below the threshold is a success."""
    return np.floor(np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0) * _TWO32).astype(np.int64)


def bernoulli(
    rng: np.random.Generator, p: float | np.ndarray, shape: tuple[int, ...]
) -> np.ndarray:
    """Boolean array, each element True with probability ``p`` (broadcastable)."""
    draws = _uniform_words(rng, shape)
    if np.ndim(p) == 0:
        threshold = np.floor(min(max(float(p), 0.0), 1.0) * _TWO32)
        if threshold >= _TWO32:
            return np.ones(shape, dtype=bool)
        return draws < np.uint32(threshold)
    return draws < thresholds(p)


def draw_reality(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Reality: each dimension +1 or -1 with probability 1/2 (March rule 1)."""
    return (coin_bits(rng, shape).astype(BELIEF_DTYPE) << 1) - 1


def draw_beliefs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Naive beliefs: -1, 0, +1 with equal probability (March rule 2)."""
    return (rng.integers(0, 3, size=shape, dtype=np.int8) - 1).astype(BELIEF_DTYPE)


# --------------------------------------------------------------------------- helpers
def expand_rows(target: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``target`` broadcast to ``shape`` as a C-contiguous array.

    The common case, one code row per world against (..., n, m) beliefs, is a
    row repeat, which numpy does far faster than a general broadcast copy; an
    array that already has the shape is returned as it is (no copy).
    """
    target = np.asarray(target)
    if target.shape == shape:
        return np.ascontiguousarray(target)
    if (
        target.ndim == len(shape) >= 2
        and target.shape[-2] == 1
        and target.shape[:-2] == shape[:-2]
        and target.shape[-1] == shape[-1]
    ):
        return np.repeat(target, shape[-2], axis=-2)
    return np.ascontiguousarray(np.broadcast_to(target, shape))


def _at(values: float | np.ndarray, shape: tuple[int, ...], flat: np.ndarray) -> np.ndarray:
    """Per-element values at flat indices ``flat`` of ``shape`` (broadcasting ``values``).

    A scalar stays a scalar; values that are constant along the last axis (one
    per individual, e.g. (n, 1)) are looked up by row, without building the full
    broadcast array.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 0:
        return values
    if values.shape[-1] == 1 and len(shape) >= 1:
        per_row = np.broadcast_to(values, (*shape[:-1], 1)).reshape(-1)
        return per_row[flat // shape[-1]]
    return np.broadcast_to(values, shape).reshape(-1)[flat]


# --------------------------------------------------------------------------- rules
def act(beliefs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Actions: the belief, with every 0 replaced by a fresh fair coin flip.

    Undecided individuals still have to act; which way they go is luck, so a
    lucky individual can outperform its beliefs this period (Christensen 2015).
    One coin bit is drawn per element and used only where the belief is 0; the
    choice is made with bit operations, which is cheaper than locating the zeros.
    """
    beliefs = np.ascontiguousarray(beliefs, dtype=BELIEF_DTYPE)
    coins = coin_bits(rng, beliefs.shape).view(np.int8)  # 0 / 1
    np.negative(coins, out=coins)  # 0 / -1 (all bits set)
    coins |= 1  # +1 / -1
    # belief - 1 has all bits set for a 0 belief, none for +1, and every bit but
    # the lowest for -1; OR-ing the belief back restores +1 and -1 unchanged
    coins &= beliefs - 1
    coins |= beliefs
    return coins


def score(states: np.ndarray, reality: np.ndarray) -> np.ndarray:
    """Matches minus misses against reality, summed over dimensions (int32).

    ``states`` is (..., k, m) and ``reality`` (..., m); zeros score nothing.
    ``states`` may also be the float32 copy of an int8 array (as passed by
    :func:`period`, which reuses it for the votes); the sum is exact either way.
    """
    states = np.asarray(states).astype(np.float32, copy=False)
    column = np.asarray(reality).astype(np.float32, copy=False)[..., None]
    return np.matmul(states, column)[..., 0].astype(np.int32)


def knowledge(states: np.ndarray, reality: np.ndarray) -> np.ndarray:
    """Score as a share of the dimensions, in [-1, 1] (March's knowledge level)."""
    return score(states, reality) / states.shape[-1]


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
    for one rate per individual).  One draw is made per pulled belief, in flat
    order.  Returns the number of beliefs changed.
    """
    if not beliefs.flags.c_contiguous:
        raise ValueError("socialize() updates beliefs in place: pass a C-contiguous array")
    full = expand_rows(target, beliefs.shape)
    pull = beliefs != full
    pull &= full != 0
    rate = np.asarray(rate, dtype=np.float64)
    if isinstance(rng, Keyed) and rate.ndim == beliefs.ndim and rate.shape[-1] == 1:
        pull &= rate > 0  # a row whose rate is 0 cannot move: no candidate, no hash
    candidates = np.flatnonzero(pull)
    if candidates.size == 0:
        return 0
    if isinstance(rng, Keyed):  # the social model: a keyed uniform per candidate cell
        chance = _at(rate, beliefs.shape, candidates)
        if np.ndim(chance):  # a cell whose rate is 0 cannot move (u >= 0): skip its hash
            live = chance > 0
            candidates, chance = candidates[live], chance[live]
        hit = rng.uniform_at(candidates) < chance
    elif (
        rate.ndim == beliefs.ndim
        and rate.shape[-1] == 1
        and rate.size * beliefs.shape[-1] == beliefs.size
    ):
        # one rate per individual (the Mesa model): thresholds per row, looked up
        # per candidate (the same draws and outcomes as the general path)
        per_row = thresholds(rate.reshape(-1))
        hit = _uniform_words(rng, candidates.shape) < per_row[candidates // beliefs.shape[-1]]
    else:
        hit = bernoulli(rng, _at(rate, beliefs.shape, candidates), candidates.shape)
    moved = candidates[hit]
    # the target is +1 or -1 wherever it pulls, so the one-step move *is* the target value
    beliefs.reshape(-1)[moved] += full.reshape(-1)[moved]
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
    ``actions`` may be int8 or its float32 copy.
    """
    return np.matmul(weights, np.asarray(actions).astype(np.float32, copy=False))


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
    (..., s, 1) so each code can have its own rigidity.  One draw is made per
    dimension where the majority differs, in flat order.  Returns changes made.
    """
    votes = np.broadcast_to(votes, code.shape)
    majority = np.sign(votes).astype(BELIEF_DTYPE)
    open_ = np.flatnonzero((majority != 0) & (majority != code))
    if open_.size == 0:
        return 0
    k = np.abs(votes.reshape(-1)[open_]).astype(np.float64)
    keep = np.power(1.0 - _at(rate, code.shape, open_), k)
    if isinstance(rng, Keyed):  # the social model: a keyed uniform per open dimension
        switch = open_[rng.uniform_at(open_) >= keep]
    else:
        switch = open_[~bernoulli(rng, keep, open_.shape)]
    np.put(code, switch, majority.reshape(-1)[switch])
    return int(switch.size)


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

    When every belief equals the code, the luckiest score exceeds the code's
    exactly when the code still has an undecided (0) dimension, so the test is
    "the code is decided everywhere and everyone holds it"; ``reality`` does not
    enter (it is kept in the signature because the definition is about scores).
    """
    del reality  # see the docstring: the score condition reduces to "no 0 in the code"
    decided = np.all(code != 0, axis=(-2, -1))
    if not decided.any():  # the common case early on, and cheap to decide
        return decided
    if decided.all():
        agree = beliefs == expand_rows(code, beliefs.shape)
        return np.all(agree, axis=(-2, -1))
    worlds = np.nonzero(decided)
    decided[worlds] = np.all(beliefs[worlds] == code[worlds], axis=(-2, -1))
    return decided


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

    The same kernel calls, in the same order and on the same random stream, as
    the Mesa model's step; the only difference is that the float32 copy of the
    actions is made once and used for both the scores and the votes.
    """
    if turnover_rate > 0:
        replace_individuals(beliefs, turnover_rate, rng)
    if turbulence_rate > 0:
        shift_reality(reality, turbulence_rate, rng)
    actions = act(beliefs, rng).astype(np.float32)
    action_scores = score(actions, reality)
    socialize(beliefs, code, socialization_rate, rng)
    weights = superior_weights(action_scores, score(code, reality))
    learn_code(code, net_votes(actions, weights), code_learning_rate, rng)
