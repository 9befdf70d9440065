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


@dataclass(eq=False)
class Funder:
    """The funding stream of each run and its shock history (ODD II.2 'Funder').

    The history is kept as what it does to the budget: a run's ``level`` (the
    funding level after every cut so far) and the period until which a stop or a
    delay holds the budget at 0 (``halted_until``; a stop holds for ever).
    """

    params: Params
    runs: int = 1
    level: np.ndarray = field(init=False)  # (K,) after cuts
    halted_until: np.ndarray = field(init=False)  # (K,) no money before this period
    shocks: list[tuple[int, int, str]] = field(default_factory=list)  # (run, period, kind)

    def __post_init__(self) -> None:
        self.level = np.full(self.runs, float(self.params.funding_level))
        self.halted_until = np.full(self.runs, -1, dtype=np.int64)

    def start(self, c: Community) -> None:
        """Each run's own funding level (it may differ within an ensemble)."""
        self.level = np.array(np.broadcast_to(c.value("funding_level"), (c.runs,)), dtype=float)

    def take(self, runs: np.ndarray) -> None:
        """Keep the funders of ``runs`` (compaction)."""
        self.runs = int(np.size(runs))
        self.level, self.halted_until = self.level[runs], self.halted_until[runs]
        self.shocks = []

    def strike(self, c: Community) -> np.ndarray:
        """(K,) which runs a shock strikes this period ('' for none): the scheduled
        shock at its period, else a random cut at ``random_shock_rate``."""
        p, period = self.params, c.step
        kind = np.full(self.runs, "", dtype=object)
        if p.shock_kind != "none" and period == p.shock_time:
            kind[:] = p.shock_kind
        else:
            rate = c.value("random_shock_rate")
            if np.any(np.asarray(rate) > 0):
                kind[c.u_runs("funding.random_shock") < rate] = "cut"
        struck = kind != ""
        if struck.any():
            cut = kind == "cut"
            self.level = np.where(cut, self.level * (1.0 - c.value("shock_severity")), self.level)
            until = {"stop": np.iinfo(np.int64).max, "delay": period + p.shock_duration}
            for name, end in until.items():  # two kinds, not a loop over runs
                self.halted_until = np.where(
                    kind == name, np.maximum(self.halted_until, end), self.halted_until
                )
            self.shocks.extend((int(r), period, str(kind[r])) for r in np.flatnonzero(struck))
        return kind

    def budget(self, period: int) -> np.ndarray:
        """(K,) funding per space this period, after every shock so far."""
        return np.where(period < self.halted_until, 0.0, self.level)


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
    offer = c.at_pairs("self_funding") * mb.participation * money[mb.slot]
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
    kind = c.funder.strike(c)
    for run in np.flatnonzero(kind != ""):  # only runs struck this period
        severity = c.at_runs("shock_severity", run)
        amount = {"cut": float(severity), "delay": float(p.shock_duration)}.get(kind[run])
        c.emit("shock", run=run, outcome=str(kind[run]), amount=amount)
    budget = c.layout.to_spaces(c.funder.budget(c.step))
    spaces.funds += np.where(spaces.alive, budget, 0.0)
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


def current_budget(c: Community) -> np.ndarray:
    """(K,) outside funding per space in the current period (nan when money is off)."""
    if not (c.social and c.params.funding):
        return np.full(c.runs, np.nan)
    return c.funder.budget(c.step)


def init(c: Community) -> None:
    c.funder.start(c)


def measures(c: Community, base: dict) -> dict[str, np.ndarray]:
    spaces, lay = c.spaces, c.layout
    return {
        "spaces_alive": lay.count_spaces(spaces.alive).astype(np.float64),
        "funds_total": lay.total_spaces(spaces.funds),
        "meeting_intensity": lay.mean_spaces(spaces.intensity, spaces.alive),
    }
