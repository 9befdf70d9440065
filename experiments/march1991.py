"""The March (1991) replication: Figure 1, mixed learners, turnover under turbulence.

Usage::

    python experiments/march1991.py --runs 10000 --out results/march1991 \
        [--other-runs N] [--workers W] [--seed S] [--batch-size B] [--figures DIR]

Three studies, all on the knowledge core alone (:mod:`copsim.march`):

* ``figure1``: p1 = 0.1..0.9 crossed with p2 in {0.1, 0.5, 0.9}; equilibrium
  code knowledge (``--runs`` per cell);
* ``mixed`` / ``homogeneous``: a share of slow learners (p1 = 0.1) among fast
  ones (p1 = 0.9) against everyone at the same mean p1, p2 = 0.5;
* ``turbulence``: p1 = p2 = 0.5, p4 = 0.02, p3 in {0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5},
  100 periods, with the per-period path.

The other studies use ``--other-runs`` per cell (default: ``--runs``).

Outputs in ``--out``: ``march1991_runs.{parquet,csv}`` (one row per run),
``march1991_paths.{parquet,csv}`` (one row per traced cell and period),
``march1991_summary.csv`` (one row per cell), ``march1991_figure1.md`` (our
Figure 1 beside the reference values), ``march1991_manifest.json`` and the PNG
figures (in ``--figures``, default ``OUT/figures``).  Every file is written to a
temporary name and moved into place, so a reader never sees half a file.

Seeding: the batch (``--batch-size`` runs) is the unit a seed determines; batch
b of cell c is seeded by ``child_seed(seed, c, b)``.  The tables are identical
for any ``--workers``; they change with ``--seed``, ``--batch-size`` or the
design.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

try:
    import copsim  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from copsim import __version__
from copsim.files import atomic_write, write_table
from copsim.march import (
    BATCH_SIZE,
    REFERENCE_FIGURE1,
    Cell,
    DesignResult,
    figure1_cells,
    heterogeneity_cells,
    plan_units,
    run_cells,
    summarize,
    turbulence_cells,
)

STEM = "march1991"
FIGURES = {
    "figure1": "march_figure1.png",
    "heterogeneity": "march_heterogeneity.png",
    "turbulence": "march_turbulence.png",
}


# --------------------------------------------------------------------------- design
def design(runs: int, other_runs: int) -> list[Cell]:
    """All cells of the replication, in the fixed order that defines their seeds."""
    return figure1_cells(runs) + heterogeneity_cells(other_runs) + turbulence_cells(other_runs)


# --------------------------------------------------------------------------- output
def save_figure(fig: plt.Figure, path: Path) -> Path:
    """Save a figure as PNG (atomically) and close it."""
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=100))
    plt.close(fig)
    return path


def figure1_markdown(summary: pd.DataFrame) -> str:
    """Our Figure 1 (mean and standard error) beside the reference, as a Markdown table."""
    fig1 = summary[summary["study"] == "figure1"].set_index(["p1", "p2"])
    p2s = (0.1, 0.5, 0.9)
    head = "| p1 | " + " | ".join(f"p2={p2} ours | ref" for p2 in p2s) + " |"
    lines = [head, "|---" * (1 + 2 * len(p2s)) + "|"]
    for p1 in sorted(fig1.index.get_level_values("p1").unique()):
        cells = []
        for p2 in p2s:
            row = fig1.loc[(p1, p2)]
            ref = REFERENCE_FIGURE1.get((round(p1, 1), p2), float("nan"))
            cells.append(
                f"{row['code_knowledge']:.4f} ± {row['code_knowledge_se']:.4f} | {ref:.4f}"
            )
        lines.append(f"| {p1:.1f} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- figures
def _band(ax: plt.Axes, x: np.ndarray, mean: np.ndarray, se: np.ndarray, **style) -> None:
    """A line with its 95% confidence band."""
    (line,) = ax.plot(x, mean, **style)
    ax.fill_between(x, mean - 1.96 * se, mean + 1.96 * se, color=line.get_color(), alpha=0.2)


def plot_figure1(summary: pd.DataFrame) -> plt.Figure:
    """Equilibrium code knowledge against p1, one line per p2, reference as open marks."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    fig1 = summary[summary["study"] == "figure1"].sort_values("p1")
    for p2, group in fig1.groupby("p2"):
        x = group["p1"].to_numpy()
        _band(
            ax,
            x,
            group["code_knowledge"],
            group["code_knowledge_se"],
            marker="o",
            ms=4,
            label=f"p2 = {p2:.1f}",
        )
        ref = [REFERENCE_FIGURE1.get((round(p1, 1), p2), np.nan) for p1 in x]
        ax.plot(x, ref, ls="none", marker="s", mfc="none", ms=8, color=ax.lines[-1].get_color())
    ax.plot([], [], ls="none", marker="s", mfc="none", color="grey", label="reference recreation")
    ax.set_xlabel("socialization rate p1")
    ax.set_ylabel("equilibrium code knowledge")
    ax.set_title("March (1991) Figure 1: m = 30, n = 50")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def plot_heterogeneity(summary: pd.DataFrame) -> plt.Figure:
    """Mixed fast/slow learners against a homogeneous population at the same mean p1:
    equilibrium code knowledge (left) and periods to equilibrium (right)."""
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.0), sharex=True)
    labels = {"mixed": "mixed (p1 = 0.9 and 0.1)", "homogeneous": "homogeneous, same mean p1"}
    for study, label in labels.items():
        part = summary[summary["study"] == study]
        share = (part["slow_share"] if study == "mixed" else (0.9 - part["p1"]) / 0.8).to_numpy()
        order = np.argsort(share)
        for ax, measure in zip(axes, ["code_knowledge", "periods"], strict=True):
            _band(
                ax,
                share[order],
                part[measure].to_numpy()[order],
                part[f"{measure}_se"].to_numpy()[order],
                marker="o",
                ms=4,
                label=label,
            )
    axes[0].set_ylabel("equilibrium code knowledge")
    axes[1].set_ylabel("periods to equilibrium")
    for ax in axes:
        ax.set_xlabel("share of slow learners (mean p1 = 0.9 - 0.8 x share)")
    axes[0].legend(frameon=False)
    fig.suptitle("Heterogeneous socialization rates, p2 = 0.5")
    fig.tight_layout()
    return fig


def plot_turbulence(summary: pd.DataFrame, paths: pd.DataFrame) -> plt.Figure:
    """Code knowledge over time and after the horizon, by turnover rate, under turbulence."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.6, 4.0))
    for p3, group in paths[paths["study"] == "turbulence"].groupby("p3"):
        _band(
            left,
            group["period"].to_numpy(),
            group["code_knowledge"].to_numpy(),
            group["code_knowledge_se"].to_numpy(),
            label=f"p3 = {p3:g}",
        )
    left.set_xlabel("period")
    left.set_ylabel("code knowledge")
    left.legend(frameon=False)
    final = summary[summary["study"] == "turbulence"].sort_values("p3")
    right.errorbar(
        final["p3"],
        final["code_knowledge"],
        yerr=1.96 * final["code_knowledge_se"],
        marker="o",
        capsize=3,
        label="code",
    )
    right.errorbar(
        final["p3"],
        final["mean_individual_knowledge"],
        yerr=1.96 * final["mean_individual_knowledge_se"],
        marker="s",
        capsize=3,
        label="individuals (mean)",
    )
    right.set_xlabel("turnover rate p3")
    right.set_ylabel("knowledge after the last period")
    right.legend(frameon=False)
    first = final.iloc[0]
    fig.suptitle(
        f"Turnover under turbulence: p1 = {first['p1']:g}, p2 = {first['p2']:g}, "
        f"p4 = {first['p4']:g}"
    )
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- main
def write_outputs(result: DesignResult, out: Path, figures: Path, manifest: dict) -> list[Path]:
    """Every table, figure and the manifest; returns the paths written."""
    summary = summarize(result.runs)
    written = write_table(result.runs, out, f"{STEM}_runs")
    written += write_table(result.paths, out, f"{STEM}_paths")
    summary_path = out / f"{STEM}_summary.csv"
    atomic_write(summary_path, lambda p: summary.to_csv(p, index=False))
    written.append(summary_path)
    studies = set(summary["study"])
    if "figure1" in studies:
        table = out / f"{STEM}_figure1.md"
        atomic_write(table, lambda p: p.write_text(figure1_markdown(summary)))
        written += [table, save_figure(plot_figure1(summary), figures / FIGURES["figure1"])]
    if {"mixed", "homogeneous"} <= studies:
        written.append(save_figure(plot_heterogeneity(summary), figures / FIGURES["heterogeneity"]))
    if "turbulence" in studies and len(result.paths):
        written.append(
            save_figure(plot_turbulence(summary, result.paths), figures / FIGURES["turbulence"])
        )
    manifest = {**manifest, "files": [str(p) for p in written]}
    path = out / f"{STEM}_manifest.json"
    atomic_write(path, lambda p: p.write_text(json.dumps(manifest, indent=2) + "\n"))
    return [*written, path]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, required=True, help="runs per Figure 1 cell")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--other-runs",
        type=int,
        default=None,
        help="runs per cell of the other studies (default: --runs)",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1991, help="root seed")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=BATCH_SIZE,
        help="runs per seeded batch (changes the random streams)",
    )
    parser.add_argument("--figures", type=Path, default=None, help="folder for the PNG figures")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    for name in ("runs", "workers", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.other_runs is not None and args.other_runs < 1:
        parser.error("--other-runs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> DesignResult:
    """Run the replication and write its outputs; returns the tables."""
    args = parse_args(argv)
    other = args.other_runs if args.other_runs is not None else args.runs
    cells = design(args.runs, other)
    units = plan_units(cells, args.batch_size)

    def report(done: int, total: int) -> None:
        step = max(total // 10, 1)
        if not args.quiet and (done % step == 0 or done == total):
            print(f"{done}/{total} batches", flush=True)

    start = time.perf_counter()
    result = run_cells(cells, args.seed, args.workers, args.batch_size, report)
    seconds = time.perf_counter() - start
    manifest = {
        "study": STEM,
        "seed": args.seed,
        "runs_figure1": args.runs,
        "runs_other": other,
        "batch_size": args.batch_size,
        "seeding": "batch b of cell c uses child_seed(seed, c, b); results do not depend on workers",
        "cells": len(cells),
        "batches": len(units),
        "workers": args.workers,
        "seconds": round(seconds, 2),
        "versions": {
            "copsim": __version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "python": platform.python_version(),
        },
        "command": [Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])],
    }
    figures = args.figures if args.figures is not None else args.out / "figures"
    written = write_outputs(result, args.out, figures, manifest)
    if not args.quiet:
        print(f"{len(result.runs)} runs in {seconds:.1f} s on {args.workers} workers")
        print(figure1_markdown(summarize(result.runs)))
        for path in written:
            print(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()
