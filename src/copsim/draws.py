"""Counter-based random numbers: each draw is a pure function of where it is used.

A draw of the social model is ``hash(run key, period, site, element)``:

- the *run key* is a 64-bit number derived from the run's own seed
  (:func:`run_key`, through ``numpy.random.SeedSequence``);
- the *period* is the step being computed (0 during set-up);
- the *site* names the place in the code that draws (``"conversation.conflict"``);
  a site that draws several times in one period passes a ``round``;
- the *element* is the local index of what the draw is for: a practitioner
  slot, a (slot, dimension) cell, a learning space, a (space, slot) membership,
  always counted *within* the run.

So a run's numbers depend only on its seed and its parameters: not on how many
other communities share the arrays (:mod:`copsim.ensemble`), not on how many
draws happened before, not on the worker, the chunk or the machine.  Two arms
of a paired comparison share every draw whose (site, element) exists in both,
which is what makes paired differences sharp (ODD II.5, docs/engine.md).

The hash is splitmix64's finalizer (Steele, Lea and Flood's mixing function),
applied twice: once per run to fold (key, period, site, round) into a base, and
once per element to the base plus the element times an odd constant.  Every
operation is an elementwise uint64 operation (worked through in cache-sized
blocks); uniforms take the top 53 bits.
"""

from __future__ import annotations

import hashlib
from functools import cache

import numpy as np
from scipy import special

_U64 = np.uint64
_M1 = _U64(0xBF58476D1CE4E5B9)
_M2 = _U64(0x94D049BB133111EB)
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_PERIOD = _U64(0xD1B54A32D192ED03)
_ROUND = _U64(0xABC98388FB8FAC03)
_S30, _S27, _S31, _S11 = _U64(30), _U64(27), _U64(31), _U64(11)
_TO_UNIT = 2.0**-53


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer, in place on a uint64 array (returns it)."""
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


#: Elements hashed per block: small enough that a block's two uint64 work arrays
#: stay in a core's L2 cache, large enough that numpy's per-call cost is negligible.
#: Blocking changes no bit (every operation is elementwise).
_BLOCK = 16384


def _as_words(block: np.ndarray, out: np.ndarray) -> None:
    out[...] = block


def _as_unit(block: np.ndarray, out: np.ndarray) -> None:
    """The top 53 bits as a float in [0, 1): exact (an integer below 2**53 times a power of 2)."""
    block >>= _S11
    np.multiply(block, _TO_UNIT, out=out, casting="unsafe")


def _hash(base: np.ndarray, run, element: np.ndarray, finish) -> np.ndarray:
    """``mix(element * golden + base[run])`` per element, finished by ``finish``.

    The same arithmetic as hashing the whole array at once, done block by block in
    two reused work arrays: the whole-array form allocated a fresh temporary for
    every one of its dozen passes, which at a million elements cost more than the
    arithmetic (page faults and cache misses).
    """
    n = element.size
    out = np.empty(element.shape, np.uint64 if finish is _as_words else np.float64)
    flat_out, flat_element = out.reshape(-1), element.reshape(-1)
    scalar_run = np.ndim(run) == 0
    if not scalar_run:
        run = np.asarray(run).reshape(-1)
    x = np.empty(min(n, _BLOCK), np.uint64)
    tmp = np.empty_like(x)
    with np.errstate(over="ignore"):
        for start in range(0, n, _BLOCK):
            stop = min(n, start + _BLOCK)
            xs, ts = x[: stop - start], tmp[: stop - start]
            np.copyto(xs, flat_element[start:stop], casting="unsafe")
            xs *= _GOLDEN
            if scalar_run:
                xs += base[int(run)]
            else:
                np.take(base, run[start:stop], out=ts)
                xs += ts
            _mix_with(xs, ts)
            finish(xs, flat_out[start:stop])
    return out


def _mix_with(x: np.ndarray, tmp: np.ndarray) -> None:
    """splitmix64's finalizer in place, with ``tmp`` as the shift buffer (same bits as
    :func:`_mix`)."""
    np.right_shift(x, _S30, out=tmp)
    x ^= tmp
    x *= _M1
    np.right_shift(x, _S27, out=tmp)
    x ^= tmp
    x *= _M2
    np.right_shift(x, _S31, out=tmp)
    x ^= tmp


@cache
def site_id(name: str) -> int:
    """A fixed 64-bit number for a draw site's name (the same on every machine)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def run_key(seed: object) -> int:
    """A run's 64-bit key from its seed (an int or a ``SeedSequence``)."""
    sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return int(sequence.generate_state(1, np.uint64)[0])


class Draws:
    """Keyed random numbers for K runs, each with its own key.

    ``step`` is the period being computed; the engine sets it before each period.
    Every method takes the ``site`` name, the run of each element and the
    element's local index, and returns one value per element.
    """

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = np.asarray(keys, dtype=np.uint64).reshape(-1)
        self.step = 0

    @property
    def runs(self) -> int:
        return self.keys.size

    def take(self, runs: np.ndarray) -> Draws:
        """The draws of a subset of the runs (after compaction)."""
        kept = Draws(self.keys[runs])
        kept.step = self.step
        return kept

    # ------------------------------------------------------------------ core
    def bases(self, site: str, round_: int = 0) -> np.ndarray:
        """(K,) per-run bases for (period, site, round)."""
        with np.errstate(over="ignore"):
            salt = (_U64(self.step + 1) * _PERIOD) ^ _U64(site_id(site))
            salt ^= _U64(round_) * _ROUND
            return _mix(_mix(self.keys ^ salt))

    def words(self, site: str, run: np.ndarray | int, element: np.ndarray, round_: int = 0):
        """64 random bits per element: hash(base of its run, element)."""
        return _hash(self.bases(site, round_), run, np.asarray(element), _as_words)

    def uniform(self, site: str, run, element, round_: int = 0) -> np.ndarray:
        """Uniforms in [0, 1) (53-bit resolution)."""
        return _hash(self.bases(site, round_), run, np.asarray(element), _as_unit)

    def bernoulli(self, site: str, p, run, element, round_: int = 0) -> np.ndarray:
        """True with probability ``p`` (scalar or one per element)."""
        return self.uniform(site, run, element, round_) < p

    def normal(self, site: str, run, element, round_: int = 0) -> np.ndarray:
        """Standard normals, by the inverse normal CDF of an open-interval uniform."""
        u = self.uniform(site, run, element, round_)
        u *= 1.0 - 2.0**-53  # in place: the same two roundings, no temporaries
        u += 2.0**-54
        return special.ndtri(u, out=u)

    def exponential(self, site: str, run, element, round_: int = 0) -> np.ndarray:
        """Standard exponentials, -log(1 - u)."""
        u = self.uniform(site, run, element, round_)
        np.negative(u, out=u)
        np.log1p(u, out=u)
        return np.negative(u, out=u)

    def poisson(self, site: str, lam, run, element, round_: int = 0) -> np.ndarray:
        """Poisson counts by inversion of the CDF (for the small means used here)."""
        u = self.uniform(site, run, element, round_)
        lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), u.shape)
        term = np.exp(-lam)
        cdf = term.copy()
        k = np.zeros(u.shape, dtype=np.int64)
        todo = u >= cdf
        step = 0
        while todo.any() and step < 200:  # a mean of a few needs a handful of terms
            step += 1
            term = term * lam / step
            cdf = cdf + term
            k += todo
            todo &= u >= cdf
        return k

    def bits(self, site: str, run: np.ndarray, row: np.ndarray, width: int) -> np.ndarray:
        """(len(row), width) fair bits (uint8 0/1): one hash per row and 64 columns.

        ``row`` is each row's local index; the element hashed is
        ``row * words_per_row + word``.
        """
        per_row = (width + 63) // 64
        row = np.asarray(row, dtype=np.int64)
        element = (row[:, None] * per_row + np.arange(per_row)).reshape(-1)
        runs = np.repeat(np.asarray(run), per_row) if np.ndim(run) else run
        w = self.words(site, runs, element)
        bits = np.unpackbits(w.astype("<u8").view(np.uint8), bitorder="little").reshape(
            row.size, -1
        )
        return bits[:, :width]


class Keyed:
    """Keyed draws for the cells of one flat array of an ensemble, for the
    knowledge kernels (:mod:`copsim.knowledge`), which ask for draws by flat index.

    ``per_run`` is how many elements of the flat array belong to one run (N*m for
    beliefs, S*m for repertoires); ``width`` is the last axis (m) for coins.
    """

    def __init__(self, draws: Draws, site: str, per_run: int, width: int, round_: int = 0):
        self.draws, self.site, self.per_run, self.width = draws, site, per_run, width
        self.round_ = round_

    def uniform_at(self, flat: np.ndarray) -> np.ndarray:
        """A uniform for each flat index."""
        run, local = np.divmod(np.asarray(flat, dtype=np.int64), self.per_run)
        return self.draws.uniform(self.site, run, local, self.round_)

    def bits_rows(self, n_rows: int, width: int) -> np.ndarray:
        """(n_rows, width) fair bits, rows counted through the runs."""
        rows_per_run = self.per_run // width
        row = np.arange(n_rows)
        return self.draws.bits(self.site, row // rows_per_run, row % rows_per_run, width)
