"""Many runs with the teaching view's settings: one run on screen is one draw.

A class watching one run easily takes its ending for *the* answer.  This module
runs the settings a teacher has staged over many seeds at once, through the
ensemble engine (:func:`copsim.ensemble.run_ensembles`, the same entry point the
stylized facts use), and reduces them to what the panel shows: the share of
each label, the spread of expansiveness and defensiveness, and in side-by-side
mode the paired differences run B minus run A on the same seeds.

Seeds.  ``n`` runs use the seeds ``s, s+1, ..., s+n-1`` where ``s`` is the
seed in the view's seed field.  The run on screen is seed ``s``, so it is the
first of them, and typing any other seed of the list into the field and
pressing Reset shows that run.  Each whole-number seed goes through
``SeedSequence`` inside the engine (:func:`copsim.draws.run_key`), so
neighbouring seeds give unrelated streams.  A run's numbers depend only on
its parameters and its seed (docs/engine.md), so every run here is bit for bit
the run ``CoPModel(params, rng=seed)`` gives, and in side-by-side mode the two
arms of one seed share their keyed draws wherever they agree (common random
numbers), which is what makes the paired differences sharp.

Horizon.  Each run goes as far as the run on screen would: to the scenario's
``max_steps``, or earlier by the model's own stop rules (dissolution; for the
closed March model, equilibrium).

Nothing here imports Solara: :class:`Job` holds one page's computation (at
most one at a time, cancellable between ensemble chunks) and its last result,
and the component in :mod:`copsim.viz.components` runs it off the UI thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from copsim.ensemble import default_size, run_ensembles
from copsim.facts import PairedResult, paired_difference
from copsim.outcomes import LABELS
from copsim.params import Params, ParamsError
from copsim.viz import settings as st
from copsim.viz.session import Settings, differences

#: Numbers of seeds the panel offers (the default first among equals: 200).
COUNTS = (100, 200, 500)
DEFAULT_COUNT = 200
#: The two outcomes whose spread the panel draws.
MEASURES = ("expansiveness", "defensiveness")
#: Practitioner-steps per ensemble chunk: progress is reported after each chunk,
#: and a chunk of about this much work takes a second or two on one core.
WORK_PER_CHUNK = 1_000_000
#: Smallest chunk: smaller ensembles lose the engine's speed (benchmarks/bench_viz.py).
MIN_CHUNK = 50

Progress = Callable[[int, int], None]


def seeds_for(root: int, n: int) -> list[int]:
    """The ``n`` seeds of a many-runs press: ``root`` (the run on screen) and the next."""
    if n < 2:
        raise ValueError(f"many runs need at least 2 seeds, got {n}")
    return list(range(int(root), int(root) + int(n)))


def chunk_size(params: Params) -> int:
    """Runs per ensemble: about ``WORK_PER_CHUNK`` practitioner-steps, at least
    ``MIN_CHUNK`` runs, at most what one ensemble holds."""
    work = max(params.n_practitioners * params.max_steps, 1)
    return int(min(default_size(params), max(MIN_CHUNK, WORK_PER_CHUNK // work)))


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class ArmOutcomes:
    """One arm's final outcomes, one entry per seed (in seed order)."""

    name: str  # "A" or "B"
    params: Params
    expansiveness: np.ndarray
    defensiveness: np.ndarray
    labels: tuple[str, ...]
    steps: np.ndarray  # the step each run stopped at

    def values(self, measure: str) -> np.ndarray:
        """The final values of ``measure`` (one of :data:`MEASURES`)."""
        if measure not in MEASURES:
            raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
        return getattr(self, measure)

    def counts(self) -> dict[str, int]:
        """Runs per label, every label present (0 if none), in the model's order."""
        return {label: self.labels.count(label) for label in LABELS}

    def shares(self) -> dict[str, float]:
        """Share of the runs per label (sums to 1)."""
        n = len(self.labels)
        return {label: count / n for label, count in self.counts().items()}

    def seeds_with(self, label: str, seeds: Sequence[int], limit: int = 3) -> list[int]:
        """The first ``limit`` seeds that ended with ``label`` (runs worth watching)."""
        return [s for s, lab in zip(seeds, self.labels, strict=True) if lab == label][:limit]


@dataclass(frozen=True, eq=False)
class PairedDifference:
    """Run B minus run A on the same seeds, for one measure."""

    measure: str
    differences: np.ndarray  # B - A per seed, in seed order
    higher: int  # seeds where B > A
    lower: int  # seeds where B < A
    equal: int
    summary: PairedResult  # mean difference and its 95% CI (copsim.facts)


@dataclass(frozen=True, eq=False)
class ManyRuns:
    """What one press of the panel's button produced."""

    settings: Settings
    seeds: tuple[int, ...]
    arms: tuple[ArmOutcomes, ...]  # A, and B in side-by-side mode
    seconds: float  # wall time of the computation

    @property
    def n(self) -> int:
        """Runs per arm."""
        return len(self.seeds)

    @property
    def paired(self) -> bool:
        """True for a side-by-side comparison (two arms on the same seeds)."""
        return len(self.arms) == 2

    @property
    def screen_seed(self) -> int:
        """The seed of the run on screen (the first seed)."""
        return self.seeds[0]

    def difference(self, measure: str) -> PairedDifference:
        """B - A per seed for ``measure``, with the share of seeds where B is higher
        and the mean difference with its Student-t 95% interval."""
        if not self.paired:
            raise ValueError("paired differences need side-by-side mode (two arms)")
        a, b = (arm.values(measure) for arm in self.arms)
        d = b - a
        return PairedDifference(
            measure=measure,
            differences=d,
            higher=int((d > 0).sum()),
            lower=int((d < 0).sum()),
            equal=int((d == 0).sum()),
            summary=paired_difference(a, b, direction=1),
        )

    def changes_since(self, staged: Settings) -> list[str]:
        """What differs between the settings these runs used and ``staged``
        (empty when the results are current)."""
        return changes_between(self.settings, staged)

    def shows_screen(self, screen: Sequence[tuple[Params, int]]) -> bool:
        """True if the runs on screen, given as (params, seed) per run, are the
        first seed of these arms (so the panel can mark them)."""
        if len(screen) != len(self.arms):
            return False
        return all(
            seed == self.screen_seed and params == arm.params
            for (params, seed), arm in zip(screen, self.arms, strict=True)
        )


def changes_between(ran: Settings, staged: Settings) -> list[str]:
    """Short phrases for what changed since ``ran`` (the scenario first, then what
    :func:`copsim.viz.session.differences` lists)."""
    if ran.scenario != staged.scenario:
        return [f"scenario → {st.scenario_title(staged.scenario)}"]
    return differences(ran, staged)


# ----------------------------------------------------------------------------- running
def arm_params(settings: Settings) -> list[Params]:
    """The parameters of run A (and B in side-by-side mode), as the view builds them."""
    arms = [settings.params()]
    if settings.compare:
        arms.append(settings.params_b())
    return arms


def run_many(settings: Settings, n: int, progress: Progress | None = None) -> ManyRuns:
    """Run ``settings`` over ``n`` seeds (both arms in side-by-side mode).

    Runs go through :func:`copsim.ensemble.run_ensembles` in chunks of
    :func:`chunk_size`; ``progress(done, total)`` is called after each chunk
    (counting runs of both arms) and may raise to stop the computation there.
    Raises :class:`copsim.ParamsError` for invalid settings and RuntimeError if a
    run fails.
    """
    started = time.perf_counter()
    seeds = seeds_for(settings.seed, n)
    arms = arm_params(settings)
    params = [p for p in arms for _ in seeds]
    total = len(params)
    done = 0

    def count_done(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, total)

    results = run_ensembles(
        params, seeds * len(arms), size=chunk_size(arms[0]), progress=count_done
    )
    out = []
    for a, (name, p) in enumerate(zip("AB", arms, strict=False)):
        block = results[a * n : (a + 1) * n]
        for seed, result in zip(seeds, block, strict=True):
            if result.error is not None:
                raise RuntimeError(f"run {name}, seed {seed} failed: {result.error}")
        rows = [r.outcomes for r in block]
        out.append(
            ArmOutcomes(
                name=name,
                params=p,
                expansiveness=np.array([r["expansiveness"] for r in rows], dtype=np.float64),
                defensiveness=np.array([r["defensiveness"] for r in rows], dtype=np.float64),
                labels=tuple(str(r["label"]) for r in rows),
                steps=np.array([r["steps"] for r in rows], dtype=np.int64),
            )
        )
    return ManyRuns(settings, tuple(seeds), tuple(out), time.perf_counter() - started)


class Cancelled(Exception):
    """Raised from the progress callback when the teacher pressed Stop."""


class Job:
    """One page's many-runs computation: at most one at a time, and its last result.

    The button calls :meth:`claim` on the UI thread (so a second press while a
    computation runs is refused at once, before any thread starts), then runs
    :meth:`execute` off the UI thread.  :meth:`cancel` stops it after the
    current ensemble chunk; a stopped or failed computation keeps the previous
    result.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.busy = False
        self.done = 0
        self.total = 0
        self.result: ManyRuns | None = None
        self.error: str | None = None
        self.note: str | None = None  # e.g. 'stopped after 100 of 400 runs'

    def claim(self, settings: Settings, n: int) -> bool:
        """Reserve the job for a computation; False if one is already running."""
        with self._lock:
            if self.busy:
                return False
            self.busy = True
            self._stop.clear()
            self.done = 0
            self.total = n * (2 if settings.compare else 1)
            self.error = self.note = None
            return True

    def execute(
        self, settings: Settings, n: int, on_progress: Progress | None = None
    ) -> ManyRuns | None:
        """Run a claimed computation; store and return its result (None if it was
        stopped or failed, with :attr:`note` or :attr:`error` saying why)."""
        if not self.busy:
            raise RuntimeError("Job.execute: call claim() first")

        def progress(done: int, total: int) -> None:
            self.done, self.total = done, total
            if on_progress is not None:
                on_progress(done, total)
            if self._stop.is_set() and done < total:
                raise Cancelled

        result = None
        try:
            result = run_many(settings, n, progress)
            self.result = result  # before the job is released: a new press sees it
        except Cancelled:
            self.note = f"Stopped after {self.done} of {self.total} runs; nothing new is shown."
        except (ParamsError, RuntimeError, ValueError) as exc:
            self.error = str(exc)
        finally:
            with self._lock:
                self.busy = False
        return result

    def cancel(self) -> None:
        """Ask a running computation to stop after its current chunk."""
        self._stop.set()


# ----------------------------------------------------------------------------- in words
def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def _moved(a: dict[str, float], b: dict[str, float]) -> str:
    """'moved the expansive share from 74% to 64% and the defensive share from 26% to
    36%' (shares of run A, then B); 'left ... at' for a share that did not move."""
    phrases = []
    for label in ("expansive", "defensive"):
        if _pct(a[label]) == _pct(b[label]):
            phrases.append(("left", f"the {label} share at {_pct(a[label])}"))
        else:
            phrases.append(
                ("moved", f"the {label} share from {_pct(a[label])} to {_pct(b[label])}")
            )
    (verb1, what1), (verb2, what2) = phrases
    return f"{verb1} {what1} and {'' if verb2 == verb1 else verb2 + ' '}{what2}"


def _and(parts: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def reading(result: ManyRuns, on_screen: bool) -> str:
    """One or two plain sentences for a class about what the many runs show."""
    s = result.settings
    head = f"In {result.n} runs with these settings (seeds {result.seeds[0]}-{result.seeds[-1]})"
    if not result.paired:
        shares = result.arms[0].shares()
        kinds = ["expansive", "defensive"] + (["stagnant"] if shares["stagnant"] else [])
        text = f"{head}, learning was " + _and([f"{k} in {_pct(shares[k])}" for k in kinds]) + "."
        if shares["dissolved"]:
            text += f" {_pct(shares['dissolved'])} of the communities dissolved."
    else:
        control = st.CONTROL_BY_NAME[s.compare_name]
        change = (
            f"{control.label.lower()} {control.describe(s.values[s.compare_name])} → "
            f"{control.describe(s.compare_value)}"
        )
        a, b = (arm.shares() for arm in result.arms)
        moves = _moved(a, b)
        exp = result.difference("expansiveness")
        text = (
            f"Over the same {result.n} seeds, changing {change} {moves}; run B was more "
            f"expansive than run A on {_pct(exp.higher / result.n)} of the seeds and less on "
            f"{_pct(exp.lower / result.n)}."
        )
    if on_screen:
        what = "pair" if result.paired else "run"
        text += (
            f" The {what} on screen (seed {result.screen_seed}) is one of them: "
            "one draw, not the rule."
        )
    else:
        text += (
            f" The run on screen was built with other settings; press Reset to watch seed "
            f"{result.screen_seed} with these."
        )
    return text


def describe_difference(diff: PairedDifference, n: int) -> str:
    """'B higher on 62% of seeds, lower on 30%; mean +0.041 (95% CI +0.02 to +0.06)'."""
    r = diff.summary
    text = f"B higher on {_pct(diff.higher / n)} of seeds, lower on {_pct(diff.lower / n)}"
    if diff.equal:
        text += f", the same on {_pct(diff.equal / n)}"
    return (
        f"{text}; mean B − A {r.mean_difference:+.3f} (95% CI {r.ci_low:+.3f} to {r.ci_high:+.3f})"
    )
