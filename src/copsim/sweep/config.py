"""Experiment config files: the schema, and validation that points at the line.

One YAML file describes one experiment.  :func:`load_config` reads it, checks
every key, type and value (including that every parameter exists in
:class:`copsim.Params` and every value is allowed there) and raises
:class:`ConfigError` listing *all* problems, each with the file, the line, the
field, the value given and what is allowed.  Nothing runs before a config has
passed.

The design itself (which points and runs a config expands to) lives in
:mod:`copsim.sweep.design`; this module only checks that it is well formed.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from copsim.params import Params, suggest

#: Parameters set by the run settings of a config rather than by the design.
RUN_CONTROLLED = ("max_steps", "stop_at_equilibrium", "record_agents")


# ----------------------------------------------------------------------------- errors
@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config: where, which field, which value, what is allowed."""

    file: str
    line: int | None
    field: str
    message: str
    value: Any = None
    has_value: bool = True

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        got = f" = {self.value!r}" if self.has_value else ""
        return f"{where}: {self.field or '(top level)'}{got}: {self.message}"


class ConfigError(ValueError):
    """A config file that cannot be run; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in experiment config"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems))


# ----------------------------------------------------------------------------- schema
class _Section(BaseModel):
    """Strict base: unknown keys are errors, YAML types are taken as written."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class BaseSpec(_Section):
    """The starting point every design point modifies."""

    preset: str | None = Field(
        None, description="a preset name from copsim.scenarios (omit for the Params defaults)"
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="parameter overrides applied to the preset"
    )


class SampleSpec(_Section):
    """A sampling design over numeric parameter ranges."""

    samples: int = Field(ge=1, le=10_000_000, description="number of samples drawn")
    ranges: dict[str, list[float]] = Field(
        description="parameter: [low, high], inclusive, inside the parameter's own bounds"
    )


class SobolSpec(SampleSpec):
    """Saltelli/Sobol sampling (SALib) so that Sobol indices can be computed."""

    samples: int = Field(
        ge=2,
        le=1_048_576,
        description="base sample size N, a power of 2; the design has N*(D+2) points "
        "(N*(2D+2) with second_order)",
    )
    second_order: bool = Field(False, description="also estimate second-order indices")

    @field_validator("samples")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            near = 2 ** round(math.log2(value))
            raise ValueError(f"must be a power of 2 for Sobol sampling (did you mean {near}?)")
        return value


class DesignSpec(_Section):
    """Which points of parameter space to run; the parts present are crossed."""

    grid: dict[str, list[Any]] | None = Field(
        None, description="parameter: [values]; the cartesian product of all lists"
    )
    scenarios: dict[str, dict[str, Any]] | None = Field(
        None,
        description="name: {parameter: value, ...}; optional 'preset' key per scenario",
    )
    lhs: SampleSpec | None = Field(None, description="Latin hypercube sample over ranges")
    sobol: SobolSpec | None = Field(None, description="Sobol (Saltelli) sample over ranges")


class RecordSpec(_Section):
    """What to keep besides the final outcomes (always kept)."""

    steps_every: int = Field(
        0, ge=0, le=1_000_000, description="keep the model time series every k steps (0 = off)"
    )
    agents: bool = Field(False, description="keep per-practitioner data")
    agents_every: int = Field(
        10, ge=1, le=1_000_000, description="with agents: keep them every k steps"
    )


class ReportSpec(_Section):
    """Hints for ``copsim report``: which outcomes and factors to headline."""

    title: str | None = Field(None, description="report title")
    outcomes: list[str] | None = Field(None, description="outcome columns for the tables")
    by: list[str] | None = Field(None, description="design factors to group by, in order")


class ExperimentConfig(_Section):
    """One experiment: base, design, replicates, seeds, stop rule, records, output."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="experiment name: letters, digits, '_', '-', '.'",
    )
    description: str = Field("", description="what the experiment asks")
    base: BaseSpec = Field(default_factory=BaseSpec, description="preset and overrides")
    design: DesignSpec = Field(default_factory=DesignSpec, description="grid/scenarios/lhs/sobol")
    replicates: int = Field(1, ge=1, le=1_000_000, description="runs per design point")
    seed: int = Field(ge=0, le=2**63 - 1, description="root seed of the whole experiment")
    common_random_numbers: bool = Field(
        False, description="give replicate r the same seed at every design point"
    )
    steps: int | None = Field(
        None, ge=1, le=1_000_000, description="horizon: periods per run (sets max_steps)"
    )
    stop: Literal["horizon", "equilibrium"] | None = Field(
        None, description="'horizon' runs all steps; 'equilibrium' may stop early"
    )
    record: RecordSpec = Field(default_factory=RecordSpec, description="what to keep")
    output: str | None = Field(None, description="results folder (default results/<name>)")
    chunk_size: int | None = Field(
        None, ge=1, le=1_000_000, description="runs per Parquet part file (default: automatic)"
    )
    model: str = Field(
        "copsim.model:CoPModel",
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="the model class as 'module:Class' (a CoPModel subclass)",
    )
    report: ReportSpec = Field(default_factory=ReportSpec, description="report hints")

    @property
    def output_dir(self) -> Path:
        """The results folder (relative paths are relative to the working directory)."""
        return Path(self.output) if self.output else Path("results") / self.name


#: The schema section found at each path of the raw document (for unknown-key hints).
SECTIONS: dict[tuple[str, ...], type[BaseModel]] = {
    (): ExperimentConfig,
    ("base",): BaseSpec,
    ("design",): DesignSpec,
    ("design", "lhs"): SampleSpec,
    ("design", "sobol"): SobolSpec,
    ("record",): RecordSpec,
    ("report",): ReportSpec,
}


# ----------------------------------------------------------------------------- source
@dataclass
class Source:
    """The raw document with the line of every key and item, for error messages."""

    file: str
    text: str
    data: Any
    lines: dict[tuple, int] = field(default_factory=dict)
    duplicates: list[tuple[tuple, int]] = field(default_factory=list)

    def line(self, path: Iterable[Any]) -> int | None:
        """The line of ``path`` or of its nearest ancestor that has one."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get(())


def _scalar_key(node: yaml.Node) -> Any:
    """The Python value of a mapping key node (as YAML's safe loader builds it)."""
    return yaml.safe_load(yaml.serialize(node)) if isinstance(node, yaml.ScalarNode) else None


def _index_lines(node: yaml.Node, path: tuple, src: Source) -> None:
    """Record the line of every mapping key and sequence item under ``node``."""
    src.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = _scalar_key(key_node)
            child = (*path, key)
            if key in seen:
                src.duplicates.append((child, key_node.start_mark.line + 1))
            seen.add(key)
            src.lines[child] = key_node.start_mark.line + 1
            _index_lines(value_node, child, src)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*path, i), src)


def read_source(path: str | Path) -> Source:
    """Parse a YAML file, keeping line numbers; syntax errors become a ConfigError."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [Problem(file, None, "", f"cannot read file: {exc}", has_value=False)]
        ) from None
    return parse_source(text, file)


def parse_source(text: str, file: str = "<config>") -> Source:
    """Parse YAML text (see :func:`read_source`)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            [Problem(file, line, "", f"invalid YAML: {reason}", has_value=False)]
        ) from None
    src = Source(file, text, data)
    if node is not None:
        _index_lines(node, (), src)
    return src


# ----------------------------------------------------------------------------- checks
def _data_path(data: Any, loc: tuple, keep_last: bool) -> tuple:
    """The part of a pydantic error location that addresses the document.

    Pydantic adds type tags (``'str'``, ``'function-after[...]'``) to locations
    inside unions; those are dropped by following the actual data.
    """
    path: list[Any] = []
    node = data
    for i, part in enumerate(loc):
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]
            path.append(part)
        elif keep_last and i == len(loc) - 1:
            path.append(part)
    return tuple(path)


def _dotted(path: Iterable[Any]) -> str:
    """``('design', 'grid', 'p', 0)`` -> ``design.grid.p[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _schema_hint(path: tuple) -> str:
    """What a schema field means, from its description (``''`` if unknown)."""
    if not path:
        return ""
    section = SECTIONS.get(tuple(path[:-1]))
    info = section.model_fields.get(str(path[-1])) if section else None
    return f" ({info.description})" if info is not None and info.description else ""


def _yaml_number_hint(value: Any) -> str:
    """PyYAML reads ``1e-3`` as text: say so when a number was expected."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ""
        return "; YAML reads this as text: write numbers like 1.0e-3 with a dot and no quotes"
    return ""


def _schema_problems(src: Source, exc: ValidationError) -> list[Problem]:
    """Translate pydantic's schema errors into located problems."""
    problems = []
    for err in exc.errors():
        kind = err["type"]
        path = _data_path(src.data, tuple(err["loc"]), keep_last=kind == "missing")
        line = src.line(path)
        if kind == "extra_forbidden":
            section = SECTIONS.get(tuple(path[:-1]))
            allowed = list(section.model_fields) if section else []
            key = path[-1] if path else ""
            msg = f"unknown key '{key}'{suggest(key, allowed)}; allowed: {', '.join(allowed)}"
            problems.append(Problem(src.file, line, _dotted(path), msg, has_value=False))
        elif kind == "missing":
            msg = f"required key missing{_schema_hint(path)}"
            problems.append(Problem(src.file, line, _dotted(path), msg, has_value=False))
        else:
            value = err.get("input")
            msg = err["msg"].replace("Value error, ", "") + _yaml_number_hint(value)
            msg += _schema_hint(path)
            problems.append(Problem(src.file, line, _dotted(path), msg, value))
    return problems


def param_bounds(name: str) -> tuple[float | None, float | None]:
    """The ``ge``/``le`` bounds of a parameter (``None`` where unbounded)."""
    lo = hi = None
    for meta in Params.model_fields[name].metadata:
        lo = getattr(meta, "ge", lo)
        hi = getattr(meta, "le", hi)
    return lo, hi


def param_kind(name: str) -> type | None:
    """The Python type of a parameter (int, float, bool, str, ...) if simple."""
    annotation = Params.model_fields[name].annotation
    if get_origin(annotation) is Literal:
        return str
    return annotation if isinstance(annotation, type) and not get_origin(annotation) else None


def _type_text(name: str) -> str:
    """A parameter's type as a reader would say it (choices for a Literal)."""
    annotation = Params.model_fields[name].annotation
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(repr(c) for c in get_args(annotation))
    kind = param_kind(name)
    return kind.__name__ if kind else str(annotation).replace("typing.", "")


def _allowed_text(name: str) -> str:
    """What a parameter accepts, for error messages."""
    info = Params.model_fields[name]
    lo, hi = param_bounds(name)
    parts = [_type_text(name)]
    if lo is not None or hi is not None:
        parts.append(f"in [{lo}, {hi}]")
    extra = info.json_schema_extra or {}
    unit = extra.get("unit", "") if isinstance(extra, dict) else ""
    return f"{' '.join(parts)}; {info.description} [{unit}]"


@functools.cache
def field_adapter(name: str) -> TypeAdapter:
    """A strict validator of one parameter's type and bounds."""
    info = Params.model_fields[name]
    kind = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    return TypeAdapter(kind, config=ConfigDict(strict=True))


class ParamChecker:
    """Checks parameter names and values against :class:`Params` on a base record."""

    def __init__(self, src: Source, base_values: dict[str, Any]) -> None:
        self.src = src
        self.base = base_values
        self.problems: list[Problem] = []

    def name_ok(self, name: Any, path: tuple, *, sampled: bool = False) -> bool:
        """Is ``name`` a parameter that a config may set here?  Records why not."""
        where = self.src.line(path)
        if name not in Params.model_fields:
            msg = f"unknown parameter '{name}'{suggest(name, Params.model_fields)}"
            self.problems.append(Problem(self.src.file, where, _dotted(path), msg, has_value=False))
            return False
        if name in RUN_CONTROLLED:
            msg = (
                f"'{name}' is set by the run settings of the config "
                "(steps, stop, record.agents), not by the design or base params"
            )
            self.problems.append(Problem(self.src.file, where, _dotted(path), msg, has_value=False))
            return False
        if sampled and param_kind(name) not in (int, float):
            msg = (
                f"only numeric parameters can be sampled; '{name}' is "
                f"{_allowed_text(name)}: put it in grid or scenarios"
            )
            self.problems.append(Problem(self.src.file, where, _dotted(path), msg, has_value=False))
            return False
        return True

    def value_ok(self, name: str, value: Any, path: tuple) -> bool:
        """Is ``value`` of the type and in the range that parameter ``name`` accepts?

        Constraints between parameters are checked later, on whole design points.
        """
        try:
            field_adapter(name).validate_python(value)
        except ValidationError as exc:
            msg = exc.errors()[0]["msg"] + _yaml_number_hint(value)
            msg += f"; allowed: {_allowed_text(name)}"
            self.problems.append(
                Problem(self.src.file, self.src.line(path), _dotted(path), msg, value)
            )
            return False
        return True

    def range_ok(self, name: str, bounds: list[float], path: tuple) -> bool:
        """A sampling range ``[low, high]`` inside the parameter's bounds."""
        lo, hi = param_bounds(name)
        line = self.src.line(path)
        if len(bounds) != 2 or not bounds[0] < bounds[1]:
            msg = "a range is [low, high] with low < high"
        elif (lo is not None and bounds[0] < lo) or (hi is not None and bounds[1] > hi):
            msg = f"range leaves the parameter's bounds; allowed: {_allowed_text(name)}"
        else:
            return True
        self.problems.append(Problem(self.src.file, line, _dotted(path), msg, bounds))
        return False


def _base_values(cfg: ExperimentConfig, src: Source) -> tuple[dict[str, Any], list[Problem]]:
    """The preset's values (checked), before the base overrides."""
    from copsim.scenarios import PRESETS

    name = cfg.base.preset
    if name is None:
        return {}, []
    if name not in PRESETS:
        path = ("base", "preset")
        msg = f"unknown preset{suggest(name, PRESETS)}; known: {', '.join(sorted(PRESETS))}"
        return {}, [Problem(src.file, src.line(path), "base.preset", msg, name)]
    return dict(PRESETS[name]), []


def _check_params_map(check: ParamChecker, values: dict[str, Any], path: tuple) -> None:
    """Every ``name: value`` of a mapping of parameter settings."""
    for name, value in values.items():
        if check.name_ok(name, (*path, name)):
            check.value_ok(name, value, (*path, name))


def _empty(src: Source, path: tuple, what: str) -> Problem:
    return Problem(
        src.file, src.line(path), _dotted(path), f"empty {what}: a sweep needs at least one", []
    )


def _check_scenarios(cfg: ExperimentConfig, src: Source, check: ParamChecker) -> None:
    """Each scenario's preset (if any) and parameter settings."""
    scenarios = cfg.design.scenarios
    if scenarios is None:
        return
    if not scenarios:
        check.problems.append(_empty(src, ("design", "scenarios"), "scenarios mapping"))
    for scen, values in scenarios.items():
        path = ("design", "scenarios", scen)
        scen_check = ParamChecker(src, check.base)
        preset = values.get("preset")
        if preset is not None:
            scen_cfg = cfg.model_copy(update={"base": BaseSpec(preset=preset)})
            base, probs = _base_values(scen_cfg, src)
            where = (*path, "preset")
            for p in probs:  # point the error at the scenario's own preset key
                check.problems.append(
                    Problem(p.file, src.line(where), _dotted(where), p.message, p.value)
                )
            scen_check.base = {**base, **cfg.base.params}
        _check_params_map(scen_check, {k: v for k, v in values.items() if k != "preset"}, path)
        check.problems.extend(scen_check.problems)


def _check_grid(cfg: ExperimentConfig, src: Source, check: ParamChecker) -> dict[str, tuple]:
    """Grid names and every listed value; returns the path of each grid parameter."""
    grid = cfg.design.grid
    if grid is None:
        return {}
    if not grid:
        check.problems.append(_empty(src, ("design", "grid"), "grid mapping"))
    owned = {}
    for name, values in grid.items():
        path = ("design", "grid", name)
        if not check.name_ok(name, path):
            continue
        owned[name] = path
        if not values:
            check.problems.append(_empty(src, path, "list of values"))
        for i, value in enumerate(values):
            check.value_ok(name, value, (*path, i))
        if len({repr(v) for v in values}) != len(values):
            msg = "repeated value in a grid list"
            check.problems.append(Problem(src.file, src.line(path), _dotted(path), msg, values))
    return owned


def _check_sampling(cfg: ExperimentConfig, src: Source, check: ParamChecker) -> dict[str, tuple]:
    """LHS/Sobol ranges; returns the path of each sampled parameter."""
    design = cfg.design
    if design.lhs is not None and design.sobol is not None:
        path = ("design", "sobol")
        msg = "use one sampling design per experiment: lhs or sobol, not both"
        check.problems.append(Problem(src.file, src.line(path), "design", msg, has_value=False))
    owned = {}
    for part in ("lhs", "sobol"):
        spec = getattr(design, part)
        if spec is None:
            continue
        if not spec.ranges:
            check.problems.append(_empty(src, ("design", part, "ranges"), "ranges mapping"))
        for name, bounds in spec.ranges.items():
            path = ("design", part, "ranges", name)
            if check.name_ok(name, path, sampled=True):
                owned[name] = path
                check.range_ok(name, bounds, path)
    return owned


def _check_single_source(
    cfg: ExperimentConfig, src: Source, parts: dict[str, dict[str, tuple]]
) -> list[Problem]:
    """A parameter may be set by only one of scenarios, grid and the sampling design."""
    scenario_names = {k for v in (cfg.design.scenarios or {}).values() for k in v if k != "preset"}
    owners: dict[str, list[tuple[str, tuple]]] = {}
    for name in scenario_names:
        owners.setdefault(name, []).append(("scenarios", ("design", "scenarios")))
    for part, owned in parts.items():
        for name, path in owned.items():
            owners.setdefault(name, []).append((part, path))
    problems = []
    for name, found in owners.items():
        if len(found) > 1:
            (first, _), (second, path) = found[0], found[-1]
            msg = f"set by both {first} and {second}; each parameter has one source"
            problems.append(Problem(src.file, src.line(path), _dotted(path), msg, name))
    return problems


def _check_design(cfg: ExperimentConfig, src: Source, check: ParamChecker) -> None:
    """Parameter names, values, ranges, emptiness and overlaps of the design sections."""
    _check_scenarios(cfg, src, check)
    grid = _check_grid(cfg, src, check)
    sampled = _check_sampling(cfg, src, check)
    sampling_part = "lhs" if cfg.design.lhs is not None else "sobol"
    check.problems += _check_single_source(cfg, src, {"grid": grid, sampling_part: sampled})


def _check_report(cfg: ExperimentConfig, src: Source, problems: list[Problem]) -> None:
    """Report hints name factors of this design."""
    from copsim.sweep.design import design_factors

    factors = design_factors(cfg)
    for i, name in enumerate(cfg.report.by or []):
        if name not in factors:
            path = ("report", "by", i)
            msg = f"not a design factor{suggest(name, factors)}; factors: {', '.join(factors) or 'none'}"
            problems.append(Problem(src.file, src.line(path), _dotted(path), msg, name))


def validate_source(src: Source) -> ExperimentConfig:
    """Check a parsed document completely; raise :class:`ConfigError` if anything is wrong."""
    problems = [
        Problem(src.file, line, _dotted(path), "key given twice", has_value=False)
        for path, line in src.duplicates
    ]
    if not isinstance(src.data, dict):
        got = type(src.data).__name__
        msg = f"a config is a mapping of keys (name, base, design, ...), got {got}"
        raise ConfigError([*problems, Problem(src.file, 1, "", msg, has_value=False)])
    try:
        cfg = ExperimentConfig.model_validate(src.data)
    except ValidationError as exc:
        raise ConfigError(problems + _schema_problems(src, exc)) from None
    base, preset_problems = _base_values(cfg, src)
    problems += preset_problems
    check = ParamChecker(src, base)
    _check_params_map(check, cfg.base.params, ("base", "params"))
    check.base = {**base, **cfg.base.params}
    _check_design(cfg, src, check)
    problems += check.problems
    if not problems:
        _check_report(cfg, src, problems)
    if problems:
        raise ConfigError(problems)
    _check_points(cfg, src)
    return cfg


def _check_points(cfg: ExperimentConfig, src: Source, limit: int = 5) -> None:
    """Build every design point's Params once (catches cross-parameter constraints)."""
    from copsim.params import ParamsError
    from copsim.sweep.design import Design

    design = Design(cfg)
    problems = []
    for point in range(design.n_points):
        try:
            Params(**design.point_values(point))
        except ParamsError as exc:
            where = ", ".join(f"{k}={v!r}" for k, v in design.point_factors(point).items())
            msg = f"design point {point} ({where or 'base'}) is invalid: {exc}"
            problems.append(
                Problem(src.file, src.line(("design",)), "design", msg, has_value=False)
            )
            if len(problems) >= limit:
                break
    if problems:
        raise ConfigError(problems)


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and fully validate an experiment config file."""
    return validate_source(read_source(path))


def config_from_text(text: str, file: str = "<config>") -> ExperimentConfig:
    """Validate a config given as YAML text (used by tests and notebooks)."""
    return validate_source(parse_source(text, file))
