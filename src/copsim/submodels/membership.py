"""Exits, entry, turnover and champions (ODD II.7.13), and the founding constellations (II.5).

Johnson (2007): "some impetus was lost when some of the original personnel
moved on" (champions); Lave & Wenger's "continuity and displacement of
community members over time"; Reboot (2016), "Principle #1": "4) Staff
turnover".  Members leave more when their space cannot meet, when they have
withdrawn and when their purpose does not fit the agenda; empty places are
filled by newcomers at the periphery, admitted by each space's boundary.

On an ensemble every run leaves and fills its own slots with its own rates
(exit_rate, shock_exit_rate, entry_rate, permeability may differ between
runs); one call handles the slots of every run at once, and the hooks
``on_leave`` / ``on_arrive`` receive global slot indices of many runs.  Every
draw is keyed by the slot it is for (a newcomer's by the slot it takes, an
admission by the (space, slot) pair), with a site per place:
``membership.turnover`` (who turns over), ``membership.exit`` (who leaves),
``membership.vacancy`` (which empty slot is offered), and for the newcomers
of turnover / of the exits-and-entries stage ``membership.turnover_entry.*``
/ ``membership.entry.*`` (``.count`` and ``.order`` their constellation,
``.admit`` each space's admission, ``.identity`` / ``.purpose`` /
``.resources`` who they are, ``.beliefs`` their naive beliefs).

Reads: home spaces, participation and fit, centrality, ``spaces.intensity``,
``spaces.alive``, ``spaces.permeability``; per run exit_rate,
shock_exit_rate, entry_rate, permeability (when the spaces have no own
permeability); shared turnover_rate, champions_leave,
memberships_per_practitioner.
Writes: ``people`` (leave / arrive), memberships (dropped / added),
``records.exits`` (per run), events ``champions`` (per run); calls every
submodel's ``on_leave`` / ``on_arrive``.
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
    extra = c.draws.poisson(
        site + ".count", c.params.memberships_per_practitioner - 1.0, run, local
    )
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


def naive_beliefs(c: Community, slots: np.ndarray, site: str) -> np.ndarray:
    """(len(slots), m) naive beliefs for newcomers taking ``slots``: -1, 0, +1 with
    equal chance (March rule 2), one keyed uniform per (slot, dimension) cell, as the
    founders' beliefs are drawn (:mod:`copsim.initialization`)."""
    m = c.layout.dims
    flat = (np.asarray(slots, dtype=np.int64)[:, None] * m + np.arange(m)).reshape(-1)
    u = c.u_cells(site, flat)
    return (np.floor(3.0 * u).astype(kn.BELIEF_DTYPE) - 1).reshape(-1, m)


def leave(c: Community, slots: np.ndarray) -> None:
    """Practitioners in ``slots`` (global indices, any runs) leave every space;
    their slots empty."""
    slots = np.asarray(slots, dtype=np.int64)
    if slots.size == 0:
        return
    c.people.leave(slots)
    c.members.drop_slots(slots)
    for hook in c.on_leave:
        hook(c, slots)
    c.records.exits += np.bincount(c.layout.run_of_slots(slots), minlength=c.runs)


def seek_admission(
    c: Community, slots: np.ndarray, site: str = "membership.entry"
) -> tuple[np.ndarray, np.ndarray]:
    """Which spaces admit the newcomers who would take ``slots``: (space, newcomer)
    pairs, ``newcomer`` indexing ``slots``, in newcomer order.

    A newcomer seeks as many spaces as a founder belongs to and approaches its
    run's spaces in a random order; each alive space admits it with its own
    permeability (``spaces.permeability``; its run's ``permeability`` when the
    spaces have none), until it has joined as many as it sought.  So
    permeability decides *whether* newcomers get in, and a newcomer's
    constellation is the size of a founder's.  Kolb et al. (2002, in Johnson
    2007): a space's norms "define who is in and out".
    """
    slots = np.asarray(slots, dtype=np.int64)
    sought, order = constellations(c, slots, site)  # order: in which they approach
    chance = admission_chance(c, slots, order)
    s = order.shape[1]
    u = c.u_pairs(site + ".admit", order.reshape(-1), np.repeat(slots, s)).reshape(order.shape)
    admits = (u < chance) & c.spaces.alive[order]
    joined = admits & (np.cumsum(admits, axis=1) <= sought[:, None])
    newcomer, turn = np.nonzero(joined)
    return order[newcomer, turn], newcomer


def admission_chance(c: Community, slots: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The chance each approached space admits, per (newcomer, turn): the approached
    space's own permeability, or the newcomer's run's ``permeability`` when the
    spaces have none.  (A draw is the same uniform whichever way the chance is
    given, so equal per-space values admit exactly as the one value does.)"""
    own = c.spaces.permeability
    if own is None:
        value = np.asarray(c.at_slots("permeability", slots), dtype=np.float64)
        return np.broadcast_to(value[:, None] if value.ndim else value, order.shape)
    return own[order]


def enter(c: Community, slots: np.ndarray, site: str = "membership.entry") -> None:
    """Newcomers take empty ``slots`` (global indices, any runs) if a space admits
    them (else the slot stays empty).  ``site`` names the draws of this entry: one
    per place that lets people in, so a slot offered twice in a period meets new
    draws."""
    slots = np.sort(np.asarray(slots, dtype=np.int64))  # newcomer order = slot order
    if slots.size == 0:
        return
    space, newcomer = seek_admission(c, slots, site)
    if space.size == 0:
        return
    joined = np.unique(newcomer)  # a newcomer no space admits stays outside
    slots, newcomer = slots[joined], np.searchsorted(joined, newcomer)
    fresh = pop.draw_newcomers(c, slots, site)
    beliefs = naive_beliefs(c, slots, site + ".beliefs")
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
    leaving = people.present & (c.u_slots("membership.turnover") < c.params.turnover_rate)
    slots = np.flatnonzero(leaving)
    leave(c, slots)
    enter(c, slots, "membership.turnover_entry")


def exit_chance(c: Community) -> np.ndarray:
    """Per slot: exit_rate + shock_exit_rate (1 - home intensity)
    + INACTIVE_EXIT [withdrawn] + MISFIT_EXIT (1 - home fit), with its run's rates;
    a practitioner with no space meets nowhere (intensity 0) and fits no agenda (fit 0)."""
    d = c.derived
    pair = d.home_pairs()
    home = d.home_space()
    inactive = d.home_participation(pair) < INACTIVE
    misfit = 1.0 - at_home(d.fit(), pair, 0.0)
    # a practitioner with no space has nowhere to meet: intensity 0, not space 0's
    meets = np.where(pair >= 0, c.spaces.intensity[home], 0.0)
    chance = c.at_slots("exit_rate") + c.at_slots("shock_exit_rate") * (1.0 - meets)
    chance = chance + INACTIVE_EXIT * inactive
    chance += MISFIT_EXIT * misfit
    return chance


def champions(c: Community, leaving: np.ndarray) -> np.ndarray:
    """Champions leave: in each run as many leave as would have, but the most
    central (equal centrality: lower slot first) instead of those drawn."""
    lay = c.layout
    count = lay.count(leaving)  # (K,) leavers per run
    order = np.argsort(-lay.by_run(c.derived.centrality()), axis=1, kind="stable")
    position = np.empty_like(order)
    np.put_along_axis(position, order, np.arange(lay.slots)[None, :], axis=1)
    if c.records.keep_events:
        for run in np.flatnonzero(count):  # only runs where someone leaves
            c.emit("champions", run=run, amount=float(count[run]))
    return (position < count[:, None]).reshape(-1)


def step(c: Community) -> None:
    """Members leave (the most central first when champions leave); slots that
    were already empty are filled with probability entry_rate x mean intensity of
    the run's alive spaces."""
    p, people, spaces, lay = c.params, c.people, c.spaces, c.layout
    chance = exit_chance(c)
    leaving = people.present & (c.u_slots("membership.exit") < np.clip(chance, 0, 1))
    if p.champions_leave and leaving.any():
        leaving = champions(c, leaving)
    leave(c, np.flatnonzero(leaving))
    empty = ~people.present & ~leaving
    intensity = lay.mean_spaces(spaces.intensity, spaces.alive, empty=0.0)  # (K,)
    chance_in = lay.to_slots(c.value("entry_rate") * intensity)
    offered = empty & (c.u_slots("membership.vacancy") < chance_in)
    enter(c, np.flatnonzero(offered), "membership.entry")
