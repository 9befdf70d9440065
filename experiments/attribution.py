"""Which mechanism produces each stylized fact: every fact with each mechanism knocked out.

Usage::

    python experiments/attribution.py --seeds 30 [--workers W] [--out docs] [--keys 1a,4a]

For each comparison of :mod:`copsim.facts` (or the ``--keys`` chosen), the
paired effect (treatment - control, 95% CI) is measured with the model as it
is and with each mechanism of ``KNOCKOUTS`` switched off in turn, on the same
paired seeds.  A fact is

* **by construction** when exactly one knockout makes it disappear: the interval no
  longer excludes 0 on the claimed side *and* the effect shrinks to less than
  half of its size with nothing knocked out (so a knockout that only widens the
  interval does not count): one coded rule produces it, and the table names the
  rule(s);
* **emergent** when it needs several rules together (each of several knockouts
  removes it: "needs several") or survives the loss of every single mechanism
  tried ("robust");
* **fails** when it does not hold with nothing knocked out.

A knockout that would change a comparison's own treatment (e.g. switching off
contestation for a contestation fact) is not applied to it (n/a).  With
``--out`` it writes ``attribution.csv`` (one row per comparison x knockout)
and ``attribution_classes.csv`` (one row per comparison).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

try:
    import copsim  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from copsim.facts import Comparison, comparisons, paired_difference, run_facts
from copsim.files import atomic_write

ROOT = 20261203

#: Mechanisms that can be switched off, each as the overrides that remove it.
KNOCKOUTS: dict[str, dict[str, object]] = {
    "perceived superiority": {"power_in_superiority": False},
    "power-weighted votes": {"power_in_votes": False},
    "receptiveness": {"power_in_receptiveness": False},
    "power in legitimacy": {"power_in_legitimacy": False},
    "power in agenda": {"power_in_agenda": False},
    "conversation": {"conversation_rate": 0.0},
    "learning from difference": {"diversity_gain": 0.0},
    "withdrawal after conflict": {"withdrawal": 0.0},
    "identity in legitimacy": {"identity_weight": 0.0},
    "newcomer pressure": {"newcomer_pressure": 0.0},
    "reification": {"reification": False},
    "contestation": {"contestation": False},
    "funding": {"funding": False},
    "shock exits": {"shock_exit_rate": 0.0},
    "purpose drift": {"purpose_drift": 0.0},
}


def applicable(c: Comparison, knockout: dict[str, object]) -> bool:
    """A knockout applies unless it sets a parameter the comparison's arms set."""
    own = {k for arm in (c.control, c.treatment) for k, _ in arm.overrides}
    return not (own & set(knockout))


def known(knockouts: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    """The knockouts whose parameters exist in this version of the model."""
    from copsim.params import Params

    fields = set(Params.model_fields)
    return {name: ko for name, ko in knockouts.items() if set(ko) <= fields}


def attribute(chosen: list[Comparison], seeds: int, workers: int) -> pd.DataFrame:
    """One row per (comparison, knockout): the paired effect and whether it holds."""
    rows = []
    variants = {"none": {}, **known(KNOCKOUTS)}
    for name, knockout in variants.items():
        arms = [c.with_overrides(**knockout) for c in chosen if applicable(c, knockout)]
        if not arms:
            continue
        pairs = run_facts(arms, seeds, root=ROOT, workers=workers)
        for c in arms:
            sub = pairs[pairs["key"] == c.key].sort_values("replicate")
            r = paired_difference(sub["control"], sub["treatment"], c.direction)
            rows.append(
                {
                    "key": c.key,
                    "knockout": name,
                    "outcome": c.measure.describe(),
                    "n_pairs": r.n,
                    "mean_difference": r.mean_difference,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "holds": r.holds,
                }
            )
        print(f"knockout {name!r}: {len(arms)} comparisons", flush=True)
    return pd.DataFrame(rows)


#: A knockout removes a fact when the effect keeps less than this share of its size.
SHRUNK = 0.5


def classify(table: pd.DataFrame) -> pd.DataFrame:
    """Per comparison: fails / by construction (naming the rules) / emergent."""
    rows = []
    for key, sub in table.groupby("key", sort=False):
        base = sub[sub["knockout"] == "none"].iloc[0]
        rest = sub[sub["knockout"] != "none"]
        size = abs(base["mean_difference"])
        same_side = (rest["mean_difference"] * base["mean_difference"]) > 0
        kept = rest["mean_difference"].abs() * same_side
        gone = ~rest["holds"].astype(bool) & (kept < SHRUNK * size)
        lost = rest[gone]["knockout"].tolist()
        if not base["holds"]:
            cls = "fails"
        elif len(lost) == 1:
            cls = "by construction"  # one rule produces it
        elif lost:
            cls = "emergent, needs several"  # each of several rules is necessary
        else:
            cls = "emergent, robust"  # survives the loss of every single rule tried
        rows.append(
            {
                "key": key,
                "effect": base["mean_difference"],
                "ci_low": base["ci_low"],
                "ci_high": base["ci_high"],
                "class": cls,
                "lost_without": "; ".join(lost),
                "knockouts_tried": len(rest),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--keys", help="comparisons to attribute, e.g. 1a,4a (default all)")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--classify", type=Path, help="only re-classify an attribution.csv written before"
    )
    args = parser.parse_args()
    if args.classify:
        classes = classify(pd.read_csv(args.classify))
        print(classes.to_string(index=False, float_format="%.3f"))
        if args.out:
            atomic_write(
                args.out / "attribution_classes.csv",
                lambda p: classes.to_csv(p, index=False, float_format="%.4g"),
            )
        return
    chosen = comparisons()
    if args.keys:
        wanted = {k.strip() for k in args.keys.split(",")}
        chosen = [c for c in chosen if c.key in wanted]
    start = time.perf_counter()
    table = attribute(chosen, args.seeds, args.workers)
    classes = classify(table)
    print(classes.to_string(index=False, float_format="%.3f"))
    print(f"{len(table)} effects in {time.perf_counter() - start:.0f} s")
    if args.out:
        for frame, name in ((table, "attribution"), (classes, "attribution_classes")):
            atomic_write(
                args.out / f"{name}.csv",
                lambda p, f=frame: f.to_csv(p, index=False, float_format="%.4g"),
            )


if __name__ == "__main__":
    main()
