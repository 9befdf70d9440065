import pytest
from pydantic import ValidationError

from copsim import Params, ParamsError


def test_defaults_are_valid_and_documented():
    p = Params()
    rows = Params.fields_table()
    assert {r["name"] for r in rows} == set(Params.model_fields)
    for r in rows:
        assert r["meaning"] and r["group"] and r["unit"], r["name"]
    assert p.model_dump()["n_dimensions"] == 30


@pytest.mark.parametrize(
    "bad, words",
    [
        (dict(socialization_rate=1.5), ["socialization_rate", "1.5", "less than or equal to 1"]),
        (dict(n_practitioners="many"), ["n_practitioners", "'many'", "integer"]),
        (dict(turnover_rate=-0.1), ["turnover_rate", "-0.1", "greater than or equal to 0"]),
        (dict(socializaton_rate=0.2), ["unknown parameter", "did you mean 'socialization_rate'"]),
    ],
)
def test_invalid_values_name_field_value_and_expectation(bad, words):
    with pytest.raises(ParamsError) as info:
        Params(**bad)
    for word in words:
        assert word in str(info.value)


def test_params_are_immutable_and_replace_validates():
    p = Params()
    with pytest.raises(ValidationError):
        p.socialization_rate = 0.5
    assert p.replace(socialization_rate=0.5).socialization_rate == 0.5
    with pytest.raises(ParamsError):
        p.replace(socialization_rate=5)


def test_march_preset_uses_march_notation():
    p = Params.march1991(p1=0.3, p2=0.9, p3=0.1, p4=0.02)
    assert (p.socialization_rate, p.repertoire_learning_rate) == (0.3, 0.9)
    assert (p.turnover_rate, p.turbulence_rate, p.max_steps) == (0.1, 0.02, 100)
    assert Params.preset("march1991").n_practitioners == 50
    with pytest.raises(ParamsError, match="did you mean 'march1991'"):
        Params.preset("march1990")


def test_parameter_table_in_docs_is_current():
    """docs/parameters.md is generated from Params; a stale copy fails here."""
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "docs" / "make_parameters.py"
    render = runpy.run_path(str(script))["render"]
    assert script.with_name("parameters.md").read_text() == render()
