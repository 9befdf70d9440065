"""``copsim sweep CONFIG --target-ci W``: add replicates until every cell's interval is narrow.

The report's Replication section measures, per design cell, the half-width of
the 95% confidence interval of each replication outcome
(:func:`copsim.report.replication_table`; on the logit scale for outcomes on
[0, 1]; a cell with one run has none and counts as too wide).  This module
works towards a target for it, in rounds:

1. run the sweep as the folder stands (the config's replicates, or the last
   round's; resumable like any sweep);
2. measure each cell with the report's own function;
3. give each cell that is too wide more replicates, estimated from its
   current width (the half-width shrinks as ``1/sqrt(n)``, so ``n`` runs at
   half-width ``h`` need about ``n (h/W)^2`` for ``W``), with a margin, at least
   a small step, at most four times as many in one round, and never more than
   the cap; record them in ``replication.json`` (:mod:`copsim.sweep.replication`);
4. repeat until every cell is within ``W``, or the cells still too wide are
   at the cap (or have no finished run, which more replicates would not fix).

A new replicate ``k`` of point ``p`` is run with ``child_seed(root, p, k)``,
exactly as in a fresh sweep with more replicates, so the extended folder holds
the same runs as that sweep would for those points.  A round's counts are
recorded before it runs, so an interrupted ``--target-ci`` resumes with the
same command and ends with the same tables as one that was never stopped.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copsim.sweep import replication
from copsim.sweep.config import MAX_RUNS, ExperimentConfig, huge_allowed
from copsim.sweep.design import Design
from copsim.sweep.runner import SweepSummary, folder_design, plan, run_sweep
from copsim.sweep.storage import REPLICATION, FolderLock, ResultStore, SweepError

#: Without ``--max-replicates`` (or ``report.max_replicates``): this many times the
#: config's replicates per design point, at most.
DEFAULT_CAP_FACTOR = 10
#: A round asks for this much more than the estimate (the new runs' spread differs).
MARGIN = 1.1
#: A round at most multiplies a cell's replicates by this (a spread measured on a
#: few runs is itself uncertain; the next round corrects the estimate).
MAX_GROWTH = 4
#: A round adds at least this share of a cell's replicates (and at least one).
MIN_STEP = 0.1


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class TargetRefused(SweepError):
    """Settings ``--target-ci`` cannot work with (bad input: exit code 2)."""

    exit_code = 2


# ----------------------------------------------------------------------------- settings
def settings(
    cfg: ExperimentConfig, design: Design, target: Any, max_replicates: Any
) -> tuple[float, int]:
    """The target half-width and the cap on replicates per point, checked.

    ``max_replicates`` defaults to the config's ``report.max_replicates``, else to
    :data:`DEFAULT_CAP_FACTOR` times its replicates.
    """
    try:
        value = float(target)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(target, bool) or not math.isfinite(value) or value <= 0:
        raise TargetRefused(
            f"--target-ci = {target!r}: expected a number above 0, the largest 95% CI "
            "half-width a cell may keep, in the outcomes' own units (e.g. 0.05)"
        )
    cap = max_replicates if max_replicates is not None else cfg.report.max_replicates
    if cap is None:
        cap = DEFAULT_CAP_FACTOR * cfg.replicates
    if isinstance(cap, bool) or not isinstance(cap, numbers.Integral) or cap < 1:
        raise TargetRefused(f"--max-replicates = {cap!r}: expected a whole number of at least 1")
    cap = int(cap)
    if cap < cfg.replicates:
        raise TargetRefused(
            f"--max-replicates = {cap} is below the config's replicates ({cfg.replicates}): "
            "the cap counts every replicate of a design point, the config's included; "
            f"give at least {cfg.replicates}"
        )
    most = design.n_points * cap
    if most > MAX_RUNS and not huge_allowed(cfg):
        raise TargetRefused(
            f"--max-replicates = {cap}: with {design.n_points:,} design points the sweep could "
            f"grow to {most:,} runs, beyond the limit of {MAX_RUNS:,}; give a smaller cap, "
            "or pass --allow-huge if you mean it"
        )
    return value, cap


# ----------------------------------------------------------------------------- one round
@dataclass
class CellPlan:
    """One design cell: how wide it is and what the next round does to it.

    ``action`` is ``"within"`` (every half-width at most the target), ``"raise"``
    (``replicates`` -> ``new_replicates``), ``"cap"`` (too wide, at the cap) or
    ``"no runs"`` (no run of the cell finished; more of the same would fail too).
    """

    cell: int
    factors: dict[str, Any]
    n: int
    replicates: int
    widths: dict[str, float]
    action: str
    new_replicates: int
    needed: int | None = None  # replicates the estimate asks for (None: no interval yet)

    @property
    def widest(self) -> tuple[str, float]:
        """The outcome with the widest interval (an outcome without one counts as widest)."""
        return max(self.widths.items(), key=lambda kv: math.inf if math.isnan(kv[1]) else kv[1])

    def label(self) -> str:
        """The cell as its factor values."""
        return ", ".join(f"{k}={v}" for k, v in self.factors.items()) or "the design"


@dataclass
class RoundPlan:
    """The cells of a design after a round, and the replicates the next one adds."""

    target: float
    cap: int
    outcomes: list[str]
    cells: list[CellPlan]
    points_per_cell: int

    @property
    def raised(self) -> list[CellPlan]:
        """Cells that get more replicates."""
        return [c for c in self.cells if c.action == "raise"]

    @property
    def too_wide(self) -> list[CellPlan]:
        """Cells with some interval wider than the target (or none)."""
        return [c for c in self.cells if c.action != "within"]

    @property
    def runs_added(self) -> int:
        """Runs the round adds."""
        return sum((c.new_replicates - c.replicates) * self.points_per_cell for c in self.raised)

    @property
    def status(self) -> str:
        """Where the folder stands: ``met``, ``cap``, ``unfinished-cells`` or ``running``."""
        if self.raised:
            return "running"
        if not self.too_wide:
            return "met"
        return "cap" if any(c.action == "cap" for c in self.too_wide) else "unfinished-cells"

    def entry(self, number: int) -> dict[str, Any]:
        """The round as the replication record keeps it."""
        return {
            "round": number,
            "planned": _now(),
            "target_ci": self.target,
            "max_replicates": self.cap,
            "outcomes": self.outcomes,
            "cells": len(self.cells),
            "cells_too_wide": len(self.too_wide),
            "cells_raised": [
                {"cell": c.cell, "from": c.replicates, "to": c.new_replicates}
                for c in sorted(self.raised, key=lambda c: c.cell)
            ],
            "runs_added": self.runs_added,
        }

    def lines(self) -> list[str]:
        """The round's cells in words: each raised, capped or failed cell on a line."""
        out = []
        for c in self.too_wide:
            name, width = c.widest
            shown = "no interval" if math.isnan(width) else f"±{width:.3g}"
            head = f"  {c.label()}: n={c.n}, {name} {shown}"
            if c.action == "raise":
                out.append(f"{head}: {c.replicates} -> {c.new_replicates} replicates")
            elif c.action == "cap":
                need = f"; about {c.needed} replicates would reach it" if c.needed else ""
                out.append(f"{head}: at the cap of {self.cap} replicates{need}")
            else:
                out.append(f"{head}: no run finished (see the error column of runs.parquet)")
        return out


def _next_replicates(replicates: int, ratio: float, cap: int) -> int:
    """Replicates for a too-wide cell: ``ratio`` is (half-width / target)^2 (NaN: no interval)."""
    want = 2 * replicates if math.isnan(ratio) else math.ceil(MARGIN * replicates * ratio)
    want = max(want, replicates + max(1, math.ceil(MIN_STEP * replicates)))
    return min(want, MAX_GROWTH * replicates, cap)


def assess(results: Any, design: Design, target: float, cap: int) -> RoundPlan:
    """Measure every cell of ``design`` in ``results`` and plan the next round.

    The half-widths are the report's (:func:`copsim.report.replication_table`);
    the table's rows are matched to the design's cells through the runs'
    ``point`` column, so two cells are never confused by how their values print.
    """
    from copsim import analysis as an
    from copsim import report as rp

    table, outcomes, _ = rp.replication_table(results, target)
    by = rp.replication_factors(results)
    runs = an.ok_runs(results.runs)  # a failed run may lack its parameter columns
    points = runs[["point", *by]].drop_duplicates("point")
    points = points.assign(cell=points["point"].astype("int64") // design.points_per_cell)
    keys = points[[*by, "cell"]].drop_duplicates("cell")
    if by:
        left = table.assign(**{f: table[f].astype(object) for f in by})
        right = keys.assign(**{f: keys[f].astype(object) for f in by})
        matched = left.merge(right, on=by, how="inner")
    else:
        matched = table.merge(keys[["cell"]], how="cross")
    plans: dict[int, CellPlan] = {}
    for _, row in matched.iterrows():
        cell = int(row["cell"])
        widths = {o: float(row[f"{o} ±"]) for o in outcomes}
        have = design.replicates_of_cell(cell)
        known = [w for w in widths.values() if not math.isnan(w)]
        ratio = (max(known) / target) ** 2 if len(known) == len(widths) else math.nan
        needed = math.ceil(have * ratio) if not math.isnan(ratio) else None
        if row["wider than target"] == "":
            action, new = "within", have
        elif have >= cap:
            action, new = "cap", have
        else:
            action, new = "raise", _next_replicates(have, ratio, cap)
        plans[cell] = CellPlan(
            cell, design.cell_factors(cell), int(row["n"]), have, widths, action, new, needed
        )
    for cell in range(design.n_cells):  # cells none of whose runs finished
        if cell not in plans:
            have = design.replicates_of_cell(cell)
            plans[cell] = CellPlan(
                cell=cell,
                factors=design.cell_factors(cell),
                n=0,
                replicates=have,
                widths=dict.fromkeys(outcomes, math.nan),
                action="no runs",
                new_replicates=have,
            )
    return RoundPlan(target, cap, outcomes, list(plans.values()), design.points_per_cell)


# ----------------------------------------------------------------------------- the rounds
@dataclass
class TargetSummary:
    """What ``--target-ci`` did in this session, and where the folder stands."""

    path: Path
    target: float
    cap: int
    n_runs: int = 0
    executed: int = 0
    failed_total: int = 0
    rounds: list[str] = field(default_factory=list)  # one line per round planned this session
    rounds_total: int = 0
    runs_added_total: int = 0
    last: RoundPlan | None = None
    status: str = "running"
    complete: bool = False
    interrupted: bool = False
    dry_run: bool = False
    messages: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.text()

    def text(self, rounds: bool = True) -> str:
        """The summary; ``rounds=False`` leaves out the round lines (shown as they happened)."""
        if self.dry_run:
            return "\n".join(self.messages)
        lines = [*self.messages, *(self.rounds if rounds else [])]
        plan_ = self.last
        added = (
            f"{self.runs_added_total} runs added by --target-ci in {self.rounds_total} rounds"
            if self.rounds_total
            else "no runs added"
        )
        if self.interrupted or not self.complete or plan_ is None:
            state = "interrupted" if self.interrupted else "stopped"
            lines.append(
                f"target-ci {state} before the end: {self.executed} runs executed this session; "
                "run the same command again to continue (finished runs are kept)"
            )
        elif self.status == "met":
            lines.append(
                f"target-ci met: every one of the {len(plan_.cells)} cells has a 95% CI "
                f"half-width of at most {self.target:g} on {', '.join(plan_.outcomes)}; "
                f"{added}, {self.n_runs} runs in all"
            )
        else:
            wide = len(plan_.too_wide)
            lines.append(
                f"target-ci not met: {wide} of {len(plan_.cells)} cells "
                f"{'is' if wide == 1 else 'are'} still wider than {self.target:g} on "
                f"{', '.join(plan_.outcomes)}; {added}, {self.n_runs} runs in all:"
            )
            lines += plan_.lines()
            if self.status == "cap":
                lines.append(
                    f"raise --max-replicates (now {self.cap}, or report.max_replicates in the "
                    "config) and run the same command again to go on"
                )
        lines.append(f"results: {self.path}")
        return "\n".join(lines)


def _round_line(number: int, plan_: RoundPlan) -> str:
    counts = sorted({c.new_replicates for c in plan_.raised})
    span = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"
    return (
        f"round {number}: {len(plan_.too_wide)} of {len(plan_.cells)} cells wider than "
        f"{plan_.target:g}; {len(plan_.raised)} raised to {span} replicates "
        f"(+{plan_.runs_added} runs)"
    )


def _record_in_manifest(store: ResultStore, record: replication.ReplicationRecord) -> None:
    """Say in the manifest that (and how far) ``--target-ci`` extended the sweep."""
    rounds = record.rounds
    store.manifest["target_ci"] = {
        "record": REPLICATION,
        "status": record.status,
        "rounds": len(rounds),
        "runs_added": sum(r.get("runs_added", 0) for r in rounds),
        "target_ci": rounds[-1]["target_ci"] if rounds else record.extra.get("target_ci"),
        "max_replicates": rounds[-1]["max_replicates"]
        if rounds
        else record.extra.get("max_replicates"),
        "updated": _now(),
    }


def run_target_ci(
    config: str | Path | ExperimentConfig,
    target: float,
    max_replicates: int | None = None,
    *,
    workers: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    fresh: bool = False,
    dry_run: bool = False,
    progress: bool = True,
    out: str | Path | None = None,
    ensemble_size: int | None = None,
    max_chunks: int | None = None,
    on_round: Callable[[str], None] | None = None,
) -> TargetSummary:
    """Run the sweep of ``config``, then add replicates in rounds until every cell is within
    ``target`` or at the cap (see the module docstring).

    The folder's lock is held from the first round to the last.  ``max_chunks``
    stops after that many chunks in all (tests; the same call resumes);
    ``on_round`` is told each round as it is planned.
    """
    cfg, design = plan(config)
    target, cap = settings(cfg, design, target, max_replicates)
    path = Path(out) if out is not None else cfg.output_dir
    summary = TargetSummary(path, target, cap)
    if dry_run:
        return _dry_run(config, design, path, summary, fresh)
    options = {
        "workers": workers,
        "backend": backend,
        "scheduler": scheduler,
        "progress": progress,
        "ensemble_size": ensemble_size,
    }
    lock = FolderLock(path)
    lock.acquire()
    try:
        _rounds(config, design, summary, lock, options, resume, fresh, max_chunks, on_round)
    finally:
        lock.release()
    return summary


def _rounds(
    config: str | Path | ExperimentConfig,
    design: Design,
    summary: TargetSummary,
    lock: FolderLock,
    options: dict[str, Any],
    resume: bool,
    fresh: bool,
    max_chunks: int | None,
    on_round: Callable[[str], None] | None,
) -> None:
    """Sweep, measure, raise, record; until done (with the folder's lock held).

    ``options`` go to every :func:`~copsim.sweep.runner.run_sweep`; ``resume`` and
    ``fresh`` to the first only.
    """
    path = summary.path
    budget = max_chunks
    first = True
    while True:
        swept: SweepSummary = run_sweep(
            config,
            out=path,
            lock=lock,
            resume=resume and first,
            fresh=fresh and first,
            max_chunks=budget,
            **options,
        )
        first = False
        summary.executed += swept.executed
        summary.failed_total = swept.failed_total
        summary.n_runs = swept.n_runs
        summary.messages = [m for m in swept.messages if not m.startswith("nothing to do")]
        if budget is not None:
            budget -= swept.chunks_run
        if swept.interrupted:
            summary.interrupted = True
            return
        if not swept.complete:
            return
        store = ResultStore(path)
        here = folder_design(design, path)
        record = replication.load(store, here) or replication.ReplicationRecord()
        round_plan = assess(_results(path, store), here, summary.target, summary.cap)
        if not round_plan.outcomes:
            raise TargetRefused(
                f"{path}: the runs have no numeric outcome whose interval could be narrowed"
            )
        summary.last = round_plan
        if round_plan.raised and budget == 0:
            return  # out of chunks: the next call plans this round again, identically
        if round_plan.raised:
            number = len(record.rounds) + 1
            record.cells.update({c.cell: c.new_replicates for c in round_plan.raised})
            record.rounds.append(round_plan.entry(number))
            line = _round_line(number, round_plan)
            summary.rounds.append(line)
            if on_round is not None:
                on_round(line)
        record.status = round_plan.status
        record.extra.update(target_ci=summary.target, max_replicates=summary.cap)
        _record_in_manifest(store, record)
        replication.save(store, here, record)
        summary.rounds_total = len(record.rounds)
        summary.runs_added_total = sum(r.get("runs_added", 0) for r in record.rounds)
        summary.status = round_plan.status
        if not round_plan.raised:
            summary.complete = True
            return


def _dry_run(
    config: str | Path | ExperimentConfig,
    design: Design,
    path: Path,
    summary: TargetSummary,
    fresh: bool,
) -> TargetSummary:
    """The plan: the sweep as the folder stands and, if its runs are all there, the next round."""
    summary.dry_run = True
    messages = run_sweep(config, out=path, fresh=fresh, dry_run=True).messages
    store, here = None, design
    if not fresh:
        try:
            store, here = ResultStore(path), folder_design(design, path)
        except SweepError:
            store = None  # the sweep plan above says what is wrong with the folder
    number = _rounds_done(store, here) + 1
    messages.append(
        f"target-ci: cells whose 95% CI half-width is wider than {summary.target:g} get more "
        f"replicates, in rounds, up to {summary.cap} per design point (at most "
        f"{here.n_points * summary.cap:,} runs in all)"
    )
    ready = (
        store is not None
        and store.manifest.get("status") == "complete"
        and store.manifest.get("fingerprint") == here.fingerprint()
    )
    if not ready:
        messages.append(
            f"round {number} is planned from the cells' intervals once these runs have finished"
        )
        summary.messages = messages
        return summary
    round_plan = assess(_results(path, store), here, summary.target, summary.cap)
    if round_plan.raised:
        messages.append(_round_line(number, round_plan))
        messages.append(f"outcomes: {', '.join(round_plan.outcomes)}; cells too wide:")
        messages += round_plan.lines()
    elif round_plan.status == "met":
        messages.append(
            f"every one of the {len(round_plan.cells)} cells is already within "
            f"{summary.target:g} on {', '.join(round_plan.outcomes)}: nothing to add"
        )
    else:
        messages.append("nothing can be added; cells still too wide:")
        messages += round_plan.lines()
    summary.messages = messages
    return summary


def _results(path: Path, store: ResultStore) -> Any:
    """The runs table and manifest of a folder (the steps and agents are not needed here)."""
    from copsim import analysis as an

    return an.Results(path, an.load(path, "runs"), manifest=store.read_manifest() or {})


def _rounds_done(store: ResultStore | None, design: Design) -> int:
    """Rounds the folder's record lists (0 without one)."""
    if store is None:
        return 0
    try:
        record = replication.load(store, design)
    except SweepError:
        return 0
    return len(record.rounds) if record else 0
