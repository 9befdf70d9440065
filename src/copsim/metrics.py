"""Outcome measures as pure functions of the model's arrays (vectorized)."""

from __future__ import annotations

import numpy as np

from copsim.layout import row_total


def belief_diversity(beliefs: np.ndarray) -> float:
    """Mean Gini-Simpson index of the beliefs per dimension, scaled to [0, 1].

    0 when everybody holds the same belief on every dimension; 1 when the
    three values -1, 0, +1 are equally common on every dimension.
    """
    if beliefs.shape[0] == 0:
        return 0.0
    # counts of -1, 0, +1 per dimension from two column sums (one pass each):
    # sum(b) = n(+1) - n(-1) and sum(|b|) = n(+1) + n(-1)
    total = beliefs.sum(axis=0, dtype=np.int64)
    decided = np.abs(beliefs).sum(axis=0, dtype=np.int64)
    return diversity_from_sums(total, decided, beliefs.shape[0])


def belief_diversity_by_run(beliefs: np.ndarray) -> np.ndarray:
    """(K,) :func:`belief_diversity` of each run's (K, N, m) beliefs (everyone)."""
    total = beliefs.sum(axis=1, dtype=np.int64)
    decided = np.abs(beliefs).sum(axis=1, dtype=np.int64)
    return diversity_by_run(total, decided, np.full(beliefs.shape[0], beliefs.shape[1]))


def diversity_by_run(total: np.ndarray, decided: np.ndarray, n: np.ndarray) -> np.ndarray:
    """(K,) diversity from (K, m) column sums of b and |b| over n[k] people."""
    n_ = np.maximum(n, 1)[:, None].astype(np.float64)
    shares = (
        ((decided - total) / 2) / n_,
        (n[:, None] - decided) / n_,
        ((decided + total) / 2) / n_,
    )
    simpson = 1.0 - (shares[0] ** 2 + shares[1] ** 2 + shares[2] ** 2)
    mean = row_total(simpson) / simpson.shape[1]
    return np.where(n > 0, mean / (2.0 / 3.0), 0.0)


def diversity_from_sums(total: np.ndarray, decided: np.ndarray, n: int) -> float:
    """:func:`belief_diversity` from per-dimension sums of b and |b| over n people.

    Lets a caller that already has the column sums (e.g. from one matrix
    product over the present members) skip a second pass over the beliefs.
    """
    if n == 0:
        return 0.0
    shares = np.stack([(decided - total) / 2, n - decided, (decided + total) / 2]) / n
    simpson = 1.0 - (shares**2).sum(axis=0)
    return float(simpson.mean() / (2.0 / 3.0))


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal shares)."""
    v = np.sort(np.asarray(values, dtype=np.float64).ravel())
    total = v.sum()
    if v.size == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, v.size + 1)
    return float((2.0 * (ranks * v).sum()) / (v.size * total) - (v.size + 1.0) / v.size)


def gini_by_run(values: np.ndarray, where: np.ndarray) -> np.ndarray:
    """(K,) Gini coefficient of each row's values over ``where`` ((K, N) arrays)."""
    v = np.sort(np.where(where, values, np.inf), axis=1)
    n = where.sum(axis=1)
    ranks = np.arange(1, v.shape[1] + 1)[None, :]
    inside = ranks <= n[:, None]
    v = np.where(inside, v, 0.0)
    total = row_total(v)
    ok = (n > 0) & (total > 0)
    n_ = np.maximum(n, 1).astype(np.float64)
    g = (2.0 * row_total(ranks * v)) / (n_ * np.where(ok, total, 1.0)) - (n_ + 1.0) / n_
    return np.where(ok, g, 0.0)
