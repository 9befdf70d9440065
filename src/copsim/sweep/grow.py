"""Growing a finished (or partial) sweep: reuse its runs under a larger config.

A run depends only on its design point's values and on
``child_seed(root, point, replicate)``, never on its run index or chunk.  So a
folder can be reused by a config that only *adds* runs: more replicates, more
levels at the end of a grid factor, a larger sample, as long as every old point
keeps its index and its values.  :func:`growth_problem` says in words why a
change is not such a growth; :func:`carry_over` moves the old runs aside
(``carried/<table>.parquet``, with their run indices renumbered for the new
design); :class:`Carried` lets the runner compute only the runs a chunk still
lacks and merge them with the carried ones, so the tables equal a sweep run
from scratch with the new config.

A round of ``copsim sweep --target-ci`` is a growth too: the folder's design
gains replicates in some cells (:mod:`copsim.sweep.replication`), the old runs
are renumbered for it and only the new replicates are computed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from copsim.sweep.config import ExperimentConfig
from copsim.sweep.design import ChunkTask, Design
from copsim.sweep.execution import categorical_columns
from copsim.sweep.storage import (
    REPLICATION,
    TABLES,
    ResultStore,
    SweepError,
    conform,
    file_digest,
    unified_schema,
)

#: Config fields that do not decide any result (left out of the comparison).
_IGNORED = {"output", "description", "report", "allow_huge", "ensemble_size"}
CARRIED = "carried"
#: Files of a folder that stay when it grows (besides the carried tables).
KEPT_FILES = (REPLICATION,)
#: Manifest entries that describe the folder's history and stay when it grows.
KEPT_ENTRIES = ("sessions", "grown", "target_ci")


class GrowthRefused(SweepError):
    """The config changed in a way that cannot reuse the folder's finished runs (exit code 2)."""

    exit_code = 2


def _comparable(cfg: ExperimentConfig) -> dict[str, Any]:
    """The config as JSON without the parts a growth may change (replicates, levels, sizes)."""
    data = cfg.model_dump(mode="json", exclude=_IGNORED)
    data.pop("replicates")
    design = data["design"]
    if design.get("grid") is not None:
        design["grid"] = list(design["grid"])  # the keys (and their order) must stay
    for kind in ("lhs", "sobol"):
        if design.get(kind) is not None:
            design[kind].pop("samples")
    return data


def _what_differs(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Names of the settings that differ, in words a reader of the config recognizes."""
    out: list[str] = []
    labels = {
        "seed": "the root seed",
        "steps": "the number of steps",
        "stop": "the stop rule",
        "model": "the model",
        "chunk_size": "the chunk_size",
        "common_random_numbers": "common_random_numbers",
        "record": "what is recorded (record)",
    }
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        if key == "base":
            if old["base"].get("preset") != new["base"].get("preset"):
                out.append("the base preset")
            po, pn = old["base"].get("params", {}), new["base"].get("params", {})
            names = sorted(k for k in set(po) | set(pn) if po.get(k) != pn.get(k))
            if names:
                out.append(f"the base parameter {', '.join(names)}")
        elif key == "design":
            for part in sorted(set(old["design"]) | set(new["design"])):
                a, b = old["design"].get(part), new["design"].get(part)
                if a == b:
                    continue
                if part == "grid":
                    out.append("the grid's factors (added, removed or reordered)")
                elif part == "scenarios":
                    out.append("the scenarios")
                elif a is None or b is None:
                    out.append(f"the kind of design ({part} added or removed)")
                else:
                    out.append(f"the {part.upper()} ranges or options")
        else:
            out.append(labels.get(key, key))
    return out


def growth_problem(
    old_cfg: ExperimentConfig,
    cfg: ExperimentConfig,
    old_cells: dict[int, int] | None = None,
    cells: dict[int, int] | None = None,
) -> str | None:
    """``None`` if ``cfg`` only adds runs to ``old_cfg``; otherwise what forbids reuse, in words.

    ``old_cells`` and ``cells`` are the replicates per cell beyond the configs'
    (from ``--target-ci``): no cell may lose replicates either.
    """
    changed = _what_differs(_comparable(old_cfg), _comparable(cfg))
    if changed:
        return f"a change in {'; in '.join(changed)}"
    if cfg.replicates < old_cfg.replicates:
        return f"fewer replicates ({old_cfg.replicates} -> {cfg.replicates})"
    old_grid, grid = old_cfg.design.grid or {}, cfg.design.grid or {}
    for name, levels in old_grid.items():
        new_levels = grid[name]
        if list(new_levels[: len(levels)]) != list(levels):
            return (
                f"grid factor {name}: the levels {list(new_levels)} do not start with the old "
                f"levels {list(levels)} (a level inserted in the middle, removed or changed; "
                "new levels can only be added at the end)"
            )
    for kind in ("lhs", "sobol"):
        old_spec, spec = getattr(old_cfg.design, kind), getattr(cfg.design, kind)
        if old_spec is not None and spec.samples < old_spec.samples:
            return f"fewer {kind.upper()} samples ({old_spec.samples} -> {spec.samples})"
    old, new = Design(old_cfg, old_cells), Design(cfg, cells)
    for point in range(old.n_points):
        if old.point_factors(point) != new.point_factors(point):
            return _renumbering(old_cfg, cfg, point)
    for cell in old.cell_replicates:
        if new.replicates_of_cell(cell) < old.replicates_of_cell(cell):
            return (
                f"fewer replicates in design cell {cell} {new.cell_factors(cell)} "
                f"({old.replicates_of_cell(cell)} -> {new.replicates_of_cell(cell)}; "
                f"--target-ci gave it more, recorded in {REPLICATION})"
            )
    return None


def _renumbering(old_cfg: ExperimentConfig, cfg: ExperimentConfig, point: int) -> str:
    """Why an old point would get another index or other values under the new config."""
    if cfg.design.lhs is not None and cfg.design.lhs.samples != old_cfg.design.lhs.samples:
        return (
            "more LHS samples: a Latin hypercube of another size is drawn afresh, so the old "
            "samples' values change (a larger Sobol N extends its sequence; LHS cannot)"
        )
    return (
        f"design point {point} would get another index or other values: the design points are "
        "numbered with the last factor varying fastest, so only the outermost factor (the "
        "first grid key without scenarios, or the sample of a design that has nothing else) "
        "can grow without renumbering the points and so changing their seeds"
    )


# ----------------------------------------------------------------------------- carrying runs over
def _plain(table: pa.Table) -> pa.Table:
    """Dictionary-encoded columns decoded (carried rows are merged with fresh parts)."""
    fields = [
        pa.field(f.name, f.type.value_type) if pa.types.is_dictionary(f.type) else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields))


def _renumber(table: pa.Table, design: Design) -> pa.Table:
    """Give each row the run index of its (point, replicate) in ``design``."""
    kind = table.schema.field("run").type
    run = design.run_indices(table.column("point").to_numpy(), table.column("replicate").to_numpy())
    return table.set_column(table.schema.get_field_index("run"), "run", pa.array(run).cast(kind))


def carry_over(
    store: ResultStore, design: Design, manifest: dict[str, Any], by: str = "config"
) -> int:
    """Move the folder's finished runs aside for the grown ``design``; adopt ``manifest``.

    The done chunks' rows (or the consolidated tables) are written, renumbered,
    to ``carried/<table>.parquet`` and listed with their checksums; then the new
    manifest (which keeps the old sessions and records the growth, ``by`` the
    config or by ``target-ci``) is written and the old tables and parts are
    deleted.  The replication record stays.  Returns the number of runs carried.
    """
    if store.manifest.get(CARRIED):
        raise GrowthRefused(
            f"{store.root} is a grown sweep that has not finished yet: finish it first "
            "(run its config again), then grow it further"
        )
    cats = categorical_columns()
    old = store.manifest
    tables = {}
    for name in TABLES:
        table = store.read_table(name, cats)
        if table is not None and table.num_rows:
            tables[name] = _renumber(_plain(table), design)
    carried: dict[str, str] = {}
    (store.root / CARRIED).mkdir(exist_ok=True)
    for name, table in tables.items():
        rel = f"{CARRIED}/{name}.parquet"
        path = store.root / rel
        store.files[rel] = {"pending": True}
        store.write_manifest()
        pq.write_table(table, path, compression="zstd")
        size, digest = file_digest(path)
        store.files[rel] = {"bytes": size, "sha256": digest, "rows": table.num_rows}
        carried[name] = rel
    keep = [*carried.values(), *(rel for rel in KEPT_FILES if rel in store.files)]
    stale = [rel for rel in store.files if rel not in keep]
    n_runs = tables["runs"].num_rows if "runs" in tables else 0
    manifest["files"] = {rel: store.files[rel] for rel in keep}
    manifest["chunks"] = {}
    manifest[CARRIED] = {"tables": carried, "runs": n_runs}
    manifest.update({key: old[key] for key in KEPT_ENTRIES if key in old})
    manifest["created"] = old.get("created", manifest["created"])
    manifest["status"] = "partial"  # not "running": no sweep has started on the grown design yet
    manifest["grown"] = [
        *old.get("grown", []),
        {
            "by": by,
            "from_fingerprint": old.get("fingerprint"),
            "from_runs": (old.get("counts") or {}).get("runs"),
            "to_runs": design.n_runs,
            "runs_carried": n_runs,
            "at": _now(),
        },
    ]
    store.write_manifest(manifest)
    for rel in stale:
        (store.root / rel).unlink(missing_ok=True)
    with_parts = store.root / "parts"
    if with_parts.is_dir() and not any(with_parts.iterdir()):
        with_parts.rmdir()
    return n_runs


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def drop_carried(store: ResultStore) -> None:
    """Delete the carried tables once the grown sweep is consolidated."""
    entry = store.manifest.pop(CARRIED, None)
    if not entry:
        return
    for rel in entry["tables"].values():
        (store.root / rel).unlink(missing_ok=True)
        store.files.pop(rel, None)
    folder = store.root / CARRIED
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    store.write_manifest()


@dataclasses.dataclass
class Carried:
    """The runs a grown sweep brought over, by table, and which run indices they cover."""

    tables: dict[str, pa.Table]
    runs: set[int]

    @classmethod
    def load(cls, store: ResultStore) -> Carried | None:
        """The carried tables of the folder (checked against the manifest), or ``None``."""
        entry = store.manifest.get(CARRIED)
        if not entry:
            return None
        tables = {}
        for name, rel in entry["tables"].items():
            problem = store.check(rel)
            if problem is not None:
                raise SweepError(
                    f"{store.root / rel} {problem}: the runs carried over from before the "
                    "sweep grew are lost; start again with --fresh"
                )
            tables[name] = pq.read_table(store.root / rel)
        runs = set(tables["runs"].column("run").to_pylist()) if "runs" in tables else set()
        return cls(tables, runs)

    def in_chunk(self, design: Design, chunk: int) -> int:
        """How many of a chunk's runs were carried over."""
        return sum(1 for r in design.chunk_runs(chunk) if r in self.runs)

    def task(self, design: Design, chunk: int) -> ChunkTask | None:
        """The chunk's work order without its carried runs (``None``: nothing left to run)."""
        runs = [r for r in design.chunk_runs(chunk) if r not in self.runs]
        if not runs:
            return None
        full = design.chunk_task(chunk)
        return dataclasses.replace(full, runs=[t for t in full.runs if t.run in set(runs)])

    def merge(self, design: Design, chunk: int, tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
        """A chunk's tables: its carried rows and its fresh ones, in run order."""
        span = design.chunk_runs(chunk)
        out = {}
        for name in TABLES:
            pieces = [tables[name]] if name in tables else []
            if name in self.tables:
                run = self.tables[name].column("run")
                mask = pc.and_(pc.greater_equal(run, span.start), pc.less(run, span.stop))
                rows = self.tables[name].filter(mask)
                if rows.num_rows:
                    pieces.append(rows)
            if not pieces:
                continue
            schema = unified_schema([p.schema for p in pieces], [])
            merged = pa.concat_tables([conform(p, schema) for p in pieces])
            out[name] = merged.sort_by("run")
        return out
