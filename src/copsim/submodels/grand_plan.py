"""Grand plan and outside expert (ODD II.7.16).

Johnson (2007), "Modelling traffic management": learning incrementally "was
undermined by the donor's desire to have a large scale grand plan", and "an
external consultant was brought in to develop it rather than the engineers
developing their own practical skills".  With ``grand_plan`` (and funding on)
an expert view is drawn once; each period each space, with probability
``conditionality``, has its members' votes replaced by the expert's.

Reads: ``params`` (expert_accuracy, conditionality), ``world.reality``.
Writes: the repertoire votes it is given; its own state, the expert's view.
Own state: ``c.own["grand_plan"]``, the expert view (m,) int8, drawn on first use;
untouched by arrivals and departures (the expert is not a member).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from copsim import knowledge as kn

if TYPE_CHECKING:
    from copsim.state import Community

#: Votes the outside expert casts per dimension (in units of member votes).
EXPERT_VOTES = 5.0


def applies(params) -> bool:
    return params.grand_plan and params.funding


def expert_view(c: Community) -> np.ndarray:
    """The expert's view of reality: each dimension right with ``expert_accuracy``."""
    if "grand_plan" not in c.own:
        right = kn.bernoulli(c.rng, c.params.expert_accuracy, c.world.reality.shape)
        c.own["grand_plan"] = np.where(right, c.world.reality, -c.world.reality).astype(np.int8)
    return c.own["grand_plan"]


def replace_votes(c: Community, votes: np.ndarray) -> np.ndarray:
    """Each space, with probability ``conditionality``, has its members' votes
    replaced by the expert's this period; returns which spaces (bool, (S,))."""
    view = expert_view(c)
    replaced = kn.bernoulli(c.rng, c.params.conditionality, (votes.shape[0],))
    votes[replaced] = EXPERT_VOTES * view
    return replaced
