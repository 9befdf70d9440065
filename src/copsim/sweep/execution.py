"""What a worker does: run the runs of a chunk and return their tables.

Everything here is a module-level function of plain data, so it pickles under
``spawn`` and ships to Dask workers.  A run that raises is caught and recorded
(error, traceback tail, seed) instead of taking the chunk down with it.
"""

from __future__ import annotations

import json
import traceback
from importlib import import_module
from typing import Any, Literal, get_origin

import numpy as np
import pandas as pd
import pyarrow as pa

from copsim.seeds import seed_label
from copsim.sweep.design import ChunkTask, RunTask

#: Columns every runs table starts with, before parameters and outcomes.
ID_COLUMNS = ("run", "point", "replicate", "seed", "preset", "status", "error")
#: Columns that name things and are stored as categoricals (besides text parameters).
CATEGORICAL = ("preset", "scenario", "status", "label")


def categorical_columns() -> list[str]:
    """Columns stored dictionary-encoded: names, labels, and every text parameter."""
    from copsim.params import Params

    text_params = [
        name
        for name, info in Params.model_fields.items()
        if info.annotation is str or get_origin(info.annotation) is Literal
    ]
    return [*CATEGORICAL, *text_params]


def _flat(value: Any) -> Any:
    """Parameter values as table cells: containers become canonical JSON text."""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True)
    return value


def load_model_class(spec: str) -> type:
    """Import ``'module:Class'``."""
    module, _, name = spec.partition(":")
    return getattr(import_module(module), name)


def _thin(frame: pd.DataFrame, step_col: str, every: int, last: int) -> pd.DataFrame:
    """Keep rows whose step is a multiple of ``every``, and the final step."""
    steps = frame[step_col].to_numpy()
    return frame[(steps % every == 0) | (steps == last)]


def _model_steps(model: Any, every: int) -> pd.DataFrame:
    """The model time series every ``every`` steps (always with the last)."""
    frame = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    frame.insert(0, "step", np.arange(len(frame), dtype=np.int64))
    return _thin(frame, "step", every, len(frame) - 1)


def _agent_steps(model: Any, every: int) -> pd.DataFrame:
    """Per-agent records every ``every`` steps (always with the last)."""
    frame = model.datacollector.get_agent_vars_dataframe().reset_index()
    frame = frame.rename(columns={"Step": "step", "AgentID": "agent_id"})
    frame["step"] = frame["step"].astype(np.int64)
    frame["agent_id"] = frame["agent_id"].astype(np.int64)
    last = int(frame["step"].max()) if len(frame) else 0
    return _thin(frame, "step", every, last)


def _outcome_record(outcomes: dict[str, Any], taken: set[str]) -> dict[str, Any]:
    """Outcomes as columns; a name already used by a parameter gets an ``outcome_`` prefix."""
    return {(f"outcome_{k}" if k in taken else k): v for k, v in outcomes.items()}


def execute_run(task: RunTask, model_cls: type, steps_every: int, agents_every: int) -> dict:
    """Run one model; return its row and (optionally) its time series and agent data."""
    from copsim.params import Params

    row = _base_row(task)
    out: dict[str, Any] = {"row": row, "steps": None, "agents": None}
    try:
        params = Params(**task.values)
        row.update({k: _flat(v) for k, v in params.model_dump().items()})
        model = model_cls(params, rng=task.seed)
        model.run()
        row.update(_outcome_record(model.outcomes(), set(row)))
        if steps_every:
            out["steps"] = _model_steps(model, steps_every)
        if agents_every:
            out["agents"] = _agent_steps(model, agents_every)
    except Exception as exc:
        row["status"] = "failed"
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = "".join(traceback.format_exc(limit=-6))
    return out


def _keyed(frame: pd.DataFrame, task: RunTask, factor_names: list[str]) -> pd.DataFrame:
    """Prefix a per-run table with the run's identity and design factors."""
    ident = {"run": task.run, "point": task.point, "replicate": task.replicate}
    ident.update({k: _flat(task.factors[k]) for k in factor_names if k in task.factors})
    for i, (name, value) in enumerate(ident.items()):
        frame.insert(i, name, value)
    return frame


#: The model whose runs go through the ensemble engine (copsim.ensemble).
ENSEMBLE_MODEL = "copsim.model:CoPModel"


def _base_row(task: RunTask) -> dict[str, Any]:
    return {
        "run": task.run,
        "point": task.point,
        "replicate": task.replicate,
        "seed": seed_label(task.seed),
        "preset": task.preset,
        "status": "ok",
        "error": None,
        "traceback": None,
        **{k: v for k, v in task.factors.items() if k in ("scenario", "sample")},
    }


def execute_ensembles(chunk: ChunkTask) -> list[dict]:
    """Run a chunk's runs through the ensemble engine; one result per run, in order.

    The runs are grouped into ensembles (``copsim.ensemble.run_ensembles``); a run
    whose parameters are invalid, or that raises, is recorded as failed with its
    error, and the others go on.
    """
    from copsim.ensemble import run_ensembles
    from copsim.params import Params

    outs: list[dict] = []
    todo: list[tuple[int, Params]] = []
    for i, task in enumerate(chunk.runs):
        row = _base_row(task)
        outs.append({"row": row, "steps": None, "agents": None})
        try:
            params = Params(**task.values)
        except Exception as exc:
            row["status"], row["error"] = "failed", f"{type(exc).__name__}: {exc}"
            row["traceback"] = "".join(traceback.format_exc(limit=-6))
            continue
        row.update({k: _flat(v) for k, v in params.model_dump().items()})
        todo.append((i, params))
    results = run_ensembles(
        [p for _, p in todo],
        [chunk.runs[i].seed for i, _ in todo],
        size=chunk.ensemble_size,
        keep_history=bool(chunk.steps_every),
    )
    for (i, _), result in zip(todo, results, strict=True):
        out = outs[i]
        row = out["row"]
        if result.error is not None:
            row["status"], row["error"], row["traceback"] = "failed", result.error, result.traceback
            continue
        row.update(_outcome_record(result.outcomes, set(row)))
        if chunk.steps_every and result.history is not None:
            frame = pd.DataFrame(result.history)
            frame.insert(0, "step", np.arange(len(frame), dtype=np.int64))
            out["steps"] = _thin(frame, "step", chunk.steps_every, len(frame) - 1)
    return outs


def run_chunk(chunk: ChunkTask) -> dict[str, pa.Table]:
    """Execute a chunk; return ``{"runs": ..., "steps": ..., "agents": ...}`` tables.

    Runs of copsim's own model go through the ensemble engine (unless per-agent
    records are asked for, which need Mesa's agents); ``steps``/``agents`` are
    present only when recorded.  Tables are Arrow, so the parent writes them
    without touching pandas again.
    """
    rows, steps, agents = [], [], []
    if chunk.model == ENSEMBLE_MODEL and not chunk.agents_every:
        results = execute_ensembles(chunk)
    else:
        model_cls = load_model_class(chunk.model)
        results = [
            execute_run(task, model_cls, chunk.steps_every, chunk.agents_every)
            for task in chunk.runs
        ]
    for task, result in zip(chunk.runs, results, strict=True):
        rows.append(result["row"])
        if result["steps"] is not None:
            steps.append(_keyed(result["steps"], task, chunk.factor_names))
        if result["agents"] is not None:
            agents.append(_keyed(result["agents"], task, chunk.factor_names))
    tables = {"runs": rows_to_arrow(rows)}
    if steps:
        tables["steps"] = to_arrow(pd.concat(steps, ignore_index=True))
    if agents:
        tables["agents"] = to_arrow(pd.concat(agents, ignore_index=True))
    return tables


def rows_to_arrow(rows: list[dict[str, Any]]) -> pa.Table:
    """Records (possibly with different keys: failed runs have no outcomes) as a table.

    Arrow infers each column from the values, so an integer outcome stays an
    integer column with nulls where runs failed.
    """
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return pa.table({name: [row.get(name) for row in rows] for name in names})


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """A DataFrame as an Arrow table with stable types: text columns as plain strings.

    Dictionary encoding (categoricals) is applied when parts are consolidated,
    so every part of a column has one type whatever its chunk held.
    """
    for col in frame.columns:
        if frame[col].dtype == object:
            kinds = {type(v) for v in frame[col] if v is not None}
            if kinds <= {str}:
                frame[col] = frame[col].astype("string")
            elif kinds <= {bool}:
                frame[col] = frame[col].astype("boolean")
    return pa.Table.from_pandas(frame, preserve_index=False)
