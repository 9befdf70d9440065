"""Model parameters: one validated, documented, immutable record per run.

Every parameter carries its default, allowed range, unit, group and a
one-line meaning (:meth:`Params.describe` prints the table).  Invalid input
raises :class:`ParamsError`, whose message names the field, the value given and
what is allowed, and suggests the closest field name for a typo.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ParamsError(ValueError):
    """A parameter value or name that the model cannot accept."""


def _param(default: Any, group: str, unit: str, meaning: str, ge=None, le=None, **kw) -> Any:
    """A documented field: ``ge``/``le`` bound numbers; ``kw`` passes to pydantic."""
    extra = {"group": group, "unit": unit}
    return Field(default, ge=ge, le=le, description=meaning, json_schema_extra=extra, **kw)


class Params(BaseModel):
    """All parameters of a copsim run (flat; grouped for documentation)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, strict=True)

    # -- knowledge core (March 1991) -------------------------------------------------
    n_dimensions: int = _param(
        30,
        "knowledge",
        "dimensions",
        "m: dimensions of reality the practice must fit",
        ge=1,
        le=4096,
    )
    socialization_rate: float = _param(
        0.1,
        "knowledge",
        "probability/period",
        "p1: chance a belief steps toward the repertoire",
        0,
        1,
    )
    slow_learner_share: float = _param(
        0.0, "knowledge", "share", "share of practitioners socialized at the slow rate", 0, 1
    )
    slow_socialization_rate: float = _param(
        0.1, "knowledge", "probability/period", "p1 of the slow learners", 0, 1
    )
    repertoire_learning_rate: float = _param(
        0.5,
        "knowledge",
        "probability/period",
        "p2: chance the repertoire adopts the majority",
        0,
        1,
    )
    turbulence_rate: float = _param(
        0.0, "knowledge", "probability/period", "p4: chance a dimension of reality flips", 0, 1
    )

    # -- population ------------------------------------------------------------------
    n_practitioners: int = _param(
        50, "population", "people", "n: practitioners in the community", ge=2, le=10_000_000
    )
    turnover_rate: float = _param(
        0.0, "population", "probability/period", "p3: chance a practitioner is replaced", 0, 1
    )

    # -- run control -----------------------------------------------------------------
    max_steps: int = _param(
        100, "run", "periods", "horizon: the run stops after this many periods", ge=1, le=1_000_000
    )
    stop_at_equilibrium: bool = _param(
        True, "run", "flag", "stop early once nothing is left to learn (closed systems only)"
    )
    record_agents: bool = _param(
        False, "run", "flag", "collect per-practitioner data every step (slower)"
    )

    # ------------------------------------------------------------------ construction
    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ParamsError(explain(exc, source="Params")) from None

    def replace(self, **changes: Any) -> Params:
        """A copy with some fields changed, validated like a new record."""
        return type(self)(**{**self.model_dump(), **changes})

    @classmethod
    def march1991(
        cls,
        p1: float = 0.1,
        p2: float = 0.5,
        p3: float = 0.0,
        p4: float = 0.0,
        **overrides: Any,
    ) -> Params:
        """March's (1991) setting in his notation: m = 30, n = 50, social layer off.

        Closed systems (p3 = p4 = 0) run to equilibrium; open ones for 100 periods.
        """
        base = dict(
            n_dimensions=30,
            n_practitioners=50,
            socialization_rate=p1,
            repertoire_learning_rate=p2,
            turnover_rate=p3,
            turbulence_rate=p4,
            max_steps=10_000 if p3 == 0 and p4 == 0 else 100,
            stop_at_equilibrium=True,
        )
        return cls(**{**base, **overrides})

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> Params:
        """A named scenario (see :mod:`copsim.scenarios`) with optional overrides."""
        from copsim.scenarios import preset_values

        return cls(**{**preset_values(name), **overrides})

    # ------------------------------------------------------------------ documentation
    @classmethod
    def fields_table(cls) -> list[dict[str, Any]]:
        """One row per parameter: name, group, default, range, unit, meaning."""
        rows = []
        for name, info in cls.model_fields.items():
            extra = info.json_schema_extra or {}
            lo = hi = None
            for meta in info.metadata:
                lo = getattr(meta, "ge", lo)
                hi = getattr(meta, "le", hi)
            rows.append(
                {
                    "name": name,
                    "group": extra.get("group", ""),
                    "default": info.default,
                    "min": lo,
                    "max": hi,
                    "unit": extra.get("unit", ""),
                    "meaning": info.description or "",
                }
            )
        return rows

    @classmethod
    def describe(cls) -> str:
        """The parameter table as Markdown (used by the docs)."""
        lines = ["| name | group | default | range | unit | meaning |", "|---|---|---|---|---|---|"]
        for r in cls.fields_table():
            rng = "" if r["min"] is None and r["max"] is None else f"[{r['min']}, {r['max']}]"
            lines.append(
                f"| `{r['name']}` | {r['group']} | {r['default']!r} | {rng} | {r['unit']} | {r['meaning']} |"
            )
        return "\n".join(lines)


def suggest(name: str, choices: Any) -> str:
    """' (did you mean ...?)' for a near-miss, else ''."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def explain(exc: ValidationError, source: str) -> str:
    """Turn pydantic's report into one line per problem: field, value, expectation."""
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(record)"
        value = err.get("input")
        if err["type"] == "extra_forbidden":
            hint = suggest(field, Params.model_fields)
            lines.append(f"{source}: unknown parameter '{field}'{hint}")
            continue
        info = Params.model_fields.get(str(err["loc"][0])) if err["loc"] else None
        allowed = err["msg"]
        if info is not None:
            extra = info.json_schema_extra or {}
            allowed += f"; {info.description} [{extra.get('unit', '')}]"
        lines.append(f"{source}: field '{field}' = {value!r}: {allowed}")
    return "\n".join(lines)
