"""Typed events: what happened in a period, as data.

The model records an :class:`Event` for each thing a teacher may want to point
at (a funding shock, a challenge accepted or rejected, champions leaving).
Events carry data only (step, kind, space, practitioner slot, outcome, an
amount, the challenger's identity); the teaching view turns them into prose
(:mod:`copsim.viz.events`), so nothing ever parses text.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The kinds of event the model records, with what their fields mean.
KINDS: dict[str, str] = {
    "shock": "a funding shock: outcome = cut / stop / delay; amount = severity or duration",
    "contest": (
        "a challenge accepted: space, practitioner (slot), identity of the challenger; "
        "outcome = accepted (a member) / admitted (a non-member, who joins the space at "
        "the edge); amount = the acceptance probability (bindura rule only)"
    ),
    "exclusion": (
        "a challenge rejected: outcome = rejected (a member, shut out of that space) / "
        "silenced (a non-member, who may not challenge again for a while); amount = the "
        "acceptance probability (bindura rule only)"
    ),
    "champions": "the most central members left instead of the exits drawn: amount = how many",
}


@dataclass(frozen=True)
class Event:
    """One event of one period."""

    step: int
    kind: str
    run: int = 0  # the community it happened in (its index in the ensemble)
    space: int | None = None
    practitioner: int | None = None  # the slot of the practitioner it is about
    outcome: str | None = None
    amount: float | None = None
    identity: tuple[str, ...] = ()  # the practitioner's categories, one per dimension
