"""The core-periphery picture's geometry: no layout algorithm, no random numbers.

Each learning space is drawn as a disc.  A member's distance from the centre
is ``1 - participation`` in that space (the core in the middle, the periphery
at the rim), so the picture *is* the data: nothing is optimised, nothing has
to be recomputed, and it costs one vectorised expression per frame at any
community size.  The angle is fixed for a person's lifetime: the golden angle
times the person's Mesa ``unique_id`` (arrival order), which spreads people
evenly round the disc and puts each newcomer in a new direction.
"""

from __future__ import annotations

import math

import numpy as np

#: Angle between consecutive arrivals (radians): the golden angle spreads them evenly.
GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
#: Radius of a fully participating member (kept off the exact centre so cores do not stack).
INNER = 0.06


def angles(ids: np.ndarray) -> np.ndarray:
    """Angle of each person on the disc (radians in [0, 2 pi))."""
    return np.mod(np.asarray(ids, dtype=np.float64) * GOLDEN_ANGLE, 2.0 * math.pi)


def radius(participation: np.ndarray) -> np.ndarray:
    """Distance from the centre: INNER for full participation, 1 for none."""
    p = np.clip(np.asarray(participation, dtype=np.float64), 0.0, 1.0)
    return INNER + (1.0 - INNER) * (1.0 - p)


def positions(ids: np.ndarray, participation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cartesian (x, y) of people with these ids and participation levels."""
    theta = angles(ids)
    r = radius(participation)
    return r * np.cos(theta), r * np.sin(theta)


def ring_radius(threshold: float) -> float:
    """Radius of the circle where participation equals ``threshold`` (core / periphery line)."""
    return float(radius(np.array([threshold]))[0])
