"""Role play: members break out of their roles for a while (ODD II.7.15).

Reboot (2016), "Principle #3": "Break community members out of established
roles and mindsets"; asking participants to "role play" "resulted in greater
interaction".  During periods ``role_play_start`` <= t < ``role_play_start``
+ ``role_play_duration`` the felt identity distance in conversation, the
identity weight in legitimacy and the socialization rate are multiplied by
``role_play_identity_weight`` (out of role, members explore rather than
conform).  This module says *when* role play is on (the window is shared by
every run of an ensemble: they step together) and *by how much* (the factor
may differ per run); conversation, socialization and legitimacy apply it.

Reads: ``params`` (role_play, role_play_start, role_play_duration; per run:
role_play_identity_weight), the current period.  Writes: nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from copsim.state import Community

_NAME = "role_play_identity_weight"


def active(c: Community) -> bool:
    """Whether role play is on in the current period (the same for every run)."""
    p = c.params
    return (
        c.social
        and p.role_play
        and p.role_play_start <= c.step < p.role_play_start + p.role_play_duration
    )


def factor(c: Community, over: str | None = None, index: np.ndarray | None = None) -> Any:
    """The multiplier role play applies this period: 1.0 when it is off, else
    ``role_play_identity_weight``.

    A scalar when the runs share the weight; otherwise one value per element of
    ``over``: ``"slots"``, ``"spaces"`` or ``"pairs"`` (every element, or those
    at the global indices ``index`` for slots and spaces), or per run ((K,)) when
    ``over`` is None.  Callers multiplying a per-slot or per-membership quantity
    must say which.
    """
    if not active(c):
        return 1.0
    if over is None:
        return c.value(_NAME)
    if over == "slots":
        return c.at_slots(_NAME, index)
    if over == "spaces":
        return c.at_spaces(_NAME, index)
    if over == "pairs":
        return c.at_pairs(_NAME)
    raise ValueError(f"role play factor over {over!r}: slots, spaces, pairs or None")
