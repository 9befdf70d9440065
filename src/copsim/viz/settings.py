"""What a teacher can set: scenarios, the parameters worth moving, and the seed.

Each :class:`Control` is one parameter of :class:`copsim.Params` as the view
shows it: a plain-language label and help line for the class, the exact field
name and its documented meaning for a researcher, and a range that stays
inside the field's validated bounds.  Nothing here builds a model; it only
turns what was typed or moved into validated values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from copsim.params import Params
from copsim.scenarios import NARRATIVES, PRESETS

#: Scenario shown first: the Bindura widows (one space, strong power differences).
DEFAULT_SCENARIO = "bindura_eag"
#: Seed of the first run.
DEFAULT_SEED = 1
#: Largest seed the field accepts (any 32-bit unsigned integer).
MAX_SEED = 2**32 - 1

#: Menu names of the presets, the three source cases first.
SCENARIO_TITLES: dict[str, str] = {
    "bindura_eag": "Bindura widows' recycling group (Johnson 2007)",
    "north_south_partnership": "Uganda-UK council partnerships (Johnson 2007)",
    "ogp_workshop": "Open Government Partnership workshops (Reboot 2016)",
    "march1991": "March (1991): knowledge only, the validated base",
}

Kind = Literal["float", "int", "choice", "flag"]


@dataclass(frozen=True)
class Control:
    """One parameter as a widget: label and help for a class, range for the widget."""

    name: str  # field of Params
    label: str
    help: str
    kind: Kind
    low: float = 0.0
    high: float = 1.0
    step: float = 0.05
    choice_labels: tuple[tuple[str, str], ...] = ()  # (value, menu text) for choices
    social: bool = True  # only meaningful with the social layer on

    @property
    def field_meaning(self) -> str:
        """The field's documented meaning and unit (for researchers)."""
        info = Params.model_fields[self.name]
        unit = (info.json_schema_extra or {}).get("unit", "")
        return f"{self.name}: {info.description} [{unit}]"

    def bounds(self) -> tuple[float | None, float | None]:
        """The field's validated (ge, le) bounds, None where unbounded."""
        lo = hi = None
        for meta in Params.model_fields[self.name].metadata:
            lo = getattr(meta, "ge", lo)
            hi = getattr(meta, "le", hi)
        return lo, hi

    def choices(self) -> list[str]:
        """The allowed values of a choice parameter (from its Literal type)."""
        return list(get_args(Params.model_fields[self.name].annotation))

    def coerce(self, value: Any) -> Any:
        """``value`` as the type the parameter needs (widgets send floats for ints)."""
        if self.kind == "int":
            return round(float(value))
        if self.kind == "float":
            return float(value)
        if self.kind == "flag":
            return bool(value)
        text = str(value)
        if text not in self.choices():
            raise ValueError(f"{self.label}: {text!r} is not one of {self.choices()}")
        return text

    def widget_range(self, value: float) -> tuple[float, float]:
        """The slider's range: the teaching range, widened to show ``value`` if needed."""
        return min(self.low, value), max(self.high, value)

    def describe(self, value: Any) -> str:
        """``value`` as a class would read it (menu text for choices, on/off for flags)."""
        if self.kind == "flag":
            return "on" if value else "off"
        if self.kind == "choice":
            return dict(self.choice_labels).get(value, str(value))
        if self.kind == "int":
            return str(int(value))
        return f"{value:g}"


CONTROLS: tuple[Control, ...] = (
    Control(
        "power_asymmetry",
        "Power asymmetry",
        "0: every voice counts the same. Higher: the powerful decide what counts as "
        "knowledge and who belongs.",
        "float",
        0.0,
        4.0,
        0.1,
    ),
    Control(
        "safety",
        "Safety of the space",
        "How well facilitated. Safe: differences teach. Unsafe: they turn into conflict "
        "and people withdraw.",
        "float",
        0.0,
        1.0,
        0.05,
    ),
    Control(
        "identity_diversity",
        "Identity diversity",
        "0: everyone in the same groups (sector, region, role...). 1: all groups equally common.",
        "float",
        0.0,
        1.0,
        0.05,
    ),
    Control(
        "funding_level",
        "Funding level",
        "Outside money per space per step; 1 pays for meeting fully.",
        "float",
        0.0,
        2.0,
        0.1,
    ),
    Control(
        "shock_kind",
        "Funding shock",
        "What happens to the money at the shock step.",
        "choice",
        choice_labels=(
            ("none", "no shock"),
            ("cut", "cut by the severity"),
            ("stop", "stopped for good"),
            ("delay", "delayed for a while"),
        ),
    ),
    Control(
        "shock_time",
        "Shock at step",
        "When the funding shock strikes.",
        "int",
        0,
        150,
        1,
    ),
    Control(
        "shock_severity",
        "Shock severity",
        "Share of the funding a cut removes.",
        "float",
        0.0,
        1.0,
        0.05,
    ),
    Control(
        "turnover_rate",
        "Turnover",
        "Chance each step that a practitioner leaves and a newcomer takes the place.",
        "float",
        0.0,
        0.2,
        0.01,
        social=False,
    ),
    Control(
        "reification_rate",
        "Reification speed",
        "How fast a stable shared repertoire hardens into fixed forms newcomers must adopt.",
        "float",
        0.0,
        0.1,
        0.005,
    ),
    Control(
        "organizing_principle",
        "Organizing principle",
        "Whom members are grouped with for conversations.",
        "choice",
        choice_labels=(
            ("domain", "by domain (sector)"),
            ("geography", "by geography and identity"),
            ("challenge", "by a shared challenge"),
        ),
    ),
    Control(
        "role_play",
        "Role play",
        "Members step out of their usual roles for a while, so identity matters less.",
        "flag",
    ),
    Control(
        "conversation_as_data",
        "Conversation as data",
        "The agenda follows what members say they want, not what the convenors want.",
        "flag",
    ),
    Control(
        "n_practitioners",
        "Practitioners",
        "How many people the community starts with.",
        "int",
        10,
        300,
        10,
        social=False,
    ),
)

CONTROL_BY_NAME: dict[str, Control] = {c.name: c for c in CONTROLS}


class SeedError(ValueError):
    """Text in the seed field that is not a usable seed."""


def parse_seed(text: Any) -> int:
    """A seed typed into a text field, as an int in [0, MAX_SEED].

    Text fields deliver strings; surrounding spaces are ignored, anything else
    that is not a plain whole number (signs, decimals, exponents, words) is
    refused with a message that says what is allowed.
    """
    raw = str(text).strip() if text is not None else ""
    if not raw:
        raise SeedError("Enter a seed: a whole number such as 1 or 42.")
    if not (raw.isascii() and raw.isdigit()):
        raise SeedError(f"'{raw}' is not a seed: use a whole number from 0 to {MAX_SEED}.")
    seed = int(raw)
    if seed > MAX_SEED:
        raise SeedError(f"{seed} is too large: use a whole number from 0 to {MAX_SEED}.")
    return seed


def scenario_names() -> list[str]:
    """Presets in menu order: the titled ones first, then any others."""
    titled = [n for n in SCENARIO_TITLES if n in PRESETS]
    return titled + sorted(set(PRESETS) - set(titled))


def scenario_title(name: str) -> str:
    """The menu name of a preset."""
    return SCENARIO_TITLES.get(name, name.replace("_", " "))


def narrative(name: str) -> str:
    """The preset's short source story (empty if none)."""
    return NARRATIVES.get(name, "")


def scenario_values(name: str) -> dict[str, Any]:
    """The teacher-controlled values a preset starts from (defaults filled in)."""
    params = Params.preset(name)
    return {c.name: getattr(params, c.name) for c in CONTROLS}


def make_params(scenario: str, values: dict[str, Any]) -> Params:
    """The validated parameters of ``scenario`` with the teacher's ``values``.

    Values are coerced to the field's type first (sliders send floats); an
    invalid value raises :class:`copsim.ParamsError` naming the field.
    """
    clean = {
        k: CONTROL_BY_NAME[k].coerce(v) if k in CONTROL_BY_NAME else v for k, v in values.items()
    }
    return Params.preset(scenario, **clean)


def contrast_value(control: Control, value: Any) -> Any:
    """A clearly different value for the second run of a side-by-side comparison.

    Sliders jump to the far quarter of their range (high if ``value`` is in the
    lower half, low otherwise); flags flip; choices move to the next option.
    """
    if control.kind == "flag":
        return not value
    if control.kind == "choice":
        options = control.choices()
        return options[(options.index(value) + 1) % len(options)]
    low, high = control.widget_range(value)
    span = high - low
    target = low + 0.75 * span if value <= low + 0.5 * span else low + 0.1 * span
    steps = round((target - low) / control.step)
    result = low + steps * control.step
    return round(result) if control.kind == "int" else round(result, 6)
