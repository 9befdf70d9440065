"""Reports that say what they hold (issue 13), on synthetic results folders and one tiny sweep.

Most tests build a results folder by hand (a manifest and Parquet tables), so
that the case under test (a killed sweep, a Sobol sample of 8, one cell with 3
replicates) is exactly what the test says, and no model has to run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import copsim
from copsim import analysis as an
from copsim import report as rp
from copsim.outcomes import LABELS
from copsim.sweep.runner import run_sweep
from copsim.sweep.storage import FORMAT

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- helpers
def manifest(
    levels: dict | None = None,
    sampling: dict | None = None,
    replicates: int = 4,
    status: str = "complete",
    n_runs: int | None = None,
    report: dict | None = None,
) -> dict:
    """A manifest with what the report reads (the runner writes more)."""
    levels = levels or {}
    factors = list(levels) + (["sample", *sampling["ranges"]] if sampling else [])
    n_points = int(np.prod([len(v) for v in levels.values()] or [1])) * (
        sampling["n_rows"] if sampling else 1
    )
    return {
        "format": FORMAT,  # what copsim writes, so the folder reads as copsim's
        "experiment": "synthetic",
        "status": status,
        "config": {"report": report or {}},
        "resolved": {
            "factors": factors,
            "levels": levels,
            "sampling": sampling,
            "n_points": n_points,
            "replicates": replicates,
            "n_runs": n_runs if n_runs is not None else n_points * replicates,
            "root_seed": 1,
        },
        "counts": {"runs": n_runs if n_runs is not None else n_points * replicates},
    }


def write_folder(
    path: Path, runs: pd.DataFrame, meta: dict, steps: pd.DataFrame | None = None
) -> Path:
    """A results folder as a complete sweep leaves it (tables consolidated)."""
    path.mkdir(parents=True, exist_ok=True)
    tables = {"runs": len(runs), **({"steps": len(steps)} if steps is not None else {})}
    meta = {**meta, "tables": tables}  # what a complete folder holds
    (path / "manifest.json").write_text(json.dumps(meta))
    pq.write_table(pa.Table.from_pandas(runs, preserve_index=False), path / "runs.parquet")
    if steps is not None:
        pq.write_table(pa.Table.from_pandas(steps, preserve_index=False), path / "steps.parquet")
    return path


def grid_runs(reps: dict[tuple[float, float], int] | None = None, seed: int = 0) -> pd.DataFrame:
    """Runs of a 2 x 2 grid (power x safety): expansiveness falls with power, not safety."""
    rng = np.random.default_rng(seed)
    reps = reps or {(p, s): 6 for p in (0.0, 2.0) for s in (0.2, 0.8)}
    rows = []
    for point, ((power, safety), n) in enumerate(reps.items()):
        for r in range(n):
            e = float(np.clip((0.7 if power == 0 else 0.1) + 0.05 * rng.normal(), 0, 1))
            rows.append(
                {
                    "run": len(rows),
                    "point": point,
                    "replicate": r,
                    "status": "ok",
                    "power_asymmetry": power,
                    "safety": safety,
                    "expansiveness": e,
                    "defensiveness": float(np.clip(0.5 - e / 2, 0, 1)),
                    "members": float(20 + r % 3),
                    "label": "expansive" if e >= 0.4 else "stagnant",
                }
            )
    runs = pd.DataFrame(rows)
    runs["status"] = runs["status"].astype("category")
    runs["label"] = runs["label"].astype("category")
    return runs


GRID_LEVELS = {"power_asymmetry": [0.0, 2.0], "safety": [0.2, 0.8]}


def results_of(runs: pd.DataFrame, meta: dict, steps: pd.DataFrame | None = None) -> an.Results:
    return an.Results(Path("synthetic"), runs, steps, manifest=meta)


def table_captions(report: rp.Report) -> list[str]:
    return [caption for sec in report.sections for caption, _ in sec.tables]


# ----------------------------------------------------------------------------- completeness
TINY = """\
name: tiny
base:
  preset: march1991
  params: {{n_practitioners: 6, n_dimensions: 6}}
design:
  grid:
    socialization_rate: [0.1, 0.9]
    turnover_rate: [0.0, 0.2]
replicates: 4
chunk_size: 4
seed: 3
steps: 4
stop: horizon
output: {out}
"""


def test_report_of_a_killed_sweep_says_partial_with_completeness_and_n_per_point(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY.format(out=tmp_path / "results"))
    folder = run_sweep(config, workers=1, max_chunks=1).path
    # what kill -9 leaves: parts of the finished chunks, and a manifest still "running"
    meta = json.loads((folder / "manifest.json").read_text())
    meta["status"] = "running"
    (folder / "manifest.json").write_text(json.dumps(meta))
    with pytest.warns(rp.PartialResultsWarning, match="4 of 16 runs"):
        text = rp.write_report(folder, fmt="md").read_text()
    head = text.split("## ")[0]
    assert "PARTIAL RESULTS" in head and "4 of 16 runs in the design (25%)" in head
    # nobody holds the folder's lock, so the "running" manifest reads as a stopped sweep
    assert re.search(r"killed|interrupted", head)
    assert "| runs present | 4 (25%) |" in text and "| runs in the design | 16 |" in text
    # n per design point, every point of the grid listed, the missing ones with n = 0
    cells = re.findall(r"^\| (\d) \| [\d.]+ \| [\d.]+ \| (\d+) \| 0 \| 4 \|$", text, re.M)
    assert [int(n) for _, n in cells] == [4, 0, 0, 0]


def test_completeness_and_cell_counts_of_uneven_cells():
    reps = {(0.0, 0.2): 12, (0.0, 0.8): 3, (2.0, 0.2): 12, (2.0, 0.8): 12}
    res = results_of(grid_runs(reps), manifest(GRID_LEVELS, replicates=12))
    comp = an.completeness(res)
    assert (comp.runs_present, comp.runs_design, comp.partial) == (39, 48, True)
    cells = an.cell_counts(res)
    assert cells["n"].tolist() == [12, 3, 12, 12] and cells["expected"].eq(12).all()
    report = rp.build_report(res)
    tables = dict(t for sec in report.sections for t in sec.tables)
    assert "(n=3)" in tables["expansiveness"].to_string()  # the short cell says so
    assert report.title.startswith("PARTIAL RESULTS (39 of 48 runs)")


def test_a_manifest_saying_complete_does_not_hide_missing_runs():
    res = results_of(grid_runs().head(20), manifest(GRID_LEVELS, replicates=6))
    comp = an.completeness(res)
    assert comp.partial and "20 of 24 runs" in comp.sentence()
    assert "says complete but runs are missing" in comp.sentence()


def test_complete_sweep_is_not_flagged(recwarn, tmp_path):
    folder = write_folder(tmp_path / "r", grid_runs(), manifest(GRID_LEVELS, replicates=6))
    text = rp.write_report(folder, fmt="md").read_text()
    assert "PARTIAL" not in text and "Complete: 24 of 24 runs" in text
    assert not [w for w in recwarn if issubclass(w.category, rp.PartialResultsWarning)]


# ----------------------------------------------------------------------------- headline
def test_headline_names_the_largest_effect_with_numbers_and_label_shares():
    res = results_of(grid_runs(), manifest(GRID_LEVELS, replicates=6))
    report = rp.build_report(res)
    first = report.headline[0]
    assert first.startswith("power_asymmetry has the largest effect on expansiveness")
    means = res.runs.groupby("power_asymmetry")["expansiveness"].mean()
    assert f"from {means[0.0]:.2f} at power_asymmetry = 0" in first
    assert f"to {means[2.0]:.2f} at power_asymmetry = 2" in first
    assert "labelled expansive from 100% to 0%" in first
    assert "Next is safety" in report.headline[1]
    html = rp.render_html(report)
    assert html.index(first) < html.index("<h2>")  # at the top, before any section


# ----------------------------------------------------------------------------- continuous designs
def lhs_runs(n: int = 40, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    power = rng.uniform(0, 3, n)
    safety = rng.uniform(0, 1, n)
    e = np.clip(0.8 - 0.25 * power + 0.02 * rng.normal(size=n), 0, 1)
    return pd.DataFrame(
        {
            "run": np.arange(n),
            "point": np.arange(n),
            "replicate": 0,
            "status": pd.Categorical(["ok"] * n),
            "sample": np.arange(n),
            "power_asymmetry": power,
            "safety": safety,
            "expansiveness": e,
            "label": pd.Categorical(np.where(e >= 0.4, "expansive", "stagnant")),
        }
    )


LHS = {
    "kind": "lhs",
    "samples": 40,
    "n_rows": 40,
    "ranges": {"power_asymmetry": [0, 3], "safety": [0, 1]},
    "second_order": None,
}


def test_lhs_report_is_continuous_not_one_level_per_sampled_value():
    meta = manifest(sampling=LHS, replicates=1, report={"by": ["power_asymmetry", "safety"]})
    res = results_of(lhs_runs(), meta)
    report = rp.build_report(res)
    html = rp.render_html(report)
    assert not re.search(r"power_asymmetry = 0\.\d{5}", html)  # no sampled value as a level
    assert rp.headline_factors(res) == []
    assert "dependence_expansiveness" in report.figures
    corr = an.rank_correlation_table(res.runs, ["power_asymmetry", "safety"], ["expansiveness"])
    rho = corr.set_index("parameter")["rho"]
    assert rho["power_asymmetry"] < -0.9 and abs(rho["safety"]) < 0.4
    assert any(c.startswith("Spearman rank correlation") for c in table_captions(report))
    assert "Spearman rank correlation -0.9" in report.headline[0]


def test_binned_dependence_follows_the_outcome_and_respects_bounds():
    runs = lhs_runs(200)
    table = an.binned_dependence(runs, "power_asymmetry", "expansiveness", bins=5)
    assert len(table) == 5 and table["n"].sum() == 200
    assert table["mean"].is_monotonic_decreasing
    assert (table["ci_low"] >= 0).all() and (table["ci_high"] <= 1).all()


def sobol_results(samples: int, noise: float, seed: int = 0) -> an.Results:
    """A Sobol design of y = 4 x1 + x2 (+ noise): S1 = ST = 16/17 and 1/17 exactly."""
    from SALib.sample import sobol as sobol_sample

    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1], [0, 1]]}
    x = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    rng = np.random.default_rng(seed)
    y = 4 * x[:, 0] + x[:, 1] + noise * rng.normal(size=len(x))
    n = len(x)
    runs = pd.DataFrame(
        {
            "run": np.arange(n),
            "point": np.arange(n),
            "status": pd.Categorical(["ok"] * n),
            "sample": np.arange(n),
            "a": x[:, 0],
            "b": x[:, 1],
            "score": y,
        }
    )
    sampling = {
        "kind": "sobol",
        "samples": samples,
        "n_rows": n,
        "ranges": {"a": [0, 1], "b": [0, 1]},
        "second_order": False,
    }
    return results_of(runs, manifest(sampling=sampling, replicates=1))


def test_sobol_indices_of_a_large_sample_are_right_and_not_flagged():
    res = sobol_results(1024, noise=0.0)
    indices = an.sobol_indices(res, "score").set_index("parameter")
    assert indices.loc["a", "ST"] == pytest.approx(16 / 17, abs=0.05)
    assert indices.loc["b", "S1"] == pytest.approx(1 / 17, abs=0.03)
    assert an.sobol_warnings(indices.reset_index(), 1024) == []


def test_sobol_report_of_a_tiny_sample_warns_plainly():
    res = sobol_results(8, noise=3.0)
    indices = an.sobol_indices(res, "score")
    problems = an.sobol_warnings(indices, 8)
    assert problems and "too small" in problems[0] and "8 base samples" in problems[0]
    assert any("above 1" in p or "below 0" in p or "wide" in p for p in problems[1:])
    report = rp.build_report(res)
    text = " ".join(t for sec in report.sections for t in sec.text)
    assert "Warning (score): The Sobol sample (8 base samples) is too small" in text
    sobol_table = dict(t for sec in report.sections for t in sec.tables)[
        "Sobol indices of score (SALib; bootstrap intervals)"
    ]
    assert re.fullmatch(
        r"-?\d\.\d{3} \[-?\d+\.\d{3}, -?\d+\.\d{3}\]", sobol_table["ST [95% CI]"][0]
    )


def test_sobol_warning_flags_a_total_index_above_one():
    indices = pd.DataFrame(
        {"parameter": ["a", "b"], "S1": [0.3, 0.0], "S1_conf": [0.05, 0.0]}
        | {"ST": [1.4, 0.0], "ST_conf": [0.1, 0.0]}
    )
    problems = an.sobol_warnings(indices)
    assert len(problems) == 2 and "ST of a is 1.40, above 1" in problems[1]


# ----------------------------------------------------------------------------- time series
def shock_steps() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs and steps of a shock-severity x power grid; the shock at step 4 halves members."""
    rows, steps = [], []
    run = 0
    for sev in (0.0, 0.9):
        for power in (0.0, 2.0):
            for r in range(3):
                rows.append(
                    {
                        "run": run,
                        "point": len(rows) // 3,
                        "replicate": r,
                        "status": "ok",
                        "shock_kind": "cut",
                        "shock_time": 4,
                        "shock_severity": sev,
                        "power_asymmetry": power,
                        "expansiveness": 0.5,
                        "members": 20.0,
                    }
                )
                for t in range(0, 11, 2):
                    members = 20.0 * (1 - sev if t >= 4 else 1.0)
                    steps.append(
                        {
                            "run": run,
                            "shock_severity": sev,
                            "power_asymmetry": power,
                            "step": t,
                            "members": members,
                            "expansiveness": 0.5,
                        }
                    )
                run += 1
    return pd.DataFrame(rows), pd.DataFrame(steps)


def test_timeseries_split_by_shock_severity_and_shock_marked():
    runs, steps = shock_steps()
    meta = manifest({"power_asymmetry": [0.0, 2.0], "shock_severity": [0.0, 0.9]}, replicates=3)
    meta["config"]["report"] = {"outcomes": ["members"], "by": ["power_asymmetry"]}
    res = results_of(runs, meta, steps)
    assert an.shock_times(res.runs) == [4]
    sec = rp.timeseries_section(res, ["members"], ["power_asymmetry"], {})
    caption = sec.figures[0][0]
    assert "one line per shock_severity" in caption and "shock at step 4" in caption
    assert "pooled" not in caption  # power is a facet, severity the lines: nothing pooled
    fig = an.plot_timeseries(steps, "members", "shock_severity", shocks=[4])
    ax = fig.axes[0]
    finals = sorted(line.get_ydata()[-1] for line in ax.lines if len(line.get_xdata()) > 2)
    assert finals == pytest.approx([2.0, 20.0])  # severities not averaged into 11
    assert any(list(line.get_xdata()) == [4, 4] for line in ax.lines)  # the shock line
    faceted = an.plot_timeseries(steps, "members", "shock_severity", facet="power_asymmetry")
    assert len([a for a in faceted.axes if a.get_title()]) == 2


# ----------------------------------------------------------------------------- intervals
def test_intervals_of_bounded_indices_stay_in_zero_one():
    runs = pd.DataFrame(
        {
            "g": ["a"] * 5 + ["b"] * 5,
            "expansiveness": [0, 0, 0, 0, 0.3, 1, 1, 1, 0.9, 0.6],
            "score": [0, 0, 0, 0, 0.3, 1, 1, 1, 0.9, 0.6],
        }
    )
    table = an.summarize(runs, "g")
    bounded = table[table["outcome"] == "expansiveness"]
    assert (bounded["ci_low"] >= 0).all() and (bounded["ci_high"] <= 1).all()
    assert (bounded["ci_low"] < bounded["mean"]).all() and (
        bounded["mean"] < bounded["ci_high"]
    ).all()
    assert set(bounded["ci_method"]) == {"logit-t"}
    free = table[table["outcome"] == "score"]  # not an index: the plain t-interval, below 0
    assert free["ci_low"].min() < 0 and set(free["ci_method"]) == {"t"}


# ----------------------------------------------------------------------------- rendering
def test_label_share_table_has_no_empty_first_column():
    report = rp.build_report(results_of(grid_runs(), manifest(GRID_LEVELS, replicates=6)))
    shares = dict(t for sec in report.sections for t in sec.tables)[
        "Share of runs with each label (%)"
    ]
    assert list(shares.columns) == ["power_asymmetry", "safety", *LABELS]
    html = rp.render_html(report)
    assert "<th></th>" not in html and "<th>label</th>" not in html


def test_markdown_figures_go_into_a_folder_named_after_the_report(tmp_path):
    folder = write_folder(tmp_path / "r", grid_runs(), manifest(GRID_LEVELS, replicates=6))
    out = tmp_path / "notes"
    out.mkdir()
    (out / "shares.png").write_bytes(b"mine")  # a user's file with a figure's name
    first = rp.write_report(folder, out / "a.md", fmt="md")
    second = rp.write_report(folder, out / "b.md", fmt="md")
    assert (out / "shares.png").read_bytes() == b"mine"
    for path in (first, second):
        images = sorted((out / f"{path.stem}_files").glob("*.png"))
        assert images and all(f"]({path.stem}_files/{p.name})" in path.read_text() for p in images)


# ----------------------------------------------------------------------------- dtypes
def test_load_gives_ordered_labels_with_all_four_and_integer_counts(tmp_path):
    runs = grid_runs()
    runs["label"] = pd.Categorical(["expansive"] * len(runs))  # only one label occurred
    runs["status"] = pd.Categorical(["failed"] + ["ok"] * (len(runs) - 1))
    runs.loc[0, ["expansiveness", "members"]] = [np.nan, np.nan]
    folder = write_folder(tmp_path / "r", runs, manifest(GRID_LEVELS, replicates=6))
    loaded = copsim.load(folder).runs
    dtype = loaded["label"].dtype
    assert isinstance(dtype, pd.CategoricalDtype) and dtype.ordered
    assert list(dtype.categories) == list(LABELS)
    assert loaded["label"].min() == "expansive"  # ordered: comparisons work
    assert str(loaded["members"].dtype) == "Int64" and loaded["members"].isna().sum() == 1
    full = write_folder(tmp_path / "s", grid_runs(), manifest(GRID_LEVELS, replicates=6))
    assert copsim.load(full).runs["members"].dtype == np.int64
    assert an.summarize(loaded, "power_asymmetry", "members")["n"].tolist() == [11, 12]


# ----------------------------------------------------------------------------- README and viz
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_says_where_copsim_is_installed():
    assert ".venv/bin/copsim" in README and "source .venv/bin/activate" in README


def test_readme_runs_the_march_experiment_with_the_venv_python():
    commands = re.findall(r"^.*experiments/march1991\.py.*$", README, re.M)
    runs = [c for c in commands if c.lstrip().startswith(("python", ".venv"))]
    assert runs and all(c.lstrip().startswith(".venv/bin/python ") for c in runs)


def test_readme_sweep_snippet_is_guarded_for_spawned_workers():
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    sweeps = [b for b in blocks if "copsim.sweep(" in b]
    assert sweeps
    for block in sweeps:
        guard = block.index('if __name__ == "__main__":')
        assert guard < block.index("copsim.sweep(")
        compile(block, "README.md", "exec")  # it is valid Python as pasted


def test_viz_fetches_missing_front_end_files_on_first_start(monkeypatch):
    from copsim.viz import assets, server

    asset = assets.Asset("requirejs", "2.3.6")
    state = {"missing": [asset]}
    fetched = []

    def fake_install(cache=None, quiet=False):
        fetched.extend(state["missing"])
        done, state["missing"] = state["missing"], []
        return done

    monkeypatch.setattr(assets, "missing_assets", lambda cache=None: list(state["missing"]))
    monkeypatch.setattr(assets, "install", fake_install)
    message = server.ensure_assets()
    assert fetched == [asset] and "fetched requirejs@2.3.6" in message
    assert server.ensure_assets() is None  # second start: nothing to do


def test_viz_without_network_says_exactly_what_to_run(monkeypatch):
    import sys

    from copsim.viz import assets, server

    asset = assets.Asset("requirejs", "2.3.6")
    monkeypatch.setattr(assets, "missing_assets", lambda cache=None: [asset])

    def offline(cache=None, quiet=False):
        raise OSError("network is unreachable")

    monkeypatch.setattr(assets, "install", offline)
    message = server.ensure_assets()
    assert "network is unreachable" in message and "blank" in message
    assert f"{sys.executable} -m copsim.viz.assets" in message
