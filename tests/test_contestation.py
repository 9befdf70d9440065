"""The bindura contestation rule (ODD II.7.7) on hand-built communities.

Each test builds a community whose outcome can be worked out by hand
(``tests/test_submodels.py`` shows the pattern) and checks one rule: who may
challenge (members at the edge and non-members with a stake), the acceptance
formula, knowledge brought in instead of blanked, the fading support toward the
core, silencing, the capital cost, and the excluded founding group.
"""

from __future__ import annotations

import numpy as np
import pytest

from copsim import CoPModel, Params
from copsim.scenarios import BINDURA_STORY, PRESETS, story_values
from copsim.submodels import contestation, membership
from test_submodels import hand_built

BINDURA = dict(contestation_model="bindura", contest_rate=1.0, periphery_threshold=0.5)


def community(**overrides):
    """Two members of one space (0 peripheral, 1 core) and a non-member (2).

    The code is [1, 1, 1, 1]; the peripheral member and the outsider want theme 1,
    the agenda and the core member theme 0, so both have a stake.
    """
    c = hand_built(
        beliefs=[[1, -1, -1, 0], [1, 1, 1, 1], [-1, 1, 1, -1]],
        reality=[1, 1, 1, 1],
        joins=[(0, 0, 0.3, 0.5), (0, 1, 0.8, 0.5)],
        purpose=[[0.2, 0.8], [1.0, 0.0], [0.3, 0.7]],
        **{**BINDURA, **overrides},
    )
    c.spaces.codes[0] = [1, 1, 1, 1]
    c.period.changed = np.zeros(1, dtype=np.int64)
    return c


def test_members_at_the_edge_and_non_members_with_a_stake_challenge():
    c = community()
    who, space, member = contestation.bindura_challengers(c)
    assert who.tolist() == [0, 2] and space.tolist() == [0, 0]
    assert member.tolist() == [True, False]


def test_no_capital_no_challenge_and_the_silenced_wait():
    c = community()
    c.people.resources[0, 2] = 0.0
    contestation.ledger(c).silenced_until[2] = 5
    assert contestation.bindura_challengers(c)[0].size == 0
    c.step = 5  # silence over
    assert contestation.bindura_challengers(c)[0].tolist() == [2]


def test_acceptance_is_logistic_in_safety_minus_the_weighted_gap():
    c = community(safety=0.75, contest_gap_weight=2.0, power_asymmetry=0.0)
    # asymmetry 0: no power gap; the core's legitimacy 0.5 vs 0.5 (member) and 0 (outsider)
    prob = contestation.acceptance(c, np.array([0, 2]), np.array([0, 0]))
    logit = 4.4 * 0.25
    assert prob[0] == pytest.approx(1 / (1 + np.exp(-logit)))
    assert prob[1] == pytest.approx(1 / (1 + np.exp(-(logit - 2.0 * 0.5 * 0.5))))
    # a weaker challenger facing a powerful core is heard less
    c2 = community(safety=0.75, power_asymmetry=1.5, resources=[[0.5, 0.1, 0.1]] + [[0.5] * 3] * 2)
    weak = contestation.acceptance(c2, np.array([0]), np.array([0]))[0]
    assert weak < prob[0]


def test_an_accepted_challenge_brings_the_challengers_knowledge_in():
    c = community(
        safety=1.0,
        contest_gap_weight=0.0,
        renegotiation=1.0,
        contest_rate=1.0,
        resource_budgets=True,
    )
    c.people.resources[2, 2] = 0.0  # only the member can challenge
    contestation.step(c)
    # dimensions 1, 2: the challenger's -1 replaces the code's 1; its 0 on 3 is no claim
    assert c.spaces.codes[0].tolist() == [1, -1, -1, 1]
    assert c.members.participation[0] == pytest.approx(0.6)
    assert c.people.resources[0, 2] == pytest.approx(0.5 - contestation.CONTEST_COST)
    (event,) = c.records.events
    assert (event.kind, event.outcome) == ("contest", "accepted") and 0 < event.amount < 1
    assert contestation.ledger(c).log[0][3] is True  # a member's challenge


def test_an_accepted_outsider_joins_at_the_edge_and_is_drawn_to_the_core():
    c = community(safety=1.0, contest_gap_weight=0.0, contest_support_periods=4, seed=1)
    c.people.resources[0, 2] = 0.0  # only the outsider can challenge
    contestation.step(c)
    joined = np.flatnonzero(c.members.slot == 2)
    assert joined.size == 1 and c.members.participation[joined[0]] == membership.NEWCOMER_START
    assert c.records.events[0].outcome == "admitted"
    led = contestation.ledger(c)
    assert led.support_left[2] == 4 and led.outsider_contests == 1 and led.outsider_won == 1
    before = c.members.participation[joined[0]]
    contestation._support(c)  # first period of support: 0.3 of the way to 1
    assert c.members.participation[joined[0]] == pytest.approx(before + 0.3 * (1 - before))
    for _ in range(5):
        contestation._support(c)
    assert led.support_left[2] == 0


def test_a_rejected_member_is_shut_out_and_a_rejected_outsider_silenced():
    c = community(safety=0.0, contest_gap_weight=20.0, contest_silence_periods=3)
    c.members.legitimacy[0] = 0.0  # a gap for the member too: acceptance ~ 1e-3
    contestation.step(c)
    assert c.members.slot.tolist() == [1]
    outcomes = sorted(e.outcome for e in c.records.events)
    assert outcomes == ["rejected", "silenced"]
    assert contestation.ledger(c).silenced_until[[0, 2]].tolist() == [4, 4]


def test_challenger_inclusion_counts_leavers():
    c = community(safety=1.0, contest_gap_weight=0.0)
    c.people.resources[2, 2] = 0.0
    contestation.step(c)
    led = contestation.ledger(c)
    assert led.ever == 1 and led.ever_included == 1  # 0.3 + 0.3 reaches the core (0.6)
    membership.leave(c, np.array([0]))
    assert led.ever == 1 and led.ever_included == 1 and not led.challenged[0]


def test_the_excluded_group_starts_poor_and_at_the_edge():
    params = Params.preset("bindura_eag", **BINDURA_STORY, max_steps=1)
    model = CoPModel(params, rng=3)
    c = model.community
    group = contestation.ledger(c).group
    assert group.sum() == 8 and group[-8:].all()
    dim = c.people.identity_names.index("livelihood")
    widows = c.people.identity[:, dim] == 2
    assert (widows == group).all()  # the category is reserved for the group
    assert c.people.power[group].max() < np.median(c.people.power[~group])
    assert c.derived.home_participation()[group].mean() < c.params.periphery_threshold
    record = model.metrics
    assert record["excluded_present"] == 8 and record["excluded_core_share"] == 0


def test_the_bindura_preset_carries_its_story():
    assert PRESETS["bindura_eag"]["excluded_group"]["category"] == "widows"
    values = story_values("bindura_eag")
    assert values["contestation_model"] == "bindura" and values["excluded_group"]
    with pytest.raises(ValueError, match="no category"):
        Params(excluded_group={"dimension": "role", "category": "nobody"})
    with pytest.raises(ValueError, match="first"):
        Params(excluded_group={"dimension": "role", "category": "officer"})


def test_a_bindura_run_is_reproducible_and_records_its_measures():
    params = Params.preset("bindura_eag", **BINDURA_STORY, max_steps=25)
    a, b = CoPModel(params, rng=5).run(), CoPModel(params, rng=5).run()
    assert a.metrics == b.metrics
    for name in ("challenger_inclusion", "outsider_contests", "excluded_core_share"):
        assert name in a.metrics
