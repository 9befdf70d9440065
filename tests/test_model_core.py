"""The Mesa model with the social layer off is March's model, computed by the same kernels."""

import numpy as np
import pandas as pd
import pytest

from copsim import CoPModel, Params, Practitioner
from copsim.ensemble import Ensemble
from copsim.march import MarchSetting, run_batch

#: Runs per side of the distributional comparison below.
MARCH_RUNS = 400


@pytest.mark.parametrize("p1, p2", [(0.3, 0.5), (0.1, 0.9), (0.9, 0.1)])
def test_mesa_model_with_the_social_layer_off_has_march_batch_distribution(p1, p2):
    """The full engine with the social layer off and ``copsim.march``'s batches
    compute the same model with different random-number schemes (keyed draws vs a
    Generator stream), so they agree in distribution, not number for number.

    Over 400 runs each: the mean final code knowledge, mean individual knowledge
    and periods to equilibrium differ by less than 4 standard errors of the
    difference (measured: at most 1.2), and the spreads by less than 20%.  A
    rule that differs (for example, a learning rate used twice) shifts the means
    by many standard errors."""
    e = Ensemble(Params.march1991(p1=p1, p2=p2), list(range(MARCH_RUNS))).run()
    engine = pd.DataFrame([e.outcomes(k) for k in range(MARCH_RUNS)])
    batch = run_batch(MarchSetting(p1=p1, p2=p2), MARCH_RUNS, 2026)
    for ours, theirs in [
        ("code_knowledge", "code_knowledge"),
        ("mean_individual_knowledge", "mean_individual_knowledge"),
        ("steps", "periods"),
    ]:
        x = engine[ours].to_numpy(float)
        y = np.asarray(batch[theirs], float)
        se = np.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
        assert abs(x.mean() - y.mean()) < 4 * se, (ours, x.mean(), y.mean(), se)
        assert 0.8 < x.std() / y.std() < 1.25, (ours, x.std(), y.std())


def test_mesa_model_is_the_engine_run_alone():
    """``CoPModel`` is an ensemble of one: its outcome equals that run's inside a
    larger ensemble, bit for bit."""
    p = Params.march1991(p1=0.3, p2=0.5)
    e = Ensemble(p, list(range(6))).run()
    for seed in range(6):
        model = CoPModel(p, rng=seed).run()
        assert model.steps == e.outcomes(seed)["steps"]
        assert model.metrics["code_knowledge"] == e.outcomes(seed)["code_knowledge"]


def test_same_params_and_seed_give_identical_history():
    p = Params.march1991(p1=0.2, p2=0.5, p3=0.05, p4=0.02)
    a = CoPModel(p, rng=42).run().datacollector.get_model_vars_dataframe()
    b = CoPModel(p, rng=42).run().datacollector.get_model_vars_dataframe()
    c = CoPModel(p, rng=43).run().datacollector.get_model_vars_dataframe()
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_agents_are_views_into_model_arrays():
    model = CoPModel(Params.march1991(), rng=1)
    agent = model.slot_agent[7]
    assert isinstance(agent, Practitioner) and len(model.agents) == 50
    agent.beliefs[:] = 1
    assert np.all(model.beliefs[7] == 1)
    assert agent.knowledge == pytest.approx(model.reality.mean())


def test_turnover_replaces_agents_and_keeps_the_population():
    model = CoPModel(Params.march1991(p1=0.5, p3=0.2, p4=0.0), rng=3)
    first_ids = {a.unique_id for a in model.agents}
    model.run(20)
    assert len(model.agents) == 50
    assert model.exits > 0
    assert len(first_ids - {a.unique_id for a in model.agents}) > 0
    assert sorted(a.slot for a in model.agents) == list(range(50))


def test_open_system_runs_to_horizon():
    model = CoPModel(Params.march1991(p1=0.5, p4=0.01), rng=2).run()
    assert model.steps == 100 and not model.running


def test_agent_reporters_are_optional():
    quiet = CoPModel(Params.march1991(max_steps=3), rng=1).run()
    loud = CoPModel(Params.march1991(max_steps=3, record_agents=True), rng=1).run()
    assert quiet.datacollector.agent_reporters == {}
    agents = loud.datacollector.get_agent_vars_dataframe()
    assert len(agents) == 4 * 50 and "knowledge" in agents.columns


def test_keyword_overrides_are_validated():
    model = CoPModel(rng=0, n_practitioners=10, max_steps=2)
    assert len(model.agents) == 10
    with pytest.raises(ValueError, match="socialization_rate"):
        CoPModel(rng=0, socialization_rate=2.0)


def test_belief_diversity_matches_its_definition():
    from copsim.metrics import belief_diversity, gini

    rng = np.random.default_rng(0)
    beliefs = rng.integers(-1, 2, (500, 7)).astype(np.int8)
    shares = np.stack([(beliefs == v).mean(axis=0) for v in (-1, 0, 1)])
    expected = (1 - (shares**2).sum(axis=0)).mean() / (2 / 3)
    assert belief_diversity(beliefs) == pytest.approx(expected)
    assert belief_diversity(np.ones((10, 3), dtype=np.int8)) == 0.0
    assert gini(np.ones(10)) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 1.0])) == pytest.approx(0.75)


@pytest.mark.parametrize("bad", ["abc", -1, 2.5, True, [1, 2]])
def test_a_bad_seed_is_refused_naming_rng(bad):
    with pytest.raises(ValueError, match=r"rng = .* is not a seed"):
        CoPModel(Params.march1991(max_steps=3), rng=bad)


def test_seeds_of_every_accepted_kind_work():
    for seed in (0, np.int64(7), np.random.SeedSequence(3), np.random.default_rng(2), None):
        assert CoPModel(Params.march1991(max_steps=2), rng=seed).run().steps == 2


def test_stepping_a_finished_run_is_an_error_not_a_silent_extra_period():
    model = CoPModel(Params(n_practitioners=20, max_steps=3), rng=1).run()
    rows = len(model.datacollector.get_model_vars_dataframe())
    with pytest.raises(RuntimeError, match="max_steps = 3 reached"):
        model.step()
    assert len(model.datacollector.get_model_vars_dataframe()) == rows
    assert model.stop_reason() == "max_steps = 3 reached"
