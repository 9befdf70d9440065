"""Batches of independent March (1991) runs, vectorized across runs.

A batch of R runs is one set of (R, n, m) arrays stepped by the same kernels the
Mesa model uses (:mod:`copsim.knowledge`).  Runs that have reached equilibrium
are dropped from the arrays, so the cost follows the runs still learning.

Reproducibility unit: a *batch*.  One ``SeedSequence`` seeds one batch of a
given size; the same (seed, batch size, parameters) gives bit-identical results
whatever process or machine runs it.  :func:`simulate` splits a cell of runs into
fixed-size batches and spawns one child seed per batch from the cell's seed, so
the result never depends on how many workers share the batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from copsim import knowledge as kn
from copsim.seeds import SeedLike, child_seed

#: Runs per batch: large enough to amortize numpy overhead, small enough for cache.
BATCH_SIZE = 2000


@dataclass(frozen=True)
class MarchSetting:
    """The knowledge-core parameters of one design cell (March's notation)."""

    p1: float = 0.1
    p2: float = 0.5
    p3: float = 0.0
    p4: float = 0.0
    n: int = 50
    m: int = 30
    horizon: int = 100
    slow_share: float = 0.0
    p1_slow: float = 0.1
    max_periods: int = 10_000

    @property
    def runs_to_equilibrium(self) -> bool:
        """March stops closed systems at equilibrium, open ones at a horizon."""
        return self.p3 == 0 and self.p4 == 0

    def rates(self) -> np.ndarray | float:
        """Per-individual socialization rates: the first ``slow_share`` are slow."""
        if self.slow_share <= 0:
            return self.p1
        n_slow = round(self.slow_share * self.n)
        rates = np.full((self.n, 1), self.p1)
        rates[:n_slow] = self.p1_slow
        return rates


def run_batch(setting: MarchSetting, runs: int, seed: np.random.SeedSequence | int) -> dict:
    """Run ``runs`` independent worlds; return per-run arrays of the outcomes.

    Keys: ``periods``, ``code_knowledge``, ``mean_individual_knowledge``.
    """
    rng = np.random.default_rng(seed)
    reality = kn.draw_reality(rng, (runs, setting.m))
    beliefs = kn.draw_beliefs(rng, (runs, setting.n, setting.m))
    code = np.zeros((runs, 1, setting.m), dtype=kn.BELIEF_DTYPE)
    rates = setting.rates()

    live = np.arange(runs)  # which original run each row still holds
    periods = np.zeros(runs, dtype=np.int32)
    final_code = np.zeros(runs, dtype=np.float64)
    final_mean = np.zeros(runs, dtype=np.float64)

    def retire(rows: np.ndarray, t: int) -> None:
        ids = live[rows]
        periods[ids] = t
        final_code[ids] = kn.knowledge(code[rows], reality[rows])[:, 0]
        final_mean[ids] = kn.knowledge(beliefs[rows], reality[rows]).mean(axis=-1)

    limit = setting.max_periods if setting.runs_to_equilibrium else setting.horizon
    for t in range(1, limit + 1):
        kn.period(beliefs, code, reality, rates, setting.p2, setting.p3, setting.p4, rng)
        if not setting.runs_to_equilibrium:
            continue
        done = kn.at_equilibrium(beliefs, code, reality)
        if done.any():
            retire(np.flatnonzero(done), t)
            keep = ~done
            live, beliefs, code, reality = live[keep], beliefs[keep], code[keep], reality[keep]
            if live.size == 0:
                break
    if live.size:
        retire(np.arange(live.size), limit)
    return {
        "periods": periods,
        "code_knowledge": final_code,
        "mean_individual_knowledge": final_mean,
    }


def batch_plan(runs: int, batch_size: int = BATCH_SIZE) -> list[int]:
    """Sizes of the fixed batches a cell of ``runs`` is cut into."""
    full, rest = divmod(runs, batch_size)
    return [batch_size] * full + ([rest] if rest else [])


def simulate(
    setting: MarchSetting,
    runs: int,
    seed: SeedLike,
    batch_size: int = BATCH_SIZE,
) -> dict:
    """All runs of one cell, batch by batch, in one process.

    Batch ``i`` is seeded by ``child_seed(seed, i)``; see the module note.
    """
    sizes = batch_plan(runs, batch_size)
    parts = [run_batch(setting, size, child_seed(seed, i)) for i, size in enumerate(sizes)]
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
