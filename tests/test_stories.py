"""experiments/stories.py: the story checks run, pair their arms and write their table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "stories.py"


@pytest.fixture(scope="module")
def stories():
    spec = importlib.util.spec_from_file_location("stories", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["stories"] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


def test_every_comparison_names_arms_of_its_story(stories):
    for story in stories.STORIES.values():
        for comp in story.comparisons:
            assert {comp.control, comp.treatment} <= set(story.arms)
            assert comp.direction in (-1, 1) and comp.outcomes


def test_a_small_bindura_check_pairs_seeds_and_reads_the_widows(stories):
    values = stories.run(["bindura_eag"], seeds=3, new=True, workers=1, steps=12)
    assert len(values) == 15
    assert set(values["arm"]) == {"none", "safe", "unsafe", "none_unsafe", "simple_rule"}
    assert (values[values["arm"] == "none"]["contests"] == 0).all()
    shares = values["excluded_core_share"]  # undefined (NaN) once no widow is left
    assert shares.notna().any() and shares.dropna().between(0, 1).all()
    table = stories.summarize(values, ["bindura_eag"], new=True)
    assert set(table["comparison"]) == {
        "safe_vs_none",
        "unsafe_vs_none",
        "safe_vs_unsafe",
        "unsafe_vs_none_unsafe",
        "bindura_vs_simple_rule",
    }
    assert table["unfolds"].between(0, 1).all() and (table["model"] == "new").all()
    assert (table["ci_low"] <= table["mean_difference"]).all()


def test_the_shipped_preset_carries_the_widows_and_the_csv_keeps_other_rows(stories, tmp_path):
    out = tmp_path / "stories.csv"
    args = ["--seeds", "2", "--steps", "8", "--story", "bindura_eag", "--out", str(out)]
    stories.main(args)
    stories.main([*args, "--new"])
    table = pd.read_csv(out)
    assert set(table["model"]) == {"old", "new"}
    old = table[table["model"] == "old"]
    # the shipped bindura_eag preset now carries its story's actors (the widows), so
    # the run without --new reads them too, and both runs' rows are kept
    assert "excluded_inclusion" in set(old["outcome"])
    assert "bindura_vs_simple_rule" in set(old["comparison"])
