"""Resources spent: time and political capital as budgets (ODD II.7.19; issue 11).

Hand-built communities check recovery, the time taking part costs and the
capital spent in agenda-setting and by :func:`resources.spend_capital`; a
many-seed check states the claim (taking part is limited by the time it costs).
"""

from __future__ import annotations

import numpy as np
import pytest

from copsim import CoPModel, Params, schedule
from copsim.submodels import agendas, resources
from test_submodels import hand_built


def pair(**overrides):
    return hand_built(
        beliefs=[[1, 1, -1, 0], [1, -1, -1, 1]],
        reality=[1, 1, 1, 1],
        joins=[(0, 0, 0.3, 0.5), (0, 1, 0.8, 0.5)],
        resource_budgets=True,
        time_cost=0.3,
        time_recovery=0.5,
        capital_recovery=0.1,
        **overrides,
    )


def test_time_and_capital_recover_then_taking_part_costs_time():
    c = pair()
    assert c.people.endowment == pytest.approx(np.full((2, 3), 0.5))
    c.people.resources[:, 0] = 0.1
    c.people.resources[:, 2] = 0.2
    resources.step(c)
    # time: 0.1 + 0.5 (0.5 - 0.1) = 0.3, less 0.3 x P (0.3, 0.8); capital 0.2 + 0.1 x 0.3
    assert c.people.resources[:, 0] == pytest.approx([0.3 - 0.09, 0.3 - 0.24])
    assert c.people.resources[:, 2] == pytest.approx([0.23, 0.23])
    assert c.people.resources[:, 1] == pytest.approx([0.5, 0.5])  # money is funding's


def test_time_spent_sums_over_memberships():
    c = hand_built(
        beliefs=[[1], [1]],
        reality=[1],
        spaces=2,
        joins=[(0, 0, 0.4, 0.4), (1, 0, 0.5, 0.5), (1, 1, 0.2, 0.2)],
        resource_budgets=True,
        time_cost=0.5,
    )
    assert resources.time_spent(c) == pytest.approx([0.45, 0.1])


def test_spend_capital_by_hand():
    c = pair()
    c.people.resources[:, 2] = [0.23, 0.23]
    paid = resources.spend_capital(c, np.array([0, 0, 1]), np.array([0.1, 0.2, 0.05]))
    # slot 0 owes 0.3 but has 0.23: it pays 0.23/0.3 of each bill; slot 1 pays in full
    assert paid == pytest.approx([0.1 * 0.23 / 0.3, 0.2 * 0.23 / 0.3, 0.05])
    assert c.people.resources[:, 2] == pytest.approx([0.0, 0.18])


def test_spend_capital_costs_nothing_without_budgets():
    c = hand_built(
        beliefs=[[1], [1]],
        reality=[1],
        joins=[(0, 0, 0.5, 0.5), (0, 1, 0.5, 0.5)],
        resource_budgets=False,
    )
    paid = resources.spend_capital(c, np.array([0, 1]), 0.3)
    assert paid == pytest.approx([0.0, 0.0])
    assert c.people.resources[:, 2] == pytest.approx([0.5, 0.5])


def test_agenda_setting_costs_capital_by_voice_share():
    c = hand_built(
        beliefs=[[1, 1], [1, -1]],
        reality=[1, 1],
        joins=[(0, 0, 0.2, 0.2), (0, 1, 0.6, 0.6)],
        purpose=[[1.0, 0.0], [0.0, 1.0]],
        power_asymmetry=0.0,
        conversation_as_data=True,
        resource_budgets=True,
        agenda_capital_cost=0.1,
        purpose_drift=0.0,
    )
    agendas.step(c)
    # voice P x 1 = 0.2, 0.6: shares 1/4, 3/4 of the space's voice
    assert c.people.resources[:, 2] == pytest.approx([0.5 - 0.025, 0.5 - 0.075])


def test_the_resource_stage_runs_only_with_budgets():
    names = [s.name for s in schedule.stages(Params(resource_budgets=False))]
    assert "resources" not in names
    names = [s.name for s in schedule.stages(Params(resource_budgets=True))]
    assert names.index("funding") < names.index("resources") < names.index("participation")
    assert resources in schedule.SUBMODELS


def test_endowment_is_what_each_practitioner_brought():
    params = Params(n_practitioners=30, entry_rate=1.0, exit_rate=0.3, resource_budgets=False)
    model = CoPModel(params, rng=4)
    people = model.community.people
    assert np.array_equal(people.endowment, people.resources)
    for _ in range(5):
        model.step()
    fresh = people.present & ~people.founder
    assert fresh.any()
    # without budgets time and capital are never spent: they stay at the endowment
    here = people.present
    assert np.array_equal(people.endowment[here][:, [0, 2]], people.resources[here][:, [0, 2]])
    assert "time_left" not in model.metrics


@pytest.mark.slow
def test_taking_part_is_limited_by_the_time_it_costs():
    """16 seeds, 40 periods, conversation as data, the legitimacy cap of the periphery
    trajectory off (it would mask the time limit): mean home participation is lower
    with budgets (measured 0.59 without, 0.39 with, sd 0.02-0.03 over seeds);
    tolerance: at least 0.1 lower; time left is a share of the endowment below 1."""

    def run(budgets: bool) -> tuple[float, float]:
        part, left = [], []
        for seed in range(16):
            params = Params(
                resource_budgets=budgets,
                conversation_as_data=True,
                lpp_trajectory=False,
                max_steps=40,
            )
            record = CoPModel(params, rng=seed).run().metrics
            part.append(record["participation_mean"])
            left.append(record.get("time_left", 1.0))
        return float(np.mean(part)), float(np.mean(left))

    part_off, _ = run(False)
    part_on, time_left = run(True)
    assert part_on < part_off - 0.1
    assert 0.0 < time_left < 0.9
