"""March's (1991) period, with the social layer off (ODD Part I, 7.1-7.5).

The knowledge core exactly as the batch replication (:mod:`copsim.march`)
computes it: turnover replaces individuals by naive newcomers in place,
everyone is socialized toward the one organizational code at rate p1, and the
code learns from the superior group (those whose actions beat the code) with
k = |net votes| and probability 1 - (1 - p2)^k.

Reads: ``params`` (turnover_rate, repertoire_learning_rate),
``people.socialization_rates``, ``period.actions``, ``period.action_scores``.
Writes: ``people.beliefs``, ``spaces.codes``, ``records.exits``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from copsim import knowledge as kn

if TYPE_CHECKING:
    from copsim.state import Community


def turnover_applies(params) -> bool:
    return params.turnover_rate > 0


def turnover(c: Community) -> None:
    """March turnover: each individual is replaced by a naive newcomer with
    probability p3; a new Mesa agent takes the slot at the next agent sync."""
    leaving = kn.replace_individuals(c.people.beliefs, c.params.turnover_rate, c.rng)
    slots = np.flatnonzero(leaving)
    c.people.renew(slots)
    for hook in c.on_arrive:  # a newcomer's learning starts from its naive beliefs
        hook(c, slots)
    c.records.exits += len(slots)


def socialize(c: Community) -> None:
    """Everyone learns from the code at its own rate p1 (March rule 5)."""
    people = c.people
    kn.socialize(people.beliefs, c.spaces.codes, people.socialization_rates[:, None], c.rng)


def learn_code(c: Community) -> None:
    """The code learns from the superior group's net votes (March rule 6)."""
    codes = c.spaces.codes
    weights = kn.superior_weights(c.period.action_scores, kn.score(codes, c.world.reality))
    votes = kn.net_votes(c.period.actions, weights)
    kn.learn_code(codes, votes, c.params.repertoire_learning_rate, c.rng)
