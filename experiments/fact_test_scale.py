"""How many paired seeds each stylized-fact check needs at the test suite's small scale.

Usage::

    python experiments/fact_test_scale.py --seeds 40 [--workers W]

Runs every comparison of :mod:`copsim.facts` at the scale of
``tests/test_stylized_facts.py`` (40 practitioners, 50 periods; 60 for the
funding shock, 30 for role play) on ``--seeds`` paired seeds and prints, per
comparison, the mean paired difference, its standard error and the number of
seeds at which the difference would lie 3.5 standard errors from 0 — the rule
the test file uses to choose its seeds.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd

try:
    import copsim  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from copsim.facts import comparisons, paired_difference, run_facts

SCALE = {"n_practitioners": 40, "max_steps": 50}
HORIZON = {3: 60, 8: 30}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    chosen = [
        c.with_overrides(max_steps=HORIZON[c.fact]) if c.fact in HORIZON else c
        for c in comparisons()
    ]
    pairs = run_facts(chosen, args.seeds, workers=args.workers, base=SCALE)
    rows = []
    for c in chosen:
        sub = pairs[pairs["key"] == c.key]
        r = paired_difference(sub["control"], sub["treatment"], c.direction)
        sd = r.se * math.sqrt(r.n)
        signed = c.direction * r.mean_difference
        need = math.ceil((3.5 * sd / signed) ** 2) if signed > 0 else None
        rows.append(
            {
                "key": c.key,
                "mean_difference": r.mean_difference,
                "se": r.se,
                "claimed_side": signed > 0,
                "seeds_for_3.5_se": need,
            }
        )
    print(pd.DataFrame(rows).to_string(index=False, float_format="%.4f"))


if __name__ == "__main__":
    main()
