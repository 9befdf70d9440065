"""Writing result files so that nothing half-written is ever seen.

Every output goes to a temporary sibling first and is moved into place with
``os.replace`` (atomic on one file system): a reader, a resumed sweep or an
interrupted experiment finds either the whole previous file or the whole new one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd


def _fsync(path: Path) -> None:
    """Flush a file's contents to disk before it is renamed into place."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary sibling of ``path``, then move it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        write(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_table(
    frame: pd.DataFrame, out: Path, name: str, float_format: str | None = None
) -> list[Path]:
    """``frame`` as ``name.parquet`` and ``name.csv`` in ``out``, atomically; both paths."""
    parquet, csv = Path(out) / f"{name}.parquet", Path(out) / f"{name}.csv"
    atomic_write(parquet, lambda p: frame.to_parquet(p, index=False))
    atomic_write(csv, lambda p: frame.to_csv(p, index=False, float_format=float_format))
    return [parquet, csv]
