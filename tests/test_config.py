"""Experiment config validation: every kind of mistake is reported with file, line, field, value."""

from pathlib import Path

import pytest

from copsim.sweep.config import ConfigError, config_from_text, load_config

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.yaml"))

GOOD = """\
name: tiny
base:
  preset: march1991
  params:
    n_practitioners: 8
design:
  grid:
    socialization_rate: [0.1, 0.9]
replicates: 2
seed: 1
steps: 10
"""


def problems_of(text: str) -> list:
    with pytest.raises(ConfigError) as info:
        config_from_text(text, "exp.yaml")
    return info.value.problems


def with_sampling(kind: str, samples: int, name: str, bounds: str) -> str:
    """GOOD with a sampling block in its design (the range is on line 12)."""
    block = f"  {kind}:\n    samples: {samples}\n    ranges:\n      {name}: {bounds}\n"
    return GOOD.replace("replicates: 2", block + "replicates: 2")


def only_problem(text: str):
    found = problems_of(text)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_good_config_validates():
    cfg = config_from_text(GOOD)
    assert cfg.name == "tiny" and cfg.replicates == 2
    assert cfg.design.grid == {"socialization_rate": [0.1, 0.9]}
    assert str(cfg.output_dir) == "results/tiny"


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_shipped_configs_are_valid(path):
    cfg = load_config(path)
    assert cfg.name == path.stem


def test_unknown_key_names_line_and_suggests():
    p = only_problem(GOOD.replace("replicates: 2", "replicats: 2"))
    assert p.line == 9 and p.file == "exp.yaml"
    assert "unknown key 'replicats'" in str(p) and "did you mean 'replicates'?" in str(p)


def test_unknown_nested_key_lists_allowed_keys():
    p = only_problem(GOOD + "record:\n  step_every: 5\n")
    assert p.line == 13 and p.field == "record.step_every"
    assert "did you mean 'steps_every'?" in p.message and "agents_every" in p.message


def test_wrong_type_names_field_value_and_expectation():
    p = only_problem(GOOD.replace("replicates: 2", "replicates: two"))
    text = str(p)
    assert p.line == 9 and "replicates = 'two'" in text and "valid integer" in text


def test_number_written_as_text_gets_a_yaml_hint():
    p = only_problem(GOOD.replace("[0.1, 0.9]", "[0.1, 1e-3]"))
    assert p.field == "design.grid.socialization_rate[1]" and p.line == 8
    assert "1.0e-3" in p.message


def test_out_of_range_parameter_value_says_what_is_allowed():
    p = only_problem(GOOD.replace("[0.1, 0.9]", "[0.1, 1.5]"))
    text = str(p)
    assert p.line == 8 and "socialization_rate[1] = 1.5" in text
    assert "less than or equal to 1" in text and "in [0, 1]" in text


def test_out_of_range_setting():
    p = only_problem(GOOD.replace("replicates: 2", "replicates: 0"))
    assert "greater than or equal to 1" in p.message and p.value == 0


def test_unknown_parameter_suggests_the_near_miss():
    p = only_problem(GOOD.replace("    n_practitioners: 8", "    n_practitioner: 8"))
    assert p.line == 5 and "unknown parameter 'n_practitioner'" in p.message
    assert "did you mean 'n_practitioners'?" in p.message


def test_unknown_preset():
    p = only_problem(GOOD.replace("preset: march1991", "preset: march1990"))
    assert p.line == 3 and "unknown preset" in p.message and "march1991" in p.message


@pytest.mark.parametrize(
    "design, field",
    [
        ("  grid:\n    socialization_rate: []\n", "design.grid.socialization_rate"),
        ("  grid: {}\n", "design.grid"),
        ("  scenarios: {}\n", "design.scenarios"),
        ("  lhs:\n    samples: 4\n    ranges: {}\n", "design.lhs.ranges"),
    ],
)
def test_empty_sweep_is_an_error(design, field):
    text = GOOD.replace("  grid:\n    socialization_rate: [0.1, 0.9]\n", design)
    p = only_problem(text)
    assert p.field == field and "empty" in p.message


def test_missing_required_key():
    p = only_problem(GOOD.replace("seed: 1\n", ""))
    assert p.field == "seed" and "required key missing" in p.message


def test_all_problems_are_reported_at_once():
    text = GOOD.replace("replicates: 2", "replicates: -1").replace("steps: 10", "stepz: 10")
    found = problems_of(text)
    assert {p.field for p in found} == {"replicates", "stepz"}


def test_yaml_syntax_error_has_a_line():
    p = only_problem(GOOD.replace("seed: 1", "seed: [1"))
    assert "invalid YAML" in p.message and p.line is not None and p.line >= 10


def test_duplicate_key_is_an_error():
    p = only_problem(GOOD + "seed: 2\n")
    assert p.line == 12 and "given twice" in p.message


def test_sobol_samples_must_be_power_of_two():
    p = only_problem(with_sampling("sobol", 60, "turnover_rate", "[0.0, 0.2]"))
    assert p.field == "design.sobol.samples" and "did you mean 64?" in p.message


def test_sampling_range_outside_parameter_bounds():
    p = only_problem(with_sampling("lhs", 4, "turnover_rate", "[0.0, 2.0]"))
    assert p.field == "design.lhs.ranges.turnover_rate" and p.line == 12
    assert "bounds" in p.message and p.value == [0.0, 2.0]


def test_non_numeric_parameter_cannot_be_sampled():
    p = only_problem(with_sampling("lhs", 4, "social_layer", "[0, 1]"))
    assert "only numeric parameters can be sampled" in p.message


def test_parameter_set_by_two_design_parts():
    p = only_problem(with_sampling("lhs", 4, "socialization_rate", "[0.0, 1.0]"))
    assert "set by both grid and lhs" in p.message


def test_run_settings_are_not_design_parameters():
    p = only_problem(GOOD.replace("    n_practitioners: 8", "    max_steps: 8"))
    assert "set by the run settings" in p.message and p.field == "base.params.max_steps"


def test_report_factor_must_exist():
    p = only_problem(GOOD + "report:\n  by: [socialisation_rate]\n")
    assert "did you mean 'socialization_rate'?" in p.message and p.line == 13


def test_scenario_values_are_checked_with_their_line():
    text = GOOD.replace(
        "  grid:\n    socialization_rate: [0.1, 0.9]\n",
        "  scenarios:\n    fast:\n      socialization_rate: 0.9\n    odd:\n      turnover_rate: -1\n",
    )
    p = only_problem(text)
    assert p.field == "design.scenarios.odd.turnover_rate" and p.line == 11 and p.value == -1


def test_unreadable_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read file"):
        load_config(tmp_path / "missing.yaml")


def test_error_message_format_names_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("seed: 1", "seed: -5"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"{path}:10: seed = -5: " in str(info.value)


def test_choice_parameter_lists_its_choices():
    text = GOOD.replace(
        "socialization_rate: [0.1, 0.9]", "organizing_principle: [domain, geograpy]"
    )
    p = only_problem(text)
    assert p.field == "design.grid.organizing_principle[1]" and p.value == "geograpy"
    assert "one of 'domain', 'geography', 'challenge'" in p.message


def test_flag_parameter_in_base_params():
    cfg = config_from_text(GOOD.replace("n_practitioners: 8", "contestation: false"))
    assert cfg.base.params == {"contestation": False}
    p = only_problem(GOOD.replace("n_practitioners: 8", "contestation: maybe"))
    assert p.field == "base.params.contestation" and "valid boolean" in p.message


def test_parameter_in_scenarios_and_grid():
    text = GOOD.replace(
        "  grid:\n",
        "  scenarios:\n    fast: {socialization_rate: 0.9}\n  grid:\n",
    )
    p = only_problem(text)
    assert p.message.startswith("set by both scenarios and grid") and p.line == 10
