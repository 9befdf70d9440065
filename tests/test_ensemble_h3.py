"""Ensemble bit-identity for membership, resources, turbulence, reification and
March's core (issue 12): run k of an ensemble equals the same run built alone.

Each test builds K runs with different seeds and different values of the
varying parameters these modules read (0 and extremes included), runs the
stages in schedule order for several periods, and compares every run's whole
state (and the modules' measures) with the run alone.
"""

from __future__ import annotations

import numpy as np
import pytest

from copsim import Params
from copsim.submodels import (
    acting,
    funding,
    march_core,
    membership,
    reification,
    resources,
    turbulence,
)
from ensemble_check import assert_same, build_both, run_stage

SEEDS = [11, 22, 33, 44, 55]
SHAPE = dict(n_practitioners=40, n_spaces=3, n_dimensions=12)
VARYING = [
    dict(
        exit_rate=0.0,
        shock_exit_rate=0.0,
        entry_rate=0.0,
        permeability=0.0,
        turbulence_rate=0.0,
        reification_rate=0.0,
        time_cost=0.0,
        time_recovery=0.0,
        capital_recovery=0.0,
        conditionality=0.0,
        shock_severity=0.0,
    ),
    dict(
        exit_rate=1.0,
        shock_exit_rate=1.0,
        entry_rate=1.0,
        permeability=1.0,
        turbulence_rate=1.0,
        reification_rate=1.0,
        time_cost=1.0,
        time_recovery=1.0,
        capital_recovery=1.0,
        conditionality=1.0,
        shock_severity=1.0,
    ),
    dict(
        exit_rate=0.05,
        shock_exit_rate=0.5,
        entry_rate=0.5,
        permeability=0.5,
        turbulence_rate=0.1,
        reification_rate=0.3,
        time_cost=0.3,
        time_recovery=0.5,
        capital_recovery=0.1,
        conditionality=0.5,
        shock_severity=0.7,
    ),
    dict(
        exit_rate=0.2,
        shock_exit_rate=0.2,
        entry_rate=0.9,
        permeability=0.8,
        turbulence_rate=0.02,
        reification_rate=0.05,
        time_cost=0.6,
        time_recovery=0.2,
        capital_recovery=0.7,
        conditionality=0.2,
        shock_severity=0.3,
    ),
    dict(
        exit_rate=0.01,
        shock_exit_rate=0.9,
        entry_rate=0.3,
        permeability=0.2,
        turbulence_rate=0.5,
        reification_rate=0.9,
        time_cost=0.1,
        time_recovery=0.9,
        capital_recovery=0.4,
        conditionality=0.9,
        shock_severity=0.5,
    ),
]


def social(**shared) -> list[Params]:
    common = dict(
        SHAPE,
        shock_kind="cut",
        shock_time=2,
        resource_budgets=True,
        reification=True,
        funding=True,
        turnover_rate=0.1,
        **shared,
    )
    return [Params(**common, **v) for v in VARYING]


def repertoire_stand_in(c) -> None:
    """The repertoire stage is another helper's: a keyed stand-in for its ``changed``."""
    c.period.changed = np.floor(c.u_spaces("test.changed") * c.layout.dims).astype(np.int64)


def spending_stand_in(c) -> None:
    """Contestation and agenda-setting are other helpers': present members spend a
    keyed amount of capital, the odd local slots twice (per-slot amounts)."""
    here = np.flatnonzero(c.people.present)
    odd = here[c.layout.local_slots(here) % 2 == 1]
    who = np.sort(np.concatenate([here, odd]), kind="stable")
    amount = 0.3 * c.u_slots("test.spend", who)
    resources.spend_capital(c, who, amount)


SOCIAL_STAGES = (
    membership.turnover,
    turbulence.step,
    funding.step,
    resources.step,
    spending_stand_in,
    acting.step,
    repertoire_stand_in,
    reification.step,
    membership.step,
)


def run_social(params, periods=7, no_own_permeability=False):
    ens, alone = build_both(params, SEEDS)
    everyone = [ens, *alone]
    if no_own_permeability:  # the spaces' boundary is the run's parameter
        for c in everyone:
            c.spaces.permeability = None
    for step in range(1, periods + 1):
        for stage in SOCIAL_STAGES:
            run_stage(stage, everyone, step)
        assert_same(ens, alone)
    return ens, alone


def base_of(c):
    d = c.derived
    return {
        "present": c.people.present,
        "part_home": d.home_participation(),
        "core": d.home_participation() >= c.params.periphery_threshold,
    }


def assert_measures(ens, alone, fns):
    for fn in fns:
        got = fn(ens, base_of(ens))
        for k, single in enumerate(alone):
            want = fn(single, base_of(single))
            assert got.keys() == want.keys()
            for name, values in got.items():
                assert isinstance(values, np.ndarray) and values.shape == (ens.runs,), name
                assert values.dtype == np.float64, name
                assert np.array_equal(values[k], want[name][0], equal_nan=True), (k, name)


@pytest.mark.parametrize("spread", [0.0, 0.3])
def test_social_stages_equal_each_run_alone(spread):
    ens, alone = run_social(social(permeability_spread=spread))
    # the stages did something: people left and arrived, reality moved, rigidity grew
    assert ens.records.exits.shape == (5,)
    assert ens.records.exits[1] > 0 and ens.records.exits[0] >= 0
    assert (ens.people.tenure == 0).all()  # nobody aged: the model's step does that
    assert ens.spaces.rigidity.reshape(5, 3)[0].max() == 0.0  # reification_rate 0
    assert ens.spaces.rigidity.reshape(5, 3)[1].min() > 0.5
    capital = resources.measures(ens, base_of(ens))["capital_left"]
    assert capital[0] < 0.2 and 0 < capital[2] < 1.0  # run 0 never recovers what it spends
    assert_measures(ens, alone, [resources.measures, reification.measures])


def test_exits_react_to_the_shock_per_run():
    ens, alone = build_both(social(self_funding=0.0), SEEDS)
    everyone = [ens, *alone]
    lay = ens.layout
    intensity, exits = [], []
    for step in range(1, 7):
        before = ens.records.exits.copy()
        for stage in SOCIAL_STAGES:
            run_stage(stage, everyone, step)
        assert_same(ens, alone)
        intensity.append(lay.mean_spaces(ens.spaces.intensity, ens.spaces.alive))
        exits.append(ens.records.exits - before)
    shocks = {(r, t) for r, t, kind in ens.funder.shocks if kind == "cut"}
    assert {(k, 2) for k in range(5)} <= shocks
    assert ens.funder.level[0] == 1.0 and ens.funder.level[2] == pytest.approx(0.3)
    # run 2 (severity 0.7, shock_exit_rate 0.5): its spaces meet less after the cut,
    # and more of its members leave
    intensity, exits = np.array(intensity), np.array(exits)
    assert intensity[:2, 2].min() == 1.0 and intensity[3:, 2].max() < 1.0
    assert exits[3:, 2].mean() > exits[:3, 2].mean()


def test_champions_and_the_runs_own_permeability():
    ens, alone = run_social(social(champions_leave=True), no_own_permeability=True)
    runs = {e.run for e in ens.records.events if e.kind == "champions"}
    assert runs and runs <= set(range(5))
    for k, single in enumerate(alone):
        mine = sorted(
            (e.step, e.amount) for e in ens.records.events if e.kind == "champions" and e.run == k
        )
        theirs = sorted((e.step, e.amount) for e in single.records.events if e.kind == "champions")
        assert mine == theirs
    # permeability 0 lets nobody in: run 0's slots only ever change hands by leaving
    lay = ens.layout
    assert lay.total(ens.people.occupant)[0] == ens.records.exits[0] > 0
    assert lay.total(ens.people.occupant)[2] > ens.records.exits[2]  # others admit
    assert_measures(ens, alone, [resources.measures, reification.measures])


def test_leave_and_enter_take_slots_of_many_runs_at_once():
    ens, alone = build_both(social(), SEEDS)
    everyone = [ens, *alone]
    for c in everyone:
        c.step = c.draws.step = 1
    # slot 3 and slot 7 of every run leave, then are offered to newcomers
    lay = ens.layout
    membership.leave(ens, np.concatenate([lay.first_slot(np.arange(5)) + j for j in (3, 7)]))
    membership.enter(ens, np.concatenate([lay.first_slot(np.arange(5)) + j for j in (7, 3)]))
    for c in alone:
        membership.leave(c, np.array([3, 7]))
        membership.enter(c, np.array([3, 7]))
    assert_same(ens, alone)
    assert ens.records.exits.tolist() == [2] * 5


def test_spend_capital_across_runs_equals_each_run_alone():
    ens, alone = build_both(social(), SEEDS)
    lay = ens.layout
    local = np.array([0, 5, 5, 39, 12])
    amounts = np.array([0.1, 0.3, 0.4, 0.05, 0.9])
    slots = (lay.first_slot(np.arange(5))[:, None] + local).reshape(-1)
    paid = resources.spend_capital(ens, slots, np.tile(amounts, 5))
    for k, single in enumerate(alone):
        assert np.array_equal(
            paid.reshape(5, -1)[k], resources.spend_capital(single, local, amounts)
        )
    paid = resources.spend_capital(ens, slots, 0.2)  # a scalar amount
    for k, single in enumerate(alone):
        assert np.array_equal(paid.reshape(5, -1)[k], resources.spend_capital(single, local, 0.2))
    assert_same(ens, alone)


# ------------------------------------------------------------------ March's model


def march_params() -> list[Params]:
    rates = [(0.0, 0.0, 0.5), (1.0, 1.0, 0.0), (0.1, 0.02, 0.9), (0.5, 0.3, 0.1), (0.9, 0.0, 1.0)]
    return [
        Params(
            n_practitioners=30,
            n_dimensions=20,
            social_layer=False,
            turnover_rate=0.1,
            socialization_rate=p1,
            turbulence_rate=p4,
            repertoire_learning_rate=p2,
        )
        for p1, p4, p2 in rates
    ]


MARCH_STAGES = (
    march_core.turnover,
    turbulence.step,
    acting.step,
    march_core.socialize,
    march_core.learn_code,
)


def test_march_core_equals_each_run_alone():
    ens, alone = build_both(march_params(), SEEDS)
    everyone = [ens, *alone]
    assert ens.layout.spaces == 1 and ens.spaces.codes.shape == (5, 20)
    start = ens.people.beliefs.copy()
    for step in range(1, 9):
        for stage in MARCH_STAGES:
            run_stage(stage, everyone, step)
        assert_same(ens, alone)
    codes = ens.spaces.codes
    assert (codes[4] != 0).any()  # a code that learns at rate 1 has learned something
    assert (codes[1] == 0).all()  # p2 = 0: the code never learns
    # p1 = 0 with an empty code: nobody in run 0 changed except by turnover
    assert ens.records.exits.shape == (5,) and ens.records.exits.sum() > 0
    changed = (ens.people.beliefs != start).any(axis=1).reshape(5, -1)
    assert changed[0].sum() <= ens.records.exits[0]


# ------------------------------------------------------------------ admission by hand


def two_spaces(**overrides):
    from test_submodels import hand_built

    return hand_built(
        beliefs=[[1, 0], [0, 1]],
        reality=[1, 1],
        joins=[(0, 0, 0.5, 0.5), (1, 1, 0.5, 0.5)],
        spaces=2,
        **overrides,
    )


def test_each_space_admits_by_its_own_permeability():
    c = two_spaces(memberships_per_practitioner=2.0)
    c.spaces.permeability = np.array([1.0, 0.0])  # space 0 open, space 1 closed
    for period in range(250):  # two newcomers a period: 500 in all
        c.draws.step = period
        space, newcomer = membership.seek_admission(c, np.array([0, 1]))
        assert space.tolist() == [0, 0] and newcomer.tolist() == [0, 1]


def test_equal_per_space_permeability_is_the_runs_value():
    """Equal per-space values admit exactly as the run's one value does (same draws)."""
    a = two_spaces(permeability=0.4, seed=3)
    b = two_spaces(permeability=0.9, seed=3)
    b.spaces.permeability = np.full(2, 0.4)
    a.spaces.permeability = None
    admitted = 0
    for period in range(50):
        a.draws.step = b.draws.step = period
        x = membership.seek_admission(a, np.array([0, 1]))
        y = membership.seek_admission(b, np.array([0, 1]))
        assert all(u.tolist() == v.tolist() for u, v in zip(x, y, strict=True))
        admitted += x[0].size
    assert 0 < admitted < 200  # 100 newcomers, each admitted with 0.4 per space


def test_champions_are_the_most_central_of_their_run():
    ens, alone = build_both(social(champions_leave=True), SEEDS)
    lay = ens.layout
    leaving = np.zeros(lay.n_slots, dtype=bool)
    leaving[lay.first_slot(np.arange(5)) + 1] = True  # one drawn leaver per run
    leaving[lay.first_slot(np.array([2]))] = True  # two in run 2
    chosen = membership.champions(ens, leaving)
    assert lay.count(chosen).tolist() == [1, 1, 2, 1, 1]
    centrality = lay.by_run(ens.derived.centrality())
    top = np.sort(centrality, axis=1)[:, ::-1]
    picked = np.where(lay.by_run(chosen), centrality, np.inf).min(axis=1)
    assert picked.tolist() == [top[0, 0], top[1, 0], top[2, 1], top[3, 0], top[4, 0]]
    for k, single in enumerate(alone):
        mine = membership.champions(single, lay.by_run(leaving)[k])
        assert np.array_equal(mine, lay.by_run(chosen)[k])
