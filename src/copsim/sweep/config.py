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

import codecs
import contextlib
import contextvars
import functools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import import_module, metadata
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from copsim.params import Params, suggest

#: Parameters set by the run settings of a config rather than by the design.
RUN_CONTROLLED = ("max_steps", "stop_at_equilibrium", "record_agents")

#: Most runs (points x replicates) a config may ask for unless it says ``allow_huge``
#: (or ``--allow-huge`` is given): at about 0.2 s each, a million runs are already
#: some 55 CPU-hours, and a bigger design is far more often a typo than a plan.
MAX_RUNS = 1_000_000
#: Beyond this even ``allow_huge`` is refused: run and point indices must fit in 63 bits.
HARD_MAX_RUNS = 2**62
#: Design points whose Params are each checked in validation; a bigger (allowed) huge
#: design has this many points checked, spread evenly over it.
MAX_CHECKED_POINTS = 100_000

#: Model classes a config may name ('module:Class' -> what it is).  A config file is
#: data: it must never be able to make copsim import and call an arbitrary function
#: (``model: "os:system"``).  Allowed are these, those added by :func:`register_model`,
#: those that installed packages declare under :data:`MODEL_ENTRY_POINTS`, and
#: CoPModel subclasses in the user's own modules (see :func:`_local_model`).
MODEL_REGISTRY: dict[str, str] = {
    "copsim.model:CoPModel": "the community-of-practice model (copsim)",
}
#: Entry-point group under which other packages declare copsim models
#: (``[project.entry-points."copsim.models"] mine = "mypkg.models:MyModel"``).
MODEL_ENTRY_POINTS = "copsim.models"

_ALLOW_HUGE: contextvars.ContextVar[bool] = contextvars.ContextVar("allow_huge", default=False)


@contextlib.contextmanager
def allow_huge_designs(allowed: bool = True) -> Iterator[None]:
    """Within this block, configs beyond :data:`MAX_RUNS` validate (``--allow-huge``)."""
    token = _ALLOW_HUGE.set(allowed)
    try:
        yield
    finally:
        _ALLOW_HUGE.reset(token)


def huge_allowed(cfg: ExperimentConfig) -> bool:
    """May this config's sweep go beyond :data:`MAX_RUNS` (config or ``--allow-huge``)?"""
    return cfg.allow_huge or _ALLOW_HUGE.get()


def register_model(cls: type, description: str = "") -> str:
    """Allow configs of this process to name ``cls``; return its 'module:Class' spec.

    Worker processes import the class by that spec, so it must live in an
    importable module (not ``__main__``).  For models shipped in a package, an entry
    point in the ``copsim.models`` group does the same for every process.
    """
    spec = f"{cls.__module__}:{cls.__qualname__}"
    MODEL_REGISTRY[spec] = description or (cls.__doc__ or "").strip().split("\n")[0]
    return spec


def _entry_point_models() -> dict[str, str]:
    """Model specs declared by installed packages under :data:`MODEL_ENTRY_POINTS`."""
    try:
        found = metadata.entry_points(group=MODEL_ENTRY_POINTS)
    except Exception:  # a broken installation must not break validation
        return {}
    return {ep.value.replace(" ", ""): f"entry point '{ep.name}'" for ep in found}


def allowed_models() -> dict[str, str]:
    """Every model spec a config may name (registry first, then entry points)."""
    return {**MODEL_REGISTRY, **_entry_point_models()}


def _installed_roots() -> list[Path]:
    """Folders of the standard library and of installed packages."""
    import site
    import sysconfig

    paths = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    with contextlib.suppress(Exception):
        paths.update(site.getsitepackages())
    with contextlib.suppress(Exception):
        paths.add(site.getusersitepackages())
    return [Path(p).resolve() for p in paths if p]


def _local_model(spec: str) -> str | None:
    """``None`` if ``spec`` names a CoPModel subclass in the user's own code, else why not.

    "Own code" is a module found on ``sys.path`` outside the standard library and
    the installed packages (a project folder, ``PYTHONPATH``, the tests): the code
    the user runs anyway.  Where the top-level module lives is looked up without
    executing anything, so a config naming ``os``, ``subprocess`` or an installed
    package is refused before anything is imported; only then is the user's module
    imported, and the name must be a subclass of :class:`copsim.model.CoPModel`.
    """
    import importlib.util

    module, _, name = spec.partition(":")
    top = module.split(".")[0]
    if top == "copsim":
        return "copsim's own models are listed in the registry"
    try:
        found = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        found = None
    if found is None:
        return f"no module '{top}' can be found"
    origin = found.origin or ""
    locations = list(found.submodule_search_locations or []) or [origin]
    if found.origin in (None, "built-in", "frozen") and not found.submodule_search_locations:
        return f"'{top}' is part of Python"
    roots = _installed_roots()
    for place in locations:
        resolved = Path(place).resolve()
        if any(resolved.is_relative_to(root) for root in roots):
            return (
                f"'{top}' is part of Python or an installed package (installed packages "
                f"declare their models under the entry-point group '{MODEL_ENTRY_POINTS}')"
            )
    try:
        target = getattr(import_module(module), name)
    except Exception as exc:  # the user's own code failed to import: say how
        return f"cannot load it: {type(exc).__name__}: {exc}"
    from copsim.model import CoPModel

    if not (isinstance(target, type) and issubclass(target, CoPModel)):
        return "it is not a subclass of copsim.model.CoPModel"
    return None


def _check_model_spec(spec: str) -> str:
    """A spec that names an allowed model, or a ValueError that says why not and what is."""
    if spec in MODEL_REGISTRY:
        return spec
    allowed = allowed_models()
    if spec in allowed:
        return spec
    why = _local_model(spec)
    if why is None:
        return spec
    raise ValueError(
        f"not a copsim model ({why}){suggest(spec, allowed)}; allowed: "
        + ", ".join(allowed)
        + f", models that packages declare under the entry-point group '{MODEL_ENTRY_POINTS}', "
        "or a CoPModel subclass in your own module"
    )


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
    #: About the file as a whole (encoding, size, YAML syntax), not about one field.
    file_level: bool = False

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.file_level:
            return f"{where}: {self.message}"
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
    """Hints for ``copsim report``: which outcomes and factors to headline, and the
    precision its Replication section asks of each design cell (``target_ci``), which
    ``copsim sweep --target-ci`` works towards with at most ``max_replicates``."""

    title: str | None = Field(None, description="report title")
    outcomes: list[str] | None = Field(None, description="outcome columns for the tables")
    by: list[str] | None = Field(None, description="design factors to group by, in order")
    target_ci: float = Field(
        0.05,
        gt=0,
        le=1e12,
        description="flag design cells whose 95% CI half-width on a headline outcome is wider",
    )
    max_replicates: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="most replicates per design point copsim sweep --target-ci may run "
        "(default: 10 x replicates)",
    )


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
    ensemble_size: int | None = Field(
        None,
        ge=1,
        le=100_000,
        description="runs stepped together in one ensemble (default: automatic, by size)",
    )
    model: str = Field(
        "copsim.model:CoPModel",
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="the model class as 'module:Class': a registered copsim model",
    )
    report: ReportSpec = Field(default_factory=ReportSpec, description="report hints")
    allow_huge: bool = Field(
        False, description=f"allow a design of more than {MAX_RUNS:,} runs (like --allow-huge)"
    )

    @field_validator("model")
    @classmethod
    def _registered_model(cls, value: str) -> str:
        return _check_model_spec(value)

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
    """The Python value of a mapping key node (as YAML's safe loader builds it).

    Built from the node itself: re-serializing it is slower and fails on keys
    such as an empty complex key (``?``).
    """
    if not isinstance(node, yaml.ScalarNode):
        return None
    try:
        return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError):
        return None


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


#: Largest config file read.  Configs are a few kilobytes; a bigger file is a mistake
#: (the wrong file, a data dump) and is refused before it is parsed.
MAX_CONFIG_BYTES = 1_000_000
#: Most YAML nodes a document may stand for once every alias is expanded.  Aliases
#: are shared when parsed but expanded by validation, so a small "alias bomb"
#: (``a: &a [x, x]``, ``b: &b [*a, *a]``, ...) would otherwise grow to gigabytes.
MAX_YAML_NODES = 100_000
#: Deepest nesting of YAML collections accepted (the parser recurses on it).
MAX_YAML_DEPTH = 64

_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _file_problem(file: str, message: str, line: int | None = None) -> ConfigError:
    """A ConfigError about the file as a whole (no field, no value)."""
    return ConfigError([Problem(file, line, "", message, has_value=False, file_level=True)])


def decode_config(data: bytes, file: str) -> str:
    """The text of a config file, which must be UTF-8 (a UTF-8 byte-order mark is fine).

    UTF-16/UTF-32 files (what some Windows editors save) and other encodings are
    refused with a message that says how to fix them, instead of a decoding
    traceback: the results folder stores the config text as UTF-8, so accepting
    other encodings here would only move the failure later.
    """
    save_as = "save the file as UTF-8 (most editors: 'Save with encoding')"
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            raise _file_problem(file, f"the file is {name} text; {save_as}")
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        msg = f"the file holds NUL bytes (UTF-16/UTF-32 text or a binary file?); {save_as}"
        raise _file_problem(file, msg, line)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 4].hex(" ")
        msg = f"not UTF-8 text (byte {exc.start}: {bad}); {save_as}"
        raise _file_problem(file, msg, line) from None


def read_source(path: str | Path) -> Source:
    """Read and parse a YAML config, keeping line numbers.

    Unreadable, oversized, non-UTF-8 and syntactically invalid files all become a
    :class:`ConfigError` naming the file.
    """
    file = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise _file_problem(file, f"cannot read file: {reason}") from None
    if len(data) > MAX_CONFIG_BYTES:
        msg = f"the file is larger than {MAX_CONFIG_BYTES:,} bytes: not an experiment config"
        raise _file_problem(file, msg)
    return parse_source(decode_config(data, file), file)


def _expanded_size(root: yaml.Node, file: str) -> int:
    """Nodes the document stands for with every alias expanded (bounded, cycle-safe).

    Sizes are memoized per node, so the walk costs the size of the parsed graph,
    not of its expansion; a recursive alias (a node inside itself) is refused.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if depth > MAX_YAML_DEPTH:
            line = node.start_mark.line + 1
            raise _file_problem(file, f"YAML nested deeper than {MAX_YAML_DEPTH} levels", line)
        if key in active:
            line = node.start_mark.line + 1
            raise _file_problem(file, "invalid YAML: an alias refers to itself (recursive)", line)
        active.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k, depth + 1) + size(v, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item, depth + 1)
        active.discard(key)
        sizes[key] = total
        if total > MAX_YAML_NODES:
            msg = (
                f"the document expands to more than {MAX_YAML_NODES:,} YAML nodes "
                "(aliases counted at full size): not an experiment config"
            )
            raise _file_problem(file, msg)
        return total

    return size(root, 0)


def parse_source(text: str, file: str = "<config>") -> Source:
    """Parse YAML text (see :func:`read_source`) with PyYAML's safe loader.

    The text is parsed once into a node graph, its expanded size is checked,
    and only then are Python values built from it.
    """
    loader = None
    try:
        loader = yaml.SafeLoader(text)  # checks the characters already
        node = loader.get_single_node()
        if node is not None:
            _expanded_size(node, file)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise _file_problem(file, f"invalid YAML: {reason}", line) from None
    except RecursionError:
        raise _file_problem(file, f"YAML nested deeper than {MAX_YAML_DEPTH} levels") from None
    finally:
        if loader is not None:
            loader.dispose()
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
        if preset is not None and not isinstance(preset, str):
            where = (*path, "preset")
            msg = "a scenario's preset is a preset name (text)"
            check.problems.append(Problem(src.file, src.line(where), _dotted(where), msg, preset))
        elif preset is not None:
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

    cap = cfg.report.max_replicates
    if cap is not None and cap < cfg.replicates:
        path = ("report", "max_replicates")
        msg = (
            f"below replicates ({cfg.replicates}); the cap of --target-ci counts every "
            "replicate of a point, so it is at least replicates"
        )
        problems.append(Problem(src.file, src.line(path), _dotted(path), msg, cap))
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
    _check_size(cfg, src)
    _check_points(cfg, src)
    return cfg


def duration_text(seconds: float) -> str:
    """``93784.0`` -> ``'26 h'``: a rough duration for plans and refusals."""
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"


def _check_size(cfg: ExperimentConfig, src: Source) -> None:
    """Refuse a design beyond :data:`MAX_RUNS` unless asked for; never expand it to count it."""
    from copsim.params import estimated_run_seconds
    from copsim.sweep.design import design_size

    points, runs = design_size(cfg)
    allowed = cfg.allow_huge or _ALLOW_HUGE.get()
    if runs <= MAX_RUNS or (allowed and runs <= HARD_MAX_RUNS):
        return
    base = {**_base_values(cfg, src)[0], **cfg.base.params}
    if cfg.steps is not None:
        base["max_steps"] = cfg.steps
    cpu = estimated_run_seconds(base) * runs
    msg = (
        f"the design has {points:,} points x {cfg.replicates:,} replicates = {runs:,} runs "
        f"(about {duration_text(cpu)} of CPU time at the base parameters), beyond the limit of "
        f"{MAX_RUNS:,} runs; make it smaller"
    )
    if runs <= HARD_MAX_RUNS:
        msg += ", or pass --allow-huge (config: allow_huge: true) if you mean it"
    else:
        msg += f" (at most {HARD_MAX_RUNS:,} runs can be indexed, even with allow_huge)"
    raise ConfigError([Problem(src.file, src.line(("design",)), "design", msg, has_value=False)])


def _setting_path(cfg: ExperimentConfig, src: Source, name: str, scenario: Any) -> tuple:
    """Where the value of parameter ``name`` at a point was set (highest precedence first)."""
    candidates = [
        ("design", "grid", name),
        ("design", "scenarios", scenario, name),
        ("design", "scenarios", scenario, "preset"),
        ("base", "params", name),
        ("base", "preset"),
    ]
    for path in candidates:
        if path in src.lines:
            return path
    return ("design",)


def _check_points(cfg: ExperimentConfig, src: Source, limit: int = 5) -> None:
    """Build every design point's Params once (catches cross-parameter constraints).

    Each problem points at the line where the offending parameter was set; points
    that fail for the same reason are reported once, with their count.  A huge
    design that was explicitly allowed has :data:`MAX_CHECKED_POINTS` points checked.
    """
    from copsim.params import ParamsError
    from copsim.sweep.design import Design, spread_points

    design = Design(cfg)
    found: dict[tuple[tuple, str], list[Any]] = {}  # (path, reason) -> [first point, count, exc]
    for point in spread_points(design.n_points, MAX_CHECKED_POINTS):
        try:
            Params(**design.point_values(point))
        except ParamsError as exc:
            factors = design.point_factors(point)
            name = exc.fields[0] if exc.fields else None
            path = _setting_path(cfg, src, name, factors.get("scenario")) if name else ("design",)
            key = (path, str(exc))
            if key in found:
                found[key][1] += 1
            elif len(found) < limit:
                found[key] = [point, 1, factors]
    problems = []
    for (path, reason), (point, count, factors) in found.items():
        where = ", ".join(f"{k}={v!r}" for k, v in factors.items())
        more = f" (and {count - 1:,} more points)" if count > 1 else ""
        msg = f"design point {point} ({where or 'base'}){more} is invalid: {reason}"
        problems.append(Problem(src.file, src.line(path), _dotted(path), msg, has_value=False))
    if problems:
        raise ConfigError(problems)


@functools.lru_cache(maxsize=8)
def _validated_text(text: str, file: str, allow_huge: bool, context: str) -> ExperimentConfig:
    """Validation of one config text, remembered: ``copsim sweep`` checks a config
    before it starts and the sweep then loads it again; a big design is expanded
    once.  ``context`` holds everything else the outcome depends on (presets, models)."""
    del allow_huge, context  # parts of the cache key only
    return validate_source(parse_source(text, file))


def _validation_context() -> str:
    """What a config's validity depends on besides its text (a cache key)."""
    from copsim.scenarios import PRESETS

    return repr((sorted(MODEL_REGISTRY), sorted(PRESETS.items(), key=lambda kv: kv[0])))


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and fully validate an experiment config file."""
    src = read_source(path)
    return _validated_text(src.text, src.file, _ALLOW_HUGE.get(), _validation_context())


def config_from_text(text: str, file: str = "<config>") -> ExperimentConfig:
    """Validate a config given as YAML text (used by tests and notebooks)."""
    return validate_source(parse_source(text, file))
