"""Exits, entry, turnover and champions (ODD II.7.13), and the founding constellations (II.5).

Johnson (2007): "some impetus was lost when some of the original personnel
moved on" (champions); Lave & Wenger's "continuity and displacement of
community members over time"; Reboot (2016), "Principle #1": "4) Staff
turnover".  Members leave more when their space cannot meet, when they have
withdrawn and when their purpose does not fit the agenda; empty places are
filled by newcomers at the periphery, admitted by each space's boundary.

Reads: home spaces, participation and fit, centrality, ``spaces.intensity``,
``spaces.alive``, ``params`` (exit_rate, shock_exit_rate, entry_rate,
permeability, turnover_rate, champions_leave, memberships_per_practitioner).
Writes: ``people`` (leave / arrive), memberships (dropped / added),
``records.exits``, events ``champions``; calls every submodel's
``on_leave`` / ``on_arrive``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from copsim import knowledge as kn
from copsim import population as pop
from copsim.derived import at_home

if TYPE_CHECKING:
    from copsim.state import Community

#: Participation below which a member counts as withdrawn (more likely to leave).
INACTIVE = 0.05
#: Extra exit chance per period of a withdrawn member.
INACTIVE_EXIT = 0.1
#: Extra exit chance per period per unit of purpose misfit with the home agenda.
MISFIT_EXIT = 0.05
#: Participation and legitimacy with which a newcomer starts (the periphery).
NEWCOMER_START = 0.1


def constellations(c: Community, slots: np.ndarray, site: str) -> tuple[np.ndarray, np.ndarray]:
    """For the people taking ``slots``: how many spaces each seeks (1 + Poisson(mean
    - 1), at most the number of spaces) and a random order of its run's spaces (global
    space indices), one row per person; keyed by slot."""
    lay = c.layout
    s = lay.spaces
    run, local = lay.run_of_slots(slots), lay.local_slots(slots)
    extra = c.draws.poisson(site + ".count", c.params.memberships_per_practitioner - 1.0, run, local)
    element = (local[:, None] * s + np.arange(s)).reshape(-1)
    keys = c.draws.uniform(site + ".order", np.repeat(run, s), element).reshape(-1, s)
    order = np.argsort(keys, axis=1) + lay.first_space(run)[:, None]
    return np.minimum(1 + extra, s), order


def founding_memberships(c: Community) -> tuple[np.ndarray, np.ndarray]:
    """The founders' (space, slot) memberships: each joins its constellation.

    Pairs come grouped by space, in slot order within a space (runs in order)."""
    lay = c.layout
    count, order = constellations(c, np.arange(lay.n_slots), "init.constellation")
    ranks = np.argsort(order - lay.first_space(lay.slot_run)[:, None], axis=1)
    joins = ranks < count[:, None]  # (K*N, S): slot joins its run's local space
    local_space, slot = np.nonzero(lay.by_run(joins).transpose(0, 2, 1).reshape(-1, lay.slots))
    # rows of the (K*S, N) view are global spaces; columns are local slots
    space = local_space
    return space, lay.first_slot(lay.run_of_spaces(space)) + slot


def leave(c: Community, slots: np.ndarray) -> None:
    """Practitioners in ``slots`` leave every space; their slots empty."""
    if slots.size == 0:
        return
    c.people.leave(slots)
    c.members.drop_slots(slots)
    for hook in c.on_leave:
        hook(c, slots)
    c.records.exits += int(slots.size)


def seek_admission(c: Community, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Which spaces admit each of ``k`` newcomers: (space, newcomer) pairs.

    A newcomer seeks as many spaces as a founder belongs to and approaches the
    spaces in a random order; each alive space admits it with its own
    permeability (``spaces.permeability``; the global ``permeability`` when the
    spaces are alike), until it has joined as many as it sought.  So
    permeability decides *whether* newcomers get in, and a newcomer's
    constellation is the size of a founder's.  Kolb et al. (2002, in Johnson
    2007): a space's norms "define who is in and out".
    """
    sought, order = constellations(c, k)  # order: in which they approach
    chance = admission_chance(c, order)
    admits = kn.bernoulli(c.rng, chance, (k, c.spaces.size)) & c.spaces.alive[order]
    joined = admits & (np.cumsum(admits, axis=1) <= sought[:, None])
    newcomer, turn = np.nonzero(joined)
    return order[newcomer, turn], newcomer


def admission_chance(c: Community, order: np.ndarray) -> float | np.ndarray:
    """The chance each approached space admits: one number when every space has the
    same permeability (the draws are then those of a single global value), else the
    approached space's own permeability per (newcomer, turn)."""
    own = c.spaces.permeability
    if own is None:
        return c.params.permeability
    if own.size == 0 or np.all(own == own[0]):
        return float(own[0]) if own.size else c.params.permeability
    return own[order]


def enter(c: Community, slots: np.ndarray) -> None:
    """Newcomers take empty ``slots`` if a space admits them (else the slot stays empty)."""
    if slots.size == 0:
        return
    space, newcomer = seek_admission(c, slots.size)
    if space.size == 0:
        return
    joined = np.unique(newcomer)  # a newcomer no space admits stays outside
    slots, newcomer = slots[joined], np.searchsorted(joined, newcomer)
    fresh = pop.draw_newcomers(c.rng, c.params, slots.size)
    beliefs = kn.draw_beliefs(c.rng, (slots.size, c.people.beliefs.shape[1]))
    c.people.arrive(slots, fresh, beliefs)
    c.members.add(space, slots[newcomer], NEWCOMER_START, NEWCOMER_START)
    for hook in c.on_arrive:
        hook(c, slots)


def turnover_applies(params) -> bool:
    return params.turnover_rate > 0


def turnover(c: Community) -> None:
    """Each present practitioner leaves with ``turnover_rate``; each slot is
    offered at once to a newcomer."""
    people = c.people
    leaving = people.present & kn.bernoulli(c.rng, c.params.turnover_rate, people.present.shape)
    slots = np.flatnonzero(leaving)
    leave(c, slots)
    enter(c, slots)


def exit_chance(c: Community) -> np.ndarray:
    """Per slot: exit_rate + shock_exit_rate (1 - home intensity)
    + INACTIVE_EXIT [withdrawn] + MISFIT_EXIT (1 - home fit); a practitioner with no
    space meets nowhere (intensity 0) and fits no agenda (fit 0)."""
    p, d = c.params, c.derived
    pair = d.home_pairs()
    home = d.home_space()
    inactive = d.home_participation(pair) < INACTIVE
    misfit = 1.0 - at_home(d.fit(), pair, 0.0)
    # a practitioner with no space has nowhere to meet: intensity 0, not space 0's
    meets = np.where(pair >= 0, c.spaces.intensity[home], 0.0)
    chance = p.exit_rate + p.shock_exit_rate * (1.0 - meets) + INACTIVE_EXIT * inactive
    chance += MISFIT_EXIT * misfit
    return chance


def step(c: Community) -> None:
    """Members leave (the most central first when champions leave); slots that
    were already empty are filled with probability entry_rate x mean intensity."""
    p, people, spaces = c.params, c.people, c.spaces
    chance = exit_chance(c)
    leaving = people.present & kn.bernoulli(c.rng, np.clip(chance, 0, 1), chance.shape)
    if p.champions_leave and leaving.any():
        top = np.argsort(-c.derived.centrality(), kind="stable")[: int(leaving.sum())]
        leaving = np.zeros_like(leaving)
        leaving[top] = True
        c.emit("champions", amount=float(top.size))
    leave(c, np.flatnonzero(leaving))
    empty = ~people.present & ~leaving
    chance_in = (
        p.entry_rate * float(spaces.intensity[spaces.alive].mean()) if spaces.alive.any() else 0.0
    )
    enter(c, np.flatnonzero(empty & kn.bernoulli(c.rng, chance_in, empty.shape)))
