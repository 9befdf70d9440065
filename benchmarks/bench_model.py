"""Agent-steps per second of the social model, and its peak memory.

Usage: python benchmarks/bench_model.py [--sizes 100 1000 10000 100000] [--spaces 20] [--steps 20]

Runs the default community (social layer on) at each size on one core, times
``steps`` steps after one warm-up step, and prints agent-steps/s (present
practitioners x steps / seconds) and the peak resident memory of a fresh
process per size (so sizes do not inherit each other's peak).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def measure(n: int, spaces: int, steps: int) -> dict[str, float]:
    """Time ``steps`` steps of an ``n``-practitioner model (in this process)."""
    from copsim import CoPModel, Params

    t0 = time.perf_counter()
    model = CoPModel(Params(n_practitioners=n, n_spaces=spaces, max_steps=steps + 1), rng=1)
    build = time.perf_counter() - t0
    model.step()  # warm-up
    agents = 0
    t0 = time.perf_counter()
    for _ in range(steps):
        agents += int(model.present.sum())
        model.step()
    elapsed = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "practitioners": n,
        "spaces": spaces,
        "build_s": build,
        "step_ms": 1000 * elapsed / steps,
        "agent_steps_per_s": agents / elapsed,
        "peak_mb": peak_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10_000, 100_000])
    parser.add_argument("--spaces", type=int, default=20)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.spaces, args.steps)))
        return
    print(
        f"{'practitioners':>13} {'spaces':>6} {'build s':>8} {'ms/step':>9} {'agent-steps/s':>14} {'peak MB':>8}"
    )
    for n in args.sizes:
        cmd = [
            sys.executable,
            __file__,
            "--one",
            str(n),
            "--spaces",
            str(args.spaces),
            "--steps",
            str(args.steps),
        ]
        row = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        print(
            f"{row['practitioners']:>13} {row['spaces']:>6} {row['build_s']:>8.2f} {row['step_ms']:>9.2f} "
            f"{row['agent_steps_per_s']:>14,.0f} {row['peak_mb']:>8.0f}"
        )


if __name__ == "__main__":
    main()
