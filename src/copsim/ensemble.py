"""The ensemble engine: many independent communities stepped as one array program.

``Ensemble(params, seeds)`` builds K communities in one set of arrays
(:mod:`copsim.layout`) and runs the schedule's stages (:mod:`copsim.schedule`)
on all of them at once; ``CoPModel`` is an ensemble of one, so every rule has
one implementation.  Each run draws keyed random numbers from its own seed
(:mod:`copsim.draws`), so a run's numbers never depend on the others sharing
the arrays (docs/engine.md).

Every period the measures are taken for all runs together ((K,) per name) and
each run's stop rule is checked: equilibrium (March's closed model), dissolution
(fewer than two members) or the horizon.  A run that stops leaves its final
record, and once enough runs have stopped the arrays are *compacted*: finished
runs are dropped, so they stop costing.

:func:`run_ensembles` is what the sweep and the studies call: it groups runs
that can share arrays (the same parameters except those in
``params.ENSEMBLE_VARYING``), runs each group in ensembles of at most
``size`` runs, and isolates failures (an ensemble that raises is rerun one run
at a time, so only the run that raises is recorded as failed).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from copsim import initialization, measures, outcomes, schedule
from copsim import knowledge as kn
from copsim.derived import Derived
from copsim.draws import run_key
from copsim.params import ENSEMBLE_VARYING, Params
from copsim.state import Community, Period

#: Compact the arrays once this share of the runs still held has stopped.
COMPACT_SHARE = 0.25
#: Default number of runs per ensemble (``copsim sweep --ensemble-size``): large
#: enough to amortize numpy's per-call cost, small enough to stay in cache-friendly
#: sizes (about 100,000 practitioner slots per ensemble at most, see ``default_size``).
DEFAULT_SIZE = 512
SLOTS_PER_ENSEMBLE = 100_000


def default_size(params: Params) -> int:
    """A sensible ensemble size for runs of this shape (docs/engine.md, 'Sizes')."""
    return int(max(1, min(DEFAULT_SIZE, SLOTS_PER_ENSEMBLE // max(params.n_practitioners, 1))))


@dataclass
class RunResult:
    """What an ensemble hands back for one run."""

    outcomes: dict[str, Any]
    history: dict[str, np.ndarray] | None = None  # per-period records (step 0 first)
    error: str | None = None
    traceback: str | None = None


@dataclass(eq=False)
class Ensemble:
    """K communities, stepped together until each has stopped."""

    params: Sequence[Params] | Params
    seeds: Sequence[Any]
    #: keep every period's record: True for every measure, or the names to keep
    keep_history: bool | Sequence[str] = False
    keep_events: bool = False
    compact: bool = True
    #: take the full record every period (``CoPModel``'s DataCollector needs it);
    #: otherwise only when a run stops, unless a history is kept
    every_period: bool = False
    community: Community = field(init=False)

    def __post_init__(self) -> None:
        params = [self.params] if isinstance(self.params, Params) else list(self.params)
        seeds = list(self.seeds)
        if len(params) == 1 and len(seeds) > 1:
            params = params * len(seeds)
        if len(params) != len(seeds):
            raise ValueError(f"{len(params)} parameter sets for {len(seeds)} seeds")
        self.size = len(seeds)
        self.community = initialization.build(params, [run_key(s) for s in seeds])
        self.community.records.keep_events = self.keep_events
        self.shared = self.community.params
        self.stages = schedule.stages(params)
        self.reporters = schedule.hooks("measures")
        self.steps = 0
        self.running = np.ones(self.size, dtype=bool)  # by run index (input order)
        self.at_equilibrium = np.zeros(self.size, dtype=bool)
        self.stopped_at = np.full(self.size, -1, dtype=np.int64)
        self.final: dict[int, dict[str, float]] = {}
        self._rows: list[np.ndarray] = []  # per period: (runs held, kept names)
        self._ids: list[np.ndarray] = []  # per period: the runs those rows belong to
        self.metrics = measures.measure(self.community, self.reporters)
        self._base: dict | None = None
        keep = self.keep_history
        self.kept_names: list[str] = (
            [] if not keep else list(self.metrics) if keep is True else list(keep)
        )
        self._record()

    # ------------------------------------------------------------------ stepping
    def step(self) -> None:
        """One period for every run still held: the stages in order, then ageing,
        the measures and each run's stop rule."""
        c = self.community
        self.steps += 1
        c.step = self.steps
        c.draws.step = self.steps
        for stage in self.stages:
            stage.run(c)
        c.people.tenure += c.people.present
        base, members = measures.observe(c)
        if self.kept_names or self.every_period:
            self.metrics = measures.measure(c, self.reporters, base)
            self._record()
        else:  # the record is taken only when some run stops (see _check_stop)
            self._base = base
            self.metrics = {"members": members.astype(np.float64)}
        self._check_stop()

    def run(self, max_steps: int | None = None) -> Ensemble:
        """Step until every run has stopped (or ``max_steps`` more periods)."""
        budget = max_steps if max_steps is not None else self.shared.max_steps
        for _ in range(budget):
            if not self.running.any():
                break
            self.step()
        return self

    def _record(self) -> None:
        """Keep this period's record of every run still going (one array per period)."""
        if not self.kept_names:
            return
        ids = self.community.run_ids
        going = self.running[ids]
        table = np.stack([self.metrics[n] for n in self.kept_names], axis=1)
        self._rows.append(table[going])
        self._ids.append(ids[going])

    def histories(self) -> list[dict[str, np.ndarray]] | None:
        """Each run's per-period records (step 0 first), name -> (periods,) array."""
        if not self.kept_names:
            return None
        ids = np.concatenate(self._ids)
        rows = np.concatenate(self._rows)
        order = np.argsort(ids, kind="stable")  # by run, periods in order within a run
        bounds = np.searchsorted(ids[order], np.arange(self.size + 1))
        out = []
        for k in range(self.size):  # one slice per run to hand back, not a step loop
            block = rows[order[bounds[k] : bounds[k + 1]]]
            out.append({n: block[:, j] for j, n in enumerate(self.kept_names)})
        return out

    def _check_stop(self) -> None:
        c, p = self.community, self.shared
        ids = c.run_ids
        held = self.running[ids]
        closed = (not c.social and p.turnover_rate == 0) & (
            np.broadcast_to(c.value("turbulence_rate"), ids.shape) == 0
        )
        equilibrium = np.zeros(ids.size, dtype=bool)
        if closed.any() and p.stop_at_equilibrium:
            lay = c.layout
            equilibrium = (
                kn.at_equilibrium(
                    lay.by_run(c.people.beliefs), lay.spaces_by_run(c.spaces.codes), c.world.reality
                )
                & closed
            )
        dissolved = c.social & (self.metrics["members"] < 2)
        horizon = self.steps >= p.max_steps
        stop = held & (equilibrium | dissolved | horizon)
        if not stop.any():
            return
        if len(self.metrics) == 1:  # only members so far: take the record now
            self.metrics = measures.measure(c, self.reporters, self._base)
        self.at_equilibrium[ids[stop]] = equilibrium[stop]
        self.stopped_at[ids[stop]] = self.steps
        self.running[ids[stop]] = False
        for row in np.flatnonzero(stop):
            self.final[int(ids[row])] = {n: float(v[row]) for n, v in self.metrics.items()}
        still = self.running[ids]
        if self.compact and still.any() and (~still).mean() >= COMPACT_SHARE:
            compact(c, np.flatnonzero(still))
            self.metrics = {n: v[still] for n, v in self.metrics.items()}

    # ------------------------------------------------------------------ results
    def stop_reason(self, run: int) -> str:
        """Why run ``run`` stopped (or 'running')."""
        if self.running[run]:
            return "running"
        if self.at_equilibrium[run]:
            return "equilibrium"
        if self.stopped_at[run] >= self.shared.max_steps:
            return f"max_steps = {self.shared.max_steps} reached"
        return "dissolved"

    def current(self, run: int) -> dict[str, float]:
        """Run ``run``'s latest record (final once it has stopped)."""
        if run in self.final:
            return self.final[run]
        row = int(np.flatnonzero(self.community.run_ids == run)[0])
        return {n: float(v[row]) for n, v in self.metrics.items()}

    def outcomes(self, run: int) -> dict[str, Any]:
        """Run ``run``'s outcomes as one flat record (a row of a results table)."""
        m = self.current(run)
        return outcome_record(
            m,
            self.stopped_at[run] if self.stopped_at[run] >= 0 else self.steps,
            bool(self.at_equilibrium[run]),
        )

    def results(self) -> list[RunResult]:
        """Every run's outcomes (and history), in input order."""
        histories = self.histories()
        return [
            RunResult(self.outcomes(k), None if histories is None else histories[k])
            for k in range(self.size)
        ]


def outcome_record(m: dict[str, float], steps: int, at_equilibrium: bool) -> dict[str, Any]:
    """The flat record of a run's outcomes: steps, the label and its margin, the record."""
    label, margin = outcomes.classify_with_margin(
        m["expansiveness"], m["defensiveness"], int(m["members"]), int(m["spaces_alive"])
    )
    return {
        "steps": int(steps),
        "at_equilibrium": bool(at_equilibrium),
        "label": label,
        "label_margin": margin,
        **m,
    }


# ---------------------------------------------------------------------- compaction
PEOPLE_PER_SLOT = (
    "beliefs",
    "socialization_rates",
    "identity",
    "purpose",
    "resources",
    "power",
    "income",
    "present",
    "tenure",
    "founder",
    "cohort",
    "peripheral_origin",
    "gain",
    "engagement",
    "occupant",
    "endowment",
)
SPACES_PER_SPACE = (
    "codes",
    "agenda",
    "safety",
    "permeability",
    "voice_norm",
    "funds",
    "intensity",
    "rigidity",
    "alive",
    "founding_mass",
)


def compact(c: Community, keep: np.ndarray) -> None:
    """Keep only the runs at rows ``keep`` (sorted) of the ensemble's arrays.

    Every per-slot, per-space and per-run array is cut to those runs, memberships
    are renumbered, caches are rebuilt and each submodel's own state is cut by
    its ``compact`` hook.  A run's state is unchanged, only where it lives moves.
    """
    lay = c.layout
    keep = np.asarray(keep, dtype=np.int64)
    slots = (keep[:, None] * lay.slots + np.arange(lay.slots)).reshape(-1)
    spaces = (keep[:, None] * lay.spaces + np.arange(lay.spaces)).reshape(-1)
    people, sp = c.people, c.spaces
    home_pair, home_space = c.derived.home_pairs(), c.derived.home_space()
    has_home = (home_pair >= 0)[slots]
    home_local = (home_space % lay.spaces)[slots]
    for name in PEOPLE_PER_SLOT:
        setattr(people, name, getattr(people, name)[slots])
    people.cohort_size = people.cohort_size[keep]
    people.version += 1
    people.purpose_version += 1
    for name in SPACES_PER_SPACE:
        value = getattr(sp, name)
        if value is not None:
            setattr(sp, name, value[spaces])
    sp.agenda_version += 1
    sp.members.take(keep, lay.spaces, lay.slots)
    c.world.reality = c.world.reality[keep]
    c.records.take(keep)
    c.funder.take(keep)
    c.draws = c.draws.take(keep)
    c.varying = {name: v[keep] for name, v in c.varying.items()}
    c.run_ids = c.run_ids[keep]
    base = c.baseline
    c.baseline = outcomes.Baseline(
        beliefs=base.beliefs[slots],
        diversity=base.diversity[keep],
        powerful_view=base.powerful_view[spaces],
        codified=base.codified,
    )
    for hook in schedule.hooks("compact"):
        hook(c, keep, slots, spaces)
    c.layout = lay.with_runs(keep.size)
    c.derived = Derived(people, sp, c.at_slots("power_asymmetry"), c.layout)
    new_run = np.repeat(np.arange(keep.size), lay.slots)
    c.derived.carry_homes(new_run * lay.spaces + home_local, has_home)
    c.period = Period()


# ---------------------------------------------------------------------- many runs
def ensemble_key(params: Params) -> tuple:
    """What runs must share to go into one ensemble: every parameter but the varying."""
    dump = params.model_dump()
    return tuple(
        (name, repr(value)) for name, value in sorted(dump.items()) if name not in ENSEMBLE_VARYING
    )


def run_ensembles(
    params: Sequence[Params],
    seeds: Sequence[Any],
    *,
    size: int | None = None,
    keep_history: bool | Sequence[str] = False,
    progress: Callable[[int], None] | None = None,
) -> list[RunResult]:
    """Run every (parameters, seed) pair; results in input order.

    Runs are grouped by :func:`ensemble_key` and run in ensembles of at most
    ``size`` runs (``default_size`` when None).  Results do not depend on the
    grouping or the size.  An ensemble that raises is rerun one run at a time, so
    that only a run that raises is recorded as failed, with its error.
    """
    if len(params) != len(seeds):
        raise ValueError(f"{len(params)} parameter sets for {len(seeds)} seeds")
    groups: dict[tuple, list[int]] = {}
    for i, p in enumerate(params):
        groups.setdefault(ensemble_key(p), []).append(i)
    results: list[RunResult | None] = [None] * len(params)
    for members in groups.values():
        width = size or default_size(params[members[0]])
        for start in range(0, len(members), width):
            part = members[start : start + width]
            for i, result in zip(part, _run_part(params, seeds, part, keep_history), strict=True):
                results[i] = result
            if progress is not None:
                progress(len(part))
    return results  # type: ignore[return-value]


def _run_part(
    params: Sequence[Params], seeds: Sequence[Any], part: list[int], keep_history
) -> Iterable[RunResult]:
    try:
        ens = Ensemble([params[i] for i in part], [seeds[i] for i in part], keep_history)
        return ens.run().results()
    except Exception:
        if len(part) == 1:
            return [_failed(traceback.format_exc(limit=-6))]
        return [r for i in part for r in _run_part(params, seeds, [i], keep_history)]


def _failed(tb: str) -> RunResult:
    last = tb.strip().splitlines()[-1] if tb.strip() else "error"
    return RunResult(outcomes={}, error=last, traceback=tb)
