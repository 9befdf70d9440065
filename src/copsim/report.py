"""A report of a results folder: the design, the headline tables, the figures.

``write_report(folder)`` writes ``report.html`` (one self-contained file, the
figures embedded as PNG) or, with ``fmt="md"``, ``report.md`` plus one PNG per
figure beside it.  What is headlined comes from the config's ``report`` section
(``outcomes``, ``by``) or, failing that, from the design: the discrete factors
(scenarios, grid) and the outcomes ``expansiveness``/``defensiveness`` when the
model reports them.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from copsim import analysis as an
from copsim.files import atomic_write

#: Outcomes headlined when the config does not say.
PREFERRED_OUTCOMES = ("expansiveness", "defensiveness", "inclusion", "code_knowledge")


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


def headline_factors(results: an.Results) -> list[str]:
    """The discrete factors the tables are grouped by (at most three)."""
    hint = results.manifest.get("config", {}).get("report", {}).get("by")
    if hint:
        return list(hint)
    levels = results.manifest.get("resolved", {}).get("levels", {})
    return list(levels)[:3]


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


# ----------------------------------------------------------------------------- sections
def _fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def design_section(results: an.Results) -> Section:
    """What was run: factors, levels, sampling, replicates, seeds, provenance."""
    m = results.manifest
    res = m.get("resolved", {})
    counts = m.get("counts", {})
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
        "status": m.get("status"),
        "design points": res.get("n_points"),
        "replicates per point": res.get("replicates"),
        "runs": counts.get("runs"),
        "failed runs": counts.get("failed"),
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


def effects_section(
    results: an.Results, outcomes: list[str], by: list[str], figures: dict
) -> Section:
    """Mean outcomes with 95% confidence intervals by the headline factors."""
    sec = Section("Outcomes by design factor")
    if not by:
        summary = an.summarize(results.runs, [], outcomes)
        sec.tables.append(("Mean [95% CI] over all runs", summary))
        return sec
    summary = an.summarize(results.runs, by, outcomes)
    sec.text.append("Cells: mean over replicates [95% t-interval]. Failed runs are excluded.")
    rows = [by[0], *by[2:]]
    for outcome in outcomes:
        table = an.effect_table(summary, outcome, rows, by[1] if len(by) > 1 else None)
        sec.tables.append((f"{outcome}", table.reset_index()))
        name = f"effect_{outcome}"
        figures[name] = _png(_effect_figure(summary, outcome, by))
        sec.figures.append((f"{outcome} by {', '.join(by)}", name))
    return sec


def shares_section(results: an.Results, by: list[str], figures: dict) -> Section | None:
    """How often each label (expansive, defensive, ...) occurred, by factor."""
    if "label" not in results.runs:
        return None
    sec = Section("Outcome labels")
    shares = an.outcome_shares(results.runs, by)
    wide = an.share_table(shares, by) if by else shares.set_index("label")[["share"]].T
    sec.tables.append(("Share of runs with each label", (wide * 100).round(1).reset_index()))
    if by:
        figures["shares"] = _png(an.plot_shares(an.outcome_shares(results.runs, by[0]), by[0]))
        sec.figures.append((f"label shares by {by[0]}", "shares"))
    return sec


def sensitivity_section(results: an.Results, outcomes: list[str], figures: dict) -> Section | None:
    """Sobol indices (sobol designs) or rank correlations (lhs designs)."""
    sampling = results.manifest.get("resolved", {}).get("sampling")
    if not sampling:
        return None
    sec = Section("Sensitivity")
    if sampling["kind"] == "sobol":
        for outcome in outcomes:
            indices = an.sobol_indices(results, outcome)
            sec.tables.append((f"Sobol indices of {outcome}", indices.round(3)))
            name = f"sobol_{outcome}"
            figures[name] = _png(an.plot_sobol(indices.drop_duplicates("parameter")))
            sec.figures.append((f"Sobol indices of {outcome}", name))
    else:
        corr = an.rank_correlations(results.runs, list(sampling["ranges"]), outcomes)
        sec.tables.append(
            (
                "Spearman rank correlation, parameter x outcome",
                corr.round(3).reset_index(names="parameter"),
            )
        )
    return sec


def timeseries_section(
    results: an.Results, outcomes: list[str], by: list[str], figures: dict
) -> Section | None:
    """Mean trajectories of headline variables recorded every k steps."""
    steps = results.steps
    if steps is None or steps.empty:
        return None
    variables = [o for o in outcomes if o in steps][:2] or [
        c for c in steps.columns if c not in ("run", "point", "replicate", "step", *by)
    ][:1]
    sec = Section("Time series")
    for var in variables:
        name = f"ts_{var}"
        figures[name] = _png(an.plot_timeseries(steps, var, by[0] if by else None))
        sec.figures.append((f"{var} over time (mean, 95% band)", name))
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
    outcomes = headline_outcomes(results)
    by = headline_factors(results)
    figures: dict[str, bytes] = {}
    sections = [
        design_section(results),
        effects_section(results, outcomes, by, figures),
        shares_section(results, by, figures),
        sensitivity_section(results, outcomes, figures),
        timeseries_section(results, outcomes, by, figures),
        failures_section(results),
    ]
    title = results.manifest.get("config", {}).get("report", {}).get("title") or (
        f"copsim experiment: {results.manifest.get('experiment', results.path.name)}"
    )
    return Report(title, [s for s in sections if s is not None], figures)


# ----------------------------------------------------------------------------- rendering
_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f2f2f2} td:first-child,th:first-child{text-align:left}
figure{margin:1em 0} figcaption{font-size:.9em;color:#555}
img{max-width:100%}
"""


def render_html(report: Report) -> str:
    """One self-contained HTML page (figures embedded as base64 PNG)."""
    out = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(report.title)}</title>",
        f"<style>{_CSS}</style></head><body><h1>{html.escape(report.title)}</h1>",
    ]
    for sec in report.sections:
        out.append(f"<h2>{html.escape(sec.title)}</h2>")
        out += [f"<p>{html.escape(t)}</p>" for t in sec.text]
        for caption, table in sec.tables:
            out.append(f"<h3>{html.escape(caption)}</h3>")
            out.append(
                table.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.4g}", border=0)
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

    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines)


def render_markdown(report: Report, image_prefix: str = "") -> str:
    """Markdown text; figures are referenced as ``<image_prefix><name>.png``."""
    out = [f"# {report.title}", ""]
    for sec in report.sections:
        out += [f"## {sec.title}", ""]
        out += [t + "\n" for t in sec.text]
        for caption, table in sec.tables:
            out += [f"**{caption}**", "", markdown_table(table), ""]
        for caption, name in sec.figures:
            out += [f"![{caption}]({image_prefix}{name}.png)", ""]
    return "\n".join(out)


def write_report(path: str | Path, out: str | Path | None = None, fmt: str = "html") -> Path:
    """Write the report of a results folder; return the report file."""
    if fmt not in ("html", "md"):
        raise ValueError(f"unknown report format '{fmt}'; choose html or md")
    results = an.load(path)
    if results.runs.empty:
        raise ValueError(f"{path} has no finished runs to report on")
    report = build_report(results)
    target = Path(out) if out is not None else Path(path) / f"report.{fmt}"
    if fmt == "html":
        text = render_html(report)
    else:
        for name, png in report.figures.items():
            atomic_write(target.parent / f"{name}.png", lambda tmp, png=png: tmp.write_bytes(png))
        text = render_markdown(report)
    atomic_write(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return target
