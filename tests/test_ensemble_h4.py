"""Ensemble = each run alone, bit for bit, for participation, legitimacy, agendas and
funding (issue 12, helper h4).

Five runs with different seeds and different values of every varying parameter these
stages read (0 and extremes included), N = 40 slots, S = 3 spaces, run through
funding, participation, acting, legitimacy, agendas and survival in schedule order
(with ``resource_budgets`` on, agenda-setting calls ``resources.spend_capital``).

``population.power_weights`` is given a *scalar* asymmetry in a run alone and a
per-slot array in an ensemble; numpy computes ``x ** 0.5``, ``x ** 2`` and ``x ** -1``
with a scalar exponent by sqrt / square / reciprocal, which differ in the last bit
from the elementwise ``pow``, so it always raises to a full-array exponent
(``test_power_weights_...`` checks it).
"""

from __future__ import annotations

import numpy as np
import pytest

from copsim import Params, initialization, measures
from copsim import population as pop
from copsim.draws import run_key
from copsim.layout import Layout
from copsim.submodels import acting, agendas, funding, legitimacy, participation
from ensemble_check import assert_same, build_both, run_stage

SEEDS = [3, 11, 29, 41, 97]
#: One list of K values per varying parameter (0 and the extremes where allowed).
VARYING = {
    "participation_adaptation": [0.0, 0.2, 1.0, 0.5, 0.05],
    "legitimacy_adaptation": [0.2, 0.0, 1.0, 0.7, 0.1],
    "identity_weight": [0.0, 0.6, 1.0, 0.3, 0.9],
    "power_asymmetry": [0.0, 0.5, 10.0, 2.0, 1.0],
    "purpose_drift": [0.0, 0.02, 1.0, 0.3, 0.1],
    "agenda_adaptation": [0.2, 0.0, 1.0, 0.5, 0.9],
    "agenda_capital_cost": [0.0, 0.1, 1.0, 0.5, 0.3],
    "role_play_identity_weight": [0.3, 0.0, 1.0, 0.5, 0.7],
    "self_funding": [0.0, 0.15, 1.0, 0.5, 0.3],
    "funding_level": [1.0, 0.0, 10.0, 0.3, 0.7],
    "shock_severity": [0.6, 0.0, 1.0, 0.3, 0.9],
    "random_shock_rate": [0.0, 0.5, 1.0, 0.2, 0.0],
}
SHARED = dict(n_practitioners=40, n_spaces=3, n_dimensions=12, memberships_per_practitioner=1.5)

#: Shared switches: each combination is one ensemble (runs must share them).
VARIANTS = {
    "defaults-wander": {},
    "mix-data-roleplay": dict(
        purpose_drift_mode="mix",
        conversation_as_data=True,
        role_play=True,
        role_play_start=2,
        role_play_duration=3,
    ),
    "wander-data-no-lpp": dict(conversation_as_data=True, lpp_trajectory=False),
    "no-power-channels": dict(
        conversation_as_data=True,
        power_in_legitimacy=False,
        power_in_agenda=False,
        shock_kind="delay",
        shock_time=3,
        shock_duration=2,
    ),
    "no-budgets-no-funding": dict(conversation_as_data=True, resource_budgets=False, funding=False),
}


def _scalar_and_array_exponents_agree(fn) -> bool:
    layout = Layout(1, 4000, 1, 1)
    power = np.random.default_rng(0).uniform(0.05, 1.0, layout.n_slots)
    present = np.ones(layout.n_slots, dtype=bool)
    return all(
        np.array_equal(fn(layout, power, present, a), fn(layout, power, present, np.full(4000, a)))
        for a in (0.5, 2.0, -1.0, 1.7)
    )


def test_power_weights_give_the_same_bits_for_a_scalar_and_a_per_slot_exponent():
    """numpy's scalar fast paths (sqrt, square, reciprocal) differ in the last bit
    from pow; a run alone (shared asymmetry) must match the same run in an ensemble."""
    assert _scalar_and_array_exponents_agree(pop.power_weights)


STAGES = (
    funding.step,
    participation.step,
    acting.step,
    legitimacy.step,
    agendas.step,
    funding.survive,
)


def _params(**switches) -> list[Params]:
    return [
        Params(**SHARED, **switches, **{name: v[k] for name, v in VARYING.items()})
        for k in range(len(SEEDS))
    ]


def _run(switches: dict, periods: int = 7):
    ens, alone = build_both(_params(**switches), SEEDS)
    for step in range(1, periods + 1):
        for stage in STAGES:
            run_stage(stage, [ens, *alone], step)
    return ens, alone


@pytest.mark.parametrize("name", list(VARIANTS))
def test_stages_in_an_ensemble_equal_each_run_alone(name):
    ens, alone = _run(VARIANTS[name])
    assert ens.runs == 5 and ens.layout.slots == 40 and ens.layout.spaces == 3
    assert_same(ens, alone)


@pytest.mark.parametrize("name", ["defaults-wander", "no-power-channels"])
def test_measures_are_per_run_and_equal_each_run_alone(name):
    ens, alone = _run(VARIANTS[name])
    got = {}
    for module in (participation, funding):
        got.update(module.measures(ens, measures.shared_basis(ens)))
    assert "periphery_share_tenured" in got  # lpp_trajectory is on by default
    for k, single in enumerate(alone):
        want = {}
        for module in (participation, funding):
            want.update(module.measures(single, measures.shared_basis(single)))
        assert got.keys() == want.keys()
        for key, values in got.items():
            assert values.shape == (5,) and values.dtype == np.float64, key
            assert want[key].shape == (1,)
            assert np.array_equal(values[k], want[key][0], equal_nan=True), (k, key)


def test_runs_without_drift_keep_their_purposes():
    """purpose_drift 0 in run 0: its purposes never move (wander would otherwise pull
    them back toward the own purpose), while the others drift."""
    ens, _ = build_both(_params(), SEEDS)
    before = ens.layout.by_run(ens.people.purpose.copy())
    run_stage(agendas.step, [ens], 1)
    after = ens.layout.by_run(ens.people.purpose)
    assert np.array_equal(after[0], before[0])
    assert all(not np.array_equal(after[k], before[k]) for k in range(1, 5))
    assert np.allclose(after.sum(axis=2), 1.0)


def test_compact_keeps_the_walk_centres_of_the_runs_kept():
    ens, alone = _run(VARIANTS["defaults-wander"], periods=3)
    runs = np.array([1, 3, 4])
    lay = ens.layout
    slots = (runs[:, None] * lay.slots + np.arange(lay.slots)).reshape(-1)
    spaces = (runs[:, None] * lay.spaces + np.arange(lay.spaces)).reshape(-1)
    agendas.compact(ens, runs, slots, spaces)
    kept = ens.own["agendas"].reshape(3, lay.slots, -1)
    for i, k in enumerate(runs):
        assert np.array_equal(kept[i], alone[k].own["agendas"])


def _mean_cosine(purpose: np.ndarray) -> np.ndarray:
    """(K,) mean pairwise cosine of each run's purposes ((K, N, T) in)."""
    unit = purpose / np.linalg.norm(purpose, axis=2, keepdims=True)
    k = unit.shape[1]
    return (np.einsum("rij,rkj->rik", unit, unit).sum(axis=(1, 2)) - k) / (k * (k - 1))


@pytest.mark.parametrize("mode", ["wander", "mix"])
def test_drift_keeps_its_mechanism_in_an_ensemble_of_50_seeds(mode):
    """The periphery test's claim (tests/test_periphery.py), on one ensemble of 50 runs,
    100 periods of drift alone: *wander* keeps the spread of purposes (mean pairwise
    cosine within 0.02 of its start) while purposes move (L1 > 0.1); *mix* converges
    (the cosine rises by more than 0.15)."""
    c = initialization.build(Params(purpose_drift_mode=mode), [run_key(s) for s in range(50)])
    first = c.layout.by_run(c.people.purpose.copy())
    for step in range(1, 101):
        run_stage(agendas.step, [c], step)
    now = c.layout.by_run(c.people.purpose)
    start, end = _mean_cosine(first).mean(), _mean_cosine(now).mean()
    if mode == "wander":
        assert abs(end - start) < 0.02
        assert np.abs(now - first).sum(axis=2).mean() > 0.1
    else:
        assert end > start + 0.15
