"""Scenario discovery (issue 14): PRIM, CART and feature scores on run tables whose truth is known.

The run tables are synthetic, so that the region where runs are expansive is
exactly what the test says and no model has to run: 2,000 runs of a Latin
hypercube in which a run is expansive (with 5% noise either way) iff
power_asymmetry < 0.9 and safety > 0.6, with three factors that do nothing.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from copsim import analysis as an
from copsim import discovery as ds
from copsim import report as rp
from copsim.cli import main
from copsim.sweep.storage import FORMAT

ROOT = Path(__file__).resolve().parents[1]
TRUE_POWER, TRUE_SAFETY = 0.9, 0.6


# ----------------------------------------------------------------------------- data
def lhs_runs(n: int = 2000, seed: int = 7) -> pd.DataFrame:
    """Expansive iff power_asymmetry < 0.9 and safety > 0.6 (95% inside, 3% outside)."""
    rng = np.random.default_rng(seed)
    power = rng.uniform(0, 3, n)
    safety = rng.uniform(0, 1, n)
    inside = (power < TRUE_POWER) & (safety > TRUE_SAFETY)
    expansive = np.where(inside, rng.random(n) < 0.95, rng.random(n) < 0.03)
    other = np.where(rng.random(n) < 0.5, "defensive", "stagnant")
    return pd.DataFrame(
        {
            "run": np.arange(n),
            "point": np.arange(n),
            "replicate": 0,
            "seed": rng.integers(0, 2**31, n),
            "status": pd.Categorical(["ok"] * n),
            "sample": np.arange(n),
            "power_asymmetry": power,
            "safety": safety,
            "identity_diversity": rng.uniform(0, 1, n),  # does nothing
            "contestation": rng.random(n) < 0.5,  # does nothing
            "n_spaces": rng.integers(1, 5, n),  # does nothing
            "turnover_rate": 0.05,  # constant: not a factor
            "expansiveness": np.clip(0.3 + 0.4 * expansive + 0.2 * rng.random(n), 0, 1),
            "defensiveness": rng.uniform(0, 0.6, n),
            "members": rng.integers(10, 30, n).astype(float),
            "label": pd.Categorical(np.where(expansive, "expansive", other)),
        }
    )


def grid_runs(reps: int = 20, seed: int = 3) -> pd.DataFrame:
    """A grid of levels: expansive iff n_spaces >= 3, power_asymmetry <= 1 and the
    organizing principle is 'challenge' (each with 3% noise)."""
    rng = np.random.default_rng(seed)
    rows = []
    for spaces in (1, 2, 3, 4):
        for power in (0.0, 1.0, 2.0):
            for principle in ("domain", "geography", "challenge"):
                for _ in range(reps):
                    hit = spaces >= 3 and power <= 1 and principle == "challenge"
                    yes = rng.random() < (0.97 if hit else 0.03)
                    rows.append(
                        {
                            "status": "ok",
                            "n_spaces": spaces,
                            "power_asymmetry": power,
                            "organizing_principle": principle,
                            "expansiveness": 0.7 if yes else 0.2,
                            "label": "expansive" if yes else "stagnant",
                        }
                    )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    return lhs_runs()


@pytest.fixture(scope="module")
def found(runs) -> ds.Discovery:
    # asking for 90% density: at 80% the box may take in some of the 3% noise around it
    return an.discover(runs, outcome="expansive", threshold=0.9)


def limit_of(result: ds.Discovery, factor: str) -> ds.Limit:
    (limit,) = [lim for lim in result.box.limits if lim.factor == factor]
    return limit


# ----------------------------------------------------------------------------- recovery
def test_prim_recovers_the_true_box_with_high_density(found, runs):
    assert found.factors == [
        "power_asymmetry",
        "safety",
        "identity_diversity",
        "contestation",
        "n_spaces",
    ]  # the varied Params fields, not ids, outcomes or the constant turnover_rate
    assert {lim.factor for lim in found.box.limits} == {"power_asymmetry", "safety"}
    power, safety = limit_of(found, "power_asymmetry"), limit_of(found, "safety")
    assert power.low is None and abs(power.high - TRUE_POWER) <= 0.15  # 5% of its range
    assert safety.high is None and abs(safety.low - TRUE_SAFETY) <= 0.05  # 5% of its range
    assert found.density >= 0.9
    assert found.coverage >= 0.7
    assert 0 < found.mass < 0.3
    assert found.base_rate == pytest.approx((runs["label"] == "expansive").mean())
    assert found.box.reached_threshold
    print(
        f"\nrecovered: {found.box.text}; density {found.density:.3f}, coverage "
        f"{found.coverage:.3f}, mass {found.mass:.3f}, base rate {found.base_rate:.3f}"
    )


def test_box_statistics_agree_with_the_runs_it_holds(found, runs):
    power, safety = limit_of(found, "power_asymmetry"), limit_of(found, "safety")
    inside = (runs["power_asymmetry"] <= power.high) & (runs["safety"] >= safety.low)
    cases = runs["label"] == "expansive"
    assert found.box.n == int(inside.sum())
    assert found.density == pytest.approx(cases[inside].mean())
    assert found.coverage == pytest.approx(cases[inside].sum() / cases.sum())
    assert found.mass == pytest.approx(inside.mean())


def test_peeling_trajectory_starts_from_everything_and_marks_the_box(found):
    traj = found.trajectory
    assert list(traj.columns[:5]) == ["step", "coverage", "density", "mass", "res_dim"]
    first = traj.iloc[0]
    assert first["coverage"] == 1 and first["mass"] == 1 and first["res_dim"] == 0
    assert first["density"] == pytest.approx(found.base_rate)
    assert traj["chosen"].sum() == 1
    chosen = traj[traj["chosen"]].iloc[0]
    assert chosen["density"] == pytest.approx(found.density)
    assert chosen["limits"] == found.box.text
    assert len(traj) > 10 and traj["density"].iloc[-1] > 0.8  # it peeled all the way


def test_summary_sentence_says_base_rate_box_density_and_coverage(found):
    text = found.summary()
    pattern = (
        r"^learning is expansive in (\d+)% of runs; in the box "
        r"(power_asymmetry < [\d.]+ and safety > [\d.]+) it is expansive in (\d+)% "
        r"\(coverage (\d+)%\)$"
    )
    match = re.match(pattern, text)
    assert match, text
    assert int(match.group(1)) == round(100 * found.base_rate)
    assert match.group(2) == found.box.text
    assert int(match.group(3)) == round(100 * found.density)
    assert int(match.group(4)) == round(100 * found.coverage)


def test_feature_scores_rank_the_two_real_factors_first(found):
    scores = found.feature_scores
    assert list(scores.columns) == ["rank", "factor", "score"]
    assert set(scores["factor"].head(2)) == {"power_asymmetry", "safety"}
    assert scores["score"].sum() == pytest.approx(1.0)
    noise = scores.set_index("factor").loc[["contestation", "n_spaces"], "score"]
    assert (noise < 0.1).all()


def test_cart_rules_name_both_factors_and_an_expansive_leaf(found):
    assert "power_asymmetry" in found.cart_rules and "safety" in found.cart_rules
    assert re.search(
        r"\|--- safety > 0\.\d+: expansive \(\d+ runs, 9\d% expansive\)", found.cart_rules
    )
    best = found.cart_leaves.iloc[0]
    assert best["predicts"] == "expansive" and best["density"] >= 0.8
    assert "power_asymmetry < " in best["rule"] and "safety > " in best["rule"]


def test_a_condition_over_outcomes_is_an_outcome_too(runs):
    condition = "expansiveness > 0.6 and not defensiveness >= 0.5"
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = an.discover(runs, condition, factors=["power_asymmetry", "safety"], threshold=0.7)
    assert not [w for w in seen if "ema_workbench" in w.filename]  # the library's own noise
    expected = (runs["expansiveness"] > 0.6) & ~(runs["defensiveness"] >= 0.5)
    assert result.base_rate == pytest.approx(expected.mean())
    assert result.summary().startswith(f"{condition} holds in ")
    assert result.factors == ["power_asymmetry", "safety"]
    assert json.loads(result.render("json"))["outcome"] == condition


def test_further_boxes_only_when_they_reach_the_threshold():
    # one true region: a second box among the runs the first leaves out is noise
    result = an.discover(lhs_runs(800), "expansive", threshold=0.9, max_boxes=3)
    assert len(result.boxes) == 1 and result.box.reached_threshold


def test_two_separate_regions_give_two_boxes():
    # Cases in two opposite corners: every edge peel cuts into one of them, so EMA's
    # default objective stalls at once; the 'original' objective peels through the dip.
    runs = lhs_runs(1200, seed=3)
    power, safety = runs["power_asymmetry"], runs["safety"]
    corners = ((power < 0.9) & (safety > 0.6)) | ((power > 2.4) & (safety < 0.25))
    noise = np.random.default_rng(5).random(len(runs)) < 0.97
    runs["label"] = pd.Categorical(np.where(corners & noise, "expansive", "stagnant"))
    result = an.discover(
        runs, "expansive", factors=["power_asymmetry", "safety"], threshold=0.9, max_boxes=3
    )
    assert result.objective == "original" and "'original' objective" in result.notes[0]
    assert len(result.boxes) == 2 and all(b.density >= 0.9 for b in result.boxes)
    first, second = ({lim.factor: lim for lim in b.limits} for b in result.boxes)
    assert abs(first["power_asymmetry"].high - 0.9) <= 0.15
    assert abs(first["safety"].low - 0.6) <= 0.05
    assert abs(second["power_asymmetry"].low - 2.4) <= 0.15
    assert abs(second["safety"].high - 0.25) <= 0.05
    assert result.boxes[0].coverage + result.boxes[1].coverage >= 0.9


def test_levels_and_names_read_as_levels():
    result = an.discover(grid_runs(), "expansive", threshold=0.9)
    texts = {lim.factor: lim.text for lim in result.box.limits}
    assert texts == {
        "n_spaces": "n_spaces >= 3",
        "power_asymmetry": "power_asymmetry <= 1",
        "organizing_principle": "organizing_principle = challenge",
    }
    assert result.density >= 0.9


# ----------------------------------------------------------------------------- conditions
ALLOWED = [
    ("expansiveness > 0.5", lambda f: f.expansiveness > 0.5),
    (
        "expansiveness >= 0.5 and not defensiveness > 0.2",
        lambda f: (f.expansiveness >= 0.5) & ~(f.defensiveness > 0.2),
    ),
    (
        "0.2 < expansiveness <= 0.6 or members == 20",
        lambda f: ((f.expansiveness > 0.2) & (f.expansiveness <= 0.6)) | (f.members == 20),
    ),
    ("(members != 20) and (defensiveness < -0.1 or 1e-1 < defensiveness)", None),
    ("not (expansiveness < 0.3 or defensiveness > 0.4)", None),
]


@pytest.mark.parametrize(("text", "truth"), ALLOWED)
def test_allowed_conditions_evaluate_like_pandas(text, truth):
    frame = pd.DataFrame(
        {
            "expansiveness": [0.1, 0.3, 0.5, 0.7, np.nan],
            "defensiveness": [0.5, -0.2, 0.1, 0.3, 0.1],
            "members": [20.0, 19.0, 20.0, 21.0, 20.0],
        }
    )
    condition = ds.parse_condition(text)
    got = condition.evaluate(frame)
    expected = frame.eval(text.replace("not ", "~")) if truth is None else truth(frame)
    present = frame[list(condition.columns)].notna().all(axis=1)
    assert got.tolist() == (expected.astype(bool) & present).tolist()
    assert not got[4]  # a run with a missing outcome is never a case


REFUSED = [
    "__import__('os')",
    "__import__('os').system('echo pwned') > 0",
    "expansiveness.real > 0",
    "abs(expansiveness) > 0.5",
    "print('ran') > 0",
    "expansiveness[0] > 1",
    "expansiveness + 1 > 2",
    "expansiveness > 'a'",
    "expansiveness > True",
    "expansiveness",
    "0.5 > 0.2",
    "expansiveness is None",
    "expansiveness in (1, 2)",
    "(expansiveness := 1) > 0",
    "[x for x in ()]",
    "lambda: 1",
    "expansiveness > 0.5; import os",
    "expansiveness >",
    "expansiveness > 0.5 if members else 0",
]


@pytest.mark.parametrize("text", REFUSED)
def test_conditions_outside_the_grammar_are_refused_before_anything_runs(text, capsys):
    with pytest.raises(ds.DiscoveryError, match=r"not allowed|not a valid condition"):
        ds.parse_condition(text)
    assert capsys.readouterr().out == ""  # print('ran') never ran


def test_unknown_outcomes_and_columns_are_named(runs):
    with pytest.raises(
        ds.DiscoveryError, match=r"unknown outcome 'expansiv'.*did you mean 'expansive'"
    ):
        ds.outcome_mask(runs, "expansiv")
    with pytest.raises(ds.DiscoveryError, match="did you mean 'expansiveness'"):
        ds.outcome_mask(runs, "expansivness > 0.5")
    with pytest.raises(ds.DiscoveryError, match="'safety' is a parameter"):
        ds.outcome_mask(runs, "safety > 0.5")
    with pytest.raises(ds.DiscoveryError, match=r"unknown factor 'safty'.*did you mean 'safety'"):
        an.discover(runs, "expansive", factors=["safty"])


def test_degenerate_inputs_say_why(runs):
    with pytest.raises(ds.NothingToDiscover, match="holds in none of the 2000 runs"):
        an.discover(runs, "dissolved")
    with pytest.raises(ds.NothingToDiscover, match="only 10 finished runs"):
        an.discover(runs.head(10), "expansive")
    with pytest.raises(ds.DiscoveryError, match="no factor varies"):
        an.discover(runs, "expansive", factors=["turnover_rate"])
    with pytest.raises(ds.DiscoveryError, match="threshold"):
        an.discover(runs, "expansive", threshold=1.5)


def block_extra(monkeypatch) -> None:
    """Make the optional extra unimportable, as on an install without it."""
    for name in list(sys.modules):
        if name == "ema_workbench" or name.startswith("ema_workbench."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "ema_workbench", None)


def test_missing_extra_names_what_to_install(runs, monkeypatch):
    block_extra(monkeypatch)
    with pytest.raises(ds.MissingExtraError, match=r"pip install 'copsim\[discover\]'"):
        an.discover(runs, "expansive")


# ----------------------------------------------------------------------------- command line
def results_folder(path: Path, runs: pd.DataFrame, meta: dict) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "manifest.json").write_text(json.dumps(meta))
    pq.write_table(pa.Table.from_pandas(runs, preserve_index=False), path / "runs.parquet")
    return path


def lhs_manifest(n: int) -> dict:
    ranges = {"power_asymmetry": [0, 3], "safety": [0, 1], "identity_diversity": [0, 1]}
    sampling = {"kind": "lhs", "samples": n, "n_rows": n, "ranges": ranges, "second_order": None}
    return {
        "format": FORMAT,
        "experiment": "discovery",
        "status": "complete",
        "config": {"report": {}},
        "resolved": {
            "factors": ["sample", *ranges],
            "levels": {},
            "sampling": sampling,
            "n_points": n,
            "replicates": 1,
            "n_runs": n,
            "root_seed": 1,
        },
        "counts": {"runs": n},
        "tables": {"runs": n},  # what a complete folder holds (its files, without checksums)
    }


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    runs = lhs_runs(600).drop(columns=["contestation", "n_spaces"])
    return results_folder(tmp_path_factory.mktemp("disc") / "lhs", runs, lhs_manifest(600))


def test_cli_prints_summary_box_tradeoff_and_scores(folder, capsys):
    assert main(["discover", str(folder), "--outcome", "expansive"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("learning is expansive in ")
    for part in ("Box 1 (PRIM", "Peeling trajectory", "CART tree", "Feature scores"):
        assert part in out
    assert (
        main(["discover", str(folder), "--factors", "power_asymmetry,safety", "--format", "json"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["factors"] == ["power_asymmetry", "safety"]
    assert data["boxes"][0]["density"] >= 0.8 and data["threshold"] == 0.8
    steps = pd.DataFrame(data["trajectory"])
    assert {"coverage", "density", "mass", "res_dim", "limits", "chosen"} <= set(steps)
    # the box kept: the most coverage at that density (ties: fewer factors, then denser)
    dense = steps[steps["density"] >= 0.8].sort_values(
        ["coverage", "res_dim", "density"], ascending=[False, True, False], kind="stable"
    )
    assert data["boxes"][0]["step"] == int(dense["step"].iloc[0])
    best = steps.loc[steps["density"] >= 0.8, "coverage"].max()
    assert data["boxes"][0]["coverage"] == pytest.approx(best)
    assert main(["discover", str(folder), "--threshold", "0.95", "--format", "md"]) == 0
    md = capsys.readouterr().out
    assert "## Box 1 (PRIM" in md and "| factor | limit |" in md and "```" in md


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outcome", "expansiv"], "unknown outcome 'expansiv'"),
        (["--outcome", "__import__('os').system('echo pwned') > 0"], "not allowed in a condition"),
        (["--outcome", "expansivness > 0.5"], "unknown outcome column 'expansivness'"),
        (["--outcome", "expansiveness > 0.5 and"], "not a valid condition"),
        (["--factors", "safety,nope"], "unknown factor 'nope'"),
        (["--threshold", "2"], "threshold must be in (0, 1]"),
    ],
)
def test_cli_bad_input_exits_2_with_a_message(folder, args, message, capfd):
    assert main(["discover", str(folder), *args]) == 2
    captured = capfd.readouterr()  # file descriptors: an os.system echo would show here
    assert message in captured.err and "Traceback" not in captured.err
    assert captured.out == ""


def test_cli_missing_folder_exits_2_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "copsim.cli", "discover", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "not a results folder" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_folder_that_is_not_copsims_exits_2(tmp_path, capsys):
    (tmp_path / "manifest.json").write_text('{"hello": "world"}')
    assert main(["discover", str(tmp_path)]) == 2
    assert "is not a copsim manifest" in capsys.readouterr().err


def test_cli_outcome_that_never_happens_exits_1(folder, capsys):
    assert main(["discover", str(folder), "--outcome", "dissolved"]) == 1
    assert "holds in none of the 600 runs" in capsys.readouterr().err


# ----------------------------------------------------------------------------- report
def test_report_of_a_multi_factor_design_has_the_discovery_section(folder):
    results = an.load(folder)
    report = rp.build_report(results)
    (section,) = [
        s for s in report.sections if s.title == "Which conditions make learning expansive?"
    ]
    assert section.text[0].startswith("Learning is expansive in ")
    assert "in the box power_asymmetry < " in section.text[0]
    captions = [caption for caption, _ in section.tables]
    assert captions == ["The box (PRIM)", "Feature scores (extra trees; they sum to 1)"]
    box = section.tables[0][1]
    assert set(box["factor"]) == {"power_asymmetry", "safety"}
    assert report.figures["discovery_tradeoff"].startswith(b"\x89PNG")
    assert ("discovery_tradeoff" in rp.render_markdown(report)) and (
        "Which conditions make learning expansive?" in rp.render_html(report)
    )


def test_report_asks_for_more_density_when_the_outcome_is_already_common(tmp_path):
    """With 87% of runs expansive a box at 80% would be the whole space: the report asks
    for halfway to 1 and finds where expansive runs are commoner still (safety > 0.3)."""
    rng = np.random.default_rng(11)
    runs = lhs_runs(1500)
    inside = runs["safety"].to_numpy() > 0.3
    hit = np.where(inside, rng.random(len(runs)) < 0.99, rng.random(len(runs)) < 0.6)
    runs["label"] = pd.Categorical(np.where(hit, "expansive", "stagnant"))
    base = float(hit.mean())
    assert base > 0.8
    assert rp.discovery_threshold(base) == round(base + (1 - base) / 2, 2)
    assert rp.discovery_threshold(0.3) == rp.DISCOVERY_DENSITY
    section = rp.discovery_section(an.Results(tmp_path, runs, manifest=lhs_manifest(1500)), {})
    assert "so the box is asked for" in " ".join(section.text)
    box = section.tables[0][1]
    assert "safety" in set(box["factor"])
    low = float(box.loc[box["factor"] == "safety", "low"].iloc[0])
    assert 0.2 < low < 0.4


def test_report_skips_discovery_in_one_line_when_runs_are_few_or_the_extra_is_missing(
    tmp_path, monkeypatch
):
    few = an.Results(tmp_path, lhs_runs(30), manifest=lhs_manifest(30))
    section = rp.discovery_section(few, {})
    assert section.text == [
        "Skipped: scenario discovery needs at least 50 finished runs; there are 30."
    ]
    block_extra(monkeypatch)
    many = an.Results(tmp_path, lhs_runs(200), manifest=lhs_manifest(200))
    figures: dict = {}
    section = rp.discovery_section(many, figures)
    assert len(section.text) == 1 and "pip install 'copsim[discover]'" in section.text[0]
    assert not section.tables and not figures


def test_report_has_no_discovery_section_for_a_one_factor_design(tmp_path):
    meta = lhs_manifest(100)
    meta["resolved"]["sampling"]["ranges"] = {"safety": [0, 1]}
    results = an.Results(tmp_path, lhs_runs(100), manifest=meta)
    assert rp.discovery_section(results, {}) is None


def test_core_import_stays_light():
    code = (
        "import sys, copsim.analysis, copsim.report, copsim.cli; "
        "print(any(m.split('.')[0] in ('ema_workbench', 'sklearn') for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.stdout.strip() == "False", out.stderr


def test_flags_and_names_are_levels_but_a_zero_one_grid_stays_numeric():
    frame = pd.DataFrame(
        {
            "shock_severity": [0.0, 1.0, 1.0, np.nan],  # 1.0 == True, yet a number
            "contestation": [True, False, True, True],
            "shock_kind": ["cut", None, "stop", "cut"],
        }
    )
    x = ds._factor_frame(frame, list(frame))
    assert x["shock_severity"].dtype == np.float64
    assert list(x["contestation"].cat.categories) == ["False", "True"]
    assert list(x["shock_kind"].cat.categories) == ["cut", "stop"]
    assert x["shock_kind"].isna().tolist() == [False, True, False, False]  # not the text 'nan'
