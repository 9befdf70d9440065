"""Acting and scoring (Part I 7.3-7.4).

Everyone acts on its beliefs (a coin for each undecided dimension) and each
action is scored against reality; repertoire learning later in the period
uses these actions (taken before conversation and socialization, as in
March 1991), and legitimacy rewards the competence they show.

Reads: ``people.beliefs``, ``world.reality``.
Writes: ``period.actions``, ``period.action_scores``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from copsim import knowledge as kn

if TYPE_CHECKING:
    from copsim.state import Community


def step(c: Community) -> None:
    """Act on beliefs and score the actions."""
    c.period.actions = kn.act(c.people.beliefs, c.keyed("acting.coins"))
    c.period.action_scores = score_by_run(c, c.period.actions)


def score_by_run(c: Community, states: np.ndarray) -> np.ndarray:
    """(K*N,) each row's score against its own run's reality (a batched product)."""
    lay = c.layout
    by_run = lay.by_run(states).astype(np.float32)
    return kn.score(by_run, c.world.reality).reshape(-1)
