"""The knowledge core reproduces March (1991) Figure 1 and its qualitative claims.

Reference values: the recreation of March's original program (Rodan 2005,
Christensen 2015 steps), 10,000 runs per cell; equilibrium code knowledge.
Each check allows 4.5 standard errors of our own estimate plus the
reference's own sampling error (about 0.002).
"""

import numpy as np
import pytest

from copsim import knowledge as kn
from copsim.march import MarchSetting, simulate

FIGURE1 = {  # (p1, p2): mean equilibrium code knowledge
    (0.1, 0.5): 0.9543,
    (0.5, 0.5): 0.8106,
    (0.9, 0.5): 0.7421,
    (0.1, 0.9): 0.9724,
    (0.9, 0.9): 0.7284,
    (0.1, 0.1): 0.8633,
}
RUNS = 1500


def cell(setting, runs=RUNS, seed=11):
    x = simulate(setting, runs, seed)["code_knowledge"]
    return x.mean(), x.std(ddof=1) / np.sqrt(runs)


@pytest.mark.slow
@pytest.mark.parametrize("p1,p2", sorted(FIGURE1))
def test_figure1_values(p1, p2):
    mean, se = cell(MarchSetting(p1=p1, p2=p2))
    assert abs(mean - FIGURE1[p1, p2]) < 4.5 * se + 0.004


def _jump_socialize(beliefs, target, rate, rng):
    """The non-gradual reading of rule 3: beliefs jump straight to the code."""
    target = np.broadcast_to(target, beliefs.shape)
    pull = (beliefs != target) & (target != 0)
    moved = pull & kn.bernoulli(rng, rate, beliefs.shape)
    beliefs[moved] = target[moved]
    return int(moved.sum())


@pytest.mark.slow
def test_dropping_gradual_socialization_is_caught(monkeypatch):
    monkeypatch.setattr(kn, "socialize", _jump_socialize)
    # fast socialization shows it best: about 0.68 instead of 0.73
    mean, se = cell(MarchSetting(p1=0.9, p2=0.9), runs=1000)
    assert abs(mean - FIGURE1[0.9, 0.9]) > 4.5 * se + 0.004


@pytest.mark.slow
def test_knowledge_falls_with_socialization_rate_when_code_learns_fast():
    for p2 in (0.5, 0.9):
        slow, se_slow = cell(MarchSetting(p1=0.1, p2=p2), runs=600)
        fast, se_fast = cell(MarchSetting(p1=0.9, p2=p2), runs=600)
        assert slow - fast > 4 * np.hypot(se_slow, se_fast)


@pytest.mark.slow
def test_mixed_learners_beat_homogeneous_at_same_mean_rate():
    homogeneous, se_h = cell(MarchSetting(p1=0.5, p2=0.5), runs=800)
    mixed, se_m = cell(MarchSetting(p1=0.9, p1_slow=0.1, slow_share=0.5, p2=0.5), runs=800)
    assert mixed - homogeneous > 4 * np.hypot(se_h, se_m)


@pytest.mark.slow
def test_turnover_helps_under_turbulence():
    still, se_s = cell(MarchSetting(p1=0.5, p2=0.5, p3=0.0, p4=0.02), runs=600)
    renewed, se_r = cell(MarchSetting(p1=0.5, p2=0.5, p3=0.1, p4=0.02), runs=600)
    assert renewed - still > 4 * np.hypot(se_s, se_r)


def test_batches_are_the_unit_of_reproducibility():
    s = MarchSetting(p1=0.3, p2=0.5)
    a = simulate(s, 250, 5, batch_size=100)
    b = simulate(s, 250, 5, batch_size=100)
    for key in a:
        assert np.array_equal(a[key], b[key])
    # batches are independent of each other: the first batch alone is the same
    first = simulate(s, 100, 5, batch_size=100)
    assert np.array_equal(first["code_knowledge"], a["code_knowledge"][:100])
    assert not np.array_equal(a["code_knowledge"][:100], a["code_knowledge"][100:200])


def test_closed_runs_stop_at_equilibrium_open_runs_at_horizon():
    closed = simulate(MarchSetting(p1=0.9, p2=0.9), 50, 1)
    assert closed["periods"].max() < 10_000
    open_ = simulate(MarchSetting(p1=0.5, p2=0.5, p4=0.01, horizon=37), 50, 1)
    assert np.all(open_["periods"] == 37)
