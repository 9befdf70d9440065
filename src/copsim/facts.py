"""The stylized facts of the design brief (section 4, facts 1-9) as paired comparisons.

Each fact is a directional claim from the sources.  Here a fact is data: one
or more :class:`Comparison` rows, each naming two *arms* (parameter overrides
on top of the defaults), the outcome measured (a :class:`Measure` on the run's
time series) and the claimed sign of ``treatment - control``.  Both arms of a
comparison are run on the *same* seeds, ``child_seed(root, fact, i)`` for
replicate ``i``, so each replicate gives one paired difference and the
uncertainty is that of the differences, not of two independent samples.

:func:`run_facts` runs every distinct (arm, seed) once (arms shared by several
comparisons of one fact are not run twice), optionally in a pool of spawned
worker processes; :func:`paired_difference` and :func:`summarize` turn the
values into the table (means, mean paired difference, its 95% confidence
interval, and whether the interval excludes 0 in the claimed direction).  The
experiment script ``experiments/stylized_facts.py`` and the tests
``tests/test_stylized_facts.py`` share these definitions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from copsim.params import Params
from copsim.pool import WorkerPool
from copsim.seeds import SeedLike, child_seed

#: Root seed of the stylized-facts study.
ROOT_SEED = 20240601
#: Confidence level of the intervals in the table.
LEVEL = 0.95

Reduce = Literal["final", "mean", "settle"]


# --------------------------------------------------------------------------- definitions
@dataclass(frozen=True)
class Measure:
    """An outcome of one run, read from the model's per-step series.

    ``final``: the value after the last step.  ``mean``: the average over the
    rows of steps ``start`` .. ``stop - 1`` (``stop=None``: to the end; row 0
    is the initial state, so ``start=1`` averages over the steps of the run).
    ``settle``: the first step by which a share ``share`` of the run's total of
    ``metric`` (a per-step count such as ``repertoire_changes``) had
    accumulated; with ``share=1`` that is the last step at which it was
    non-zero; 0 if it never was.  For ``final`` and ``mean``, a run that stops
    early (a dissolved community) keeps its last value for the remaining steps.
    """

    metric: str
    reduce: Reduce = "final"
    start: int = 1
    stop: int | None = None
    share: float = 1.0

    def describe(self) -> str:
        """A short readable name, e.g. 'participation_mean, mean of steps 45-100'."""
        if self.reduce == "final":
            return f"{self.metric} at the end"
        if self.reduce == "settle":
            if self.share >= 1.0:
                return f"last step with {self.metric} > 0"
            return f"step by which {self.share:.0%} of all {self.metric} had happened"
        end = "end" if self.stop is None else str(self.stop - 1)
        return f"{self.metric}, mean of steps {self.start}-{end}"

    def apply(self, series: Sequence[float], horizon: int) -> float:
        """Reduce one run's series (row t = after step t) to a number.

        ``horizon`` is the planned number of steps.
        """
        values = np.asarray(series, dtype=np.float64)
        if self.reduce == "settle":
            return settling_step(values[1:], self.share)
        if values.size < horizon + 1:
            values = np.concatenate([values, np.full(horizon + 1 - values.size, values[-1])])
        if self.reduce == "final":
            return float(values[horizon])
        stop = horizon + 1 if self.stop is None else min(self.stop, horizon + 1)
        window = values[self.start : stop]
        return float(window.mean()) if window.size else float(values[horizon])


def settling_step(per_step: np.ndarray, share: float) -> float:
    """First step (1-based) by which ``share`` of the total of ``per_step`` had
    accumulated; 0 if the total is 0.  ``share=1`` gives the last non-zero step."""
    total = float(per_step.sum())
    if total <= 0:
        return 0.0
    cumulative = np.cumsum(per_step)
    return float(np.searchsorted(cumulative, share * total - 1e-9) + 1)


@dataclass(frozen=True)
class Arm:
    """One side of a comparison: a label and the parameter overrides it sets."""

    label: str
    overrides: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, label: str, **overrides: Any) -> Arm:
        """An arm from keyword overrides (stored sorted, so equal arms compare equal)."""
        return cls(label, tuple(sorted(overrides.items())))

    def with_overrides(self, **overrides: Any) -> Arm:
        """The same arm with more overrides (e.g. a shorter horizon), same label."""
        return Arm.of(self.label, **{**dict(self.overrides), **overrides})

    def params(self, base: Mapping[str, Any] | None = None) -> Params:
        """Validated parameters: defaults, then ``base`` (scale), then the arm."""
        return Params(**{**(base or {}), **dict(self.overrides)})


@dataclass(frozen=True)
class Comparison:
    """A directional claim: ``measure`` under ``treatment`` minus under ``control``
    has the sign ``direction`` (+1 higher, -1 lower)."""

    fact: int
    key: str
    claim: str
    control: Arm
    treatment: Arm
    measure: Measure
    direction: int

    def arms(self) -> str:
        """'control -> treatment' for the table."""
        return f"{self.control.label} -> {self.treatment.label}"

    def with_overrides(self, **overrides: Any) -> Comparison:
        """The same comparison with ``overrides`` added to both arms."""
        return replace(
            self,
            control=self.control.with_overrides(**overrides),
            treatment=self.treatment.with_overrides(**overrides),
        )


@dataclass(frozen=True)
class Fact:
    """A stylized fact of the brief and the comparisons that test it."""

    number: int
    statement: str
    comparisons: tuple[Comparison, ...] = field(default_factory=tuple)


def _cmp(
    fact: int,
    key: str,
    claim: str,
    control: Arm,
    treatment: Arm,
    measure: Measure,
    direction: int,
) -> Comparison:
    return Comparison(fact, key, claim, control, treatment, measure, direction)


def _fact1() -> Fact:
    equal = Arm.of("power_asymmetry=0", power_asymmetry=0.0)
    unequal = Arm.of("power_asymmetry=3", power_asymmetry=3.0)
    claim = "more power asymmetry: more defensive learning, less inclusion"
    return Fact(
        1,
        "More power asymmetry -> more defensive learning and less inclusion.",
        (
            _cmp(1, "1a", claim, equal, unequal, Measure("defensiveness"), +1),
            _cmp(1, "1b", claim, equal, unequal, Measure("expansiveness"), -1),
            _cmp(1, "1c", claim, equal, unequal, Measure("inclusion"), -1),
        ),
    )


def _fact2() -> Fact:
    def arm(diversity: float, safety: float) -> Arm:
        return Arm.of(
            f"identity_diversity={diversity}, safety={safety}",
            identity_diversity=diversity,
            safety=safety,
        )

    safe = "in safe spaces identity diversity helps expansive learning"
    unsafe = "in unsafe spaces identity diversity hurts participation"
    return Fact(
        2,
        "Identity diversity helps expansive learning when spaces are safe and hurts "
        "participation when they are not.",
        (
            _cmp(2, "2a", safe, arm(0.1, 0.9), arm(0.9, 0.9), Measure("expansiveness"), +1),
            _cmp(
                2,
                "2b",
                safe,
                arm(0.1, 0.9),
                arm(0.9, 0.9),
                Measure("repertoire_novelty"),
                +1,
            ),
            _cmp(
                2,
                "2c",
                unsafe,
                arm(0.1, 0.2),
                arm(0.9, 0.2),
                Measure("participation_mean", "mean"),
                -1,
            ),
        ),
    )


#: Funding cut used by fact 3: 80% of the budget, from step 40.
CUT = dict(shock_kind="cut", shock_severity=0.8, shock_time=40)
#: Steps over which fact 3 measures participation after the cut.
AFTER_CUT = 45


def _fact3() -> Fact:
    none = Arm.of("no shock", shock_kind="none")
    cut = Arm.of("cut 80% at step 40", **CUT)
    poor = Arm.of("cut, self_funding=0", **CUT, self_funding=0.0)
    rich = Arm.of("cut, self_funding=0.8", **CUT, self_funding=0.8)
    after = Measure("participation_mean", "mean", start=AFTER_CUT)
    shock = "a funding shock lowers participation and membership"
    recover = "spaces with members' own resources recover better"
    return Fact(
        3,
        "A funding shock lowers participation and membership; spaces with members' own "
        "resources recover better.",
        (
            _cmp(3, "3a", shock, none, cut, after, -1),
            _cmp(3, "3b", shock, none, cut, Measure("members"), -1),
            _cmp(3, "3c", recover, poor, rich, after, +1),
            _cmp(3, "3d", recover, poor, rich, Measure("members"), +1),
        ),
    )


def _fact4() -> Fact:
    low = Arm.of("turnover_rate=0", turnover_rate=0.0)
    mid = Arm.of("turnover_rate=0.03", turnover_rate=0.03)
    high = Arm.of("turnover_rate=0.3", turnover_rate=0.3)
    up = "some turnover renews the repertoire (middle above none)"
    down = "much turnover destroys it (middle above high)"
    rows = []
    for i, metric in enumerate(("expansiveness", "code_knowledge")):
        rows.append(_cmp(4, f"4{'ac'[i]}", up, low, mid, Measure(metric), +1))
        rows.append(_cmp(4, f"4{'bd'[i]}", down, high, mid, Measure(metric), +1))
    return Fact(
        4,
        "Turnover has an inverted-U effect: some renews the repertoire, much destroys it.",
        tuple(rows),
    )


def _fact5() -> Fact:
    slow = Arm.of("reification_rate=0.005", reification_rate=0.005)
    fast = Arm.of("reification_rate=0.1", reification_rate=0.1)
    defensive = "faster reification: more defensive outcomes"
    converge = "faster reification: the repertoire converges sooner"
    changes = "repertoire_changes"
    return Fact(
        5,
        "Faster reification -> faster convergence and more defensive outcomes.",
        (
            _cmp(5, "5a", defensive, slow, fast, Measure("defensiveness"), +1),
            _cmp(5, "5b", converge, slow, fast, Measure(changes, "settle", share=0.5), -1),
            _cmp(5, "5c", converge, slow, fast, Measure(changes, "settle", share=1.0), -1),
            _cmp(5, "5d", converge, slow, fast, Measure("code_knowledge"), -1),
        ),
    )


def _fact6() -> Fact:
    def arm(safety: float, on: bool) -> Arm:
        return Arm.of(
            f"safety={safety}, contestation {'on' if on else 'off'}",
            safety=safety,
            contestation=on,
            contest_rate=0.3,
        )

    core = "contesters reach the core more often in safe spaces"
    safe = "in a safe space contestation raises inclusion"
    unsafe = "in an unsafe space contestation lowers inclusion"
    return Fact(
        6,
        "Contestation in safe spaces moves excluded members to the core; in unsafe spaces "
        "it excludes them.",
        (
            _cmp(
                6, "6a", core, arm(0.15, True), arm(0.9, True), Measure("contester_core_share"), +1
            ),
            _cmp(6, "6b", safe, arm(0.9, False), arm(0.9, True), Measure("inclusion"), +1),
            _cmp(6, "6c", unsafe, arm(0.15, False), arm(0.15, True), Measure("inclusion"), -1),
        ),
    )


#: Organizing principles compared by fact 7.
PRINCIPLES = ("domain", "geography", "challenge")


def _fact7() -> Fact:
    arms = {k: Arm.of(f"organizing by {k}", organizing_principle=k) for k in PRINCIPLES}
    claim = "organizing by shared challenge yields more mutual engagement"
    engagement = Measure("mutual_engagement", "mean")
    return Fact(
        7,
        "Organizing by shared challenge yields more mutual engagement than by geography or domain.",
        (
            _cmp(7, "7a", claim, arms["domain"], arms["challenge"], engagement, +1),
            _cmp(7, "7b", claim, arms["geography"], arms["challenge"], engagement, +1),
        ),
    )


#: Role play window of fact 8 (the Params defaults): steps 10 .. 29.
ROLE_PLAY_START, ROLE_PLAY_DURATION = 10, 20


def _fact8() -> Fact:
    timing = dict(role_play_start=ROLE_PLAY_START, role_play_duration=ROLE_PLAY_DURATION)
    off = Arm.of("no role play", role_play=False, **timing)
    on = Arm.of("role play, steps 10-29", role_play=True, **timing)
    window = Measure(
        "cross_identity_exchange", "mean", ROLE_PLAY_START, ROLE_PLAY_START + ROLE_PLAY_DURATION
    )
    end = ROLE_PLAY_START + ROLE_PLAY_DURATION - 1  # the last period of role play
    at_end = Measure("expansiveness", "mean", end, end + 1)
    claim = "role play raises cross-identity exchange and expansive learning"
    return Fact(
        8,
        "Role play raises cross-identity exchange and expansive learning.",
        (
            _cmp(8, "8a", claim, off, on, window, +1),
            _cmp(8, "8b", claim, off, on, Measure("expansiveness"), +1),
            _cmp(8, "8c", claim, off, on, at_end, +1),
        ),
    )


def _fact9() -> Fact:
    off = Arm.of("agenda set by convenors", conversation_as_data=False)
    on = Arm.of("conversation as data", conversation_as_data=True)
    claim = "conversation as data raises purpose alignment and retention"
    return Fact(
        9,
        "Conversation as data raises purpose alignment and retention.",
        (
            _cmp(9, "9a", claim, off, on, Measure("purpose_alignment"), +1),
            _cmp(9, "9b", claim, off, on, Measure("retention"), +1),
        ),
    )


def all_facts() -> dict[int, Fact]:
    """Facts 1-9 of the brief, by number."""
    makers = (_fact1, _fact2, _fact3, _fact4, _fact5, _fact6, _fact7, _fact8, _fact9)
    return {f.number: f for f in (make() for make in makers)}


FACTS: dict[int, Fact] = all_facts()


def comparisons(facts: Iterable[int] | None = None) -> list[Comparison]:
    """The comparisons of the chosen facts (all by default), in table order."""
    numbers = sorted(FACTS) if facts is None else sorted(set(facts))
    unknown = [n for n in numbers if n not in FACTS]
    if unknown:
        raise ValueError(f"unknown stylized fact(s) {unknown}; known: {sorted(FACTS)}")
    return [c for n in numbers for c in FACTS[n].comparisons]


# --------------------------------------------------------------------------- running
@dataclass(frozen=True)
class Unit:
    """One simulation: an arm of a fact on replicate ``replicate`` (its seed is
    ``child_seed(root, fact, replicate)``, shared by every arm of the fact)."""

    fact: int
    arm: Arm
    replicate: int
    metrics: tuple[str, ...]


def seeds_of(seeds: int | Mapping[int, int], fact: int) -> int:
    """Replicates of ``fact``: one number for all facts, or a number per fact."""
    n = seeds if isinstance(seeds, int) else seeds[fact]
    if n < 2:
        raise ValueError(f"fact {fact} needs at least 2 paired replicates, got {n}")
    return n


def plan(chosen: Sequence[Comparison], seeds: int | Mapping[int, int]) -> list[Unit]:
    """Every distinct (fact, arm) of the comparisons times its replicates, each unit
    carrying the metrics its comparisons measure (shared arms run once)."""
    needs: dict[tuple[int, Arm], set[str]] = {}
    for c in chosen:
        for arm in (c.control, c.treatment):
            needs.setdefault((c.fact, arm), set()).add(c.measure.metric)
    return [
        Unit(fact, arm, i, tuple(sorted(names)))
        for (fact, arm), names in needs.items()
        for i in range(seeds_of(seeds, fact))
    ]


def _unit_seed(root: SeedLike, unit: Unit) -> SeedLike:
    return child_seed(root, unit.fact, unit.replicate)


def run_batch(
    units: Sequence[Unit], root: SeedLike, base: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """Worker entry point (top level, so spawned processes can import it): the units
    of one arm (or several), run as ensembles (:mod:`copsim.ensemble`)."""
    from copsim.ensemble import run_ensembles  # imported here: workers load lazily

    params = [u.arm.params(base) for u in units]
    names = sorted({name for u in units for name in u.metrics})
    results = run_ensembles(params, [_unit_seed(root, u) for u in units], keep_history=names)
    out = []
    for unit, p, result in zip(units, params, results, strict=True):
        if result.error is not None:
            raise RuntimeError(f"fact {unit.fact} replicate {unit.replicate}: {result.error}")
        out.append(
            {
                "fact": unit.fact,
                "arm": unit.arm,
                "replicate": unit.replicate,
                "series": {name: result.history[name].tolist() for name in unit.metrics},
                "horizon": p.max_steps,
            }
        )
    return out


def run_unit(unit: Unit, root: SeedLike, base: Mapping[str, Any] | None) -> dict[str, Any]:
    """One unit alone (the same numbers as inside a batch)."""
    return run_batch([unit], root, base)[0]


def run_facts(
    chosen: Sequence[Comparison],
    seeds: int | Mapping[int, int],
    *,
    root: SeedLike = ROOT_SEED,
    workers: int = 1,
    base: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Run the comparisons' arms on paired replicates and measure them.

    ``seeds`` is the number of replicates (seeds) per arm, for every fact or
    per fact number.  Returns one row per (comparison, replicate) with the
    ``control`` and ``treatment`` values and their ``difference``.  The result
    does not depend on ``workers``.  ``base`` overrides the defaults for every
    arm (e.g. a smaller community for the tests); arm overrides win over it.
    """
    units = plan(chosen, seeds)
    results = _execute(units, root, base, workers)
    by_key = {(r["fact"], r["arm"], r["replicate"]): r for r in results}
    rows = []
    for c in chosen:
        for i in range(seeds_of(seeds, c.fact)):
            values = []
            for arm in (c.control, c.treatment):
                r = by_key[(c.fact, arm, i)]
                values.append(c.measure.apply(r["series"][c.measure.metric], r["horizon"]))
            rows.append(
                {
                    "fact": c.fact,
                    "key": c.key,
                    "replicate": i,
                    "control": values[0],
                    "treatment": values[1],
                    "difference": values[1] - values[0],
                }
            )
    return pd.DataFrame(rows)


def _execute(
    units: Sequence[Unit], root: SeedLike, base: Mapping[str, Any] | None, workers: int
) -> list[dict[str, Any]]:
    """Run units as ensembles, in this process (``workers <= 1``) or in copsim's
    :class:`~copsim.pool.WorkerPool`: units are cut into batches (an arm's replicates
    together), and the numbers never depend on the cut."""
    batches = _batches(units, workers)
    if workers <= 1 or len(batches) <= 1:
        return [r for b in batches for r in run_batch(b, root, base)]
    with WorkerPool(workers) as pool:
        done = pool.map(run_batch, batches, [root] * len(batches), [base] * len(batches))
        return [r for batch in done for r in batch]


def _batches(units: Sequence[Unit], workers: int) -> list[list[Unit]]:
    """Units in batches of about 4 per worker, an arm's units kept together."""
    ordered = sorted(units, key=lambda u: (u.fact, repr(u.arm), u.replicate))
    target = max(1, -(-len(ordered) // max(4 * workers, 1)))
    return [list(ordered[i : i + target]) for i in range(0, len(ordered), target)]


# --------------------------------------------------------------------------- statistics
@dataclass(frozen=True)
class PairedResult:
    """Summary of paired differences ``treatment - control``."""

    n: int
    mean_control: float
    mean_treatment: float
    mean_difference: float
    se: float
    ci_low: float
    ci_high: float
    holds: bool


def paired_difference(
    control: Sequence[float], treatment: Sequence[float], direction: int, level: float = LEVEL
) -> PairedResult:
    """Mean paired difference, its Student-t confidence interval, and whether the
    interval lies entirely on the claimed side of 0 (``direction`` +1 or -1)."""
    a = np.asarray(control, dtype=np.float64)
    b = np.asarray(treatment, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise ValueError("need two equally long 1-d samples of at least 2 paired values")
    if direction not in (-1, 1):
        raise ValueError(f"direction must be +1 or -1, got {direction!r}")
    d = b - a
    mean = float(d.mean())
    se = float(d.std(ddof=1) / np.sqrt(d.size))
    half = float(stats.t.ppf(0.5 + level / 2.0, d.size - 1)) * se
    low, high = mean - half, mean + half
    holds = low > 0 if direction > 0 else high < 0
    return PairedResult(
        n=int(d.size),
        mean_control=float(a.mean()),
        mean_treatment=float(b.mean()),
        mean_difference=mean,
        se=se,
        ci_low=low,
        ci_high=high,
        holds=bool(holds),
    )


TABLE_COLUMNS = (
    "fact",
    "key",
    "claim",
    "control",
    "treatment",
    "outcome",
    "direction",
    "n_pairs",
    "mean_control",
    "mean_treatment",
    "mean_difference",
    "se_difference",
    "ci_low",
    "ci_high",
    "holds",
)


def summarize(chosen: Sequence[Comparison], values: pd.DataFrame) -> pd.DataFrame:
    """The stylized-facts table: one row per comparison (columns ``TABLE_COLUMNS``)."""
    rows = []
    for c in chosen:
        sub = values[values["key"] == c.key].sort_values("replicate")
        r = paired_difference(sub["control"], sub["treatment"], c.direction)
        rows.append(
            {
                "fact": c.fact,
                "key": c.key,
                "claim": c.claim,
                "control": c.control.label,
                "treatment": c.treatment.label,
                "outcome": c.measure.describe(),
                "direction": "higher" if c.direction > 0 else "lower",
                "n_pairs": r.n,
                "mean_control": r.mean_control,
                "mean_treatment": r.mean_treatment,
                "mean_difference": r.mean_difference,
                "se_difference": r.se,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "holds": "yes" if r.holds else "no",
            }
        )
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
