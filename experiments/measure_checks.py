"""The cases that showed the old indices wrong, measured with whatever indices the code has.

Usage::

    python experiments/measure_checks.py --seeds 40 [--workers W]

Each case is a paired comparison on the default community (same seeds in both
arms): the change of expansiveness, defensiveness and knowledge, also in units
of the control arm's standard deviation; plus the share of default runs whose
defensiveness is exactly 0 and the label shares.  It reads only outcome names
every version of copsim has, so it can run on an old checkout too
(``PYTHONPATH=old/src python experiments/measure_checks.py``), which is how the
before/after numbers of issue 10 were made.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

try:
    import copsim  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from copsim.seeds import child_seed

ROOT = 20261204
OUTCOMES = ("expansiveness", "defensiveness", "code_knowledge", "mean_individual_knowledge")
CUT = dict(shock_kind="cut", shock_severity=0.9, shock_time=40)
CASES: dict[str, tuple[dict, dict]] = {
    "turnover 0 -> 0.03": ({"turnover_rate": 0.0}, {"turnover_rate": 0.03}),
    "90% funding cut at 40": ({}, CUT),
    "diversity_gain 0 -> 3": ({"diversity_gain": 0.0}, {"diversity_gain": 3.0}),
    "renegotiation 0 -> 1": ({"renegotiation": 0.0}, {"renegotiation": 1.0}),
    "grand plan, conditionality 1": ({}, {"grand_plan": True, "conditionality": 1.0}),
}


def one(case: int, arm: int, i: int) -> dict:
    from copsim import CoPModel, Params

    overrides = list(CASES.values())[case][arm]
    out = CoPModel(Params(**overrides), rng=child_seed(ROOT, case, i)).run().outcomes()
    keep = [*OUTCOMES, "peripheral_contribution", "label"]
    return {"case": case, "arm": arm, "replicate": i, **{k: out[k] for k in keep}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    jobs = [(c, a, i) for c in range(len(CASES)) for a in (0, 1) for i in range(args.seeds)]
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
            rows = list(pool.map(one, *zip(*jobs, strict=True), chunksize=4))
    else:
        rows = [one(*job) for job in jobs]
    runs = pd.DataFrame(rows)
    for c, name in enumerate(CASES):
        a = runs[(runs.case == c) & (runs.arm == 0)].sort_values("replicate")
        b = runs[(runs.case == c) & (runs.arm == 1)].sort_values("replicate")
        parts = []
        for k in OUTCOMES:
            d = b[k].to_numpy() - a[k].to_numpy()
            sd = a[k].std(ddof=1) or 1.0
            se = d.std(ddof=1) / np.sqrt(d.size)
            parts.append(f"{k} {d.mean():+.3f} (+-{1.96 * se:.3f}; {d.mean() / sd:+.1f} SD)")
        print(f"{name}: " + "; ".join(parts))
        if "grand plan" in name:
            print(
                f"  peripheral contribution under the plan: {b.peripheral_contribution.mean():.3f}"
            )
    default = runs[(runs.case == 1) & (runs.arm == 0)]
    print(f"default runs with defensiveness exactly 0: {(default.defensiveness == 0).mean():.0%}")
    print(
        "label shares of default runs:",
        default.label.value_counts(normalize=True).round(2).to_dict(),
    )


if __name__ == "__main__":
    main()
