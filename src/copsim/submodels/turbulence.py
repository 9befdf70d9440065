"""Turbulence: the reality the practice must fit drifts (Part I 7.2; ODD II.7.18).

Reboot (2016), the sixth pain point: "Rapidly changing institutional
environments".  Each period each dimension of reality flips with probability
``turbulence_rate`` (March 1991's p4).  Every run of an ensemble has its own
reality and its own rate; each (run, dimension) flips on its own keyed uniform
(site ``turbulence.flip``, element the dimension).

Reads: ``turbulence_rate`` (per run).  Writes: ``world.reality`` (K, m).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from copsim.state import Community


def applies(params) -> bool:
    return params.turbulence_rate > 0


def step(c: Community) -> None:
    """Flip dimensions of reality: each (run, dimension) with its run's rate."""
    reality = c.world.reality
    runs, m = reality.shape
    run = np.repeat(np.arange(runs), m)
    u = c.draws.uniform("turbulence.flip", run, np.tile(np.arange(m), runs)).reshape(runs, m)
    rate = np.asarray(c.value("turbulence_rate"), dtype=np.float64)
    flips = u < (rate[:, None] if rate.ndim else rate)
    reality[flips] *= -1
