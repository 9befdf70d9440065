"""The March replication script and its machinery, on a tiny design."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from copsim import march as mr
from copsim.seeds import child_seed, seed_label

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--runs", "5", "--other-runs", "3", "--batch-size", "3", "--seed", "17", "--quiet"]


def load(relative: str, name: str):
    """Import a script that is not part of the package."""
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script():
    return load("experiments/march1991.py", "march1991_script")


@pytest.fixture(scope="module")
def outputs(script, tmp_path_factory):
    """The tiny design run twice: in this process, and on two worker processes."""
    one = tmp_path_factory.mktemp("one_worker")
    two = tmp_path_factory.mktemp("two_workers")
    serial = script.main([*TINY, "--workers", "1", "--out", str(one)])
    pooled = script.main([*TINY, "--workers", "2", "--out", str(two)])
    return {"serial": serial, "pooled": pooled, "one": one, "two": two}


def test_worker_count_does_not_change_the_tables(outputs):
    pd.testing.assert_frame_equal(outputs["serial"].runs, outputs["pooled"].runs)
    pd.testing.assert_frame_equal(outputs["serial"].paths, outputs["pooled"].paths)
    for name in ("march1991_runs.parquet", "march1991_paths.parquet"):
        a = pd.read_parquet(outputs["one"] / name)
        b = pd.read_parquet(outputs["two"] / name)
        pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    "stem,columns",
    [("march1991_runs", mr.RUN_COLUMNS), ("march1991_paths", mr.PATH_COLUMNS)],
)
def test_tables_have_the_documented_columns_and_dtypes(outputs, stem, columns):
    parquet = pd.read_parquet(outputs["one"] / f"{stem}.parquet")
    assert list(parquet.columns) == list(columns)
    for name, dtype in columns.items():
        if dtype == "str":
            assert pd.api.types.is_string_dtype(parquet[name]), name
        else:
            assert parquet[name].dtype == np.dtype(dtype), name
    csv = pd.read_csv(outputs["one"] / f"{stem}.csv")
    assert list(csv.columns) == list(columns)
    assert len(csv) == len(parquet) > 0
    np.testing.assert_allclose(csv["code_knowledge"], parquet["code_knowledge"])


def test_figures_manifest_and_no_temporary_files(outputs):
    out = outputs["one"]
    for name in ("march_figure1.png", "march_heterogeneity.png", "march_turbulence.png"):
        assert (out / "figures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    manifest = json.loads((out / "march1991_manifest.json").read_text())
    assert manifest["seed"] == 17 and manifest["batch_size"] == 3
    assert all(Path(f).exists() for f in manifest["files"])
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert "| 0.1 |" in (out / "march1991_figure1.md").read_text()


def test_one_row_per_run_with_its_batch_seed(outputs, script):
    runs = outputs["serial"].runs
    cells = script.design(5, 3)
    sizes = runs.groupby("cell").size()
    assert sizes.to_dict() == {i: c.runs for i, c in enumerate(cells)}
    assert not runs.duplicated(["seed", "run"]).any()
    row = runs[(runs["cell"] == 4) & (runs["batch"] == 1)].iloc[0]
    assert row["seed"] == seed_label(child_seed(17, 4, 1))
    assert row["run"] == 0


def test_table_reproduces_from_the_library_seeding(outputs, script):
    """Cell c of the table is ``simulate`` of that cell seeded with child_seed(root, c)."""
    runs = outputs["serial"].runs
    cell = 30  # a mixed-learner cell of the heterogeneity study
    setting = script.design(5, 3)[cell].setting
    again = mr.simulate(setting, 3, child_seed(17, cell), batch_size=3)
    mine = runs[runs["cell"] == cell]
    np.testing.assert_array_equal(mine["code_knowledge"], again["code_knowledge"])
    np.testing.assert_array_equal(mine["periods"], again["periods"])


def test_paths_end_where_the_runs_end(outputs):
    runs, paths = outputs["serial"].runs, outputs["serial"].paths
    assert set(paths["study"]) == {"turbulence"}
    for cell, group in paths.groupby("cell"):
        assert group["period"].tolist() == list(range(1, 101))
        final = runs.loc[runs["cell"] == cell, "code_knowledge"].mean()
        assert group["code_knowledge"].iloc[-1] == pytest.approx(final)


def test_tracing_does_not_change_outcomes_and_holds_equilibrium_values():
    setting = mr.MarchSetting(p1=0.9, p2=0.9, horizon=40)
    plain = mr.run_batch(setting, 30, 3)
    traced = mr.run_batch(setting, 30, 3, trace=True)
    for key in plain:
        np.testing.assert_array_equal(plain[key], traced[key])
    path = traced["code_knowledge_path"]
    assert path.shape == (30, 40)
    for run, stop in enumerate(traced["periods"]):
        assert stop < 40  # fast learners settle well before the horizon
        assert np.all(path[run, stop - 1 :] == traced["code_knowledge"][run])


def test_homogeneous_cells_match_the_mixed_mean_rate():
    cells = mr.heterogeneity_cells(1, shares=(0.0, 0.3, 1.0))
    for mixed, homogeneous in zip(cells[::2], cells[1::2], strict=True):
        assert (mixed.study, homogeneous.study) == ("mixed", "homogeneous")
        rates = np.broadcast_to(mixed.setting.rates(), (mixed.setting.n, 1))
        assert homogeneous.setting.p1 == pytest.approx(rates.mean())


def test_plan_cuts_cells_into_fixed_batches():
    cells = mr.figure1_cells(7)[:2]
    units = mr.plan_units(cells, batch_size=3)
    assert [(u.cell, u.batch, u.runs) for u in units] == [
        (0, 0, 3),
        (0, 1, 3),
        (0, 2, 1),
        (1, 0, 3),
        (1, 1, 3),
        (1, 2, 1),
    ]


@pytest.mark.slow
def test_plain_python_baseline_computes_the_same_model():
    """The benchmark's loop-by-loop transcription agrees with the kernels in distribution."""
    bench = load("benchmarks/bench_march.py", "bench_march")
    import random

    setting = mr.MarchSetting(p1=0.9, p2=0.9)
    rng = random.Random(5)
    plain = np.array([bench.plain_run(setting, rng) for _ in range(300)], dtype=float)
    fast = mr.simulate(setting, 3000, 5)
    for column, key in ((0, "periods"), (1, "code_knowledge")):
        a, b = plain[:, column], fast[key].astype(float)
        se = np.hypot(a.std(ddof=1) / np.sqrt(a.size), b.std(ddof=1) / np.sqrt(b.size))
        assert abs(a.mean() - b.mean()) < 4.5 * se, key
