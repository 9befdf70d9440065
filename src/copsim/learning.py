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

    entry_beliefs: np.ndarray  # (K*N, m) int8: beliefs on entry
    entry_step: np.ndarray  # (K*N,) int: period of entry
    edge_start: np.ndarray  # (K*N,) bool: entered at the periphery or with low power
    reached_core: np.ndarray  # (K*N,) bool: has been core since entering
    edge_entrants: np.ndarray  # (K,) everyone who ever started at the edge (leavers too)
    edge_included: np.ndarray  # (K,) ... of whom reached the core
    tenure_at_core: np.ndarray  # (K,) sum of tenure at first reaching the core


def init(c: Community) -> None:
    people = c.people
    n = people.size
    c.own["learning"] = Ledger(
        entry_beliefs=people.beliefs.copy(),
        entry_step=np.zeros(n, dtype=np.int64),
        edge_start=np.zeros(n, dtype=bool),
        reached_core=np.zeros(n, dtype=bool),
        edge_entrants=np.zeros(c.runs, dtype=np.int64),
        edge_included=np.zeros(c.runs, dtype=np.int64),
        tenure_at_core=np.zeros(c.runs, dtype=np.int64),
    )


def compact(c: Community, runs: np.ndarray, slots: np.ndarray, spaces: np.ndarray) -> None:
    """Keep the ledger of ``runs`` only (their ``slots``)."""
    book = ledger(c)
    for name in ("entry_beliefs", "entry_step", "edge_start", "reached_core"):
        setattr(book, name, getattr(book, name)[slots])
    for name in ("edge_entrants", "edge_included", "tenure_at_core"):
        setattr(book, name, getattr(book, name)[runs])


def ledger(c: Community) -> Ledger:
    """The community's ledger."""
    return c.own["learning"]


def mark_edge(c: Community, edge: np.ndarray) -> None:
    """The founders who start at the edge (the starting cohort), once at set-up."""
    book = ledger(c)
    book.edge_start[:] = edge
    book.edge_entrants += c.layout.count(edge)


def on_arrive(c: Community, slots: np.ndarray) -> None:
    """A newcomer's learning starts now, from the beliefs it brings; every newcomer
    starts at the periphery, so it counts among those who start at the edge."""
    book = ledger(c)
    book.entry_beliefs[slots] = c.people.beliefs[slots]
    book.entry_step[slots] = c.step
    book.edge_start[slots] = c.social
    book.reached_core[slots] = False
    if c.social:
        book.edge_entrants += np.bincount(c.layout.run_of_slots(slots), minlength=c.runs)


def record_core(c: Community, core: np.ndarray) -> None:
    """Note who of those who started at the edge is core now for the first time."""
    book = ledger(c)
    fresh = core & book.edge_start & ~book.reached_core
    if fresh.any():
        book.reached_core |= fresh
        book.edge_included += c.layout.count(fresh)
        book.tenure_at_core += c.layout.total(c.people.tenure, fresh)


def measures(c: Community, base: dict) -> dict[str, float]:
    """Inclusion per person: of everyone who started at the periphery or with low
    power (founders and newcomers, leavers included), the share who reached the
    core, and the mean periods it took them (who reached the core is noted every
    period by ``copsim.measures.observe``)."""
    book = ledger(c)
    return {
        "inclusion": _ratio(book.edge_included, book.edge_entrants),
        "time_to_core": _ratio(book.tenure_at_core, book.edge_included),
        "edge_entrants": book.edge_entrants.astype(np.float64),
    }


def _ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """(K,) part / whole, 0 where whole is 0."""
    return np.where(whole > 0, part / np.maximum(whole, 1), 0.0)


@dataclass(frozen=True)
class Transitions:
    """Counts of participants' belief transitions since entry, summed over each run's
    participants: (K,) int arrays."""

    headroom: np.ndarray  # dimensions neither the participant nor the dominant view had right
    opened: np.ndarray  # ... of which the participant now has right
    distinct: np.ndarray  # dimensions where the entry belief differed from the view
    kept: np.ndarray  # ... of which it still differs (its own view was not replaced)
    conformed: np.ndarray  # moved to the dominant view (whether or not it is right)
    departed: np.ndarray  # held the dominant view at entry and moved away from it
    changed: np.ndarray  # dimensions changed at all


def transitions(
    entry: np.ndarray,
    now: np.ndarray,
    view: np.ndarray,
    reality: np.ndarray,
    run: np.ndarray,
    runs: int,
) -> Transitions:
    """Belief transitions of participants (rows) against the initial dominant view.

    ``entry`` and ``now`` are (k, m) beliefs of the same k participants at entry
    and now; ``view`` is (k, m), the initial dominant view each participant faces
    (its home space's powerful founders' view, 0 where that view is undecided);
    ``reality`` is (k, m), each participant's run's reality, and ``run`` (k,) its
    run.  Every count is symmetric under flipping the signs of reality, beliefs
    and views together.  Counts are per row, then summed per run.
    """
    right_now, right_then = now == reality, entry == reality
    view_right = view == reality
    decided = view != 0
    headroom = ~right_then & ~view_right
    distinct = decided & (entry != view)
    at_view = now == view

    def per_run(mask: np.ndarray) -> np.ndarray:
        # row counts by einsum over the bytes: exact, and a few times faster than
        # count_nonzero(axis=1) on short rows (this runs every recorded period)
        rows = np.einsum("ij->i", mask.view(np.uint8), dtype=np.int32, casting="unsafe")
        return np.bincount(run, weights=rows, minlength=runs).astype(np.int64)

    return Transitions(
        headroom=per_run(headroom),
        opened=per_run(headroom & right_now),
        distinct=per_run(distinct),
        kept=per_run(distinct & ~at_view),
        conformed=per_run(decided & at_view & (entry != view)),
        departed=per_run(decided & (entry == view) & ~at_view),
        changed=per_run(now != entry),
    )
