"""Reading and summarizing sweep results with pandas.

``load(folder)`` returns a :class:`Results` (``runs``, ``steps``, ``agents``
DataFrames and the manifest).  The functions below take a runs table and the
names of design factors:

- :func:`summarize`: mean, sd, n and a confidence interval of outcomes by factors
  (a t-interval, or for outcomes bounded to [0, 1] a logit-transformed t-interval
  that stays inside the bounds);
- :func:`completeness` and :func:`cell_counts`: how much of the design a folder
  holds (runs present / runs in the design, n per design point);
- :func:`outcome_shares`: the share of each label (expansive, defensive, ...) by
  factors, with Wilson intervals;
- :func:`sobol_indices`: first-order and total Sobol indices (SALib) of a sobol design;
- :func:`rank_correlations` / :func:`rank_correlation_table`: Spearman correlations
  of sampled parameters with outcomes (the quick sensitivity view of an LHS design);
- :func:`binned_dependence`: binned partial dependence of an outcome on a
  continuous factor; :func:`sobol_warnings`: signs that a Sobol sample is too small;
- ``plot_*``: matplotlib figures of the above;
- :func:`discover` (from :mod:`copsim.discovery`): scenario discovery, PRIM boxes,
  a CART tree and feature scores for a boolean outcome (needs the ``discover`` extra).

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

#: The order labels are shown in: every label the model can give, from best to worst
#: (the same tuple as :data:`copsim.outcomes.LABELS`, kept here so analysis stays light).
LABEL_ORDER = ("expansive", "defensive", "stagnant", "dissolved")
#: Outcomes that count things (people, events, spaces).  The model reports them as
#: floats (its metrics dict is uniform); :func:`load` gives them an integer dtype so
#: that ``members == 20`` means what it says and tables print without ``.0``.
COUNT_COLUMNS = (
    "steps",
    "members",
    "exits",
    "conflicts",
    "contests",
    "contests_won",
    "repertoire_changes",
    "spaces_alive",
    "edge_entrants",
)
#: Outcomes that are shares or indices on [0, 1] by construction (see
#: :mod:`copsim.outcomes` and :mod:`copsim.measures`).  Their confidence intervals
#: are computed on the logit scale so that they never leave [0, 1].
UNIT_INTERVAL = (
    "expansiveness",
    "defensiveness",
    "new_ways",
    "repertoire_novelty",
    "own_views_kept",
    "peripheral_contribution",
    "expert_share",
    "learning_volume",
    "alignment_with_powerful",
    "code_knowledge",
    "mean_individual_knowledge",
    "belief_diversity",
    "retention",
    "participation_mean",
    "core_share",
    "periphery_share",
    "voice_gini",
    "inclusion",
    "cohort_inclusion",
    "cross_identity_exchange",
    "contester_core_share",
    "rigidity",
)
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
        """Numeric outcome columns of ``runs`` (design factors are not outcomes, even
        when a custom model's factor is not a :class:`~copsim.params.Params` field)."""
        factors = set(self.factors)
        return [c for c in outcome_columns(self.runs) if c not in factors]


# ----------------------------------------------------------------------------- loading
def _to_pandas(table: Any) -> pd.DataFrame:
    """Arrow to pandas, with the documented dtypes (see :func:`apply_dtypes`)."""
    return apply_dtypes(table.to_pandas())


def label_dtype(extra: list[str] | None = None) -> pd.CategoricalDtype:
    """The ordered categorical of run labels: all four labels, whatever occurred.

    A table of 20 runs that happen to be all *expansive* must still know that
    *defensive* was possible: counts, shares and plots then show it as 0, and two
    tables compare (``pd.concat``, ``==``) without category mismatches.  Labels
    a custom model invents go after the four, in the order given.
    """
    return pd.CategoricalDtype(
        [*LABEL_ORDER, *(x for x in extra or [] if x not in LABEL_ORDER)], ordered=True
    )


def apply_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a runs or steps table its documented dtypes (in place; returns it).

    - ``label``: ordered categorical with all four labels (:func:`label_dtype`);
    - the count columns (:data:`COUNT_COLUMNS`): ``int64``, or the nullable
      ``Int64`` when some rows are missing (failed runs have no outcomes).  A
      column that holds non-integral values is left alone (a model may reuse
      the name for a mean).
    """
    if "label" in frame:
        values = frame["label"]
        seen = [str(v) for v in pd.unique(values.dropna())]
        frame["label"] = pd.Categorical(
            values.astype(object).where(values.notna(), None), dtype=label_dtype(sorted(seen))
        )
    for name in COUNT_COLUMNS:
        if name not in frame or not pd.api.types.is_numeric_dtype(frame[name]):
            continue
        if pd.api.types.is_bool_dtype(frame[name]) or pd.api.types.is_integer_dtype(frame[name]):
            continue
        column = frame[name].astype("float64")
        present = column.dropna()
        if not np.all(np.isfinite(present)) or not np.all(present == np.round(present)):
            continue
        frame[name] = column.astype("Int64") if column.isna().any() else column.astype("int64")
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


@dataclass(frozen=True)
class Completeness:
    """How much of its design a results folder holds.

    ``status`` is what the manifest says; it cannot be trusted on its own: a
    sweep killed with ``kill -9`` never gets to record its end and stays
    ``"running"``.  ``runs_present`` is counted from the table itself.
    """

    status: str
    runs_present: int
    runs_design: int
    runs_failed: int
    points_present: int
    points_design: int

    @property
    def partial(self) -> bool:
        """True unless every run of the design is in the table."""
        return self.runs_present < self.runs_design or self.status != "complete"

    @property
    def fraction(self) -> float:
        """Runs present over runs in the design (0 for an empty design)."""
        return self.runs_present / self.runs_design if self.runs_design else 0.0

    def sentence(self) -> str:
        """One plain line for the top of a report."""
        failed = f", {self.runs_failed} of them failed" if self.runs_failed else ""
        held = (
            f"{self.runs_present} of {self.runs_design} runs in the design "
            f"({self.fraction:.0%}){failed}; {self.points_present} of {self.points_design} "
            "design points have at least one run"
        )
        if not self.partial:
            return f"Complete: {held}."
        why = {
            "running": "the sweep is still running, or was killed before it could record its end",
            "partial": "the sweep stopped before the end (interrupted or limited)",
            "interrupted": "the sweep was interrupted",
            "killed": "the sweep was killed",
            "complete": "the manifest says complete but runs are missing from the table",
        }.get(self.status, f"manifest status '{self.status}'")
        return (
            f"PARTIAL RESULTS: {held}; {why}. Everything below is computed from the runs "
            "present only and will change when the sweep is resumed (copsim sweep CONFIG "
            "--resume)."
        )


def completeness(results: Results) -> Completeness:
    """Runs and design points present against the design recorded in the manifest."""
    resolved = results.manifest.get("resolved", {})
    runs = results.runs
    n_design = int(resolved.get("n_runs") or results.manifest.get("counts", {}).get("runs") or 0)
    failed = int((runs["status"] == "failed").sum()) if "status" in runs else 0
    points = int(runs["point"].nunique()) if "point" in runs else 0
    return Completeness(
        status=str(results.manifest.get("status", "unknown")),
        runs_present=len(runs),
        runs_design=max(n_design, len(runs)),
        runs_failed=failed,
        points_present=points,
        points_design=int(resolved.get("n_points") or points),
    )


def cell_counts(results: Results) -> pd.DataFrame:
    """Runs per design point: ``point``, the factor values, ``n`` (finished without
    error), ``failed`` and ``expected`` (the replicates asked for: the design's, or
    more in the cells ``copsim sweep --target-ci`` raised).

    For grid and scenario designs every point of the design is listed, so a
    point no run reached shows ``n = 0`` (the table is rebuilt from the levels
    in the manifest, in the runner's point order).  For sampled designs only the
    points with runs are listed (their values come from the runs table).
    """
    import itertools

    resolved = results.manifest.get("resolved", {})
    expected = int(resolved.get("replicates") or 0)
    runs = results.runs
    if "point" in runs and len(runs):
        status = runs["status"] if "status" in runs else pd.Series("ok", index=runs.index)
        counts = (
            pd.DataFrame({"point": runs["point"], "ok": status == "ok", "bad": status == "failed"})
            .groupby("point")
            .agg(n=("ok", "sum"), failed=("bad", "sum"))
        )
    else:
        counts = pd.DataFrame({"n": [], "failed": []}, index=pd.Index([], name="point"))
    levels = resolved.get("levels") or {}
    if not resolved.get("sampling") and levels:
        names = list(levels)
        grid = pd.DataFrame(list(itertools.product(*levels.values())), columns=names)
        grid.insert(0, "point", np.arange(len(grid)))
    else:
        names = [f for f in results.factors if f in runs]
        grid = (
            runs[["point", *names]].drop_duplicates("point").sort_values("point")
            if "point" in runs
            else pd.DataFrame({"point": []})
        )
    table = grid.merge(counts, left_on="point", right_index=True, how="left")
    table[["n", "failed"]] = table[["n", "failed"]].fillna(0).astype("int64")
    table["expected"] = expected
    raised = resolved.get("cell_replicates") or {}
    if raised:  # points are numbered cell by cell, points_per_cell to a cell
        cell = table["point"].astype("int64") // int(resolved.get("points_per_cell") or 1)
        more = cell.map({int(c): int(n) for c, n in raised.items()})
        table["expected"] = more.fillna(expected).astype("int64")
    return table.reset_index(drop=True)


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


def is_unit_interval(name: str, values: pd.Series) -> bool:
    """Should ``name``'s interval respect [0, 1]?  Only for outcomes that are shares or
    indices by construction (:data:`UNIT_INTERVAL`) and whose values are indeed in it."""
    if name not in UNIT_INTERVAL:
        return False
    present = pd.to_numeric(values, errors="coerce").dropna()
    return bool(((present >= 0) & (present <= 1)).all())


def bounded_interval(
    mean: np.ndarray, sd: np.ndarray, n: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """A confidence interval of a mean of values in [0, 1] that stays in [0, 1].

    The t-interval is built on the logit scale with the delta-method standard
    error ``se / (m (1 - m))`` and mapped back, so it is asymmetric near the
    bounds and never crosses them; for large n and means away from the bounds
    it equals the usual t-interval.  A mean of exactly 0 or 1 (every run at the
    bound, so sd = 0) gets the degenerate interval [m, m], as the t-interval does.
    """
    from scipy.special import expit, logit

    mean, sd, n = (np.asarray(x, dtype=float) for x in (mean, sd, n))
    se = sd / np.sqrt(np.maximum(n, 1))
    inside = (mean > 0) & (mean < 1)
    m = np.clip(mean, 1e-12, 1 - 1e-12)
    half = _t_quantile(confidence, n - 1) * se / (m * (1 - m))
    low = np.where(inside, expit(logit(m) - half), mean)
    high = np.where(inside, expit(logit(m) + half), mean)
    undefined = ~(n > 1) | np.isnan(sd)
    return np.where(undefined, np.nan, low), np.where(undefined, np.nan, high)


def summarize(
    runs: pd.DataFrame,
    by: list[str] | str | None = None,
    outcomes: list[str] | str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Mean, sd, n and a confidence interval of each outcome per group of ``by``.

    Returns a tidy table: the ``by`` columns, ``outcome``, ``n``, ``mean``,
    ``sd``, ``ci_low``, ``ci_high``, ``ci_method``.  The interval is a
    t-interval (``"t"``), except for outcomes on [0, 1] (:func:`is_unit_interval`),
    whose interval is the logit-transformed t-interval of :func:`bounded_interval`
    (``"logit-t"``) so that it never runs below 0 or above 1.  Groups with one
    run have a NaN interval.
    """
    by = [by] if isinstance(by, str) else list(by or [])
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes or outcome_columns(runs))
    data = ok_runs(runs)
    values = data[by].copy()
    for name in outcomes:  # one float dtype, so that integer and nullable counts melt alike
        values[name] = pd.to_numeric(data[name], errors="coerce").astype("float64")
    long = values.melt(id_vars=by, var_name="outcome", value_name="value")
    keys = [*by, "outcome"]
    grouped = long.groupby(keys, observed=True, sort=True)["value"]
    table = grouped.agg(n="count", mean="mean", sd="std").reset_index()
    half = _t_quantile(confidence, table["n"].to_numpy() - 1) * table["sd"] / np.sqrt(table["n"])
    half = half.where(table["n"] > 1)
    table["ci_low"] = table["mean"] - half
    table["ci_high"] = table["mean"] + half
    table["ci_method"] = "t"
    for name in outcomes:
        if not is_unit_interval(name, data[name]):
            continue
        rows = table["outcome"] == name
        low, high = bounded_interval(
            table.loc[rows, "mean"], table.loc[rows, "sd"], table.loc[rows, "n"], confidence
        )
        table.loc[rows, "ci_low"], table.loc[rows, "ci_high"] = low, high
        table.loc[rows, "ci_method"] = "logit-t"
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
    (with count 0 where it never occurred); for the run label that means all
    four labels of :data:`LABEL_ORDER`, whichever occurred.
    """
    by = [by] if isinstance(by, str) else list(by or [])
    if label not in runs:
        raise KeyError(f"runs have no '{label}' column; outcomes are {outcome_columns(runs)}")
    data = ok_runs(runs)
    labels = data[label].astype("category")
    if label == "label":  # run labels: all four, in order, even in a table not read by load()
        seen = [str(v) for v in labels.cat.categories]
        labels = labels.astype(str).where(labels.notna(), None).astype(label_dtype(sorted(seen)))
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
    show_n: bool = False,
) -> pd.DataFrame:
    """'mean [ci_low, ci_high]' strings of one outcome, rows x cols (for reports).

    With ``show_n`` every cell also says how many runs it averages (``n=12``):
    the report asks for it when the cells do not all hold the same number of
    runs (a partial sweep, failed runs), where a bare mean would hide that.
    """
    part = summary[summary["outcome"] == outcome].copy()

    def cell(r: pd.Series) -> str:
        text = f"{r['mean']:.{digits}f}"
        if not pd.isna(r["ci_low"]):
            text += f" [{r['ci_low']:.{digits}f}, {r['ci_high']:.{digits}f}]"
        return f"{text} (n={int(r['n'])})" if show_n else text

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


def rank_correlation_table(
    runs: pd.DataFrame, parameters: list[str], outcomes: list[str] | None = None
) -> pd.DataFrame:
    """Spearman's rho of each parameter with each outcome, long form with p-values.

    Columns: ``parameter``, ``outcome``, ``rho``, ``p_value``, ``n`` (finished
    runs).  A constant parameter or outcome has no correlation (NaN).
    """
    from scipy import stats

    data = ok_runs(runs)
    outcomes = outcomes or outcome_columns(data)
    rows = []
    for param in parameters:
        x = pd.to_numeric(data[param], errors="coerce").astype("float64")
        for outcome in outcomes:
            y = pd.to_numeric(data[outcome], errors="coerce").astype("float64")
            keep = x.notna() & y.notna()
            if keep.sum() < 3 or x[keep].nunique() < 2 or y[keep].nunique() < 2:
                rho, pval = np.nan, np.nan
            else:
                rho, pval = stats.spearmanr(x[keep], y[keep])
            rows.append(
                {
                    "parameter": param,
                    "outcome": outcome,
                    "rho": float(rho),
                    "p_value": float(pval),
                    "n": int(keep.sum()),
                }
            )
    return pd.DataFrame(rows)


def binned_dependence(
    runs: pd.DataFrame, factor: str, outcome: str, bins: int = 5, confidence: float = 0.95
) -> pd.DataFrame:
    """Binned partial dependence of ``outcome`` on a continuous ``factor``.

    The runs are cut into (at most) ``bins`` quantile bins of ``factor``, the other
    sampled factors left to vary as the design varied them: the mean of each
    bin is the outcome averaged over everything else (a partial-dependence
    estimate in the sense of a sampled design).  Columns: ``bin`` (interval
    text), ``low``, ``high``, ``x`` (mean factor value in the bin), ``n``,
    ``mean``, ``ci_low``, ``ci_high``, ``ci_method``; intervals as in
    :func:`summarize`, so shares and indices stay inside [0, 1].
    """
    data = ok_runs(runs)
    x = pd.to_numeric(data[factor], errors="coerce").astype("float64")
    y = pd.to_numeric(data[outcome], errors="coerce").astype("float64")
    keep = x.notna() & y.notna()
    x, y = x[keep], y[keep]
    if x.nunique() < 2:
        raise ValueError(f"'{factor}' does not vary; a dependence plot needs a sampled factor")
    cut = pd.qcut(x, q=min(bins, x.nunique()), duplicates="drop")
    frame = pd.DataFrame({"bin": cut, "x": x, outcome: y})
    table = summarize(frame, "bin", outcome, confidence).drop(columns="outcome")
    table["x"] = frame.groupby("bin", observed=True)["x"].mean().to_numpy()
    table["low"] = [iv.left for iv in table["bin"]]
    table["high"] = [iv.right for iv in table["bin"]]
    table["bin"] = [f"({iv.left:.3g}, {iv.right:.3g}]" for iv in table["bin"]]
    return table[["bin", "low", "high", "x", "n", "mean", "sd", "ci_low", "ci_high", "ci_method"]]


def sobol_warnings(indices: pd.DataFrame, samples: int | None = None) -> list[str]:
    """Plain-language signs that a Sobol sample is too small to trust the indices.

    Sobol indices are variance shares and lie in [0, 1], and ``S1 <= ST``; the
    Saltelli/Jansen estimators only respect that for large samples.  Flagged:
    an index above 1 or clearly below 0, and an index (of at least 0.05) whose
    bootstrap interval is wider than the index itself, so that not even its
    order of magnitude is known.  An empty list means none of these was seen
    (not that the sample is large enough).
    """
    problems: list[str] = []
    where = [c for c in indices.columns if c not in ("S1", "S1_conf", "ST", "ST_conf")]
    for _, row in indices.iterrows():
        name = ", ".join(f"{c}={row[c]}" for c in where if c != "parameter")
        who = f"{row['parameter']}" + (f" ({name})" if name else "")
        for idx in ("S1", "ST"):
            value, conf = float(row[idx]), float(row[f"{idx}_conf"])
            if value > 1.0:
                problems.append(
                    f"{idx} of {who} is {value:.2f}, above 1 (impossible for a variance share)"
                )
            elif value < -0.05:
                problems.append(
                    f"{idx} of {who} is {value:.2f}, below 0 (impossible for a variance share)"
                )
            elif abs(value) >= 0.05 and 2 * conf > abs(value):
                problems.append(
                    f"{idx} of {who} is {value:.2f} but its interval is {2 * conf:.2f} wide"
                )
    if problems:
        size = f" ({samples} base samples)" if samples else ""
        problems.insert(
            0,
            f"The Sobol sample{size} is too small for these indices to be trusted: "
            "raise design.sobol.samples (several hundred are usual) or read them as a rough ranking only.",
        )
    return problems


# ----------------------------------------------------------------------------- plots
def _backend() -> None:
    """Select the non-interactive Agg backend unless the caller chose one already."""
    import matplotlib

    matplotlib.use("Agg", force=False)


def _axes(ax: Any) -> tuple[matplotlib.figure.Figure, Any]:
    _backend()
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


def plot_dependence(
    runs: pd.DataFrame, factors: list[str], outcome: str, bins: int = 5
) -> matplotlib.figure.Figure:
    """One panel per continuous factor: every run as a dot, and the binned mean
    (:func:`binned_dependence`) with its confidence band on top."""
    _backend()
    import matplotlib.pyplot as plt

    cols = min(len(factors), 3)
    rows = -(-len(factors) // cols)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(3.6 * cols + 0.6, 3.0 * rows + 0.4),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    data = ok_runs(runs)
    for ax, factor in zip(axes.ravel(), factors, strict=False):
        x = pd.to_numeric(data[factor], errors="coerce").astype("float64")
        y = pd.to_numeric(data[outcome], errors="coerce").astype("float64")
        ax.scatter(x, y, s=8, alpha=0.35, color="0.45", linewidths=0)
        table = binned_dependence(data, factor, outcome, bins)
        ax.plot(table["x"], table["mean"], marker="o", color="C0")
        ax.fill_between(table["x"], table["ci_low"], table["ci_high"], color="C0", alpha=0.2)
        ax.set_xlabel(factor)
    for ax in axes.ravel()[len(factors) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(outcome)
    return fig


def shock_times(runs: pd.DataFrame) -> list[int]:
    """The steps at which a scheduled funding shock hits, in any run of the table.

    From the parameters recorded with each run: ``shock_kind`` other than
    ``"none"`` with a positive ``shock_severity`` (a severity of 0 is the
    no-shock control), at ``shock_time``.
    """
    if "shock_kind" not in runs or "shock_time" not in runs:
        return []
    hit = runs["shock_kind"].astype(str) != "none"
    if "shock_severity" in runs:
        hit &= pd.to_numeric(runs["shock_severity"], errors="coerce").fillna(0) > 0
    return sorted({int(t) for t in runs.loc[hit, "shock_time"].dropna()})


def plot_timeseries(
    steps: pd.DataFrame,
    variable: str,
    by: str | None = None,
    ax: Any = None,
    facet: str | None = None,
    shocks: list[int] | None = None,
) -> matplotlib.figure.Figure:
    """Mean trajectory of a model variable per level of ``by``, one panel per level of ``facet``.

    The band is a 95% interval over runs (bounded to [0, 1] for shares and
    indices, see :func:`bounded_interval`).  ``shocks`` are steps marked by a
    dashed vertical line (a scheduled funding shock).  Runs at different
    levels of a factor that is neither ``by`` nor ``facet`` are pooled, so the
    caller decides what may be pooled.
    """
    _backend()
    import matplotlib.pyplot as plt

    panels = (
        sorted(steps[facet].dropna().unique(), key=lambda v: (str(type(v)), v)) if facet else [None]
    )
    if ax is None and facet:
        fig, axes = plt.subplots(
            1,
            len(panels),
            figsize=(3.8 * len(panels) + 1.2, 3.6),
            squeeze=False,
            sharey=True,
            layout="constrained",
        )
        axes = list(axes[0])
    else:
        fig, one = _axes(ax)
        axes = [one]
    bounded = is_unit_interval(variable, steps[variable])
    keys = ["step"] + ([by] if by else [])
    for axis, level in zip(axes, panels, strict=False):
        part = steps if level is None else steps[steps[facet] == level]
        values = part[keys].copy()
        values[variable] = pd.to_numeric(part[variable], errors="coerce").astype("float64")
        stats_ = (
            values.groupby(keys, observed=True)[variable]
            .agg(["mean", "std", "count"])
            .reset_index()
        )
        if bounded:
            low, high = bounded_interval(stats_["mean"], stats_["std"].fillna(0), stats_["count"])
            stats_["low"], stats_["high"] = (
                np.where(np.isnan(low), stats_["mean"], low),
                np.where(np.isnan(high), stats_["mean"], high),
            )
        else:
            half = 1.96 * stats_["std"].fillna(0) / np.sqrt(stats_["count"])
            stats_["low"], stats_["high"] = stats_["mean"] - half, stats_["mean"] + half
        groups = stats_.groupby(by, observed=True) if by else [(None, stats_)]
        for i, (key, group) in enumerate(groups):
            key = key[0] if isinstance(key, tuple) else key
            colour = f"C{i % 10}"
            axis.plot(
                group["step"],
                group["mean"],
                color=colour,
                label=None if by is None else f"{by} = {_short(key)}",
            )
            axis.fill_between(group["step"], group["low"], group["high"], color=colour, alpha=0.2)
        for t in shocks or []:
            axis.axvline(t, color="0.3", linestyle="--", linewidth=1)
            axis.annotate(
                f"shock (step {t})",
                (t, 1),
                xycoords=("data", "axes fraction"),
                xytext=(3, -12),
                textcoords="offset points",
                fontsize="small",
                color="0.3",
            )
        axis.set_xlabel("step")
        if level is not None:
            axis.set_title(f"{facet} = {_short(level)}", fontsize="medium")
    axes[0].set_ylabel(variable)
    if by and ax is None:  # a figure of our own: the legend goes beside the panels, not on the data
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right upper", fontsize="small")
    elif by:
        axes[-1].legend(fontsize="small")
    return fig


def _short(value: Any) -> str:
    """A factor level as a legend or title entry (floats to 4 significant digits)."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# Re-exported here so that analysis is one place to look; copsim.discovery imports its
# algorithms (the optional ``discover`` extra) only when discover() runs.
from copsim.discovery import (  # noqa: E402, F401  (re-exports)
    Discovery,
    DiscoveryError,
    MissingExtraError,
    NothingToDiscover,
    discover,
)
