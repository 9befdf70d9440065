"""The external funder: a budget schedule, shocks, and conditionality.

Johnson (2007): the Uganda-UK partnerships were "originally set up ... with
the support of European Union funding"; when it ended there was no money for
replication, and the donor's involvement pushed one partnership "towards
informal consultancy".  Reboot/OGP (2016) lists "lack of money" among the pain
points that sink communities of practice.  Spaces need money to meet: the
funder pays each space a budget per period (1.0 = the full cost of meeting),
and a shock cuts it by a share, stops it, or withholds it for a while.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from copsim.params import Params


@dataclass
class Funder:
    """The funding stream and its shock history."""

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
