"""Conversation, socialization and repertoire learning in an ensemble (issue 12).

Run k of an ensemble must equal the same run built alone, bit for bit, after
several periods of funding, acting and these three stages, with runs that differ
in their seeds and in every varying parameter the three modules read (0 and
extreme values included), and for the shared switches that change how pairs
form (inside or across spaces, role play mixing, the organizing principles).
"""

from __future__ import annotations

import numpy as np
import pytest

from copsim import Params
from copsim.submodels import acting, conversation, funding, repertoire, socialization
from ensemble_check import assert_same, build_both, run_stage, state_of

K_SEEDS = [3, 17, 101, 4242, 9]
#: Per run: (conversation_rate, diversity_gain, withdrawal, power_asymmetry,
#: repertoire_learning_rate, newcomer_pressure, role_play_identity_weight,
#: socialization_rate, safety)
VARYING = [
    (0.3, 3.0, 0.15, 0.5, 0.5, 1.0, 0.3, 0.1, 0.5),
    (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    (1.0, 10.0, 1.0, 5.0, 1.0, 5.0, 1.0, 1.0, 1.0),
    (0.6, 1.0, 0.5, 2.0, 0.2, 2.0, 0.6, 0.4, 0.2),
    (0.1, 0.5, 0.05, 0.0, 0.9, 0.5, 0.1, 0.05, 0.9),
]
NAMES = (
    "conversation_rate",
    "diversity_gain",
    "withdrawal",
    "power_asymmetry",
    "repertoire_learning_rate",
    "newcomer_pressure",
    "role_play_identity_weight",
    "socialization_rate",
    "safety",
)
BASE = dict(n_practitioners=40, n_spaces=3, n_dimensions=20, role_play=True,
            role_play_start=2, role_play_duration=3)  # fmt: skip
STAGES = (funding.step, acting.step, conversation.step, socialization.step, repertoire.step)

SWITCHES = {
    "default": {},
    "inside_spaces": dict(organizing_across_spaces=False),
    "inside_no_mixing": dict(organizing_across_spaces=False, role_play_mixing=False),
    "across_no_mixing": dict(role_play_mixing=False),
    "geography": dict(
        organizing_principle="geography", role_play_mixing=False, organizing_across_spaces=False
    ),
    "challenge": dict(organizing_principle="challenge", role_play_mixing=False),
    "no_power_channels": dict(
        power_in_voice=False,
        power_in_votes=False,
        power_in_superiority=False,
        power_in_receptiveness=False,
    ),
    "voice_norms": dict(space_voice_norm=[0.0, 1.0, 2.0], memberships_per_practitioner=2.0),
}


def ensemble_params(**switches) -> list[Params]:
    return [
        Params(**BASE, **switches, **dict(zip(NAMES, values, strict=True))) for values in VARYING
    ]


def rigid(c) -> None:
    """Some rigidity per space (reification is not run here), the same in every run."""
    local = c.layout.local_spaces(np.arange(c.layout.n_spaces))
    c.spaces.rigidity = 0.2 * local


def stepped(switches: dict, steps: int = 6):
    ens, alone = build_both(ensemble_params(**switches), K_SEEDS)
    for c in (ens, *alone):
        rigid(c)
    for step in range(1, steps + 1):
        for fn in STAGES:
            run_stage(fn, [ens, *alone], step)
    return ens, alone


@pytest.mark.parametrize("name", list(SWITCHES))
def test_each_run_of_the_ensemble_is_the_run_alone(name):
    ens, alone = stepped(SWITCHES[name])
    assert_same(ens, alone)
    # the stages did something: conversations held, beliefs and codes moved
    assert ens.records.counts["conversations"].sum() > 0
    assert (ens.records.change_weight > 0).any()


@pytest.mark.parametrize("name", ["default", "inside_no_mixing"])
def test_the_exchange_and_the_measures_are_per_run(name):
    ens, alone = stepped(SWITCHES[name])
    ex = ens.records.last_exchange
    lay = ens.layout
    assert (lay.run_of_slots(ex.left) == lay.run_of_slots(ex.right)).all()  # no pair joins runs
    assert (lay.run_of_spaces(ex.space) == ex.run).all()
    for module in (conversation, repertoire):
        got = module.measures(ens, {})
        for k, single in enumerate(alone):
            want = module.measures(single, {})
            for key, value in got.items():
                assert value.shape == (ens.runs,) and value.dtype == np.float64
                assert want[key].shape == (1,)
                assert value[k] == want[key][0], (module.__name__, key, k)
    for k, single in enumerate(alone):  # the exchange of run k is run k's alone
        mine = ex.run == k
        sx = single.records.last_exchange
        assert np.array_equal(ex.left[mine] % lay.slots, sx.left)
        assert np.array_equal(ex.right[mine] % lay.slots, sx.right)
        assert np.array_equal(ex.conflict[mine], sx.conflict)
        assert np.array_equal(ex.engagement[mine], sx.engagement)


def test_a_run_with_zero_rates_learns_nothing_in_conversation_and_socialization():
    """Run 1 has every rate (and safety) at 0: its beliefs and codes never move."""
    ens, _ = build_both(ensemble_params(), K_SEEDS)
    before = state_of(ens, 1)["people.beliefs"].copy()
    for step in range(1, 4):
        for fn in STAGES:
            run_stage(fn, [ens], step)
    after = state_of(ens, 1)
    assert np.array_equal(after["people.beliefs"], before)
    assert after["records.repertoire_changes"] == 0


def test_pairs_stay_inside_runs_when_a_run_has_an_odd_number_of_attendees():
    """The pairing of a run never shifts with the parity of the runs before it."""
    home = np.array([0, 0, 0, 1, 1, 1])  # run 0: slots 0-2 (space 0); run 1: slots 3-5
    keys = np.zeros(6, dtype=np.int64)
    active = np.ones(6, dtype=bool)
    tiebreak = np.array([0.1, 0.2, 0.3, 0.1, 0.2, 0.3])
    left, right = conversation.pair_up(home, keys, active, tiebreak, 3, 1, 1)
    assert left.tolist() == [0, 3] and right.tolist() == [1, 4]
    left, right = conversation.pair_up(home, keys, active, tiebreak, 3, 1, 1, across_spaces=True)
    assert left.tolist() == [0, 3] and right.tolist() == [1, 4]
