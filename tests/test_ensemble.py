"""The ensemble engine (issue 12): a run depends only on its parameters and its own seed.

Run k of an ensemble must give exactly the outcomes (and the whole per-period
record) of the same run alone in ``CoPModel``, whatever the ensemble's size, the
other runs in it, their parameters, and whether finished runs were compacted away.
"""

from __future__ import annotations

import numpy as np
import pytest

from copsim import CoPModel, Params
from copsim.ensemble import Ensemble, default_size, ensemble_key, run_ensembles

SMALL = dict(n_practitioners=24, n_spaces=3, max_steps=15)


def alone(params: Params, seed: int) -> tuple[dict, dict]:
    model = CoPModel(params, rng=seed).run()
    frame = model.datacollector.get_model_vars_dataframe()
    return model.outcomes(), {name: frame[name].to_numpy(dtype=float) for name in frame.columns}


def same(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    return all(
        np.array_equal(np.asarray(a[k]), np.asarray(b[k]), equal_nan=True)
        if not isinstance(a[k], str)
        else a[k] == b[k]
        for k in a
    )


def test_runs_alone_equal_runs_in_ensembles_of_every_size_and_mix():
    base = Params(**SMALL)
    mix = [
        base,
        base.replace(power_asymmetry=2.0, safety=0.1),
        base.replace(identity_diversity=0.0, funding_level=0.3),
        base.replace(contest_rate=0.4, renegotiation=1.0, exit_rate=0.05),
        base.replace(entry_rate=0.0, purpose_drift=0.0, conversation_rate=0.9),
    ]
    seeds = [11, 12, 13, 14, 15]
    want = [alone(p, s) for p, s in zip(mix, seeds, strict=True)]
    for size in (1, 2, 5):
        got = run_ensembles(mix, seeds, size=size, keep_history=True)
        for (outcome, series), result in zip(want, got, strict=True):
            assert same(outcome, result.outcomes)
            assert same(series, result.history)
    # a different composition: the same runs beside others, in another order
    others = [base.replace(safety=0.9)] * 3
    got = run_ensembles([*others, *mix[::-1]], [1, 2, 3, *seeds[::-1]], keep_history=True)
    for (outcome, series), result in zip(want[::-1], got[3:], strict=True):
        assert same(outcome, result.outcomes)
        assert same(series, result.history)


def test_records_taken_only_at_the_stop_equal_records_taken_every_period():
    """The sweep keeps no history, so measures are taken only when a run stops; no
    measure may change state, or the outcome would depend on how often it was
    taken.  Runs with every mechanism on, a shock and turnover, in ensembles
    without history, equal the same runs alone in ``CoPModel`` (measured every
    period)."""
    base = Params(**SMALL).replace(max_steps=25)
    switches = base.replace(
        turnover_rate=0.03,
        turbulence_rate=0.01,
        tacit_share=0.2,
        shock_kind="stop",
        shock_time=10,
        grand_plan=True,
        conditionality=0.8,
        champions_leave=True,
        conversation_as_data=True,
        role_play=True,
        role_play_start=3,
        role_play_duration=8,
        lpp_trajectory=True,
        resource_budgets=True,
    )
    mix = [base, switches, switches.replace(power_asymmetry=2.5), base.replace(exit_rate=0.3)]
    seeds = [31, 32, 33, 34]
    got = run_ensembles(mix, seeds, size=4, keep_history=False)
    for p, s, result in zip(mix, seeds, got, strict=True):
        assert result.history is None
        assert same(alone(p, s)[0], result.outcomes)


def test_compaction_drops_finished_runs_without_changing_the_others():
    # half the runs dissolve fast (everyone leaves), the rest run to the horizon
    base = Params(**SMALL)
    fragile = base.replace(exit_rate=1.0, entry_rate=0.0)
    mix = [fragile, base, fragile, base, fragile, base, fragile, base]
    seeds = list(range(20, 28))
    ens = Ensemble(mix, seeds, keep_history=True).run()
    assert ens.community.runs < len(mix)  # compacted
    for k, (p, s) in enumerate(zip(mix, seeds, strict=True)):
        outcome, series = alone(p, s)
        assert same(outcome, ens.outcomes(k))
        assert same(series, ens.histories()[k])
        assert ens.stop_reason(k) == CoPModel(p, rng=s).run().stop_reason()


def test_march_model_on_the_engine_stops_each_run_at_its_own_equilibrium():
    base = Params(social_layer=False, n_practitioners=20, n_dimensions=12, max_steps=400)
    mix = [base.replace(socialization_rate=r) for r in (0.1, 0.5, 0.9)]
    ens = Ensemble(mix, [3, 4, 5]).run()
    for k, p in enumerate(mix):
        model = CoPModel(p, rng=3 + k).run()
        assert ens.outcomes(k) == model.outcomes()
        assert ens.stop_reason(k) == model.stop_reason() == "equilibrium"


def test_only_shared_parameters_group_runs():
    base = Params(**SMALL)
    assert ensemble_key(base) == ensemble_key(base.replace(safety=0.1, power_asymmetry=3.0))
    assert ensemble_key(base) != ensemble_key(base.replace(contestation=False))
    with pytest.raises(ValueError, match="must share 'n_practitioners'"):
        Ensemble([base, base.replace(n_practitioners=30)], [1, 2])
    assert 1 <= default_size(base.replace(n_practitioners=100_000)) <= default_size(base)


def test_a_run_that_raises_is_recorded_and_the_others_go_on(monkeypatch):
    from copsim.submodels import conversation

    base = Params(**SMALL)
    good = run_ensembles([base] * 3, [1, 2, 3])
    real = conversation.step

    def broken(c):  # raises only in the community built from seed 2's key
        from copsim.draws import run_key

        if np.any(c.draws.keys == np.uint64(run_key(2))) and c.step == 3:
            raise FloatingPointError("boom")
        real(c)

    monkeypatch.setattr(conversation, "step", broken)
    from copsim import schedule

    monkeypatch.setattr(
        schedule,
        "SOCIAL",
        tuple(
            s if s.name != "conversation" else s.__class__(s.name, s.odd, broken, s.applies)
            for s in schedule.SOCIAL
        ),
    )
    got = run_ensembles([base] * 3, [1, 2, 3])
    assert got[1].error is not None and "boom" in got[1].error
    assert got[0].error is None and same(got[0].outcomes, good[0].outcomes)
    assert got[2].error is None and same(got[2].outcomes, good[2].outcomes)


def test_paired_arms_share_random_numbers_so_differences_are_sharper():
    """Common random numbers: the same seed in two arms that differ slightly gives
    far more similar runs than two different seeds in the same arm."""
    base = Params(**{**SMALL, "max_steps": 30})
    nudged = base.replace(safety=base.safety + 0.02)
    seeds = list(range(40))
    a = run_ensembles([base] * 40, seeds)
    b = run_ensembles([nudged] * 40, seeds)
    c = run_ensembles([nudged] * 40, [s + 1000 for s in seeds])
    e = np.array([r.outcomes["expansiveness"] for r in a])
    paired = np.array([r.outcomes["expansiveness"] for r in b]) - e
    unpaired = np.array([r.outcomes["expansiveness"] for r in c]) - e
    assert paired.var() < 0.5 * unpaired.var()
