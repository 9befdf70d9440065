"""Agent-steps per second of the social model, and its peak memory.

Usage: python benchmarks/bench_model.py [--sizes 100 1000 10000 100000] [--spaces 20]
                                        [--steps 20] [--repeat 3] [--against REV]

Runs the default community (social layer on) at each size on one core (BLAS
limited to one thread), times ``steps`` steps after one warm-up step, and prints
agent-steps per CPU second (present practitioners x steps / CPU seconds of the
process).  Each size runs ``repeat`` times in its own fresh process; the table
gives the best and the median run, since other programs on a shared machine
only ever slow a run down.  Peak memory is the resident peak of that process
(so sizes do not inherit each other's peak).

``--against REV`` measures the code of git revision REV side by side with the
working tree: REV's ``src/`` is exported to a temporary folder, and each size
runs the old and the new code alternately (old, new, old, new, ...), so both
see the same load on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(n: int, spaces: int, steps: int) -> dict[str, float]:
    """Time ``steps`` steps of an ``n``-practitioner model (in this process)."""
    from copsim import CoPModel, Params

    t0 = time.process_time()
    model = CoPModel(Params(n_practitioners=n, n_spaces=spaces, max_steps=steps + 1), rng=1)
    build = time.process_time() - t0
    model.step()  # warm-up
    agents = 0
    t0 = time.process_time()
    for _ in range(steps):
        agents += int(model.present.sum())
        model.step()
    elapsed = time.process_time() - t0
    return {
        "build_s": build,
        "step_ms": 1000 * elapsed / steps,
        "agent_steps_per_s": agents / elapsed,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(n: int, spaces: int, steps: int, src: Path | None = None) -> dict[str, float]:
    """One measurement in a fresh single-threaded process (of the code in ``src``)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = str(src or ROOT / "src")
    cmd = [sys.executable, __file__, "--one", str(n), "--spaces", str(spaces)]
    cmd += ["--steps", str(steps)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10_000, 100_000])
    parser.add_argument("--spaces", type=int, default=20)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="fresh runs per size")
    parser.add_argument("--against", metavar="REV", help="also time git revision REV")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.spaces, args.steps)))
        return
    print(f"{args.steps} steps after a warm-up, one core, best and median of {args.repeat} runs")
    print(
        f"{'code':>8} {'practitioners':>13} {'spaces':>6} {'build s':>8} {'ms/step':>8} "
        f"{'median':>8} {'agent-steps/s':>14} {'median':>10} {'peak MB':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        versions: dict[str, Path | None] = {"current": None}
        if args.against:
            versions = {args.against[:8]: export_src(args.against, Path(tmp)), **versions}
        for n in args.sizes:
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
            for _ in range(args.repeat):  # interleaved: old, new, old, new, ...
                for name, src in versions.items():
                    runs[name].append(run_child(n, args.spaces, args.steps, src))
            for name, rows in runs.items():
                print_row(name, n, args.spaces, rows)


def export_src(rev: str, into: Path) -> Path:
    """The ``src/`` folder of git revision ``rev``, exported under ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def print_row(name: str, n: int, spaces: int, runs: list[dict[str, float]]) -> None:
    best = max(runs, key=lambda r: r["agent_steps_per_s"])
    median_ms = statistics.median(r["step_ms"] for r in runs)
    median_rate = statistics.median(r["agent_steps_per_s"] for r in runs)
    print(
        f"{name:>8} {n:>13} {spaces:>6} {best['build_s']:>8.2f} {best['step_ms']:>8.2f} "
        f"{median_ms:>8.2f} {best['agent_steps_per_s']:>14,.0f} {median_rate:>10,.0f} "
        f"{max(r['peak_mb'] for r in runs):>8.0f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
