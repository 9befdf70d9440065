"""Model parameters: one validated, documented, immutable record per run.

Every parameter carries its default, allowed range, unit, group and a
one-line meaning (:meth:`Params.describe` prints the table).  Invalid input
raises :class:`ParamsError`, whose message names the field, the value given and
what is allowed, and suggests the closest field name for a typo.
"""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


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

    # -- social layer: master switch -------------------------------------------------
    social_layer: bool = _param(
        True, "social", "flag", "off = March's model exactly: one code, everyone a full member"
    )

    # -- identity (Wenger 1998; Johnson 2007 on the EAG's cross-cutting identities) ---
    identity_dimensions: dict[str, list[str]] = _param(
        {
            "sector": ["government", "civil_society", "private", "donor"],
            "region": ["south", "north"],
            "role": ["officer", "politician", "community"],
        },
        "identity",
        "categories",
        "identity dimensions and their categories (the first category is the majority one)",
    )
    identity_diversity: float = _param(
        0.7,
        "identity",
        "share",
        "0 = everyone in each dimension's first category, 1 = uniform",
        0,
        1,
    )
    identity_weight: float = _param(
        0.6,
        "identity",
        "weight",
        "how much identity similarity counts in granting legitimacy",
        0,
        1,
    )

    # -- purpose ----------------------------------------------------------------------
    n_themes: int = _param(
        4, "purpose", "themes", "enterprise themes a purpose weighs", ge=1, le=64
    )
    purpose_focus: float = _param(
        0.5, "purpose", "share", "how strongly a practitioner's sector sets its purpose", 0, 1
    )
    purpose_drift: float = _param(
        0.02, "purpose", "share/period", "random drift of purposes each period", 0, 1
    )

    # -- resources and power ------------------------------------------------------------
    resource_inequality: float = _param(
        0.5,
        "resources",
        "share",
        "how much sector and role decide time, money, political capital",
        0,
        1,
    )
    power_asymmetry: float = _param(
        0.5,
        "power",
        "exponent",
        "power is raised to this in voice, code learning, legitimacy (0 = equal)",
        0,
        10,
    )

    # -- learning spaces ------------------------------------------------------------------
    n_spaces: int = _param(
        3, "spaces", "spaces", "learning spaces in the constellation", ge=1, le=1000
    )
    memberships_per_practitioner: float = _param(
        1.3,
        "spaces",
        "spaces",
        "mean spaces each practitioner belongs to (at least one)",
        ge=1,
        le=1000,
    )
    safety: float = _param(
        0.6,
        "spaces",
        "share",
        "facilitation: difference teaches (high) or turns to conflict (low)",
        0,
        1,
    )
    permeability: float = _param(
        0.5,
        "spaces",
        "share",
        "boundary permeability: chance a newcomer is admitted to a space",
        0,
        1,
    )
    organizing_principle: Literal["domain", "geography", "challenge"] = _param(
        "domain",
        "spaces",
        "choice",
        "grouping for conversation: domain | geography | challenge",
    )
    conversation_rate: float = _param(
        0.3,
        "spaces",
        "probability/period",
        "chance a belief steps toward a better-performing partner's",
        0,
        1,
    )
    diversity_gain: float = _param(
        3.0,
        "spaces",
        "factor",
        "extra learning per unit of identity difference in a safe space",
        0,
        10,
    )
    withdrawal: float = _param(
        0.15, "spaces", "participation", "participation lost by each side of a conflict", 0, 1
    )
    tacit_share: float = _param(
        0.2, "knowledge", "share", "share of dimensions learnable only by direct engagement", 0, 1
    )

    # -- participation and legitimacy (Lave & Wenger 1991) --------------------------------
    participation_adaptation: float = _param(
        0.2, "participation", "share/period", "how fast participation moves toward its target", 0, 1
    )
    legitimacy_adaptation: float = _param(
        0.2,
        "participation",
        "share/period",
        "how fast legitimacy moves toward what members grant",
        0,
        1,
    )
    core_threshold: float = _param(
        0.6,
        "participation",
        "participation",
        "participation at or above which a member is core",
        0,
        1,
    )
    periphery_threshold: float = _param(
        0.3,
        "participation",
        "participation",
        "participation below which a member is peripheral",
        0,
        1,
    )

    # -- contestation (the Bindura widows) -------------------------------------------------
    contestation: bool = _param(True, "contestation", "flag", "peripheral members may contest")
    contest_rate: float = _param(
        0.1,
        "contestation",
        "probability/period",
        "chance a divergent peripheral member contests",
        0,
        1,
    )
    renegotiation: float = _param(
        0.5,
        "contestation",
        "share",
        "share of contested repertoire dimensions reopened on success",
        0,
        1,
    )

    # -- contestation as in Bindura (Johnson 2007; ODD II.7.7) ----------------------------
    contestation_model: Literal["simple", "bindura"] = _param(
        "simple",
        "contestation",
        "choice",
        "simple: peripheral members, accepted with p = safety, blank the contested code | "
        "bindura: members and non-members with a stake, accepted by safety and the "
        "power-legitimacy gap, bring their knowledge in, pay political capital",
    )
    contest_gap_weight: float = _param(
        2.0,
        "contestation",
        "logit/gap",
        "bindura: how much the challenger's power and legitimacy gap to the core "
        "lowers the log-odds of acceptance",
        0,
        20,
    )
    contest_support_periods: int = _param(
        10,
        "contestation",
        "periods",
        "bindura: periods an accepted challenger is drawn toward the core (support decays)",
        ge=0,
        le=1_000_000,
    )
    contest_silence_periods: int = _param(
        10,
        "contestation",
        "periods",
        "bindura: periods a rejected challenger cannot challenge again",
        ge=0,
        le=1_000_000,
    )
    excluded_group: dict[str, Any] | None = _param(
        None,
        "contestation",
        "group",
        "an excluded, low-power founding group: {dimension, category, share, resources, "
        "identity} (None = none); see ODD II.7.7",
    )

    # -- reification ---------------------------------------------------------------------
    reification: bool = _param(True, "reification", "flag", "repertoires congeal over time")
    reification_rate: float = _param(
        0.01, "reification", "share/period", "how fast a stable repertoire congeals", 0, 1
    )
    newcomer_pressure: float = _param(
        1.0, "reification", "factor", "extra socialization of newcomers per unit of rigidity", 0, 10
    )

    # -- funding (EU-funded partnerships; OGP pain points) ---------------------------------
    funding: bool = _param(True, "funding", "flag", "spaces need money to meet")
    funding_level: float = _param(
        1.0,
        "funding",
        "budget/period",
        "external funding per space per period (1 = full cost)",
        0,
        10,
    )
    shock_kind: Literal["none", "cut", "stop", "delay"] = _param(
        "none",
        "funding",
        "choice",
        "funding shock: none | cut | stop | delay",
    )
    shock_time: int = _param(
        40, "funding", "period", "period at which the shock strikes", ge=0, le=1_000_000
    )
    shock_severity: float = _param(0.6, "funding", "share", "share of funding a cut removes", 0, 1)
    shock_duration: int = _param(
        20, "funding", "periods", "how long a delay withholds funds", ge=0, le=1_000_000
    )
    random_shock_rate: float = _param(
        0.0, "funding", "probability/period", "chance of an unscheduled shock each period", 0, 1
    )
    self_funding: float = _param(
        0.15,
        "funding",
        "share",
        "share of their money members put into a space short of funds",
        0,
        1,
    )
    conditionality: float = _param(
        0.0, "funding", "share", "funder's reporting demands: speed reification up", 0, 1
    )
    grand_plan: bool = _param(
        False, "funding", "flag", "funder's grand plan: an outside expert replaces member learning"
    )
    expert_accuracy: float = _param(
        0.6, "funding", "share", "share of codified dimensions the outside expert gets right", 0, 1
    )

    # -- exits and entry --------------------------------------------------------------------
    exit_rate: float = _param(
        0.01, "population", "probability/period", "base chance a practitioner leaves", 0, 1
    )
    shock_exit_rate: float = _param(
        0.1, "population", "probability/period", "extra exit chance when a space cannot meet", 0, 1
    )
    entry_rate: float = _param(
        0.05,
        "population",
        "probability/period",
        "chance an empty place is filled by a newcomer",
        0,
        1,
    )
    champions_leave: bool = _param(
        False, "population", "flag", "exits take the most central members first"
    )

    # -- OGP design principles ---------------------------------------------------------------
    conversation_as_data: bool = _param(
        False, "principles", "flag", "agendas follow members' voiced purposes"
    )
    agenda_adaptation: float = _param(
        0.2, "principles", "share/period", "how fast an agenda follows voiced purposes", 0, 1
    )
    role_play: bool = _param(False, "principles", "flag", "members break out of their roles")
    role_play_start: int = _param(
        10, "principles", "period", "first period of role play", ge=0, le=1_000_000
    )
    role_play_duration: int = _param(
        20, "principles", "periods", "how long role play lasts", ge=0, le=1_000_000
    )
    role_play_identity_weight: float = _param(
        0.3,
        "principles",
        "factor",
        "identity distance is multiplied by this during role play",
        0,
        1,
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

    @field_validator("identity_dimensions")
    @classmethod
    def _identity_needs_categories(cls, dims: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, levels in dims.items():
            if len(levels) < 1 or len(set(levels)) != len(levels):
                raise ValueError(f"dimension '{name}' needs one or more distinct categories")
        return dims

    @model_validator(mode="after")
    def _excluded_group_names_known(self) -> Params:
        """The excluded group must name identity dimensions and categories that exist."""
        group = self.excluded_group
        if group is None:
            return self
        unknown = set(group) - {"dimension", "category", "share", "resources", "identity"}
        if unknown or "dimension" not in group or "category" not in group:
            raise ValueError(
                "excluded_group needs 'dimension' and 'category' and may give 'share', "
                f"'resources', 'identity'; got {sorted(group)}"
            )
        named = {group["dimension"]: group["category"], **dict(group.get("identity", {}))}
        for dim, category in named.items():
            if category not in self.identity_dimensions.get(dim, ()):
                raise ValueError(f"excluded_group: no category '{category}' on dimension '{dim}'")
        if self.identity_dimensions[group["dimension"]][0] == group["category"]:
            raise ValueError("excluded_group: the category must not be the dimension's first")
        for key in ("share", "resources"):
            value = group.get(key, 0.5)
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ValueError(f"excluded_group: '{key}' must be a number in [0, 1]")
        return self

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> Params:
        if self.periphery_threshold > self.core_threshold:
            raise ValueError(
                f"periphery_threshold ({self.periphery_threshold}) must not exceed "
                f"core_threshold ({self.core_threshold})"
            )
        return self

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
            social_layer=False,
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
