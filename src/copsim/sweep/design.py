"""From a validated config to design points, runs, seeds and chunks.

The design is the product of the parts a config gives, in this order:
scenarios (outermost) x grid (keys in file order) x samples (LHS or Sobol).
A *point* is one combination; each point runs ``replicates`` times.  Run
``r = point * replicates + replicate`` is the run's index in the design, and
its random stream is ``child_seed(root, point, replicate)`` (with common random
numbers: ``child_seed(root, replicate)``), a pure function of the config.

A *cell* is one combination of the discrete factors (scenario and grid): the
points of a cell differ only in their sample, and they are consecutive
(samples vary fastest).  ``copsim sweep --target-ci`` can give a cell more
replicates than the config asks for (``cell_replicates``, recorded in the
results folder); runs are then numbered point by point in the same order, each
point with its cell's replicates, and a run's seed is still
``child_seed(root, point, replicate)``: replicate ``k`` of a point is the same
run whatever the other points' counts.

Runs are cut into fixed chunks of consecutive run indices; a chunk is the unit
of work handed to a backend and the unit written to disk.  The chunking, too,
depends only on the config, so a resumed sweep picks up exactly where the
interrupted one stopped.
"""

from __future__ import annotations

import hashlib
import json
import math
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from copsim.seeds import child_seed, seed_label

if TYPE_CHECKING:
    import pandas as pd

    from copsim.sweep.config import ExperimentConfig

#: Spawn key of the stream that draws LHS/Sobol samples (runs use two-part keys).
DESIGN_STREAM = 2**32 + 7
#: Name of the preset column when a config uses the Params defaults.
DEFAULT_PRESET = "default"


def design_factors(cfg: ExperimentConfig) -> list[str]:
    """The columns that identify a design point: scenario, grid, sample and sampled."""
    d = cfg.design
    names: list[str] = ["scenario"] if d.scenarios else []
    names += list(d.grid or {})
    spec = d.lhs or d.sobol
    if spec is not None:
        names += ["sample", *spec.ranges]
    return names


def sample_rows(cfg: ExperimentConfig) -> int:
    """Rows of the LHS/Sobol sample matrix (1 without sampling), counted, not drawn.

    LHS draws ``samples`` rows; Saltelli's scheme draws ``N * (D + 2)`` rows, or
    ``N * (2D + 2)`` with second-order indices, for ``D`` sampled parameters.
    """
    d = cfg.design
    if d.lhs is not None:
        return d.lhs.samples
    if d.sobol is not None:
        dims = len(d.sobol.ranges)
        return d.sobol.samples * ((2 * dims + 2) if d.sobol.second_order else (dims + 2))
    return 1


def design_shape(cfg: ExperimentConfig) -> tuple[int, ...]:
    """(scenarios, one entry per grid key..., sample rows): the axes of the design."""
    d = cfg.design
    return (
        len(d.scenarios) if d.scenarios else 1,
        *(len(v) for v in (d.grid or {}).values()),
        sample_rows(cfg),
    )


def design_size(cfg: ExperimentConfig) -> tuple[int, int]:
    """``(points, runs)`` of a config without building anything (exact Python integers).

    This is what lets a 10^12-point grid or a 10^7-sample LHS be measured and
    refused in microseconds instead of being expanded first.
    """
    points = math.prod(design_shape(cfg))
    return points, points * cfg.replicates


def spread_points(n_points: int, limit: int) -> list[int]:
    """Up to ``limit`` point indices spread evenly over the design, first and last included."""
    if n_points <= limit:
        return list(range(n_points))
    if limit <= 1:
        return [0]
    step = (n_points - 1) / (limit - 1)
    return sorted({round(i * step) for i in range(limit)})


#: The random-number scheme and engine results depend on (part of the fingerprint, so
#: a folder written by an earlier engine is never resumed with this one).
ENGINE = "keyed-ensemble-1"

#: Fewest runs per automatic chunk: a chunk is run as ensembles (copsim.ensemble), which
#: pay off from a few dozen runs on.
MIN_AUTO_CHUNK = 64


def auto_chunk_size(n_runs: int) -> int:
    """Runs per chunk when the config does not say: about 100 chunks, but at least
    ``MIN_AUTO_CHUNK`` runs each (so each chunk runs as a sizeable ensemble) and at
    most 1,000."""
    return max(1, min(n_runs, max(MIN_AUTO_CHUNK, min(1000, math.ceil(n_runs / 100)))))


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs for one run (plain data: pickles anywhere)."""

    run: int
    point: int
    replicate: int
    preset: str
    factors: dict[str, Any]
    values: dict[str, Any]
    entropy: int
    spawn_key: tuple[int, ...]

    @property
    def seed(self) -> np.random.SeedSequence:
        """The run's own stream."""
        return np.random.SeedSequence(self.entropy, spawn_key=self.spawn_key)


@dataclass(frozen=True)
class ChunkTask:
    """A batch of consecutive runs, executed by one worker, written as one part."""

    index: int
    model: str
    runs: list[RunTask]
    steps_every: int = 0
    agents_every: int = 0
    factor_names: list[str] = field(default_factory=list)
    ensemble_size: int | None = None  # runs per ensemble (None: copsim.ensemble's default)


class Design:
    """The expanded design of an experiment (points, runs, seeds, chunks).

    ``cell_replicates`` maps a cell (see the module docstring) to the replicates
    each of its points runs when that is more than the config's ``replicates``
    (the extra replicates ``copsim sweep --target-ci`` added); counts at or
    below the config's are ignored.
    """

    def __init__(
        self, cfg: ExperimentConfig, cell_replicates: Mapping[int, int] | None = None
    ) -> None:
        from copsim.scenarios import preset_values

        self.cfg = cfg
        d = cfg.design
        self.scenario_names: list[str | None] = list(d.scenarios) if d.scenarios else [None]
        self.grid_names: list[str] = list(d.grid or {})
        self.grid_values: list[list[Any]] = [list(v) for v in (d.grid or {}).values()]
        spec = d.lhs or d.sobol
        self.sample_kind: str | None = "lhs" if d.lhs else ("sobol" if d.sobol else None)
        self.sample_names: list[str] = list(spec.ranges) if spec else []
        # Counted from the config, not from the samples: the sample matrix is only
        # drawn when a point's values are first needed.
        self.shape = design_shape(cfg)
        self.n_points = math.prod(self.shape)
        self.replicates = cfg.replicates
        self.points_per_cell = self.shape[-1]
        self.n_cells = self.n_points // self.points_per_cell
        self._set_cell_replicates(cell_replicates or {})
        self.chunk_size = cfg.chunk_size or auto_chunk_size(self.n_runs)
        self.n_chunks = math.ceil(self.n_runs / self.chunk_size)
        self.factor_names = design_factors(cfg)
        self._base_preset = cfg.base.preset
        self._preset_values = {
            name: preset_values(name)
            for name in {cfg.base.preset, *(s.get("preset") for s in (d.scenarios or {}).values())}
            if name is not None
        }

    # ------------------------------------------------------------------ samples
    @cached_property
    def samples(self) -> np.ndarray:
        """The LHS/Sobol sample matrix (rows: samples, columns: sampled parameters)."""
        if self.sample_kind is None:
            return np.zeros((1, 0))
        spec = self.cfg.design.lhs or self.cfg.design.sobol
        stream = child_seed(self.cfg.seed, DESIGN_STREAM)
        if self.sample_kind == "lhs":
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=len(spec.ranges), rng=np.random.default_rng(stream))
            raw = unit.random(spec.samples)
            lows = np.array([r[0] for r in spec.ranges.values()], dtype=float)
            highs = np.array([r[1] for r in spec.ranges.values()], dtype=float)
            raw = lows + raw * (highs - lows)
        else:
            raw = sobol_sample(self.sobol_problem(), spec, stream)
        return self._snap_integers(raw)

    def sobol_problem(self) -> dict[str, Any]:
        """The SALib problem definition of a Sobol design."""
        spec = self.cfg.design.sobol
        names = list(spec.ranges)
        return {
            "num_vars": len(names),
            "names": names,
            "bounds": [list(b) for b in spec.ranges.values()],
        }

    def _snap_integers(self, raw: np.ndarray) -> np.ndarray:
        """Integer parameters: floor onto the integers of [low, high] (uniformly)."""
        from copsim.sweep.config import param_kind

        spec = self.cfg.design.lhs or self.cfg.design.sobol
        out = raw.astype(object)
        for j, (name, (lo, hi)) in enumerate(spec.ranges.items()):
            if param_kind(name) is int:
                lo_i, hi_i = math.ceil(lo), math.floor(hi)
                scaled = lo_i + (raw[:, j] - lo) / (hi - lo) * (hi_i - lo_i + 1)
                out[:, j] = [int(v) for v in np.clip(np.floor(scaled), lo_i, hi_i)]
            else:
                out[:, j] = [float(v) for v in raw[:, j]]
        return out

    # ------------------------------------------------------------------ replicates
    def _set_cell_replicates(self, counts: Mapping[int, int]) -> None:
        """Adopt per-cell replicate counts; work out the run count and the run offsets."""
        extra: dict[int, int] = {}
        for cell, count in counts.items():
            cell, count = int(cell), int(count)
            if not 0 <= cell < self.n_cells:
                raise ValueError(f"cell {cell} is not in the design (it has {self.n_cells} cells)")
            if count > self.replicates:
                extra[cell] = count
        self.cell_replicates = dict(sorted(extra.items()))
        self._extra_cells = list(self.cell_replicates)
        # runs added by the cells before each extended cell (and by all of them, last)
        surplus = [0]
        for count in self.cell_replicates.values():
            surplus.append(surplus[-1] + (count - self.replicates) * self.points_per_cell)
        self._surplus = surplus
        self.n_runs = self.n_points * self.replicates + surplus[-1]

    def cell_of(self, point: int) -> int:
        """The cell a point belongs to (its scenario and grid levels)."""
        return point // self.points_per_cell

    def cell_points(self, cell: int) -> range:
        """The points of a cell (consecutive: samples vary fastest)."""
        return range(cell * self.points_per_cell, (cell + 1) * self.points_per_cell)

    def replicates_of_cell(self, cell: int) -> int:
        """Replicates each point of the cell runs."""
        return self.cell_replicates.get(cell, self.replicates)

    def replicates_of(self, point: int) -> int:
        """Replicates of a design point (its cell's)."""
        return self.replicates_of_cell(self.cell_of(point))

    def cell_factors(self, cell: int) -> dict[str, Any]:
        """The scenario and grid values that make a cell."""
        factors = self.point_factors(cell * self.points_per_cell)
        return {k: v for k, v in factors.items() if k == "scenario" or k in self.grid_names}

    def _cell_offset(self, cell: int) -> int:
        """Index of the first run of a cell."""
        before = self._surplus[bisect_left(self._extra_cells, cell)]
        return cell * self.points_per_cell * self.replicates + before

    def run_index(self, point: int, replicate: int) -> int:
        """The run index of replicate ``replicate`` of ``point`` in this design."""
        if not self.cell_replicates:
            return point * self.replicates + replicate
        cell = self.cell_of(point)
        inside = point - cell * self.points_per_cell
        return self._cell_offset(cell) + inside * self.replicates_of_cell(cell) + replicate

    def run_indices(self, points: np.ndarray, replicates: np.ndarray) -> np.ndarray:
        """:meth:`run_index` of many runs at once (renumbering carried-over tables)."""
        points = np.asarray(points, dtype=np.int64)
        replicates = np.asarray(replicates, dtype=np.int64)
        if not self.cell_replicates:
            return points * self.replicates + replicates
        cells = points // self.points_per_cell
        inside = points - cells * self.points_per_cell
        keys = np.asarray(self._extra_cells, dtype=np.int64)
        at = np.searchsorted(keys, cells, "left")  # extended cells before each run's cell
        before = np.asarray(self._surplus, dtype=np.int64)[at]
        own = np.asarray(list(self.cell_replicates.values()), dtype=np.int64)
        last = np.minimum(at, len(keys) - 1)
        counts = np.where(keys[last] == cells, own[last], self.replicates)
        start = cells * self.points_per_cell * self.replicates + before
        return start + inside * counts + replicates

    def run_point(self, run: int) -> tuple[int, int]:
        """``(point, replicate)`` of a run index (the inverse of :meth:`run_index`)."""
        if not 0 <= run < self.n_runs:
            raise IndexError(f"run {run} is not in the design ({self.n_runs} runs)")
        if not self.cell_replicates:
            return divmod(run, self.replicates)
        lo, hi = 0, self.n_cells - 1  # the last cell whose first run is at or before ``run``
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._cell_offset(mid) <= run:
                lo = mid
            else:
                hi = mid - 1
        inside, replicate = divmod(run - self._cell_offset(lo), self.replicates_of_cell(lo))
        return lo * self.points_per_cell + inside, replicate

    # ------------------------------------------------------------------ points
    def point_coords(self, point: int) -> tuple[int, ...]:
        """(scenario index, grid index per key..., sample index) of a point."""
        return tuple(int(i) for i in np.unravel_index(point, self.shape))

    def point_factors(self, point: int) -> dict[str, Any]:
        """The values of the design factors at a point."""
        coords = self.point_coords(point)
        out: dict[str, Any] = {}
        if self.cfg.design.scenarios:
            out["scenario"] = self.scenario_names[coords[0]]
        for name, values, i in zip(self.grid_names, self.grid_values, coords[1:-1], strict=True):
            out[name] = values[i]
        if self.sample_kind is not None:
            out["sample"] = coords[-1]
            out.update(zip(self.sample_names, self.samples[coords[-1]], strict=True))
        return out

    def point_preset(self, point: int) -> str:
        """The preset a point starts from (its scenario's, else the base's)."""
        scen = self.scenario_names[self.point_coords(point)[0]]
        own = (self.cfg.design.scenarios or {}).get(scen, {}).get("preset") if scen else None
        return own or self._base_preset or DEFAULT_PRESET

    def point_values(self, point: int) -> dict[str, Any]:
        """All parameter settings of a point, in the documented order of precedence.

        preset < base params < scenario < grid < samples < run settings.
        """
        cfg = self.cfg
        preset = self.point_preset(point)
        values = dict(self._preset_values.get(preset, {}))
        values.update(cfg.base.params)
        factors = self.point_factors(point)
        scen = factors.get("scenario")
        if scen is not None:
            values.update({k: v for k, v in cfg.design.scenarios[scen].items() if k != "preset"})
        values.update({k: v for k, v in factors.items() if k not in ("scenario", "sample")})
        if cfg.steps is not None:
            values["max_steps"] = cfg.steps
        if cfg.stop is not None:
            values["stop_at_equilibrium"] = cfg.stop == "equilibrium"
        if cfg.record.agents:
            values["record_agents"] = True
        return values

    # ------------------------------------------------------------------ runs
    def run_seed(self, point: int, replicate: int) -> np.random.SeedSequence:
        """The stream of a run, derived from the root seed and its design index."""
        if self.cfg.common_random_numbers:
            return child_seed(self.cfg.seed, replicate)
        return child_seed(self.cfg.seed, point, replicate)

    def run_task(self, run: int) -> RunTask:
        """The self-contained description of run ``run``."""
        point, replicate = self.run_point(run)
        seed = self.run_seed(point, replicate)
        return RunTask(
            run=run,
            point=point,
            replicate=replicate,
            preset=self.point_preset(point),
            factors=self.point_factors(point),
            values=self.point_values(point),
            entropy=int(seed.entropy),
            spawn_key=tuple(int(k) for k in seed.spawn_key),
        )

    def chunk_runs(self, chunk: int) -> range:
        """The run indices of a chunk."""
        start = chunk * self.chunk_size
        return range(start, min(start + self.chunk_size, self.n_runs))

    def chunk_task(self, chunk: int) -> ChunkTask:
        """The work order of a chunk."""
        rec = self.cfg.record
        return ChunkTask(
            index=chunk,
            model=self.cfg.model,
            runs=[self.run_task(r) for r in self.chunk_runs(chunk)],
            steps_every=rec.steps_every,
            agents_every=rec.agents_every if rec.agents else 0,
            factor_names=self.factor_names,
            ensemble_size=self.cfg.ensemble_size,
        )

    def chunk_tasks(self, chunks: list[int]) -> Iterator[ChunkTask]:
        """Work orders, built lazily (memory stays bounded for huge designs)."""
        return (self.chunk_task(c) for c in chunks)

    # ------------------------------------------------------------------ summaries
    def points_frame(self) -> pd.DataFrame:
        """One row per design point: its index, preset and factor values."""
        import pandas as pd

        rows = [
            {"point": p, "preset": self.point_preset(p), **self.point_factors(p)}
            for p in range(self.n_points)
        ]
        return pd.DataFrame(rows)

    def levels(self) -> dict[str, list[Any]]:
        """The levels of each discrete factor (scenarios and grid)."""
        out: dict[str, list[Any]] = {}
        if self.cfg.design.scenarios:
            out["scenario"] = list(self.cfg.design.scenarios)
        out.update(zip(self.grid_names, self.grid_values, strict=True))
        return out

    def resolved(self) -> dict[str, Any]:
        """The design as the sweep will run it (recorded in the manifest)."""
        spec = self.cfg.design.lhs or self.cfg.design.sobol
        first = self.point_values(0)
        return {
            "factors": self.factor_names,
            "levels": self.levels(),
            "sampling": None
            if spec is None
            else {
                "kind": self.sample_kind,
                "samples": spec.samples,
                "n_rows": sample_rows(self.cfg),
                "ranges": {k: list(v) for k, v in spec.ranges.items()},
                "second_order": getattr(spec, "second_order", None),
            },
            "n_points": self.n_points,
            "replicates": self.replicates,
            **self._resolved_cells(),
            "n_runs": self.n_runs,
            "chunk_size": self.chunk_size,
            "n_chunks": self.n_chunks,
            "root_seed": self.cfg.seed,
            "seed_rule": "child_seed(root, replicate)"
            if self.cfg.common_random_numbers
            else "child_seed(root, point, replicate)",
            "first_point_params": first,
            "first_run_seed": seed_label(self.run_seed(0, 0)),
        }

    def _resolved_cells(self) -> dict[str, Any]:
        """The extra replicates of cells, for the manifest (nothing when there are none)."""
        if not self.cell_replicates:
            return {}
        return {
            "points_per_cell": self.points_per_cell,
            "cell_replicates": {str(c): n for c, n in self.cell_replicates.items()},
        }

    def fingerprint(self) -> str:
        """A hash of everything that decides the results (not the output folder)."""
        # allow_huge only lifts a safety limit and ensemble_size only groups runs:
        # neither changes any result.
        payload = self.cfg.model_dump(
            mode="json",
            exclude={"output", "description", "report", "allow_huge", "ensemble_size"},
        )
        payload["_chunk_size"] = self.chunk_size
        payload["_engine"] = ENGINE
        payload["_presets"] = self._preset_values
        if self.cell_replicates:  # absent otherwise, so folders of plain sweeps keep theirs
            payload["_cell_replicates"] = sorted(self.cell_replicates.items())
        text = json.dumps(payload, sort_keys=True, default=repr)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DesignEstimate:
    """How big a design is and what it will cost, from the parameter values alone."""

    n_points: int
    n_runs: int
    run_seconds: float  # mean over the points looked at, one core
    memory_bytes: int  # per run, at the largest community the design can build
    points_looked_at: int

    @property
    def cpu_seconds(self) -> float:
        """All runs on one core."""
        return self.run_seconds * self.n_runs


def _design_values(design: Design, name: str) -> list[Any]:
    """Every value parameter ``name`` can take in the design (with the documented precedence:
    preset < base params < scenario < grid < samples), without expanding it."""
    from copsim.params import Params

    cfg, d = design.cfg, design.cfg.design
    if name in (d.grid or {}):
        return list(d.grid[name])
    spec = d.lhs or d.sobol
    if spec is not None and name in spec.ranges:
        return [spec.ranges[name][1]]
    default = Params.model_fields[name].default

    def start(preset: str | None) -> Any:
        if name in cfg.base.params:
            return cfg.base.params[name]
        return design._preset_values.get(preset, {}).get(name, default)

    if not d.scenarios:
        return [start(cfg.base.preset)]
    return [
        values.get(name, start(values.get("preset") or cfg.base.preset))
        for values in d.scenarios.values()
    ]


def peak_values(design: Design) -> dict[str, Any]:
    """Parameter values of the most memory-hungry run the design can contain (a bound).

    Memory grows with each of the size parameters, so taking each one's largest
    value over the presets, base, scenarios, grid and sampling ranges bounds every
    point from above, without expanding the design.
    """
    sizes = ("n_practitioners", "n_dimensions", "memberships_per_practitioner", "max_steps")
    out: dict[str, Any] = {"social_layer": True, "record_agents": design.cfg.record.agents}
    for name in sizes:
        out[name] = max(_design_values(design, name))
    if design.cfg.steps is not None:
        out["max_steps"] = design.cfg.steps
    return out


def estimate(design: Design, max_points: int = 500) -> DesignEstimate:
    """Size, time and memory of a design (validated, within the size limit).

    Time is the mean estimate over up to ``max_points`` points spread over the
    design, times the number of runs; memory is the bound of :func:`peak_values`.
    """
    from copsim.params import estimated_memory_bytes, estimated_run_seconds

    points = spread_points(design.n_points, max_points)
    seconds = [estimated_run_seconds(design.point_values(p)) for p in points]
    return DesignEstimate(
        n_points=design.n_points,
        n_runs=design.n_runs,
        run_seconds=sum(seconds) / len(seconds),
        memory_bytes=estimated_memory_bytes(peak_values(design)),
        points_looked_at=len(points),
    )


def sobol_sample(problem: dict[str, Any], spec: Any, stream: np.random.SeedSequence) -> np.ndarray:
    """Saltelli's extension of the Sobol sequence, as SALib draws it."""
    import warnings

    from SALib.sample import sobol

    seed = int(stream.generate_state(1, dtype=np.uint32)[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sobol.sample(problem, spec.samples, calc_second_order=spec.second_order, seed=seed)
