"""The keyed draws: a pure function of (run key, period, site, round, element),
whatever the array's length, shape or the block the hash works through."""

from __future__ import annotations

import numpy as np
import pytest

from copsim import draws as dr


def _reference_words(d: dr.Draws, site: str, run, element, round_: int = 0) -> np.ndarray:
    """The hash written out over the whole array at once (the definition)."""
    with np.errstate(over="ignore"):
        base = d.bases(site, round_)
        x = np.asarray(element).astype(np.uint64) * dr._GOLDEN
        x += base[run] if np.ndim(run) else base[int(run)]
        return dr._mix(x)


@pytest.mark.parametrize("n", [0, 1, 7, dr._BLOCK - 1, dr._BLOCK, dr._BLOCK + 1, 3 * dr._BLOCK + 5])
def test_blocked_hash_equals_the_whole_array_definition(n):
    rng = np.random.default_rng(n)
    d = dr.Draws(rng.integers(0, 2**63, 5, dtype=np.int64).astype(np.uint64))
    d.step = 17
    run = rng.integers(0, 5, n)
    element = rng.integers(0, 10**7, n)
    expected = _reference_words(d, "site.a", run, element, 2)
    assert np.array_equal(d.words("site.a", run, element, 2), expected)
    unit = (expected >> dr._S11).astype(np.float64) * dr._TO_UNIT
    assert np.array_equal(d.uniform("site.a", run, element, 2), unit)
    # a scalar run and a 2-D element array hash the same way
    assert np.array_equal(
        d.uniform("site.a", 3, element.reshape(-1, 1)).ravel(),
        (_reference_words(d, "site.a", 3, element) >> dr._S11).astype(np.float64) * dr._TO_UNIT,
    )


def test_a_draw_does_not_depend_on_the_other_elements_drawn_with_it():
    d = dr.Draws(np.array([11, 12, 13], dtype=np.uint64))
    element = np.arange(2 * dr._BLOCK + 3)
    run = element % 3
    whole = d.uniform("s", run, element)
    picked = np.array([0, dr._BLOCK - 1, dr._BLOCK, 2 * dr._BLOCK + 2])
    assert np.array_equal(d.uniform("s", run[picked], element[picked]), whole[picked])
    assert np.array_equal(d.uniform("s", run[::-1], element[::-1]), whole[::-1])


def test_uniforms_are_uniform():
    u = dr.Draws(np.array([5], dtype=np.uint64)).uniform("s", 0, np.arange(200_000))
    assert u.min() >= 0.0 and u.max() < 1.0
    # 20 equal bins: chi-square with 19 df; 43.8 is its 0.999 quantile
    counts = np.bincount((u * 20).astype(int), minlength=20)
    expected = u.size / 20
    assert ((counts - expected) ** 2 / expected).sum() < 43.8
