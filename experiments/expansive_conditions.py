"""Which conditions make learning expansive? The figure and table of the shipped study.

Usage::

    copsim sweep configs/expansive_conditions.yaml          # 20,400 runs (minutes)
    python experiments/expansive_conditions.py [RESULTS] [--figure PNG] [--table CSV]
        [--expansive-threshold D] [--defensive-threshold D]

Reads the study's results folder (default ``results/expansive_conditions``) and runs
scenario discovery (:func:`copsim.discovery.discover`: PRIM, CART, extra-trees
feature scores) twice: for ``expansive`` runs and for ``defensive`` runs.  Learning is
expansive in most runs of the study, so the default density asked of a box (0.8) is
already met by the whole space; the expansive box is therefore asked for a density of
0.95 (``--expansive-threshold``), the defensive one for the default 0.8.

Writes (each atomically):

- ``docs/figures/expansive_conditions.png``: per outcome, PRIM's coverage-density
  trade-off with the box kept, and the feature scores;
- ``docs/expansive_conditions_discovery.csv``: one row per label share (``item`` share:
  ``density`` is the share of finished runs, ``low``/``high`` its Wilson 95% interval),
  per box (coverage, density, mass, runs, cases), per box limit (``low``/``high``,
  PRIM's quasi-p) and per feature score (rank, score).

and prints each summary sentence.  The same numbers come from ``copsim discover
RESULTS --outcome expansive --threshold 0.95`` and ``--outcome defensive``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

try:
    import copsim  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from copsim import analysis as an
from copsim.discovery import Discovery, plot_feature_scores, plot_tradeoff
from copsim.files import atomic_write
from copsim.outcomes import LABELS

ROOT = Path(__file__).resolve().parents[1]
#: The columns of the table, in order (each row fills those its item has).
COLUMNS = [
    "outcome",
    "item",
    "threshold",
    "box",
    "factor",
    "text",
    "low",
    "high",
    "quasi_p",
    "n",
    "cases",
    "density",
    "coverage",
    "mass",
    "reached_threshold",
    "rank",
    "score",
]


def discovery_rows(found: Discovery) -> list[dict]:
    """The box, its limits and the feature scores of one outcome, as table rows."""
    rows: list[dict] = []
    base = {"outcome": found.outcome, "threshold": found.threshold}
    for number, box in enumerate(found.boxes, start=1):
        rows.append(
            {
                **base,
                "item": "box",
                "box": number,
                "text": box.text,
                "reached_threshold": box.reached_threshold,
                "coverage": box.coverage,
                "density": box.density,
                "mass": box.mass,
                "n": box.n,
                "cases": box.cases,
            }
        )
        rows += [
            {
                **base,
                "item": "limit",
                "box": number,
                "factor": lim.factor,
                "text": lim.text,
                "low": lim.low,
                "high": lim.high,
                "quasi_p": lim.quasi_p,
            }
            for lim in box.limits
        ]
    rows += [
        {**base, "item": "feature_score", "rank": int(r["rank"]), "factor": r["factor"]}
        | {"score": float(r["score"])}
        for _, r in found.feature_scores.iterrows()
    ]
    return rows


def share_rows(runs: pd.DataFrame) -> list[dict]:
    """The share of finished runs with each label, with its Wilson 95% interval."""
    shares = an.outcome_shares(runs).set_index("label")
    return [
        {
            "outcome": label,
            "item": "share",
            "n": int(shares.loc[label, "n"]),
            "cases": int(shares.loc[label, "count"]),
            "density": float(shares.loc[label, "share"]),
            "low": float(shares.loc[label, "ci_low"]),
            "high": float(shares.loc[label, "ci_high"]),
        }
        for label in LABELS
    ]


def figure(found: list[Discovery]) -> plt.Figure:
    """Per outcome (a row): PRIM's trade-off with the box kept, and the feature scores."""
    fig, axes = plt.subplots(
        len(found), 2, figsize=(12, 4.6 * len(found)), layout="constrained", squeeze=False
    )
    for row, result in zip(axes, found, strict=True):
        plot_tradeoff(result, ax=row[0])
        plot_feature_scores(result, ax=row[1])
        box = result.box
        row[0].set_title(
            f"{result.outcome}: PRIM peeling (base rate {result.base_rate:.1%})\n"
            f"box kept: density {box.density:.0%}, coverage {box.coverage:.0%}",
            fontsize="medium",
        )
        limits = "\n".join(lim.text for lim in box.limits) or "(no restriction)"
        row[0].text(
            0.97,
            0.62,
            f"box kept:\n{limits}",
            transform=row[0].transAxes,
            ha="right",
            va="center",
            fontsize="small",
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.7"},
        )
        row[1].set_title(f"{result.outcome}: which factors matter", fontsize="medium")
    n = found[0].n_runs
    fig.suptitle(f"Which conditions make learning expansive? ({n:,} runs, 12 factors)")
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", nargs="?", default=str(ROOT / "results/expansive_conditions"))
    parser.add_argument("--figure", default=str(ROOT / "docs/figures/expansive_conditions.png"))
    parser.add_argument("--table", default=str(ROOT / "docs/expansive_conditions_discovery.csv"))
    parser.add_argument("--expansive-threshold", type=float, default=0.95)
    parser.add_argument("--defensive-threshold", type=float, default=0.8)
    args = parser.parse_args(argv)

    runs = an.load(args.results).runs
    found = []
    for outcome, threshold in (
        ("expansive", args.expansive_threshold),
        ("defensive", args.defensive_threshold),
    ):
        start = time.perf_counter()
        try:
            result = an.discover(runs, outcome, threshold=threshold)
        except an.NothingToDiscover as exc:  # e.g. no defensive run at all: say so, go on
            print(f"{outcome}: {exc}")
            continue
        seconds = time.perf_counter() - start
        print(f"{result.summary()}.  [{outcome}, threshold {threshold}: {seconds:.1f} s]")
        found.append(result)

    rows = [*share_rows(runs), *(r for f in found for r in discovery_rows(f))]
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    atomic_write(Path(args.table), lambda p: table.to_csv(p, index=False, float_format="%.6g"))
    if not found:
        print("nothing to discover: no figure")
        return 1
    fig = figure(found)
    atomic_write(Path(args.figure), lambda p: fig.savefig(p, dpi=110, format="png"))
    print(f"wrote {args.table} and {args.figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
