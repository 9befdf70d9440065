"""Property-based fuzzing of the config loader and of Params (hypothesis).

Whatever a config file or a Params call holds, the only outcomes allowed are a
valid result or a ConfigError / ParamsError that names the field at fault: never
another exception (a traceback for the user), never a hang.  Every test is bounded
(at most 150 examples, small trees) so the whole file runs in a few seconds.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from copsim import Params
from copsim.params import ParamsError
from copsim.sweep.config import SECTIONS, ConfigError, config_from_text, read_source

FILE = "fuzz.yaml"
FIELDS = list(Params.model_fields)
SCHEMA_KEYS = sorted({name for section in SECTIONS.values() for name in section.model_fields})

#: Examples per test; raise it for a longer hunt (``COPSIM_FUZZ_EXAMPLES=5000 pytest ...``).
EXAMPLES = int(os.environ.get("COPSIM_FUZZ_EXAMPLES", "150"))
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # leave no .hypothesis folder behind in the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["march1991", "bindura_eag", "domain", "cut", "copsim.model:CoPModel"]),
)
keys = st.one_of(st.sampled_from(SCHEMA_KEYS + FIELDS), st.text(max_size=8), st.integers(0, 3))
trees = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)
numpy_scalars = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(np.int64),
    st.integers(0, 255).map(np.uint8),
    st.floats(allow_nan=True, allow_infinity=True).map(np.float64),
    st.floats(width=32, allow_nan=False).map(np.float32),
    st.booleans().map(np.bool_),
)
values = st.one_of(trees, numpy_scalars)

GOOD: dict[str, Any] = {
    "name": "fuzz",
    "base": {"preset": "march1991", "params": {"n_practitioners": 8, "n_dimensions": 8}},
    "design": {"grid": {"socialization_rate": [0.2, 0.8]}},
    "replicates": 2,
    "seed": 3,
    "steps": 5,
}
#: Every place of a config a value can be put, as key paths into the document.
CONFIG_PATHS = [(*where, name) for where, model in SECTIONS.items() for name in model.model_fields]
CONFIG_PATHS += [("design", "scenarios", "s1", "preset"), ("design", "lhs", "ranges", "safety")]


def dump(document: Any) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def outcome(text: str) -> list:
    """Validate ``text``; return its problems ([] when valid); fail on any other exception."""
    try:
        config_from_text(text, FILE)
    except ConfigError as exc:
        assert exc.problems, "a ConfigError lists at least one problem"
        for problem in exc.problems:
            assert str(problem).startswith(FILE)
        return exc.problems
    return []


def names_path(problems: list, path: tuple) -> bool:
    """Does some problem name ``path`` (itself, a part of it, or the field within it)?"""
    target = dotted(path)
    for problem in problems:
        field = problem.field.replace("[", ".").replace("]", "")
        if field and (target.startswith(field) or field.startswith(target)):
            return True
        if str(path[-1]) in str(problem):
            return True
    return False


#: A complete sampling block, so that a value put into one of its fields is the only fault.
SAMPLING = {"samples": 4, "ranges": {"safety": [0.0, 1.0]}}


def put(document: dict, path: tuple, value: Any) -> dict:
    """A copy of ``document`` with ``value`` at ``path`` (creating mappings on the way)."""
    out = copy.deepcopy(document)
    if path[:2] in (("design", "lhs"), ("design", "sobol")) and len(path) > 2:
        out["design"][path[1]] = copy.deepcopy(SAMPLING)
    node = out
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    return out


def test_the_good_document_is_valid():
    assert outcome(dump(GOOD)) == []


@BOUNDED
@given(trees)
def test_random_yaml_trees(document):
    outcome(dump(document))


@BOUNDED
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#, \n\t%@`?0.e")), max_size=60))
def test_random_yaml_text(text):
    outcome(text)


@BOUNDED
@given(st.binary(max_size=64))
def test_random_bytes_as_a_config_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "bytes.yaml"
    path.write_bytes(data)
    try:
        read_source(path)
    except ConfigError as exc:
        assert str(path) in str(exc)


@BOUNDED
@given(st.sampled_from(CONFIG_PATHS), values)
def test_any_value_in_any_config_field(path, value):
    document = put(GOOD, path, value)
    try:
        text = dump(document)
    except yaml.YAMLError:
        assume(False)  # numpy scalars cannot be written as safe YAML
    problems = outcome(text)
    if problems:
        assert names_path(problems, path), ([str(p) for p in problems], path)


@BOUNDED
@given(st.sampled_from(FIELDS), trees, st.sampled_from(["base", "grid", "scenario"]))
def test_any_value_for_any_parameter_in_a_config(name, value, where):
    if where == "base":
        path = ("base", "params", name)
    elif where == "grid":
        path, value = ("design", "grid", name), [value]
    else:
        path = ("design", "scenarios", "s1", name)
    document = put(GOOD, path, value)
    if name == "socialization_rate" and where != "base":
        del document["design"]["grid"]
    problems = outcome(dump(document))
    if problems:
        assert any(name in str(p) for p in problems), [str(p) for p in problems]


@BOUNDED
@given(st.sampled_from(FIELDS), values)
def test_any_value_for_any_params_field(name, value):
    try:
        Params(**{name: value})
    except ParamsError as exc:
        assert name in str(exc) and name in exc.fields


@BOUNDED
@given(st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), values, max_size=5))
def test_random_params_records(record):
    try:
        Params(**record)
    except ParamsError as exc:
        named = set(exc.fields)
        assert named & {str(key) for key in record}, (exc.fields, record)
        assert all(name in str(exc) for name in named)


@pytest.mark.parametrize("name", FIELDS)
def test_every_params_field_names_itself_when_wrong(name):
    with pytest.raises(ParamsError) as info:
        Params(**{name: object()})
    assert name in str(info.value) and info.value.fields == (name,)
