"""Each submodel on a small hand-built community whose outcome can be worked out by hand.

A community of a few practitioners is built directly from the state containers
(no random set-up), one submodel function runs, and the result is compared with
the formula of its ODD section computed by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from copsim import Params, measures, schedule
from copsim import population as pop
from copsim.derived import Derived
from copsim.draws import Draws, run_key
from copsim.layout import Layout
from copsim.memberships import Memberships
from copsim.outcomes import Baseline
from copsim.population import Newcomers
from copsim.state import Community, People, Records, Spaces, World
from copsim.submodels import (
    agendas,
    contestation,
    conversation,
    funding,
    grand_plan,
    legitimacy,
    membership,
    participation,
    reification,
    repertoire,
    role_play,
    socialization,
)
from copsim.submodels.funding import Funder

IDENTITY = {"sector": ["a", "b"], "role": ["x", "y"]}
#: The mechanisms of the second round start off in a hand-built community, so that each
#: test of one submodel's formula names the other mechanisms it exercises.
SIMPLE = dict(
    lpp_trajectory=False,
    resource_budgets=False,
    purpose_drift_mode="mix",
    start_by_power_scaled=False,
    power_in_voice=False,
    role_play_mixing=False,
    organizing_across_spaces=False,
    contestation_model="simple",
)


def hand_built(
    *,
    beliefs: list[list[int]],
    reality: list[int],
    joins: list[tuple[int, int, float, float]],  # (space, slot, participation, legitimacy)
    spaces: int = 1,
    identity: list[list[int]] | None = None,
    purpose: list[list[float]] | None = None,
    resources: list[list[float]] | None = None,
    seed: int = 0,
    **overrides,
) -> Community:
    """A community with exactly these practitioners, memberships and beliefs."""
    b = np.array(beliefs, dtype=np.int8)
    n, m = b.shape
    params = Params(
        **{
            **SIMPLE,
            "n_practitioners": max(n, 2),
            "n_dimensions": m,
            "n_spaces": spaces,
            "identity_dimensions": IDENTITY,
            "n_themes": 2,
            **overrides,
        }
    )
    identity = np.array(identity or [[0, 0]] * n, dtype=np.int16)
    purpose = np.array(purpose or [[1.0, 0.0]] * n)
    resources = np.array(resources or [[0.5, 0.5, 0.5]] * n)
    people = People(
        beliefs=b,
        socialization_rates=np.full(n, params.socialization_rate),
        identity=identity,
        purpose=purpose,
        resources=resources,
        power=pop.power_of(resources),
        income=resources[:, 1].copy(),
        identity_names=list(IDENTITY),
        identity_levels=IDENTITY,
    )
    members = Memberships(spaces, n)
    space, slot, part, legit = (np.array(v) for v in zip(*joins, strict=True))
    members.add(space, slot, part, legit)
    sp = Spaces(
        codes=np.zeros((spaces, m), dtype=np.int8),
        agenda=np.tile([1.0, 0.0], (spaces, 1)),
        safety=np.full(spaces, params.safety),
        members=members,
    )
    world = World(np.array([reality], dtype=np.int8), np.zeros(m, dtype=bool))
    layout = Layout(1, n, spaces, m)
    c = Community(
        params,
        Draws([run_key(seed)]),
        layout,
        world,
        people,
        sp,
        Funder(params, 1),
        records=Records(runs=1),
    )
    c.run_ids = np.zeros(1, dtype=np.int64)
    c.derived = Derived(people, sp, params.power_asymmetry, layout)
    for init in schedule.hooks("init"):
        init(c)
    c.on_leave, c.on_arrive = schedule.hooks("on_leave"), schedule.hooks("on_arrive")
    sp.founding_mass = np.maximum(members.per_space(members.participation), 1e-9)
    c.baseline = Baseline(b.copy(), np.array([0.5]), np.zeros((spaces, m), np.int8), ~world.tacit)
    return c


def two_members(**overrides) -> Community:
    return hand_built(
        beliefs=[[1, 1, -1, 0], [1, -1, -1, 1]],
        reality=[1, 1, 1, 1],
        joins=[(0, 0, 0.3, 0.5), (0, 1, 0.8, 0.5)],
        **overrides,
    )


# ----------------------------------------------------------------------------- 7.11


def test_participation_moves_toward_its_target_and_rehomes():
    c = two_members(participation_adaptation=0.5)
    round_before = c.members.home_round
    participation.step(c)
    # drive = 0.15 time + 0.35 fit + 0.4 L + 0.1 = 0.075 + 0.35 + 0.2 + 0.1 = 0.725;
    # target = min(intensity 1 x 0.725, 0.2 + time 0.5) = 0.7
    assert c.members.participation == pytest.approx([0.3 + 0.5 * 0.4, 0.8 - 0.5 * 0.1])
    assert c.members.home_round == round_before + 1


def test_participation_is_capped_by_time_and_by_the_space_meeting():
    c = two_members(participation_adaptation=1.0)
    c.people.resources[:, 0] = 0.0  # no time: cap 0.2
    c.spaces.intensity[:] = 0.5
    participation.step(c)
    # drive = 0.35 + 0.2 + 0.1 = 0.65; target = min(0.5 x 0.65, 0.2) = 0.2
    assert c.members.participation == pytest.approx([0.2, 0.2])


# ----------------------------------------------------------------------------- 7.12


def test_funding_cut_and_self_funding_by_hand():
    c = two_members(
        shock_kind="cut", shock_time=1, shock_severity=0.5, self_funding=1.0, funding_level=1.0
    )
    c.spaces.funds[:] = 0.0
    c.step = 1
    funding.step(c)
    # budget 0.5 arrives; cost = participation / founding mass = 1; shortfall 0.5;
    # offers = self_funding x P x money = 0.3 x 0.5 + 0.8 x 0.5 = 0.55 >= 0.5
    assert c.spaces.intensity[0] == pytest.approx(1.0)
    assert c.spaces.funds[0] == pytest.approx(0.0)
    paid = 0.5 - c.people.resources[:, 1]
    assert paid.sum() == pytest.approx(0.5)
    assert paid[1] / paid[0] == pytest.approx(0.8 / 0.3)  # pro rata to the offers
    (event,) = c.records.events
    assert (event.kind, event.outcome, event.amount, event.step) == ("shock", "cut", 0.5, 1)


def test_a_space_without_money_or_offers_meets_partly():
    c = two_members(funding_level=0.25, self_funding=0.0)
    c.spaces.funds[:] = 0.0
    funding.step(c)
    assert c.spaces.intensity[0] == pytest.approx(0.25)


def test_a_space_with_one_engaged_member_dissolves():
    c = two_members()
    c.members.participation[0] = 0.01
    funding.survive(c)
    assert not c.spaces.alive[0]


# ----------------------------------------------------------------------------- 7.8


def test_reification_of_a_stable_repertoire():
    c = two_members(reification_rate=0.1, conditionality=0.5)
    c.period.changed = np.zeros(1, dtype=np.int64)
    reification.step(c)
    assert c.spaces.rigidity[0] == pytest.approx(0.1 * (1 + 3 * 0.5))
    c.period.changed = np.array([4])  # every dimension changed: no growth
    before = c.spaces.rigidity.copy()
    reification.step(c)
    assert c.spaces.rigidity == pytest.approx(before)


# ----------------------------------------------------------------------------- 7.9


def test_legitimacy_grant_by_hand():
    c = two_members(power_asymmetry=0.0, identity_weight=0.5, legitimacy_adaptation=1.0)
    c.period.action_scores = np.array([4.0, 0.0])
    legitimacy.step(c)
    # weights 1, standing 1/2; competence (score/m + 1)/2 = 1 and 1/2; alike: similar = 1
    expected = 0.5 * (0.5 * np.array([1.0, 0.5]) + 0.25) + 0.5 * 1.0
    assert c.members.legitimacy == pytest.approx(expected)


# ----------------------------------------------------------------------------- 7.7


def test_an_accepted_challenge_by_hand():
    c = two_members(safety=1.0, contest_rate=1.0, renegotiation=1.0, periphery_threshold=0.5)
    c.people.purpose[0] = [0.0, 1.0]  # the peripheral member wants something else
    c.spaces.codes[0] = [1, 1, 1, 1]
    c.spaces.rigidity[0] = 0.4
    c.period.changed = np.zeros(1, dtype=np.int64)
    contestation.step(c)
    assert c.members.legitimacy[0] == pytest.approx(0.75)
    assert c.members.participation[0] == pytest.approx(0.6)
    # the repertoire reopens where it differs from the challenger: dimensions 2 and 3
    assert c.spaces.codes[0].tolist() == [1, 1, 0, 0]
    assert c.spaces.rigidity[0] == pytest.approx(0.2)
    assert c.spaces.agenda[0] == pytest.approx([0.8, 0.2])
    assert c.period.changed.tolist() == [2]
    assert c.records.peripheral_weight == 0  # reopening brings no knowledge: no credit
    assert contestation.contested(c).tolist() == [True, False]
    (event,) = c.records.events
    assert (event.kind, event.space, event.practitioner, event.outcome) == (
        "contest",
        0,
        0,
        "accepted",
    )
    assert event.identity == ("a", "x")


def test_a_rejected_challenge_shuts_the_challenger_out():
    c = two_members(safety=0.0, contest_rate=1.0, periphery_threshold=0.5)
    c.people.purpose[0] = [0.0, 1.0]
    c.period.changed = np.zeros(1, dtype=np.int64)
    contestation.step(c)
    assert c.members.slot.tolist() == [1]
    assert c.records.events[0].kind == "exclusion"
    assert c.records.events[0].outcome == "rejected"


# ----------------------------------------------------------------------------- 7.13


def test_leaving_resets_the_submodels_state_and_moves_the_versions():
    c = two_members()
    contestation.contested(c)[0] = True
    weights = c.derived.power_weights().copy()
    membership.leave(c, np.array([0]))
    assert not c.people.present[0] and not c.people.founder[0]
    assert not contestation.contested(c)[0]  # the hook of the contestation module ran
    assert c.members.slot.tolist() == [1]
    assert c.records.exits.tolist() == [1]  # one count per run
    assert weights[0] > 0 and c.derived.power_weights()[0] == 0  # recomputed, not stale


def test_newcomers_start_at_the_periphery():
    c = two_members(permeability=1.0, memberships_per_practitioner=1.0)
    membership.leave(c, np.array([0]))
    fresh = Newcomers(np.array([[1, 1]], np.int16), np.array([[0.5, 0.5]]), np.ones((1, 3)))
    c.people.arrive(np.array([0]), fresh, np.zeros((1, 4), np.int8))
    assert c.people.present[0] and c.people.peripheral_origin[0]
    assert c.people.power[0] == pytest.approx(pop.power_of(np.ones(3)))
    membership.enter(c, np.array([0]))  # enter admits to the one space
    assert (c.members.participation[c.members.slot == 0] == membership.NEWCOMER_START).all()


# ----------------------------------------------------------------------------- 7.5, 7.6


def test_conflict_in_an_unsafe_space_makes_both_withdraw():
    c = two_members(safety=0.0, withdrawal=0.5)
    c.people.identity[1] = [1, 1]  # distance 1: conflict is certain at safety 0
    c.members.participation[:] = 1.0
    c.period.action_scores = np.array([0.0, 2.0])
    conversation.step(c)
    assert c.records.counts["conflicts"].tolist() == [1]  # per run
    assert c.members.participation == pytest.approx([0.5, 0.5])
    assert c.people.engagement.tolist() == [0.0, 0.0]


def test_learning_in_a_safe_space_moves_the_worse_toward_the_better():
    c = two_members(safety=1.0, conversation_rate=1.0)
    c.members.participation[:] = 1.0
    c.period.action_scores = np.array([0.0, 2.0])
    before = c.people.beliefs.copy()
    conversation.step(c)
    assert c.records.counts["conflicts"].tolist() == [0]
    assert c.records.counts["conversations"].tolist() == [1]
    assert (c.people.beliefs[1] == before[1]).all()  # the better one does not learn
    differ = before[0] != before[1]
    # one gradual step on every differing dimension: +1 vs -1 goes to 0, 0 vs 1 goes to 1
    assert c.people.beliefs[0, differ].tolist() == [0, 1]
    assert c.people.gain[0] == pytest.approx(2 / 4)


def test_socialization_adopts_the_repertoire_except_tacit_dimensions():
    c = two_members(socialization_rate=1.0, power_asymmetry=0.0)
    c.members.participation[:] = 1.0
    c.members.decide_homes()
    c.world.tacit[3] = True
    c.spaces.codes[0] = [-1, -1, -1, -1]
    before = c.people.beliefs.copy()
    socialization.step(c)
    # gradual: a +1 facing -1 moves to 0; a 0 facing -1 moves to -1; tacit untouched
    assert c.people.beliefs[0].tolist() == [0, 0, -1, 0]
    assert c.people.beliefs[1, 3] == before[1, 3]


def test_role_play_is_on_only_in_its_window():
    c = two_members(role_play=True, role_play_start=3, role_play_duration=2)
    on = []
    for t in range(7):
        c.step = t
        on.append(role_play.active(c))
    assert on == [False, False, False, True, True, False, False]


# ----------------------------------------------------------------------------- 7.4, 7.16


def test_the_code_adopts_the_superior_members_majority():
    c = two_members(repertoire_learning_rate=1.0, power_asymmetry=0.0)
    c.members.participation[:] = 1.0
    c.period.actions = np.array([[1, 1, 1, 1], [-1, -1, -1, -1]], dtype=np.int8)
    c.period.action_scores = np.array([4.0, -4.0])  # only member 0 beats the code (score 0)
    repertoire.step(c)
    assert c.spaces.codes[0].tolist() == [1, 1, 1, 1]
    assert c.period.changed.tolist() == [4] and c.records.repertoire_changes.tolist() == [4]
    # all four changes brought knowledge (reality is all +1), cast by a core member
    assert c.records.change_weight.tolist() == [4.0]
    assert c.records.peripheral_weight.tolist() == [0.0]


def test_the_expert_replaces_member_votes_under_full_conditionality():
    c = two_members(grand_plan=True, conditionality=1.0, expert_accuracy=1.0)
    votes = np.zeros((1, 4), dtype=np.float32)
    replaced = grand_plan.replace_votes(c, votes)
    assert replaced.tolist() == [True]
    assert votes[0].tolist() == [5.0] * 4  # 5 x the expert's (right) view


# ----------------------------------------------------------------------------- 7.14, 7.2


def test_conversation_as_data_moves_the_agenda_to_the_voiced_purpose():
    c = two_members(conversation_as_data=True, agenda_adaptation=1.0, purpose_drift=0.0)
    c.people.purpose[:] = [[0.0, 1.0], [0.5, 0.5]]
    version = c.spaces.agenda_version
    agendas.step(c)
    # voice = participation x power weight (equal power): 0.3 and 0.8
    assert c.spaces.agenda[0] == pytest.approx((0.3 * np.array([0, 1]) + 0.8 * 0.5) / 1.1)
    assert c.spaces.agenda_version == version + 1


def test_fit_is_recomputed_when_and_only_when_its_versions_move():
    c = two_members()
    assert c.derived.fit() == pytest.approx([1.0, 1.0])
    c.spaces.set_agendas(np.array([[0.0, 1.0]]))
    assert c.derived.fit() == pytest.approx([0.0, 0.0])
    c.people.set_purpose(np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert c.derived.fit() == pytest.approx([1.0, 0.0])


# ----------------------------------------------------------------------------- measures


def test_each_submodel_contributes_its_measures_in_the_documented_order():
    c = two_members()
    record = measures.measure(c, schedule.hooks("measures"))
    assert list(record) == list(measures.COLUMNS)
    assert record["members"] == 2 and record["conflicts"] == 0


# ----------------------------------------------------------------------------- bug fixes


def test_a_practitioner_without_a_space_does_not_take_space_0s_intensity():
    """Old rule: home_space() is 0 for 'no space', so the exit chance of someone shut
    out of every space followed space 0's meeting intensity."""
    c = two_members(exit_rate=0.0, shock_exit_rate=0.5)
    c.members.keep(c.members.slot != 0)  # practitioner 0 has no space any more
    chances = []
    for intensity in (0.0, 1.0):
        c.spaces.intensity[0] = intensity
        chances.append(membership.exit_chance(c)[0])
    assert chances[0] == chances[1] == pytest.approx(0.5 + membership.INACTIVE_EXIT + 0.05)


def test_conditionality_below_one_half_is_the_experts_takeover_chance():
    """Old rule: max(conditionality, 0.5), so any conditionality below 0.5 acted as 0.5."""
    c = hand_built(
        beliefs=[[1, 1, 1, 1]] * 2,
        reality=[1, 1, 1, 1],
        joins=[(s, s % 2, 0.5, 0.5) for s in range(400)],
        spaces=400,
        grand_plan=True,
        conditionality=0.1,
    )
    replaced = grand_plan.replace_votes(c, np.zeros((400, 4), dtype=np.float32))
    assert replaced.mean() == pytest.approx(0.1, abs=0.05)  # 400 draws: SE 0.015


def test_pair_of_finds_each_membership_and_the_first_listed_of_duplicates():
    """``pair_of`` looks (slot, space) pairs up by sorted keys: with unique pairs any
    sort finds the same index; a pair listed twice resolves to the first listing."""
    from copsim.memberships import Memberships

    rng = np.random.default_rng(3)
    mb = Memberships(n_spaces=6, n_slots=40)
    cells = rng.permutation(6 * 40)[:90]  # 90 distinct (space, slot) pairs, shuffled
    space, slot = cells // 40, cells % 40
    mb.add(space, slot, np.ones(90), np.ones(90))
    asked = rng.integers(0, 90, 200)
    assert np.array_equal(mb.pair_of(slot[asked], space[asked]), asked)
    missing = np.setdiff1d(np.arange(6 * 40), cells)[:5]
    assert np.all(mb.pair_of(missing % 40, missing // 40) == -1)
    mb.add(space[:3], slot[:3], np.ones(3), np.ones(3))  # listed again at 90..92
    assert np.array_equal(mb.pair_of(slot[:3], space[:3]), [0, 1, 2])
