"""The replication record of a results folder: which cells run more replicates than the config.

``copsim sweep --target-ci`` gives design cells whose confidence intervals are
too wide more replicates than the config's ``replicates``.  Those counts are
not in the config, so they live in the results folder, in ``replication.json``
(listed in the manifest like every file copsim writes, replaced atomically):

.. code-block:: json

    {"format": "copsim-replication/1",
     "replicates": 2, "points_per_cell": 1,
     "cells": [{"cell": 3, "points": [3, 3], "factors": {"turnover_rate": 0.1},
                "replicates": 8}],
     "rounds": [...], "status": "met"}

Every sweep into the folder reads it (:func:`extended`), so the folder's design
is the config's with those cells raised: a plain ``copsim sweep`` of the same
config finds the folder complete, resumes an interrupted round, or grows it
(more replicates in the config raise every cell to at least that many).  The
cell's factor values are stored with it and checked against the config on
every read, so a record is never applied to cells it was not written for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from copsim.sweep.design import Design
from copsim.sweep.storage import REPLICATION, ResultsError, ResultStore, SweepError

FORMAT = "copsim-replication/1"


class RecordRefused(SweepError):
    """The folder's replication record is damaged or does not fit the config (exit code 2)."""

    exit_code = 2


@dataclass
class ReplicationRecord:
    """Replicates per cell beyond the config's, and what ``--target-ci`` did to get there.

    ``rounds`` holds one entry per round of ``--target-ci`` (its settings, the
    cells it widened and the runs it added); ``status`` is where the last
    ``--target-ci`` left the folder: ``running`` (a round is under way),
    ``met`` (every cell within the target), ``cap`` (some cells are at the cap
    and still too wide) or ``unfinished-cells`` (some cells have no finished run).
    """

    cells: dict[int, int] = field(default_factory=dict)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    status: str = "running"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self, design: Design) -> dict[str, Any]:
        """The record as written (cells with their points and factor values)."""
        cells = []
        for cell, count in sorted(self.cells.items()):
            points = design.cell_points(cell)
            cells.append(
                {
                    "cell": cell,
                    "points": [points.start, points.stop - 1],
                    "factors": _plain(design.cell_factors(cell)),
                    "replicates": count,
                }
            )
        return {
            "format": FORMAT,
            "about": (
                "replicates per design cell added by copsim sweep --target-ci: every point of "
                "a cell listed here runs this many replicates (seeds child_seed(root, point, "
                "replicate) as in any sweep); the other cells run the config's replicates"
            ),
            "replicates": design.replicates,
            "points_per_cell": design.points_per_cell,
            "cells": cells,
            "rounds": self.rounds,
            "status": self.status,
            **self.extra,
        }


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Factor values as JSON gives them back (so a stored cell compares with a computed one)."""
    return json.loads(json.dumps(values, default=str))


def _refuse(store: ResultStore, why: str) -> RecordRefused:
    return RecordRefused(
        f"{store.root / REPLICATION}: {why}; copsim will not guess which runs belong to the "
        "folder: use the config it was made with, or start again with --fresh"
    )


def load(store: ResultStore, design: Design) -> ReplicationRecord | None:
    """The folder's record, checked against ``design`` (``None`` if the folder has none)."""
    try:
        data = store.read_record(REPLICATION)
    except ResultsError as exc:
        raise _refuse(store, str(exc).removeprefix(f"{store.root / REPLICATION} ")) from None
    if data is None:
        return None
    if not str(data.get("format", "")).startswith("copsim-replication/"):
        raise _refuse(store, f"format {data.get('format')!r} is not a copsim replication record")
    if data.get("points_per_cell") != design.points_per_cell:
        raise _refuse(
            store,
            f"it was written for cells of {data.get('points_per_cell')} design points, and this "
            f"config's cells have {design.points_per_cell}",
        )
    cells: dict[int, int] = {}
    for i, entry in enumerate(data.get("cells") or []):
        cell, count = entry.get("cell"), entry.get("replicates")
        if not (isinstance(cell, int) and isinstance(count, int) and count >= 1):
            raise _refuse(store, f"cells[{i}] = {entry!r} is not a cell index and a count")
        if not 0 <= cell < design.n_cells:
            raise _refuse(store, f"cell {cell} is not in this config's design")
        if entry.get("factors") != _plain(design.cell_factors(cell)):
            raise _refuse(
                store,
                f"cell {cell} was {entry.get('factors')} when the record was written and is "
                f"{design.cell_factors(cell)} in this config",
            )
        cells[cell] = count
    known = {"format", "about", "replicates", "points_per_cell", "cells", "rounds", "status"}
    return ReplicationRecord(
        cells=cells,
        rounds=list(data.get("rounds") or []),
        status=str(data.get("status", "running")),
        extra={k: v for k, v in data.items() if k not in known},
    )


def save(store: ResultStore, design: Design, record: ReplicationRecord) -> None:
    """Write the record atomically (listed in the manifest first)."""
    store.write_record(REPLICATION, record.to_json(design))


def extended(design: Design, store: ResultStore) -> tuple[Design, ReplicationRecord | None]:
    """The folder's design: ``design`` with the cells its record raises (and the record)."""
    record = load(store, design)
    if record is None or not record.cells:
        return design, record
    counts = {c: max(n, design.replicates_of_cell(c)) for c, n in record.cells.items()}
    return Design(design.cfg, {**design.cell_replicates, **counts}), record
