"""The switchable power channels (ODD II.7.3-7.5): each on a hand-built community
worked out by hand, plus many-seed checks of what switching them does."""

from __future__ import annotations

import numpy as np
import pytest

from copsim import CoPModel, Params
from copsim.submodels import conversation, repertoire, socialization
from test_submodels import hand_built

#: Resources (time, money, capital): a powerless and a powerful practitioner.
WEAK, STRONG = [0.5, 0.0, 0.0], [0.5, 1.0, 1.0]


def unequal(**overrides):
    """Two members of one space: slot 0 powerless, slot 1 powerful."""
    return hand_built(
        beliefs=[[1, 1, -1, 0], [1, -1, -1, 1]],
        reality=[1, 1, 1, 1],
        joins=[(0, 0, 0.5, 0.5), (0, 1, 0.5, 0.5)],
        resources=[WEAK, STRONG],
        **overrides,
    )


# ----------------------------------------------------------------------- superiority


@pytest.mark.parametrize("on", [True, False])
def test_superiority_channel_decides_whether_the_powerful_look_superior(on):
    c = unequal(power_asymmetry=3.0, power_in_superiority=on)
    c.period.actions = np.array([[1, 1, 1, 1], [-1, -1, 1, 1]], dtype=np.int8)
    c.period.action_scores = np.array([1.0, -1.0])  # the powerful did worse than the code
    _, weights = repertoire.member_votes(c)
    # on: b = 3/4, M = 1, rank +1: perceived = 0.25 x -1 + 0.75 = 0.5 > 0 (the code's score)
    assert bool(weights[1] > 0) is on
    # the powerless did better than the code, but on it looks worse: 0.25 - 0.75 < 0
    assert bool(weights[0] > 0) is (not on)


# ----------------------------------------------------------------------- votes


@pytest.mark.parametrize("on", [True, False])
def test_votes_channel_weighs_votes_by_power(on):
    c = unequal(power_asymmetry=2.0, power_in_superiority=False, power_in_votes=on)
    c.period.actions = np.array([[1, 1, 1, 1], [1, -1, 1, 1]], dtype=np.int8)
    c.period.action_scores = np.array([4.0, 2.0])  # both beat the code
    _, weights = repertoire.member_votes(c)
    power = c.people.power
    w = (power / power.mean()) ** 2.0
    expected = w / w.mean() if on else np.ones(2)  # equal participation: one vote each
    assert weights == pytest.approx(expected)


def test_a_space_with_voice_norm_zero_gives_equal_votes():
    c = unequal(power_asymmetry=2.0, power_in_superiority=False)
    c.spaces.voice_norm = np.array([0.0])
    c.period.actions = np.array([[1, 1, 1, 1], [1, -1, 1, 1]], dtype=np.int8)
    c.period.action_scores = np.array([4.0, 2.0])
    _, weights = repertoire.member_votes(c)
    assert weights == pytest.approx([1.0, 1.0])


# ----------------------------------------------------------------------- receptiveness


def test_receptiveness_channel_off_makes_everyone_fully_receptive():
    c = unequal(power_asymmetry=2.0)
    on = c.derived.receptiveness()
    assert on[1] < 1.0 and on[0] == 1.0  # the powerful learn less
    assert c.derived.receptiveness(False) == pytest.approx([1.0, 1.0])


@pytest.mark.parametrize("on", [True, False])
def test_receptiveness_channel_in_socialization(on):
    c = unequal(power_asymmetry=10.0, socialization_rate=1.0, power_in_receptiveness=on)
    c.members.participation[:] = 1.0
    c.spaces.codes[0] = [1, 1, 1, 1]
    c.people.tenure[:] = 100  # no newcomer pressure
    socialization.step(c)
    # off: rate 1 for both; on: the powerful one's rate is 1/w, nearly 0 at asymmetry 10
    # one gradual step toward the code: -1 -> 0 on the two dimensions that differ
    moved = [1, 0, 0, 1]
    assert c.people.beliefs[1].tolist() == ([1, -1, -1, 1] if on else moved)
    assert c.people.beliefs[0].tolist() == [1, 1, 0, 1]


# ----------------------------------------------------------------------- voice


def _keyed():
    """Keyed draws for a 4 x 4 community (the outcome here does not depend on them)."""
    from copsim.draws import Draws, Keyed, run_key

    return Keyed(Draws([run_key(0)]), "test.learn", 16, 4)


def test_converse_hears_each_partner_by_its_voice():
    beliefs = np.array([[1, 1, 1, 1], [-1, -1, -1, -1], [1, 1, 1, 1], [-1, -1, -1, -1]], np.int8)
    scores = np.array([4.0, -4.0, 4.0, -4.0])
    left, right = np.array([0, 2]), np.array([1, 3])
    voice = np.array([[1.0, 1.0], [0.0, 10.0]])  # slot 1 does not hear 0; slot 3 hears 2 fully
    conflict, learned = conversation.converse(
        beliefs, scores, left, right, np.ones(2), np.zeros(2), np.zeros(2),
        0.5, 0.0, np.ones(4), np.ones(2), _keyed(), voice=voice,
    )  # fmt: skip
    assert not conflict.any()
    assert learned[1] == 0 and (beliefs[1] == -1).all()  # not heard: nothing learned
    assert learned[3] == 4 and (beliefs[3] == 0).all()  # 0.5 x 10 -> a sure step
    assert learned[0] == learned[2] == 0  # the better ones have nothing to learn


def test_voice_of_is_the_partners_power_weight_to_the_spaces_norm():
    c = unequal(power_asymmetry=1.0)
    w = c.derived.power_weights()
    left, right, space = np.array([0]), np.array([1]), np.array([0])
    assert conversation.voice_of(c, left, right, space)[:, 0] == pytest.approx([w[1], w[0]])
    c.spaces.voice_norm = np.array([2.0])
    assert conversation.voice_of(c, left, right, space)[:, 0] == pytest.approx(
        [w[1] ** 2, w[0] ** 2]
    )


def test_voice_channel_in_a_conversation_step():
    """The weak member (worse) hears the powerful one (better) more with voice on."""
    learned = {}
    for on in (False, True):
        total = 0
        for seed in range(30):
            c = unequal(
                power_asymmetry=1.0, safety=1.0, conversation_rate=0.3, power_in_voice=on,
                seed=seed,
            )  # fmt: skip
            c.members.participation[:] = 1.0
            c.period.action_scores = np.array([-4.0, 4.0])
            conversation.step(c)
            total += int(c.records.last_exchange.learned[0])
        learned[on] = total
    # powerful partner: w = power / mean power ~ 1.9, so about 1.9 x more steps
    assert learned[True] > 1.4 * learned[False]


# ----------------------------------------------------------------------- many seeds

SMALL = dict(n_practitioners=30, n_dimensions=20, max_steps=25)


def test_at_equal_power_the_channel_switches_change_nothing():
    """At asymmetry 0 every weight is 1 and every rank is ignored: switching the
    channels must leave every number of the run as it was."""
    off = dict.fromkeys(("power_in_superiority", "power_in_votes", "power_in_receptiveness"), False)
    for seed in range(3):
        base = CoPModel(Params(**SMALL, power_asymmetry=0.0), rng=seed).run()
        other = CoPModel(
            Params(**SMALL, power_asymmetry=0.0, power_in_voice=True, **off), rng=seed
        ).run()
        assert other.outcomes() == base.outcomes()


def test_every_power_channel_is_on_by_default():
    p = Params()
    channels = (p.power_in_superiority, p.power_in_votes, p.power_in_receptiveness)
    assert channels == (True,) * 3
    assert p.power_in_voice and p.power_in_legitimacy and p.power_in_agenda


def test_superiority_drives_the_powerful_views_into_the_repertoire():
    """Many seeds: at asymmetry 3, the repertoires agree more with the powerful's
    starting view when power makes them look superior (tolerance: the mean paired
    difference over 10 seeds must be positive)."""
    diffs = []
    for seed in range(10):
        runs = [
            CoPModel(Params(**SMALL, power_asymmetry=3.0, power_in_superiority=on), rng=seed).run()
            for on in (False, True)
        ]
        a, b = (r.outcomes()["alignment_with_powerful"] for r in runs)
        diffs.append(b - a)
    assert np.mean(diffs) > 0
