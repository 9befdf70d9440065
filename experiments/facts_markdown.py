"""The stylized-facts table in Markdown, with each fact's class from the attribution study.

Usage::

    python experiments/facts_markdown.py [--facts docs/stylized_facts.csv]
        [--classes docs/attribution_classes.csv] [--presets docs/stylized_facts_presets.csv]

Prints the table the README and ODD II.9 show: arms, outcome, claimed direction,
both arms' means, the paired difference with its 95% CI, whether it holds, and
(when the attribution table exists) whether the fact is by construction (and
the rule it rests on) or emergent; with ``--presets``, in which source presets
it holds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def number(x: float) -> str:
    """Three decimals, or one for counts and periods; a real minus sign."""
    text = f"{x:+.3f}" if abs(x) < 5 else f"{x:+.1f}"
    return text.replace("-", "−")


#: Comparisons whose outcome is what the treatment's own rule computes, so no knockout
#: of another mechanism can tell: they are by construction of the treatment itself.
DIRECT = {
    "7a": "groups by top theme, engagement = partners' purpose similarity",
    "7b": "groups by top theme, engagement = partners' purpose similarity",
    "8a": "role play pairs across identities",
    "6a": "acceptance rises with safety; the accepted are drawn to the core",
    "6b": "accepted challengers are drawn to the core; inclusion counts them",
    "9a": "the agenda moves to the voiced purposes, alignment = fit with it",
}


def truthy(value: object) -> bool:
    """The tables write holds as yes/no (or True/False)."""
    return str(value).strip().lower() in ("yes", "true", "1")


def plain(x: float) -> str:
    return (f"{x:.3f}" if abs(x) < 5 else f"{x:.1f}").replace("-", "−")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=Path, default=Path("docs/stylized_facts.csv"))
    parser.add_argument("--classes", type=Path, default=Path("docs/attribution_classes.csv"))
    parser.add_argument("--presets", type=Path, default=None)
    args = parser.parse_args()
    facts = pd.read_csv(args.facts)
    classes = (
        pd.read_csv(args.classes).set_index("key") if args.classes.exists() else pd.DataFrame()
    )
    presets = pd.read_csv(args.presets) if args.presets and args.presets.exists() else None
    head = (
        "| | arms (control → treatment) | outcome | claimed | control | treatment | Δ "
        "| 95% CI | holds |"
    )
    rule = "|---|---|---|---|---|---|---|---|---|"
    if not classes.empty:
        head += " class |"
        rule += "---|"
    if presets is not None:
        head += " holds in presets |"
        rule += "---|"
    print(head)
    print(rule)
    for r in facts.itertuples():
        holds = "yes" if truthy(r.holds) else "**no**"
        row = (
            f"| {r.key} | {r.control} → {r.treatment} | {r.outcome} | {r.direction} | "
            f"{plain(r.mean_control)} | {plain(r.mean_treatment)} | {number(r.mean_difference)} | "
            f"[{number(r.ci_low)}, {number(r.ci_high)}] | {holds} |"
        )
        if not classes.empty:
            if r.key in DIRECT:
                cls = f"by construction of the treatment ({DIRECT[r.key]})"
            elif not truthy(r.holds):
                cls = "—"
            elif r.key in classes.index:
                c = classes.loc[r.key]
                lost = c["lost_without"] if isinstance(c["lost_without"], str) else ""
                if c["class"] == "fails":
                    cls = "too small to attribute at the attribution's seeds"
                else:
                    cls = c["class"] + (f": {lost}" if lost else "")
            else:
                cls = "not attributed"
            row += f" {cls} |"
        if presets is not None:
            sub = presets[presets["key"] == r.key]
            held = [p for p, h in zip(sub["preset"], sub["holds"], strict=True) if truthy(h)]
            row += f" {', '.join(held) if held else 'none'} |"
        print(row)


if __name__ == "__main__":
    main()
