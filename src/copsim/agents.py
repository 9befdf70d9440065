"""The practitioner: one Mesa agent per person, whose state lives in the model's arrays.

A ``Practitioner`` owns a *slot*, a row index into the model's state arrays.
Its attributes are views or reads of those rows, so the model can update every
practitioner in one numpy operation while Mesa still sees one agent per person
(for ``model.agents``, agent reporters and the browser view).  When a
practitioner leaves, the agent is removed from the model and a newcomer agent
(with a new ``unique_id``) takes over the slot.  The model applies these
arrivals and departures to Mesa's registry in one pass whenever the agents are
looked at (see :meth:`copsim.model.CoPModel.sync_agents`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from copsim.model import CoPModel


class Practitioner(mesa.Agent):
    """A member of the community of practice (a row of the model's arrays)."""

    model: CoPModel

    def __init__(self, model: CoPModel, slot: int) -> None:
        super().__init__(model)
        self.slot = int(slot)

    # -- knowledge ----------------------------------------------------------------
    @property
    def beliefs(self) -> np.ndarray:
        """Belief vector over the dimensions of reality (a view: writes go to the model)."""
        return self.model.beliefs[self.slot]

    @property
    def knowledge(self) -> float:
        """Share of reality this practitioner believes correctly, net of errors."""
        m = self.model
        return float(m.beliefs[self.slot] @ m.reality.astype(np.int32)) / m.beliefs.shape[1]

    @property
    def socialization_rate(self) -> float:
        """p1 for this practitioner (slow learners have their own)."""
        return float(self.model.community.people.socialization_rates[self.slot])

    # -- the social person -----------------------------------------------------------
    @property
    def identity(self) -> dict[str, str]:
        """Category on each identity dimension, e.g. {'sector': 'donor', ...}."""
        m = self.model
        return {
            dim: m.identity_levels[dim][m.identity[self.slot, i]]
            for i, dim in enumerate(m.identity_names)
        }

    @property
    def purpose(self) -> np.ndarray:
        """Weights over the enterprise themes (a view)."""
        return self.model.purpose[self.slot]

    @property
    def power(self) -> float:
        """Power derived from resources (before the asymmetry exponent)."""
        return float(self.model.power[self.slot])

    @property
    def spaces(self) -> list[int]:
        """The learning spaces this practitioner belongs to."""
        return np.flatnonzero(self.model.membership[:, self.slot]).tolist()

    @property
    def participation(self) -> float:
        """Participation in the home space: 0 = outside, 1 = full core."""
        c = self.model.community
        k = c.derived.home_pairs()[self.slot]
        return float(c.members.participation[k]) if k >= 0 else 0.0

    @property
    def legitimacy(self) -> float:
        """Legitimacy granted in the home space."""
        c = self.model.community
        k = c.derived.home_pairs()[self.slot]
        return float(c.members.legitimacy[k]) if k >= 0 else 0.0

    @property
    def tenure(self) -> int:
        """Periods since joining."""
        return int(self.model.tenure[self.slot])

    def __repr__(self) -> str:
        return f"Practitioner(id={self.unique_id}, slot={self.slot})"
