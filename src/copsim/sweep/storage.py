"""The results folder: its lock, atomic Parquet parts, checksums, consolidation, the manifest.

Layout of ``results/<experiment>/`` while a sweep runs::

    .copsim.lock                  held (flock) by the sweep that owns the folder
    manifest.json                 config, versions, counts, timings, and every file copsim wrote
    parts/steps-000012.parquet    one file per finished chunk and table
    parts/agents-000012.parquet
    parts/runs-000012.parquet

and when it is complete: ``runs.parquet``, ``steps.parquet``, ``agents.parquet``
(parts merged in run order, streaming one part at a time), the parts removed.

Three rules keep the folder trustworthy:

- **One owner.**  A sweep holds an OS lock (``fcntl.flock``) on ``.copsim.lock``
  for as long as it runs; a second sweep into the same folder is refused with
  the holder's pid and host.  The kernel drops the lock when its holder dies,
  so a lock never goes stale, and a manifest still saying ``running`` while
  nobody holds the lock is read as ``interrupted``.
- **copsim touches only what its manifest lists.**  Each file is entered in the
  manifest's ``files`` (with its size and sha256) *before* it is moved into
  place, so a file is either listed or not copsim's.  Files copsim did not
  write (a user's notes in ``parts/``, a ``manifest.json`` of another tool) are
  never deleted or overwritten; a sweep that would have to is refused.
- **Nothing unverified is used.**  A chunk is done only when *every* part the
  manifest lists for it exists with its recorded size and checksum; a missing
  or damaged part makes the chunk run again.  Readers check consolidated tables
  the same way and name any file they cannot use.

Every file is written to a temporary name in the same folder and moved into
place with ``os.replace``, so a reader sees a whole file or none.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from copsim.files import atomic_write

try:  # POSIX; elsewhere sweeps run without a folder lock
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: The tables of a results folder, in the order a chunk writes them (runs last).
TABLES = ("steps", "agents", "runs")
MANIFEST = "manifest.json"
LOCK = ".copsim.lock"
#: The per-cell replicate counts ``copsim sweep --target-ci`` added (copsim.sweep.replication).
REPLICATION = "replication.json"
#: What a manifest written by this version says it is.
FORMAT = "copsim-results/2"
#: Keys every copsim manifest has had, from the first version on.
_LEGACY_KEYS = frozenset({"experiment", "fingerprint", "sessions", "counts"})
#: Rows per row group of a consolidated file (parts are small; files read faster in big groups).
ROW_GROUP_ROWS = 50_000
_PART = re.compile(r"^(runs|steps|agents)-(\d+)\.parquet$")
#: Temporary names :func:`copsim.files.atomic_write` gives copsim's own files.
_TEMP = re.compile(
    r"^\.(manifest\.json|replication\.json|(runs|steps|agents)\.parquet"
    r"|(runs|steps|agents)-\d+\.parquet)"
    r"\.[0-9a-f]{8}\.tmp$"
)


class SweepError(RuntimeError):
    """A sweep that cannot start (e.g. the results folder holds another experiment)."""

    #: Exit code of ``copsim sweep`` for this error.
    exit_code = 1


class FolderRefused(SweepError):
    """The results folder holds something copsim must not touch (bad input: exit code 2)."""

    exit_code = 2


class FolderInUse(FolderRefused):
    """Another sweep holds the results folder's lock."""


class ResultsError(ValueError):
    """A file the results folder needs is missing, damaged, or not copsim's."""


class DamagedPartWarning(UserWarning):
    """A part of an unfinished sweep is damaged and was left out of what was read."""


# ----------------------------------------------------------------------------- files
def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically (pretty, stable key order)."""
    text = json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def parquet_bytes(table: pa.Table) -> bytes:
    """A table serialized as Parquet in memory (so its checksum is known before it is written)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def write_parquet(path: Path, table: pa.Table) -> None:
    """Write one Arrow table as a Parquet file atomically."""
    data = parquet_bytes(table)
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def file_digest(path: Path) -> tuple[int, str]:
    """Size in bytes and sha256 of a file (streamed, so big tables do not fill memory)."""
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return path.stat().st_size, digest


def is_copsim_manifest(data: Any) -> bool:
    """Was this manifest written by copsim (this version or an earlier one)?"""
    if not isinstance(data, dict):
        return False
    return str(data.get("format", "")).startswith("copsim-results") or set(data) >= _LEGACY_KEYS


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
    present = dict(zip(table.column_names, table.columns, strict=True))
    for f in schema:
        if f.name not in present:
            columns.append(pa.nulls(table.num_rows, f.type))
            continue
        column = present[f.name]
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


# ----------------------------------------------------------------------------- the lock
def _holder_text(info: dict[str, Any] | None) -> str:
    if not info:
        return "another process (holder unknown)"
    return f"pid {info.get('pid')} on host {info.get('host')}, since {info.get('since')}"


class FolderLock:
    """The exclusive OS lock that makes one sweep the owner of a results folder.

    ``flock`` locks belong to an open file and vanish with the process that holds
    them, however it ends, so a crashed or killed sweep never leaves a stale
    lock behind.  The lock file also holds the owner's pid and host so that a
    refused sweep can say who has the folder.  It is never deleted (deleting a
    lock file lets two processes lock two different files).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.path = self.root / LOCK
        self.holder: dict[str, Any] | None = None
        self._fd: int | None = None

    def acquire(self, tries: int = 5, pause: float = 0.05) -> dict[str, Any]:
        """Take the lock or raise :class:`FolderInUse`; return what is recorded of the holder.

        A few quick retries ride over a reader probing the lock at that moment
        (see :meth:`held`); a sweep holding the folder holds it far longer.
        """
        self.holder = {"pid": os.getpid(), "host": platform.node(), "since": _now()}
        if fcntl is None:  # pragma: no cover - no flock on this system
            return self.holder
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise FolderRefused(
                f"cannot use {self.root} as a results folder: {exc.strerror or exc} "
                f"({exc.filename or self.path})"
            ) from None
        for attempt in range(tries):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == tries - 1:
                    os.close(fd)
                    raise FolderInUse(
                        f"{self.root} is in use by another sweep "
                        f"({_holder_text(self.read_holder(self.root))}); "
                        "wait for it to finish, stop it, or choose another --out folder"
                    ) from None
                time.sleep(pause)
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(self.holder) + "\n").encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self.holder

    def release(self) -> None:
        """Give the folder up (the lock file stays; its lock is what counts)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    @staticmethod
    def read_holder(root: str | Path) -> dict[str, Any] | None:
        """Who took the lock last, as its lock file says."""
        try:
            data = json.loads((Path(root) / LOCK).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    @staticmethod
    def held(root: str | Path) -> bool:
        """Does a live process hold the folder's lock?  (A momentary shared-lock probe.)"""
        if fcntl is None:  # pragma: no cover
            return False
        try:
            fd = os.open(Path(root) / LOCK, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops the probe's lock
        return False


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# ----------------------------------------------------------------------------- the store
class ResultStore:
    """A results folder on disk, and the manifest that says which files in it are copsim's.

    ``manifest`` is read lazily; a store of an empty folder starts with an empty
    one (written by the first :meth:`write_manifest` or :meth:`write_chunk`).
    Paths in the manifest are relative to the folder, with ``/``.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.parts = self.root / "parts"
        self._manifest: dict[str, Any] | None = None
        self._checked: dict[str, tuple[tuple[int, int], str | None]] = {}
        self._warned: set[str] = set()

    # ------------------------------------------------------------------ manifest
    @property
    def manifest(self) -> dict[str, Any]:
        """The manifest in memory (from disk on first use; empty for a new folder)."""
        if self._manifest is None:
            self._manifest = self.load_manifest() or {}
            self._normalize(self._manifest)
        return self._manifest

    @manifest.setter
    def manifest(self, data: dict[str, Any]) -> None:
        self._normalize(data)
        self._manifest = data
        self._checked.clear()

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        """Every file copsim wrote here: relative path -> size, sha256 (or pending)."""
        return self.manifest["files"]

    @property
    def chunks(self) -> dict[str, list[str]]:
        """Chunk number (as text) -> the part files written for it."""
        return self.manifest["chunks"]

    def load_manifest(self) -> dict[str, Any] | None:
        """The manifest file as written, or ``None``; a file that is not copsim's is an error."""
        path = self.root / MANIFEST
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ResultsError(f"{path} is not a readable copsim manifest: {exc}") from None
        if not is_copsim_manifest(data):
            raise ResultsError(
                f"{path} is not a copsim manifest (it was written by something else)"
            )
        return data

    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest as a reader should see it, or ``None`` if the folder has none.

        A manifest still saying ``running`` while no process holds the folder's
        lock belongs to a sweep that was killed: it reads as ``interrupted``
        (and its running session as ``killed``).
        """
        data = self.load_manifest()
        if data is None:
            return None
        if data.get("status") == "running" and not FolderLock.held(self.root):
            data["status"] = "interrupted"
            for session in data.get("sessions", []):
                if session.get("status") == "running":
                    session["status"] = "killed"
        return data

    def write_manifest(self, data: dict[str, Any] | None = None) -> None:
        """Replace the manifest atomically (``data`` becomes the store's manifest)."""
        if data is not None:
            self.manifest = data
        self.manifest.setdefault("format", FORMAT)  # an adopted older manifest is now this format
        write_json(self.root / MANIFEST, self.manifest)

    def _normalize(self, data: dict[str, Any]) -> None:
        """Give a manifest its file lists; adopt the files of one written before they existed.

        Earlier copsim versions listed no files.  What they wrote is known by
        name: the tables of a complete folder and the parts of every chunk
        (done if its runs part exists).  Those are entered without a checksum and
        checked as readable Parquet instead (a sweep then records checksums).
        """
        if not data or "files" in data:
            data.setdefault("files", {})
            data.setdefault("chunks", {})
            return
        files: dict[str, dict[str, Any]] = {}
        chunks: dict[str, list[str]] = {}
        if data.get("status") == "complete":
            for name, rows in (data.get("tables") or {}).items():
                files[f"{name}.parquet"] = {"bytes": None, "sha256": None, "rows": rows}
        found: dict[int, dict[str, str]] = {}
        if self.parts.is_dir():
            for path in self.parts.iterdir():
                match = _PART.match(path.name)
                if match:
                    found.setdefault(int(match.group(2)), {})[match.group(1)] = path.name
        for chunk, names in sorted(found.items()):  # a chunk without runs part is not done
            rels = [f"parts/{names[t]}" for t in TABLES if t in names]
            chunks[str(chunk)] = rels
            files.update({rel: {"bytes": None, "sha256": None} for rel in rels})
        data["files"], data["chunks"] = files, chunks

    # ------------------------------------------------------------------ checks
    def check(self, rel: str) -> str | None:
        """``None`` if a listed file is whole; otherwise what is wrong with it, in words."""
        entry = self.files.get(rel)
        path = self.root / rel
        if entry is None:
            return "is not listed in the manifest"
        if not path.is_file():
            return "is missing"
        if entry.get("pending"):
            return "was being written when the sweep stopped"
        stat = path.stat()
        key = (stat.st_size, stat.st_mtime_ns)
        cached = self._checked.get(rel)
        if cached is not None and cached[0] == key:
            return cached[1]
        problem = None
        if entry.get("bytes") is not None and stat.st_size != entry["bytes"]:
            problem = (
                f"has {stat.st_size} bytes where the manifest recorded {entry['bytes']} "
                "(truncated or damaged)"
            )
        elif entry.get("sha256") is not None:
            if file_digest(path)[1] != entry["sha256"]:
                problem = "does not match the sha256 checksum the manifest recorded (damaged)"
        else:
            try:
                pq.read_metadata(path)
            except (OSError, pa.ArrowException) as exc:
                problem = f"is not a readable Parquet file ({exc})"
        self._checked[rel] = (key, problem)
        return problem

    def chunk_problems(self) -> list[tuple[int, str, str]]:
        """``(chunk, file, problem)`` for each listed part that cannot be used."""
        out = []
        for chunk, rels in sorted(self.chunks.items(), key=lambda kv: int(kv[0])):
            for rel in rels:
                problem = self.check(rel)
                if problem is not None:
                    out.append((int(chunk), rel, problem))
        return out

    def done_chunks(self) -> set[int]:
        """Chunks with a runs part, every listed part of which has its recorded size and checksum."""
        return {
            int(chunk)
            for chunk, rels in self.chunks.items()
            if any(rel.startswith("parts/runs-") for rel in rels)
            and all(self.check(rel) is None for rel in rels)
        }

    def record_checksums(self) -> bool:
        """Enter size and sha256 for adopted files that have none yet (they were checked).

        Returns whether anything was entered (the manifest then needs writing).
        """
        changed = False
        for rel, entry in self.files.items():
            if entry.get("sha256") is None and not entry.get("pending") and not self.check(rel):
                entry["bytes"], entry["sha256"] = file_digest(self.root / rel)
                changed = True
        return changed

    def unlisted_files(self) -> list[str]:
        """Files with the names copsim writes that its manifest does not list (not copsim's)."""
        names = [f"{t}.parquet" for t in TABLES] + [REPLICATION]
        if self.parts.is_dir():
            names += [
                f"parts/{p.name}" for p in sorted(self.parts.iterdir()) if _PART.match(p.name)
            ]
        return [rel for rel in names if (self.root / rel).exists() and rel not in self.files]

    # ------------------------------------------------------------------ records
    def write_record(self, rel: str, data: dict[str, Any]) -> None:
        """Write a small JSON file of copsim's own, listed in the manifest before it is replaced.

        The entry is marked pending, the file replaced atomically, then its size
        and sha256 recorded: a kill in between leaves a pending entry and a whole
        file (the old or the new one), which :meth:`read_record` accepts.
        """
        text = json.dumps(data, indent=2, default=str) + "\n"
        blob = text.encode("utf-8")
        self.files[rel] = {"pending": True}
        self.write_manifest()
        atomic_write(self.root / rel, lambda tmp: tmp.write_bytes(blob))
        self.files[rel] = {"bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}
        self._checked.pop(rel, None)
        self.write_manifest()

    def read_record(self, rel: str) -> dict[str, Any] | None:
        """A JSON file :meth:`write_record` wrote, or ``None`` if the manifest lists none.

        A pending entry (the writer was stopped) is read if the file is there:
        it was replaced atomically, so it is whole (the caller checks that its
        content makes sense).  A file that does not match
        its recorded size and checksum, or is not a JSON object, is an error.
        """
        entry = self.files.get(rel)
        path = self.root / rel
        if entry is None:
            return None
        if entry.get("pending"):
            if not path.is_file():
                return None
        else:
            problem = self.check(rel)
            if problem is not None:
                raise ResultsError(f"{path} {problem}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ResultsError(f"{path} is not readable JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ResultsError(f"{path} is not a JSON object")
        if entry.get("pending"):  # whole after all: it gets its checksum at the next write
            size, digest = file_digest(path)
            self.files[rel] = {"bytes": size, "sha256": digest}
        return data

    # ------------------------------------------------------------------ parts
    def part_path(self, table: str, chunk: int) -> Path:
        """Where a chunk's part of ``table`` lives."""
        return self.parts / f"{table}-{chunk:06d}.parquet"

    def part_rel(self, table: str, chunk: int) -> str:
        """A part's path relative to the folder (its key in the manifest)."""
        return f"parts/{table}-{chunk:06d}.parquet"

    def write_chunk(self, chunk: int, tables: dict[str, pa.Table]) -> None:
        """Write a finished chunk: list its parts (size, sha256) in the manifest, then the files.

        Listing first means every file copsim writes is in the manifest before
        it exists: a kill in between leaves a listed part that is missing (the
        chunk runs again), never a file of unknown origin.  The runs part is
        written last, as before.
        """
        blobs = {name: parquet_bytes(tables[name]) for name in TABLES if name in tables}
        rels = [self.part_rel(name, chunk) for name in blobs]
        for old in self.chunks.get(str(chunk), []):
            if old not in rels:  # a table this chunk no longer has
                (self.root / old).unlink(missing_ok=True)
                self.files.pop(old, None)
        for rel, data in zip(rels, blobs.values(), strict=True):
            self.files[rel] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        self.chunks[str(chunk)] = rels
        self.write_manifest()
        for rel, data in zip(rels, blobs.values(), strict=True):
            atomic_write(self.root / rel, lambda tmp, data=data: tmp.write_bytes(data))
            self._checked.pop(rel, None)

    def part_files(self, table: str, chunks: Iterable[int] | None = None) -> list[tuple[int, Path]]:
        """Listed parts of ``table`` as (chunk, path), in chunk order (default: done chunks)."""
        wanted = self.done_chunks() if chunks is None else set(chunks)
        prefix = f"parts/{table}-"
        found = []
        for chunk in sorted(wanted):
            for rel in self.chunks.get(str(chunk), []):
                if rel.startswith(prefix):
                    found.append((chunk, self.root / rel))
        return found

    def remove_temp_files(self) -> None:
        """Delete temporary files a killed copsim writer left (only copsim's own temp names)."""
        for folder in (self.root, self.parts):
            if folder.is_dir():
                for path in folder.iterdir():
                    if _TEMP.match(path.name):
                        path.unlink(missing_ok=True)

    def discard(self, rel: str) -> None:
        """Delete a listed file that cannot be used (missing or damaged) and its entry."""
        if rel in self.files:
            self._remove_listed([rel])

    def _remove_listed(self, rels: Iterable[str]) -> None:
        for rel in list(rels):
            (self.root / rel).unlink(missing_ok=True)
            self.files.pop(rel, None)
            self._checked.pop(rel, None)

    def _remove_parts_folder_if_empty(self) -> None:
        with contextlib.suppress(OSError):  # not empty: it holds files that are not copsim's
            self.parts.rmdir()

    def clear(self) -> None:
        """Remove every file the manifest lists, then the manifest (for a fresh start)."""
        self._remove_listed(self.files)
        self.chunks.clear()
        self._remove_parts_folder_if_empty()
        (self.root / MANIFEST).unlink(missing_ok=True)
        self._manifest = None

    def remove_parts(self) -> None:
        """Delete the parts copsim wrote (after a successful consolidation); keep anything else."""
        if not self.chunks:
            self._remove_parts_folder_if_empty()
            return
        self._remove_listed(rel for rels in self.chunks.values() for rel in rels)
        self.chunks.clear()
        self.write_manifest()
        self._remove_parts_folder_if_empty()

    # ------------------------------------------------------------------ merge
    def consolidate(self, categorical: Iterable[str]) -> dict[str, int]:
        """Merge each table's parts into one file in run order; return row counts.

        Streams part by part, so memory holds one part at a time.  Each table
        is listed as pending before it is written and gets its size and
        checksum after; the parts stay until the caller has recorded the
        tables (:meth:`remove_parts`).
        """
        cats = list(categorical)
        merged = {name: [path for _, path in self.part_files(name)] for name in TABLES}
        for name, files in merged.items():
            target = f"{name}.parquet"
            if files:
                self.files[target] = {"pending": True}
            elif target in self.files:  # an earlier table this design no longer has
                self._remove_listed([target])
        self.write_manifest()
        counts: dict[str, int] = {}
        for name, files in merged.items():
            if not files:
                continue
            target = self.root / f"{name}.parquet"
            schema = unified_schema([pq.read_schema(p) for p in files], cats)

            def write(tmp: Path, files: list[Path] = files, schema: pa.Schema = schema) -> None:
                with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
                    for batch in _row_groups(files, schema):
                        writer.write_table(batch)

            atomic_write(target, write)
            counts[name] = pq.ParquetFile(target).metadata.num_rows
            size, digest = file_digest(target)
            self.files[f"{name}.parquet"] = {"bytes": size, "sha256": digest, "rows": counts[name]}
            self._checked.pop(f"{name}.parquet", None)
        return counts

    # ------------------------------------------------------------------ read
    def _how_to_rebuild(self) -> str:
        source = self.manifest.get("config_file")
        command = f"copsim sweep {source}" if source else "the same sweep"
        return f"run {command} again (with --out {self.root} if it was given) to rebuild it"

    def read_table(
        self,
        name: str,
        categorical: Iterable[str],
        columns: list[str] | None = None,
        *,
        retry: bool = True,
    ) -> pa.Table | None:
        """A table from the consolidated file, or merged from the parts of an unfinished sweep.

        A consolidated table the manifest lists must be whole, or this raises
        :class:`ResultsError` naming it.  From parts, only done chunks are read
        (all their tables agree); a damaged part is named in a
        :class:`DamagedPartWarning` and its chunk left out.
        """
        target = f"{name}.parquet"
        entry = self.files.get(target)
        if entry is not None and not entry.get("pending"):
            problem = self.check(target)
            if problem is not None:
                raise ResultsError(f"{self.root / target} {problem}; {self._how_to_rebuild()}")
            return pq.read_table(self.root / target, columns=columns)
        self._warn_damaged()
        try:
            return self._read_parts(name, categorical, columns)
        except FileNotFoundError:
            if not retry:
                raise
        # a sweep merged and removed the parts while we read them: the table is there now
        self._manifest = None
        self._checked.clear()
        return self.read_table(name, categorical, columns, retry=False)

    def _read_parts(
        self, name: str, categorical: Iterable[str], columns: list[str] | None
    ) -> pa.Table | None:
        """A table merged in memory from the parts of the done chunks (``None`` if none).

        A folder that grew and has not finished also holds the runs it carried
        over (``carried/``, see :mod:`copsim.sweep.grow`); those no done chunk
        has taken in yet are read too, so every finished run is seen, in run order.
        """
        files = [path for _, path in self.part_files(name)]
        carried = self._carried_rows(name)
        if not files and carried is None:
            return None
        schemas = [pq.read_schema(p) for p in files]
        schema = unified_schema(
            schemas + ([carried.schema] if carried is not None else []), categorical
        )
        if columns:
            schema = pa.schema([schema.field(c) for c in columns])
        names = [f.name for f in schema]
        parts = []
        for path, own in zip(files, schemas, strict=True):
            present = [n for n in names if n in set(own.names)]
            parts.append(conform(pq.read_table(path, columns=present), schema))
        if carried is None:
            return pa.concat_tables(parts)
        parts.append(
            conform(carried.select([n for n in names if n in carried.schema.names]), schema)
        )
        merged = pa.concat_tables(parts)
        keys = [k for k in ("run", "step", "agent_id") if k in names]
        return merged.sort_by([(k, "ascending") for k in keys]) if keys else merged

    def _carried_rows(self, name: str) -> pa.Table | None:
        """Carried-over rows of ``table`` whose runs are in no done chunk yet (``None``: none).

        A carried table that is not whole is left out (a sweep names it and stops).
        """
        rel = ((self.manifest.get("carried") or {}).get("tables") or {}).get(name)
        if rel is None or self.check(rel) is not None:
            return None
        done = [path for _, path in self.part_files("runs")]
        table = pq.read_table(self.root / rel)
        kind = table.schema.field("run").type
        runs = [pq.read_table(p, columns=["run"]).column("run") for p in done]
        covered = pa.concat_arrays(
            [c.cast(kind).combine_chunks() for c in runs] or [pa.array([], kind)]
        )
        rows = table.filter(pc.invert(pc.is_in(table.column("run"), value_set=covered)))
        return rows if rows.num_rows else None

    def _warn_damaged(self) -> None:
        """Name each damaged part once (missing ones are chunks a killed sweep never finished)."""
        for chunk, rel, problem in self.chunk_problems():
            if problem != "is missing" and rel not in self._warned:
                self._warned.add(rel)
                warnings.warn(
                    f"{self.root / rel} {problem}: chunk {chunk} is left out; "
                    "resume the sweep to recompute it",
                    DamagedPartWarning,
                    stacklevel=3,
                )
