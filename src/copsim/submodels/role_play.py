"""Role play: members break out of their roles for a while (ODD II.7.15).

Reboot (2016), "Principle #3": "Break community members out of established
roles and mindsets"; asking participants to "role play" "resulted in greater
interaction".  During periods ``role_play_start`` <= t < ``role_play_start``
+ ``role_play_duration`` the felt identity distance in conversation, the
identity weight in legitimacy and the socialization rate are multiplied by
``role_play_identity_weight`` (out of role, members explore rather than
conform).  This module says *when* role play is on; conversation,
socialization and legitimacy apply its factor.

Reads: ``params.role_play*``, the current period.  Writes: nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from copsim.state import Community


def active(c: Community) -> bool:
    """Whether role play is on in the current period."""
    p = c.params
    return (
        c.social
        and p.role_play
        and p.role_play_start <= c.step < p.role_play_start + p.role_play_duration
    )


def factor(c: Community) -> float:
    """The multiplier role play applies this period (1 when it is off)."""
    return c.params.role_play_identity_weight if active(c) else 1.0
