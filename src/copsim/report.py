"""A report of a results folder: what it holds, the headline, the tables, the figures.

``write_report(folder)`` writes ``report.html`` (one self-contained file, the
figures embedded as PNG) or, with ``fmt="md"``, ``report.md`` plus its PNGs in
a folder named after it (``report_files/``), so that two reports written side
by side never overwrite each other's figures.  What is headlined comes from the
config's ``report`` section (``outcomes``, ``by``) or, failing that, from the
design: the discrete factors (scenarios, grid) and the outcomes
``expansiveness``/``defensiveness`` when the model reports them.

A report says what it holds before anything else: the status, runs present
out of runs in the design, n per design point, and a plain ``PARTIAL RESULTS``
warning (also raised as :class:`PartialResultsWarning`) when the sweep is not
complete.  Then one headline sentence generated from the data.  Grid and
scenario factors get tables of means; sampled (LHS, Sobol) factors get
continuous analysis instead: dependence plots, Spearman correlations and, for
Sobol designs, Sobol indices with bootstrap intervals and small-sample warnings.
Grid and sampled designs over two or more factors also get scenario discovery
(:func:`copsim.discovery.discover`): which conditions make learning expansive.
"""

from __future__ import annotations

import base64
import html
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from copsim import analysis as an
from copsim.files import atomic_write

#: Outcomes headlined when the config does not say.
PREFERRED_OUTCOMES = ("expansiveness", "defensiveness", "inclusion", "code_knowledge")
#: Factors a time series is split by first (never pooled): a shock or a scenario
#: changes the shape of the trajectory, so averaging over them draws a curve no
#: run followed.
SPLIT_FIRST = ("scenario", "shock_severity", "shock_kind", "shock_time", "shock_duration")
#: The most panels a faceted figure gets before the facet is dropped (pooled).
MAX_PANELS = 6
#: Grid designs with at most this many points list every point's n in the report.
MAX_CELL_ROWS = 60
#: Scenario discovery needs at least this many finished runs (PRIM's smallest box
#: holds 5% of them: fewer, and a box is a handful of runs).
DISCOVERY_MIN_RUNS = 50


class PartialResultsWarning(UserWarning):
    """The report is of a sweep that has not finished: its numbers will change."""


@dataclass
class Section:
    """A titled part of the report: prose, tables and figures, in that order."""

    title: str
    text: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (caption, figure name)


@dataclass
class Report:
    """The content of a report, independent of the output format."""

    title: str
    sections: list[Section]
    figures: dict[str, bytes]  # name -> PNG
    headline: list[str] = field(default_factory=list)  # sentences shown under the title
    partial: bool = False


# ----------------------------------------------------------------------------- choices
def headline_outcomes(results: an.Results) -> list[str]:
    """The outcomes the report leads with."""
    hint = results.manifest.get("config", {}).get("report", {}).get("outcomes")
    runs = an.ok_runs(results.runs)
    available = [o for o in results.outcomes() if runs[o].nunique() > 1]  # constants say nothing
    if hint:
        return [o for o in hint if o in available]
    preferred = [o for o in PREFERRED_OUTCOMES if o in available]
    return preferred[:3] or available[:3]


def sampled_factors(results: an.Results) -> list[str]:
    """The continuous factors of an LHS or Sobol design (empty for grids)."""
    sampling = results.manifest.get("resolved", {}).get("sampling") or {}
    return [f for f in sampling.get("ranges", {}) if f in results.runs]


def headline_factors(results: an.Results) -> list[str]:
    """The discrete factors the tables are grouped by (at most three).

    A sampled factor is never one of them, even when the config's ``report.by``
    names it: every sampled value would become its own "level" (a table of
    mostly empty cells); sampled factors get the continuous analysis instead.
    """
    hint = results.manifest.get("config", {}).get("report", {}).get("by")
    continuous = {*sampled_factors(results), "sample"}
    if hint:
        return [f for f in hint if f not in continuous and f in results.runs]
    levels = results.manifest.get("resolved", {}).get("levels", {})
    return [f for f in levels if f not in continuous and f in results.runs][:3]


# ----------------------------------------------------------------------------- figures
def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def _effect_figure(summary: pd.DataFrame, outcome: str, by: list[str]) -> Any:
    """Outcome vs the first factor, lines by the second, panels by the third."""
    import matplotlib.pyplot as plt

    panels = sorted(summary[by[2]].unique(), key=str) if len(by) > 2 else [None]
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(4.2 * len(panels) + 1, 3.8),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    for ax, level in zip(axes[0], panels, strict=True):
        part = summary if level is None else summary[summary[by[2]] == level]
        an.plot_effect(part, outcome, by[0], by[1] if len(by) > 1 else None, ax=ax)
        if level is not None:
            ax.set_title(f"{by[2]} = {level}")
    return fig


# ----------------------------------------------------------------------------- headline
def _fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _is_number(value: Any) -> bool:
    """A numeric factor level (Python or numpy), not a boolean: levels ordered by value."""
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


def _label_for(outcome: str) -> str | None:
    """The label whose share goes with an outcome in the headline (if any)."""
    return {"expansiveness": "expansive", "defensiveness": "defensive"}.get(outcome)


def _share(runs: pd.DataFrame, label: str) -> float:
    return float((runs["label"] == label).mean()) if len(runs) else float("nan")


def _factor_contrast(
    runs: pd.DataFrame, factor: str, outcome: str, continuous: bool
) -> dict | None:
    """The two ends of a factor and the outcome's mean at each.

    A discrete factor is compared at its lowest and highest level (numeric
    levels) or at the levels with the lowest and highest mean (names); a
    continuous one at its lowest and highest fifth (quantile bins).  The size
    of the effect is the difference of the two means, so discrete and
    continuous factors are ranked on one scale.
    """
    data = runs[[factor, outcome, *(["label"] if "label" in runs else [])]].dropna(
        subset=[factor, outcome]
    )
    if data[factor].nunique() < 2:
        return None
    if continuous:
        values = data[factor].astype(float)
        bins = pd.qcut(values, q=min(5, values.nunique()), duplicates="drop")
        groups = dict(list(data.groupby(bins, observed=True)))
        keys = sorted(groups, key=lambda iv: iv.left)
        part = {5: "fifth", 4: "quarter", 3: "third", 2: "half"}.get(len(keys), "bin")
        lo, hi = keys[0], keys[-1]
        low_x, high_x = groups[lo][factor].astype(float), groups[hi][factor].astype(float)
        names = (
            f"the lowest {part} of {factor} ({low_x.min():.3g} to {low_x.max():.3g})",
            f"the highest {part} ({high_x.min():.3g} to {high_x.max():.3g})",
        )
    else:
        groups = dict(list(data.groupby(factor, observed=True)))
        if all(_is_number(k) for k in groups):
            keys = sorted(groups)
        else:
            keys = sorted(groups, key=lambda k: groups[k][outcome].astype(float).mean())
        lo, hi = keys[0], keys[-1]
        names = (f"{factor} = {_fmt_value(lo)}", f"{factor} = {_fmt_value(hi)}")
    a, b = groups[lo], groups[hi]
    mean_a, mean_b = float(a[outcome].astype(float).mean()), float(b[outcome].astype(float).mean())
    return {
        "factor": factor,
        "names": names,
        "groups": (a, b),
        "means": (mean_a, mean_b),
        "effect": mean_b - mean_a,
    }


def headline_sentences(
    results: an.Results, outcomes: list[str], by: list[str], sampled: list[str]
) -> list[str]:
    """The report's headline, in words and numbers, generated from the data.

    The factor with the largest effect on the first headline outcome
    (expansiveness when it is one): its mean at the two ends of that factor, and
    the share of runs with the matching label there; then the runner-up.
    Without factors: the overall mean and the label shares.
    """
    runs = an.ok_runs(results.runs)
    if runs.empty:
        return ["No run finished without error, so there is nothing to summarize."]
    if not outcomes:
        return [f"{len(runs)} runs finished; none of their outcomes varies between runs."]
    target = "expansiveness" if "expansiveness" in outcomes else outcomes[0]
    label = _label_for(target) if "label" in runs else None
    contrasts = [
        c
        for c in (
            *(_factor_contrast(runs, f, target, False) for f in by),
            *(_factor_contrast(runs, f, target, True) for f in sampled),
        )
        if c is not None and not pd.isna(c["effect"])
    ]
    if not contrasts:
        summary = an.summarize(runs, [], target).iloc[0]
        text = f"Over {len(runs)} finished runs, mean {target} is {summary['mean']:.2f}"
        if not pd.isna(summary["ci_low"]):
            text += f" [95% CI {summary['ci_low']:.2f}, {summary['ci_high']:.2f}]"
        if "label" in runs:
            shares = runs["label"].value_counts(normalize=True, sort=False)
            parts = [f"{k} {v:.0%}" for k, v in shares.items() if v > 0]
            text += "; runs by label: " + ", ".join(parts)
        return [text + "."]
    contrasts.sort(key=lambda c: abs(c["effect"]), reverse=True)
    best = contrasts[0]
    (name_a, name_b), (mean_a, mean_b) = best["names"], best["means"]
    (a, b) = best["groups"]
    verb = "rises" if mean_b > mean_a else "falls"
    text = (
        f"{best['factor']} has the largest effect on {target}: mean {target} {verb} from "
        f"{mean_a:.2f} at {name_a} to {mean_b:.2f} at {name_b} ({len(a)} and {len(b)} runs)"
    )
    if best["factor"] in sampled:
        rho = an.rank_correlation_table(runs, [best["factor"]], [target])["rho"].iloc[0]
        text += f"; Spearman rank correlation {rho:.2f}"
    if label:
        text += f", and the share of runs labelled {label} from {_share(a, label):.0%} to {_share(b, label):.0%}"
    sentences = [text + "."]
    if len(contrasts) > 1:
        second = contrasts[1]
        sentences.append(
            f"Next is {second['factor']}: {target} {second['means'][0]:.2f} at "
            f"{second['names'][0]} vs {second['means'][1]:.2f} at {second['names'][1]}."
        )
    return sentences


# ----------------------------------------------------------------------------- sections
def status_section(results: an.Results, comp: an.Completeness) -> Section:
    """What the folder holds: status, runs present / in the design, n per design point."""
    sec = Section("What this report holds")
    sec.text.append(comp.sentence())
    cells = an.cell_counts(results)
    if cells.empty:
        return sec
    low, high = int(cells["expected"].min()), int(cells["expected"].max())
    expected = f"{low}" if low == high else f"{low} to {high}"
    short = cells[cells["n"] < cells["expected"]]
    counts = cells["n"]
    asks = f"the design asks for {expected}"
    if low != high:
        asks += ": sweep --target-ci raised some cells"
    sec.text.append(
        f"Finished runs per design point: {int(counts.min())} to {int(counts.max())} "
        f"({asks}); {len(short)} of {len(cells)} points have fewer."
    )
    sampled = bool(results.manifest.get("resolved", {}).get("sampling"))
    if not sampled and len(cells) <= MAX_CELL_ROWS:
        sec.tables.append(("Runs per design point", cells))
    elif len(short):
        sec.tables.append(
            ("Design points with fewer finished runs than asked", short.head(MAX_CELL_ROWS))
        )
    return sec


def design_section(results: an.Results, comp: an.Completeness) -> Section:
    """What was run: factors, levels, sampling, replicates, seeds, provenance."""
    m = results.manifest
    res = m.get("resolved", {})
    sec = Section("Design")
    if m.get("description"):
        sec.text.append(m["description"].strip())
    rows = [
        {"factor": k, "levels": ", ".join(map(_fmt_value, v))}
        for k, v in res.get("levels", {}).items()
    ]
    sampling = res.get("sampling")
    if sampling:
        for name, (lo, hi) in sampling["ranges"].items():
            rows.append({"factor": name, "levels": f"{sampling['kind']} sample in [{lo}, {hi}]"})
    if rows:
        sec.tables.append(("Design factors", pd.DataFrame(rows)))
    git = m.get("git", {})
    facts = {
        "experiment": m.get("experiment"),
        "status": comp.status,
        "design points": res.get("n_points"),
        "replicates per point": _replicates_text(res),
        "runs in the design": comp.runs_design,
        "runs present": f"{comp.runs_present} ({comp.fraction:.0%})",
        "failed runs": comp.runs_failed,
        "root seed": res.get("root_seed"),
        "run seeds": res.get("seed_rule"),
        "config file": m.get("config_file"),
        "copsim": m.get("versions", {}).get("copsim"),
        "git commit": (git.get("commit") or "unknown")[:12]
        + (" (modified)" if git.get("dirty") else ""),
        "wall time (s)": m.get("total_wall_seconds"),
    }
    sec.tables.append(
        ("Facts", pd.DataFrame({"item": list(facts), "value": [str(v) for v in facts.values()]}))
    )
    return sec


def _replicates_text(resolved: dict[str, Any]) -> str:
    """The design's replicates, with the cells ``sweep --target-ci`` raised."""
    base = resolved.get("replicates")
    raised = sorted((resolved.get("cell_replicates") or {}).values())
    if not raised:
        return str(base)
    span = f"{raised[0]}" if raised[0] == raised[-1] else f"{raised[0]} to {raised[-1]}"
    return f"{base} in the config; {span} in {len(raised)} cells, raised by sweep --target-ci"


def _interval_note(summary: pd.DataFrame) -> str:
    methods = set(summary.get("ci_method", pd.Series(["t"])))
    note = "Cells: mean over replicates [95% t-interval]"
    if "logit-t" in methods:
        note += (
            "; for shares and indices on [0, 1] the interval is computed on the logit scale, "
            "so it never leaves [0, 1]"
        )
    return note + ". Failed runs are excluded."


def effects_section(
    results: an.Results, outcomes: list[str], by: list[str], figures: dict
) -> Section:
    """Mean outcomes with 95% confidence intervals by the headline (discrete) factors."""
    sec = Section("Outcomes by design factor")
    if not by:
        summary = an.summarize(results.runs, [], outcomes)
        sec.text.append(_interval_note(summary))
        sec.tables.append(("Mean [95% CI] over all runs", summary))
        return sec
    summary = an.summarize(results.runs, by, outcomes)
    uneven = summary["n"].nunique() > 1 or an.completeness(results).partial
    sec.text.append(_interval_note(summary))
    if uneven:
        sec.text.append("Cells hold different numbers of runs; each cell says its n.")
    rows = [by[0], *by[2:]]
    for outcome in outcomes:
        table = an.effect_table(
            summary, outcome, rows, by[1] if len(by) > 1 else None, show_n=bool(uneven)
        )
        sec.tables.append((f"{outcome}", table.reset_index()))
        name = f"effect_{outcome}"
        figures[name] = _png(_effect_figure(summary, outcome, by))
        sec.figures.append((f"{outcome} by {', '.join(by)}", name))
    return sec


#: The target 95% CI half-width when the config's ``report.target_ci`` does not say.
DEFAULT_TARGET_CI = 0.05


def replication_outcomes(results: an.Results) -> list[str]:
    """The outcomes whose precision the replication check reports.

    Those of the config's ``report.outcomes`` that are shares or indices on
    [0, 1] (:func:`copsim.analysis.is_unit_interval`): one target half-width in
    absolute units means the same for each of them, and nothing for a count
    such as ``members`` (whose interval is in the tables).  Without such
    outcomes, those of :data:`PREFERRED_OUTCOMES` present, else the headline ones.
    """
    runs = results.runs

    def numeric(names: Any) -> list[str]:
        return [o for o in names or [] if o in runs and pd.api.types.is_numeric_dtype(runs[o])]

    hint = numeric((results.manifest.get("config", {}).get("report") or {}).get("outcomes"))
    bounded = [o for o in hint if an.is_unit_interval(o, runs[o])]
    return bounded or numeric(PREFERRED_OUTCOMES) or headline_outcomes(results)


def replication_factors(results: an.Results) -> list[str]:
    """The factors that make a design cell: every discrete design factor (scenario, grid)."""
    levels = results.manifest.get("resolved", {}).get("levels", {})
    return [f for f in levels if f in results.runs]


def target_ci(results: an.Results) -> float:
    """The half-width a cell's 95% CI should not exceed (``report.target_ci``)."""
    value = (results.manifest.get("config", {}).get("report") or {}).get("target_ci")
    return float(value) if value is not None else DEFAULT_TARGET_CI


def replication_table(
    results: an.Results, target: float | None = None
) -> tuple[pd.DataFrame, list[str], float]:
    """Per design cell: n and the 95% CI half-width of each outcome, and whether it is too wide.

    The half-width is half the interval's width (the interval of
    :func:`copsim.analysis.summarize`, on the logit scale for outcomes on
    [0, 1], so it can be asymmetric).  A cell with fewer than two finished
    runs has no interval and is flagged.  ``target`` defaults to the config's
    ``report.target_ci`` (``copsim sweep --target-ci W`` passes its own).
    Returns the table (one row per cell, widest first), the outcomes, and the target.
    """
    outcomes = replication_outcomes(results)
    by = replication_factors(results)
    target = target_ci(results) if target is None else float(target)
    summary = an.summarize(results.runs, by, outcomes)
    summary["half_width"] = (summary["ci_high"] - summary["ci_low"]) / 2
    summary["outcome"] = summary["outcome"].astype(str)
    if by:
        wide = summary.pivot(index=by, columns="outcome", values="half_width")
        counts = summary.groupby(by, observed=True, sort=True)["n"].max().reindex(wide.index)
        table = wide.reindex(columns=outcomes).reset_index()
    else:
        counts = pd.Series([summary["n"].max()])
        table = summary.set_index("outcome")[["half_width"]].T.reindex(columns=outcomes)
        table = table.reset_index(drop=True)
    table.columns.name = None
    table.insert(len(by), "n", counts.to_numpy().astype(int))
    too_wide = [
        ", ".join(o for o in outcomes if not (row[o] <= target))  # NaN (n < 2) counts as too wide
        for _, row in table.iterrows()
    ]
    table["wider than target"] = too_wide
    order = table[outcomes].fillna(np.inf).max(axis=1).sort_values(ascending=False, kind="stable")
    table = table.loc[order.index].reset_index(drop=True)
    table = table.rename(columns={o: f"{o} ±" for o in outcomes})
    return table, outcomes, target


def replication_section(results: an.Results) -> Section | None:
    """Are the replicates enough?  n and CI half-width per design cell, against the target."""
    if an.ok_runs(results.runs).empty:
        return None
    table, outcomes, target = replication_table(results)
    if not outcomes:
        return None
    sec = Section("Replication")
    flagged = int((table["wider than target"] != "").sum())
    cells = len(table)
    sec.text.append(
        f"Each design cell's n (finished runs) and the half-width of the 95% confidence "
        f"interval of its mean {', '.join(outcomes)} (the ± columns), widest first. Target: "
        f"{target:g} (report.target_ci in the config)."
    )
    if flagged:
        sec.text.append(
            f"{flagged} of {cells} cells have an interval wider than the target on at least "
            "one outcome (a cell with one run has none): more replicates would narrow them "
            f"(copsim sweep CONFIG --target-ci {target:g} adds them to those cells only, in "
            "rounds; or raise replicates and run the same sweep again; the finished runs are "
            "kept)."
        )
    else:
        sec.text.append(f"Every one of the {cells} cells is within the target.")
    done = results.manifest.get("target_ci")
    if done:
        sec.text.append(
            f"sweep --target-ci {done.get('target_ci'):g} (at most {done.get('max_replicates')} "
            f"replicates per point) extended this sweep in {done.get('rounds')} rounds, "
            f"{done.get('runs_added')} runs; {_TARGET_STATUS.get(done.get('status'), '')}"
        )
    shown = table.head(MAX_CELL_ROWS)
    caption = "95% CI half-width per design cell"
    if cells > MAX_CELL_ROWS:
        caption += f" (the {MAX_CELL_ROWS} widest of {cells})"
    sec.tables.append((caption, shown))
    return sec


#: What the status ``sweep --target-ci`` left means, for the Replication section.
_TARGET_STATUS = {
    "met": "every cell was then within that target.",
    "cap": "cells still wider than that target had reached the cap.",
    "unfinished-cells": "some cells had no finished run to measure.",
    "running": "it had not finished (run the same command again to go on).",
}


def shares_section(results: an.Results, by: list[str], figures: dict) -> Section | None:
    """How often each label (expansive, defensive, ...) occurred, by factor."""
    if "label" not in results.runs:
        return None
    sec = Section("Outcome labels")
    shares = an.outcome_shares(results.runs, by)
    if by:
        wide = an.share_table(shares, by).reset_index()
    else:
        wide = shares.set_index("label")[["share"]].T.reset_index(drop=True)
        wide.insert(0, "runs", "all")
    labels = [c for c in wide.columns if c in set(shares["label"].astype(str))]
    wide[labels] = (wide[labels] * 100).round(1)
    wide.columns.name = None
    sec.tables.append(("Share of runs with each label (%)", wide))
    if by:
        figures["shares"] = _png(an.plot_shares(an.outcome_shares(results.runs, by[0]), by[0]))
        sec.figures.append((f"label shares by {by[0]}", "shares"))
    return sec


def _interval_text(value: float, conf: float) -> str:
    return f"{value:.3f} [{value - conf:.3f}, {value + conf:.3f}]"


def continuous_section(results: an.Results, outcomes: list[str], figures: dict) -> Section | None:
    """Sampled (LHS/Sobol) factors: dependence plots, Spearman correlations, Sobol indices."""
    sampling = results.manifest.get("resolved", {}).get("sampling")
    sampled = sampled_factors(results)
    if not sampling or not sampled or not outcomes:
        return None
    sec = Section("Sensitivity to the sampled factors")
    sec.text.append(
        "Every sampled value is a design point of its own, so these factors are not tabled "
        "by level. Plots: each dot is a run; the line is the mean in quantile bins of the "
        "factor (the other factors varying as sampled), with its 95% interval."
    )
    for outcome in outcomes:
        name = f"dependence_{outcome}"
        figures[name] = _png(an.plot_dependence(results.runs, sampled, outcome))
        sec.figures.append((f"{outcome} against each sampled factor", name))
    corr = an.rank_correlation_table(results.runs, sampled, outcomes)
    wide = corr.pivot(index="parameter", columns="outcome", values="rho").reindex(
        index=sampled, columns=outcomes
    )
    wide.columns.name = None
    sec.tables.append(
        (
            f"Spearman rank correlation, parameter x outcome (n = {int(corr['n'].max())} runs)",
            wide.round(3).reset_index(),
        )
    )
    if sampling["kind"] == "sobol":
        for outcome in outcomes:
            try:
                indices = an.sobol_indices(results, outcome)
            except ValueError as exc:
                sec.text.append(f"No Sobol indices of {outcome}: {exc}.")
                continue
            problems = an.sobol_warnings(indices, sampling.get("samples"))
            if problems:
                sec.text.append(
                    f"Warning ({outcome}): {problems[0]} Seen: {'; '.join(problems[1:])}."
                )
            shown = indices.drop(columns=["S1", "S1_conf", "ST", "ST_conf"]).copy()
            shown["S1 [95% CI]"] = [
                _interval_text(v, c) for v, c in zip(indices["S1"], indices["S1_conf"], strict=True)
            ]
            shown["ST [95% CI]"] = [
                _interval_text(v, c) for v, c in zip(indices["ST"], indices["ST_conf"], strict=True)
            ]
            sec.tables.append((f"Sobol indices of {outcome} (SALib; bootstrap intervals)", shown))
            name = f"sobol_{outcome}"
            figures[name] = _png(an.plot_sobol(indices.drop_duplicates("parameter")))
            sec.figures.append((f"Sobol indices of {outcome}", name))
    return sec


def discovery_factors(results: an.Results) -> list[str]:
    """The grid and sampled (LHS, Sobol) factors of the design that vary in the runs:
    the space scenario discovery looks for a box in (scenarios are not in it)."""
    resolved = results.manifest.get("resolved", {})
    names = [*resolved.get("levels", {}), *(resolved.get("sampling") or {}).get("ranges", {})]
    runs = an.ok_runs(results.runs)
    return [n for n in dict.fromkeys(names) if n in runs and runs[n].astype(str).nunique() > 1]


#: The density the report's box must reach, unless expansive runs are already that common.
DISCOVERY_DENSITY = 0.8


def discovery_threshold(base_rate: float) -> float:
    """The density asked of the report's box: :data:`DISCOVERY_DENSITY`, or, when the
    outcome is at least that common everywhere (the whole space would be the box),
    halfway from its base rate to 1, so that the box says where it is commoner still."""
    if base_rate < DISCOVERY_DENSITY:
        return DISCOVERY_DENSITY
    return min(1.0, round(base_rate + (1.0 - base_rate) / 2, 2))


def discovery_section(results: an.Results, figures: dict) -> Section | None:
    """Which conditions make learning expansive?  A PRIM box, its trade-off, feature scores.

    Only for a grid or a sampled design over at least two factors: with one
    factor the effect tables already say it.  Skipped with one line when the
    ``discover`` extra is missing or the runs are too few or never (always)
    expansive, so a report never fails for want of it.
    """
    factors = discovery_factors(results)
    if len(factors) < 2 or "label" not in results.runs:
        return None
    sec = Section("Which conditions make learning expansive?")
    runs = an.ok_runs(results.runs)
    if len(runs) < DISCOVERY_MIN_RUNS:
        sec.text.append(
            f"Skipped: scenario discovery needs at least {DISCOVERY_MIN_RUNS} finished runs; "
            f"there are {len(runs)}."
        )
        return sec
    try:
        base_rate = float((runs["label"].astype(str) == "expansive").mean())
        found = an.discover(
            runs, "expansive", factors=factors, threshold=discovery_threshold(base_rate)
        )
    except an.MissingExtraError:
        sec.text.append(
            "Skipped: scenario discovery needs the optional extra 'discover' "
            "(pip install 'copsim[discover]')."
        )
        return sec
    except an.NothingToDiscover as exc:
        sec.text.append(f"Skipped: {exc}.")
        return sec
    from copsim.discovery import plot_tradeoff

    box = found.box
    summary = found.summary()
    sec.text.append(summary[0].upper() + summary[1:] + ".")
    sec.text.append(
        f"PRIM (EMA Workbench) peels the space of {', '.join(found.factors)} a little at a time, "
        "keeping the runs where expansive learning is most frequent. Coverage: the share of all "
        "expansive runs inside the box; density: the share of the runs in the box that are "
        f"expansive; mass: the share of all runs in the box ({box.mass:.0%}, {box.n} runs). The box "
        f"shown is the one with the most coverage at a density of at least {found.threshold:.0%} "
        "(or the densest, when none reaches it); quasi-p is the chance of a restriction this "
        "useful if it did nothing. Feature scores (extra trees) rank how much each factor "
        "matters at all, inside or outside the box."
    )
    if found.threshold != DISCOVERY_DENSITY:
        sec.text.append(
            f"Expansive runs are {found.base_rate:.0%} of all, already above the usual "
            f"{DISCOVERY_DENSITY:.0%}, so the box is asked for {found.threshold:.0%}: halfway "
            "from the base rate to 1 (`copsim discover --threshold` asks for any other)."
        )
    sec.text += [f"Note: {note}" for note in found.notes]
    if box.limits:
        sec.tables.append(("The box (PRIM)", box.table()))
    sec.tables.append(("Feature scores (extra trees; they sum to 1)", found.feature_scores))
    figures["discovery_tradeoff"] = _png(plot_tradeoff(found))
    sec.figures.append(
        (
            "Peeling trajectory: coverage against density, one dot per step (colour: factors "
            "restricted); the ring is the box shown",
            "discovery_tradeoff",
        )
    )
    return sec


def _discrete_column(
    steps: pd.DataFrame, factor: str, continuous: bool
) -> tuple[pd.DataFrame, str]:
    """``steps`` with a column that splits it by ``factor``: the factor itself, or
    for a sampled factor its thirds (quantile bins of the sampled values)."""
    if not continuous:
        return steps, factor
    column = f"{factor} (thirds)"
    values = steps[factor].astype(float)
    bins = pd.qcut(values, q=min(3, values.nunique()), duplicates="drop")
    steps = steps.copy()
    steps[column] = [f"{iv.left:.3g} to {iv.right:.3g}" for iv in bins]
    return steps, column


def timeseries_section(
    results: an.Results, outcomes: list[str], by: list[str], figures: dict
) -> Section | None:
    """Mean trajectories of headline variables recorded every k steps.

    One line per level of a shock or scenario factor when the design has one
    (those are never pooled), else per level of the first headline factor;
    panels by the next factor; the shock time marked when the runs have one.
    """
    steps = results.steps
    if steps is None or steps.empty:
        return None
    sampled = sampled_factors(results)
    design = [f for f in results.factors if f != "sample" and f in steps]
    variables = [o for o in outcomes if o in steps][:2] or [
        c for c in steps.columns if c not in ("run", "point", "replicate", "step", *design)
    ][:1]
    split = [f for f in SPLIT_FIRST if f in design and steps[f].nunique() > 1]
    split += [f for f in by if f in steps and f not in split and steps[f].nunique() > 1]
    split += [f for f in sampled if f in steps and f not in split]
    hue = split[0] if split else None
    facet = next((f for f in split[1:] if f in sampled or steps[f].nunique() <= MAX_PANELS), None)
    frame = steps
    hue_col = facet_col = None
    if hue:
        frame, hue_col = _discrete_column(frame, hue, hue in sampled)
    if facet:
        frame, facet_col = _discrete_column(frame, facet, facet in sampled)
    shocks = an.shock_times(an.ok_runs(results.runs))
    pooled = [f for f in design if f not in (hue, facet) and steps[f].nunique() > 1]
    sec = Section("Time series")
    for var in variables:
        name = f"ts_{var}"
        figures[name] = _png(
            an.plot_timeseries(frame, var, hue_col, facet=facet_col, shocks=shocks)
        )
        caption = f"{var} over time (mean, 95% band)"
        if hue:
            caption += f", one line per {hue_col}"
        if facet:
            caption += f", one panel per {facet_col}"
        if shocks:
            caption += f"; dashed: funding shock at step {', '.join(map(str, shocks))}"
        if pooled:
            caption += f"; pooled over {', '.join(pooled)}"
        sec.figures.append((caption, name))
    return sec


def failures_section(results: an.Results) -> Section | None:
    """The failed runs, if any: how many and their first errors."""
    runs = results.runs
    if "status" not in runs or not (runs["status"] == "failed").any():
        return None
    failed = runs[runs["status"] == "failed"]
    sec = Section("Failed runs")
    sec.text.append(f"{len(failed)} of {len(runs)} runs raised an error and are excluded above.")
    sec.tables.append(
        ("First failures", failed[["run", "point", "replicate", "seed", "error"]].head(10))
    )
    return sec


def build_report(results: an.Results) -> Report:
    """Assemble every section that applies to this results folder."""
    comp = an.completeness(results)
    outcomes = headline_outcomes(results)
    by = headline_factors(results)
    sampled = sampled_factors(results)
    figures: dict[str, bytes] = {}
    headline = headline_sentences(results, outcomes, by, sampled)
    if comp.partial:
        headline.insert(0, comp.sentence())
    sections = [
        status_section(results, comp),
        design_section(results, comp),
        effects_section(results, outcomes, by, figures),
        replication_section(results),
        shares_section(results, by, figures),
        continuous_section(results, outcomes, figures),
        discovery_section(results, figures),
        timeseries_section(results, outcomes, by, figures),
        failures_section(results),
    ]
    title = results.manifest.get("config", {}).get("report", {}).get("title") or (
        f"copsim experiment: {results.manifest.get('experiment', results.path.name)}"
    )
    if comp.partial:
        title = f"PARTIAL RESULTS ({comp.runs_present} of {comp.runs_design} runs): {title}"
    return Report(title, [s for s in sections if s is not None], figures, headline, comp.partial)


# ----------------------------------------------------------------------------- rendering
_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f2f2f2} td:first-child,th:first-child{text-align:left}
figure{margin:1em 0} figcaption{font-size:.9em;color:#555}
img{max-width:100%}
p.partial{background:#fde8e8;border-left:4px solid #c0392b;padding:.5em .8em;font-weight:600}
p.headline{font-size:1.05em}
"""


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as it is shown: no name on the column index (pandas draws it as an
    extra, empty first column in HTML) and column labels as text."""
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    frame.columns.name = None
    return frame


def render_html(report: Report) -> str:
    """One self-contained HTML page (figures embedded as base64 PNG)."""
    out = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(report.title)}</title>",
        f"<style>{_CSS}</style></head><body><h1>{html.escape(report.title)}</h1>",
    ]
    for i, sentence in enumerate(report.headline):
        css = "partial" if report.partial and i == 0 else "headline"
        out.append(f"<p class='{css}'>{html.escape(sentence)}</p>")
    for sec in report.sections:
        out.append(f"<h2>{html.escape(sec.title)}</h2>")
        out += [f"<p>{html.escape(t)}</p>" for t in sec.text]
        for caption, table in sec.tables:
            out.append(f"<h3>{html.escape(caption)}</h3>")
            out.append(
                _clean(table).to_html(
                    index=False, na_rep="", float_format=lambda v: f"{v:.4g}", border=0
                )
            )
        for caption, name in sec.figures:
            data = base64.b64encode(report.figures[name]).decode("ascii")
            out.append(
                f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
    out.append("</body></html>")
    return "\n".join(out)


def markdown_table(frame: pd.DataFrame) -> str:
    """A DataFrame as a GitHub Markdown table."""

    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and pd.isna(v)):
            return ""
        return (f"{v:.4g}" if isinstance(v, float) else str(v)).replace("|", "\\|")

    frame = _clean(frame)
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines)


def render_markdown(report: Report, image_prefix: str = "") -> str:
    """Markdown text; figures are referenced as ``<image_prefix><name>.png``."""
    out = [f"# {report.title}", ""]
    for i, sentence in enumerate(report.headline):
        out += [f"> **{sentence}**" if report.partial and i == 0 else sentence, ""]
    for sec in report.sections:
        out += [f"## {sec.title}", ""]
        out += [t + "\n" for t in sec.text]
        for caption, table in sec.tables:
            out += [f"**{caption}**", "", markdown_table(table), ""]
        for caption, name in sec.figures:
            out += [f"![{caption}]({image_prefix}{name}.png)", ""]
    return "\n".join(out)


def figures_dir(target: Path) -> Path:
    """Where a Markdown report's PNGs go: ``<stem>_files/`` beside it.

    A folder of its own (as browsers do for a saved page), so that the figures
    of ``a.md`` and ``b.md`` in one folder, or a user's own ``shares.png`` there,
    are never overwritten.
    """
    return target.with_name(f"{target.stem}_files")


def write_report(path: str | Path, out: str | Path | None = None, fmt: str = "html") -> Path:
    """Write the report of a results folder; return the report file.

    A folder whose sweep is not complete still gets a report (it is how one
    looks at a running sweep), but the report says so at the top and a
    :class:`PartialResultsWarning` is raised as a warning for the caller.
    """
    if fmt not in ("html", "md"):
        raise ValueError(f"unknown report format '{fmt}'; choose html or md")
    results = an.load(path)
    if results.runs.empty:
        raise ValueError(f"{path} has no finished runs to report on")
    report = build_report(results)
    if report.partial:
        warnings.warn(
            f"{path}: {an.completeness(results).sentence()}", PartialResultsWarning, stacklevel=2
        )
    target = Path(out) if out is not None else Path(path) / f"report.{fmt}"
    if fmt == "html":
        text = render_html(report)
    else:
        folder = figures_dir(target)
        folder.mkdir(parents=True, exist_ok=True)
        for name, png in report.figures.items():
            atomic_write(folder / f"{name}.png", lambda tmp, png=png: tmp.write_bytes(png))
        text = render_markdown(report, image_prefix=f"{folder.name}/")
    atomic_write(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return target
