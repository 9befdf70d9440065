"""Through which channel does power act?  The effect of power_asymmetry 0 -> 3 per channel.

Usage::

    python experiments/power_channels.py [--seeds 40] [--workers 1] [--out DIR]
        [--root SEED]

Power can act through four switchable channels of the model (ODD II.7.3):
who looks superior to the code (``power_in_superiority``, II.7.4), whose votes
weigh (``power_in_votes``, II.7.4), who is less receptive
(``power_in_receptiveness``, "power is a disability", II.7.5-7.6) and who gets
heard in conversation (``power_in_voice``, II.7.5; new, off by default).  The
legitimacy (II.7.9) and agenda (II.5, II.7.14) channels, and the starting
participation by power rank (II.5), are not switchable here and stay on in
every row, so the row "no channel" measures what they carry together.

For each setting of the switches the script measures the paired effect of
``power_asymmetry`` 0 -> 3 on ``defensiveness`` and ``expansiveness`` at the
end of the run, with the design of the stylized facts (:mod:`copsim.facts`):
both arms of replicate ``i`` run on ``child_seed(root, 1, i)`` (fact 1's
seeds, so every row shares the same seeds), the switches enter as ``base=``
overrides on top of the defaults, and the table gives the mean paired
difference with its Student-t 95% interval.  Settings: today's defaults; all
four channels on; none; each channel alone; each channel knocked out of "all
on".  Nothing here is tuned: the settings are the switches' two values.
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

from copsim.facts import FACTS, ROOT_SEED, run_facts, summarize

#: The switchable power channels (Params fields), in the order of the table.
CHANNELS = ("power_in_superiority", "power_in_votes", "power_in_receptiveness", "power_in_voice")
#: Fact 1's comparisons 1a (defensiveness) and 1b (expansiveness): asymmetry 0 -> 3.
KEYS = ("1a", "1b")


def settings() -> dict[str, dict[str, bool]]:
    """Label -> switch overrides for every row of the table."""
    on = dict.fromkeys(CHANNELS, True)
    off = dict.fromkeys(CHANNELS, False)
    rows: dict[str, dict[str, bool]] = {"today (defaults, voice off)": {}, "all on": on}
    rows["no channel"] = off
    for ch in CHANNELS:
        rows[f"only {ch}"] = {**off, ch: True}
    for ch in CHANNELS:
        rows[f"all but {ch}"] = {**on, ch: False}
    return rows


def measure(seeds: int, workers: int, root: int) -> pd.DataFrame:
    """One row per (setting, outcome): the paired effect of asymmetry 0 -> 3."""
    chosen = [c for c in FACTS[1].comparisons if c.key in KEYS]
    tables = []
    for label, overrides in settings().items():
        values = run_facts(chosen, seeds, root=root, workers=workers, base=overrides)
        table = summarize(chosen, values)
        table.insert(0, "setting", label)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def show(table: pd.DataFrame) -> str:
    """The table as fixed-width text: effect [95% CI] per setting and outcome."""
    lines = [f"{'setting':<36} {'outcome':<14} {'effect 0->3':>11}  95% CI"]
    for _, r in table.iterrows():
        outcome = r["outcome"].replace(" at the end", "")
        lines.append(
            f"{r['setting']:<36} {outcome:<14} {r['mean_difference']:+11.3f}  "
            f"[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=40, help="paired replicates per setting")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--root", type=int, default=ROOT_SEED)
    ap.add_argument("--out", type=Path, default=None, help="directory for power_channels.csv")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    table = measure(args.seeds, args.workers, args.root)
    print(show(table))
    print(
        f"\n{args.seeds} paired seeds per setting (child_seed({args.root}, 1, i)); "
        f"{time.perf_counter() - start:.0f} s"
    )
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out / "power_channels.csv", index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
