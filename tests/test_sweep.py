"""Sweeps end to end: tables, manifest, bit-identical results, resume after a kill, failures."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import copsim
from copsim import CoPModel, Params
from copsim.sweep.runner import SweepError, run_sweep

SRC = Path(copsim.__file__).resolve().parents[1]

TINY = """\
name: tiny
base:
  preset: march1991
  params: {{n_practitioners: 8, n_dimensions: 8}}
design:
  grid:
    socialization_rate: [0.2, 0.8]
    turnover_rate: [0.0, 0.1]
replicates: 3
seed: 7
steps: 15
stop: horizon
chunk_size: {chunk}
model: {model}
record:
  steps_every: 5
  agents: true
  agents_every: 5
output: {out}
"""


def write_config(
    tmp_path: Path,
    name: str = "tiny",
    chunk: int = 2,
    model: str = "copsim.model:CoPModel",
    text: str = TINY,
) -> Path:
    """A tiny experiment config whose results go under ``tmp_path``."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.format(chunk=chunk, model=model, out=tmp_path / f"results-{name}"))
    return path


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    res = copsim.load(folder)
    return {"runs": res.runs, "steps": res.steps, "agents": res.agents}


def assert_same_results(a: Path, b: Path) -> None:
    ta, tb = tables(a), tables(b)
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True, obj=name)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The tiny sweep run serially in this process: the reference for every comparison."""
    tmp = tmp_path_factory.mktemp("reference")
    summary = run_sweep(write_config(tmp), workers=1, progress=False)
    assert summary.complete and summary.executed == 12
    return summary.path


# ----------------------------------------------------------------------------- tables
def test_tables_have_one_row_per_run_and_proper_dtypes(reference):
    res = copsim.load(reference)
    runs = res.runs
    assert runs["run"].tolist() == list(range(12))
    assert (runs["status"] == "ok").all() and runs["error"].isna().all()
    assert runs.groupby("point").size().tolist() == [3, 3, 3, 3]
    assert runs["seed"].tolist()[:4] == ["7:0-0", "7:0-1", "7:0-2", "7:1-0"]
    for col in ("preset", "status", *(["label"] if "label" in runs else [])):
        assert isinstance(runs[col].dtype, pd.CategoricalDtype), col
    for name in Params.model_fields:
        assert name in runs, name
    assert runs["n_practitioners"].dtype == "int64" and runs["max_steps"].eq(15).all()
    assert runs["socialization_rate"].dtype == "float64"
    assert {"steps", "code_knowledge"} <= set(runs.columns)
    # the time series every 5 steps of every run, the agents too
    assert sorted(res.steps["step"].unique().tolist()) == [0, 5, 10, 15]
    assert len(res.steps) == 12 * 4
    assert {"run", "point", "replicate", "socialization_rate", "turnover_rate"} <= set(res.steps)
    assert sorted(res.agents["step"].unique().tolist()) == [0, 5, 10, 15]
    assert res.agents.groupby(["run", "step"]).size().eq(8).all()
    assert res.factors == ["socialization_rate", "turnover_rate"] and res.complete


def test_a_run_in_the_sweep_equals_a_direct_model_run(reference):
    runs = copsim.load(reference, "runs")
    row = runs.iloc[7]
    params = Params.preset(
        "march1991",
        n_practitioners=8,
        n_dimensions=8,
        max_steps=15,
        stop_at_equilibrium=False,
        record_agents=True,
        socialization_rate=float(row["socialization_rate"]),
        turnover_rate=float(row["turnover_rate"]),
    )
    from copsim.seeds import child_seed

    model = CoPModel(params, rng=child_seed(7, int(row["point"]), int(row["replicate"]))).run()
    for key, value in model.outcomes().items():
        assert row[key] == value, key


def test_manifest_records_config_versions_git_timings_counts(reference):
    manifest = json.loads((reference / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert "socialization_rate: [0.2, 0.8]" in manifest["config_text"]
    assert manifest["config"]["seed"] == 7
    assert manifest["resolved"]["n_runs"] == 12 and manifest["resolved"]["n_chunks"] == 6
    assert manifest["versions"]["numpy"] and manifest["versions"]["mesa"]
    assert "commit" in manifest["git"]
    assert manifest["counts"] == {"runs": 12, "done": 12, "failed": 0}
    session = manifest["sessions"][0]
    assert session["runs_executed"] == 12 and session["wall_seconds"] > 0
    assert manifest["tables"] == {"steps": 48, "agents": 12 * 4 * 8, "runs": 12}
    leftovers = [p.name for p in reference.rglob("*") if p.name.endswith(".tmp")]
    assert not (reference / "parts").exists() and not leftovers


# ----------------------------------------------------------------------------- identity
@pytest.mark.parametrize("backend, workers", [("local", 2), ("dask", 2)])
def test_bit_identical_across_backends_and_workers(tmp_path, reference, backend, workers):
    summary = run_sweep(write_config(tmp_path), workers=workers, backend=backend, progress=False)
    assert summary.complete and summary.executed == 12
    assert_same_results(reference, summary.path)


def test_dask_backend_joins_an_existing_cluster(tmp_path, reference):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        summary = run_sweep(
            write_config(tmp_path),
            backend="dask",
            scheduler=cluster.scheduler_address,
            progress=False,
        )
        assert cluster.scheduler_address  # the cluster outlives the sweep
    assert summary.complete
    assert_same_results(reference, summary.path)
    session = copsim.load(summary.path).manifest["sessions"][0]
    assert session["backend"] == "dask" and session["scheduler"] == cluster.scheduler_address


def test_chunk_size_does_not_change_results(tmp_path, reference):
    summary = run_sweep(write_config(tmp_path, chunk=5), workers=1, progress=False)
    assert_same_results(reference, summary.path)


def test_interrupted_then_resumed_equals_one_go(tmp_path, reference):
    config = write_config(tmp_path)
    first = run_sweep(config, workers=1, progress=False, max_chunks=2)
    assert not first.complete and first.executed == 4
    assert copsim.load(first.path).manifest["status"] == "partial"
    assert len(copsim.load(first.path, "runs")) == 4  # partial results are readable
    second = run_sweep(config, workers=1, resume=True, progress=False)
    assert second.complete and second.skipped == 4 and second.executed == 8
    assert_same_results(reference, second.path)
    assert len(copsim.load(second.path).manifest["sessions"]) == 2
    third = run_sweep(config, workers=1, progress=False)  # a plain re-run does nothing
    assert third.executed == 0 and third.complete


class SlowModel(CoPModel):
    """CoPModel with a pause in every step: the same results, slow enough to be killed."""

    def step(self) -> None:
        time.sleep(0.01)
        super().step()


def test_resume_after_the_process_is_killed(tmp_path, reference):
    config = write_config(tmp_path, name="killed", model="test_sweep:SlowModel")
    paths = [str(SRC), str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "copsim.cli",
            "sweep",
            str(config),
            "--workers",
            "1",
            "--no-progress",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    parts = tmp_path / "results-killed" / "parts"
    deadline = time.monotonic() + 120
    while len(list(parts.glob("runs-*.parquet"))) < 2 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done = sorted(parts.glob("runs-*.parquet"))
    assert 2 <= len(done) < 6, "the sweep should have been killed half way"
    partial = copsim.load(parts.parent, "runs")  # every written part is whole
    assert len(partial) == 2 * len(done)

    resumed = run_sweep(config, workers=1, resume=True, progress=False)
    assert resumed.complete and resumed.skipped == 2 * len(done)
    assert resumed.executed == 12 - 2 * len(done)  # finished chunks were not run again
    assert_same_results(reference, resumed.path)
    sessions = copsim.load(resumed.path).manifest["sessions"]
    assert [s["status"] for s in sessions] == ["killed", "complete"]


def test_results_folder_of_another_experiment_is_refused(tmp_path, reference):
    config = write_config(tmp_path, chunk=3)
    with pytest.raises(SweepError, match="different experiment"):
        run_sweep(config, workers=1, progress=False, out=reference)
    with pytest.raises(SweepError, match="nothing to resume"):
        run_sweep(config, workers=1, resume=True, progress=False, out=tmp_path / "empty")


def test_fresh_discards_old_results(tmp_path):
    config = write_config(tmp_path)
    run_sweep(config, workers=1, progress=False, max_chunks=1)
    again = run_sweep(config, workers=1, progress=False, fresh=True, max_chunks=1)
    assert again.skipped == 0 and again.executed == 2


# ----------------------------------------------------------------------------- failures
class FragileModel(CoPModel):
    """Raises in the middle of runs with socialization_rate 0.8 and turnover."""

    def step(self) -> None:
        if (
            self.params.socialization_rate == 0.8
            and self.params.turnover_rate > 0
            and self.steps == 5
        ):
            raise RuntimeError("deliberate failure at step 5")
        super().step()


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, reference):
    config = write_config(tmp_path, model=f"{__name__}:FragileModel")
    summary = run_sweep(config, workers=1, progress=False)
    assert summary.complete and summary.executed == 12 and summary.failed_total == 3
    assert "3 runs failed" in str(summary)
    runs = copsim.load(summary.path, "runs")
    failed = runs[runs["status"] == "failed"]
    assert failed["point"].unique().tolist() == [3]
    assert failed["error"].str.contains("RuntimeError: deliberate failure at step 5").all()
    assert failed["traceback"].str.contains("deliberate failure").all()
    assert failed["seed"].tolist() == ["7:3-0", "7:3-1", "7:3-2"]
    assert failed["code_knowledge"].isna().all()
    ok = runs[runs["status"] == "ok"].drop(columns=["status"])
    ref = copsim.load(reference, "runs").query("point != 3").drop(columns=["status"])
    # integer outcomes of the ok runs read back as float where failed runs left nulls
    pd.testing.assert_frame_equal(
        ok.reset_index(drop=True),
        ref.reset_index(drop=True),
        check_categorical=False,
        check_dtype=False,
    )
    assert copsim.load(summary.path).manifest["counts"]["failed"] == 3


# ----------------------------------------------------------------------------- API
def test_python_api_returns_the_folder(tmp_path):
    config = write_config(tmp_path, chunk=12)
    folder = copsim.sweep(config, workers=1)
    assert folder == tmp_path / "results-tiny" and (folder / "runs.parquet").exists()
    import copsim.sweep as package

    assert package(config, workers=1) == folder  # the package itself is callable
    runs = copsim.load(folder, "runs")
    assert isinstance(runs, pd.DataFrame) and len(runs) == 12


def test_dry_run_writes_nothing(tmp_path):
    summary = run_sweep(write_config(tmp_path), dry_run=True)
    assert "points: 4 x 3 replicates = 12 runs" in str(summary)
    assert not (tmp_path / "results-tiny").exists()


def test_manifest_notes_when_the_source_changed_between_sessions(reference):
    from copsim.sweep.runner import _provenance_warning, source_digest

    manifest = copsim.load(reference).manifest
    digest = source_digest()
    assert len(manifest["source_digest"]) == 16
    assert manifest["sessions"][0]["source_digest"] == manifest["source_digest"]
    assert _provenance_warning({"source_digest": digest}, digest) is None
    note = _provenance_warning({"source_digest": "0" * 16, "git": {"commit": "abc"}}, digest)
    assert "source has changed" in note and "--fresh" in note


def test_a_fresh_folder_gets_no_note_about_an_earlier_sweep(tmp_path):
    """Only a folder an earlier sweep left 'running' is reported as stopped early."""
    summary = run_sweep(write_config(tmp_path, name="fresh"), workers=1, progress=False)
    assert summary.complete
    assert not any("stopped without finishing" in m for m in summary.messages)
