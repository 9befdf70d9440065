"""Turbulence: the reality the practice must fit drifts (Part I 7.2; ODD II.7.18).

Reboot (2016), the sixth pain point: "Rapidly changing institutional
environments".  Each period each dimension of reality flips with probability
``turbulence_rate`` (March 1991's p4).

Reads: ``params.turbulence_rate``.  Writes: ``world.reality``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from copsim import knowledge as kn

if TYPE_CHECKING:
    from copsim.state import Community


def applies(params) -> bool:
    return params.turbulence_rate > 0


def step(c: Community) -> None:
    """Flip dimensions of reality."""
    kn.shift_reality(c.world.reality, c.params.turbulence_rate, c.rng)
