"""Speed of the March (1991) batch runner against a plain Python transcription.

The baseline below states March's rules the way one would first write them:
one individual and one dimension at a time, Python lists and ``random.Random``.
It follows :mod:`copsim.knowledge` rule for rule (turnover, turbulence, act with
coin flips for undecided beliefs, gradual socialization, the superior group
chosen by action score against code score, k = |net votes|, switch probability
1 - (1 - p2)**k, ties change nothing, stop at equilibrium in closed systems), so
both compute the same model and the ratio of their runs per second is the
speed-up of the array kernels.

Per-cell rates are runs per CPU second of this process (the best of
``--repeat`` timings), which other programs on a shared machine distort far less
than wall time.  ``--full`` reports the wall time of the whole Figure 1 and the
CPU time of all its processes; on an otherwise idle machine with as many cores
as workers the wall time is close to the CPU time per worker.  (Unix only: the
workers' CPU time comes from ``resource``.)

Usage::

    PYTHONPATH=src python benchmarks/bench_march.py            # three cells
    PYTHONPATH=src python benchmarks/bench_march.py --cells all
    PYTHONPATH=src python benchmarks/bench_march.py --full     # + Figure 1, 10,000 runs/cell, 2 workers
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from copsim.march import BATCH_SIZE, MarchSetting, figure1_cells, run_batch, run_cells


# --------------------------------------------------------------------------- baseline
def _naive_beliefs(m: int, rng: random.Random) -> list[int]:
    """A newcomer's beliefs: -1, 0 or +1 with equal chance per dimension."""
    return [rng.choice((-1, 0, 1)) for _ in range(m)]


def _dot(a: list[int], b: list[int]) -> int:
    """Matches minus misses of ``a`` against ``b`` (zeros count nothing)."""
    return sum(x * y for x, y in zip(a, b, strict=True))


def _at_equilibrium(beliefs: list[list[int]], code: list[int]) -> bool:
    """Everyone holds the code and no lucky coin could beat the code's score."""
    if any(row != code for row in beliefs):
        return False
    # with every belief equal to the code, the best lucky score beats the code's
    # score exactly when the code (hence every belief) still has an undecided dimension
    return 0 not in code


def plain_run(setting: MarchSetting, rng: random.Random) -> tuple[int, float]:
    """One run of March's model, written loop by loop; returns (periods, code knowledge)."""
    s = setting
    n, m = s.n, s.m
    reality = [rng.choice((-1, 1)) for _ in range(m)]
    beliefs = [_naive_beliefs(m, rng) for _ in range(n)]
    code = [0] * m
    n_slow = round(s.slow_share * n) if s.slow_share > 0 else 0
    rates = [s.p1_slow if i < n_slow else s.p1 for i in range(n)]
    closed = s.p3 == 0 and s.p4 == 0
    limit = s.max_periods if closed else s.horizon
    t = 0
    for t in range(1, limit + 1):  # noqa: B007 - t is the number of periods run
        # turnover: each individual is replaced by a naive newcomer with chance p3
        if s.p3 > 0:
            for i in range(n):
                if rng.random() < s.p3:
                    beliefs[i] = _naive_beliefs(m, rng)
        # turbulence: each dimension of reality flips with chance p4
        if s.p4 > 0:
            for j in range(m):
                if rng.random() < s.p4:
                    reality[j] = -reality[j]
        # act: undecided beliefs are settled by a fair coin, this period only
        actions = [[b if b != 0 else rng.choice((-1, 1)) for b in row] for row in beliefs]
        action_scores = [_dot(row, reality) for row in actions]
        # socialize: one step toward the code where it is non-zero and differs
        for i in range(n):
            row = beliefs[i]
            for j in range(m):
                c = code[j]
                if c != 0 and row[j] != c and rng.random() < rates[i]:
                    row[j] += c
        # the code learns from those whose actions beat it
        code_score = _dot(code, reality)
        superior = [a for a, sc in zip(actions, action_scores, strict=True) if sc > code_score]
        for j in range(m):
            net = sum(a[j] for a in superior)
            if net == 0:
                continue
            majority = 1 if net > 0 else -1
            if majority != code[j] and rng.random() < 1.0 - (1.0 - s.p2) ** abs(net):
                code[j] = majority
        if closed and _at_equilibrium(beliefs, code):
            break
    return t, _dot(code, reality) / m


# --------------------------------------------------------------------------- timing
def _best_time(work: Callable[[], object], repeat: int) -> tuple[float, object]:
    """The least CPU time of ``repeat`` calls of ``work()``, and the last result.

    CPU time of this process rather than wall time, so that other programs
    sharing the machine slow the measurement down as little as possible.
    """
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.process_time()
        result = work()
        best = min(best, time.process_time() - start)
    return best, result


def time_plain(setting: MarchSetting, runs: int, seed: int, repeat: int = 1) -> tuple[float, float]:
    """Runs per CPU second of the plain transcription, and its mean code knowledge."""

    def work() -> list[tuple[int, float]]:
        rng = random.Random(seed)
        return [plain_run(setting, rng) for _ in range(runs)]

    elapsed, results = _best_time(work, repeat)
    return runs / elapsed, statistics.fmean(k for _, k in results)


def time_batch(setting: MarchSetting, runs: int, seed: int, repeat: int = 1) -> tuple[float, float]:
    """Runs per CPU second of one copsim batch, and its mean code knowledge."""
    elapsed, out = _best_time(lambda: run_batch(setting, runs, seed), repeat)
    return runs / elapsed, float(out["code_knowledge"].mean())


def time_figure1(runs: int, workers: int, seed: int) -> tuple[float, float]:
    """Wall seconds and total CPU seconds (this process and its workers) for the 27
    cells of Figure 1 at ``runs`` per cell on ``workers`` processes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu, wall = time.process_time(), time.perf_counter()
    run_cells(figure1_cells(runs), seed=seed, workers=workers)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, time.process_time() - cpu + children


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", choices=["few", "all"], default="few")
    parser.add_argument("--plain-runs", type=int, default=20, help="runs per cell, baseline")
    parser.add_argument("--batch-runs", type=int, default=BATCH_SIZE, help="runs per cell, copsim")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=3, help="timings per cell; the best is kept")
    parser.add_argument("--full", action="store_true", help="also time the whole Figure 1")
    parser.add_argument("--full-runs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    p1s = [0.1, 0.5, 0.9] if args.cells == "few" else [round(0.1 * i, 1) for i in range(1, 10)]
    p2s = [0.5] if args.cells == "few" else [0.1, 0.5, 0.9]
    print(
        f"one core; baseline {args.plain_runs} runs/cell, copsim {args.batch_runs} runs/cell "
        f"(one batch); runs per CPU second, best of {args.repeat}"
    )
    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"{'p1':>4} {'p2':>4} | {'plain runs/s':>12} {'copsim runs/s':>13} {'speed-up':>8} |"
        f" {'plain K':>7} {'copsim K':>8}"
    )
    ratios = []
    for p1 in p1s:
        for p2 in p2s:
            setting = MarchSetting(p1=p1, p2=p2)
            plain, k_plain = time_plain(setting, args.plain_runs, args.seed, args.repeat)
            fast, k_fast = time_batch(setting, args.batch_runs, args.seed, args.repeat)
            ratios.append(fast / plain)
            print(
                f"{p1:4.1f} {p2:4.1f} | {plain:12.1f} {fast:13.0f} {fast / plain:7.0f}x |"
                f" {k_plain:7.3f} {k_fast:8.3f}"
            )
    print(
        f"speed-up: min {min(ratios):.0f}x, geometric mean {statistics.geometric_mean(ratios):.0f}x"
    )
    if args.full:
        wall, cpu = time_figure1(args.full_runs, args.workers, args.seed)
        total = 27 * args.full_runs
        print(
            f"Figure 1, 27 cells x {args.full_runs} runs on {args.workers} workers: "
            f"{wall:.1f} s wall ({total / wall:.0f} runs/s), {cpu:.1f} s CPU in all processes "
            f"= {cpu / args.workers:.1f} s per worker"
        )
    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
