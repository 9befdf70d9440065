"""A digest of the model's numbers, pinned so that a refactor provably changes none.

The digest covers ``outcomes()``, the DataCollector's model (and agent) frames and
the event stream of many runs: every preset over several seeds, the default
community, variants that switch on every mechanism the presets leave off, and a
March batch.  A change of any number, of the order of random draws, or of an
event changes the digest.  When a later issue changes results on purpose, it
re-pins ``EXPECTED`` in the same commit and says so in its message.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from copsim import CoPModel, Params
from copsim.march import MarchSetting, run_batch
from copsim.scenarios import PRESETS

#: Variants that exercise what the presets leave off (each a small community).
VARIANTS: dict[str, dict] = {
    "default": {},
    "all_switches": dict(
        turnover_rate=0.03,
        turbulence_rate=0.01,
        tacit_share=0.2,
        shock_kind="stop",
        shock_time=20,
        grand_plan=True,
        conditionality=0.8,
        champions_leave=True,
        conversation_as_data=True,
        role_play=True,
        role_play_start=3,
        role_play_duration=10,
        organizing_principle="geography",
        random_shock_rate=0.02,
        slow_learner_share=0.3,
        record_agents=True,
    ),
    "delay_self_funded": dict(
        shock_kind="delay", shock_time=10, shock_duration=8, self_funding=0.6, n_spaces=6
    ),
    "no_social_switches": dict(
        contestation=False, reification=False, funding=False, purpose_drift=0.0
    ),
}
SEEDS = range(6)
STEPS = 60


def _feed(h: hashlib._Hash, value: object) -> None:
    """Hash a value exactly: floats by their bits, arrays by dtype, shape and bytes."""
    if isinstance(value, float):
        h.update(b"f" + float(value).hex().encode())
    elif isinstance(value, np.ndarray):
        h.update(f"a{value.dtype}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    else:
        h.update(repr(value).encode())


def model_digest(model: CoPModel) -> str:
    """Digest of one finished run: outcomes, per-step frames and events."""
    h = hashlib.sha256()
    for key, value in model.outcomes().items():
        _feed(h, key)
        _feed(h, value)
    frame = model.datacollector.get_model_vars_dataframe()
    _feed(h, list(frame.columns))
    _feed(h, frame.to_numpy(dtype=np.float64))
    if model.params.record_agents:
        agents = model.datacollector.get_agent_vars_dataframe().reset_index()
        _feed(h, list(agents.columns))
        _feed(h, agents.to_numpy(dtype=np.float64))
    for event in model.events:
        _feed(h, (int(event.step), str(event.kind)))
    return h.hexdigest()


def _cases() -> list[tuple[str, Params]]:
    cases = []
    for name in PRESETS:
        params = Params.preset(name)
        if name == "march1991":
            params = params.replace(max_steps=400)
        else:
            params = params.replace(max_steps=STEPS)
        cases.append((name, params))
    for name, overrides in VARIANTS.items():
        cases.append((name, Params(n_practitioners=40, max_steps=STEPS, **overrides)))
    return cases


def full_digest() -> dict[str, str]:
    """One digest per case (over all seeds) plus one for a March batch."""
    out = {}
    for name, params in _cases():
        h = hashlib.sha256()
        for seed in SEEDS:
            h.update(model_digest(CoPModel(params, rng=seed).run()).encode())
        out[name] = h.hexdigest()[:16]
    batch = run_batch(MarchSetting(p1=0.3, p2=0.5, p3=0.05, p4=0.02, horizon=80), 64, 7)
    h = hashlib.sha256()
    for key in sorted(batch):
        _feed(h, key)
        _feed(h, np.asarray(batch[key]))
    out["march_batch"] = h.hexdigest()[:16]
    return out


EXPECTED: dict[str, str] = {
    "march1991": "e89e26aa8832526f",
    "bindura_eag": "628492c21a681731",
    "north_south_partnership": "3dc2891cd233bb2b",
    "ogp_workshop": "6ccedd9d46794063",
    "default": "d7374db04f6e63c3",
    "all_switches": "8f18addb2e581455",
    "delay_self_funded": "b4dc996c25321073",
    "no_social_switches": "2b9d8ae133e276b9",
    "march_batch": "35ba1ab93566ef21",
}


@pytest.mark.slow
def test_results_are_bit_identical_to_the_pinned_digest():
    assert full_digest() == EXPECTED


if __name__ == "__main__":  # print the digest to pin it
    print(full_digest())
