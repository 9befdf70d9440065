"""Helpers for the ensemble tests: build K runs together and each alone, compare them.

The property under test (issue 12): a run depends only on its parameters and its
own seed, so run k of an ensemble must equal the same run built alone, bit for
bit, after any number of stages.  ``state_of(c, k)`` extracts run k's whole
state (people, spaces, memberships, records, world, own submodel state, this
period's values) in local indices, so two states compare with ``==``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from copsim import initialization
from copsim.draws import run_key
from copsim.params import Params
from copsim.state import Community


def build_both(params: Sequence[Params], seeds: Sequence[int]) -> tuple[Community, list[Community]]:
    """The ensemble of all runs, and each run alone."""
    keys = [run_key(s) for s in seeds]
    ensemble = initialization.build(list(params), keys)
    alone = [initialization.build(p, [k]) for p, k in zip(params, keys, strict=True)]
    return ensemble, alone


def run_stage(fn: Callable[[Community], None], communities: Sequence[Community], step: int):
    """Run one stage function at period ``step`` on every community given."""
    for c in communities:
        c.step = step
        c.draws.step = step
        fn(c)


def _rows(value, k: int, c: Community):
    """Run k's part of one array (by its leading length), or the value itself."""
    lay = c.layout
    if isinstance(value, np.ndarray) and value.ndim >= 1:
        n = value.shape[0]
        if n == lay.n_slots:
            return lay.by_run(value)[k]
        if n == lay.n_spaces:
            return lay.spaces_by_run(value)[k]
        if n == lay.runs:
            return value[k]
    return value


def _fields(obj, k: int, c: Community, prefix: str) -> dict:
    out: dict = {}
    if obj is None:
        return out
    if isinstance(obj, np.ndarray):
        out[prefix] = _rows(obj, k, c)
        return out
    if isinstance(obj, dict):
        for name, v in obj.items():
            out.update(_fields(v, k, c, f"{prefix}.{name}"))
        return out
    if dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            if f.name in (
                "params",
                "events",
                "identity_names",
                "identity_levels",
                "last_exchange",
                "runs",
                "keep_events",
            ):
                continue
            out.update(_fields(getattr(obj, f.name), k, c, f"{prefix}.{f.name}"))
        return out
    if isinstance(obj, int | float | bool | np.generic):
        out[prefix] = obj
    return out


def state_of(c: Community, k: int) -> dict:
    """Run k's whole state, in local indices (compare two with :func:`assert_same`)."""
    lay = c.layout
    out: dict = {}
    out.update(_fields(c.people, k, c, "people"))
    for name in (
        "codes",
        "agenda",
        "safety",
        "permeability",
        "voice_norm",
        "funds",
        "intensity",
        "rigidity",
        "alive",
        "founding_mass",
    ):
        out.update(_fields(getattr(c.spaces, name), k, c, f"spaces.{name}"))
    mb = c.members
    mine = (mb.space // lay.spaces) == k
    out["members.space"] = mb.space[mine] % lay.spaces
    out["members.slot"] = mb.slot[mine] % lay.slots
    out["members.participation"] = mb.participation[mine]
    out["members.legitimacy"] = mb.legitimacy[mine]
    out["world.reality"] = c.world.reality[k]
    out.update(_fields(c.records, k, c, "records"))
    out.update(_fields(c.own, k, c, "own"))
    out.update(_fields(c.period, k, c, "period"))
    out["funder.level"] = c.funder.level[k]
    out["funder.halted_until"] = c.funder.halted_until[k]
    # the version counters are ensemble-wide cache keys, not part of a run's state
    return {name: v for name, v in out.items() if not name.endswith("version")}


def assert_same(ensemble: Community, alone: Sequence[Community]) -> None:
    """Every run of the ensemble equals the same run alone, bit for bit."""
    for k, single in enumerate(alone):
        got, want = state_of(ensemble, k), state_of(single, 0)
        assert got.keys() == want.keys(), (k, set(got) ^ set(want))
        for name in want:
            a, b = np.asarray(got[name]), np.asarray(want[name])
            assert a.shape == b.shape and np.array_equal(a, b, equal_nan=True), (
                f"run {k}: {name} differs in the ensemble"
            )
