"""Contestation: peripheral members challenge the repertoire (ODD II.7.7).

Johnson (2007), "Participation and identity": the Bindura widows "went from
being excluded to being core participants through their contestation of the
assumptions being made by some members"; "inclusion was gained through
challenging the power relations"; Cornwall's "inevitability of conflict" "can
thus have both positive and negative outcomes".  A member at the periphery
whose purpose fits the agenda less than the typical member's may challenge.
In a safe space the challenge is accepted: the challenger gains legitimacy and
participation, the repertoire reopens contested dimensions, rigidity halves
and the agenda moves toward the challenger's purpose; in an unsafe one the
challenger is shut out of the space.

Reads: home spaces, participation and fit, ``spaces.safety``,
``spaces.codes``, ``people.beliefs``, ``people.purpose``, ``world.tacit``,
``params`` (periphery_threshold, contest_rate, renegotiation).
Writes: memberships (legitimacy, participation; drops the rejected),
``spaces.codes``, ``spaces.rigidity``, ``spaces.agenda``, ``period.changed``,
``records`` (counts, peripheral and change weights, repertoire changes),
events ``contest`` and ``exclusion``.
Own state: ``c.own["contestation"]``, (N,) bool: has challenged and is still
here; cleared when the practitioner leaves (a newcomer has not challenged).
Measures: ``contests``, ``contests_won``, ``contester_core_share``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from copsim import knowledge as kn
from copsim.derived import at_home

if TYPE_CHECKING:
    from copsim.state import Community

#: Share of the way to full legitimacy an accepted challenger gains.
LEGITIMACY_GAIN = 0.5
#: Participation an accepted challenger gains.
PARTICIPATION_GAIN = 0.3
#: Factor applied to the space's rigidity by an accepted challenge.
RIGIDITY_AFTER = 0.5
#: Share of the way the agenda moves toward an accepted challenger's purpose.
AGENDA_SHIFT = 0.2


def applies(params) -> bool:
    return params.contestation


def init(c: Community) -> None:
    c.own["contestation"] = np.zeros(c.people.size, dtype=bool)


def on_leave(c: Community, slots: np.ndarray) -> None:
    c.own["contestation"][slots] = False


def contested(c: Community) -> np.ndarray:
    """(N,) bool: who has challenged (and is still here)."""
    return c.own["contestation"]


def challengers(c: Community) -> np.ndarray:
    """The slots that challenge this period: peripheral members whose fit is below
    the median fit of all members, each with probability ``contest_rate``."""
    p, d = c.params, c.derived
    pair = d.home_pairs()
    part = d.home_participation(pair)
    fit = at_home(d.fit(), pair, 1.0)
    members = c.people.present & (pair >= 0)
    typical_fit = np.median(fit[members]) if members.any() else 1.0
    divergent = members & (part < p.periphery_threshold) & (fit < typical_fit)
    return np.flatnonzero(divergent & kn.bernoulli(c.rng, p.contest_rate, divergent.shape))


def step(c: Community) -> None:
    """Challenges are accepted with probability safety; the rest are rejected."""
    p, mb, spaces, people = c.params, c.members, c.spaces, c.people
    who = challengers(c)
    if who.size == 0:
        return
    pair = c.derived.home_pairs()
    home = c.derived.home_space()
    won = kn.bernoulli(c.rng, spaces.safety[home[who]], who.shape)
    contested(c)[who] = True
    c.records.counts["contests"] += int(who.size)
    c.records.counts["contests_won"] += int(won.sum())
    changed = np.zeros(spaces.size, dtype=np.int64)
    excluded = np.zeros(len(mb), dtype=bool)
    for slot, accepted in zip(who, won, strict=True):  # few challengers per period
        space, k = int(home[slot]), pair[slot]
        if accepted:
            mb.legitimacy[k] += LEGITIMACY_GAIN * (1.0 - mb.legitimacy[k])
            mb.participation[k] = min(1.0, mb.participation[k] + PARTICIPATION_GAIN)
            reopen = (spaces.codes[space] != people.beliefs[slot]) & ~c.world.tacit
            reopen &= kn.bernoulli(c.rng, p.renegotiation, reopen.shape)
            spaces.codes[space, reopen] = 0
            spaces.rigidity[space] *= RIGIDITY_AFTER
            changed[space] += int(reopen.sum())  # reopened: no knowledge brought, no credit
            spaces.move_agendas(space, people.purpose[slot], AGENDA_SHIFT)
        else:
            excluded[k] = True
        c.emit(
            "contest" if accepted else "exclusion",
            space=space,
            practitioner=int(slot),
            outcome="accepted" if accepted else "rejected",
            identity=describe(c, slot),
        )
    mb.keep(~excluded)  # the rejected are shut out of that space
    c.period.changed += changed
    c.records.repertoire_changes = int(c.period.changed.sum())


def describe(c: Community, slot: int) -> tuple[str, ...]:
    """The practitioner's category on each identity dimension."""
    people = c.people
    return tuple(
        people.identity_levels[dim][people.identity[slot, i]]
        for i, dim in enumerate(people.identity_names)
    )


def measures(c: Community, base: dict) -> dict[str, float]:
    counts = c.records.counts
    who = c.own.get("contestation")
    core = base["core"]
    return {
        "contests": float(counts["contests"]),
        "contests_won": float(counts["contests_won"]),
        "contester_core_share": float((who & core).sum() / who.sum())
        if who is not None and who.any()
        else 0.0,
    }
