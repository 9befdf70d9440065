"""The headline indices measured on the participants: invariants and contrasting communities.

Each invariant of ODD II.8 is a test: no learning gives low indices and the label
stagnant; replacing members is not learning; both indices lie in [0, 1] for every
run; flipping the signs of reality and of every belief together changes nothing;
and hand-built communities a reader would label get that label.
"""

from __future__ import annotations

import numpy as np
import pytest

from copsim import CoPModel, Params, learning, measures, outcomes, schedule
from copsim.learning import transitions
from copsim.submodels import membership

NO_LEARNING = dict(socialization_rate=0.0, conversation_rate=0.0, repertoire_learning_rate=0.0)
SMALL = dict(n_practitioners=40, max_steps=40)


def record(model: CoPModel) -> dict[str, float]:
    return measures.measure(model.community, schedule.hooks("measures"))


@pytest.mark.parametrize("turnover", [0.0, 0.1])
def test_nobody_learning_is_stagnant_even_with_churn(turnover):
    """Without learning (and with pure churn on top) no index rises above 0."""
    for seed in range(6):
        m = CoPModel(Params(**SMALL, **NO_LEARNING, turnover_rate=turnover), rng=seed).run()
        out = m.outcomes()
        assert out["expansiveness"] == 0.0 and out["defensiveness"] == 0.0
        assert out["new_ways"] == 0.0 and out["learning_volume"] == 0.0
        assert out["label"] in ("stagnant", "dissolved")
        if turnover:
            assert out["exits"] > 0  # churn happened, and it is not read as learning


def test_newcomers_bring_no_learning():
    """A slot taken by a newcomer starts its learning from the newcomer's own beliefs."""
    model = CoPModel(Params(**SMALL, turnover_rate=0.2), rng=3).run(10)
    c = model.community
    book = learning.ledger(c)
    occupant = c.people.occupant.copy()
    membership.turnover(c)  # the turnover stage of a period
    fresh = c.people.present & (c.people.occupant != occupant)
    assert fresh.any()
    assert np.array_equal(book.entry_beliefs[fresh], c.people.beliefs[fresh])
    assert not book.reached_core[fresh].any()


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        dict(tacit_share=1.0),  # nothing can be codified
        dict(n_spaces=1, power_asymmetry=3.0, safety=0.0, contest_rate=1.0),
        dict(turnover_rate=0.5),
        dict(shock_kind="stop", shock_time=2, shock_exit_rate=1.0),  # dissolves
    ],
)
def test_indices_are_defined_and_bounded_for_every_run(overrides):
    for seed in range(4):
        model = CoPModel(Params(**SMALL, **overrides), rng=seed)
        while model.running:
            model.step()
            for name in ("expansiveness", "defensiveness", "new_ways", "repertoire_novelty"):
                value = model.metrics[name]
                assert np.isfinite(value) and 0.0 <= value <= 1.0, (name, value)
            assert -1.0 <= model.metrics["conformity"] <= 1.0
        assert model.outcomes()["label"] in outcomes.LABELS


def test_a_community_without_members_is_defined():
    model = CoPModel(Params(**SMALL, entry_rate=0.0), rng=8)
    c = model.community
    c.members.keep(np.zeros(len(c.members), dtype=bool))  # everyone shut out
    model.step()
    assert model.metrics["expansiveness"] == 0.0 and model.metrics["defensiveness"] == 0.0


def test_flipping_every_sign_changes_no_index():
    """Reality, beliefs (now and on entry), repertoires and the dominant view flipped
    together describe the same community: every index is the same."""
    model = CoPModel(Params(**SMALL, tacit_share=0.2), rng=5).run(25)
    before = record(model)
    c = model.community
    c.world.reality *= -1
    c.people.beliefs *= -1
    learning.ledger(c).entry_beliefs *= -1
    c.spaces.codes *= -1
    c.baseline.powerful_view[...] *= -1
    after = record(model)
    for name in ("expansiveness", "defensiveness", "new_ways", "repertoire_novelty"):
        assert after[name] == pytest.approx(before[name]), name
    assert after["own_views_kept"] == pytest.approx(before["own_views_kept"])
    assert after["conformity"] == pytest.approx(before["conformity"])


# ----------------------------------------------------------------------------- contrasts
M = 12
TRUTH = np.ones(M, dtype=np.int8)
WRONG_VIEW = -TRUTH  # the powerful founders believed the opposite of reality


def contrast(entry: np.ndarray, now: np.ndarray, novelty: float, peripheral: float) -> dict:
    """Indices for participants with these beliefs (entry, now) facing WRONG_VIEW."""
    k = entry.shape[0]
    view = np.tile(WRONG_VIEW, (k, 1))
    moves = transitions(entry, now, view, np.tile(TRUTH, (k, 1)), np.zeros(k, np.int64), 1)
    judged = np.array([True])
    values = outcomes.indices(
        moves, (np.array([novelty]), judged), (np.array([peripheral]), judged), np.array([k]), M
    )
    return {name: float(v[0]) for name, v in values.items()}


def label(values: dict) -> str:
    return outcomes.classify(values["expansiveness"], values["defensiveness"], 10, 1)


def random_beliefs(rng: np.random.Generator, k: int) -> np.ndarray:
    return rng.integers(-1, 2, size=(k, M)).astype(np.int8)


CONTRASTS = {
    # the periphery leads the repertoire to the truth, and the members follow
    "periphery leads to the truth": lambda e: (np.tile(TRUTH, (len(e), 1)), 1.0, 0.8),
    # everyone converges on the powerful founders' wrong view
    "all converge on the powerful's wrong view": lambda e: (
        np.tile(WRONG_VIEW, (len(e), 1)),
        0.0,
        0.0,
    ),
    # nobody learns anything
    "nobody learns": lambda e: (e.copy(), 0.0, 0.0),
}


@pytest.mark.parametrize("case", list(CONTRASTS))
def test_contrasting_communities_get_the_labels_a_reader_would_give(case):
    rng = np.random.default_rng(1)
    entry = random_beliefs(rng, 20)
    now, novelty, peripheral = CONTRASTS[case](entry)
    values = contrast(entry, now, novelty, peripheral)
    expected = {
        "periphery leads to the truth": "expansive",
        "all converge on the powerful's wrong view": "defensive",
        "nobody learns": "stagnant",
    }[case]
    assert label(values) == expected, values


def test_pure_churn_is_not_expansion():
    """Members replaced by newcomers with other beliefs: nobody learned anything."""
    rng = np.random.default_rng(2)
    newcomers = random_beliefs(rng, 20)
    values = contrast(newcomers, newcomers.copy(), 0.0, 0.0)
    assert values["expansiveness"] == 0.0 and values["defensiveness"] == 0.0
    assert label(values) == "stagnant"


def test_learning_the_truth_from_difference_does_not_count_as_lost_views():
    """Participants who move from their own wrong beliefs to the truth (where the
    dominant view is also wrong) keep their own views: nothing was replaced."""
    entry = np.tile(np.zeros(M, dtype=np.int8), (5, 1))
    values = contrast(entry, np.tile(TRUTH, (5, 1)), 1.0, 1.0)
    assert values["own_views_kept"] == 1.0 and values["new_ways"] == 1.0


def test_conformity_is_signed():
    """Leaving the dominant view counts against defensiveness rather than being clipped
    before it is netted."""
    entry = np.tile(WRONG_VIEW, (4, 1))  # everyone held the view
    now = entry.copy()
    now[:, : M // 2] = 1  # ... and half of it was given up
    values = contrast(entry, now, 0.5, 0.5)
    assert values["conformity"] == pytest.approx(-1.0)
    assert values["defensiveness"] == 0.0


def test_a_label_has_a_margin_from_its_line():
    e_at, d_at = outcomes.EXPANSIVE_AT, outcomes.DEFENSIVE_AT
    label_, margin = outcomes.classify_with_margin(e_at + outcomes.EXPANSIVE_SPREAD, 0.0, 10, 1)
    assert label_ == "expansive" and margin == pytest.approx(1.0)
    label_, margin = outcomes.classify_with_margin(
        0.0, d_at - 0.5 * outcomes.DEFENSIVE_SPREAD, 10, 1
    )
    assert label_ == "stagnant" and margin == pytest.approx(0.5)
    assert outcomes.classify_with_margin(0.9, 0.9, 1, 1) == ("dissolved", 0.0)


@pytest.mark.slow
def test_the_label_thresholds_are_the_neutral_references_percentiles():
    """A fresh sample of the neutral reference (other seeds than the experiment's)
    puts its 10th percentile of expansiveness and 90th of defensiveness near the
    constants.  With 30 runs a percentile's standard error is about a third of the
    index's interquartile range; the tolerance is one full interquartile range."""
    from copsim.seeds import child_seed

    runs = [
        CoPModel(Params(**outcomes.NEUTRAL_REFERENCE), rng=child_seed(77, i)).run().metrics
        for i in range(30)
    ]
    e = np.percentile([r["expansiveness"] for r in runs], outcomes.EXPANSIVE_PERCENTILE)
    d = np.percentile([r["defensiveness"] for r in runs], outcomes.DEFENSIVE_PERCENTILE)
    assert abs(e - outcomes.EXPANSIVE_AT) < outcomes.EXPANSIVE_SPREAD
    assert abs(d - outcomes.DEFENSIVE_AT) < outcomes.DEFENSIVE_SPREAD
