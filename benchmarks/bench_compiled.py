"""What compiled loops would buy the ensemble engine, with the same bits (issue 12).

Usage: pip install numba && python benchmarks/bench_compiled.py [--repeat 30]

Issue 12's last two speed targets (30x at 200 practitioners; no loss for one
community of 10,000) are out of numpy's reach: the cost is spread over six stages
of elementwise passes (docs/engine.md).  This script measures the alternative on
two pieces, side by side with today's numpy path, and checks that both give the
same bits:

1. the keyed hash of :mod:`copsim.draws` (every draw of the model goes through it):
   ``draws._hash`` against one loop that hashes each element in registers;
2. the socialization stage: ``socialization.step`` against one loop over the
   cells that gathers the home code, tests the pull, hashes and moves in a single
   pass, written twice: with a branch per cell, and branch-free (every cell of a
   slot with a chance hashed, the move a product with 0 or 1).  The chances come
   from ``socialization.rates`` in every path, so the rule is not restated; only
   the move is.

numba is not a dependency of copsim; this is a measurement for a planning
decision, not a code path.  Times are CPU milliseconds (best of ``--repeat``) on
one thread; the compile time of each kernel, paid once per machine with numba's
cache, is printed too.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from functools import partial

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

try:
    import numba
except ImportError:  # a measurement that needs an optional package: say so, no traceback
    sys.exit("bench_compiled.py needs numba, which copsim does not install: pip install numba")

from copsim import Params, draws
from copsim.ensemble import Ensemble
from copsim.submodels import socialization

_M1, _M2, _GOLDEN = draws._M1, draws._M2, draws._GOLDEN


@numba.njit(nogil=True)
def _mixed(x: np.uint64) -> np.uint64:
    """splitmix64's finalizer on one word (the arithmetic of ``draws._mix``)."""
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


@numba.njit(nogil=True)
def _unit(x: np.uint64) -> float:
    """The top 53 bits as a float in [0, 1) (the arithmetic of ``draws._as_unit``)."""
    return np.float64(x >> np.uint64(11)) * 2.0**-53


@numba.njit(nogil=True)
def hash_uniform(base, run, element, out):
    """A uniform per element: ``mix(element * golden + base[run])``, one pass."""
    for i in range(element.size):
        out[i] = _unit(_mixed(np.uint64(element[i]) * _GOLDEN + base[run[i]]))


@numba.njit(nogil=True)
def socialize_cells(beliefs, codes, home, tacit, chance, bases, slots_per_run):
    """The move of ``knowledge.socialize`` for keyed draws, one pass over the cells.

    A cell is pulled when its slot's chance is above 0, its dimension is not tacit
    and the home code is decided and differs from the belief; a pulled cell moves
    one step toward the code when its keyed uniform (local cell index within its
    run) is below the chance.
    """
    rows, m = beliefs.shape
    for r in range(rows):
        p = chance[r]
        if p <= 0.0:
            continue
        run = r // slots_per_run
        space = home[r]
        for j in range(m):
            target = codes[space, j]
            if tacit[j] or target == 0 or beliefs[r, j] == target:
                continue
            local = np.uint64((r - run * slots_per_run) * m + j)
            if _unit(_mixed(local * _GOLDEN + bases[run])) < p:
                beliefs[r, j] += target


@numba.njit(nogil=True)
def socialize_cells_branch_free(beliefs, codes, home, tacit, chance, bases, slots_per_run):
    """The same move without a branch per cell: every cell of a slot with a chance is
    hashed, and the move is a product with 0 or 1.  A keyed draw is a pure function of
    its cell, so hashing cells that cannot move changes no bit; the loop then has no
    unpredictable branch, and the compiler can vectorize the hash."""
    rows, m = beliefs.shape
    for r in range(rows):
        p = chance[r]
        if p <= 0.0:
            continue
        run = r // slots_per_run
        space = home[r]
        base = bases[run]
        first = np.uint64((r - run * slots_per_run) * m)
        for j in range(m):
            target = codes[space, j]
            belief = beliefs[r, j]
            u = _unit(_mixed((first + np.uint64(j)) * _GOLDEN + base))
            move = (u < p) & (target != 0) & (belief != target) & (not tacit[j])
            beliefs[r, j] = belief + target * np.int8(move)


def best_ms(fn, repeat: int) -> float:
    """Best CPU time of ``repeat`` calls, in ms."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return 1000 * best


def compile_ms(fn, *args) -> float:
    """Wall time of the first call (numba compiles the kernel for these types)."""
    t0 = time.perf_counter()
    fn(*args)
    return 1000 * (time.perf_counter() - t0)


def bench_hash(repeat: int) -> None:
    rng = np.random.default_rng(0)
    print("keyed hash, uniforms (ns per draw)")
    print(f"{'draws':>10} {'numpy':>8} {'compiled':>9} {'ratio':>6}  same bits")
    for n in (40_000, 400_000, 2_000_000):
        base = rng.integers(0, 2**63, 256, dtype=np.uint64)
        run = np.sort(rng.integers(0, base.size, n))
        element = rng.integers(0, 10**6, n)
        out = np.empty(n)
        if n == 40_000:
            print(
                f"{'':>10} (compiling the kernel: {compile_ms(hash_uniform, base, run, element, out):.0f} ms)"
            )
        hash_uniform(base, run, element, out)
        same = np.array_equal(out, draws._hash(base, run, element, draws._as_unit))
        a = best_ms(partial(draws._hash, base, run, element, draws._as_unit), repeat) * 1e6 / n
        b = best_ms(partial(hash_uniform, base, run, element, out), repeat) * 1e6 / n
        print(f"{n:>10,} {a:>8.2f} {b:>9.2f} {a / b:>5.1f}x  {same}")


def _stage_pair(ens: Ensemble, warmup: int):
    """The numpy stage and the compiled move, each from the same saved state."""
    for _ in range(warmup):
        ens.step()
    c = ens.community
    saved = c.people.beliefs.copy()
    tacit = np.zeros(c.layout.dims, dtype=np.bool_)
    tacit[c.world.tacit] = True
    slots = c.layout.slots

    def numpy_path() -> None:
        c.people.beliefs[...] = saved
        socialization.step(c)

    def compiled(kernel):
        def path() -> None:
            c.people.beliefs[...] = saved
            chance = socialization.rates(c)
            bases = c.draws.bases("socialization.steps")
            home = c.derived.home_space()
            kernel(c.people.beliefs, c.spaces.codes, home, tacit, chance, bases, slots)

        return path

    return c, numpy_path, compiled(socialize_cells), compiled(socialize_cells_branch_free)


def bench_socialization(repeat: int) -> None:
    print("\nsocialization stage (CPU ms per period; chances computed by numpy in every path)")
    print(
        f"{'ensemble':>16} {'numpy':>7} {'branching':>10} {'ratio':>6} "
        f"{'branch-free':>12} {'ratio':>6}  same bits"
    )
    cases = [
        ("200 runs x 200", [Params(n_practitioners=200, max_steps=200)] * 200, list(range(200))),
        ("50 runs x 50", [Params(n_practitioners=50, max_steps=200)] * 50, list(range(50))),
        ("1 run x 10,000", [Params(n_practitioners=10_000, n_spaces=20, max_steps=200)], [1]),
    ]
    for name, params, seeds in cases:
        c, numpy_path, branching, branch_free = _stage_pair(Ensemble(params, seeds), warmup=5)
        numpy_path()
        reference = c.people.beliefs.copy()
        same = []
        for path in (branching, branch_free):
            first = compile_ms(path)
            if name.startswith("200"):
                print(f"{'':>16} (a first call, compiling its kernel: {first:.0f} ms)")
            same.append(np.array_equal(reference, c.people.beliefs))
        a, b, f = (best_ms(path, repeat) for path in (numpy_path, branching, branch_free))
        print(
            f"{name:>16} {a:>7.2f} {b:>10.2f} {a / b:>5.1f}x {f:>12.2f} {a / f:>5.1f}x  {all(same)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed calls per path")
    args = parser.parse_args()
    print(f"numba {numba.__version__}, numpy {np.__version__}, one thread")
    bench_hash(args.repeat)
    bench_socialization(args.repeat)


if __name__ == "__main__":
    main()
