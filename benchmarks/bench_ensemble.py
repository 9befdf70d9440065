"""Runs per CPU second: one run at a time against the ensemble engine, side by side.

Usage: python benchmarks/bench_ensemble.py [--sizes 20 50 200] [--against REV]
                                           [--runs 40] [--ensemble-runs 2000] [--repeat 2]
       python benchmarks/bench_ensemble.py --large 10000 [--against REV]

For each community size (default community, 100 steps), three paths run in fresh
single-threaded processes, interleaved so they see the same load:

- ``REV per run``: the code of git revision REV (e.g. the last commit before the
  ensemble engine), one ``CoPModel`` after another (``--against``);
- ``per run``: today's ``CoPModel``, one run after another (an ensemble of one);
- ``ensemble``: the same runs through ``copsim.ensemble.run_ensembles`` (default
  ensemble size).

Each prints runs per CPU second of its process (process time, so a busy machine
slows every path alike) and its peak resident memory; the last column is the
ratio to the first path.  ``--large N`` instead times one community of N
practitioners (20 steps after a warm-up) in each path and prints agent-steps per
CPU second and peak memory: the engine must lose nothing at large sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_model import export_src, measure  # noqa: E402


def one_by_one(n: int, runs: int) -> dict[str, float]:
    """``runs`` full runs of the default community, one model at a time."""
    from copsim import CoPModel, Params

    params = Params(n_practitioners=n)
    t0 = time.process_time()
    for seed in range(runs):
        CoPModel(params, rng=seed).run()
    return _rate(runs, time.process_time() - t0)


def ensembles(n: int, runs: int) -> dict[str, float]:
    """The same runs through the ensemble engine."""
    from copsim import Params
    from copsim.ensemble import run_ensembles

    params = Params(n_practitioners=n)
    t0 = time.process_time()
    run_ensembles([params] * runs, list(range(runs)))
    return _rate(runs, time.process_time() - t0)


def large(n: int, steps: int = 20) -> dict[str, float]:
    """Agent-steps per CPU second of one community of ``n`` practitioners (20 spaces),
    timed as ``bench_model.py`` times it."""
    return measure(n, spaces=20, steps=steps)


def _rate(runs: int, seconds: float) -> dict[str, float]:
    return {"runs_per_cpu_s": runs / seconds, "seconds": seconds, "peak_mb": _peak_mb()}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, n: int, runs: int, src: Path | None) -> dict[str, float]:
    """One measurement in a fresh single-threaded process (of the code in ``src``)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = str(src or ROOT / "src")
    cmd = [sys.executable, __file__, "--child", mode, str(n), str(runs)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 50, 200])
    parser.add_argument("--runs", type=int, default=40, help="runs timed one by one")
    parser.add_argument("--ensemble-runs", type=int, default=2000, help="runs timed as ensembles")
    parser.add_argument("--repeat", type=int, default=2, help="fresh processes per path")
    parser.add_argument("--against", metavar="REV", help="also time git revision REV one by one")
    parser.add_argument("--large", type=int, help="time one community of this many instead")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, n, runs = args.child[0], int(args.child[1]), int(args.child[2])
        fn = {"single": one_by_one, "ensemble": ensembles}.get(mode)
        print(json.dumps(large(n) if mode == "large" else fn(n, runs)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        old = export_src(args.against, Path(tmp)) if args.against else None
        if args.large:
            print(f"one community of {args.large:,} practitioners, 20 steps, one core")
            paths = ([(f"{args.against[:8]}", old)] if old else []) + [("current", None)]
            for name, src in paths:
                best = max(
                    (child("large", args.large, 0, src) for _ in range(args.repeat)),
                    key=lambda r: r["agent_steps_per_s"],
                )
                print(
                    f"{name:>10}: {best['agent_steps_per_s']:>12,.0f} agent-steps/s "
                    f"{best['step_ms']:8.2f} ms/step  peak {best['peak_mb']:.0f} MB"
                )
            return
        print("default community, 100 steps, one core; best of", args.repeat, "fresh processes")
        print(
            f"{'practitioners':>13} {'path':>16} {'runs':>6} {'runs/CPU s':>11} "
            f"{'peak MB':>8} {'x first':>8}"
        )
        for n in args.sizes:
            plan = [(f"{args.against[:8]} per run", "single", args.runs, old)] if old else []
            plan += [("per run", "single", args.runs, None)]
            plan += [("ensemble", "ensemble", args.ensemble_runs, None)]
            best: dict[str, dict[str, float]] = {}
            for _ in range(args.repeat):  # interleaved
                for name, mode, runs, src in plan:
                    r = child(mode, n, runs, src)
                    if name not in best or r["runs_per_cpu_s"] > best[name]["runs_per_cpu_s"]:
                        best[name] = r
            first = best[plan[0][0]]["runs_per_cpu_s"]
            for name, _, runs, _ in plan:
                r = best[name]
                print(
                    f"{n:>13} {name:>16} {runs:>6} {r['runs_per_cpu_s']:>11.1f} "
                    f"{r['peak_mb']:>8.0f} {r['runs_per_cpu_s'] / first:>7.1f}x",
                    flush=True,
                )


if __name__ == "__main__":
    main()
