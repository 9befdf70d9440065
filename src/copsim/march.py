"""Batches of independent March (1991) runs, vectorized across runs.

A batch of R runs is one set of (R, n, m) arrays stepped by the same kernels the
Mesa model uses (:mod:`copsim.knowledge`).  Runs that have reached equilibrium
are dropped from the arrays, so the cost follows the runs still learning.

Reproducibility unit: a *batch*.  One ``SeedSequence`` seeds one batch of a
given size; the same (seed, batch size, parameters) gives bit-identical results
whatever process or machine runs it.  :func:`simulate` splits a cell of runs into
fixed-size batches and spawns one child seed per batch from the cell's seed, so
the result never depends on how many workers share the batches.

Designs.  A study is a list of :class:`Cell` (a label, a setting, a number of
runs).  :func:`plan_units` cuts every cell into fixed-size batches; the batch
``b`` of cell ``c`` is seeded by ``child_seed(root, c, b)`` (so it is exactly the
batch ``b`` of ``simulate(setting, runs, child_seed(root, c))``).
:func:`run_cells` runs the units in one process or in a pool of spawned worker
processes and always assembles them in plan order: the table is identical for
any number of workers.  Changing the batch size, the order of the cells or the
root seed changes the random streams; changing the number of workers does not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass

import numpy as np
import pandas as pd

from copsim import knowledge as kn
from copsim.pool import WorkerPool
from copsim.seeds import SeedLike, child_seed, seed_label

#: Runs per batch: large enough to amortize numpy overhead, small enough for cache.
BATCH_SIZE = 1000


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


def run_batch(
    setting: MarchSetting,
    runs: int,
    seed: np.random.SeedSequence | int,
    trace: bool = False,
) -> dict:
    """Run ``runs`` independent worlds; return per-run arrays of the outcomes.

    Keys: ``periods``, ``code_knowledge``, ``mean_individual_knowledge``.  With
    ``trace``, also ``code_knowledge_path`` and ``mean_individual_knowledge_path``,
    (runs, horizon) arrays of the two measures at the end of periods 1..horizon;
    a run that stops at equilibrium earlier keeps its final values (nothing
    changes at equilibrium).  Tracing costs one extra pass over the beliefs per
    period and does not change the random stream.
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
    width = setting.horizon if trace else 0
    code_path = np.zeros((runs, width), dtype=np.float64)
    mean_path = np.zeros((runs, width), dtype=np.float64)

    def retire(rows: np.ndarray, t: int) -> None:
        ids = live[rows]
        periods[ids] = t
        final_code[ids] = kn.knowledge(code[rows], reality[rows])[:, 0]
        final_mean[ids] = kn.knowledge(beliefs[rows], reality[rows]).mean(axis=-1)
        code_path[ids, t:] = final_code[ids, None]
        mean_path[ids, t:] = final_mean[ids, None]

    limit = setting.max_periods if setting.runs_to_equilibrium else setting.horizon
    for t in range(1, limit + 1):
        kn.period(beliefs, code, reality, rates, setting.p2, setting.p3, setting.p4, rng)
        if t <= width:
            code_path[live, t - 1] = kn.knowledge(code, reality)[:, 0]
            mean_path[live, t - 1] = kn.knowledge(beliefs, reality).mean(axis=-1)
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
    out = {
        "periods": periods,
        "code_knowledge": final_code,
        "mean_individual_knowledge": final_mean,
    }
    if trace:
        out["code_knowledge_path"] = code_path
        out["mean_individual_knowledge_path"] = mean_path
    return out


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


# --------------------------------------------------------------------------- designs
#: Equilibrium code knowledge of the recreation of March's program (Rodan 2005 rules,
#: Christensen 2015 steps), 10,000 runs per cell: (p1, p2) -> mean.
REFERENCE_FIGURE1: dict[tuple[float, float], float] = {
    (p1, p2): value
    for p1, row in zip(
        (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
        (
            (0.8633, 0.9543, 0.9724),
            (0.8171, 0.9088, 0.9404),
            (0.8051, 0.8691, 0.9081),
            (0.8021, 0.8371, 0.8737),
            (0.7994, 0.8106, 0.8401),
            (0.8032, 0.7867, 0.8067),
            (0.8060, 0.7679, 0.7796),
            (0.8090, 0.7540, 0.7561),
            (0.8132, 0.7421, 0.7284),
        ),
        strict=True,
    )
    for p2, value in zip((0.1, 0.5, 0.9), row, strict=True)
}


@dataclass(frozen=True)
class Cell:
    """One cell of a study design: a label, a setting and how many runs.

    ``trace`` asks for the per-period path of the outcomes (see :func:`run_batch`).
    """

    study: str
    setting: MarchSetting
    runs: int
    trace: bool = False


@dataclass(frozen=True)
class Unit:
    """One batch of one cell: the unit of work and of seeding."""

    cell: int
    batch: int
    runs: int


def figure1_cells(runs: int) -> list[Cell]:
    """March's Figure 1: p1 = 0.1..0.9 by 0.1 crossed with p2 in {0.1, 0.5, 0.9}."""
    p1s = [round(0.1 * i, 1) for i in range(1, 10)]
    return [
        Cell("figure1", MarchSetting(p1=p1, p2=p2), runs) for p1 in p1s for p2 in (0.1, 0.5, 0.9)
    ]


def heterogeneity_cells(
    runs: int,
    shares: Sequence[float] = tuple(round(0.1 * i, 1) for i in range(11)),
    fast: float = 0.9,
    slow: float = 0.1,
    p2: float = 0.5,
) -> list[Cell]:
    """Mixed fast and slow learners against a homogeneous population at the same mean p1.

    For each share s of slow learners: study ``mixed`` (p1 = ``fast`` for the
    rest, ``slow`` for the share s) and study ``homogeneous`` (everyone at the
    mean rate s * slow + (1 - s) * fast).  The realised share is round(s * n) / n.
    """
    cells = []
    for share in shares:
        mixed = MarchSetting(p1=fast, p1_slow=slow, slow_share=share, p2=p2)
        n_slow = round(share * mixed.n)
        mean_rate = round((n_slow * slow + (mixed.n - n_slow) * fast) / mixed.n, 6)
        cells.append(Cell("mixed", mixed, runs))
        cells.append(Cell("homogeneous", MarchSetting(p1=mean_rate, p2=p2), runs))
    return cells


def turbulence_cells(
    runs: int,
    p3s: Sequence[float] = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5),
    p4: float = 0.02,
    p1: float = 0.5,
    p2: float = 0.5,
    horizon: int = 100,
) -> list[Cell]:
    """Turnover under turbulence: open systems run ``horizon`` periods, paths traced.

    The default turnover rates run past the best one, so the cost of too much
    turnover shows as well as the gain from some.
    """
    return [
        Cell("turbulence", MarchSetting(p1=p1, p2=p2, p3=p3, p4=p4, horizon=horizon), runs, True)
        for p3 in p3s
    ]


def plan_units(cells: Sequence[Cell], batch_size: int = BATCH_SIZE) -> list[Unit]:
    """Every (cell, batch) unit of a design, in design order."""
    return [
        Unit(c, b, size)
        for c, cell in enumerate(cells)
        for b, size in enumerate(batch_plan(cell.runs, batch_size))
    ]


def run_unit(setting: MarchSetting, runs: int, seed: np.random.SeedSequence, trace: bool) -> dict:
    """Worker entry point (top level, so spawned processes can import it)."""
    return run_batch(setting, runs, seed, trace=trace)


def _expected_cost(cell: Cell, runs: int) -> float:
    """Rough work of a unit (runs x periods), used only to schedule long units first."""
    s = cell.setting
    if not s.runs_to_equilibrium:
        return runs * s.horizon
    slowest = min(s.p1, s.p1_slow) if s.slow_share > 0 else s.p1
    return runs * 10.0 / max(slowest, 0.01)


def run_units(
    cells: Sequence[Cell],
    seed: SeedLike,
    workers: int = 1,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Unit], list[dict]]:
    """Run every unit of the design; results come back in plan order.

    ``workers > 1`` uses copsim's :class:`~copsim.pool.WorkerPool` (spawned
    processes that die with this one);
    units are handed out longest first, which affects only the wall time.
    ``progress(done, total)`` is called in this process after each unit.
    """
    units = plan_units(cells, batch_size)
    jobs = [
        (cells[u.cell].setting, u.runs, child_seed(seed, u.cell, u.batch), cells[u.cell].trace)
        for u in units
    ]
    results: list[dict | None] = [None] * len(jobs)
    if workers <= 1:
        for i, job in enumerate(jobs):
            results[i] = run_unit(*job)
            if progress:
                progress(i + 1, len(jobs))
        return units, results
    order = sorted(
        range(len(jobs)), key=lambda i: -_expected_cost(cells[units[i].cell], units[i].runs)
    )
    with WorkerPool(workers) as pool:
        futures = {pool.submit(run_unit, *jobs[i]): i for i in order}
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if progress:
                progress(done, len(jobs))
    return units, results


#: Columns that say which design cell a row belongs to, and their dtypes.
CELL_COLUMNS: dict[str, str] = {
    "study": "str",
    "cell": "int32",
    "p1": "float64",
    "p2": "float64",
    "p3": "float64",
    "p4": "float64",
    "slow_share": "float64",
    "p1_slow": "float64",
}

#: Columns of the per-run table and their dtypes.
RUN_COLUMNS: dict[str, str] = {
    **CELL_COLUMNS,
    "batch": "int32",
    "run": "int32",
    "seed": "str",
    "periods": "int32",
    "code_knowledge": "float64",
    "mean_individual_knowledge": "float64",
}

#: Columns of the per-period path table (traced cells only) and their dtypes.
PATH_COLUMNS: dict[str, str] = {
    **CELL_COLUMNS,
    "period": "int32",
    "runs": "int32",
    "code_knowledge": "float64",
    "code_knowledge_se": "float64",
    "mean_individual_knowledge": "float64",
    "mean_individual_knowledge_se": "float64",
}


def _cell_fields(cell: Cell, index: int) -> dict:
    """The identifying columns of a cell."""
    s = cell.setting
    return {
        "study": cell.study,
        "cell": index,
        "p1": s.p1,
        "p2": s.p2,
        "p3": s.p3,
        "p4": s.p4,
        "slow_share": s.slow_share,
        "p1_slow": s.p1_slow if s.slow_share > 0 else np.nan,
    }


def _mean_se(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard errors of a (runs, periods) array."""
    n = values.shape[0]
    sd = values.std(axis=0, ddof=1) if n > 1 else np.full(values.shape[1], np.nan)
    return values.mean(axis=0), sd / np.sqrt(n)


@dataclass
class DesignResult:
    """The tidy outputs of a design: one row per run, and per-period paths."""

    runs: pd.DataFrame
    paths: pd.DataFrame


def tabulate(
    cells: Sequence[Cell], units: Sequence[Unit], results: Sequence[dict], seed: SeedLike
) -> DesignResult:
    """Assemble unit results (in plan order) into the tidy run and path tables."""
    frames = []
    paths: dict[int, list[dict]] = {}
    for unit, out in zip(units, results, strict=True):
        cell = cells[unit.cell]
        frame = pd.DataFrame(
            {
                **_cell_fields(cell, unit.cell),
                "batch": unit.batch,
                "run": np.arange(unit.runs),
                "seed": seed_label(child_seed(seed, unit.cell, unit.batch)),
                "periods": out["periods"],
                "code_knowledge": out["code_knowledge"],
                "mean_individual_knowledge": out["mean_individual_knowledge"],
            }
        )
        frames.append(frame)
        if cell.trace:
            paths.setdefault(unit.cell, []).append(out)
    runs = pd.concat(frames, ignore_index=True).astype(RUN_COLUMNS)[list(RUN_COLUMNS)]

    rows = []
    for index, parts in paths.items():
        code_mean, code_se = _mean_se(np.concatenate([p["code_knowledge_path"] for p in parts]))
        ind_mean, ind_se = _mean_se(
            np.concatenate([p["mean_individual_knowledge_path"] for p in parts])
        )
        count = sum(p["code_knowledge_path"].shape[0] for p in parts)
        rows.append(
            pd.DataFrame(
                {
                    **_cell_fields(cells[index], index),
                    "period": np.arange(1, code_mean.size + 1),
                    "runs": count,
                    "code_knowledge": code_mean,
                    "code_knowledge_se": code_se,
                    "mean_individual_knowledge": ind_mean,
                    "mean_individual_knowledge_se": ind_se,
                }
            )
        )
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=list(PATH_COLUMNS))
    return DesignResult(runs, table.astype(PATH_COLUMNS)[list(PATH_COLUMNS)])


def run_cells(
    cells: Sequence[Cell],
    seed: SeedLike,
    workers: int = 1,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> DesignResult:
    """Run a design and return its tidy tables (identical for any ``workers``)."""
    units, results = run_units(cells, seed, workers, batch_size, progress)
    return tabulate(cells, units, results, seed)


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Per cell: runs, and the mean and standard error of each outcome and of the periods."""
    keys = ["study", "cell", "p1", "p2", "p3", "p4", "slow_share", "p1_slow"]
    grouped = runs.groupby(keys, dropna=False, sort=False)
    out = grouped.agg(
        runs=("code_knowledge", "size"),
        code_knowledge=("code_knowledge", "mean"),
        code_knowledge_sd=("code_knowledge", "std"),
        mean_individual_knowledge=("mean_individual_knowledge", "mean"),
        mean_individual_knowledge_sd=("mean_individual_knowledge", "std"),
        periods=("periods", "mean"),
        periods_sd=("periods", "std"),
    ).reset_index()
    root_n = np.sqrt(out["runs"])
    out["code_knowledge_se"] = out.pop("code_knowledge_sd") / root_n
    out["mean_individual_knowledge_se"] = out.pop("mean_individual_knowledge_sd") / root_n
    out["periods_se"] = out.pop("periods_sd") / root_n
    return out
