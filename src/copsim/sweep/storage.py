"""The results folder: atomic Parquet part files, consolidation, the manifest.

Layout of ``results/<experiment>/`` while a sweep runs::

    manifest.json             config, versions, counts, timings (rewritten atomically)
    parts/runs-000012.parquet     one file per finished chunk and table
    parts/steps-000012.parquet
    parts/agents-000012.parquet

and when it is complete: ``runs.parquet``, ``steps.parquet``, ``agents.parquet``
(parts merged in run order, streaming one part at a time), the parts removed.

Every file is written to a temporary name in the same folder and moved into
place with ``os.replace``, so a reader (or a resumed sweep) sees a whole file or
none.  A chunk counts as finished when its ``runs`` part exists; that part is
written last, after the chunk's other tables.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from copsim.files import atomic_write

#: The tables of a results folder, in the order a chunk writes them (runs last).
TABLES = ("steps", "agents", "runs")
MANIFEST = "manifest.json"
#: Rows per row group of a consolidated file (parts are small; files read faster in big groups).
ROW_GROUP_ROWS = 50_000
_PART = re.compile(r"^(runs|steps|agents)-(\d+)\.parquet$")


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically (pretty, stable key order)."""
    text = json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_parquet(path: Path, table: pa.Table) -> None:
    """Write one Arrow table as a Parquet file atomically."""
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def is_categorical(name: str, categorical: Iterable[str]) -> bool:
    """Columns stored dictionary-encoded (read back by pandas as categoricals)."""
    return name in set(categorical)


def unified_schema(schemas: list[pa.Schema], categorical: Iterable[str]) -> pa.Schema:
    """One schema for all parts: nulls promoted, named text columns dictionary-encoded."""
    merged = pa.unify_schemas([s.remove_metadata() for s in schemas], promote_options="permissive")
    cats = set(categorical)
    fields = []
    for f in merged:
        kind = f.type
        if f.name in cats and (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            kind = pa.dictionary(pa.int32(), pa.string())
        elif pa.types.is_null(kind):
            kind = pa.string()
        fields.append(pa.field(f.name, kind))
    return pa.schema(fields)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Reorder, cast and fill a part so that it has exactly ``schema``."""
    if table.schema.remove_metadata().equals(schema):
        return table.replace_schema_metadata(None)
    columns = []
    for f in schema:
        if f.name not in table.column_names:
            columns.append(pa.nulls(table.num_rows, f.type))
            continue
        column = table.column(f.name)
        columns.append(column if column.type.equals(f.type) else column.cast(f.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _row_groups(files: list[Path], schema: pa.Schema, rows: int = ROW_GROUP_ROWS):
    """Parts read one at a time and regrouped into row groups of about ``rows`` rows."""
    buffer: list[pa.Table] = []
    size = 0
    for path in files:
        part = conform(pq.read_table(path), schema)
        buffer.append(part)
        size += part.num_rows
        if size >= rows:
            yield pa.concat_tables(buffer)
            buffer, size = [], 0
    if buffer:
        yield pa.concat_tables(buffer)


class ResultStore:
    """A results folder on disk."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.parts = self.root / "parts"

    # ------------------------------------------------------------------ parts
    def part_path(self, table: str, chunk: int) -> Path:
        """Where a chunk's part of ``table`` lives."""
        return self.parts / f"{table}-{chunk:06d}.parquet"

    def part_files(self, table: str) -> list[tuple[int, Path]]:
        """Finished parts of ``table`` as (chunk, path), in chunk order."""
        if not self.parts.is_dir():
            return []
        found = []
        for path in self.parts.iterdir():
            match = _PART.match(path.name)
            if match and match.group(1) == table:
                found.append((int(match.group(2)), path))
        return sorted(found)

    def done_chunks(self) -> set[int]:
        """Chunks whose runs part is on disk (their other tables are too)."""
        return {chunk for chunk, _ in self.part_files("runs")}

    def write_chunk(self, chunk: int, tables: dict[str, pa.Table]) -> None:
        """Write a finished chunk: its other tables first, its runs part last."""
        for name in TABLES:
            if name in tables:
                write_parquet(self.part_path(name, chunk), tables[name])

    def remove_temp_files(self) -> None:
        """Delete temporary files left by a killed writer."""
        for folder in (self.root, self.parts):
            if folder.is_dir():
                for path in folder.glob(".*.tmp"):
                    path.unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove all results (for a fresh start)."""
        for name in (*TABLES,):
            (self.root / f"{name}.parquet").unlink(missing_ok=True)
        (self.root / MANIFEST).unlink(missing_ok=True)
        shutil.rmtree(self.parts, ignore_errors=True)

    # ------------------------------------------------------------------ merge
    def consolidate(self, categorical: Iterable[str]) -> dict[str, int]:
        """Merge each table's parts into one file in run order; return row counts.

        Streams part by part, so memory holds one part at a time.  Parts are
        removed only after every table has been merged.
        """
        cats = list(categorical)
        counts: dict[str, int] = {}
        for name in TABLES:
            files = [path for _, path in self.part_files(name)]
            target = self.root / f"{name}.parquet"
            if not files:
                target.unlink(missing_ok=True)
                continue
            schema = unified_schema([pq.read_schema(p) for p in files], cats)
            counts[name] = 0

            def write(tmp: Path, files: list[Path] = files, schema: pa.Schema = schema) -> None:
                with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
                    for batch in _row_groups(files, schema):
                        writer.write_table(batch)

            atomic_write(target, write)
            counts[name] = pq.ParquetFile(target).metadata.num_rows
        return counts

    def remove_parts(self) -> None:
        """Delete the part files (after a successful consolidation)."""
        shutil.rmtree(self.parts, ignore_errors=True)

    def read_table(
        self, name: str, categorical: Iterable[str], columns: list[str] | None = None
    ) -> pa.Table | None:
        """A table from the consolidated file, or merged from parts of an unfinished sweep."""
        target = self.root / f"{name}.parquet"
        if target.exists():
            return pq.read_table(target, columns=columns)
        files = [path for _, path in self.part_files(name)]
        if not files:
            return None
        schema = unified_schema([pq.read_schema(p) for p in files], categorical)
        if columns:
            schema = pa.schema([schema.field(c) for c in columns])
        names = [f.name for f in schema]
        parts = []
        for path in files:
            present = [n for n in names if n in pq.read_schema(path).names]
            parts.append(conform(pq.read_table(path, columns=present), schema))
        return pa.concat_tables(parts)

    # ------------------------------------------------------------------ manifest
    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest, or ``None`` if the folder has none."""
        path = self.root / MANIFEST
        if not path.exists():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def write_manifest(self, data: dict[str, Any]) -> None:
        """Replace the manifest atomically."""
        write_json(self.root / MANIFEST, data)
