"""The social layer: invariants, determinism, switches and the presets."""

import numpy as np
import pandas as pd
import pytest

from copsim import CoPModel, Params, measures, schedule
from copsim import population as pop
from copsim.layout import Layout
from copsim.memberships import Memberships
from copsim.outcomes import LABELS
from copsim.scenarios import NARRATIVES, PRESETS
from copsim.submodels import grand_plan, membership

SMALL = dict(n_practitioners=40, max_steps=40)


def check_invariants(model: CoPModel) -> None:
    present = model.present
    assert np.all((model.participation >= 0) & (model.participation <= 1))
    assert np.all((model.legitimacy >= 0) & (model.legitimacy <= 1))
    assert np.all(model.funds >= 0)
    assert np.all((model.rigidity >= 0) & (model.rigidity < 1))
    # nobody outside the community is a member or takes part anywhere
    assert not model.membership[:, ~present].any()
    assert np.all(model.participation[~model.membership] == 0)
    # one Mesa agent per present practitioner, in its own slot, none for absent ones
    slots = sorted(a.slot for a in model.agents)
    assert slots == np.flatnonzero(present).tolist()
    for slot, agent in enumerate(model.slot_agent):
        assert (agent is not None) == bool(present[slot])
        if agent is not None:
            assert agent.slot == slot and agent.model is model
    assert model.metrics["members"] == present.sum()
    assert np.all(np.isin(model.beliefs, (-1, 0, 1)))
    assert np.all(model.codes[:, model.tacit] == 0)
    # cached quantities agree with a fresh computation from the current state
    lay = model.community.layout
    fresh = pop.power_weights(lay, model.power, present, model.params.power_asymmetry)
    derived = model.community.derived
    assert np.array_equal(derived.power_weights(), fresh)
    assert np.array_equal(derived.power_rank(), pop.power_rank(lay, model.power, present))
    mb = model.community.members
    a, b = model.agenda[mb.space], model.purpose[mb.slot]
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert np.allclose(derived.fit(), cosine)


@pytest.mark.parametrize("preset", ["bindura_eag", "north_south_partnership", "ogp_workshop"])
def test_invariants_hold_every_step(preset):
    for seed in range(3):
        model = CoPModel(Params.preset(preset, max_steps=60), rng=seed)
        check_invariants(model)
        while model.running:
            model.step()
            check_invariants(model)


def test_invariants_under_heavy_turnover_and_shocks():
    p = Params(**SMALL, turnover_rate=0.2, shock_kind="stop", shock_time=10, champions_leave=True)
    model = CoPModel(p, rng=5)
    while model.running:
        model.step()
        check_invariants(model)
    assert model.exits > 0


def test_same_seed_same_history_different_seed_different_history():
    p = Params.preset("bindura_eag", max_steps=30)
    a, b, c = (CoPModel(p, rng=s).run() for s in (7, 7, 8))
    pd.testing.assert_frame_equal(
        a.datacollector.get_model_vars_dataframe(), b.datacollector.get_model_vars_dataframe()
    )
    assert a.events == b.events
    assert np.array_equal(a.beliefs, b.beliefs) and np.array_equal(a.codes, b.codes)
    assert not a.datacollector.get_model_vars_dataframe().equals(
        c.datacollector.get_model_vars_dataframe()
    )


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_produce_an_outcome_record(name):
    model = CoPModel(Params.preset(name, max_steps=25), rng=1).run()
    record = model.outcomes()
    assert record["label"] in LABELS
    assert all(np.isscalar(v) for v in record.values())
    for key in ("expansiveness", "defensiveness", "inclusion", "voice_gini", "purpose_alignment"):
        assert 0.0 <= record[key] <= 1.0
    assert NARRATIVES[name]
    label, why = model.label()
    assert label == record["label"] and why


# ------------------------------------------------------------------ switches
def run(seed=0, **kw):
    return CoPModel(Params(**{**SMALL, **kw}), rng=seed).run()


def test_contestation_switch():
    assert run(contestation=False, contest_rate=1.0).metrics["contests"] == 0
    on = sum(run(seed=s, contestation=True, contest_rate=0.5).metrics["contests"] for s in range(3))
    assert on > 0


def test_safe_spaces_accept_challenges_unsafe_ones_exclude():
    """The simple rule: acceptance is safety itself (the bindura rule, where the power
    and standing gap counts too, is tested in test_contestation.py)."""
    simple = dict(contest_rate=0.5, contestation_model="simple")
    safe = [run(s, safety=1.0, **simple) for s in range(3)]
    unsafe = [run(s, safety=0.0, **simple) for s in range(3)]
    assert all(
        m.community.records.counts["contests_won"] == m.community.records.counts["contests"]
        for m in safe
    )
    assert all(m.community.records.counts["contests_won"] == 0 for m in unsafe)
    assert sum(e.kind == "exclusion" for m in unsafe for e in m.events) > 0
    assert not any(e.kind == "exclusion" for m in safe for e in m.events)


def test_reification_switch():
    assert run(reification=False).rigidity.max() == 0.0
    assert run(reification=True, reification_rate=0.05).rigidity.min() > 0.1


def test_funding_switch_and_shock():
    off = run(funding=False, shock_kind="stop", shock_time=5)
    df = off.datacollector.get_model_vars_dataframe()
    assert (df["meeting_intensity"] == 1.0).all()
    assert not any(e.kind == "shock" for e in off.events)
    stopped = run(shock_kind="stop", shock_time=5, self_funding=0.0)
    df = stopped.datacollector.get_model_vars_dataframe()
    assert df["meeting_intensity"].iloc[8:].max() < 1.0
    assert any(e.kind == "shock" and e.step == 5 and e.outcome == "stop" for e in stopped.events)


def test_conversation_as_data_moves_agendas():
    # no challenges either: an accepted one also moves its space's agenda (7.7)
    fixed = CoPModel(Params(**SMALL, conversation_as_data=False, contestation=False), rng=2)
    start = fixed.agenda.copy()
    fixed.run(10)
    assert np.array_equal(fixed.agenda, start)
    moving = CoPModel(Params(**SMALL, conversation_as_data=True), rng=2)
    start = moving.agenda.copy()
    moving.run(10)
    assert not np.allclose(moving.agenda, start)


def test_role_play_window_and_fewer_conflicts():
    p = dict(safety=0.2, role_play_start=0, role_play_duration=10, max_steps=10)
    model = CoPModel(Params(**{**SMALL, **p}, role_play=True), rng=0)
    assert model.role_play_active()
    with_rp = sum(
        run(s, role_play=True, **p).community.records.counts["conflicts"] for s in range(4)
    )
    without = sum(
        run(s, role_play=False, **p).community.records.counts["conflicts"] for s in range(4)
    )
    assert with_rp < 0.7 * without


def test_champions_leave_first():
    model = CoPModel(Params(**SMALL, champions_leave=True, exit_rate=0.2), rng=3)
    model.run(5)
    c = model.community
    centrality, before = c.derived.centrality(), model.present.copy()
    membership.step(c)  # the exits-and-entries stage of a period
    left = before & ~model.present
    stayed = before & model.present
    assert left.any() and stayed.any()  # exit_rate 0.2: someone leaves, most stay
    assert centrality[left].min() >= centrality[stayed].max()
    assert any(e.kind == "champions" for e in model.events)


def test_grand_plan_pulls_repertoires_toward_the_expert():
    """Over 8 seeds, codes on codified dimensions agree with the expert's view in
    more than 80% of cells on average (every space's votes are replaced)."""
    agree = []
    for seed in range(8):
        model = CoPModel(Params(**SMALL, grand_plan=True, conditionality=1.0), rng=seed).run()
        codified = ~model.tacit
        view = grand_plan.expert_view(model.community)[0]  # the one run's (m,) view
        agree.append((model.codes[:, codified] == view[codified]).mean())
    assert np.mean(agree) > 0.8


def test_tacit_dimensions_never_enter_repertoires_but_are_learned():
    model = CoPModel(Params(**SMALL, tacit_share=0.5), rng=6)
    start = model.beliefs[:, model.tacit].copy()
    model.run()
    assert np.all(model.codes[:, model.tacit] == 0)
    assert (model.beliefs[:, model.tacit] != start).any()


def test_no_asymmetry_means_equal_weights_and_full_receptiveness():
    model = CoPModel(Params(**SMALL, power_asymmetry=0.0), rng=1)
    assert np.allclose(model.community.derived.receptiveness(), 1.0)
    lay = model.community.layout
    w = pop.power_weights(lay, model.power, model.present, 0.0)
    assert np.allclose(w[model.present], 1.0)
    scores = np.arange(40)
    rank = pop.power_rank(lay, model.power, model.present)
    assert np.array_equal(pop.perceived_scores(lay, scores, rank, model.present, 0.0), scores)


def test_high_asymmetry_makes_the_powerful_look_superior():
    rng = np.random.default_rng(0)
    power = rng.uniform(0.1, 1.0, 200)
    scores = rng.integers(-30, 31, 200)
    everyone = np.ones(200, bool)
    lay = Layout(1, 200, 1, 1)
    rank = pop.power_rank(lay, power, everyone)
    perceived = pop.perceived_scores(lay, scores, rank, everyone, 9.0)
    top, bottom = power > np.quantile(power, 0.8), power < np.quantile(power, 0.2)
    assert perceived[top].min() > perceived[bottom].max()


def test_a_community_whose_spaces_lost_every_member_still_steps():
    # no contestation: under the bindura rule the shut-out could challenge their way back in
    model = CoPModel(Params(**SMALL, entry_rate=0.0, contestation=False), rng=8)
    model.community.members.keep(
        np.zeros(len(model.community.members), dtype=bool)
    )  # everyone shut out
    for _ in range(5):
        model.step()
        check_invariants(model)
    assert len(model.community.members) == 0
    assert model.metrics["participation_mean"] == 0.0


def test_newcomers_join_as_many_spaces_as_founders():
    """With 20 spaces a newcomer still joins 1 + Poisson(0.3) of them, as founders do,
    not every space that would admit it."""
    sizes = []
    for seed in range(4):
        params = Params(n_practitioners=300, n_spaces=20, turnover_rate=0.05, max_steps=60)
        model = CoPModel(params, rng=seed).run()
        newcomers = model.present & ~model.community.people.founder
        sizes.append(np.bincount(model.community.members.slot, minlength=300)[newcomers])
    sizes = np.concatenate(sizes)
    sizes = sizes[sizes > 0]  # not those shut out of their only space after a challenge
    assert sizes.size > 200
    assert 1.15 < sizes.mean() < 1.45  # expected 1.3, SE about 0.02


def test_closed_boundaries_admit_no_newcomers():
    model = CoPModel(Params(**SMALL, permeability=0.0, turnover_rate=0.05), rng=0).run()
    assert model.exits > 0
    assert model.community.people.founder[model.present].all()


def test_newcomers_get_new_agents_and_stayers_keep_theirs():
    model = CoPModel(Params(**SMALL, turnover_rate=0.1), rng=6)
    model.run(3)
    before = {slot: a.unique_id for slot, a in enumerate(model.slot_agent) if a is not None}
    model.run(5)  # nobody looks at the agents during these steps
    after = {slot: a.unique_id for slot, a in enumerate(model.slot_agent) if a is not None}
    assert sorted(after) == np.flatnonzero(model.present).tolist()
    stayed = [s for s in after if s in before and model.tenure[s] >= 8]
    arrived = [s for s in after if model.tenure[s] < 5]
    assert stayed and arrived
    assert all(after[s] == before[s] for s in stayed)
    assert all(after[s] not in before.values() for s in arrived)
    assert len(model.agents) == int(model.present.sum())


@pytest.mark.parametrize("levels", [None, 4])  # continuous power, or many ties
def test_power_rank_is_taken_within_each_run(levels):
    """In an ensemble, each run's ranks are those of its present members alone:
    least -1, most +1, equal power ordered by slot, empty slots 0."""
    rng = np.random.default_rng(7)
    runs, n = 5, 60
    lay = Layout(runs, n, 1, 1)
    power = rng.integers(0, levels, runs * n) / levels if levels else rng.random(runs * n)
    present = rng.random(runs * n) < 0.7
    rank = pop.power_rank(lay, power, present)
    for k in range(runs):
        block = slice(k * n, (k + 1) * n)
        who = np.flatnonzero(present[block])
        order = who[np.argsort(power[block][who], kind="stable")]
        want = np.zeros(n)
        want[order] = np.linspace(-1.0, 1.0, order.size)
        assert np.allclose(rank[block], want)
        assert np.all(rank[block][~present[block]] == 0)


def test_perceived_standing_ranks_present_members_only():
    rng = np.random.default_rng(3)
    power = rng.uniform(0.1, 1.0, 100)
    scores = rng.integers(-30, 31, 100)
    present = rng.random(100) < 0.6
    lay = Layout(1, 100, 1, 1)
    perceived = pop.perceived_scores(lay, scores, pop.power_rank(lay, power, present), present, 1.0)
    # the weakest present member stands at -1, the strongest at +1 (times half the range)
    m = np.abs(scores[present]).max()
    rank = (2 * perceived[present] - scores[present]) / m
    assert rank.min() == pytest.approx(-1.0) and rank.max() == pytest.approx(1.0)
    # empty slots, however powerful, do not change anyone's standing
    moved = power.copy()
    moved[~present] = 10.0
    again = pop.perceived_scores(lay, scores, pop.power_rank(lay, moved, present), present, 1.0)
    assert np.array_equal(again[present], perceived[present])


def test_a_dissolved_space_stops_meeting_and_its_members_drift_away():
    for funding in (True, False):
        model = CoPModel(Params(**SMALL, funding=funding, exit_rate=0.0), rng=4)
        model.alive[0] = False
        inside = model.community.members.space == 0
        before = model.community.members.participation[inside].sum()
        for _ in range(5):
            model.step()
        assert model.intensity[0] == 0.0
        assert (
            model.community.members.participation[model.community.members.space == 0].sum()
            < 0.5 * before
        )


def test_inclusion_counts_the_starting_cohort_even_after_it_leaves():
    model = CoPModel(Params(**SMALL), rng=5).run(10)
    cohort = np.flatnonzero(model.community.people.cohort)
    core = model.home_participation() >= model.params.core_threshold
    outside = cohort[~core[cohort]]
    assert outside.size > 0
    before = model.metrics["inclusion"]
    membership.leave(model.community, outside)  # push out the cohort members still at the edge
    record = measures.measure(model.community, schedule.hooks("measures"))
    assert record["inclusion"] == pytest.approx(before)


def test_identity_similarity_matches_pairwise_definition():
    rng = np.random.default_rng(3)
    identity = rng.integers(0, 3, (30, 2)).astype(np.int16)
    dense = rng.random((4, 30)) * (rng.random((4, 30)) < 0.5)
    space, slot = np.nonzero(dense)
    fast = pop.similarity_to_space(identity, space, slot, dense[space, slot], [3, 3])
    same = (identity[:, None, :] == identity[None, :, :]).mean(axis=2)  # (i, j)
    slow = (dense @ same.T) / dense.sum(axis=1, keepdims=True)  # (space, i)
    assert np.allclose(fast, slow[space, slot])


def test_memberships_home_is_the_highest_participation():
    mb = Memberships(3, 4)
    mb.add(np.array([0, 1, 2, 1]), np.array([0, 0, 1, 2]), np.array([0.2, 0.7, 0.4, 0.1]), 0.5)
    home = mb.home()
    assert home.tolist() == [1, 2, 3, -1]
    assert mb.per_space(mb.participation).tolist() == pytest.approx([0.2, 0.8, 0.4])
    assert mb.dense(mb.participation)[1, 0] == 0.7
    votes = mb.weighted_rows(np.ones(4), np.eye(4))
    assert votes.tolist() == [[1, 0, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0]]
    mb.drop_slots(np.array([0]))
    assert len(mb) == 2 and set(mb.slot.tolist()) == {1, 2}


def test_custom_identity_dimensions():
    dims = {"caste": ["a", "b", "c"], "language": ["x", "y"]}
    model = CoPModel(Params(**SMALL, identity_dimensions=dims), rng=1).run(5)
    agent = next(iter(model.agents))
    assert set(agent.identity) == {"caste", "language"}
    assert agent.identity["caste"] in dims["caste"]
