"""Analysis helpers and the report, on synthetic tables and on real sweep output."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import copsim
from copsim import analysis as an
from copsim.report import write_report
from copsim.sweep.runner import run_sweep

GRID = """\
name: grid
base:
  preset: march1991
  params: {{n_practitioners: 8, n_dimensions: 8}}
design:
  grid:
    socialization_rate: [0.1, 0.9]
    turnover_rate: [0.0, 0.2]
replicates: 4
chunk_size: 4
seed: 11
steps: 12
stop: horizon
record:
  steps_every: 4
output: {out}
"""

SOBOL = """\
name: sobol
base:
  preset: march1991
  params: {{n_practitioners: 8, n_dimensions: 8}}
design:
  sobol:
    samples: 16
    ranges:
      socialization_rate: [0.05, 0.95]
      slow_socialization_rate: [0.05, 0.95]
common_random_numbers: true
chunk_size: 16
seed: 5
steps: 12
stop: horizon
output: {out}
"""


def sweep_of(tmp: Path, text: str) -> Path:
    path = tmp / "config.yaml"
    path.write_text(text.format(out=tmp / "results"))
    return run_sweep(path, workers=1, progress=False).path


@pytest.fixture(scope="module")
def grid_results(tmp_path_factory) -> Path:
    return sweep_of(tmp_path_factory.mktemp("grid"), GRID)


def synthetic_runs() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 60
    return pd.DataFrame(
        {
            "run": np.arange(n),
            "status": pd.Categorical(["ok"] * (n - 2) + ["failed"] * 2),
            "power": np.repeat([0.0, 1.0, 2.0], n // 3),
            "safe": np.tile([True, False], n // 2),
            "score": rng.normal(size=n),
            "label": pd.Categorical(rng.choice(["expansive", "defensive", "stagnant"], n)),
        }
    )


# ----------------------------------------------------------------------------- summaries
def test_summarize_matches_a_t_interval_and_skips_failed_runs():
    runs = synthetic_runs()
    table = an.summarize(runs, ["power"], ["score"], confidence=0.9)
    assert table["n"].tolist() == [20, 20, 18]
    ok = runs[runs["status"] == "ok"]
    values = ok.loc[ok["power"] == 1.0, "score"]
    row = table[table["power"] == 1.0].iloc[0]
    low, high = stats.t.interval(0.9, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    assert row["mean"] == pytest.approx(values.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))


def test_summarize_single_run_groups_have_no_interval():
    runs = synthetic_runs().head(3)
    table = an.summarize(runs, "run", "score")
    assert table["n"].eq(1).all() and table["ci_low"].isna().all()


def test_outcome_shares_sum_to_one_and_bracket_the_share():
    runs = synthetic_runs()
    shares = an.outcome_shares(runs, ["power", "safe"])
    sums = shares.groupby(["power", "safe"], observed=True)["share"].sum()
    assert np.allclose(sums, 1.0) and len(sums) == 6
    assert (shares["ci_low"] <= shares["share"]).all() and (
        shares["share"] <= shares["ci_high"]
    ).all()
    assert (shares["ci_low"] >= 0).all() and (shares["ci_high"] <= 1).all()
    # every label in every group, zero counts included: all four, though "dissolved" never occurred
    assert shares.groupby(["power", "safe"], observed=True).size().eq(len(an.LABEL_ORDER)).all()
    overall = an.outcome_shares(runs)
    assert overall["n"].eq(58).all() and overall["share"].sum() == pytest.approx(1.0)


def test_wilson_interval_of_an_extreme_share_stays_informative():
    runs = pd.DataFrame({"g": ["a"] * 10, "label": pd.Categorical(["expansive"] * 10)})
    row = an.outcome_shares(runs, "g").iloc[0]
    assert (
        row["share"] == 1.0 and 0.6 < row["ci_low"] < 0.75 and row["ci_high"] == pytest.approx(1.0)
    )


def test_rank_correlations_find_the_monotone_parameter():
    rng = np.random.default_rng(0)
    runs = pd.DataFrame({"a": rng.uniform(size=200), "b": rng.uniform(size=200)})
    runs["y"] = np.exp(3 * runs["a"]) + 0.01 * rng.normal(size=200)
    corr = an.rank_correlations(runs, ["a", "b"], ["y"])
    assert corr.loc["a", "y"] > 0.99 and abs(corr.loc["b", "y"]) < 0.2


# ----------------------------------------------------------------------------- real output
def test_summaries_of_a_real_sweep(grid_results):
    res = copsim.load(grid_results)
    table = an.summarize(res.runs, res.factors, ["code_knowledge", "belief_diversity"])
    assert len(table) == 4 * 2 and table["n"].eq(4).all()
    assert (table["ci_low"] <= table["mean"]).all()
    # March: without turnover, fast socialization ends with less diversity than slow
    div = table[(table["outcome"] == "belief_diversity") & (table["turnover_rate"] == 0.0)]
    slow, fast = div.sort_values("socialization_rate")["mean"].tolist()
    assert slow > fast
    wide = an.effect_table(table, "code_knowledge", "socialization_rate", "turnover_rate")
    assert wide.shape == (2, 2) and all("[" in c for c in wide.to_numpy().ravel())
    if "label" in res.runs:
        shares = an.outcome_shares(res.runs, "socialization_rate")
        assert np.allclose(shares.groupby("socialization_rate")["share"].sum(), 1.0)


def test_sobol_indices_on_a_real_sobol_sweep(tmp_path):
    res = copsim.load(sweep_of(tmp_path, SOBOL))
    assert len(res.runs) == 16 * 4
    indices = an.sobol_indices(res, "code_knowledge").set_index("parameter")
    # with no slow learners, the slow rate cannot matter; under common random
    # numbers its runs are identical, so both its indices are exactly zero
    assert indices.loc["slow_socialization_rate", "S1"] == 0.0
    assert indices.loc["slow_socialization_rate", "ST"] == 0.0
    assert indices.loc["socialization_rate", "ST"] > 0.2
    text = write_report(res.path).read_text()
    assert "Sobol indices of code_knowledge" in text
    with pytest.raises(ValueError, match="not a sobol design"):
        an.sobol_indices(_as_grid(res), "code_knowledge")


def test_lhs_sweep_report_shows_rank_correlations(tmp_path):
    text = SOBOL.replace("sobol:\n    samples: 16", "lhs:\n    samples: 12").replace(
        "chunk_size: 16", "chunk_size: 12"
    )
    res = copsim.load(sweep_of(tmp_path, text))
    assert len(res.runs) == 12 and res.manifest["resolved"]["sampling"]["kind"] == "lhs"
    html = write_report(res.path).read_text()
    assert "Spearman rank correlation" in html and "slow_socialization_rate" in html


def _as_grid(res: an.Results) -> an.Results:
    manifest = {**res.manifest, "resolved": {**res.manifest["resolved"], "sampling": None}}
    return an.Results(res.path, res.runs, manifest=manifest)


def test_plots_return_figures(grid_results):
    res = copsim.load(grid_results)
    summary = an.summarize(res.runs, res.factors, "code_knowledge")
    fig = an.plot_effect(summary, "code_knowledge", "socialization_rate", "turnover_rate")
    assert len(fig.axes[0].lines) >= 2
    fig = an.plot_timeseries(res.steps, "code_knowledge", "turnover_rate")
    assert len(fig.axes[0].lines) == 2


# ----------------------------------------------------------------------------- report
def test_html_report_is_self_contained(grid_results):
    path = write_report(grid_results)
    text = path.read_text()
    assert path == grid_results / "report.html"
    assert "<h2>Design</h2>" in text and "socialization_rate" in text
    assert "data:image/png;base64," in text and "<table" in text
    assert "src='http" not in text  # nothing to fetch


def test_markdown_report_writes_pngs_into_its_own_folder(grid_results, tmp_path):
    path = write_report(grid_results, tmp_path / "rep" / "report.md", fmt="md")
    text = path.read_text()
    assert text.startswith("# ") and "| socialization_rate |" in text
    assert not list(path.parent.glob("*.png"))  # nothing beside the report
    images = sorted(p.name for p in (path.parent / "report_files").glob("*.png"))
    assert images and all(f"](report_files/{name})" in text for name in images)


def test_report_of_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no manifest\.json"):
        write_report(tmp_path)
