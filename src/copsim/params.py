"""Model parameters: one validated, documented, immutable record per run.

Every parameter carries its default, allowed range, unit, group and a
one-line meaning (:meth:`Params.describe` prints the table).  Invalid input
raises :class:`ParamsError`, whose message names the field, the value given and
what is allowed, and suggests the closest field name for a typo.
"""

from __future__ import annotations

import difflib
import math
import numbers
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

#: A share in [0, 1] (an element of a per-space list).
UnitShare = Annotated[float, Field(ge=0, le=1)]
#: A voice norm exponent in [0, 10] (an element of ``space_voice_norm``).
VoiceNorm = Annotated[float, Field(ge=0, le=10)]

#: Per-space lists whose length must equal ``n_spaces``.
PER_SPACE = ("space_safety", "space_permeability", "space_voice_norm")

#: Parameters that may differ between the communities of one ensemble
#: (:mod:`copsim.ensemble`): rates, levels and weights that enter the rules
#: element by element, so each run reads its own value (``Community.value``,
#: ``at_slots``, ...).  Every other parameter (sizes, switches, choices, lists,
#: periods) is shared by an ensemble's communities: runs that differ in one of
#: those go to different ensembles.
ENSEMBLE_VARYING = frozenset(
    {
        "power_asymmetry",
        "safety",
        "permeability",
        "identity_diversity",
        "identity_weight",
        "resource_inequality",
        "purpose_focus",
        "purpose_drift",
        "conversation_rate",
        "diversity_gain",
        "withdrawal",
        "repertoire_learning_rate",
        "socialization_rate",
        "participation_adaptation",
        "legitimacy_adaptation",
        "agenda_adaptation",
        "time_cost",
        "time_recovery",
        "agenda_capital_cost",
        "capital_recovery",
        "contest_rate",
        "renegotiation",
        "contest_gap_weight",
        "reification_rate",
        "newcomer_pressure",
        "funding_level",
        "shock_severity",
        "random_shock_rate",
        "self_funding",
        "conditionality",
        "expert_accuracy",
        "exit_rate",
        "shock_exit_rate",
        "entry_rate",
        "turbulence_rate",
        "role_play_identity_weight",
    }
)


class ParamsError(ValueError):
    """A parameter value or name that the model cannot accept.

    ``fields`` names the parameters at fault (empty when the record as a whole is),
    so callers such as the config validator can point at where each was set.
    """

    def __init__(self, message: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.fields = tuple(fields)


# ----------------------------------------------------------------------------- estimates
# Calibrated by measuring the peak resident memory and the time of single runs
# (default parameters, 3-20 steps) at 10^3, 10^4, 10^5 and 2x10^5 practitioners,
# 30 and 60 dimensions, 1.3 and 3 memberships, with and without per-agent records,
# on the project's reference machine (2 shared cores).  The memory formula is within
# about 10% of what was measured (slightly above it); times are rougher (+-50%),
# as they depend on the machine and its load.  See docs/sweeps.md, "Limits".
#: Memory of a model beyond the interpreter: a fixed part ...
MEMORY_FIXED_BYTES = 5_000_000
#: ... and per practitioner: its state, ...
MEMORY_PER_PRACTITIONER = 580
#: ... per practitioner and dimension of reality (beliefs and their temporaries), ...
MEMORY_PER_BELIEF = 8
#: ... per membership (space, slot, participation, legitimacy and step temporaries), ...
MEMORY_PER_MEMBERSHIP = 135
#: ... and, with ``record_agents``, per practitioner and recorded step.
MEMORY_PER_AGENT_RECORD = 160
#: A worker process before its first run (Python, numpy, pandas, Mesa, pyarrow).
PROCESS_BASE_BYTES = 170_000_000
#: Seconds per step: fixed, per practitioner, per belief, per membership, per agent record.
TIME_PER_STEP = 1.5e-3
TIME_PER_PRACTITIONER_STEP = 1.5e-7
TIME_PER_BELIEF_STEP = 1.0e-8
TIME_PER_MEMBERSHIP_STEP = 2.5e-7
TIME_PER_AGENT_RECORD = 5.0e-6
#: March's core alone (social layer off): fixed and per belief, per step.
TIME_PER_STEP_CORE = 3.0e-4
TIME_PER_BELIEF_STEP_CORE = 1.2e-8
#: Building a model (fixed) and a community (per practitioner).
TIME_SETUP = 5.0e-3
TIME_SETUP_PER_PRACTITIONER = 8.0e-6


def estimated_memory_bytes(values: dict[str, Any]) -> int:
    """Peak memory of one run (beyond the interpreter) for these parameter values.

    Missing values take the :class:`Params` defaults, so this also works on the
    unvalidated maxima of a design (see :mod:`copsim.sweep.design`).  Memory grows
    linearly in the community size: at the defaults about 1 kB per practitioner,
    so 10^6 practitioners need about 1 GB and 10^7 about 10 GB per run.
    """
    get = _with_defaults(values)
    n, m = get("n_practitioners"), get("n_dimensions")
    memberships = n * get("memberships_per_practitioner") if get("social_layer") else n
    per_run = (
        MEMORY_FIXED_BYTES
        + n * (MEMORY_PER_PRACTITIONER + MEMORY_PER_BELIEF * m)
        + memberships * MEMORY_PER_MEMBERSHIP
    )
    if get("record_agents"):
        per_run += MEMORY_PER_AGENT_RECORD * n * (get("max_steps") + 1)
    return int(per_run)


def estimated_run_seconds(values: dict[str, Any]) -> float:
    """Wall time of one run on one core, assuming it lasts ``max_steps`` (an upper bound
    when it may stop at equilibrium)."""
    get = _with_defaults(values)
    n, m, steps = get("n_practitioners"), get("n_dimensions"), get("max_steps")
    if get("social_layer"):
        per_step = (
            TIME_PER_STEP
            + n * (TIME_PER_PRACTITIONER_STEP + TIME_PER_BELIEF_STEP * m)
            + n * get("memberships_per_practitioner") * TIME_PER_MEMBERSHIP_STEP
        )
    else:
        per_step = TIME_PER_STEP_CORE + n * m * TIME_PER_BELIEF_STEP_CORE
    if get("record_agents"):
        per_step += n * TIME_PER_AGENT_RECORD
    return float(TIME_SETUP + n * TIME_SETUP_PER_PRACTITIONER + steps * per_step)


def _with_defaults(values: dict[str, Any]) -> Any:
    """``get(name)``: the value given, else the parameter's default."""

    def get(name: str) -> Any:
        return values.get(name, Params.model_fields[name].default)

    return get


def _plain_scalar(value: Any, annotation: Any) -> Any:
    """A numpy scalar as the Python value it stands for, when that is exact.

    Values read from a DataFrame are numpy scalars (``np.int64(20)``,
    ``np.float64(0.5)``, ``np.bool_(True)``); strict validation would refuse them
    although they mean what they say.  Integers and booleans convert exactly; an
    integral float converts for an integer field (DataFrames turn integer columns
    with gaps into floats); anything else (``2.5`` for an integer, an integer for
    a flag) is left for validation to refuse.
    """
    kind = type(value)
    if kind.__module__ != "numpy":
        return value
    if kind.__name__ == "bool" or kind.__name__ == "bool_":
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if annotation is int and math.isfinite(number) and number.is_integer():
            return int(number)
        return number
    return value


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

    # -- power channels and spaces that differ (issue 11) ---------------------------------
    # Each power channel can be switched off to isolate its effect; the defaults keep the
    # model as it was (the new voice channel starts off).
    power_in_superiority: bool = _param(
        True, "power channels", "flag", "power rank mixes into who looks superior to the code"
    )
    power_in_votes: bool = _param(
        True, "power channels", "flag", "a superior member's vote weighs its power weight"
    )
    power_in_receptiveness: bool = _param(
        True, "power channels", "flag", "power is a disability: receptiveness min(1, 1/w)"
    )
    power_in_voice: bool = _param(
        True,
        "power channels",
        "flag",
        "in conversation a partner is heard more the more powerful it is (x w)",
    )
    space_safety: list[UnitShare] | None = _param(
        None, "spaces", "share", "safety of each space (None = `safety` for all)"
    )
    safety_spread: float = _param(
        0.0,
        "spaces",
        "share",
        "spaces' safety drawn uniformly within +-spread of `safety` (0 = all alike)",
        0,
        1,
    )
    space_permeability: list[UnitShare] | None = _param(
        None, "spaces", "share", "permeability of each space (None = `permeability` for all)"
    )
    permeability_spread: float = _param(
        0.0,
        "spaces",
        "share",
        "spaces' permeability drawn uniformly within +-spread of `permeability`",
        0,
        1,
    )
    space_voice_norm: list[VoiceNorm] | None = _param(
        None,
        "spaces",
        "exponent",
        "per space, how much power weighs in votes and voice (1 = global asymmetry, 0 = equal)",
    )
    role_play_mixing: bool = _param(
        True, "spaces", "flag", "during role play, pairs are mixed across identities"
    )
    organizing_across_spaces: bool = _param(
        True,
        "spaces",
        "flag",
        "conversation groups form by the organizing principle across all spaces",
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

    # -- periphery, power channels, resources spent (issue 11; defaults keep the model) ---
    lpp_trajectory: bool = _param(
        True,
        "periphery",
        "flag",
        "participation is capped by the legitimacy granted, which rises slowly for the "
        "dissimilar and the weak (legitimate peripheral participation as a trajectory)",
    )
    purpose_drift_mode: Literal["mix", "wander"] = _param(
        "wander",
        "periphery",
        "choice",
        "mix: purposes mix in flat noise (converge) | wander: log-normal walk around "
        "each practitioner's own purpose (keeps their spread)",
    )
    power_in_legitimacy: bool = _param(
        True,
        "power channels",
        "flag",
        "grantors of legitimacy weigh by power, and a member's power is its standing",
    )
    power_in_agenda: bool = _param(
        True,
        "power channels",
        "flag",
        "the convenors' agenda and voiced purposes are weighted by power",
    )
    power_in_start: bool = _param(
        True, "power channels", "flag", "starting participation follows power rank"
    )
    start_by_power_scaled: bool = _param(
        True,
        "power channels",
        "flag",
        "the power-rank term of starting participation is scaled by a / (1 + a) "
        "(so at asymmetry 0 power does not set the start)",
    )
    resource_budgets: bool = _param(
        True,
        "resources",
        "flag",
        "participation spends time; agenda-setting (and contestation) spend political "
        "capital; both recover toward the endowment",
    )
    time_cost: float = _param(
        0.3,
        "resources",
        "time/participation",
        "time a unit of participation uses up per period (summed over memberships)",
        0,
        1,
    )
    time_recovery: float = _param(
        0.5,
        "resources",
        "share/period",
        "share of the way spent time returns toward the endowment each period",
        0,
        1,
    )
    agenda_capital_cost: float = _param(
        0.1,
        "resources",
        "capital/voice share",
        "political capital spent per unit share of a space's voice in agenda-setting",
        0,
        1,
    )
    capital_recovery: float = _param(
        0.1,
        "resources",
        "share/period",
        "share of the way spent political capital returns toward the endowment each period",
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
        "bindura",
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
        0.0,
        "funding",
        "share",
        "funder's reporting demands: speed reification up; with a grand plan, the chance "
        "per period that the expert takes over a space's learning",
        0,
        1,
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

    @model_validator(mode="before")
    @classmethod
    def _numpy_scalars(cls, data: Any) -> Any:
        """Accept numpy scalars (e.g. from a DataFrame) as the Python values they are."""
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        return {
            key: _plain_scalar(value, fields[key].annotation) if key in fields else value
            for key, value in data.items()
        }

    @field_validator("identity_dimensions")
    @classmethod
    def _identity_needs_categories(
        cls, dims: dict[str, list[str]], info: ValidationInfo
    ) -> dict[str, list[str]]:
        # The social layer draws every practitioner's identity from these dimensions;
        # with none, every run would fail deep inside the model.
        if not dims and info.data.get("social_layer", True):
            raise ValueError(
                "the social layer needs at least one identity dimension "
                "(or set social_layer: false)"
            )
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
            raise _Conflict(
                "excluded_group needs 'dimension' and 'category' and may give 'share', "
                f"'resources', 'identity'; got {sorted(map(str, group))}",
                "excluded_group",
            )
        if not all(isinstance(group[k], str) for k in ("dimension", "category")):
            raise _Conflict(
                "excluded_group: 'dimension' and 'category' must be names (text)",
                "excluded_group",
            )
        identity = group.get("identity", {})
        if not isinstance(identity, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in identity.items()
        ):
            raise _Conflict(
                "excluded_group: 'identity' must map dimensions to categories", "excluded_group"
            )
        named = {group["dimension"]: group["category"], **identity}
        for dim, category in named.items():
            if category not in self.identity_dimensions.get(dim, ()):
                raise _Conflict(
                    f"excluded_group: no category '{category}' on dimension '{dim}'",
                    "excluded_group",
                )
        if self.identity_dimensions[group["dimension"]][0] == group["category"]:
            raise _Conflict(
                "excluded_group: the category must not be the dimension's first", "excluded_group"
            )
        for key in ("share", "resources"):
            value = group.get(key, 0.5)
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                raise _Conflict(
                    f"excluded_group: '{key}' must be a number in [0, 1]", "excluded_group"
                )
        return self

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> Params:
        if self.periphery_threshold > self.core_threshold:
            raise _Conflict(
                f"periphery_threshold ({self.periphery_threshold}) must not exceed "
                f"core_threshold ({self.core_threshold})",
                "periphery_threshold",
                "core_threshold",
            )
        return self

    @model_validator(mode="after")
    def _per_space_lists_fit(self) -> Params:
        for name in PER_SPACE:
            values = getattr(self, name)
            if values is not None and len(values) != self.n_spaces:
                raise _Conflict(
                    f"{name} has {len(values)} value(s) but n_spaces is {self.n_spaces}: "
                    f"give one per space, or None",
                    name,
                )
        return self

    # ------------------------------------------------------------------ construction
    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            fields = tuple(dict.fromkeys(f for e in exc.errors() for f in _error_fields(e)))
            raise ParamsError(explain(exc, source="Params"), fields) from None

    def estimated_memory_bytes(self) -> int:
        """Peak memory of a run with these parameters (see :func:`estimated_memory_bytes`)."""
        return estimated_memory_bytes(self.model_dump())

    def estimated_run_seconds(self) -> float:
        """Time of a run with these parameters (see :func:`estimated_run_seconds`)."""
        return estimated_run_seconds(self.model_dump())

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


class _Conflict(ValueError):
    """Values that are each allowed but not together; ``fields`` names every one involved."""

    def __init__(self, message: str, *fields: str) -> None:
        super().__init__(message)
        self.fields = fields


def _error_fields(err: Any) -> tuple[str, ...]:
    """The parameters one pydantic error is about (several for a conflict between them)."""
    if err["loc"]:
        return (str(err["loc"][0]),)
    cause = (err.get("ctx") or {}).get("error")
    return tuple(getattr(cause, "fields", ()))


def explain(exc: ValidationError, source: str) -> str:
    """Turn pydantic's report into one line per problem: field, value, expectation."""
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(record)"
        value = err.get("input")
        conflict = _error_fields(err) if not err["loc"] else ()
        if conflict:
            names = " and ".join(f"'{name}'" for name in conflict)
            lines.append(f"{source}: fields {names}: {err['msg'].removeprefix('Value error, ')}")
            continue
        if err["type"] == "extra_forbidden":
            hint = suggest(field, Params.model_fields)
            lines.append(f"{source}: unknown parameter '{field}'{hint}")
            continue
        info = Params.model_fields.get(str(err["loc"][0])) if err["loc"] else None
        allowed = err["msg"].removeprefix("Value error, ")
        if info is not None:
            extra = info.json_schema_extra or {}
            allowed += f"; {info.description} [{extra.get('unit', '')}]"
        lines.append(f"{source}: field '{field}' = {value!r}: {allowed}")
    return "\n".join(lines)
