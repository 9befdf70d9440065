"""The shipped scenario-discovery study (issue 14): ``configs/expansive_conditions.yaml``.

The full study is 20,400 runs (minutes on 2 cores), far too long for the suite;
these tests check that the shipped file validates and has the shape its comments
promise, and run a tiny version of it (the same twelve factors and ranges, 5 LHS
rows per cell, a few periods) through ``copsim sweep`` and ``copsim discover`` end
to end.  The headline grid's committed folder holds only its report (no Parquet:
results/README.md), so ``discover`` on the headline design is checked the same
way, on a tiny sweep of ``configs/power_x_funding.yaml``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import copsim
from copsim import analysis as an
from copsim.cli import main
from copsim.discovery import plot_feature_scores
from copsim.params import ENSEMBLE_VARYING, Params
from copsim.sweep.config import load_config
from copsim.sweep.design import Design, design_size

pytest.importorskip("ema_workbench", reason="copsim discover needs the 'discover' extra")

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "configs" / "expansive_conditions.yaml"
HEADLINE = ROOT / "configs" / "power_x_funding.yaml"
SCRIPT = ROOT / "experiments" / "expansive_conditions.py"
#: The levers of issue 14, as the parameters that carry them.
LEVERS = {
    "power_asymmetry",
    "safety",
    "identity_diversity",
    "funding_level",
    "shock_severity",
    "exit_rate",  # turnover
    "reification_rate",
    "contest_rate",
    "self_funding",
    "organizing_principle",
    "role_play",
    "conversation_as_data",
}


def test_shipped_study_validates_with_twelve_levers_and_20000_runs():
    cfg = load_config(STUDY)
    design = Design(cfg)
    points, runs = design_size(cfg)
    assert runs >= 20_000 and cfg.replicates == 1 and points == runs
    varied = set(cfg.design.grid) | set(cfg.design.lhs.ranges)
    assert varied == LEVERS and all(name in Params.model_fields for name in varied)
    # Every sampled parameter may differ inside one ensemble; the switches are grid
    # cells of consecutive points, and a chunk never straddles two cells, so each
    # chunk runs as one ensemble (the config's comments promise this).
    assert set(cfg.design.lhs.ranges) <= ENSEMBLE_VARYING
    assert not set(cfg.design.grid) & ENSEMBLE_VARYING
    assert cfg.design.lhs.samples % design.chunk_size == 0
    for chunk in range(design.n_chunks):
        span = design.chunk_runs(chunk)
        first, last = design.point_factors(span.start), design.point_factors(span.stop - 1)
        assert all(first[k] == last[k] for k in cfg.design.grid)
    assert cfg.steps == 100 and cfg.stop == "horizon" and cfg.record.steps_every == 0
    assert Params(**design.point_values(0)).n_practitioners == 50  # the default community


def _tiny(source: Path, tmp_path: Path, **changes) -> Path:
    """The config at ``source`` with some top-level or LHS settings changed, in tmp_path."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    samples = changes.pop("samples", None)
    if samples is not None:
        data["design"]["lhs"]["samples"] = samples
    data.pop("chunk_size", None)
    data.update(changes, output=str(tmp_path / "results"))
    path = tmp_path / source.name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _discover_json(folder: Path, outcome: str, capsys) -> dict:
    assert main(["discover", str(folder), "--outcome", outcome, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_tiny_study_runs_through_sweep_and_discover(tmp_path, capsys):
    config = _tiny(STUDY, tmp_path, samples=5, steps=6)  # 12 cells x 5 rows = 60 runs
    folder = copsim.sweep(config, workers=1)
    runs = copsim.load(folder).runs
    assert len(runs) == 60 and (runs["status"] == "ok").all()
    # A condition at the median splits the runs in two halves whatever the model gives.
    median = float(runs["expansiveness"].median())
    found = _discover_json(folder, f"expansiveness > {median!r}", capsys)
    assert set(found["factors"]) == LEVERS  # all twelve, switches and names included
    assert found["n_runs"] == 60 and 0 < found["n_cases"] < 60
    box = found["boxes"][0]
    assert box["density"] >= found["base_rate"]
    assert {lim["factor"] for lim in box["limits"]} <= LEVERS
    assert {row["factor"] for row in found["feature_scores"]} == LEVERS
    # The label outcome works too, or says plainly why there is nothing to find.
    code = main(["discover", str(folder), "--outcome", "expansive"])
    out, err = capsys.readouterr()
    assert (code == 0 and out.startswith("learning is expansive in ")) or (
        code == 1 and "so there is nothing to tell apart" in err
    )
    # The study's figure and table script runs on it too.
    figure, table = tmp_path / "study.png", tmp_path / "study.csv"
    study_script().main([str(folder), "--figure", str(figure), "--table", str(table)])
    rows = pd.read_csv(table)
    shares = rows[rows["item"] == "share"]
    assert list(shares["outcome"]) == ["expansive", "defensive", "stagnant", "dissolved"]
    assert shares["density"].sum() == pytest.approx(1) and (shares["n"] == 60).all()
    for outcome in set(rows.loc[rows["item"] == "box", "outcome"]):
        scores = rows[(rows["outcome"] == outcome) & (rows["item"] == "feature_score")]
        assert set(scores["factor"]) == LEVERS
    if (rows["item"] == "box").any():
        assert figure.stat().st_size > 10_000


def study_script():
    """experiments/expansive_conditions.py as a module."""
    spec = importlib.util.spec_from_file_location("study_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_discover_works_on_the_headline_grid(tmp_path, capsys):
    config = _tiny(HEADLINE, tmp_path, replicates=3, steps=6, record={"steps_every": 0})
    folder = copsim.sweep(config, workers=1)
    runs = copsim.load(folder).runs
    assert len(runs) == 24 * 3
    median = float(runs["defensiveness"].median())
    found = _discover_json(folder, f"defensiveness > {median!r}", capsys)
    assert set(found["factors"]) == {"power_asymmetry", "shock_severity", "safety"}
    limits = found["boxes"][0]["limits"]
    # Grid factors read as levels that were run (<=, >=), never as a cut between them.
    levels = {"power_asymmetry": {0.0, 0.5, 1.0, 2.0}, "shock_severity": {0.0, 0.5, 0.9}}
    levels["safety"] = {0.2, 0.8}
    for lim in limits:
        for bound in (lim["low"], lim["high"]):
            assert bound is None or bound in levels[lim["factor"]]


# ----------------------------------------------------------------------------- reading
def _mostly_expansive(n: int = 3000, seed: int = 14) -> pd.DataFrame:
    """The study's situation: expansive in most runs (about 87%), nearly always (97%)
    where safety > 0.3, half the time below; two factors that do nothing."""
    rng = np.random.default_rng(seed)
    safety = rng.uniform(0.1, 1.0, n)
    expansive = rng.random(n) < np.where(safety > 0.3, 0.97, 0.5)
    return pd.DataFrame(
        {
            "status": "ok",
            "safety": safety,
            "power_asymmetry": rng.uniform(0, 3, n),
            "role_play": rng.random(n) < 0.5,
            "expansiveness": np.where(expansive, 0.5, 0.2),
            "label": np.where(expansive, "expansive", "stagnant"),
        }
    )


def test_a_base_rate_above_the_threshold_is_said_and_a_higher_threshold_finds_the_box():
    runs = _mostly_expansive()
    found = an.discover(runs, "expansive", threshold=0.8)
    assert found.base_rate >= 0.8 and not found.box.limits  # step 0 already qualifies
    text = found.summary()
    # Not "no box makes it more frequent": peeling does raise it, and the text says why
    # the box is the whole space and what to do.
    assert "no box" not in text
    assert "already at least the density asked for (80%)" in text and "threshold" in text
    assert found.trajectory["density"].max() > found.base_rate + 0.05
    tight = an.discover(runs, "expansive", threshold=0.95)
    assert tight.box.reached_threshold and tight.density >= 0.95
    assert [lim.factor for lim in tight.box.limits] == ["safety"]
    assert abs(tight.box.limits[0].low - 0.3) <= 0.05


def test_terminal_tables_left_align_limits_and_leave_open_sides_blank():
    found = an.discover(_mostly_expansive(), "expansive", threshold=0.95)
    text = found.render("text")
    lines = text.splitlines()
    head = lines.index("Peeling trajectory: the coverage-density trade-off of box 1:") + 2
    rows = lines[head : head + len(found.trajectory) + 1]
    limits = found.trajectory["limits"]
    starts = {line.index(limit) for line, limit in zip(rows[1:], limits, strict=True)}
    assert starts == {rows[0].index("limits")}  # every limit starts under its header
    assert all(line == line.rstrip() for line in lines)
    box_head = next(i for i, line in enumerate(lines) if line.startswith("Box 1 (PRIM")) + 2
    assert lines[box_head].split() == ["factor", "limit", "low", "high", "quasi-p"]
    row = lines[box_head + 1]  # safety > 0.3: no upper limit, a blank, not None or nan
    assert row.split()[:4] == ["safety", "safety", ">", row.split()[3]]
    assert "None" not in row and "nan" not in row.lower() and len(row.split()) == 6


def test_feature_score_bars_put_the_highest_on_top():
    found = an.discover(_mostly_expansive(), "expansive", threshold=0.95)
    fig = plot_feature_scores(found)
    ax = fig.axes[0]
    names = [tick.get_text() for tick in ax.get_yticklabels()]
    widths = [bar.get_width() for bar in ax.patches]
    assert names[-1] == "safety"  # the top bar (barh draws the first row at the bottom)
    assert widths == sorted(widths) and sum(widths) == pytest.approx(1)
