"""What each participant learned during its own tenure, and who reached the core (ODD II.8).

Harris and Shelswell, as Johnson (2007) quotes them, call learning *expansive*
when "genuinely new ways of thinking and acting are opened up for
participants" and *defensive* when "what is being learned is mostly
supporting or reinforcing existing attitudes and strategies".  Both are about
the participants themselves, so this module keeps a ledger per practitioner
slot: the beliefs it held when it entered (a founder at the start, a newcomer
on arrival) and whether, since then, it has reached the core.  Learning is the
change of a participant's *own* beliefs since its entry; a leaver takes its
learning with it and a newcomer brings none, so turnover alone never reads as
learning.

Own state (``c.own["learning"]``, a :class:`Ledger`): entry beliefs and entry
step per slot; who started at the edge (at the periphery or with low power)
and who of them reached the core, with running totals over everyone who ever
entered, leavers included.  On arrival a slot's entry beliefs are the
newcomer's; nothing is reset on leaving, since the totals keep leavers.
Measures: ``inclusion``, ``time_to_core``, ``edge_entrants``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from copsim.state import Community


@dataclass(eq=False)
class Ledger:
    """Per-slot record of each participant's entry, plus running totals."""

    entry_beliefs: np.ndarray  # (N, m) int8: beliefs on entry
    entry_step: np.ndarray  # (N,) int: period of entry
    edge_start: np.ndarray  # (N,) bool: entered at the periphery or with low power
    reached_core: np.ndarray  # (N,) bool: has been core since entering
    edge_entrants: int = 0  # everyone who ever started at the edge (leavers included)
    edge_included: int = 0  # ... of whom reached the core
    tenure_at_core: int = 0  # sum of tenure at first reaching the core


def init(c: Community) -> None:
    people = c.people
    n = people.size
    c.own["learning"] = Ledger(
        entry_beliefs=people.beliefs.copy(),
        entry_step=np.zeros(n, dtype=np.int64),
        edge_start=np.zeros(n, dtype=bool),
        reached_core=np.zeros(n, dtype=bool),
    )


def ledger(c: Community) -> Ledger:
    """The community's ledger."""
    return c.own["learning"]


def mark_edge(c: Community, edge: np.ndarray) -> None:
    """The founders who start at the edge (the starting cohort), once at set-up."""
    book = ledger(c)
    book.edge_start[:] = edge
    book.edge_entrants += int(edge.sum())


def on_arrive(c: Community, slots: np.ndarray) -> None:
    """A newcomer's learning starts now, from the beliefs it brings; every newcomer
    starts at the periphery, so it counts among those who start at the edge."""
    book = ledger(c)
    book.entry_beliefs[slots] = c.people.beliefs[slots]
    book.entry_step[slots] = c.step
    book.edge_start[slots] = c.social
    book.reached_core[slots] = False
    if c.social:
        book.edge_entrants += int(np.size(slots))


def record_core(c: Community, core: np.ndarray) -> None:
    """Note who of those who started at the edge is core now for the first time."""
    book = ledger(c)
    fresh = core & book.edge_start & ~book.reached_core
    if fresh.any():
        book.reached_core |= fresh
        book.edge_included += int(fresh.sum())
        book.tenure_at_core += int(c.people.tenure[fresh].sum())


def measures(c: Community, base: dict) -> dict[str, float]:
    """Inclusion per person: of everyone who started at the periphery or with low
    power (founders and newcomers, leavers included), the share who reached the
    core, and the mean periods it took them."""
    record_core(c, base["core"])
    book = ledger(c)
    return {
        "inclusion": book.edge_included / book.edge_entrants if book.edge_entrants else 0.0,
        "time_to_core": book.tenure_at_core / book.edge_included if book.edge_included else 0.0,
        "edge_entrants": float(book.edge_entrants),
    }


@dataclass(frozen=True)
class Transitions:
    """Counts of participants' belief transitions since entry, summed over participants."""

    headroom: int  # dimensions neither the participant nor the dominant view had right
    opened: int  # ... of which the participant now has right
    distinct: int  # dimensions where the participant's entry belief differed from the view
    kept: int  # ... of which it still differs (its own view was not replaced)
    conformed: int  # moved to the dominant view (whether or not it is right)
    departed: int  # held the dominant view at entry and moved away from it
    changed: int  # dimensions changed at all


def transitions(
    entry: np.ndarray, now: np.ndarray, view: np.ndarray, reality: np.ndarray
) -> Transitions:
    """Belief transitions of participants (rows) against the initial dominant view.

    ``entry`` and ``now`` are (k, m) beliefs of the same k participants at entry
    and now; ``view`` is (k, m), the initial dominant view each participant faces
    (its home space's powerful founders' view, 0 where that view is undecided);
    ``reality`` is (m,).  Every count is symmetric under flipping the signs of
    reality, beliefs and views together.
    """
    right_now, right_then = now == reality, entry == reality
    view_right = view == reality
    decided = view != 0
    headroom = ~right_then & ~view_right
    distinct = decided & (entry != view)
    return Transitions(
        headroom=int(headroom.sum()),
        opened=int((headroom & right_now).sum()),
        distinct=int(distinct.sum()),
        kept=int((distinct & (now != view)).sum()),
        conformed=int((decided & (now == view) & (entry != view)).sum()),
        departed=int((decided & (entry == view) & (now != view)).sum()),
        changed=int((now != entry).sum()),
    )
