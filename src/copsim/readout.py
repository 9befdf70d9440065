"""What the teaching view, the sweep runner and analysts may read from a model.

``CoPModel`` (an ensemble of one, :mod:`copsim.ensemble`) inherits these
read-only accessors, each for its one community; together with Mesa's own
(``steps``, ``running``, ``agents``, ``datacollector``) and the model's
``params``, ``metrics``, ``label()`` and ``outcomes()`` they are the documented
contract (docs/architecture.md, "The read-only contract").  The view reads
nothing else: it never probes the model with ``getattr`` and never
re-derives a value the model computes (power weights, knowledge, who
challenged, the budget).  Arrays are the model's own: read them, copy them if
you keep them, never write to them.  Everything else lives in
``model.community`` (:class:`copsim.state.Community`), for submodels and tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from copsim import knowledge as kn
from copsim.events import Event
from copsim.submodels import contestation, funding, role_play

if TYPE_CHECKING:
    from copsim.state import Community


class Readout:
    """Read-only accessors over ``self.community`` (mixed into ``CoPModel``)."""

    community: Community

    # -- the world and the practitioners (one row per slot) ---------------------------
    @property
    def social(self) -> bool:
        """Whether the social layer is on (off: March's model)."""
        return self.community.social

    @property
    def reality(self) -> np.ndarray:
        """(m,) the state of the world, +-1."""
        return self.community.world.reality[0]

    @property
    def tacit(self) -> np.ndarray:
        """(m,) bool: tacit dimensions (never in a repertoire)."""
        return self.community.world.tacit

    @property
    def present(self) -> np.ndarray:
        """(N,) bool: the slot is occupied."""
        return self.community.people.present

    @property
    def beliefs(self) -> np.ndarray:
        """(N, m) beliefs -1/0/+1."""
        return self.community.people.beliefs

    @property
    def identity(self) -> np.ndarray:
        """(N, D) category codes on each identity dimension."""
        return self.community.people.identity

    @property
    def identity_names(self) -> list[str]:
        """The identity dimensions, in column order of ``identity``."""
        return self.community.people.identity_names

    @property
    def identity_levels(self) -> dict[str, list[str]]:
        """Category names of each identity dimension."""
        return self.community.people.identity_levels

    @property
    def purpose(self) -> np.ndarray:
        """(N, T) weights over the enterprise themes."""
        return self.community.people.purpose

    @property
    def power(self) -> np.ndarray:
        """(N,) power from resources (before the asymmetry exponent)."""
        return self.community.people.power

    @property
    def tenure(self) -> np.ndarray:
        """(N,) periods since entry."""
        return self.community.people.tenure

    @property
    def contested(self) -> np.ndarray:
        """(N,) bool: has challenged a repertoire (and is still here)."""
        return contestation.contested(self.community)

    @property
    def events(self) -> list[Event]:
        """Every typed event so far (copsim.events.Event)."""
        return self.community.records.events

    @property
    def exits(self) -> int:
        """Departures so far."""
        return int(self.community.records.exits[0])

    def voice_weights(self) -> np.ndarray:
        """(N,) voice: power relative to the present mean, raised to the asymmetry
        (1 for everyone present when the social layer is off), 0 for empty slots."""
        c = self.community
        if not c.social:
            return c.people.present.astype(np.float64)
        return c.derived.power_weights()

    def individual_knowledge(self) -> np.ndarray:
        """(N,) share of reality each slot believes right, net of errors, in [-1, 1]."""
        c = self.community
        return kn.knowledge(c.people.beliefs, c.world.reality[0]).astype(np.float64)

    def home_participation(self) -> np.ndarray:
        """(N,) participation in the home space (0 for non-members)."""
        return self.community.derived.home_participation()

    # -- learning spaces -------------------------------------------------------------
    @property
    def membership(self) -> np.ndarray:
        """(S, N) bool: who belongs to which space (a dense copy)."""
        return self.community.members.mask()

    @property
    def participation(self) -> np.ndarray:
        """(S, N) participation in each space, 0 outside it (a dense copy)."""
        mb = self.community.members
        return mb.dense(mb.participation)

    @property
    def legitimacy(self) -> np.ndarray:
        """(S, N) legitimacy granted in each space, 0 outside it (a dense copy)."""
        mb = self.community.members
        return mb.dense(mb.legitimacy)

    def alignment(self) -> np.ndarray:
        """(S, N) purpose-agenda fit of every member (0 outside a space)."""
        return self.community.members.dense(self.community.derived.fit())

    @property
    def codes(self) -> np.ndarray:
        """(S, m) each space's shared repertoire."""
        return self.community.spaces.codes

    @property
    def agenda(self) -> np.ndarray:
        """(S, T) each space's agenda."""
        return self.community.spaces.agenda

    @property
    def alive(self) -> np.ndarray:
        """(S,) bool: the space still meets."""
        return self.community.spaces.alive

    @property
    def intensity(self) -> np.ndarray:
        """(S,) how fully each space could meet this period."""
        return self.community.spaces.intensity

    @property
    def funds(self) -> np.ndarray:
        """(S,) money held by each space."""
        return self.community.spaces.funds

    @property
    def rigidity(self) -> np.ndarray:
        """(S,) how reified each repertoire is."""
        return self.community.spaces.rigidity

    def funding_budget(self) -> float:
        """Outside funding per space this period (nan when money is off)."""
        return float(funding.current_budget(self.community)[0])

    def role_play_active(self) -> bool:
        """Whether role play is on in the current period."""
        return role_play.active(self.community)


#: Everything the view and the sweep may read from a model: these accessors, Mesa's
#: and the facade's own (see docs/architecture.md).
CONTRACT: frozenset[str] = frozenset(
    {name for name in vars(Readout) if not name.startswith("_")}
    | {"steps", "running", "agents", "slot_agent", "datacollector", "step", "run"}
    | {"params", "metrics", "label", "outcomes", "stop_reason", "person_ids"}
)
