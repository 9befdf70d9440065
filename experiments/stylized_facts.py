"""Stylized facts 1-9 of the design brief as paired comparisons over many seeds.

Usage::

    python experiments/stylized_facts.py --seeds 200 --out results/stylized_facts \\
        [--workers W] [--facts 1,2,...] [--root SEED] [--figures DIR]

Each fact is one or more comparisons defined in :mod:`copsim.facts` (two arms
as parameter overrides, the outcome measured and the claimed direction).  Both
arms of a comparison run on the same seeds, ``child_seed(root, fact, i)`` for
replicate ``i``, so the statistics are those of the paired differences: the
mean difference, its Student-t 95% confidence interval, and ``holds`` = the
interval excludes 0 on the claimed side.

Outputs in ``--out``: ``stylized_facts.{csv,parquet}`` (the table, one row per
comparison), ``stylized_facts_pairs.{csv,parquet}`` (every paired value),
``stylized_facts_manifest.json`` (seeds, versions, commit, timing) and one PNG
per fact, ``fact<N>.png``, in ``--figures`` (default ``OUT/figures``).  Every
file is written to a temporary name and moved into place.  The tables do not
depend on ``--workers``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

try:
    import copsim  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from copsim import __version__
from copsim.facts import FACTS, LEVEL, ROOT_SEED, Comparison, comparisons, run_facts, summarize
from copsim.files import atomic_write, write_table

STEM = "stylized_facts"


# --------------------------------------------------------------------------- output
def git_commit() -> str:
    """The checkout's commit (with '+dirty' if tracked files changed), or 'unknown'."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


# --------------------------------------------------------------------------- figures
def _interval(values: np.ndarray) -> float:
    """Half-width of the Student-t confidence interval of a mean."""
    if values.size < 2:
        return 0.0
    se = values.std(ddof=1) / np.sqrt(values.size)
    return float(stats.t.ppf(0.5 + LEVEL / 2.0, values.size - 1) * se)


def plot_fact(number: int, chosen: Sequence[Comparison], pairs: pd.DataFrame) -> plt.Figure:
    """One panel per comparison: both arms' means with 95% intervals, joined by a
    line, and the paired difference with its interval in the title."""
    rows = [c for c in chosen if c.fact == number]
    fig, axes = plt.subplots(1, len(rows), figsize=(3.4 * len(rows), 3.6), squeeze=False)
    for ax, c in zip(axes[0], rows, strict=True):
        sub = pairs[pairs["key"] == c.key]
        values = [sub["control"].to_numpy(), sub["treatment"].to_numpy()]
        means = [v.mean() for v in values]
        ax.errorbar(
            [0, 1], means, yerr=[_interval(v) for v in values], fmt="o-", capsize=4, color="C0"
        )
        diff = sub["difference"].to_numpy()
        half = _interval(diff)
        low, high = diff.mean() - half, diff.mean() + half
        holds = (low > 0) if c.direction > 0 else (high < 0)
        ax.set_xticks([0, 1], [_wrap(c.control.label), _wrap(c.treatment.label)], fontsize=7)
        ax.set_xlim(-0.4, 1.4)
        ax.set_ylabel(_wrap(c.measure.describe(), 40), fontsize=8)
        verdict = "holds" if holds else "does not hold"
        ax.set_title(
            f"{c.key}: Δ = {diff.mean():+.3g} [{low:+.3g}, {high:+.3g}]\n"
            f"claimed {'higher' if c.direction > 0 else 'lower'}: {verdict}",
            fontsize=8,
            color="black" if holds else "firebrick",
        )
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(alpha=0.3)
    n = int(pairs[pairs["fact"] == number]["replicate"].nunique())
    fig.suptitle(f"Fact {number}: {FACTS[number].statement}\n({n} paired seeds)", fontsize=9)
    fig.tight_layout()
    return fig


def _wrap(text: str, width: int = 22) -> str:
    """Break a label into lines of about ``width`` characters at spaces."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def save_figure(fig: plt.Figure, path: Path) -> Path:
    """Save a figure as PNG (atomically) and close it."""
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=90))
    plt.close(fig)
    return path


# --------------------------------------------------------------------------- main
def parse_facts(text: str | None) -> list[int] | None:
    """'1,3,5' -> [1, 3, 5]; None -> all facts."""
    if not text:
        return None
    try:
        return sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--facts wants numbers like 1,2,5, got {text!r}"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=100, help="paired seeds per arm (>= 2)")
    parser.add_argument("--out", type=Path, default=Path("results/stylized_facts"))
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--facts", type=parse_facts, default=None, help="e.g. 1,2,5 (default all)")
    parser.add_argument("--root", type=int, default=ROOT_SEED, help="root seed")
    parser.add_argument("--figures", type=Path, default=None, help="default OUT/figures")
    parser.add_argument(
        "--preset",
        default=None,
        help="run every fact on a source preset's community instead of the defaults",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.seeds < 2:
        raise SystemExit("--seeds must be at least 2 (paired differences need a spread)")
    try:
        chosen = comparisons(args.facts)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    figures = args.figures or args.out / "figures"
    commit = git_commit()  # the code the runs use, read before they start
    start = time.perf_counter()
    base = None
    if args.preset:
        from copsim.scenarios import preset_values

        base = preset_values(args.preset)
    pairs = run_facts(chosen, args.seeds, root=args.root, workers=args.workers, base=base)
    seconds = time.perf_counter() - start
    table = summarize(chosen, pairs)
    written = write_table(table, args.out, STEM, "%.6g")
    written += write_table(pairs, args.out, f"{STEM}_pairs", "%.6g")
    for number in sorted({c.fact for c in chosen}):
        written.append(save_figure(plot_fact(number, chosen, pairs), figures / f"fact{number}.png"))
    manifest = {
        "study": STEM,
        "facts": sorted({c.fact for c in chosen}),
        "seeds_per_arm": args.seeds,
        "preset": args.preset,
        "root_seed": args.root,
        "seeding": "child_seed(root, fact, replicate), the same for every arm of a fact",
        "confidence_level": LEVEL,
        "workers": args.workers,
        "wall_seconds": round(seconds, 1),
        "copsim": __version__,
        "commit": commit,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "files": [str(p) for p in written],
    }
    path = args.out / f"{STEM}_manifest.json"
    atomic_write(path, lambda p: p.write_text(json.dumps(manifest, indent=2) + "\n"))
    shown = table[["key", "mean_control", "mean_treatment", "mean_difference", "ci_low", "ci_high"]]
    print(shown.assign(holds=table["holds"]).to_string(index=False, float_format="%.3f"))
    print(f"{len(pairs)} pairs in {seconds:.0f} s; tables in {args.out}, figures in {figures}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
