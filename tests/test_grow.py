"""Growing a sweep: more replicates or levels reuse the finished runs bit for bit."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import copsim
from copsim.sweep.grow import GrowthRefused
from copsim.sweep.runner import run_sweep

SRC = Path(copsim.__file__).resolve().parents[1]
CLI = "import sys; from copsim.cli import main; sys.exit(main())"

CONFIG = """\
name: grow
base:
  preset: march1991
  params: {{n_practitioners: 8, n_dimensions: 8}}
design:
  grid:
    socialization_rate: {social}
    turnover_rate: [0.0, 0.1]
replicates: {replicates}
seed: 11
steps: 10
stop: horizon
chunk_size: 2  # small chunks, so a sweep can stop part way (max_chunks)
model: copsim.model:CoPModel
record:
  steps_every: 5
output: {out}
"""

SMALL = {"social": "[0.2, 0.8]", "replicates": 2}
GROWN = {"social": "[0.2, 0.8, 0.5]", "replicates": 4}


def config(tmp_path: Path, name: str, out: Path, **values) -> Path:
    """A tiny config written under ``tmp_path`` whose results go to ``out``."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(CONFIG.format(out=out, **values))
    return path


def sorted_table(folder: Path, name: str) -> pd.DataFrame:
    """A results table in (point, replicate) order with a plain index."""
    res = copsim.load(folder)
    frame = getattr(res, name)
    keys = ["point", "replicate"] + (["step"] if "step" in frame.columns else [])
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def test_growing_replicates_then_levels_equals_a_fresh_sweep(tmp_path):
    out = tmp_path / "results"
    first = run_sweep(config(tmp_path, "small", out, **SMALL), workers=1, progress=False)
    assert first.complete and first.executed == 8
    before = sorted_table(out, "runs")

    more = config(tmp_path, "more", out, social="[0.2, 0.8]", replicates=4)
    second = run_sweep(more, workers=1, progress=False)
    assert second.complete and second.executed == 8 and second.skipped == 8

    grown = config(tmp_path, "grown", out, **GROWN)
    third = run_sweep(grown, workers=1, progress=False)
    assert third.complete and third.executed == 8 and third.skipped == 16

    fresh_out = tmp_path / "fresh"
    fresh = run_sweep(config(tmp_path, "fresh", fresh_out, **GROWN), workers=1, progress=False)
    assert fresh.executed == 24
    for name in ("runs", "steps"):
        pd.testing.assert_frame_equal(
            sorted_table(out, name), sorted_table(fresh_out, name), check_exact=True, obj=name
        )
    # the first sweep's runs are untouched (apart from their run index in the bigger design)
    after = sorted_table(out, "runs").set_index(["point", "replicate"])
    old = before.set_index(["point", "replicate"]).drop(columns="run")
    pd.testing.assert_frame_equal(
        after.loc[old.index].drop(columns="run"), old, check_exact=True, check_categorical=False
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert [g["runs_carried"] for g in manifest["grown"]] == [8, 16]
    assert "carried" not in manifest and not (out / "carried").exists()
    assert len(manifest["sessions"]) == 3


def test_a_partial_sweep_grows_too(tmp_path):
    out = tmp_path / "results"
    run_sweep(config(tmp_path, "small", out, **SMALL), workers=1, progress=False, max_chunks=3)
    run_sweep(config(tmp_path, "grown", out, **GROWN), workers=1, progress=False)
    fresh_out = tmp_path / "fresh"
    run_sweep(config(tmp_path, "fresh", fresh_out, **GROWN), workers=1, progress=False)
    pd.testing.assert_frame_equal(
        sorted_table(out, "runs"), sorted_table(fresh_out, "runs"), check_exact=True
    )


def test_an_interrupted_growth_resumes_and_cannot_grow_again_until_done(tmp_path):
    out = tmp_path / "results"
    run_sweep(config(tmp_path, "small", out, **SMALL), workers=1, progress=False)
    grown = config(tmp_path, "grown", out, **GROWN)
    part = run_sweep(grown, workers=1, progress=False, max_chunks=2)
    assert not part.complete and (out / "carried" / "runs.parquet").exists()
    bigger = config(tmp_path, "bigger", out, social="[0.2, 0.8, 0.5]", replicates=5)
    with pytest.raises(GrowthRefused, match="has not finished yet"):
        run_sweep(bigger, workers=1, progress=False)
    rest = run_sweep(grown, workers=1, progress=False)
    assert rest.complete and part.executed + rest.executed == 16
    fresh_out = tmp_path / "fresh"
    run_sweep(config(tmp_path, "fresh", fresh_out, **GROWN), workers=1, progress=False)
    for name in ("runs", "steps"):
        pd.testing.assert_frame_equal(
            sorted_table(out, name), sorted_table(fresh_out, name), check_exact=True, obj=name
        )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"social": "[0.2, 0.5, 0.8]", "replicates": 2}, "inserted in the middle"),
        ({"social": "[0.2, 0.8]", "replicates": 1}, "fewer replicates"),
    ],
)
def test_changes_that_are_not_growth_are_refused(tmp_path, values, message):
    out = tmp_path / "results"
    run_sweep(config(tmp_path, "small", out, **SMALL), workers=1, progress=False)
    with pytest.raises(GrowthRefused, match=message):
        run_sweep(config(tmp_path, "other", out, **values), workers=1, progress=False)
    text = config(tmp_path, "seed", out, **SMALL).read_text().replace("seed: 11", "seed: 12")
    (tmp_path / "seed.yaml").write_text(text)
    with pytest.raises(GrowthRefused, match="root seed"):
        run_sweep(tmp_path / "seed.yaml", workers=1, progress=False)
    assert sorted_table(out, "runs").shape[0] == 8  # the folder is as it was


def test_the_command_line_refuses_a_middle_insertion_with_exit_code_2(tmp_path):
    out = tmp_path / "results"
    run_sweep(config(tmp_path, "small", out, **SMALL), workers=1, progress=False)
    bad = config(tmp_path, "bad", out, social="[0.2, 0.5, 0.8]", replicates=2)
    proc = subprocess.run(
        [sys.executable, "-c", CLI, "sweep", str(bad), "--workers", "1"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "inserted in the middle" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr


SAMPLED = """\
name: sampled
base:
  preset: march1991
  params: {{n_practitioners: 8, n_dimensions: 8}}
design:
  {kind}:
    samples: {samples}
    ranges: {{socialization_rate: [0.1, 0.9]}}
replicates: 1
seed: 5
steps: 5
stop: horizon
chunk_size: 2  # small chunks, so a sweep can stop part way (max_chunks)
model: copsim.model:CoPModel
output: {out}
"""


def test_a_larger_sobol_n_grows_and_more_lhs_samples_are_refused(tmp_path):
    out, fresh_out = tmp_path / "sobol", tmp_path / "sobol-fresh"
    small = tmp_path / "small.yaml"
    small.write_text(SAMPLED.format(kind="sobol", samples=2, out=out))
    big = tmp_path / "big.yaml"
    big.write_text(SAMPLED.format(kind="sobol", samples=4, out=out))
    fresh = tmp_path / "fresh.yaml"
    fresh.write_text(SAMPLED.format(kind="sobol", samples=4, out=fresh_out))
    first = run_sweep(small, workers=1, progress=False)
    grown = run_sweep(big, workers=1, progress=False)
    assert grown.skipped == first.executed and grown.executed == first.executed
    run_sweep(fresh, workers=1, progress=False)
    pd.testing.assert_frame_equal(
        sorted_table(out, "runs"), sorted_table(fresh_out, "runs"), check_exact=True
    )

    lhs = tmp_path / "lhs"
    (tmp_path / "lhs3.yaml").write_text(SAMPLED.format(kind="lhs", samples=3, out=lhs))
    (tmp_path / "lhs5.yaml").write_text(SAMPLED.format(kind="lhs", samples=5, out=lhs))
    run_sweep(tmp_path / "lhs3.yaml", workers=1, progress=False)
    with pytest.raises(GrowthRefused, match="more LHS samples"):
        run_sweep(tmp_path / "lhs5.yaml", workers=1, progress=False)


# ----------------------------------------------------------------------------- replication
def test_the_report_shows_n_and_ci_half_width_per_cell_and_flags_wide_ones(tmp_path):
    from copsim import report as rp

    out = tmp_path / "results"
    run_sweep(config(tmp_path, "small", out, **SMALL), workers=1, progress=False)
    results = copsim.load(out)
    table, outcomes, target = rp.replication_table(results)
    assert target == 0.05
    assert "expansiveness" in outcomes and "defensiveness" in outcomes
    assert len(table) == 4 and table["n"].tolist() == [2, 2, 2, 2]
    assert {"socialization_rate", "turnover_rate", "expansiveness ±"} <= set(table.columns)
    # the half-width is half the width of the report's own interval
    summary = copsim.analysis.summarize(
        results.runs, ["socialization_rate", "turnover_rate"], outcomes
    )
    row = summary[
        (summary["outcome"] == "expansiveness")
        & (summary["socialization_rate"] == 0.2)
        & (summary["turnover_rate"] == 0.0)
    ].iloc[0]
    mine = table[(table["socialization_rate"] == 0.2) & (table["turnover_rate"] == 0.0)].iloc[0]
    assert mine["expansiveness ±"] == pytest.approx((row["ci_high"] - row["ci_low"]) / 2)
    flagged = table["wider than target"] != ""
    wide = table[[f"{o} ±" for o in outcomes]].fillna(float("inf")).max(axis=1) > target
    assert flagged.tolist() == wide.tolist()
    report = rp.build_report(results)
    section = next(s for s in report.sections if s.title == "Replication")
    assert "Target: 0.05" in section.text[0]
    assert "report.target_ci" in rp.render_markdown(report)

    # a generous target flags nothing
    text = (tmp_path / "small.yaml").read_text() + "report:\n  target_ci: 1000\n"
    (tmp_path / "loose.yaml").write_text(text.replace(str(out), str(tmp_path / "loose")))
    run_sweep(tmp_path / "loose.yaml", workers=1, progress=False)
    loose = copsim.load(tmp_path / "loose")
    table, _, target = rp.replication_table(loose)
    assert target == 1000 and (table["wider than target"] == "").all()
    assert "Every one of the 4 cells" in " ".join(rp.replication_section(loose).text)
