"""Parameter sweeps from config files.

``copsim.sweep("configs/x.yaml")`` runs (or resumes) the experiment a config
file describes and returns its results folder; ``copsim.load(folder)`` reads it
back as pandas DataFrames.  The parts, one concept per module:

- :mod:`~copsim.sweep.config`   the YAML schema and validation with file/line errors
- :mod:`~copsim.sweep.design`   points, replicates, seeds and chunks of a config
- :mod:`~copsim.sweep.execution` what a worker does with a chunk
- :mod:`~copsim.sweep.backends` local processes or Dask
- :mod:`~copsim.sweep.storage`  atomic Parquet parts, consolidation, the manifest
- :mod:`~copsim.sweep.runner`   the sweep itself (plan, skip, run, write, record)
- :mod:`~copsim.sweep.grow`     reusing a folder's runs when the config grows
- :mod:`~copsim.sweep.replication` the cells a folder runs with more replicates than its config
- :mod:`~copsim.sweep.target_ci` ``--target-ci``: rounds of replicates until the CIs are narrow

This package is itself callable (``copsim.sweep(...)``), so the name works
whether it resolves to the function or to the package.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

from copsim.sweep.config import ConfigError, ExperimentConfig, load_config

__all__ = ["ConfigError", "ExperimentConfig", "load", "load_config", "sweep"]


def sweep(
    config: str | Path | ExperimentConfig,
    *,
    workers: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    fresh: bool = False,
    progress: bool = False,
    out: str | Path | None = None,
    target_ci: float | None = None,
    max_replicates: int | None = None,
) -> Path:
    """Run the sweep of a config file (skipping finished runs); return the results folder.

    With ``target_ci``, go on adding replicates in rounds to the design cells
    whose 95% CI half-width is wider, up to ``max_replicates`` per point
    (:mod:`copsim.sweep.target_ci`).

    ``workers`` defaults to all cores; ``backend`` is ``"local"`` or ``"dask"``;
    ``scheduler`` joins an existing Dask cluster.  A sweep run from a script
    with the local backend needs the usual ``if __name__ == "__main__":`` guard
    (worker processes are started with *spawn*).  The results folder is locked
    while the sweep runs: a second sweep into it raises
    :class:`~copsim.sweep.storage.FolderInUse` naming the holder.
    """
    if target_ci is not None:
        from copsim.sweep.target_ci import run_target_ci

        options = dict(workers=workers, backend=backend, scheduler=scheduler, resume=resume)
        found = run_target_ci(
            config, target_ci, max_replicates, fresh=fresh, progress=progress, out=out, **options
        )
        return found.path
    from copsim.sweep.runner import run_sweep

    summary = run_sweep(
        config,
        workers=workers,
        backend=backend,
        scheduler=scheduler,
        resume=resume,
        fresh=fresh,
        progress=progress,
        out=out,
    )
    return summary.path


def load(path: str | Path, table: str | None = None) -> Any:
    """Read a results folder: all tables as :class:`copsim.analysis.Results`, or one table."""
    from copsim.analysis import load as _load

    return _load(path, table)


class _CallableModule(types.ModuleType):
    """Lets ``copsim.sweep(...)`` work even where it resolves to this package."""

    def __call__(self, *args: Any, **kwargs: Any) -> Path:
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
