"""March's (1991) period, with the social layer off (ODD Part I, 7.1-7.5).

The knowledge core as the batch replication (:mod:`copsim.march`) computes
it: turnover replaces individuals by naive newcomers in place, everyone is
socialized toward the one organizational code at rate p1, and the code learns
from the superior group (those whose actions beat the code) with
k = |net votes| and probability 1 - (1 - p2)^k.

On an ensemble each run is one of March's organizations: run k's code is its
space k (one space per run), its superior group and net votes are counted
among its own N individuals only (a batched product per run), and every draw
is keyed (:mod:`copsim.draws`): the turnover draw by slot (``march.turnover``),
a newcomer's naive beliefs by its (slot, dimension) cells (``march.newcomer``),
socialization by belief cell (``march.socialize``) and code learning by code
cell (``march.learn_code``).

Reads: ``params.turnover_rate``, ``repertoire_learning_rate`` (per run),
``people.socialization_rates``, ``period.actions``, ``period.action_scores``,
``world.reality``.
Writes: ``people.beliefs``, ``spaces.codes``, ``records.exits``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from copsim import knowledge as kn
from copsim.submodels.membership import naive_beliefs

if TYPE_CHECKING:
    from copsim.state import Community


def turnover_applies(params) -> bool:
    return params.turnover_rate > 0


def turnover(c: Community) -> None:
    """March turnover: each individual is replaced by a naive newcomer with
    probability p3; a new Mesa agent takes the slot at the next agent sync."""
    people = c.people
    leaving = c.u_slots("march.turnover") < c.params.turnover_rate
    slots = np.flatnonzero(leaving)
    if slots.size:
        people.beliefs[slots] = naive_beliefs(c, slots, "march.newcomer")
    people.renew(slots)
    for hook in c.on_arrive:  # a newcomer's learning starts from its naive beliefs
        hook(c, slots)
    c.records.exits += np.bincount(c.layout.run_of_slots(slots), minlength=c.runs)


def _codes(c: Community) -> np.ndarray:
    """(K, 1, m) view of the codes: run k's one code (its space k)."""
    lay = c.layout
    return c.spaces.codes.reshape(lay.runs, lay.spaces, lay.dims)


def socialize(c: Community) -> None:
    """Everyone learns from its run's code at its own rate p1 (March rule 5)."""
    people, lay = c.people, c.layout
    kn.socialize(
        lay.by_run(people.beliefs),
        _codes(c),
        lay.by_run(people.socialization_rates)[..., None],
        c.keyed("march.socialize"),
    )


def learn_code(c: Community) -> None:
    """Each run's code learns from its superior group's net votes (March rule 6)."""
    lay = c.layout
    codes = _codes(c)  # (K, 1, m)
    code_scores = kn.score(codes, c.world.reality)  # (K, 1)
    weights = kn.superior_weights(lay.by_run(c.period.action_scores), code_scores)  # (K, 1, N)
    votes = kn.net_votes(lay.by_run(c.period.actions), weights)  # (K, 1, m)
    rate = np.asarray(c.at_spaces("repertoire_learning_rate"), dtype=np.float64)
    if rate.ndim:
        rate = rate.reshape(lay.runs, lay.spaces, 1)
    kn.learn_code(codes, votes, rate, c.keyed("march.learn_code", over="codes"))
