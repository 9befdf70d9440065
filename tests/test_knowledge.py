"""March's rules, one by one, on the shared kernels."""

import numpy as np
import pytest

from copsim import knowledge as kn


def rng(seed=0):
    return np.random.default_rng(seed)


def test_socialization_is_gradual():
    beliefs = np.array([[-1, 0, 1, -1, 1]], dtype=np.int8)
    code = np.array([[1, 1, 1, 0, 0]], dtype=np.int8)
    kn.socialize(beliefs, code, 1.0, rng())
    # -1 only reaches 0 (back to experimenting); 0 adopts the code; a 0 code pulls nothing
    assert beliefs.tolist() == [[0, 1, 1, -1, 1]]
    kn.socialize(beliefs, code, 1.0, rng())
    assert beliefs.tolist() == [[1, 1, 1, -1, 1]]


def test_socialization_rate_is_a_probability_per_belief():
    beliefs = np.zeros((400, 250), dtype=np.int8)
    code = np.ones((1, 250), dtype=np.int8)
    moved = kn.socialize(beliefs, code, 0.3, rng(1))
    share = moved / beliefs.size
    se = np.sqrt(0.3 * 0.7 / beliefs.size)
    assert abs(share - 0.3) < 5 * se
    assert moved == np.count_nonzero(beliefs == 1)


def test_per_individual_rates_apply_row_by_row():
    beliefs = np.zeros((2, 20000), dtype=np.int8)
    code = np.ones((1, 20000), dtype=np.int8)
    kn.socialize(beliefs, code, np.array([[0.0], [1.0]]), rng(2))
    assert np.all(beliefs[0] == 0) and np.all(beliefs[1] == 1)


def test_actions_flip_coins_only_for_zeros():
    beliefs = kn.draw_beliefs(rng(3), (200, 30))
    actions = kn.act(beliefs, rng(4))
    decided = beliefs != 0
    assert np.array_equal(actions[decided], beliefs[decided])
    assert set(np.unique(actions[~decided]).tolist()) == {-1, 1}
    assert abs((actions[~decided] == 1).mean() - 0.5) < 5 * np.sqrt(0.25 / (~decided).sum())


def test_superior_group_is_chosen_by_action_score_not_belief():
    # two undecided individuals: belief score 0 = code score 0, so on beliefs
    # neither beats the code; on actions each does about half the time
    reality = np.ones(9, dtype=np.int8)
    beliefs = np.zeros((2, 9), dtype=np.int8)
    code = np.zeros((1, 9), dtype=np.int8)
    wins = 0
    g = rng(5)
    for _ in range(400):
        actions = kn.act(beliefs, g)
        w = kn.superior_weights(kn.score(actions, reality), kn.score(code, reality))
        wins += int(w.sum())
        assert np.array_equal(w[0] > 0, kn.score(actions, reality) > 0)
    assert 0.35 < wins / 800 < 0.65  # P(score > 0) = 0.5 for 9 fair coins


@pytest.mark.parametrize("k", [1, 3, 6])
@pytest.mark.parametrize("start", [0, -1])
def test_code_adopts_majority_with_probability_one_minus_keep_to_the_k(k, start):
    p2 = 0.3
    code = np.full((1, 40000), start, dtype=np.int8)
    votes = np.full((1, 40000), float(k), dtype=np.float32)
    kn.learn_code(code, votes, p2, rng(6))
    expected = 1 - (1 - p2) ** k
    share = (code == 1).mean()
    assert abs(share - expected) < 5 * np.sqrt(expected * (1 - expected) / code.size)
    assert np.all(np.isin(code, [start, 1]))


def test_net_votes_count_differ_minus_agree():
    actions = np.array([[1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.int8)
    weights = np.array([[1, 1, 1, 0]], dtype=np.float32)  # 4th is not superior
    assert kn.net_votes(actions, weights).tolist() == [[3.0, -1.0]]


def test_ties_and_agreement_change_nothing():
    code = np.array([[1, -1, 0, 1]], dtype=np.int8)
    votes = np.array([[0.0, 0.0, 0.0, 5.0]], dtype=np.float32)  # ties, ties, tie, agrees
    assert kn.learn_code(code, votes, 1.0, rng(7)) == 0
    assert code.tolist() == [[1, -1, 0, 1]]


def test_equilibrium_needs_no_learning_left_either_way():
    reality = np.array([[1, 1, -1]], dtype=np.int8)
    code = np.array([[[1, 1, 1]]], dtype=np.int8)  # score 1
    same = np.array([[[1, 1, 1], [1, 1, 1]]], dtype=np.int8)
    assert kn.at_equilibrium(same, code, reality).tolist() == [True]
    differs = same.copy()
    differs[0, 1, 2] = -1  # could still learn from the code
    assert kn.at_equilibrium(differs, code, reality).tolist() == [False]
    # everyone matches a code with a neutral dimension, but a lucky coin can beat it
    code0 = np.array([[[1, 1, 0]]], dtype=np.int8)  # score 2; zeros act 1 or -1 -> 3 or 1
    undecided = np.array([[[1, 1, 0], [1, 1, 0]]], dtype=np.int8)
    assert kn.at_equilibrium(undecided, code0, reality).tolist() == [False]


def test_turnover_and_turbulence_rates():
    beliefs = np.zeros((20000, 5), dtype=np.int8)
    leaving = kn.replace_individuals(beliefs, 0.1, rng(8))
    assert abs(leaving.mean() - 0.1) < 5 * np.sqrt(0.09 / 20000)
    assert np.all(beliefs[~leaving] == 0)
    reality = np.ones(50000, dtype=np.int8)
    flips = kn.shift_reality(reality, 0.02, rng(9))
    assert flips == np.count_nonzero(reality == -1)
    assert abs(flips / 50000 - 0.02) < 5 * np.sqrt(0.02 * 0.98 / 50000)


def test_bernoulli_edges():
    g = rng(10)
    assert kn.bernoulli(g, 1.0, (1000,)).all()
    assert not kn.bernoulli(g, 0.0, (1000,)).any()
    assert kn.bernoulli(g, np.ones(1000), (1000,)).all()


def test_kernels_refuse_non_contiguous_beliefs():
    beliefs = np.zeros((4, 6), dtype=np.int8)[:, ::2]
    with pytest.raises(ValueError, match="contiguous"):
        kn.socialize(beliefs, np.ones((1, 3), dtype=np.int8), 0.5, rng())
