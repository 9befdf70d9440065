"""Named starting points (presets), each grounded in a source passage.

A preset is a dict of parameter values; :meth:`copsim.Params.preset` validates
it.  ``PRESETS`` maps each name to its values and ``NARRATIVES`` to the short
story (and source) a teacher can read out.
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    "march1991": dict(
        n_dimensions=30,
        n_practitioners=50,
        socialization_rate=0.1,
        repertoire_learning_rate=0.5,
        max_steps=10_000,
        stop_at_equilibrium=True,
        social_layer=False,
    ),
}

NARRATIVES: dict[str, str] = {
    "march1991": (
        "March (1991), 'Exploration and exploitation in organizational learning': "
        "50 individuals and one organizational code learn from each other about a "
        "30-dimension reality; no identities, power or money. The validated base."
    ),
}


def preset_values(name: str) -> dict[str, Any]:
    """The parameter values of preset ``name`` (a copy)."""
    if name not in PRESETS:
        from copsim.params import ParamsError, suggest

        known = ", ".join(sorted(PRESETS))
        raise ParamsError(f"unknown preset '{name}'{suggest(name, PRESETS)}; known: {known}")
    return dict(PRESETS[name])
