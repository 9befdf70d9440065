"""Socialization with reification pressure (ODD II.7.6).

Johnson (2007): the repertoire can be "laid down by core participants to
which those joining are expected to subscribe"; Lave & Wenger (1991) on
newcomers becoming old-timers.  Members learn the codified part of their home
space's repertoire by Part I's gradual rule, at a rate that grows with their
participation, with the pressure a rigid repertoire puts on newcomers, and
shrinks with power (receptiveness, switch ``power_in_receptiveness``) and during
role play.

In an ensemble (docs/engine.md) each member learns its own run's home code,
at its run's newcomer pressure and role play weight, with a keyed draw per
(slot, dimension) cell, so a run socializes the same alone or among others.

Reads: home spaces and participation, ``spaces.codes``, ``spaces.rigidity``,
``world.tacit``, ``people.tenure``, ``people.socialization_rates``,
receptiveness, ``params`` (newcomer_pressure, power_in_receptiveness; the
pressure per run); role play's factor (``role_play_identity_weight`` per run).
Writes: ``people.beliefs``.
Draw site: ``socialization.steps`` (per pulled cell).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from copsim import knowledge as kn
from copsim.submodels import role_play

if TYPE_CHECKING:
    from copsim.state import Community

#: Tenure (periods) during which a member counts as a newcomer for reification pressure.
NEWCOMER_TENURE = 10


def step(c: Community) -> None:
    """Members move toward their home repertoire, dimension by dimension."""
    home = c.derived.home_space()
    targets = np.take(c.spaces.codes, home, axis=0)  # np.take: much faster row gather
    targets[:, c.world.tacit] = 0  # tacit knowledge is never in a repertoire
    kn.socialize(c.people.beliefs, targets, rates(c)[:, None], c.keyed("socialization.steps"))


def rates(c: Community) -> np.ndarray:
    """Each slot's chance per pulled cell this period, in [0, 1] (0 for empty slots).

    Kept apart from the move itself so that the chance has one definition, read by
    the step and by ``benchmarks/bench_compiled.py``'s compiled variant of the move.
    """
    d, people = c.derived, c.people
    pair = d.home_pairs()
    home = d.home_space()
    newcomer = people.tenure < NEWCOMER_TENURE
    pressure = 1.0 + c.at_slots("newcomer_pressure") * c.spaces.rigidity[home] * newcomer
    chance = people.socialization_rates * d.home_participation(pair) * pressure
    chance *= d.receptiveness(c.params.power_in_receptiveness)
    if role_play.active(c):  # out of role, members explore rather than conform
        chance *= c.at_slots("role_play_identity_weight")
    return np.clip(chance * people.present, 0.0, 1.0)
