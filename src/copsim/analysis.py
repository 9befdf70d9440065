"""Reading and summarizing sweep results with pandas.

``load(folder)`` returns a :class:`Results` (``runs``, ``steps``, ``agents``
DataFrames and the manifest).  The functions below take a runs table and the
names of design factors:

- :func:`summarize`: mean, sd, n and a t confidence interval of outcomes by factors;
- :func:`outcome_shares`: the share of each label (expansive, defensive, ...) by
  factors, with Wilson intervals;
- :func:`sobol_indices`: first-order and total Sobol indices (SALib) of a sobol design;
- :func:`rank_correlations`: Spearman correlations of sampled parameters with
  outcomes (the quick sensitivity view of an LHS design);
- ``plot_*``: matplotlib figures of the above.

Failed runs are kept in ``runs`` (``status == "failed"``) and left out of every
summary; :func:`ok_runs` does that filtering.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import matplotlib.figure

#: The order labels are shown in, when the model produces them.
LABEL_ORDER = ("expansive", "defensive", "stagnant", "dissolved")
#: Columns of a runs table that are neither parameters nor outcomes.
ID_COLUMNS = (
    "run",
    "point",
    "replicate",
    "seed",
    "preset",
    "status",
    "error",
    "traceback",
    "scenario",
    "sample",
)


@dataclass
class Results:
    """The tables of a results folder."""

    path: Path
    runs: pd.DataFrame
    steps: pd.DataFrame | None = None
    agents: pd.DataFrame | None = None
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def factors(self) -> list[str]:
        """The design factors (columns that identify a design point)."""
        return list(self.manifest.get("resolved", {}).get("factors", []))

    @property
    def complete(self) -> bool:
        """Did every run of the design finish?"""
        return self.manifest.get("status") == "complete"

    def outcomes(self) -> list[str]:
        """Numeric outcome columns of ``runs``."""
        return outcome_columns(self.runs)


# ----------------------------------------------------------------------------- loading
def _to_pandas(table: Any) -> pd.DataFrame:
    """Arrow to pandas, with labels as ordered-by-meaning categoricals."""
    frame = table.to_pandas()
    if "label" in frame and isinstance(frame["label"].dtype, pd.CategoricalDtype):
        present = list(frame["label"].cat.categories)
        order = [x for x in LABEL_ORDER if x in present] + [
            x for x in present if x not in LABEL_ORDER
        ]
        frame["label"] = frame["label"].cat.set_categories(order)
    return frame


def load(path: str | Path, table: str | None = None) -> Results | pd.DataFrame | None:
    """Read a results folder (complete or still running).

    With ``table`` (``"runs"``, ``"steps"`` or ``"agents"``) return that one
    DataFrame (``None`` if it was not recorded); otherwise a :class:`Results`.
    """
    from copsim.sweep.execution import categorical_columns
    from copsim.sweep.storage import ResultStore

    store = ResultStore(path)
    manifest = store.read_manifest()
    if manifest is None:
        raise FileNotFoundError(f"{path} is not a results folder: no manifest.json")
    frames = {}
    for name in ("runs", "steps", "agents") if table is None else (table,):
        if name not in ("runs", "steps", "agents"):
            raise ValueError(f"unknown table '{name}'; choose runs, steps or agents")
        arrow = store.read_table(name, categorical_columns())
        frames[name] = None if arrow is None else _to_pandas(arrow)
    if table is not None:
        return frames[table]
    runs = frames["runs"] if frames["runs"] is not None else pd.DataFrame()
    return Results(Path(path), runs, frames["steps"], frames["agents"], manifest)


def ok_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs that finished without error."""
    if "status" not in runs:
        return runs
    return runs[runs["status"] == "ok"]


def outcome_columns(runs: pd.DataFrame) -> list[str]:
    """Numeric columns that are outcomes (not parameters or identifiers)."""
    from copsim.params import Params

    skip = set(ID_COLUMNS) | set(Params.model_fields)
    return [
        c
        for c in runs.columns
        if c not in skip
        and pd.api.types.is_numeric_dtype(runs[c])
        and not pd.api.types.is_bool_dtype(runs[c])
    ]


# ----------------------------------------------------------------------------- summaries
def _t_quantile(confidence: float, dof: np.ndarray) -> np.ndarray:
    from scipy import stats

    return stats.t.ppf(0.5 + confidence / 2, np.maximum(dof, 1))


def summarize(
    runs: pd.DataFrame,
    by: list[str] | str | None = None,
    outcomes: list[str] | str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Mean, sd, n and a t-interval of each outcome per group of ``by``.

    Returns a tidy table: the ``by`` columns, ``outcome``, ``n``, ``mean``,
    ``sd``, ``ci_low``, ``ci_high``.  Groups with one run have a NaN interval.
    """
    by = [by] if isinstance(by, str) else list(by or [])
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes or outcome_columns(runs))
    data = ok_runs(runs)
    long = data[by + outcomes].melt(id_vars=by, var_name="outcome", value_name="value")
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    keys = [*by, "outcome"]
    grouped = long.groupby(keys, observed=True, sort=True)["value"]
    table = grouped.agg(n="count", mean="mean", sd="std").reset_index()
    half = _t_quantile(confidence, table["n"].to_numpy() - 1) * table["sd"] / np.sqrt(table["n"])
    half = half.where(table["n"] > 1)
    table["ci_low"] = table["mean"] - half
    table["ci_high"] = table["mean"] + half
    table["outcome"] = pd.Categorical(table["outcome"], categories=outcomes)
    return table.sort_values(keys).reset_index(drop=True)


def _wilson(k: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion k/n."""
    from scipy import stats

    z = stats.norm.ppf(0.5 + confidence / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def outcome_shares(
    runs: pd.DataFrame,
    by: list[str] | str | None = None,
    label: str = "label",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Share of runs with each label per group, with Wilson intervals.

    Columns: the ``by`` columns, ``label``, ``count``, ``n``, ``share``,
    ``ci_low``, ``ci_high``.  Every label of the column appears in every group
    (with count 0 where it never occurred).
    """
    by = [by] if isinstance(by, str) else list(by or [])
    if label not in runs:
        raise KeyError(f"runs have no '{label}' column; outcomes are {outcome_columns(runs)}")
    data = ok_runs(runs)
    labels = data[label].astype("category")
    counts = (
        pd.crosstab(
            [data[c] for c in by] if by else pd.Series("all", index=data.index, name="_all"),
            labels,
            dropna=False,
        )
        .stack()
        .rename("count")
        .reset_index()
    )
    if not by:
        counts = counts.drop(columns="_all")
    totals = (
        counts.groupby(by, observed=True)["count"].transform("sum") if by else counts["count"].sum()
    )
    counts["n"] = totals
    counts = counts[counts["n"] > 0].copy()
    counts["share"] = counts["count"] / counts["n"]
    low, high = _wilson(counts["count"].to_numpy(float), counts["n"].to_numpy(float), confidence)
    counts["ci_low"], counts["ci_high"] = low, high
    return counts.reset_index(drop=True)


def share_table(shares: pd.DataFrame, by: list[str] | str, label: str = "label") -> pd.DataFrame:
    """Label shares as a wide table: one row per group, one column per label."""
    by = [by] if isinstance(by, str) else list(by)
    return shares.pivot_table(index=by, columns=label, values="share", observed=True)


def effect_table(
    summary: pd.DataFrame,
    outcome: str,
    rows: str | list[str],
    cols: str | None = None,
    digits: int = 3,
) -> pd.DataFrame:
    """'mean [ci_low, ci_high]' strings of one outcome, rows x cols (for reports)."""
    part = summary[summary["outcome"] == outcome].copy()

    def cell(r: pd.Series) -> str:
        if pd.isna(r["ci_low"]):
            return f"{r['mean']:.{digits}f}"
        return f"{r['mean']:.{digits}f} [{r['ci_low']:.{digits}f}, {r['ci_high']:.{digits}f}]"

    part["cell"] = part.apply(cell, axis=1)
    if cols is None:
        return part.set_index(rows)[["cell"]].rename(columns={"cell": outcome})
    wide = part.pivot(index=rows, columns=cols, values="cell")
    wide.columns = [f"{cols} = {c}" for c in wide.columns]
    return wide


# ----------------------------------------------------------------------------- sensitivity
def sobol_indices(
    results: Results,
    outcome: str,
    confidence: float = 0.95,
    resamples: int = 200,
) -> pd.DataFrame:
    """Sobol indices of ``outcome`` for a sobol design (SALib), per group of other factors.

    Replicates of a sample point are averaged first.  Columns: the other
    factors, ``parameter``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.
    """
    from SALib.analyze import sobol

    sampling = results.manifest.get("resolved", {}).get("sampling") or {}
    if sampling.get("kind") != "sobol":
        raise ValueError(f"{results.path} is not a sobol design; Sobol indices need one")
    names = list(sampling["ranges"])
    problem = {"num_vars": len(names), "names": names, "bounds": list(sampling["ranges"].values())}
    others = [f for f in results.factors if f not in ("sample", *names)]
    data = ok_runs(results.runs)
    seed = int(results.manifest.get("resolved", {}).get("root_seed", 0))
    frames = []
    groups = data.groupby(others, observed=True) if others else [((), data)]
    for key, group in groups:
        y = group.groupby("sample")[outcome].mean().reindex(range(sampling["n_rows"]))
        if y.isna().any():
            raise ValueError(
                f"Sobol indices need every sample point; {int(y.isna().sum())} have no finished run"
            )
        res = sobol.analyze(
            problem,
            y.to_numpy(float),
            calc_second_order=bool(sampling["second_order"]),
            num_resamples=resamples,
            conf_level=confidence,
            seed=seed,
        )
        frame = pd.DataFrame(
            {
                "parameter": names,
                "S1": res["S1"],
                "S1_conf": res["S1_conf"],
                "ST": res["ST"],
                "ST_conf": res["ST_conf"],
            }
        )
        key = key if isinstance(key, tuple) else (key,)
        for name, value in zip(others, key, strict=True):
            frame.insert(0, name, value)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def rank_correlations(
    runs: pd.DataFrame, parameters: list[str], outcomes: list[str] | None = None
) -> pd.DataFrame:
    """Spearman rank correlation of each parameter with each outcome (rows: parameters)."""
    data = ok_runs(runs)
    outcomes = outcomes or outcome_columns(data)
    ranked = data[parameters + outcomes].astype(float).rank()
    return ranked.corr().loc[parameters, outcomes]


# ----------------------------------------------------------------------------- plots
def _axes(ax: Any) -> tuple[matplotlib.figure.Figure, Any]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    return fig, ax


def plot_effect(
    summary: pd.DataFrame, outcome: str, x: str, hue: str | None = None, ax: Any = None
) -> matplotlib.figure.Figure:
    """Mean of ``outcome`` against factor ``x`` with CI bars, one line per ``hue`` level."""
    fig, ax = _axes(ax)
    part = summary[summary["outcome"] == outcome]
    groups = part.groupby(hue, observed=True, sort=True) if hue else [(None, part)]
    for level, group in groups:
        group = group.sort_values(x)
        err = np.vstack([group["mean"] - group["ci_low"], group["ci_high"] - group["mean"]])
        xs = group[x].astype(str) if not pd.api.types.is_numeric_dtype(group[x]) else group[x]
        ax.errorbar(
            xs,
            group["mean"],
            yerr=np.nan_to_num(err),
            marker="o",
            capsize=3,
            label=None if hue is None else f"{hue} = {level}",
        )
    ax.set_xlabel(x)
    ax.set_ylabel(f"{outcome} (mean, 95% CI)")
    if hue:
        ax.legend(fontsize="small")
    return fig


def plot_shares(
    shares: pd.DataFrame, by: str, label: str = "label", ax: Any = None
) -> matplotlib.figure.Figure:
    """Stacked bars: the share of each label at each level of ``by``."""
    fig, ax = _axes(ax)
    wide = share_table(shares, by, label).fillna(0.0)
    bottom = np.zeros(len(wide))
    xs = [str(i) for i in wide.index]
    for col in wide.columns:
        ax.bar(xs, wide[col].to_numpy(), bottom=bottom, label=str(col))
        bottom += wide[col].to_numpy()
    ax.set_xlabel(by)
    ax.set_ylabel(f"share of runs by {label}")
    ax.set_ylim(0, 1)
    ax.legend(fontsize="small")
    return fig


def plot_sobol(indices: pd.DataFrame, ax: Any = None) -> matplotlib.figure.Figure:
    """Bars of first-order and total Sobol indices with their confidence intervals."""
    fig, ax = _axes(ax)
    xs = np.arange(len(indices))
    ax.bar(xs - 0.2, indices["S1"], 0.4, yerr=indices["S1_conf"], label="first order S1", capsize=3)
    ax.bar(xs + 0.2, indices["ST"], 0.4, yerr=indices["ST_conf"], label="total ST", capsize=3)
    ax.set_xticks(xs, indices["parameter"], rotation=30, ha="right")
    ax.set_ylabel("Sobol index")
    ax.legend(fontsize="small")
    return fig


def plot_timeseries(
    steps: pd.DataFrame, variable: str, by: str | None = None, ax: Any = None
) -> matplotlib.figure.Figure:
    """Mean trajectory of a model variable (band: 95% CI over runs), per level of ``by``."""
    fig, ax = _axes(ax)
    keys = ["step"] + ([by] if by else [])
    stats_ = (
        steps.groupby(keys, observed=True)[variable].agg(["mean", "std", "count"]).reset_index()
    )
    half = 1.96 * stats_["std"].fillna(0) / np.sqrt(stats_["count"])
    stats_["low"], stats_["high"] = stats_["mean"] - half, stats_["mean"] + half
    groups = stats_.groupby(by, observed=True) if by else [(None, stats_)]
    for level, group in groups:
        ax.plot(group["step"], group["mean"], label=None if by is None else f"{by} = {level}")
        ax.fill_between(group["step"], group["low"], group["high"], alpha=0.2)
    ax.set_xlabel("step")
    ax.set_ylabel(variable)
    if by:
        ax.legend(fontsize="small")
    return fig
