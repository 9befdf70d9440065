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

from copsim import knowledge as kn

if TYPE_CHECKING:
    from copsim.state import Community


def step(c: Community) -> None:
    """Act on beliefs and score the actions."""
    c.period.actions = kn.act(c.people.beliefs, c.rng)
    c.period.action_scores = kn.score(c.period.actions, c.world.reality)
