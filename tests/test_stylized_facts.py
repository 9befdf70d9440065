"""Stylized facts 1-9 at a small scale, and the machinery that tests them.

The definitions (arms, outcome, claimed direction) are those of
:mod:`copsim.facts`, shared with ``experiments/stylized_facts.py``.  Here each
fact runs on a smaller community and a shorter horizon (40 practitioners, 50
periods; 60 for the funding shock at period 40, 30 for the role play in periods
10-29) with few paired seeds; a claim passes when the mean paired difference
lies more than two standard errors on the claimed side of 0.  The seeds per
fact come from ``experiments/fact_test_scale.py`` (40 seeds at this scale): with
them every asserted difference lies at least 3.5 standard errors from 0.

Asserted: the claims that hold with 200 seeds at the default scale (README and
ODD II.9) and whose effect at this scale is large enough for this file's budget
(at most 48 seeds).  Not asserted: the claims that do not hold at the default
scale (1c, 2b, 4a, 4c, 5a, 6c, 8b, 8c), and the small but holding 3a, 5c and 9b,
which would need 76-655 seeds here; the experiment covers them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from copsim.facts import (
    FACTS,
    Arm,
    Comparison,
    Measure,
    comparisons,
    paired_difference,
    run_facts,
    settling_step,
    summarize,
)
from copsim.params import Params

pytestmark = pytest.mark.slow

#: The small scale of these checks (the experiment uses the defaults: 50 and 100).
SCALE = {"n_practitioners": 40, "max_steps": 50}
#: Paired seeds per fact, from the effect sizes at this scale (fact_test_scale.py).
SEEDS = {1: 12, 2: 22, 3: 40, 4: 9, 5: 36, 6: 28, 7: 8, 8: 8, 9: 9}
#: Horizons other than SCALE's: the shock strikes at 40 and is measured from 45;
#: role play is measured over periods 10-29 (the same values as in longer runs).
HORIZON = {3: 60, 8: 30}
#: Comparisons of copsim.facts asserted as defined there.
ASSERTED = ("1a", "1b", "2a", "2c", "3b", "3c", "3d", "4b", "4d", "5b", "5d", "6a", "6b")
ASSERTED += ("7a", "7b")
ASSERTED += ("8a", "9a")


def chosen() -> list[Comparison]:
    """The asserted comparisons, at the horizon each needs."""
    by_key = {c.key: c for c in comparisons()}
    out = [by_key[k] for k in ASSERTED]
    return [c.with_overrides(max_steps=HORIZON[c.fact]) if c.fact in HORIZON else c for c in out]


@pytest.fixture(scope="module")
def pairs() -> pd.DataFrame:
    """Every asserted comparison on its paired seeds (two worker processes)."""
    return run_facts(chosen(), SEEDS, workers=2, base=SCALE)


def check(pairs: pd.DataFrame, key: str) -> None:
    """Assert that comparison ``key`` moves in its claimed direction by > 2 SE."""
    c = next(c for c in chosen() if c.key == key)
    sub = pairs[pairs["key"] == key].sort_values("replicate")
    r = paired_difference(sub["control"], sub["treatment"], c.direction)
    assert r.n == SEEDS[c.fact]
    assert c.direction * r.mean_difference > 2.0 * r.se, (
        f"{key} ({c.measure.describe()}, {c.arms()}): mean difference "
        f"{r.mean_difference:+.4f}, SE {r.se:.4f}, claimed "
        f"{'higher' if c.direction > 0 else 'lower'}"
    )


# --------------------------------------------------------------------------- the facts
def test_fact1_power_asymmetry_lowers_expansiveness(pairs):
    """Asymmetry 0 -> 3: defensiveness rises a little (1a) and expansiveness falls
    (1b).  Inclusion (1c, +0.019: the wrong way) does not hold with 200 seeds at the
    default scale and is not asserted."""
    check(pairs, "1a")
    check(pairs, "1b")


def test_fact2_diversity_helps_safe_spaces_and_hurts_unsafe_participation(pairs):
    """Identity diversity 0.1 -> 0.9: at safety 0.9 expansiveness rises; at safety 0.2
    mean participation over the run falls."""
    check(pairs, "2a")
    check(pairs, "2c")


def test_fact3_funding_cut_and_recovery_with_own_resources(pairs):
    """An 80% cut at period 40 leaves fewer members; with the cut, members' own money
    (self_funding 0 -> 0.8) keeps more of them and their participation.  The fall in
    participation after the cut (3a) holds at the default scale but is too small for
    this file's budget."""
    check(pairs, "3b")
    check(pairs, "3c")
    check(pairs, "3d")


def test_fact4_too_much_turnover_destroys(pairs):
    """Turnover 0.03 beats 0.3 on expansiveness and code knowledge (4b, 4d).  The rise
    from no turnover (4a, 4c) does not hold at the default scale."""
    check(pairs, "4b")
    check(pairs, "4d")


def test_fact5_reification_speeds_convergence(pairs):
    """Reification rate 0.005 -> 0.1: half of all repertoire changes happen sooner and
    the final repertoire knows less.  More defensive outcomes (5a) do not hold."""
    check(pairs, "5b")
    check(pairs, "5d")


def test_fact6_contestation_in_safe_spaces_moves_the_edge_to_the_core(pairs):
    """Contesters are core more often in safe spaces (6a), and in a safe space
    contestation raises the inclusion of everyone who started at the edge (6b).  In
    an unsafe space it raises inclusion too (6c does not hold) and is not asserted."""
    check(pairs, "6a")
    check(pairs, "6b")


def test_fact7_shared_challenge_engages_more(pairs):
    """Organizing by challenge beats domain and geography on mutual engagement."""
    check(pairs, "7a")
    check(pairs, "7b")


def test_fact8_role_play_raises_cross_identity_exchange(pairs):
    """Role play in periods 10-29 raises cross-identity exchange in that window.  Its
    effect on expansiveness, at the end of the run (8b) or of the window (8c), does not
    hold and is not asserted."""
    check(pairs, "8a")


def test_fact9_conversation_as_data_aligns_purposes(pairs):
    """Conversation as data raises final purpose alignment.  Retention (9b) holds at the
    default scale but is too small an effect for this file's budget."""
    check(pairs, "9a")


# --------------------------------------------------------------------------- machinery
def test_both_arms_of_a_replicate_share_the_seed():
    """Two arms with the same parameters give identical values on every replicate,
    and different replicates give different values."""
    same = Arm.of("a", safety=0.5)
    twin = Arm.of("b", safety=0.5)
    c = Comparison(1, "t", "same", same, twin, Measure("code_knowledge", "mean"), +1)
    values = run_facts([c], 4, base={"n_practitioners": 12, "max_steps": 8})
    assert np.array_equal(values["control"], values["treatment"])
    assert values["control"].nunique() > 1


def test_results_do_not_depend_on_workers(pairs):
    """A few pairs recomputed in this process equal those from the worker pool."""
    c = next(c for c in chosen() if c.key == "9a")
    again = run_facts([c], 2, workers=1, base=SCALE)
    pooled = pairs[pairs["key"] == "9a"].sort_values("replicate").head(2)
    assert np.array_equal(again["control"].to_numpy(), pooled["control"].to_numpy())
    assert np.array_equal(again["treatment"].to_numpy(), pooled["treatment"].to_numpy())


def test_paired_difference_known_values():
    control = np.zeros(4)
    treatment = np.array([1.0, 2.0, 3.0, 4.0])
    up = paired_difference(control, treatment, +1)
    se = np.std(treatment, ddof=1) / 2.0
    assert up.mean_difference == pytest.approx(2.5)
    assert up.se == pytest.approx(se)
    assert up.ci_low == pytest.approx(2.5 - 3.182446305 * se, rel=1e-6)
    assert up.ci_high == pytest.approx(2.5 + 3.182446305 * se, rel=1e-6)
    assert up.holds
    assert not paired_difference(control, treatment, -1).holds


def test_paired_difference_needs_the_interval_to_exclude_zero():
    control = np.zeros(5)
    treatment = np.array([-1.0, 1.0, -0.5, 0.5, 0.2])
    r = paired_difference(control, treatment, +1)
    assert r.ci_low < 0 < r.ci_high
    assert not r.holds
    assert not paired_difference(control, treatment, -1).holds


def test_paired_difference_rejects_bad_input():
    with pytest.raises(ValueError):
        paired_difference([1.0], [2.0], +1)
    with pytest.raises(ValueError):
        paired_difference([1.0, 2.0], [1.0, 2.0, 3.0], +1)
    with pytest.raises(ValueError):
        paired_difference([1.0, 2.0], [2.0, 3.0], 0)


def test_measures_reduce_series():
    series = [0.0, 1.0, 2.0, 3.0]  # rows: start, after periods 1-3; the run stopped early
    assert Measure("x").apply(series, 5) == 3.0  # a stopped run keeps its last value
    assert Measure("x", "mean").apply(series, 3) == pytest.approx(2.0)
    assert Measure("x", "mean", start=2, stop=4).apply(series, 3) == pytest.approx(2.5)
    # padded to [0, 1, 2, 3, 3, 3]: periods 2-5 average (2 + 3 + 3 + 3) / 4
    assert Measure("x", "mean", start=2).apply(series, 5) == pytest.approx(2.75)
    changes = [0.0, 4.0, 0.0, 2.0, 2.0, 0.0]
    assert Measure("x", "settle", share=0.5).apply(changes, 5) == 1.0
    assert Measure("x", "settle", share=1.0).apply(changes, 5) == 4.0
    assert settling_step(np.zeros(4), 0.5) == 0.0


def test_fact_definitions_are_well_formed():
    assert sorted(FACTS) == list(range(1, 10))
    keys = [c.key for c in comparisons()]
    assert len(keys) == len(set(keys))
    for c in comparisons():
        assert c.direction in (-1, 1)
        assert c.key.startswith(str(c.fact))
        assert c.control.overrides != c.treatment.overrides
        assert c.measure.metric in _metric_names()
        c.control.params()  # both arms are valid parameter sets
        c.treatment.params()
    with pytest.raises(ValueError, match="unknown stylized fact"):
        comparisons([11])


def test_summary_table_columns_and_verdicts():
    c = Comparison(1, "z", "claim", Arm.of("a"), Arm.of("b", safety=0.1), Measure("m"), -1)
    values = pd.DataFrame(
        {
            "key": "z",
            "replicate": range(5),
            "control": [1.0, 1.1, 0.9, 1.0, 1.2],
            "treatment": [0.5, 0.6, 0.4, 0.6, 0.5],
        }
    )
    table = summarize([c], values)
    row = table.iloc[0]
    assert row["holds"] == "yes"
    assert row["direction"] == "lower"
    assert row["n_pairs"] == 5
    assert row["mean_difference"] == pytest.approx(-0.52)
    assert row["ci_low"] < row["mean_difference"] < row["ci_high"] < 0


def _metric_names() -> set[str]:
    from copsim.model import CoPModel

    return set(CoPModel(Params(n_practitioners=6, max_steps=1), rng=0).metrics)
