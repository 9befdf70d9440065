"""The neutral reference behind the run labels, and how label shares move with the thresholds.

Usage::

    python experiments/label_reference.py --seeds 400 [--out docs]

Runs the default community with its social forces switched off
(``copsim.outcomes.NEUTRAL_REFERENCE``) on ``--seeds`` seeds and prints the
thresholds the labels use: the 10th percentile of expansiveness
(``EXPANSIVE_AT``), the 90th percentile of defensiveness (``DEFENSIVE_AT``) and
each index's interquartile range (the unit of a label's margin).  It then runs
the default community itself on as many seeds and prints the share of runs per
label when the thresholds move (reference percentiles 5/10/20 for
expansiveness, 80/90/95 for defensiveness).  With ``--out`` it writes
``label_reference.csv`` (the thresholds) and ``label_sensitivity.csv`` (the
shares) there.  Seeds are ``child_seed(ROOT, arm, i)``; the runs go through the
ensemble engine (a few seconds).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

try:
    import copsim  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from copsim import outcomes
from copsim.files import atomic_write
from copsim.seeds import child_seed

ROOT = 20261202
ARMS = {"neutral": outcomes.NEUTRAL_REFERENCE, "default": {}}


def run(seeds: int) -> pd.DataFrame:
    """Final indices of every replicate of both arms, each arm run as ensembles."""
    from copsim import Params
    from copsim.ensemble import run_ensembles

    keep = ("expansiveness", "defensiveness", "members", "spaces_alive")
    rows = []
    for a, (arm, overrides) in enumerate(ARMS.items()):
        chosen = [child_seed(ROOT, a, i) for i in range(seeds)]
        for i, result in enumerate(run_ensembles([Params(**overrides)] * seeds, chosen)):
            if result.error:
                raise RuntimeError(f"{arm} replicate {i} failed: {result.error}")
            rows.append({"arm": arm, "replicate": i, **{k: result.outcomes[k] for k in keep}})
    return pd.DataFrame(rows)


def thresholds(neutral: pd.DataFrame) -> dict[str, float]:
    """The label thresholds and spreads from the neutral runs."""
    e, d = neutral["expansiveness"], neutral["defensiveness"]
    return {
        "EXPANSIVE_AT": float(np.percentile(e, outcomes.EXPANSIVE_PERCENTILE)),
        "DEFENSIVE_AT": float(np.percentile(d, outcomes.DEFENSIVE_PERCENTILE)),
        "EXPANSIVE_SPREAD": float(np.subtract(*np.percentile(e, [75, 25]))),
        "DEFENSIVE_SPREAD": float(np.subtract(*np.percentile(d, [75, 25]))),
    }


def sensitivity(runs: pd.DataFrame, neutral: pd.DataFrame) -> pd.DataFrame:
    """Label shares of ``runs`` when the thresholds sit at other reference percentiles."""
    rows = []
    for pe in (5, 10, 20):
        for pd_ in (80, 90, 95):
            at = (
                float(np.percentile(neutral["expansiveness"], pe)),
                float(np.percentile(neutral["defensiveness"], pd_)),
            )
            labels = [
                outcomes.classify(r.expansiveness, r.defensiveness, r.members, r.spaces_alive, at)
                for r in runs.itertuples()
            ]
            shares = pd.Series(labels).value_counts(normalize=True)
            rows.append(
                {
                    "expansive_percentile": pe,
                    "defensive_percentile": pd_,
                    "EXPANSIVE_AT": at[0],
                    "DEFENSIVE_AT": at[1],
                    **{label: float(shares.get(label, 0.0)) for label in outcomes.LABELS},
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=400)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    runs = run(args.seeds)
    neutral = runs[runs["arm"] == "neutral"]
    default = runs[runs["arm"] == "default"]
    found = thresholds(neutral)
    for name, value in found.items():
        print(f"{name} = {value:.4f}")
    table = sensitivity(default, neutral)
    print("\nlabel shares of default runs when the thresholds move:")
    print(table.round(3).to_string(index=False))
    if args.out:
        reference = pd.DataFrame([{"seeds": args.seeds, **found}])
        for frame, name in ((reference, "label_reference"), (table, "label_sensitivity")):
            atomic_write(args.out / f"{name}.csv", lambda p, f=frame: f.to_csv(p, index=False))


if __name__ == "__main__":
    main()
