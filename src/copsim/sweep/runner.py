"""Running a sweep: plan, skip what is done, execute, write, consolidate, record.

:func:`run_sweep` is the whole main job: it validates the config, opens the
results folder (refusing one that holds a different experiment), works out
which chunks are still missing, runs them on the chosen backend while writing
each finished chunk atomically, and, when nothing is missing, merges the parts
into ``runs.parquet`` / ``steps.parquet`` / ``agents.parquet``.  The manifest is
rewritten at each stage so an interrupted sweep says how far it got.

The sweep holds the folder's lock from start to end (a second sweep is
refused), trusts only parts whose size and checksum match the manifest (others
run again, and are named), and turns SIGTERM into a clean stop: workers are
killed, the manifest says ``interrupted``, and the same command resumes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import platform
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from copsim.sweep import grow, replication
from copsim.sweep.backends import default_workers, make_backend
from copsim.sweep.config import ExperimentConfig, load_config
from copsim.sweep.design import Design
from copsim.sweep.execution import categorical_columns
from copsim.sweep.storage import (
    FORMAT,
    REPLICATION,
    TABLES,
    FolderInUse,
    FolderLock,
    FolderRefused,
    ResultsError,
    ResultStore,
    SweepError,
)

__all__ = ["FolderInUse", "FolderRefused", "SweepError", "SweepSummary", "run_sweep"]

#: Distributions whose versions go into the manifest.
DEPENDENCIES = (
    "mesa",
    "numpy",
    "pandas",
    "pyarrow",
    "pydantic",
    "scipy",
    "SALib",
    "dask",
    "distributed",
)


@dataclass
class SweepSummary:
    """What a sweep session did."""

    path: Path
    n_runs: int
    skipped: int = 0
    executed: int = 0
    chunks_run: int = 0
    failed: int = 0
    failed_total: int = 0
    complete: bool = False
    wall_seconds: float = 0.0
    interrupted: bool = False
    dry_run: bool = False
    messages: list[str] = field(default_factory=list)

    @property
    def runs_per_second(self) -> float:
        """Throughput of this session (runs executed per wall-clock second)."""
        return self.executed / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def __str__(self) -> str:
        if self.dry_run:
            return "\n".join(self.messages)
        state = "complete" if self.complete else ("interrupted" if self.interrupted else "partial")
        lines = [
            f"sweep {state}: {self.executed} runs executed, {self.skipped} already done, "
            f"{self.n_runs} in the design",
            f"failed runs: {self.failed_total} (this session: {self.failed})",
            f"time: {self.wall_seconds:.1f} s ({self.runs_per_second:.1f} runs/s)",
            f"results: {self.path}",
        ]
        return "\n".join(lines + self.messages)


# ----------------------------------------------------------------------------- provenance
def versions() -> dict[str, str | None]:
    """Python, copsim and dependency versions."""
    from copsim import __version__

    out: dict[str, str | None] = {"python": platform.python_version(), "copsim": __version__}
    for dist in DEPENDENCIES:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def git_state() -> dict[str, Any]:
    """The commit of the copsim source tree and whether it has local changes."""
    where = Path(__file__).resolve().parent
    info: dict[str, Any] = {"commit": None, "dirty": None}
    try:
        head = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        info["commit"] = head.stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        info["dirty"] = bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _config_text(source: str | Path | None) -> str | None:
    if source is None:
        return None
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError:
        return None


def new_manifest(cfg: ExperimentConfig, design: Design, source: str | Path | None) -> dict:
    """The manifest of a fresh results folder."""
    return {
        "format": FORMAT,
        "experiment": cfg.name,
        "description": cfg.description,
        "status": "running",
        "fingerprint": design.fingerprint(),
        "config_file": str(source) if source is not None else None,
        "config_text": _config_text(source),
        "config": cfg.model_dump(mode="json"),
        "resolved": design.resolved(),
        "versions": versions(),
        "git": git_state(),
        "source_digest": source_digest(),
        "platform": {
            "system": platform.system(),
            "machine": platform.machine(),
            "node": platform.node(),
        },
        "created": _now(),
        "sessions": [],
        "counts": {"runs": design.n_runs, "done": 0, "failed": 0},
        "tables": {},
        "lock": None,
        "files": {},
        "chunks": {},
    }


# ----------------------------------------------------------------------------- planning
def _refuse_unlisted(store: ResultStore) -> None:
    """Refuse a folder holding files with copsim's names that its manifest does not list."""
    unlisted = store.unlisted_files()
    if unlisted:
        raise FolderRefused(
            f"{store.root} holds {', '.join(unlisted)}, which no copsim manifest there lists; "
            "copsim does not overwrite files it did not write: move them away or choose "
            "another --out folder"
        )


def _open_store(
    cfg: ExperimentConfig,
    design: Design,
    out: Path,
    resume: bool,
    fresh: bool,
    source: str | Path | None,
) -> tuple[ResultStore, Design]:
    """Open (or create) the results folder, with its lock held, and check it is this experiment's.

    Returns the store and the folder's design: the config's, with the cells
    raised that the folder's replication record (``--target-ci``) lists.
    ``--fresh`` deletes what the folder's copsim manifest lists and nothing
    else; a ``manifest.json`` that is not copsim's is never touched.
    """
    store = ResultStore(out)
    try:
        existing = store.load_manifest()
    except ResultsError as exc:
        raise FolderRefused(
            f"{exc}; copsim will not overwrite it: choose another --out folder or move it away"
        ) from None
    if fresh and existing is not None:
        store.clear()
        existing = None
    if existing is None:
        if resume:
            raise SweepError(f"nothing to resume in {out}: no manifest.json there")
        store.manifest = {}
        _refuse_unlisted(store)
        store.write_manifest(new_manifest(cfg, design, source))
    else:
        design, _ = replication.extended(design, store)
        grows = existing.get("fingerprint") != design.fingerprint()
        if grows:
            by = _check_growth(existing, design, out)
        _refuse_unlisted(store)
        if grows:
            grow.carry_over(store, design, new_manifest(cfg, design, source), by)
        if store.record_checksums():  # files adopted from an older manifest get theirs now
            store.write_manifest()
    store.remove_temp_files()
    return store, design


def _check_growth(existing: dict, design: Design, out: Path) -> str:
    """Refuse a folder of another config unless the new design only grows it (see grow.py).

    Returns who grew it: ``"target-ci"`` when only the cells' replicates changed
    (a round of ``--target-ci``), else ``"config"``.
    """
    problem = None
    resolved = existing.get("resolved") or {}
    old_cells = {int(c): n for c, n in (resolved.get("cell_replicates") or {}).items()}
    try:
        old_cfg = ExperimentConfig.model_validate(existing.get("config") or {})
        if Design(old_cfg, old_cells).fingerprint() != existing.get("fingerprint"):
            problem = "its runs were made with presets or settings this copsim no longer has"
    except (ValueError, TypeError, KeyError) as exc:
        problem = f"its recorded config cannot be read back ({exc})"
    if problem is None:
        problem = grow.growth_problem(old_cfg, design.cfg, old_cells, design.cell_replicates)
    if problem is not None:
        raise grow.GrowthRefused(
            f"{out} holds results of a different experiment or config whose finished runs "
            f"this config cannot reuse: {problem}. A sweep can only grow (more replicates, "
            "levels added at the end of the outermost grid factor, a larger Sobol N); use "
            "another output folder, or --fresh to discard them"
        )
    same_config = Design(old_cfg).fingerprint() == Design(design.cfg).fingerprint()
    return "target-ci" if same_config else "config"


def _check_tables(store: ResultStore, summary: SweepSummary) -> bool:
    """Are the consolidated tables of a complete folder whole?  Name and drop those that are not.

    A missing or damaged table is rebuilt: from the parts if they are still
    there, otherwise by running the chunks again (bit-identical by design).
    """
    whole = True
    for rel in [f"{t}.parquet" for t in TABLES if f"{t}.parquet" in store.files]:
        problem = store.check(rel)
        if problem is not None:
            whole = False
            summary.messages.append(f"{store.root / rel} {problem}: rebuilding it")
            store.discard(rel)
    return whole


def _name_unusable_parts(store: ResultStore, summary: SweepSummary) -> None:
    """Say which listed parts cannot be used and that their chunks run again."""
    for chunk, rel, problem in store.chunk_problems():
        summary.messages.append(f"{store.root / rel} {problem}: chunk {chunk} runs again")


def source_digest() -> str:
    """A hash of the copsim source files, committed or not (what the workers will import)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _provenance_warning(manifest: dict, digest: str) -> str | None:
    """A note when the code has changed since the results folder was started."""
    then = manifest.get("source_digest")
    if then and then != digest:
        commit = (manifest.get("git") or {}).get("commit") or "unknown"
        return (
            f"note: the copsim source has changed since this results folder was started "
            f"(then at commit {commit[:12]}); runs from different code are mixed unless "
            "you start again with --fresh"
        )
    return None


def plan(config: str | Path | ExperimentConfig) -> tuple[ExperimentConfig, Design]:
    """Validate a config and expand its design."""
    cfg = config if isinstance(config, ExperimentConfig) else load_config(config)
    return cfg, Design(cfg)


def describe_plan(cfg: ExperimentConfig, design: Design, out: Path, done: int = 0) -> str:
    """A human summary of what a sweep would do (``--dry-run``, ``validate``)."""
    lines = [
        f"experiment: {cfg.name}" + (f" - {cfg.description.strip()}" if cfg.description else ""),
        f"base: preset {cfg.base.preset or '(defaults)'}, {len(cfg.base.params)} overrides",
        f"factors: {', '.join(design.factor_names) or '(none: one point)'}",
    ]
    for name, levels in design.levels().items():
        lines.append(f"  {name}: {levels}")
    if design.sample_kind:
        lines.append(
            f"  {design.sample_kind}: {len(design.samples)} samples over {design.sample_names}"
        )
    if design.cell_replicates:
        raised = sorted(set(design.cell_replicates.values()))
        span = f"{raised[0]}" if len(raised) == 1 else f"{raised[0]} to {raised[-1]}"
        lines.append(
            f"points: {design.n_points} x {design.replicates} replicates, and {span} replicates "
            f"in {len(design.cell_replicates)} of {design.n_cells} cells (added by --target-ci, "
            f"{REPLICATION}) = {design.n_runs} runs"
        )
    else:
        lines.append(
            f"points: {design.n_points} x {design.replicates} replicates = {design.n_runs} runs"
        )
    lines += [
        f"chunks: {design.n_chunks} of up to {design.chunk_size} runs; {done} chunks already done",
        f"root seed: {cfg.seed}; run seeds: {design.resolved()['seed_rule']}",
        f"stop: {cfg.stop or 'as params'}, steps: {cfg.steps or 'as params'}; "
        f"record steps every {cfg.record.steps_every or '-'}, agents {'yes' if cfg.record.agents else 'no'}",
        f"output: {out}",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the sweep
def _progress(total: int, initial: int, name: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="run",
        desc=name,
        disable=not enabled,
        dynamic_ncols=True,
        smoothing=0.1,
    )


def _count_failed(store: ResultStore) -> int:
    """Failed runs recorded in the results folder so far."""
    table = store.read_table("runs", categorical_columns(), columns=["status"])
    if table is None:
        return 0
    return sum(1 for v in table.column("status").to_pylist() if v == "failed")


def _useful_workers(backend: str, workers: int | None, chunks: int) -> int | None:
    """No more local worker processes than chunks to run (starting one costs seconds)."""
    if backend != "local":
        return workers
    wanted = workers if workers is not None else default_workers()
    return max(1, min(wanted, chunks))


class Terminated(BaseException):
    """SIGTERM arrived while chunks were running (handled like Ctrl-C)."""


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While chunks run, make SIGTERM stop the sweep cleanly instead of killing it outright.

    The handler raises :class:`Terminated` in the main thread once and gives
    SIGTERM back its previous meaning, so a second SIGTERM during the clean-up
    still ends the process.  Outside the main thread signals cannot be handled;
    there the default applies (and the workers die with the process anyway).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        raise Terminated

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def run_sweep(
    config: str | Path | ExperimentConfig,
    *,
    workers: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    fresh: bool = False,
    dry_run: bool = False,
    progress: bool = True,
    out: str | Path | None = None,
    max_chunks: int | None = None,
    ensemble_size: int | None = None,
    lock: FolderLock | None = None,
) -> SweepSummary:
    """Run (or continue) the sweep a config describes; see the module docstring.

    The results folder is locked for the whole sweep (:class:`FolderInUse` if
    another sweep has it); a caller that already holds its lock (``--target-ci``
    between rounds) passes it as ``lock``.  ``max_chunks`` stops after that many
    chunks (for tests and trial runs); the sweep can then be resumed.  The
    design run is the folder's: the config's, with the cells raised that its
    replication record lists (:mod:`copsim.sweep.replication`).
    """
    if workers is not None and (
        isinstance(workers, bool) or int(workers) != workers or workers < 1
    ):
        raise ValueError(f"workers = {workers!r}: expected a whole number of processes >= 1")
    if resume and fresh:
        raise ValueError("resume and fresh exclude each other: continue the folder or start over")
    source = None if isinstance(config, ExperimentConfig) else config
    cfg, design = plan(config)
    if ensemble_size is not None:  # how runs are grouped never changes a result
        cfg = cfg.model_copy(update={"ensemble_size": ensemble_size})
        design.cfg = cfg
    path = Path(out) if out is not None else cfg.output_dir
    summary = SweepSummary(path=path, n_runs=design.n_runs)
    if dry_run:
        done = 0
        try:
            if not fresh:
                design = folder_design(design, path)
                summary.n_runs = design.n_runs
                store = ResultStore(path)
                if store.manifest.get("fingerprint") == design.fingerprint():
                    complete = store.manifest.get("status") == "complete"
                    done = design.n_chunks if complete else len(store.done_chunks())
        except (ResultsError, SweepError) as exc:
            summary.messages.append(f"note: {exc}")
        summary.messages.insert(0, describe_plan(cfg, design, path, done))
        summary.dry_run = True
        return summary
    owned = lock is None
    if lock is None:
        lock = FolderLock(path)
        lock.acquire()
    try:
        _run_locked(
            cfg,
            design,
            source,
            lock,
            summary,
            workers,
            backend,
            scheduler,
            resume,
            fresh,
            progress,
            max_chunks,
        )
    finally:
        if owned:
            lock.release()
    return summary


def folder_design(design: Design, path: Path) -> Design:
    """The design of the results folder ``path`` holds or will hold, read without writing.

    The config's design with the cells raised by the folder's replication
    record; the config's alone when the folder has none (or does not exist).
    """
    store = ResultStore(path)
    if store.load_manifest() is None:
        return design
    return replication.extended(design, store)[0]


def _run_locked(
    cfg: ExperimentConfig,
    design: Design,
    source: str | Path | None,
    lock: FolderLock,
    summary: SweepSummary,
    workers: int | None,
    backend: str,
    scheduler: str | None,
    resume: bool,
    fresh: bool,
    progress: bool,
    max_chunks: int | None,
) -> None:
    """The sweep proper, with the folder's lock held."""
    store, design = _open_store(cfg, design, summary.path, resume, fresh, source)
    summary.n_runs = design.n_runs
    manifest = store.manifest
    digest = source_digest()
    warning = _provenance_warning(manifest, digest)
    if warning:
        summary.messages.append(warning)
    stale = manifest.get("status") == "running" and manifest.get("sessions")
    if stale:  # a folder left "running" by an earlier sweep: we hold the lock, it is gone
        holder = manifest.get("lock") or {}
        summary.messages.append(
            f"note: the sweep before this one (pid {holder.get('pid')} on host "
            f"{holder.get('host')}) stopped without finishing; its finished chunks are kept"
        )
        manifest["status"] = "interrupted"
    for earlier in manifest["sessions"]:
        if earlier.get("status") == "running":  # that process died without a word
            earlier["status"] = "killed"
    if manifest.get("status") == "complete":
        if _check_tables(store, summary):
            store.remove_parts()
            summary.complete, summary.skipped = True, design.n_runs
            summary.failed_total = manifest["counts"].get("failed", 0)
            summary.messages.append("nothing to do: this sweep is already complete")
            return
        manifest["status"] = "partial"
    _name_unusable_parts(store, summary)

    done = store.done_chunks()
    todo = [c for c in range(design.n_chunks) if c not in done]
    if max_chunks is not None:
        todo = todo[:max_chunks]
    summary.skipped = sum(len(design.chunk_runs(c)) for c in done)
    carried = grow.Carried.load(store)
    tasks: list[Any] = todo
    if carried is not None:  # a grown sweep: run only what each chunk lacks
        summary.skipped += sum(carried.in_chunk(design, c) for c in todo)
        tasks = []
        for c in todo:
            task = carried.task(design, c)
            if task is None:
                store.write_chunk(c, carried.merge(design, c, {}))
            else:
                tasks.append(task)
    session = {
        "started": _now(),
        "backend": backend,
        "workers": workers,
        "status": "running",
        "scheduler": scheduler,
        "source_digest": digest,
        "pid": lock.holder["pid"] if lock.holder else None,
        "host": lock.holder["host"] if lock.holder else None,
    }
    manifest["sessions"].append(session)
    manifest["status"] = "running"
    manifest["lock"] = lock.holder
    manifest["counts"]["done"] = summary.skipped
    store.write_manifest()

    start = time.perf_counter()
    bar = _progress(design.n_runs, summary.skipped, cfg.name, progress)
    engine = None
    try:
        with _sigterm_interrupts():
            engine = make_backend(backend, _useful_workers(backend, workers, len(tasks)), scheduler)
            session["workers"] = engine.workers
            work = design.chunk_tasks(todo) if carried is None else iter(tasks)
            for task, tables in engine.map_chunks(work):
                statuses = tables["runs"].column("status").to_pylist()
                manifest["counts"]["done"] += len(statuses)
                if carried is not None:
                    tables = carried.merge(design, task.index, tables)
                store.write_chunk(task.index, tables)
                summary.executed += len(statuses)
                summary.chunks_run += 1
                summary.failed += statuses.count("failed")
                bar.update(len(statuses))
    except (KeyboardInterrupt, Terminated) as exc:
        summary.interrupted = True
        why = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        summary.messages.append(f"{why}: finished chunks are kept; resume with --resume")
        if engine is not None:
            with contextlib.suppress(Exception):
                engine.abort()
    finally:
        bar.close()
        if engine is not None and not summary.interrupted:  # an aborted engine is closed
            with contextlib.suppress(Exception):
                engine.close()
        summary.wall_seconds = time.perf_counter() - start
        _finish(store, session, design, summary)


def _finish(store: ResultStore, session: dict, design: Design, summary: SweepSummary) -> None:
    """Record the session; consolidate if every chunk is done."""
    manifest = store.manifest
    done = store.done_chunks()
    complete = len(done) == design.n_chunks
    summary.failed_total = _count_failed(store)
    status = "interrupted" if summary.interrupted else "complete" if complete else "partial"
    session.update(
        finished=_now(),
        wall_seconds=round(summary.wall_seconds, 3),
        runs_executed=summary.executed,
        runs_failed=summary.failed,
        runs_per_second=round(summary.runs_per_second, 3),
        status=status,
    )
    done_runs = sum(len(design.chunk_runs(c)) for c in done)
    manifest["counts"] = {"runs": design.n_runs, "done": done_runs, "failed": summary.failed_total}
    manifest["lock"] = None
    if complete:
        manifest["tables"] = store.consolidate(categorical_columns())
        manifest["status"] = "complete"
        manifest["completed"] = _now()
        manifest["total_wall_seconds"] = round(
            sum(s.get("wall_seconds", 0) for s in manifest["sessions"]), 3
        )
        store.write_manifest()
        store.remove_parts()
        grow.drop_carried(store)
    else:
        manifest["status"] = "interrupted" if summary.interrupted else "partial"
        store.write_manifest()
    summary.complete = complete
    if summary.failed_total:
        summary.messages.append(
            f"{summary.failed_total} runs failed; their error, traceback and seed are in runs.parquet "
            "(status == 'failed')"
        )
