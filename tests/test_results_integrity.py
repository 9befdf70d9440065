"""The results folder never loses data and never lies (issue 13), with real kills.

Each test damages a folder the way a user or a crash would (a second sweep, a
kill -9, SIGTERM, user files, a foreign manifest, lost, truncated or deleted
parts and tables) and checks that copsim refuses, names the file, or recomputes
- and that the final tables are byte for byte those of an uninterrupted sweep.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

import copsim
from copsim import CoPModel
from copsim.cli import main
from copsim.pool import WorkerPool
from copsim.sweep.runner import run_sweep
from copsim.sweep.storage import (
    DamagedPartWarning,
    FolderInUse,
    FolderLock,
    FolderRefused,
    ResultsError,
)

SRC = Path(copsim.__file__).resolve().parents[1]
TABLES = ("runs.parquet", "steps.parquet", "agents.parquet")

CONFIG = """\
name: integrity
base:
  preset: march1991
  params: {{n_practitioners: 6, n_dimensions: 6}}
design:
  grid:
    socialization_rate: [0.2, 0.8]
    turnover_rate: [0.0, 0.1]
replicates: 2
seed: 11
steps: 8
stop: horizon
chunk_size: 1
model: {model}
record:
  steps_every: 4
  agents: true
  agents_every: 4
output: {out}
"""


class GatedModel(CoPModel):
    """CoPModel that, when ``COPSIM_TEST_GATE`` names an existing file, holds every run
    outside design point 0 until the file is removed (same results either way).

    So a subprocess sweep finishes exactly chunks 0 and 1 (point 0's two runs) and
    then waits, for as long as the test needs, to be killed; the sweep resumed in
    this process (no gate) runs at full speed.
    """

    def step(self) -> None:
        gate = os.environ.get("COPSIM_TEST_GATE")
        point0 = self.params.socialization_rate == 0.2 and self.params.turnover_rate == 0.0
        if gate and not point0:
            deadline = time.monotonic() + 60
            while os.path.exists(gate) and time.monotonic() < deadline:
                time.sleep(0.02)
        super().step()


def write_config(tmp: Path, name: str, model: str = "test_results_integrity:GatedModel") -> Path:
    """A tiny config (8 runs in 8 chunks) whose results go to ``tmp/name``."""
    path = tmp / f"{name}.yaml"
    path.write_text(CONFIG.format(model=model, out=tmp / name))
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The sweep run in one go, in this process: every other folder must equal it byte for byte."""
    tmp = tmp_path_factory.mktemp("integrity-reference")
    summary = run_sweep(write_config(tmp, "reference"), workers=1, progress=False)
    assert summary.complete and summary.executed == 8
    return summary.path


def assert_same_bytes(folder: Path, reference: Path) -> None:
    """The consolidated tables are the reference's, byte for byte (and read back equal)."""
    for name in TABLES:
        assert (folder / name).read_bytes() == (reference / name).read_bytes(), name
    a, b = copsim.load(folder), copsim.load(reference)
    pd.testing.assert_frame_equal(a.runs, b.runs, check_exact=True)


def manifest_on_disk(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def start_sweep(config: Path, workers: int = 2) -> subprocess.Popen:
    """``copsim sweep CONFIG`` in a subprocess that finishes chunks 0 and 1, then waits."""
    gate = config.with_suffix(".gate")
    gate.touch()
    paths = [str(SRC), str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "COPSIM_TEST_GATE": str(gate)}
    command = ["copsim.cli", "sweep", str(config), "--workers", str(workers), "--no-progress"]
    return subprocess.Popen(
        [sys.executable, "-m", *command],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_until_running(proc: subprocess.Popen, folder: Path, children: int) -> list[psutil.Process]:
    """Wait for chunks 0 and 1 and ``children`` child processes; return the children."""
    deadline = time.monotonic() + 90
    parent = psutil.Process(proc.pid)
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        kids = [c for c in parent.children(recursive=True) if c.is_running()]
        if len(kids) >= children and len(list((folder / "parts").glob("runs-*.parquet"))) == 2:
            return kids
        time.sleep(0.02)
    raise AssertionError("the sweep did not get going")


def assert_all_gone(processes: list[psutil.Process], within: float = 5.0) -> None:
    """Every process has exited (or is a zombie waiting for init) within ``within`` s."""

    def alive(p: psutil.Process) -> bool:
        try:
            return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + within
    while time.monotonic() < deadline and any(alive(p) for p in processes):
        time.sleep(0.05)
    survivors = [(p.pid, " ".join(p.cmdline()[-2:])) for p in processes if alive(p)]
    for p in processes:  # do not leave them behind if the test fails
        if alive(p):
            p.kill()
    assert not survivors, f"processes outlived the sweep: {survivors}"


# ----------------------------------------------------------------------------- lock and kills
def test_kill_9_leaves_no_workers_a_free_lock_and_an_interrupted_folder(
    tmp_path, reference, capsys
):
    config = write_config(tmp_path, "killed")
    folder = tmp_path / "killed"
    proc = start_sweep(config)
    try:
        kids = wait_until_running(proc, folder, children=3)  # 2 workers + resource tracker
        # while it runs, the folder is its own: a second sweep is refused, naming it
        assert main(["sweep", str(config), "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert f"in use by another sweep (pid {proc.pid} on host" in err
        assert "Traceback" not in err
        with pytest.raises(FolderInUse, match=f"pid {proc.pid}"):
            run_sweep(config, workers=1, progress=False, fresh=True)
        running = copsim.load(folder).manifest
        assert running["status"] == "running" and running["lock"]["pid"] == proc.pid
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert_all_gone(kids)
    assert not FolderLock.held(folder)  # the kernel dropped the lock with its holder
    assert manifest_on_disk(folder)["status"] == "running"  # a dead process writes nothing...
    seen = copsim.load(folder).manifest  # ...but readers are not told it still runs
    assert seen["status"] == "interrupted" and seen["sessions"][-1]["status"] == "killed"

    resumed = run_sweep(config, workers=1, resume=True, progress=False)
    assert resumed.complete and resumed.skipped == 2 and resumed.executed == 6
    assert any("stopped without finishing" in m for m in resumed.messages)
    assert_same_bytes(folder, reference)
    assert [s["status"] for s in manifest_on_disk(folder)["sessions"]] == ["killed", "complete"]


def test_sigterm_stops_workers_and_records_an_interrupted_sweep(tmp_path, reference):
    config = write_config(tmp_path, "terminated")
    folder = tmp_path / "terminated"
    proc = start_sweep(config)
    try:
        kids = wait_until_running(proc, folder, children=3)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err and b"terminated (SIGTERM)" in out
    assert_all_gone(kids, within=3.0)
    manifest = manifest_on_disk(folder)  # written by the sweep itself on its way out
    assert manifest["status"] == "interrupted" and manifest["lock"] is None
    assert manifest["sessions"][-1]["status"] == "interrupted"
    assert manifest["counts"]["done"] == 2

    resumed = run_sweep(config, workers=1, resume=True, progress=False)
    assert resumed.complete and resumed.skipped == 2 and resumed.executed == 6
    assert_same_bytes(folder, reference)


def test_worker_pool_workers_die_with_their_parent(tmp_path):
    script = tmp_path / "pool_parent.py"
    script.write_text(
        "import sys, time\n"
        "from copsim.pool import WorkerPool\n"
        "if __name__ == '__main__':\n"
        "    pool = WorkerPool(2)\n"
        "    futures = [pool.submit(time.sleep, 60) for _ in range(2)]\n"
        "    for _ in range(3000):\n"
        "        if len(pool.pids()) == 2: break\n"
        "        time.sleep(0.01)\n"
        "    print(*pool.pids(), flush=True)\n"
        "    time.sleep(60)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE)
    try:
        pids = [int(x) for x in proc.stdout.readline().split()]  # both workers are up
        assert len(pids) == 2
        kids = psutil.Process(proc.pid).children(recursive=True)
        assert set(pids) <= {k.pid for k in kids}
    finally:
        proc.kill()
        proc.wait()
    assert_all_gone(kids)


def test_worker_pool_gives_the_same_results_and_terminates_at_once():
    with WorkerPool(2) as pool:
        assert list(pool.map(pow, [2, 3, 4], [5, 5, 5])) == [32, 243, 1024]
    pool = WorkerPool(2)
    for _ in range(2):  # workers start on demand, one per task waiting
        pool.submit(time.sleep, 30)
    deadline = time.monotonic() + 30
    while len(pool.pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    workers = [psutil.Process(p) for p in pool.pids()]
    start = time.monotonic()
    pool.terminate()
    assert time.monotonic() - start < 5
    assert_all_gone(workers, within=1.0)
    with pytest.raises(ValueError, match="at least 1 worker"):
        WorkerPool(0)


def test_a_lock_held_in_this_process_refuses_a_second_sweep(tmp_path):
    config = write_config(tmp_path, "locked")
    with FolderLock(tmp_path / "locked"):
        with pytest.raises(FolderInUse, match=f"pid {os.getpid()} on host"):
            run_sweep(config, workers=1, progress=False)
        assert not (tmp_path / "locked" / "manifest.json").exists()  # refused before writing
    assert run_sweep(config, workers=1, progress=False, max_chunks=1).executed == 1


# ----------------------------------------------------------------------------- ownership
def test_a_sweep_removes_only_the_parts_it_wrote(tmp_path, reference):
    config = write_config(tmp_path, "owned")
    folder = tmp_path / "owned"
    (folder / "parts").mkdir(parents=True)
    (folder / "parts" / "notes.txt").write_text("my notes")
    (folder / "parts" / "draft.parquet").write_bytes(b"mine")
    summary = run_sweep(config, workers=1, progress=False)
    assert summary.complete
    assert sorted(p.name for p in (folder / "parts").iterdir()) == ["draft.parquet", "notes.txt"]
    assert (folder / "parts" / "notes.txt").read_text() == "my notes"
    assert_same_bytes(folder, reference)
    manifest = manifest_on_disk(folder)
    assert sorted(manifest["files"]) == sorted(TABLES) and manifest["chunks"] == {}
    for name in TABLES:
        entry = manifest["files"][name]
        assert entry["bytes"] == (folder / name).stat().st_size and len(entry["sha256"]) == 64


def test_fresh_never_overwrites_a_manifest_that_is_not_copsims(tmp_path):
    config = write_config(tmp_path, "foreign")
    folder = tmp_path / "foreign"
    folder.mkdir()
    theirs = '{"name": "my web app", "version": 3}\n'
    (folder / "manifest.json").write_text(theirs)
    for args in (["--fresh"], []):
        code = main(["sweep", str(config), "--no-progress", *args])
        assert code == 2
    assert (folder / "manifest.json").read_text() == theirs
    assert not (folder / "runs.parquet").exists()


def test_fresh_keeps_files_copsim_did_not_write(tmp_path, capsys):
    config = write_config(tmp_path, "mixed")
    folder = tmp_path / "mixed"
    run_sweep(config, workers=1, progress=False, max_chunks=2)
    (folder / "parts" / "notes.txt").write_text("keep me")
    (folder / "analysis.csv").write_text("a,b\n")
    again = run_sweep(config, workers=1, progress=False, fresh=True, max_chunks=1)
    assert again.skipped == 0 and again.executed == 1
    assert (folder / "parts" / "notes.txt").read_text() == "keep me"
    assert (folder / "analysis.csv").exists()
    assert len(list((folder / "parts").glob("runs-*.parquet"))) == 1
    # a runs.parquet that no manifest lists is not overwritten, with or without --fresh
    other = tmp_path / "other"
    other.mkdir()
    (other / "runs.parquet").write_bytes(b"someone else's table")
    with pytest.raises(FolderRefused, match=r"runs\.parquet, which no copsim manifest"):
        run_sweep(config, workers=1, progress=False, fresh=True, out=other)
    assert (other / "runs.parquet").read_bytes() == b"someone else's table"


# ----------------------------------------------------------------------------- verification
def test_a_lost_steps_part_is_recomputed_not_silently_dropped(tmp_path, reference):
    config = write_config(tmp_path, "lost")
    folder = tmp_path / "lost"
    run_sweep(config, workers=1, progress=False, max_chunks=3)
    (folder / "parts" / "steps-000001.parquet").unlink()
    partial = copsim.load(folder)  # chunk 1 is not done: none of its tables is read
    assert sorted(partial.runs["run"]) == [0, 2] and sorted(partial.steps["run"].unique()) == [0, 2]
    resumed = run_sweep(config, workers=1, progress=False)
    assert resumed.complete and resumed.executed == 6 and resumed.skipped == 2
    assert any("steps-000001.parquet is missing: chunk 1 runs again" in m for m in resumed.messages)
    assert len(copsim.load(folder, "steps")) == len(copsim.load(reference, "steps"))
    assert_same_bytes(folder, reference)


def test_a_truncated_part_is_named_and_recomputed(tmp_path, reference):
    config = write_config(tmp_path, "truncated")
    folder = tmp_path / "truncated"
    run_sweep(config, workers=1, progress=False, max_chunks=3)
    part = folder / "parts" / "runs-000002.parquet"
    part.write_bytes(part.read_bytes()[:100])
    with pytest.warns(DamagedPartWarning, match=r"runs-000002\.parquet has 100 bytes"):
        runs = copsim.load(folder, "runs")
    assert sorted(runs["run"]) == [0, 1]
    resumed = run_sweep(config, workers=1, progress=False)
    assert resumed.complete and resumed.executed == 6
    assert any("runs-000002.parquet has 100 bytes" in m for m in resumed.messages)
    assert_same_bytes(folder, reference)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_table_is_named_by_load_and_report_and_rebuilt(
    tmp_path, reference, capsys, damage
):
    config = write_config(tmp_path, "reference")
    folder = tmp_path / "reference"
    shutil.copytree(reference, folder)
    table = folder / "steps.parquet"
    data = bytearray(table.read_bytes())
    if damage == "truncate":
        del data[len(data) // 2 :]
    else:
        data[len(data) // 2] ^= 0xFF
    table.write_bytes(bytes(data))
    with pytest.raises(ResultsError, match=r"steps\.parquet (has|does not match)"):
        copsim.load(folder)
    assert main(["report", str(folder), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "steps.parquet" in err and "Traceback" not in err
    rebuilt = run_sweep(config, workers=1, progress=False)
    assert rebuilt.complete and rebuilt.executed == 8
    assert any("steps.parquet" in m and "rebuilding it" in m for m in rebuilt.messages)
    assert_same_bytes(folder, reference)


def test_a_deleted_runs_table_is_rebuilt_and_never_read_as_empty(tmp_path, reference):
    config = write_config(tmp_path, "reference")
    folder = tmp_path / "reference"
    shutil.copytree(reference, folder)
    (folder / "runs.parquet").unlink()
    with pytest.raises(ResultsError, match=r"runs\.parquet is missing.*copsim sweep"):
        copsim.load(folder)
    with pytest.raises(ResultsError, match=r"runs\.parquet is missing"):
        copsim.load(folder, "runs")
    rebuilt = run_sweep(config, workers=1, progress=False)
    assert rebuilt.complete and rebuilt.executed == 8
    assert "nothing to do" not in str(rebuilt)
    assert_same_bytes(folder, reference)
    again = run_sweep(config, workers=1, progress=False)
    assert again.executed == 0 and "nothing to do" in str(again)


def test_a_folder_from_before_checksums_is_adopted(tmp_path, reference):
    config = write_config(tmp_path, "reference")
    folder = tmp_path / "reference"
    shutil.copytree(reference, folder)
    old = manifest_on_disk(folder)
    for key in ("format", "files", "chunks", "lock"):
        old.pop(key)
    (folder / "manifest.json").write_text(json.dumps(old))
    assert len(copsim.load(folder).runs) == 8
    again = run_sweep(config, workers=1, progress=False)
    assert again.executed == 0 and again.complete
    (folder / "agents.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ResultsError, match=r"agents\.parquet"):
        copsim.load(folder)


def test_a_partial_folder_from_before_checksums_resumes(tmp_path, reference):
    config = write_config(tmp_path, "legacy")
    folder = tmp_path / "legacy"
    run_sweep(config, workers=1, progress=False, max_chunks=2)
    old = manifest_on_disk(folder)
    for key in ("format", "files", "chunks", "lock"):
        old.pop(key)
    (folder / "manifest.json").write_text(json.dumps(old))
    parts = folder / "parts"  # an old sweep killed between a chunk's steps and runs parts:
    shutil.copy(parts / "steps-000001.parquet", parts / "steps-000005.parquet")
    assert sorted(copsim.load(folder, "runs")["run"]) == [0, 1]
    resumed = run_sweep(config, workers=1, progress=False)
    assert resumed.complete and resumed.skipped == 2 and resumed.executed == 6
    assert_same_bytes(folder, reference)
    assert not parts.exists()
