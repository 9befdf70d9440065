"""Resources spent: time and political capital as budgets (ODD II.7.19).

Reboot (2016), "Principle #1": the members' pain points are "1) Lack of time;
2) Lack of political will; 3) Lack of financial resources".  Johnson (2007),
"Communities of practice and development": peripheral and full participation
"depend on relations of power and control, including access to, control over
and use of resources".  With ``resource_budgets`` (default False) time and
political capital are spent, not only held: taking part uses up time (a
member's participation summed over its memberships x ``time_cost``), setting
the agenda (II.7.14) and contesting (II.7.7, through :func:`spend_capital`)
use up political capital.  Each period both first recover a share
(``time_recovery``, ``capital_recovery``) of the way back toward the
practitioner's endowment (what it brought, ``people.endowment``); the cost
and the recovery shares are each run's own (they may differ within an
ensemble).  Money is
spent and recovers as before (II.7.12).  Power stays fixed while a
practitioner is present (II.7.3): spent capital limits what it can still do,
not who it is.

Reads: ``people.endowment``, ``people.present``, memberships' participation,
``params.resource_budgets``; per run: time_cost, time_recovery, capital_recovery.
Writes: ``people.resources[:, 0]`` (time) and ``[:, 2]`` (political capital).
Measures (only with ``resource_budgets``): ``time_left``, ``capital_left``
(per run, the mean share of the endowment still held by those present).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from copsim.state import Community

#: Columns of ``people.resources``.
TIME, MONEY, CAPITAL = 0, 1, 2


def applies(params) -> bool:
    return params.resource_budgets


def spend_capital(c: Community, slots: np.ndarray, amount: np.ndarray | float) -> np.ndarray:
    """Practitioners in ``slots`` (global indices, any runs) spend ``amount`` of
    political capital (a scalar, or one per listed slot; a slot listed twice pays
    twice).  Nobody spends more than it has.

    Returns what each listed slot actually paid.  Does nothing (and returns zeros)
    when ``resource_budgets`` is off, so callers need not check the switch.
    """
    slots = np.asarray(slots, dtype=np.int64)
    wanted = np.broadcast_to(np.asarray(amount, dtype=float), slots.shape)
    if not c.params.resource_budgets or slots.size == 0:
        return np.zeros(slots.shape)
    capital = c.people.resources[:, CAPITAL]
    owed = np.bincount(slots, weights=wanted, minlength=capital.size)
    share = np.divide(
        np.minimum(owed, capital), owed, out=np.zeros_like(owed), where=owed > 0
    )  # the part of each slot's bill it can cover
    capital -= owed * share
    np.clip(capital, 0.0, 1.0, out=capital)
    return wanted * share[slots]


def time_spent(c: Community) -> np.ndarray:
    """Per slot: time used up this period, ``time_cost`` x participation summed over
    the practitioner's memberships (its run's ``time_cost``)."""
    mb = c.members
    return c.at_slots("time_cost") * mb.per_slot(mb.participation)


def step(c: Community) -> None:
    """Time and capital recover toward the endowment; then the time that taking part
    costs is spent (the participation stage reads what is left)."""
    people = c.people
    res, endowment = people.resources, people.endowment
    here = people.present
    time_back, capital_back = c.at_slots("time_recovery"), c.at_slots("capital_recovery")
    res[:, TIME] += time_back * (endowment[:, TIME] - res[:, TIME]) * here
    res[:, CAPITAL] += capital_back * (endowment[:, CAPITAL] - res[:, CAPITAL]) * here
    res[:, TIME] -= time_spent(c)
    np.clip(res[:, TIME], 0.0, 1.0, out=res[:, TIME])


def measures(c: Community, base: dict) -> dict[str, np.ndarray]:
    if not c.params.resource_budgets:
        return {}
    present = base["present"]
    res, endowment = c.people.resources, c.people.endowment

    def left(col: int) -> np.ndarray:
        """(K,) mean share of its endowment a present practitioner still holds (1 in a
        run where nobody is present: the keys of the record never depend on who is there)."""
        held = endowment[:, col]
        share = np.where(held > 0, res[:, col] / np.maximum(held, 1e-12), 1.0)
        return c.layout.mean(share, present, empty=1.0)

    return {"time_left": left(TIME), "capital_left": left(CAPITAL)}
