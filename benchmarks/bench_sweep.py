"""Sweep throughput (runs per second) for 1 and 2 workers on both backends.

Runs the same small experiment once per (backend, workers) setting into a fresh
temporary folder and prints wall time and runs/s, including everything a user
waits for: starting workers (or a Dask LocalCluster), running, writing Parquet
parts and consolidating them.  On a shared machine wall time depends on what else
runs, so CPU seconds of all processes (this one and its finished workers) and the
load average are printed too; runs per CPU second is the steadier number.  The results of all settings are checked to be
identical.

    python benchmarks/bench_sweep.py                 # social layer, 240 runs
    python benchmarks/bench_sweep.py --preset march1991 --runs 400
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

CONFIG = """\
name: bench
base:
  {preset_line}
  params: {{n_practitioners: {n}}}
design:
  grid:
    socialization_rate: [0.1, 0.3, 0.5, 0.7, 0.9, 0.95]
replicates: {replicates}
seed: 1
steps: {steps}
stop: horizon
record:
  steps_every: 10
output: {out}
"""

SETTINGS = (("local", 1), ("local", 2), ("dask", 1), ("dask", 2))


def write_config(folder: Path, args: argparse.Namespace) -> Path:
    """The benchmark experiment (6 design points x runs/6 replicates)."""
    preset = f"preset: {args.preset}" if args.preset else "preset: null"
    text = CONFIG.format(
        preset_line=preset,
        n=args.practitioners,
        replicates=max(1, args.runs // 6),
        steps=args.steps,
        out=folder / "results",
    )
    path = folder / "bench.yaml"
    path.write_text(text)
    return path


def cpu_seconds() -> float:
    """CPU time of this process and of its finished child processes (workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def measure(config: Path, backend: str, workers: int, out: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (all processes) and runs of one complete sweep."""
    from copsim.sweep.runner import run_sweep

    start, cpu = time.perf_counter(), cpu_seconds()
    summary = run_sweep(config, backend=backend, workers=workers, progress=False, out=out)
    return time.perf_counter() - start, cpu_seconds() - cpu, summary.executed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=240, help="runs per sweep (default 240)")
    parser.add_argument("--steps", type=int, default=50, help="steps per run (default 50)")
    parser.add_argument("--practitioners", type=int, default=30, help="n_practitioners (30)")
    parser.add_argument("--preset", default=None, help="base preset (default: Params defaults)")
    args = parser.parse_args()

    import pandas as pd

    import copsim
    from copsim.sweep.runner import source_digest

    digest = source_digest()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = write_config(folder, args)
        reference = None
        for backend, workers in SETTINGS:
            out = folder / f"{backend}-{workers}"
            seconds, cpu, runs = measure(config, backend, workers, out)
            rows.append(
                {
                    "backend": backend,
                    "workers": workers,
                    "runs": runs,
                    "seconds": round(seconds, 2),
                    "runs/s": round(runs / seconds, 1),
                    "cpu_s": round(cpu, 1),
                    "runs/cpu_s": round(runs / cpu, 1) if cpu > 0 else None,
                    "load": round(os.getloadavg()[0], 1),
                }
            )
            print(rows[-1], flush=True)
            table = copsim.load(out, "runs")
            if reference is None:
                reference = table
            elif source_digest() != digest:
                print("note: the copsim source changed during the benchmark; not comparing")
            else:
                pd.testing.assert_frame_equal(reference, table, check_exact=True)
    print()
    same = "results identical across settings" if source_digest() == digest else "not compared"
    print(
        f"{args.runs} runs, {args.steps} steps, {args.practitioners} practitioners, "
        f"preset {args.preset or '(defaults)'}; {same}"
    )
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
