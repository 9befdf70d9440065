"""copsim sweep --target-ci: rounds of replicates until every cell's 95% CI is narrow enough."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import copsim
from copsim import report as rp
from copsim.cli import main
from copsim.sweep.config import config_from_text
from copsim.sweep.design import Design
from copsim.sweep.replication import RecordRefused
from copsim.sweep.runner import run_sweep
from copsim.sweep.target_ci import TargetRefused, run_target_ci

CONFIG = """\
name: tci
base:
  preset: march1991
  params: {{n_practitioners: 8, n_dimensions: 8}}
design:
  grid:
    socialization_rate: [0.2, 0.8]
    turnover_rate: [0.0, 0.1]
replicates: {replicates}
seed: 11
steps: 10
stop: horizon
{chunks}record:
  steps_every: 5
report:
  outcomes: [expansiveness, members, code_knowledge]
output: {out}
"""
#: Wide enough that some cells meet it within the cap and narrow enough that one does not
#: (measured: 2 rounds, 51 runs; cells end with 8, 11, 16 and 16 replicates).
TARGET, CAP = 0.12, 16


def write_config(
    folder: Path, name: str, out: Path, replicates: int = 2, chunk_size: int | None = None
) -> Path:
    """The test config; without ``chunk_size`` each round is one chunk (fast)."""
    path = folder / f"{name}.yaml"
    chunks = f"chunk_size: {chunk_size}\n" if chunk_size else ""
    path.write_text(CONFIG.format(out=out, replicates=replicates, chunks=chunks))
    return path


def table(folder: Path, name: str) -> pd.DataFrame:
    frame = getattr(copsim.load(folder), name)
    keys = ["point", "replicate"] + (["step"] if "step" in frame.columns else [])
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def record(folder: Path) -> dict:
    return json.loads((folder / "replication.json").read_text())


def cell_counts(folder: Path) -> dict[int, int]:
    """Replicates per point (cells are points in this grid): the record's, else 2."""
    raised = {c["cell"]: c["replicates"] for c in record(folder)["cells"]}
    return {p: raised.get(p, 2) for p in range(4)}


def narrow(root: Path, out: Path, **options):
    """The test config run with --target-ci to the end: (folder, summary, round lines)."""
    lines: list[str] = []
    config = write_config(root, "tci", out)
    summary = run_target_ci(config, TARGET, CAP, progress=False, on_round=lines.append, **options)
    return out, summary, lines


@pytest.fixture(scope="module")
def narrowed(tmp_path_factory):
    """A sweep run with --target-ci to the end, once for the tests below."""
    root = tmp_path_factory.mktemp("narrowed")
    return narrow(root, root / "out", workers=1)


def test_every_cell_ends_within_the_target_or_at_the_cap(narrowed):
    out, summary, lines = narrowed
    assert summary.complete and not summary.interrupted
    assert summary.rounds_total == len(lines) >= 2
    results = copsim.load(out)
    widths, outcomes, _target = rp.replication_table(results, TARGET)
    # the config's report.outcomes on [0, 1]; a count (members) has no common scale with W
    assert outcomes == ["expansiveness", "code_knowledge"]
    counts = cell_counts(out)
    point_of = results.runs.drop_duplicates("point").set_index(
        ["socialization_rate", "turnover_rate"]
    )["point"]
    widest = widths[[f"{o} ±" for o in outcomes]].max(axis=1)
    capped = 0
    for (_, row), width in zip(widths.iterrows(), widest, strict=True):
        point = point_of[(row["socialization_rate"], row["turnover_rate"])]
        assert row["n"] == counts[point]  # no run failed: n is the replicates
        assert width <= TARGET or counts[point] == CAP, (row.to_dict(), counts)
        capped += width > TARGET
    assert summary.status == ("cap" if capped else "met")
    assert record(out)["status"] == summary.status
    assert len(set(counts.values())) > 1  # cells got what they needed, not all the same
    assert len(results.runs) == sum(counts.values()) == summary.n_runs
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["target_ci"]["rounds"] == summary.rounds_total
    assert manifest["target_ci"]["runs_added"] == sum(counts.values()) - 8
    assert [g["by"] for g in manifest["grown"]] == ["target-ci"] * summary.rounds_total
    assert manifest["resolved"]["cell_replicates"] == {
        str(p): n for p, n in counts.items() if n > 2
    }
    assert "replication.json" in manifest["files"] and manifest["status"] == "complete"


def test_the_added_runs_equal_a_fresh_sweep_with_more_replicates(narrowed, tmp_path):
    out, _, _ = narrowed
    counts = cell_counts(out)
    fresh = tmp_path / "fresh"
    run_sweep(
        write_config(tmp_path, "fresh", fresh, max(counts.values())), workers=1, progress=False
    )
    for name in ("runs", "steps"):
        mine = table(out, name)
        theirs = table(fresh, name).set_index(["point", "replicate"])
        # the fresh sweep's replicates r < counts[p] of each point p, bit for bit
        keep = [(p, r) for p, n in counts.items() for r in range(n)]
        theirs = theirs[theirs.index.isin(keep)].reset_index()
        pd.testing.assert_frame_equal(
            mine.drop(columns="run"), theirs.drop(columns="run"), check_exact=True, obj=name
        )


def test_the_dask_backend_narrows_to_the_same_tables(narrowed, tmp_path):
    """Every round starts its own Dask cluster; the rounds, the record and every run
    are those of the local backend, bit for bit."""
    out, summary, lines = narrowed
    on_dask, again, dask_lines = narrow(tmp_path, tmp_path / "dask", backend="dask", workers=2)
    assert again.complete and again.status == summary.status
    assert dask_lines == lines and cell_counts(on_dask) == cell_counts(out)
    for name in ("runs", "steps"):
        pd.testing.assert_frame_equal(
            table(on_dask, name), table(out, name), check_exact=True, obj=name
        )
    sessions = copsim.load(on_dask).manifest["sessions"]
    assert {s["backend"] for s in sessions} == {"dask"} and len(sessions) == len(lines) + 1


def test_an_interrupted_target_ci_resumes_to_the_same_tables(narrowed, tmp_path):
    out, summary, _ = narrowed
    again = tmp_path / "again"
    config = write_config(tmp_path, "again", again, chunk_size=8)  # tables never depend on it
    seen = pd.DataFrame()
    calls = 0
    while True:  # stop after every two chunks of 8 runs, then run the same command again
        calls += 1
        part = run_target_ci(config, TARGET, CAP, workers=1, progress=False, max_chunks=2)
        runs = table(again, "runs").set_index(["point", "replicate"]).drop(columns="run")
        kept = runs.loc[seen.index] if len(seen) else seen
        pd.testing.assert_frame_equal(kept, seen, check_exact=True)  # finished runs never change
        seen = runs
        if part.complete:
            break
        assert not part.interrupted and calls < 60
    assert calls > summary.rounds_total + 1  # it really was stopped inside rounds
    for name in ("runs", "steps"):
        pd.testing.assert_frame_equal(table(again, name), table(out, name), check_exact=True)
    assert record(again)["cells"] == record(out)["cells"]
    rounds = [{k: v for k, v in r.items() if k != "planned"} for r in record(again)["rounds"]]
    assert rounds == [{k: v for k, v in r.items() if k != "planned"} for r in record(out)["rounds"]]


def test_a_plain_sweep_of_the_same_config_keeps_the_extra_replicates(narrowed, capsys):
    out, summary, _ = narrowed
    config = out.parent / "tci.yaml"
    again = run_sweep(config, workers=1, progress=False)
    assert again.complete and again.executed == 0 and again.n_runs == summary.n_runs
    assert main(["sweep", str(config), "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "added by --target-ci, replication.json" in text
    assert f"= {summary.n_runs} runs" in text


def test_the_report_reads_a_folder_with_uneven_replicates(narrowed):
    out, _summary, _ = narrowed
    results = copsim.load(out)
    counts = cell_counts(out)
    cells = copsim.analysis.cell_counts(results)
    assert cells["expected"].tolist() == [counts[p] for p in cells["point"]]
    assert (cells["n"] == cells["expected"]).all()
    assert not copsim.analysis.completeness(results).partial
    status = rp.status_section(results, copsim.analysis.completeness(results))
    low, high = min(counts.values()), max(counts.values())
    assert f"the design asks for {low} to {high}" in " ".join(status.text)
    assert (
        f"{high} in "
        in rp.design_section(results, copsim.analysis.completeness(results))
        .tables[-1][1]
        .set_index("item")
        .loc["replicates per point", "value"]
    )
    replication = rp.replication_section(results)
    assert f"sweep --target-ci {TARGET:g}" in " ".join(replication.text)


def test_dry_run_shows_the_plan_of_the_first_round_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    config = write_config(tmp_path, "dry", out)
    assert main(["sweep", str(config), "--target-ci", "0.1", "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "round 1 is planned from the cells' intervals once these runs have finished" in text
    assert "up to 20 per design point" in text  # default cap: 10 x replicates
    assert not out.exists()
    run_sweep(config, workers=1, progress=False)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert main(["sweep", str(config), "--target-ci", "0.1", "--max-replicates", "6", "--dry-run"]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "round 1: 4 of 4 cells wider than 0.1; 4 raised to 6 replicates (+16 runs)" in text
    assert "2 -> 6 replicates" in text and "up to 6 per design point" in text
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target-ci", "0"], "must be a number above 0"),
        (["--target-ci", "-0.05"], "must be a number above 0"),
        (["--target-ci", "wide"], "expected a number"),
        (["--target-ci", "nan"], "must be a number above 0"),
        (["--target-ci", "0.1", "--max-replicates", "0"], "must be at least 1"),
        (["--target-ci", "0.1", "--max-replicates", "x"], "expected a whole number"),
    ],
)
def test_bad_arguments_exit_2(tmp_path, capsys, args, message):
    config = write_config(tmp_path, "bad", tmp_path / "out")
    with pytest.raises(SystemExit) as info:
        main(["sweep", str(config), *args])
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_cap_below_the_replicates_or_without_target_exits_2(tmp_path, capsys):
    out = tmp_path / "out"
    config = write_config(tmp_path, "bad", out, replicates=3)
    assert main(["sweep", str(config), "--target-ci", "0.1", "--max-replicates", "2"]) == 2
    assert "is below the config's replicates (3)" in capsys.readouterr().err
    assert main(["sweep", str(config), "--max-replicates", "5"]) == 2
    assert "--max-replicates only applies with --target-ci" in capsys.readouterr().err
    capped = tmp_path / "capped.yaml"
    capped.write_text(config.read_text().replace("report:\n", "report:\n  max_replicates: 2\n"))
    assert main(["sweep", str(capped), "--target-ci", "0.1"]) == 2
    err = capsys.readouterr().err
    line = capped.read_text().splitlines().index("  max_replicates: 2") + 1
    assert f"{capped}:{line}: report.max_replicates = 2: below replicates (3)" in err
    assert not out.exists()


def test_a_cap_beyond_the_run_limit_exits_2_and_bad_python_arguments_are_refused(tmp_path, capsys):
    out = tmp_path / "out"
    config = write_config(tmp_path, "huge", out)
    assert main(["sweep", str(config), "--target-ci", "0.1", "--max-replicates", "300000"]) == 2
    assert "could grow to 1,200,000 runs, beyond the limit" in capsys.readouterr().err
    for target, cap in [(0, None), ("x", None), (True, None), (0.1, 2.5), (0.1, 1)]:
        with pytest.raises(TargetRefused) as info:
            run_target_ci(config, target, cap, workers=1, progress=False)
        assert info.value.exit_code == 2
    assert not out.exists()


def test_a_damaged_record_is_refused(narrowed, tmp_path):
    out, _, _ = narrowed
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    path = copy / "replication.json"
    path.write_text(path.read_text().replace('"replicates": 16', '"replicates": 15'))
    config = tmp_path / "copy.yaml"
    config.write_text((out.parent / "tci.yaml").read_text().replace(str(out), str(copy)))
    with pytest.raises(RecordRefused, match="sha256") as info:
        run_sweep(config, workers=1, progress=False)
    assert info.value.exit_code == 2


SAMPLED = """\
name: tci-sampled
base:
  preset: march1991
  params: {{n_practitioners: 8, n_dimensions: 8}}
design:
  grid:
    turnover_rate: [0.0, 0.1]
  lhs:
    samples: 3
    ranges: {{socialization_rate: [0.1, 0.9]}}
replicates: 1
seed: 5
steps: 5
stop: horizon
report:
  outcomes: [code_knowledge]
output: {out}
"""


def test_a_sampled_design_raises_every_point_of_a_cell_alike(tmp_path):
    out = tmp_path / "out"
    config = tmp_path / "sampled.yaml"
    config.write_text(SAMPLED.format(out=out))
    summary = run_target_ci(config, 0.15, 4, workers=1, progress=False)
    assert summary.complete and summary.rounds_total >= 1
    cells = record(out)["cells"]
    assert all(c["points"] == {0: [0, 2], 1: [3, 5]}[c["cell"]] for c in cells)
    runs = copsim.load(out).runs
    per_point = runs.groupby("point")["replicate"].count()
    raised = {c["cell"]: c["replicates"] for c in cells}
    for point, n in per_point.items():
        assert n == raised.get(point // 3, 1)  # every sample of a cell has its replicates
    widths, _, _ = rp.replication_table(copsim.load(out), 0.15)
    assert ((widths["code_knowledge ±"] <= 0.15) | widths["n"].isin([12])).all()


def test_run_numbers_follow_the_cells_replicates_and_seeds_do_not_change():
    cfg = config_from_text(SAMPLED.format(out="unused"))
    plain, raised = Design(cfg), Design(cfg, {1: 4})
    assert raised.n_runs == 3 * 1 + 3 * 4
    pairs = [raised.run_point(r) for r in range(raised.n_runs)]
    assert pairs == [(0, 0), (1, 0), (2, 0)] + [(p, k) for p in (3, 4, 5) for k in range(4)]
    assert [raised.run_index(p, k) for p, k in pairs] == list(range(raised.n_runs))
    points, reps = np.array(pairs).T
    assert raised.run_indices(points, reps).tolist() == list(range(raised.n_runs))
    assert raised.run_task(4).seed.spawn_key == plain.run_seed(3, 1).spawn_key
    assert plain.fingerprint() != raised.fingerprint()
    assert "cell_replicates" not in plain.resolved()
