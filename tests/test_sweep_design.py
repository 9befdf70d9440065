"""Design expansion: point order, precedence of settings, seeds, chunks, LHS and Sobol samples."""

import numpy as np
import pytest

from copsim.seeds import child_seed, seed_label
from copsim.sweep.config import config_from_text
from copsim.sweep.design import DESIGN_STREAM, Design, auto_chunk_size, sobol_sample

BASE = """\
name: d
base:
  preset: march1991
  params: {n_practitioners: 8, turnover_rate: 0.05}
seed: 99
steps: 12
stop: horizon
"""


def design_of(body: str) -> Design:
    return Design(config_from_text(BASE + body))


def test_grid_times_scenarios_in_file_order():
    d = design_of(
        "replicates: 3\n"
        "design:\n"
        "  scenarios:\n    a: {socialization_rate: 0.2}\n    b: {socialization_rate: 0.8}\n"
        "  grid:\n    turbulence_rate: [0.0, 0.1, 0.2]\n    n_dimensions: [5, 9]\n"
    )
    assert d.n_points == 2 * 3 * 2 and d.n_runs == 36
    assert d.factor_names == ["scenario", "turbulence_rate", "n_dimensions"]
    assert d.point_factors(0) == {"scenario": "a", "turbulence_rate": 0.0, "n_dimensions": 5}
    assert d.point_factors(1) == {"scenario": "a", "turbulence_rate": 0.0, "n_dimensions": 9}
    assert d.point_factors(11) == {"scenario": "b", "turbulence_rate": 0.2, "n_dimensions": 9}
    points = d.points_frame()
    assert len(points) == 12 and len(points.drop_duplicates(d.factor_names)) == 12


def test_precedence_preset_base_scenario_grid_run_settings():
    d = design_of(
        "design:\n"
        "  scenarios:\n"
        "    keep: {}\n"
        "    open: {turnover_rate: 0.2}\n"
        "  grid:\n    socialization_rate: [0.3]\n"
        "record:\n  agents: true\n"
    )
    keep, open_ = d.point_values(0), d.point_values(1)
    assert keep["n_dimensions"] == 30  # from the preset
    assert keep["n_practitioners"] == 8 and keep["turnover_rate"] == 0.05  # base params
    assert open_["turnover_rate"] == 0.2  # scenario beats base
    assert keep["socialization_rate"] == 0.3  # grid
    assert keep["max_steps"] == 12 and keep["stop_at_equilibrium"] is False
    assert keep["record_agents"] is True


def test_run_seed_comes_from_root_point_and_replicate():
    d = design_of("replicates: 4\ndesign:\n  grid:\n    socialization_rate: [0.1, 0.5, 0.9]\n")
    for run in (0, 5, 11):
        task = d.run_task(run)
        point, rep = divmod(run, 4)
        assert (task.point, task.replicate) == (point, rep)
        expected = child_seed(99, point, rep)
        assert task.seed.generate_state(4).tolist() == expected.generate_state(4).tolist()
        assert seed_label(task.seed) == f"99:{point}-{rep}"
    states = {tuple(d.run_task(r).seed.generate_state(2)) for r in range(d.n_runs)}
    assert len(states) == d.n_runs


def test_common_random_numbers_share_a_seed_across_points():
    d = design_of(
        "replicates: 2\ncommon_random_numbers: true\n"
        "design:\n  grid:\n    socialization_rate: [0.1, 0.9]\n"
    )
    assert seed_label(d.run_task(1).seed) == seed_label(d.run_task(3).seed) == "99:1"
    assert seed_label(d.run_task(0).seed) != seed_label(d.run_task(1).seed)


def test_chunks_cover_every_run_once_and_depend_only_on_the_config():
    d = design_of(
        "replicates: 7\nchunk_size: 3\ndesign:\n  grid:\n    socialization_rate: [0.1, 0.9]\n"
    )
    runs = [r for c in range(d.n_chunks) for r in d.chunk_runs(c)]
    assert runs == list(range(14)) and d.n_chunks == 5
    assert [t.run for t in d.chunk_task(4).runs] == [12, 13]
    # chunks run as ensembles: at least 64 runs (or all), about 100 chunks, at most 1,000
    assert auto_chunk_size(1) == 1 and auto_chunk_size(1000) == 64
    assert auto_chunk_size(30_000) == 300 and auto_chunk_size(10**7) == 1000
    assert (
        d.fingerprint()
        == design_of(
            "replicates: 7\nchunk_size: 3\ndesign:\n  grid:\n    socialization_rate: [0.1, 0.9]\n"
        ).fingerprint()
    )
    assert (
        d.fingerprint()
        != design_of(
            "replicates: 7\nchunk_size: 2\ndesign:\n  grid:\n    socialization_rate: [0.1, 0.9]\n"
        ).fingerprint()
    )


def test_lhs_is_stratified_and_integers_are_snapped():
    d = design_of(
        "design:\n  lhs:\n    samples: 20\n    ranges:\n"
        "      socialization_rate: [0.2, 0.6]\n      n_dimensions: [3, 12]\n"
    )
    assert d.n_points == 20 and d.factor_names == ["sample", "socialization_rate", "n_dimensions"]
    rates = np.array([d.point_factors(p)["socialization_rate"] for p in range(20)])
    # one sample in each of the 20 equal strata of [0.2, 0.6]
    strata = np.floor((rates - 0.2) / 0.4 * 20).astype(int)
    assert sorted(strata.tolist()) == list(range(20))
    dims = [d.point_values(p)["n_dimensions"] for p in range(20)]
    assert all(type(v) is int and 3 <= v <= 12 for v in dims)
    assert set(dims) == set(range(3, 13))  # 20 strata over 10 integers: each integer twice
    assert all(dims.count(v) == 2 for v in range(3, 13))


def test_sobol_design_is_salibs_saltelli_sample():
    d = design_of(
        "replicates: 2\ndesign:\n  sobol:\n    samples: 8\n    ranges:\n"
        "      socialization_rate: [0.1, 0.9]\n      turbulence_rate: [0.0, 0.1]\n"
    )
    assert d.n_points == 8 * (2 + 2) and d.n_runs == 64
    expected = sobol_sample(d.sobol_problem(), d.cfg.design.sobol, child_seed(99, DESIGN_STREAM))
    got = np.array(d.samples, dtype=float)
    np.testing.assert_array_equal(got, expected)
    # the same config draws the same sample; another root seed another one
    np.testing.assert_array_equal(np.array(Design(d.cfg).samples, dtype=float), got)
    other = Design(d.cfg.model_copy(update={"seed": 100}))
    assert not np.array_equal(np.array(other.samples, dtype=float), got)


def test_design_without_design_section_is_one_point():
    d = design_of("replicates: 5\n")
    assert d.n_points == 1 and d.n_runs == 5 and d.factor_names == []
    assert d.point_factors(0) == {}


@pytest.mark.parametrize("n", [1, 7])
def test_resolved_design_is_recorded(n):
    d = design_of(f"replicates: {n}\n")
    res = d.resolved()
    assert res["n_runs"] == n and res["root_seed"] == 99
    assert res["first_run_seed"] == "99:0-0"
