"""Time to the core by group, with and without legitimate peripheral participation
as a trajectory (ODD II.7.9, II.7.11; issue 11).

Usage::

    python experiments/periphery.py [--seeds 50] [--steps 100] [--n 50]

For each seed the default community runs ``--steps`` periods twice, with
``lpp_trajectory`` off (today's rule) and on, everything else at its default.
Every practitioner is followed from its entry (period 0 for founders) to the
first period its home participation reaches ``core_threshold``.  Groups:
founders vs newcomers, and low vs high power (below / at or above the median
power of everyone who was ever present in that run).  Founders who start in the
core are left out of "time to core" (they never had to get there) and counted
in "start core".  For each group the script prints how many were followed, the
share that reached the core, the median time among those who did (periods)
and the mean share reached within 10 periods of entry; then the periphery
share among members with 10+ periods of tenure at the last period
(``participation.periphery_measures``), and the mean pairwise cosine of
purposes at the start and end in both drift modes.

Nothing here is tuned: the script reports what the rules give.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import numpy as np

from copsim import CoPModel, Params, measures
from copsim.submodels import participation


@dataclass
class Followed:
    """Everyone followed in one run: group flags and time to core (nan: never)."""

    founder: list[bool] = field(default_factory=list)
    power: list[float] = field(default_factory=list)
    start_core: list[bool] = field(default_factory=list)
    time: list[float] = field(default_factory=list)


def follow(params: Params, seed: int) -> tuple[Followed, float]:
    """Run one community and follow each practitioner to the core."""
    model = CoPModel(params, rng=seed)
    c = model.community
    n = c.people.size
    threshold = params.core_threshold
    entered = np.zeros(n)
    occupant = c.people.occupant.copy()
    reached = np.full(n, np.nan)
    out = Followed()
    home = c.derived.home_participation()
    start_core = c.people.present & (home >= threshold)

    def close(slots: np.ndarray) -> None:  # the practitioners in these slots are gone
        for s in slots:  # bookkeeping of the experiment, not of the model
            out.founder.append(bool(founder_of[s]))
            out.power.append(float(power_of[s]))
            out.start_core.append(bool(start_of[s]))
            out.time.append(float(reached[s] - entered[s]))

    founder_of = np.ones(n, dtype=bool)
    power_of = c.people.power.copy()
    start_of = start_core.copy()
    reached[start_core] = 0.0
    while model.running:
        model.step()
        t = model.steps
        changed = np.flatnonzero(c.people.occupant != occupant)
        close(changed)
        occupant = c.people.occupant.copy()
        fresh = changed[c.people.present[changed]]
        entered[fresh], reached[changed] = t, np.nan
        founder_of[changed] = False
        power_of[fresh] = c.people.power[fresh]
        start_of[changed] = False
        home = c.derived.home_participation()
        now = c.people.present & (home >= threshold) & np.isnan(reached)
        reached[now] = t
    close(np.flatnonzero(c.people.present))
    base = measures.shared_basis(c)
    tenured = participation.periphery_measures(c, base)["periphery_share_tenured"]
    return out, tenured


def summarize(runs: list[Followed]) -> dict[str, dict[str, float]]:
    """Per group: followed, share reaching the core, median time, share within 10."""
    groups: dict[str, list[float]] = {}
    for run in runs:
        power = np.array(run.power)
        median = np.median(power)
        for f, pw, sc, tt in zip(run.founder, power, run.start_core, run.time, strict=True):
            if sc:
                groups.setdefault("start core (founders)", []).append(0.0)
                continue
            who = "founders" if f else "newcomers"
            strength = "high power" if pw >= median else "low power"
            for key in (who, strength, f"{who}, {strength}"):
                groups.setdefault(key, []).append(tt)
    table = {}
    for key, times in groups.items():
        t = np.array(times)
        done = t[~np.isnan(t)]
        table[key] = {
            "followed": float(t.size),
            "reach_core": float(done.size / t.size),
            "median_time": float(np.median(done)) if done.size else float("nan"),
            "within_10": float(np.mean(~np.isnan(t) & (t <= 10))),
        }
    return table


def purpose_cosine(params: Params, seeds: range) -> tuple[float, float]:
    """Mean pairwise cosine of purposes among those present, at the start and the end."""

    def cosine(model: CoPModel) -> float:
        unit = model.community.derived.unit_purpose()[model.community.people.present]
        sim = unit @ unit.T
        k = unit.shape[0]
        return float((sim.sum() - k) / (k * (k - 1)))

    start, end = [], []
    for seed in seeds:
        model = CoPModel(params, rng=seed)
        start.append(cosine(model))
        model.run()
        end.append(cosine(model))
    return float(np.mean(start)), float(np.mean(end))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--n", type=int, default=50)
    args = ap.parse_args(argv)
    seeds = range(args.seeds)
    base = Params(n_practitioners=args.n, max_steps=args.steps)
    for lpp in (False, True):
        params = base.replace(lpp_trajectory=lpp)
        results = [follow(params, s) for s in seeds]
        table = summarize([r for r, _ in results])
        tenured = np.array([t for _, t in results])
        print(f"\n== lpp_trajectory={lpp} ({args.seeds} seeds, {args.steps} periods)")
        print(f"{'group':34s} {'followed':>9s} {'reach core':>10s} {'median t':>9s} {'<=10':>6s}")
        for key in sorted(table):
            r = table[key]
            print(
                f"{key:34s} {r['followed']:9.0f} {r['reach_core']:10.2f} "
                f"{r['median_time']:9.1f} {r['within_10']:6.2f}"
            )
        half = 1.96 * tenured.std(ddof=1) / np.sqrt(tenured.size)
        print(f"periphery_share_tenured at the end: {tenured.mean():.3f} +- {half:.3f}")
    for mode in ("mix", "wander"):
        start, end = purpose_cosine(base.replace(purpose_drift_mode=mode), seeds)
        print(f"purpose cosine, drift {mode}: start {start:.3f}, end {end:.3f}")
    start, end = purpose_cosine(base.replace(purpose_drift=0.0), seeds)
    print(f"purpose cosine, no drift: start {start:.3f}, end {end:.3f}")


if __name__ == "__main__":
    main()
