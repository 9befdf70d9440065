"""Scenario discovery on run outcomes: which conditions make a run expansive?

A sweep answers "what is the mean expansiveness at each design point?"; scenario
discovery turns the question round and asks which *region* of the parameter
space holds the runs where something happens.  :func:`discover` takes a runs
table and a boolean outcome (a label such as ``"expansive"``, or a condition
over outcome columns such as ``"expansiveness > 0.5 and defensiveness < 0.2"``)
and returns a :class:`Discovery` with

- a PRIM box (Friedman & Fisher 1999; Bryant & Lempert 2010): limits on a few
  factors inside which the outcome is much more frequent than overall, with
  its *coverage* (share of all cases of interest that fall in the box),
  *density* (share of the runs in the box that are cases) and *mass* (share of
  all runs in the box), and the whole peeling trajectory, so that the
  trade-off between a dense small box and a covering loose one is visible;
- a CART tree of the same outcome as readable rules;
- extra-trees feature scores ranking which factors matter at all.

The algorithms are EMA Workbench's (``ema_workbench.analysis``: ``prim``,
``cart``, ``feature_scoring``), a library written for exactly this, rather than
a hand-written PRIM.  It is an optional extra (``pip install
'copsim[discover]'``) imported only when :func:`discover` runs, so importing
copsim stays light; without it :func:`discover` raises
:class:`MissingExtraError` naming the extra.

Conditions are parsed with :mod:`ast` and checked against a small grammar
(comparisons of outcome columns with numbers, joined by ``and``/``or``/``not``)
before they are evaluated by walking the tree: no ``eval``, so a results folder
or a command line cannot run code through ``--outcome``.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import json
import operator
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import matplotlib.figure

#: The optional dependency group that brings the algorithms.
EXTRA = "discover"
INSTALL_HINT = "pip install 'copsim[discover]'"
#: The run labels an outcome may name (as :data:`copsim.outcomes.LABELS`).
LABELS = ("expansive", "defensive", "stagnant", "dissolved")
#: How the summary sentence speaks of each label: (overall clause, in-the-box clause).
LABEL_PHRASES = {
    "expansive": ("learning is expansive", "it is expansive"),
    "defensive": ("learning is defensive", "it is defensive"),
    "stagnant": ("learning is stagnant", "it is stagnant"),
    "dissolved": ("the community dissolves", "it dissolves"),
}
#: Fewer finished runs than this and PRIM's 5% minimum box would hold one run.
MIN_RUNS = 20
#: A condition longer than this is refused before parsing (a guard, not a grammar rule).
MAX_CONDITION_LENGTH = 1000
#: Numeric factors with more distinct values than this are treated as continuous
#: (limits read ``x < 0.8``); fewer, as levels of a grid (``x <= 2``, inclusive).
CONTINUOUS_LEVELS = 12


class DiscoveryError(ValueError):
    """Bad input to :func:`discover`: an unknown outcome, column or factor, or a
    condition outside the allowed grammar."""


class NothingToDiscover(DiscoveryError):
    """The input is well formed but there is nothing to tell apart: too few runs, or
    the outcome holds in none or in all of them."""


class MissingExtraError(ImportError):
    """The optional ``discover`` extra (EMA Workbench, scikit-learn) is not installed."""


# ----------------------------------------------------------------------------- conditions
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_GRAMMAR = (
    "a condition compares outcome columns with numbers (<, <=, >, >=, ==, !=), "
    "joined by and, or, not, with parentheses"
)


@dataclass(frozen=True)
class Condition:
    """A parsed, checked boolean condition over columns of a runs table.

    ``columns`` are the names it reads; :meth:`evaluate` walks the checked tree
    with vectorised comparisons.  A row with a missing value in any column the
    condition reads is never a case (a failed run has no outcomes).
    """

    text: str
    tree: ast.Expression
    columns: tuple[str, ...]

    def evaluate(self, frame: pd.DataFrame) -> np.ndarray:
        """The condition on every row of ``frame`` (a boolean array)."""
        values = {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(float) for c in self.columns}
        result = _evaluate(self.tree.body, values)
        present = np.ones(len(frame), dtype=bool)
        for column in values.values():
            present &= ~np.isnan(column)
        return np.asarray(result, dtype=bool) & present


def parse_condition(text: str) -> Condition:
    """Parse and check a condition such as ``"expansiveness > 0.5 and defensiveness < 0.2"``.

    Only comparisons (chains like ``0.2 < x <= 0.6`` too), ``and``/``or``/``not``,
    column names and numeric literals are allowed; anything else (a call, an
    attribute, a subscript, arithmetic, a string) raises :class:`DiscoveryError`
    naming the part that is not allowed.  Column names are not checked here
    (see :func:`outcome_mask`).
    """
    if len(text) > MAX_CONDITION_LENGTH:
        raise DiscoveryError(
            f"condition too long ({len(text)} characters; at most {MAX_CONDITION_LENGTH})"
        )
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise DiscoveryError(f"'{text}' is not a valid condition ({_GRAMMAR})") from exc
    names: list[str] = []
    _check_boolean(tree.body, names)
    return Condition(text.strip(), tree, tuple(dict.fromkeys(names)))


def _refuse(node: ast.AST, why: str = "") -> DiscoveryError:
    part = ast.unparse(node) if isinstance(node, ast.expr) else type(node).__name__
    reason = why or f"{type(node).__name__} is not allowed"
    return DiscoveryError(f"not allowed in a condition: '{part}' ({reason}); {_GRAMMAR}")


def _check_boolean(node: ast.AST, names: list[str]) -> None:
    """A node that must be true or false: a comparison or a combination of them."""
    if isinstance(node, ast.BoolOp) and isinstance(node.op, (ast.And, ast.Or)):
        for value in node.values:
            _check_boolean(value, names)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check_boolean(node.operand, names)
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise _refuse(node, f"the comparison {type(op).__name__} is not allowed")
        before = len(names)
        for operand in (node.left, *node.comparators):
            _check_operand(operand, names)
        if len(names) == before:
            raise _refuse(node, "it compares no column")
    elif isinstance(node, (ast.Name, ast.Constant)):
        raise _refuse(node, "a bare name or number is not a condition; compare it, e.g. 'x > 0.5'")
    else:
        raise _refuse(node)


def _check_operand(node: ast.AST, names: list[str]) -> None:
    """A node that must be a number: a column name or a numeric literal (maybe signed)."""
    if isinstance(node, ast.Name):
        names.append(node.id)
    elif (isinstance(node, ast.Constant) and _is_number(node.value)) or (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, (ast.USub, ast.UAdd))
        and isinstance(node.operand, ast.Constant)
        and _is_number(node.operand.value)
    ):
        return
    else:
        raise _refuse(node, "only column names and numbers can be compared")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _evaluate(node: ast.AST, values: dict[str, np.ndarray]) -> Any:
    """Walk a tree that :func:`parse_condition` has checked."""
    if isinstance(node, ast.BoolOp):
        parts = [np.asarray(_evaluate(v, values), dtype=bool) for v in node.values]
        return (
            np.logical_and.reduce(parts)
            if isinstance(node.op, ast.And)
            else np.logical_or.reduce(parts)
        )
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~np.asarray(_evaluate(node.operand, values), dtype=bool)
    if isinstance(node, ast.UnaryOp):  # a signed literal
        number = float(node.operand.value)  # type: ignore[attr-defined]
        return -number if isinstance(node.op, ast.USub) else number
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, values)
        result: Any = True
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, values)
            result = result & _COMPARE[type(op)](left, right)
            left = right
        return result
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.Constant):
        return float(node.value)
    raise _refuse(node)  # unreachable for a checked tree


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass(frozen=True)
class Outcome:
    """A resolved outcome: which runs are cases, and how the summary speaks of it."""

    text: str
    cases: np.ndarray
    overall: str  # "learning is expansive"
    inside: str  # "it is expansive"


def outcome_mask(runs: pd.DataFrame, outcome: str) -> Outcome:
    """Which runs are cases of ``outcome``: a label name, or a condition over outcome columns.

    A label is a case where ``runs["label"] == outcome``.  A condition may only
    read outcome columns (:func:`copsim.analysis.outcome_columns`): a parameter
    in it would make the box trivially rediscover the condition.
    """
    from copsim import analysis as an

    text = outcome.strip()
    labels = list(LABELS)
    if "label" in runs:
        labels += [str(v) for v in pd.unique(runs["label"].dropna()) if str(v) not in labels]
    if text in labels:
        if "label" not in runs:
            raise DiscoveryError(f"the runs have no 'label' column, so '{text}' cannot be told")
        cases = (runs["label"].astype(object) == text).to_numpy(bool)
        overall, inside = LABEL_PHRASES.get(text, (f"the run is {text}", f"it is {text}"))
        return Outcome(text, cases, overall, inside)
    if text.isidentifier():
        raise DiscoveryError(
            f"unknown outcome '{text}'{_did_you_mean(text, labels)}: name a label "
            f"({', '.join(labels)}) or give a condition such as "
            "'expansiveness > 0.5 and defensiveness < 0.2'"
        )
    condition = parse_condition(text)
    allowed = an.outcome_columns(runs)
    for name in condition.columns:
        if name in allowed:
            continue
        from copsim.params import Params

        if name in runs and (name in Params.model_fields or name in an.ID_COLUMNS):
            raise DiscoveryError(
                f"'{name}' is a parameter or identifier, not an outcome; a condition reads "
                "outcome columns only"
            )
        raise DiscoveryError(
            f"unknown outcome column '{name}'{_did_you_mean(name, allowed)}; the outcome "
            f"columns are: {', '.join(allowed)}"
        )
    cases = condition.evaluate(runs)
    return Outcome(condition.text, cases, f"{condition.text} holds", "it holds")


# ----------------------------------------------------------------------------- factors
def _varies(column: pd.Series) -> bool:
    try:
        return column.dropna().astype(str).nunique() > 1
    except TypeError:
        return False


def design_factors(runs: pd.DataFrame) -> list[str]:
    """The parameters the design varied: columns of ``runs`` that are
    :class:`~copsim.params.Params` fields and take more than one value."""
    from copsim import analysis as an
    from copsim.params import Params

    data = an.ok_runs(runs)
    return [c for c in data.columns if c in Params.model_fields and _varies(data[c])]


def _factor_frame(runs: pd.DataFrame, factors: Sequence[str]) -> pd.DataFrame:
    """The factors in the two dtypes the algorithms tell apart: ``float64`` (numbers,
    peeled by quantile) and ``category`` (flags and names, peeled by dropping a level;
    flags become the categories ``"False"``/``"True"``).

    Integer factors go in as ``float64`` too: EMA Workbench 3.0 writes a float
    quantile into an ``int64`` box limit when it pastes (and CART does when it
    reads its leaves), which pandas 3 refuses; as floats they peel the same way,
    and :func:`_limits` still reads them as levels (``<=``) rather than as a
    continuum.  Nullable ``Int64``/``Float64`` become plain floats for the same reason
    (PRIM would take them for names).
    """
    out = {}
    for name in factors:
        column = runs[name]
        if _is_flag(column) or not pd.api.types.is_numeric_dtype(column):
            out[name] = pd.Categorical(column.astype(str).where(column.notna()))  # NaN stays NaN
        else:
            out[name] = pd.to_numeric(column).astype("float64")
    return pd.DataFrame(out, index=runs.index)


def _is_flag(column: pd.Series) -> bool:
    """A true/false column: bool dtype, or objects that are all bools (a grid of
    ``[0.0, 1.0]`` is numbers, although ``1.0 == True``)."""
    if pd.api.types.is_bool_dtype(column):
        return True
    if column.dtype != object:
        return False
    values = column.dropna()
    return len(values) > 0 and all(isinstance(v, (bool, np.bool_)) for v in values)


# ----------------------------------------------------------------------------- results
def _num(value: float) -> str:
    """A limit as it is read: three significant digits, no exponent for everyday sizes."""
    value = float(value)
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


@dataclass(frozen=True)
class Limit:
    """The restriction of one factor in a box.

    ``low``/``high`` are ``None`` on an unrestricted side; ``levels`` is the set
    kept of a categorical factor.  ``quasi_p`` is PRIM's one-sided binomial test
    of dropping this restriction (Bryant & Lempert 2010): small means the
    restriction really raises the density.
    """

    factor: str
    text: str
    low: float | None = None
    high: float | None = None
    levels: tuple[str, ...] | None = None
    quasi_p: float | None = None


@dataclass(frozen=True)
class Scale:
    """How a numeric factor's limits are read.

    A continuous factor (a sampled range) reads ``x < 0.8``.  A factor with few
    values (grid levels, counts) reads ``x <= 2``: its limits are moved onto
    the values that occur (PRIM and CART cut between levels, at quantiles or
    midpoints such as 2.5), so a limit always names a level that was run.
    """

    continuous: bool
    levels: tuple[float, ...] = ()

    def snap(self, low: float | None, high: float | None) -> tuple[float | None, float | None]:
        """The limits moved onto the levels inside them (continuous: unchanged)."""
        if self.continuous or not self.levels:
            return low, high
        levels = np.asarray(self.levels)
        if low is not None:
            above = levels[levels >= low - 1e-12]
            low = float(above[0]) if len(above) else low
        if high is not None:
            below = levels[levels <= high + 1e-12]
            high = float(below[-1]) if len(below) else high
        return low, high

    def text(self, name: str, low: float | None, high: float | None) -> str:
        """``name`` between ``low`` and ``high`` (either may be open) as a reader says it."""
        low, high = self.snap(low, high)
        less, more = ("<", ">") if self.continuous else ("<=", ">=")
        if low is not None and high is not None:
            if low == high:
                return f"{name} = {_num(low)}"
            return f"{_num(low)} {less} {name} {less} {_num(high)}"
        if high is not None:
            return f"{name} {less} {_num(high)}"
        return f"{name} {more} {_num(low)}"  # type: ignore[arg-type]


def _scales(data: pd.DataFrame, names: Sequence[str]) -> dict[str, Scale]:
    """The :class:`Scale` of each numeric factor, from its dtype and values in the runs."""
    scales = {}
    for name in names:
        column = data[name]
        if _is_flag(column) or not pd.api.types.is_numeric_dtype(column):
            continue
        values = np.unique(pd.to_numeric(column).dropna().to_numpy(float))
        continuous = pd.api.types.is_float_dtype(column) and len(values) > CONTINUOUS_LEVELS
        scales[name] = Scale(continuous, () if continuous else tuple(values.tolist()))
    return scales


def _levels_text(name: str, kept: Iterable[Any]) -> str:
    kept = sorted(str(v) for v in kept)
    return f"{name} = {kept[0]}" if len(kept) == 1 else f"{name} in {{{', '.join(kept)}}}"


def _limits(
    box_lim: pd.DataFrame,
    box_init: pd.DataFrame,
    scales: dict[str, Scale],
    quasi_p: dict[str, list[float]] | None = None,
) -> list[Limit]:
    """The restricted factors of an EMA box (a 2-row frame: lower, upper) as readable limits."""
    limits = []
    for name in box_init.columns:
        lo, hi = box_lim.loc[0, name], box_lim.loc[1, name]
        lo0, hi0 = box_init.loc[0, name], box_init.loc[1, name]
        qps = [q for q in (quasi_p or {}).get(name, []) if q is not None and q >= 0]
        qp = float(max(qps)) if qps else None
        if isinstance(lo0, set):
            if set(lo) == set(lo0):
                continue
            kept = tuple(sorted(str(v) for v in lo))
            limits.append(Limit(name, _levels_text(name, kept), levels=kept, quasi_p=qp))
            continue
        low = float(lo) if lo > lo0 else None
        high = float(hi) if hi < hi0 else None
        if low is None and high is None:
            continue
        scale = scales.get(name, Scale(True))
        text = scale.text(name, low, high)
        low, high = scale.snap(low, high)
        limits.append(Limit(name, text, low, high, quasi_p=qp))
    return limits


@dataclass
class Box:
    """One PRIM box chosen from its peeling trajectory."""

    limits: list[Limit]
    coverage: float
    density: float
    mass: float
    n: int  # runs in the box
    cases: int  # of them, cases of the outcome
    step: int  # its place on the peeling trajectory
    reached_threshold: bool

    @property
    def text(self) -> str:
        """The limits joined by "and" (``"(no restriction)"`` for the whole space)."""
        return " and ".join(lim.text for lim in self.limits) or "(no restriction)"

    def table(self) -> pd.DataFrame:
        """One row per restricted factor: the limit, its bounds and PRIM's quasi-p."""
        return pd.DataFrame(
            {
                "factor": [lim.factor for lim in self.limits],
                "limit": [lim.text for lim in self.limits],
                # floats with NaN for an open side (a column of None alone would print "None")
                "low": pd.Series([lim.low for lim in self.limits], dtype="float64"),
                "high": pd.Series([lim.high for lim in self.limits], dtype="float64"),
                "quasi-p": pd.Series([lim.quasi_p for lim in self.limits], dtype="float64"),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "limits": [
                {
                    "factor": lim.factor,
                    "text": lim.text,
                    "low": lim.low,
                    "high": lim.high,
                    "levels": list(lim.levels) if lim.levels else None,
                    "quasi_p": lim.quasi_p,
                }
                for lim in self.limits
            ],
            "text": self.text,
            "coverage": self.coverage,
            "density": self.density,
            "mass": self.mass,
            "n": self.n,
            "cases": self.cases,
            "step": self.step,
            "reached_threshold": self.reached_threshold,
        }


@dataclass
class Discovery:
    """What :func:`discover` found.

    ``box`` is the first (main) PRIM box, ``boxes`` all of them; ``trajectory``
    the first box's peeling trajectory (one row per step: coverage, density,
    mass, restricted dimensions, the limits at that step, and which one was
    chosen); ``cart_rules`` the CART tree as text and ``cart_leaves`` its leaves
    with their statistics; ``feature_scores`` the extra-trees importance of each
    factor (they sum to 1), highest first.
    """

    outcome: str
    overall: str
    inside: str
    n_runs: int
    n_cases: int
    factors: list[str]
    threshold: float
    boxes: list[Box]
    trajectory: pd.DataFrame
    cart_rules: str
    cart_leaves: pd.DataFrame
    feature_scores: pd.DataFrame
    objective: str = "lenient1"  # the PRIM objective the box came from (see OBJECTIVES)
    notes: list[str] = field(default_factory=list)

    @property
    def base_rate(self) -> float:
        """The share of all analysed runs that are cases."""
        return self.n_cases / self.n_runs if self.n_runs else float("nan")

    @property
    def box(self) -> Box:
        return self.boxes[0]

    @property
    def coverage(self) -> float:
        return self.box.coverage

    @property
    def density(self) -> float:
        return self.box.density

    @property
    def mass(self) -> float:
        return self.box.mass

    def summary(self) -> str:
        """One sentence: the base rate, the box, its density and coverage."""
        text = f"{self.overall} in {self.base_rate:.0%} of runs"
        box = self.box
        if not box.limits and box.reached_threshold:
            # The whole space is already as dense as asked: saying that no box raises
            # the share would be false (peeling may well raise it), so say what happened.
            return text + (
                f", already at least the density asked for ({self.threshold:.0%}), so the "
                "box is the whole space; ask for a higher density (threshold) to find where "
                "it is more frequent still"
            )
        if not box.limits:
            return text + (
                f"; no box over {', '.join(self.factors)} makes it more frequent than that"
            )
        text += (
            f"; in the box {box.text} {self.inside} in {box.density:.0%} "
            f"(coverage {box.coverage:.0%})"
        )
        if not box.reached_threshold:
            text += f"; no box reaches the density asked for ({self.threshold:.0%}), this is the densest"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain JSON-ready data."""
        return {
            "outcome": self.outcome,
            "summary": self.summary(),
            "n_runs": self.n_runs,
            "n_cases": self.n_cases,
            "base_rate": self.base_rate,
            "factors": self.factors,
            "threshold": self.threshold,
            "objective": self.objective,
            "boxes": [b.to_dict() for b in self.boxes],
            "trajectory": json.loads(
                self.trajectory.to_json(orient="records", double_precision=15)
            ),
            "cart_rules": self.cart_rules,
            "cart_leaves": json.loads(
                self.cart_leaves.to_json(orient="records", double_precision=15)
            ),
            "feature_scores": json.loads(
                self.feature_scores.to_json(orient="records", double_precision=15)
            ),
            "notes": self.notes,
        }

    def render(self, fmt: str = "text") -> str:
        """The result for a terminal (``text``), a Markdown file (``md``) or a program (``json``)."""
        if fmt == "json":
            return json.dumps(self.to_dict(), indent=2)
        if fmt not in ("text", "md"):
            raise ValueError(f"unknown format '{fmt}'; choose text, md or json")
        return _render(self, markdown=fmt == "md")


def _box_caption(result: Discovery, i: int, box: Box) -> str:
    rule = (
        f"the largest coverage at density >= {result.threshold:.0%}"
        if box.reached_threshold
        else "no step reaches the density asked for: the densest"
    )
    return f"Box {i + 1} (PRIM; {rule}; step {box.step} of the peeling trajectory)"


def _box_stats(box: Box) -> str:
    return (
        f"coverage {box.coverage:.0%}, density {box.density:.0%}, mass {box.mass:.0%} "
        f"({box.n} runs in the box, {box.cases} of them cases)"
    )


def _terminal_table(frame: pd.DataFrame) -> str:
    """A table for the terminal, with its text columns (and their headers) left-aligned.

    pandas right-aligns every column; a box over many factors has limits of very
    different lengths (one factor at the first peel, nine at the last), and
    right-aligned they would start in a different place on every line.
    """
    renamed: dict[str, str] = {}
    formatters: dict[str, Callable[[Any], str]] = {}
    for name in frame.columns:
        column = frame[name]
        is_text = column.dtype == object or pd.api.types.is_string_dtype(column)
        if not is_text or not all(isinstance(v, str) for v in column):
            continue
        width = max([len(str(name)), *(len(v) for v in column)])
        renamed[name] = str(name).ljust(width)  # a header as wide as its column: flush left
        formatters[renamed[name]] = lambda value, width=width: str(value).ljust(width)
    text = frame.rename(columns=renamed).to_string(
        index=False, na_rep="", float_format=lambda v: f"{v:.3g}", formatters=formatters
    )
    return "\n".join(line.rstrip() for line in text.splitlines())


def _render(result: Discovery, markdown: bool) -> str:
    from copsim.report import markdown_table

    def table(frame: pd.DataFrame) -> str:
        if markdown:
            return markdown_table(frame)
        return _terminal_table(frame)

    def heading(text: str) -> str:
        return f"## {text}" if markdown else f"{text}:"

    trade = result.trajectory[["step", "coverage", "density", "mass", "res_dim", "limits"]].copy()
    trade.insert(0, "chosen", np.where(result.trajectory["chosen"], "*", ""))
    out = [f"{result.summary()}.", ""]
    out.append(
        f"{result.n_cases} of {result.n_runs} runs are cases of '{result.outcome}' "
        f"(base rate {result.base_rate:.1%}); factors: {', '.join(result.factors)}."
    )
    out.append("")
    for i, box in enumerate(result.boxes):
        out += [heading(_box_caption(result, i, box)), ""]
        out += [table(box.table()) if box.limits else "(no restriction)", ""]
        out += [_box_stats(box), ""]
    out += [
        heading("Peeling trajectory: the coverage-density trade-off of box 1"),
        "",
        table(trade),
        "",
        heading("CART tree (scikit-learn decision tree via EMA Workbench)"),
        "",
    ]
    out += ["```", result.cart_rules.rstrip(), "```"] if markdown else [result.cart_rules.rstrip()]
    out += [
        "",
        heading("Feature scores (extra trees: how much each factor matters; they sum to 1)"),
        "",
        table(result.feature_scores),
    ]
    if result.notes:
        out += ["", heading("Notes"), ""] + [f"- {note}" for note in result.notes]
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- discover
def _import_ema() -> tuple[Any, Any, Any]:
    """EMA Workbench's analysis modules, or a clear error naming the extra."""
    try:
        with warnings.catch_warnings():
            # EMA warns at import when altair (its optional interactive plots) is missing.
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import cart, feature_scoring, prim
    except ImportError as exc:
        raise MissingExtraError(
            f"scenario discovery needs the optional extra '{EXTRA}' "
            f"(EMA Workbench and scikit-learn): {INSTALL_HINT}  [{exc}]"
        ) from exc
    return prim, cart, feature_scoring


@contextlib.contextmanager
def _quiet_library() -> Iterator[None]:
    """Silence the warnings EMA Workbench raises from its own code (pandas deprecations
    of calls it makes, missing optional plotting libraries): they are not the user's
    to act on, and a command line should print its result, not them."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"ema_workbench(\.|$)")
        yield


def _choose(trajectory: pd.DataFrame, threshold: float) -> tuple[int, bool]:
    """The step to keep: the largest coverage among steps with density >= threshold
    (ties: fewer restricted factors, then higher density); if none reaches it, the
    densest step (ties: more coverage)."""
    ok = trajectory[trajectory["density"] >= threshold - 1e-12]
    if len(ok):
        best = ok.sort_values(
            ["coverage", "res_dim", "density"], ascending=[False, True, False], kind="stable"
        )
        return int(best.index[0]), True
    best = trajectory.sort_values(["density", "coverage"], ascending=False, kind="stable")
    return int(best.index[0]), False


def discover(
    runs: pd.DataFrame,
    outcome: str = "expansive",
    factors: Sequence[str] | None = None,
    threshold: float = 0.8,
    *,
    max_boxes: int = 1,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
    n_trees: int = 100,
    seed: int = 0,
) -> Discovery:
    """PRIM boxes, a CART tree and feature scores for a boolean outcome of the runs.

    ``outcome`` is a label (``"expansive"``, ``"defensive"``, ``"stagnant"``,
    ``"dissolved"``) or a condition over outcome columns (see
    :func:`parse_condition`).  ``factors`` default to the parameters the design
    varied (:func:`design_factors`).  Failed runs are left out.

    ``threshold`` is the density a box should reach: of PRIM's peeling
    trajectory the step with the most coverage at that density is kept (the
    densest step when none reaches it).  ``max_boxes`` > 1 looks for further
    boxes among the runs the previous boxes leave out, stopping at the first
    that does not reach the threshold.  ``peel_alpha`` and ``mass_min`` are
    PRIM's (share peeled per step, smallest box); CART's leaves hold at least
    ``mass_min`` of the runs too.  ``seed`` makes the extra trees repeatable.
    """
    from copsim import analysis as an

    if not 0 < threshold <= 1:
        raise DiscoveryError(f"threshold must be in (0, 1], got {threshold}")
    data = an.ok_runs(runs)
    if data.empty:
        raise NothingToDiscover("no run finished without error, so there is nothing to analyse")
    target = outcome_mask(data, outcome)  # checks the outcome before the factors
    notes: list[str] = []
    if factors is None:
        names = design_factors(data)
    else:
        names = list(dict.fromkeys(factors))
        for name in names:
            if name not in data:
                raise DiscoveryError(
                    f"unknown factor '{name}'{_did_you_mean(name, data.columns)}; "
                    f"the varied parameters are: {', '.join(design_factors(data)) or 'none'}"
                )
        fixed = [n for n in names if not _varies(data[n])]
        if fixed:
            notes.append(f"left out, as they do not vary: {', '.join(fixed)}")
        names = [n for n in names if n not in fixed]
    if not names:
        raise DiscoveryError("no factor varies between the runs, so there is no region to find")
    x = _factor_frame(data, names)
    keep = x.notna().all(axis=1).to_numpy()
    if not keep.all():
        notes.append(f"{int((~keep).sum())} runs with a missing factor value left out")
    x = x[keep].reset_index(drop=True)
    y = target.cases[keep].astype(int)
    if len(y) < MIN_RUNS:
        raise NothingToDiscover(
            f"only {len(y)} finished runs; scenario discovery needs at least {MIN_RUNS}"
        )
    n_cases = int(y.sum())
    if n_cases in (0, len(y)):
        share = "none" if n_cases == 0 else "all"
        raise NothingToDiscover(
            f"'{target.text}' holds in {share} of the {len(y)} runs, so there is nothing to tell apart"
        )

    prim, cart, feature_scoring = _import_ema()
    scales = _scales(data[keep], names)
    with _quiet_library():
        boxes, trajectory, objective = _prim_boxes(
            prim, x, y, threshold, max_boxes, peel_alpha, mass_min, scales
        )
        if objective != OBJECTIVES[0]:
            notes.append(
                f"PRIM's default objective ({OBJECTIVES[0]}: the gain in density per run "
                f"peeled) stopped short of {threshold:.0%}; the box is from the "
                f"'{objective}' objective, which did better"
            )
        rules, leaves = _cart(cart, x, y, mass_min, target.text, scales)
        if boxes and not boxes[0].reached_threshold:
            dense = leaves[(leaves["predicts"] == target.text) & (leaves["density"] >= threshold)]
            if len(dense):
                best = dense.sort_values("coverage", ascending=False, kind="stable").iloc[0]
                notes.append(
                    f"PRIM stopped short of {threshold:.0%} with each of its objectives (greedy "
                    "peeling gets stuck when cases are few, or lie in separate regions that "
                    f"every peel cuts into); CART's leaf {best['rule']} reaches "
                    f"{best['density']:.0%} (coverage {best['coverage']:.0%})"
                )
        scores = _feature_scores(feature_scoring, x, y, n_trees, seed)
    return Discovery(
        outcome=target.text,
        overall=target.overall,
        inside=target.inside,
        n_runs=len(y),
        n_cases=n_cases,
        factors=names,
        threshold=threshold,
        boxes=boxes,
        trajectory=trajectory,
        cart_rules=rules,
        cart_leaves=leaves,
        feature_scores=scores,
        objective=objective,
        notes=notes,
    )


#: EMA Workbench's PRIM objectives, in the order they are tried: ``lenient1`` (its
#: default: the gain in density per run peeled), ``lenient2`` (that gain weighted by
#: the runs kept), ``original`` (Friedman & Fisher: the density of the box left).
OBJECTIVES = ("lenient1", "lenient2", "original")


def _better(a: Box, b: Box) -> bool:
    """Is box ``a`` better than ``b``: reaching the threshold first, then more
    coverage (both reach it) or more density (neither does)."""
    if a.reached_threshold != b.reached_threshold:
        return a.reached_threshold
    if a.reached_threshold:
        return a.coverage > b.coverage + 1e-12
    return a.density > b.density + 1e-12


def _prim_boxes(
    prim: Any,
    x: pd.DataFrame,
    y: np.ndarray,
    threshold: float,
    max_boxes: int,
    peel_alpha: float,
    mass_min: float,
    scales: dict[str, Scale],
) -> tuple[list[Box], pd.DataFrame, str]:
    """PRIM's boxes, the first box's trajectory, and the objective of the first box.

    Each box is looked for with EMA's default objective; when it falls short of
    the threshold the other objectives are tried and the best box kept.  Every
    objective is greedy and can stall: the default stops as soon as no peel
    raises the density (a plateau of few cases, or cases at two opposite edges),
    while ``original`` peels on to the smallest box and may pass through such a
    dip.  A further box is looked for, the same way, among the runs the earlier
    boxes leave out (as EMA's own covering does); its coverage and mass are
    shares of all runs and cases, and the search stops at the first that does
    not reach the threshold.
    """
    total_runs, total_cases = len(y), int(np.sum(y))
    alive = np.arange(total_runs)
    boxes: list[Box] = []
    trajectory = pd.DataFrame()
    first_objective = OBJECTIVES[0]
    while len(boxes) < max(1, max_boxes) and len(alive) and y[alive].sum() > 0:
        part_x = x.iloc[alive].reset_index(drop=True)
        found_best = _best_box(prim, part_x, y[alive], threshold, peel_alpha, mass_min, scales)
        if found_best is None:
            break
        finder, found, box, steps, name = found_best
        if boxes and not box.reached_threshold:
            break
        if not boxes:
            first_objective = name
            trajectory = _trajectory(finder, found, steps, box.step, scales)
        else:  # statistics of the remaining runs, as shares of all of them
            box.coverage = box.cases / total_cases
            box.mass = box.n / total_runs
        boxes.append(box)
        inside = alive[np.asarray(found.yi, dtype=int)]
        alive = np.setdiff1d(alive, inside)
    return boxes, trajectory, first_objective


def _best_box(
    prim: Any,
    x: pd.DataFrame,
    y: np.ndarray,
    threshold: float,
    peel_alpha: float,
    mass_min: float,
    scales: dict[str, Scale],
) -> tuple[Any, Any, Box, pd.DataFrame, str] | None:
    """One box from each objective in turn until one reaches the threshold; the best."""
    from ema_workbench.analysis.prim_util import PRIMObjectiveFunctions

    best = None
    for name in OBJECTIVES:
        finder = prim.Prim(
            x,
            y.copy(),
            obj_function=getattr(PRIMObjectiveFunctions, name.upper()),
            peel_alpha=peel_alpha,
            paste_alpha=peel_alpha,
            mass_min=mass_min,
        )
        found = finder.find_box()
        if found is None:
            continue
        box, steps = _take(finder, found, threshold, scales)
        if best is None or _better(box, best[2]):
            best = (finder, found, box, steps, name)
        if box.reached_threshold:
            break
    if best is not None:
        best[1].select(best[2].step)  # the box's runs (found.yi) at the step kept
    return best


def _trajectory(
    finder: Any, found: Any, steps: pd.DataFrame, chosen: int, scales: dict[str, Scale]
) -> pd.DataFrame:
    """The peeling trajectory of a box as a table, with the limits at each step."""
    return pd.DataFrame(
        {
            "step": steps.index.astype(int),
            "coverage": steps["coverage"].astype(float),
            "density": steps["density"].astype(float),
            "mass": steps["mass"].astype(float),
            "res_dim": steps["res_dim"].astype(int),
            "n": steps["n"].astype(int),
            "cases": steps["k"].astype(int),
            "limits": [
                " and ".join(lim.text for lim in _limits(lims, finder.box_init, scales))
                or "(no restriction)"
                for lims in found.box_lims
            ],
            "chosen": steps.index == chosen,
        }
    )


def _take(
    finder: Any, found: Any, threshold: float, scales: dict[str, Scale]
) -> tuple[Box, pd.DataFrame]:
    """The step of a found box's trajectory to keep, as a :class:`Box`."""
    steps = found.peeling_trajectory.reset_index(drop=True)
    step, reached = _choose(steps, threshold)
    row = steps.loc[step]
    box = Box(
        limits=_limits(found.box_lims[step], finder.box_init, scales, found.p_values[step]),
        coverage=float(row["coverage"]),
        density=float(row["density"]),
        mass=float(row["mass"]),
        n=int(row["n"]),
        cases=int(row["k"]),
        step=step,
        reached_threshold=reached,
    )
    return box, steps


def _cart(
    cart: Any,
    x: pd.DataFrame,
    y: np.ndarray,
    mass_min: float,
    name: str,
    scales: dict[str, Scale],
) -> tuple[str, pd.DataFrame]:
    """CART's tree (EMA's wrapper of scikit-learn's) as text rules, and its leaves.

    Subtrees whose leaves all predict the same class are shown as one leaf: a
    split that changes no prediction (CART grows them while the Gini impurity
    falls) says nothing a reader can act on.  Each leaf says what it predicts,
    its runs and the share of them that are cases.
    """
    model = cart.CART(x, y, mass_min=mass_min)
    model.build_tree()
    clf, sep = model.clf, model.sep
    t = clf.tree_
    classes = list(clf.classes_)
    positive = classes.index(1) if 1 in classes else None
    n_total, cases_total = len(y), int(np.sum(y))

    def share(node: int) -> float:
        value = t.value[node][0]  # counts or fractions, by scikit-learn's version
        return float(value[positive] / value.sum()) if positive is not None else 0.0

    def predicts(node: int) -> set[int]:
        if t.children_left[node] == -1:
            return {int(classes[int(np.argmax(t.value[node][0]))])}
        return predicts(t.children_left[node]) | predicts(t.children_right[node])

    def label(node: int) -> str:
        return name if predicts(node) == {1} else f"not {name}"

    def split_text(feature: str, left: bool, threshold: float) -> str:
        if sep in feature:
            column, level = feature.split(sep, 1)
            return f"{column} != {level}" if left else f"{column} = {level}"
        scale = scales.get(feature, Scale(True))
        return (
            scale.text(feature, None, threshold) if left else scale.text(feature, threshold, None)
        )

    def rule_text(path: list[tuple[str, bool, float]]) -> str:
        bounds: dict[str, list[float | None]] = {}
        kept: dict[str, set[str]] = {}
        for feature, left, threshold in path:
            if sep in feature:
                column, level = feature.split(sep, 1)
                levels = kept.setdefault(column, {str(v) for v in x[column].unique()})
                if left:
                    levels.discard(level)
                else:
                    levels.intersection_update({level})
                continue
            low, high = bounds.setdefault(feature, [None, None])
            if left:
                bounds[feature][1] = threshold if high is None else min(high, threshold)
            else:
                bounds[feature][0] = threshold if low is None else max(low, threshold)
        parts = [scales.get(f, Scale(True)).text(f, lo, hi) for f, (lo, hi) in bounds.items()]
        parts += [_levels_text(c, levels) for c, levels in kept.items()]
        return " and ".join(parts) or "(all runs)"

    lines: list[str] = []
    leaves: list[dict[str, Any]] = []

    def leaf(node: int, path: list[tuple[str, bool, float]]) -> str:
        n = int(t.n_node_samples[node])
        cases = round(share(node) * n)
        leaves.append(
            {
                "rule": rule_text(path),
                "predicts": label(node),
                "n": n,
                "density": cases / n if n else float("nan"),
                "coverage": cases / cases_total if cases_total else float("nan"),
                "mass": n / n_total,
            }
        )
        return f"{label(node)} ({n} runs, {share(node):.0%} {name})"

    def walk(node: int, depth: int, path: list[tuple[str, bool, float]]) -> None:
        feature = model.feature_names[t.feature[node]]
        threshold = float(t.threshold[node])
        for child, left in ((t.children_left[node], True), (t.children_right[node], False)):
            here = [*path, (feature, left, threshold)]
            prefix = "|   " * depth + "|--- " + split_text(feature, left, threshold)
            if len(predicts(child)) == 1:
                lines.append(f"{prefix}: {leaf(child, here)}")
            else:
                lines.append(prefix)
                walk(child, depth + 1, here)

    if len(predicts(0)) == 1:
        lines.append(f"no split changes the majority: every run is predicted {leaf(0, [])}")
    else:
        walk(0, 0, [])
    table = pd.DataFrame(leaves, columns=["rule", "predicts", "n", "density", "coverage", "mass"])
    table = table.sort_values("density", ascending=False, kind="stable").reset_index(drop=True)
    return "\n".join(lines), table


def _feature_scores(
    feature_scoring: Any, x: pd.DataFrame, y: np.ndarray, n_trees: int, seed: int
) -> pd.DataFrame:
    """Extra-trees importances of each factor for the outcome, highest first."""
    from ema_workbench.analysis.scenario_discovery_util import RuleInductionType

    with warnings.catch_warnings():
        # few runs leave some without an out-of-bag estimate; the importances stand
        warnings.simplefilter("ignore", UserWarning)
        scores, _ = feature_scoring.get_ex_feature_scores(
            x,
            y,
            mode=RuleInductionType.CLASSIFICATION,
            nr_trees=n_trees,
            max_features=max(1, round(x.shape[1] / 3)),
            random_state=seed,
        )
    frame = pd.DataFrame(
        {"factor": scores.index.astype(str), "score": scores.iloc[:, 0].to_numpy(float)}
    )
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame


# ----------------------------------------------------------------------------- figure
def plot_tradeoff(result: Discovery, ax: Any = None) -> matplotlib.figure.Figure:
    """Coverage against density along the first box's peeling trajectory.

    Each dot is a step of the peeling (colour: number of restricted factors);
    the ring is the box kept; the dashed line the density asked for and the
    dotted one the base rate (the density of the whole space).
    """
    from copsim import analysis as an

    fig, ax = an._axes(ax)
    traj = result.trajectory
    dims = traj["res_dim"].to_numpy(int)
    import matplotlib as mpl

    top = int(dims.max()) if len(dims) else 0
    cmap = mpl.colormaps["viridis"].resampled(top + 1)
    points = ax.scatter(
        traj["coverage"], traj["density"], c=dims, cmap=cmap, vmin=-0.5, vmax=top + 0.5, s=22
    )
    chosen = traj[traj["chosen"]]
    ax.scatter(
        chosen["coverage"],
        chosen["density"],
        s=160,
        facecolors="none",
        edgecolors="C3",
        linewidths=1.8,
        label=f"box kept (step {int(chosen['step'].iloc[0])})" if len(chosen) else None,
    )
    ax.axhline(
        result.threshold, color="0.3", linestyle="--", linewidth=1, label="density asked for"
    )
    ax.axhline(result.base_rate, color="0.5", linestyle=":", linewidth=1, label="base rate")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("coverage (share of all cases inside the box)")
    ax.set_ylabel("density (share of the box that are cases)")
    ax.legend(fontsize="small", loc="lower left")
    bar = fig.colorbar(points, ax=ax, ticks=range(top + 1))
    bar.set_label("restricted factors")
    return fig


def plot_feature_scores(result: Discovery, ax: Any = None) -> matplotlib.figure.Figure:
    """The extra-trees feature scores as horizontal bars, the highest on top.

    The dotted line is the score every factor would get if none mattered more than
    another (1 / number of factors): a bar well past it marks a factor the outcome
    depends on; bars near it are what the trees give any factor by chance.
    """
    from copsim import analysis as an

    fig, ax = an._axes(ax)
    scores = result.feature_scores.sort_values("score", kind="stable")
    ax.barh(scores["factor"], scores["score"], color="C0")
    ax.axvline(1 / len(scores), color="0.5", linestyle=":", linewidth=1, label="all equal")
    ax.set_xlabel("feature score (extra trees; the scores sum to 1)")
    ax.legend(fontsize="small", loc="lower right")
    return fig
