"""Funding, meeting cost, self-funding and survival (ODD II.7.12).

Johnson (2007): the Uganda-UK partnerships "were dependent on external
funding, which was increasingly limited over time", with "the lack of
resources for replication"; Reboot/OGP (2016) lists "lack of financial
resources" among the pain points that sink communities of practice.  Spaces
need money to meet: the funder pays each alive space a budget per period
(1.0 = the full cost of meeting at founding strength), a shock cuts, stops or
delays it, and members top up a shortfall from their own money.

Reads: ``params`` (funding, funding_level, shock_*, random_shock_rate,
self_funding), ``spaces.alive``, memberships' participation,
``spaces.founding_mass``, ``people.income``.
Writes: ``spaces.funds``, ``spaces.intensity``, ``people.resources[:, 1]``
(money), the funder's shock history, ``spaces.alive`` (survival), events
``shock``.
Measures: ``spaces_alive``, ``funds_total``, ``meeting_intensity``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from copsim.params import Params

if TYPE_CHECKING:
    from copsim.state import Community

#: Share of the way spent money recovers toward a member's income each period.
MONEY_RECOVERY = 0.05
#: Participation below which a membership counts as inactive (space survival).
INACTIVE = 0.05
#: Engaged memberships a space needs to survive.
MIN_ENGAGED = 2


@dataclass
class Funder:
    """The funding stream and its shock history (ODD II.2 'Funder')."""

    params: Params
    shocks: list[tuple[int, str]] = field(default_factory=list)  # (period, kind)

    def strike(self, period: int, rng: np.random.Generator) -> str | None:
        """The shock that strikes this period, if any (scheduled or random)."""
        p = self.params
        kind = None
        if p.shock_kind != "none" and period == p.shock_time:
            kind = p.shock_kind
        elif p.random_shock_rate > 0 and rng.random() < p.random_shock_rate:
            kind = "cut"
        if kind is not None:
            self.shocks.append((period, kind))
        return kind

    def budget(self, period: int) -> float:
        """Funding per space this period, after every shock so far."""
        level = self.params.funding_level
        for start, kind in self.shocks:
            if kind == "cut":
                level *= 1.0 - self.params.shock_severity
            elif kind == "stop" or (
                kind == "delay" and period < start + self.params.shock_duration
            ):
                level = 0.0
        return level


def meeting_intensity(
    funds: np.ndarray, contributions: np.ndarray, cost: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """How fully each space can meet, and the funds left afterwards.

    A space spends what it has (external funds first, then members' own money)
    up to the cost of meeting; intensity is the share of the cost covered.
    Funds never go negative.
    """
    available = funds + contributions
    spend = np.minimum(available, cost)
    intensity = np.where(cost > 0, spend / np.where(cost > 0, cost, 1.0), 1.0)
    return np.clip(intensity, 0.0, 1.0), np.maximum(available - spend, 0.0)


def meeting_cost(c: Community) -> np.ndarray:
    """What a space needs this period: its participation relative to its founding
    level (1.0 = the founding community meeting fully).  A community that shrinks
    meets more cheaply, which is how it can recover on a smaller budget."""
    mb = c.members
    return mb.per_space(mb.participation) / c.spaces.founding_mass


def members_contribute(c: Community, shortfall: np.ndarray) -> np.ndarray:
    """Members pay part of a shortfall from their own money, which runs down
    and only slowly recovers toward their usual means (their income)."""
    people, mb = c.people, c.members
    money = people.resources[:, 1]
    money += MONEY_RECOVERY * (people.income - money) * people.present
    offer = c.params.self_funding * mb.participation * money[mb.slot]
    offered = mb.per_space(offer)
    contributions = np.minimum(shortfall, offered)
    share = contributions / np.where(offered > 0, offered, 1.0)
    money -= mb.per_slot(offer * share[mb.space])
    np.clip(money, 0.0, 1.0, out=money)
    return contributions


def step(c: Community) -> None:
    """Funding arrives (or a shock strikes); members top up what is missing; each
    space's meeting intensity is the share of its cost covered."""
    p, spaces = c.params, c.spaces
    if not p.funding:
        spaces.intensity = spaces.alive.astype(float)  # a dissolved space no longer meets
        return
    kind = c.funder.strike(c.step, c.rng)
    if kind is not None:
        amount = {"cut": p.shock_severity, "delay": float(p.shock_duration)}.get(kind)
        c.emit("shock", outcome=kind, amount=amount)
    spaces.funds += np.where(spaces.alive, c.funder.budget(c.step), 0.0)
    cost = np.where(spaces.alive, meeting_cost(c), 0.0)
    shortfall = np.maximum(cost - spaces.funds, 0.0)
    contributions = members_contribute(c, shortfall)
    intensity, spaces.funds = meeting_intensity(spaces.funds, contributions, cost)
    spaces.intensity = np.where(spaces.alive, intensity, 0.0)  # a dissolved space never meets


def survive(c: Community) -> None:
    """A space survives while two or more members still take part and it can meet;
    once dissolved it never meets again."""
    mb, spaces = c.members, c.spaces
    engaged = mb.per_space((mb.participation >= INACTIVE).astype(float))
    spaces.alive &= (engaged >= MIN_ENGAGED) & (spaces.intensity > INACTIVE)


def current_budget(c: Community) -> float:
    """Outside funding per space in the current period (nan when money is off)."""
    if not (c.social and c.params.funding):
        return float("nan")
    return float(c.funder.budget(c.step))


def measures(c: Community, base: dict) -> dict[str, float]:
    spaces = c.spaces
    return {
        "spaces_alive": float(spaces.alive.sum()),
        "funds_total": float(spaces.funds.sum()),
        "meeting_intensity": float(spaces.intensity[spaces.alive].mean())
        if spaces.alive.any()
        else 0.0,
    }
