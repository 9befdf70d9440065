"""Story checks: does each source preset's story unfold, and because of its key factor?

For each source preset (ODD II.9, "Source stories") the story's key factors are
switched on and off over paired seeds: every arm of a story runs on the same
seeds, ``child_seed(ROOT_SEED, story, i)`` for replicate ``i`` (the paired design
of :mod:`copsim.facts`), so each replicate gives one paired difference
``treatment - control``.  For each comparison and outcome the script prints the
mean of each arm, the mean paired difference with its 95% Student-t interval,
and how often the story *unfolds*: the share of seeds in which the paired
difference has the story's sign (strictly: a tie, e.g. the same number of the
group in the core in both arms, does not count).  Outcomes that are undefined in a
run (e.g. challenger inclusion when nobody challenged) drop that pair.

- ``bindura_eag`` (Johnson 2007): contestation in the preset's safe space
  (safety 0.75) vs none vs an unsafe space (safety 0.25); since safety also sets
  how conflict-prone conversation is, contestation in the unsafe space is also
  compared with none in that same unsafe space; and (``--new``) the bindura
  rule with the simple rule, both in the safe space with the widows present.  Outcomes: the core
  share of the excluded group at the end (today's preset has no such group, so
  the old model is read on its ``poor`` members; with ``--new`` it is the widows
  of ``scenarios.BINDURA_STORY``), the group's inclusion (its core members over
  its founding size: leavers count as not included; new model only), the same
  averaged over the periods of the run (the trajectory, not only where it ends:
  most of the group has left by period 80 in every arm) and
  challenger inclusion (share of everyone who ever challenged who reached the
  core afterwards, leavers included).
- ``north_south_partnership`` (Johnson 2007): the cut, champions leaving, the
  grand plan, each on (the preset) vs off.  Outcomes at the end: members,
  expansiveness, code knowledge; the story says each factor lowers them.
- ``ogp_workshop`` (Reboot 2016): organizing by challenge (vs by domain), role
  play, conversation as data, each on (the preset) vs off.  Outcomes: mutual
  engagement (mean over the run), purpose alignment and retention at the end;
  the story says each principle raises them.

``--new`` runs Bindura with its story's actors and the bindura contestation rule
(``BINDURA_STORY``); the other stories have no new switches here.

    python experiments/stories.py --seeds 60 --workers 2 [--new] [--story bindura_eag]
        [--out docs/stories.csv]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:
    import copsim  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from copsim.facts import paired_difference
from copsim.files import atomic_write
from copsim.params import Params
from copsim.seeds import child_seed

#: Root seed of the story checks.
ROOT_SEED = 20261202
#: The unsafe space of the Bindura comparison.
UNSAFE = 0.25


@dataclass(frozen=True)
class Comparison:
    """Arm ``treatment`` minus arm ``control`` on ``outcomes``, with the story's sign."""

    key: str
    control: str
    treatment: str
    outcomes: tuple[str, ...]
    direction: int


@dataclass(frozen=True)
class Story:
    """A source preset, its arms (overrides on the preset) and comparisons."""

    preset: str
    index: int  # the story's place in the seed tree
    arms: Mapping[str, Mapping[str, Any]]
    comparisons: tuple[Comparison, ...]
    criterion: str


GROUP = (
    "excluded_core_share",
    "excluded_inclusion",
    "excluded_inclusion_mean",
    "challenger_inclusion",
)
PARTNERSHIP = ("members", "expansiveness", "code_knowledge")
OGP = ("mutual_engagement", "purpose_alignment", "retention")

STORIES: dict[str, Story] = {
    "bindura_eag": Story(
        "bindura_eag",
        1,
        {
            "none": {"contestation": False},
            "safe": {"contestation": True},
            "unsafe": {"contestation": True, "safety": UNSAFE},
            "none_unsafe": {"contestation": False, "safety": UNSAFE},
            "simple_rule": {"contestation_model": "simple"},
        },
        (
            Comparison("safe_vs_none", "none", "safe", GROUP[:3], +1),
            Comparison("unsafe_vs_none", "none", "unsafe", GROUP[:3], -1),
            Comparison("safe_vs_unsafe", "unsafe", "safe", GROUP, +1),
            Comparison("unsafe_vs_none_unsafe", "none_unsafe", "unsafe", GROUP[:3], -1),
            Comparison("bindura_vs_simple_rule", "simple_rule", "safe", GROUP, +1),
        ),
        "the excluded group ends nearer the core with contestation in a safe space "
        "than without it or in an unsafe space (paired difference of the stated sign)",
    ),
    "north_south_partnership": Story(
        "north_south_partnership",
        2,
        {
            "preset": {},
            "no_cut": {"shock_kind": "none"},
            "champions_stay": {"champions_leave": False},
            "no_grand_plan": {"grand_plan": False},
        },
        (
            Comparison("cut", "no_cut", "preset", PARTNERSHIP, -1),
            Comparison("champions_leave", "champions_stay", "preset", PARTNERSHIP, -1),
            Comparison("grand_plan", "no_grand_plan", "preset", PARTNERSHIP, -1),
        ),
        "each factor leaves fewer members, a less expansive and less knowledgeable code",
    ),
    "ogp_workshop": Story(
        "ogp_workshop",
        3,
        {
            "preset": {},
            "by_domain": {"organizing_principle": "domain"},
            "no_role_play": {"role_play": False},
            "no_conversation_data": {"conversation_as_data": False},
        },
        (
            Comparison("organize_by_challenge", "by_domain", "preset", OGP, +1),
            Comparison("role_play", "no_role_play", "preset", OGP, +1),
            Comparison("conversation_as_data", "no_conversation_data", "preset", OGP, +1),
        ),
        "each principle raises mutual engagement, purpose alignment and retention",
    ),
}


def preset_values(story: str, new: bool) -> dict[str, Any]:
    """The preset, with its story's actors and rules when ``new``."""
    from copsim import scenarios

    return scenarios.story_values(story) if new else scenarios.preset_values(story)


def group_core_share(model: Any, dimension: str, category: str) -> float:
    """Core share of the present members of one identity category (nan if none)."""
    c = model.community
    people = c.people
    if dimension not in people.identity_names:
        return math.nan
    code = people.identity_levels[dimension].index(category)
    present = people.present & (people.identity[:, people.identity_names.index(dimension)] == code)
    if not present.any():
        return math.nan
    core = c.derived.home_participation() >= c.params.core_threshold
    return float((core & present).sum() / present.sum())


def outcomes_of(model: Any, new: bool) -> dict[str, float]:
    """Every outcome a story reads, from a finished run."""
    series = model.datacollector.model_vars
    record = model.metrics
    led = model.community.own.get("contestation")
    group = ("livelihood", "widows") if new else ("livelihood", "poor")
    values = {
        "members": record["members"],
        "expansiveness": record["expansiveness"],
        "code_knowledge": record["code_knowledge"],
        "purpose_alignment": record["purpose_alignment"],
        "retention": record["retention"],
        "mutual_engagement": float(np.mean(series["mutual_engagement"][1:])),
        "excluded_core_share": group_core_share(model, *group),
        "excluded_inclusion": record.get("excluded_inclusion", math.nan),
        "excluded_inclusion_mean": float(np.mean(series["excluded_inclusion"][1:]))
        if "excluded_inclusion" in series
        else math.nan,
        "challenger_inclusion": led.ever_included[0] / led.ever[0]
        if led and led.ever[0]
        else math.nan,  # the model is an ensemble of one: its run is index 0
        "contests": record["contests"],
    }
    return {k: float(v) for k, v in values.items()}


def run_unit(
    story: str, arm: str, replicate: int, new: bool, steps: int | None = None
) -> dict[str, Any]:
    """One run (top level, so spawned workers can import it); ``steps`` overrides
    the preset's horizon."""
    from copsim import CoPModel, Params

    s = STORIES[story]
    horizon = {} if steps is None else {"max_steps": steps}
    params = Params(**{**preset_values(story, new), **s.arms[arm], **horizon})
    model = CoPModel(params, rng=child_seed(ROOT_SEED, s.index, replicate)).run()
    return {"story": story, "arm": arm, "replicate": replicate, **outcomes_of(model, new)}


def run(
    stories: Sequence[str], seeds: int, new: bool, workers: int, steps: int | None = None
) -> pd.DataFrame:
    """Every arm of every chosen story on ``seeds`` paired replicates."""
    units = [
        (s, arm, i, new, steps) for s in stories for arm in STORIES[s].arms for i in range(seeds)
    ]
    if workers <= 1:
        rows = [run_unit(*u) for u in units]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            rows = list(pool.map(run_unit, *zip(*units, strict=True), chunksize=4))
    return pd.DataFrame(rows)


def summarize(values: pd.DataFrame, stories: Sequence[str], new: bool) -> pd.DataFrame:
    """One row per (story, comparison, outcome): means, paired difference, CI, unfolds."""
    rows = []
    for name in stories:
        story = STORIES[name]
        sub = values[values["story"] == name]
        values_of = {
            arm: Params(**{**preset_values(name, new), **o}).model_dump()
            for arm, o in story.arms.items()
        }
        for comp in story.comparisons:
            if values_of[comp.control] == values_of[comp.treatment]:
                continue  # the same run twice (e.g. the rules compared in today's preset)
            a = sub[sub["arm"] == comp.control].set_index("replicate").sort_index()
            b = sub[sub["arm"] == comp.treatment].set_index("replicate").sort_index()
            for outcome in comp.outcomes:
                pair = pd.concat([a[outcome], b[outcome]], axis=1, keys=["c", "t"]).dropna()
                if len(pair) < 2:
                    continue
                r = paired_difference(pair["c"], pair["t"], comp.direction)
                d = (pair["t"] - pair["c"]).to_numpy()
                rows.append(
                    {
                        "story": name,
                        "model": "new" if new else "old",
                        "comparison": comp.key,
                        "control": comp.control,
                        "treatment": comp.treatment,
                        "outcome": outcome,
                        "direction": "higher" if comp.direction > 0 else "lower",
                        "n_pairs": r.n,
                        "mean_control": r.mean_control,
                        "mean_treatment": r.mean_treatment,
                        "mean_difference": r.mean_difference,
                        "ci_low": r.ci_low,
                        "ci_high": r.ci_high,
                        "holds": "yes" if r.holds else "no",
                        "unfolds": float(np.mean(np.sign(d) == comp.direction)),
                    }
                )
    return pd.DataFrame(rows)


def show(table: pd.DataFrame) -> str:
    """The table as aligned text."""
    lines = []
    for _, r in table.iterrows():
        lines.append(
            f"{r['story']:<24} {r['model']:<3} {r['comparison']:<22} {r['outcome']:<24} "
            f"{r['mean_control']:7.3f} -> {r['mean_treatment']:7.3f}  "
            f"diff {r['mean_difference']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}] "
            f"n={r['n_pairs']:<3} holds={r['holds']:<3} unfolds {r['unfolds']:.0%}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50, help="paired replicates per arm")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--new", action="store_true", help="the stories' new actors and rules")
    parser.add_argument("--story", action="append", choices=sorted(STORIES), default=None)
    parser.add_argument("--steps", type=int, default=None, help="override the horizon")
    parser.add_argument("--out", type=Path, default=None, help="write the table as CSV")
    args = parser.parse_args(argv)
    stories = args.story or list(STORIES)
    start = time.perf_counter()
    values = run(stories, args.seeds, args.new, args.workers, args.steps)
    table = summarize(values, stories, args.new)
    print(show(table))
    for name in stories:
        print(f"{name}: unfolds = {STORIES[name].criterion}")
    print(f"({len(values)} runs in {time.perf_counter() - start:.0f} s)")
    if args.out is not None:
        if args.out.exists():  # keep the other model's / stories' rows
            old = pd.read_csv(args.out)
            keep = ~(old["story"].isin(stories) & (old["model"] == ("new" if args.new else "old")))
            table = pd.concat([old[keep], table], ignore_index=True)
        atomic_write(args.out, lambda p: table.to_csv(p, index=False, float_format="%.4f"))
        print(f"wrote {args.out}")
    return table


if __name__ == "__main__":
    main()
