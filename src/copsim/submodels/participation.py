"""Participation: from periphery to core and back (ODD II.7.11).

Johnson (2007): "Potential participants can be rejected (or exclude
themselves)"; peripheral and full participation "depend on relations of power
and control, including access to, control over and use of resources".  Reboot
(2016) names "lack of time" first among the pain points.  Each membership's
participation moves toward a target set by the member's time, purpose fit,
legitimacy, recent learning and engagement, scaled by how fully the space can
meet and capped by the time the member has.  In an ensemble every quantity is
per membership (each run's own ``participation_adaptation``) and the measures
are per run.

With ``lpp_trajectory`` (default False) the periphery is a position, not a
waiting room: Johnson (2007), after Lave & Wenger, "practitioners and learners
have to be accepted as legitimate participants", and how "peripheral and full
participation occur also depend[s] on relations of power and control".  The
target is also capped by the membership's legitimacy (a member cannot take
part more than the space lets it), so the way to the core runs through the
slow granting of legitimacy (II.7.9), and the weak and the dissimilar can stay
at the edge however much they want to take part.

Reads: ``people.resources[:, 0]`` (time), ``people.gain``,
``people.engagement``, memberships' legitimacy, purpose fit (derived),
``spaces.intensity``, ``params`` (participation_adaptation, lpp_trajectory,
core_threshold, periphery_threshold).
Writes: memberships' participation; re-decides home spaces.
Measures (only with ``lpp_trajectory``, so today's record keeps its columns):
``periphery_share_tenured`` (share of members with ``TENURED`` or more periods
of tenure whose home participation is peripheral) and
``periphery_share_newcomers`` (the same for tenure below ``TENURED``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from copsim.state import Community

#: Weight of a member's time in the drive to take part.
TIME_WEIGHT = 0.15
#: Weight of purpose fit with the space's agenda.
FIT_WEIGHT = 0.35
#: Weight of the legitimacy the space grants.
LEGITIMACY_WEIGHT = 0.4
#: Drive everyone has, whatever else holds.
BASE_DRIVE = 0.1
#: Extra drive per unit share of dimensions learned in conversation (at most GAIN_CAP).
GAIN_WEIGHT = 2.0
GAIN_CAP = 0.2
#: Weight of last period's engagement (purpose similarity with the partner).
ENGAGEMENT_WEIGHT = 0.2
#: Participation a member can give with no time at all (the cap is this + time).
TIME_CAP_BASE = 0.2
#: Periods of tenure from which a member counts as tenured (no longer a newcomer).
TENURED = 10


def step(c: Community) -> None:
    """Members move toward the participation their resources and standing allow;
    then home spaces are re-decided from the new participation."""
    mb, people = c.members, c.people
    time = np.take(people.resources[:, 0], mb.slot)
    drive = (
        TIME_WEIGHT * time
        + FIT_WEIGHT * c.derived.fit()
        + LEGITIMACY_WEIGHT * mb.legitimacy
        + BASE_DRIVE
    )
    drive += (
        np.minimum(GAIN_WEIGHT * people.gain[mb.slot], GAIN_CAP)
        + ENGAGEMENT_WEIGHT * people.engagement[mb.slot]
    )
    target = c.spaces.intensity[mb.space] * np.clip(drive, 0.0, 1.0)
    target = np.minimum(target, TIME_CAP_BASE + time)  # no more engagement than time allows
    if c.params.lpp_trajectory:  # no more than the space lets a member take part
        target = np.minimum(target, mb.legitimacy)
    mb.participation += c.at_pairs("participation_adaptation") * (target - mb.participation)
    np.clip(mb.participation, 0.0, 1.0, out=mb.participation)
    mb.decide_homes()


def periphery_measures(c: Community, base: dict) -> dict[str, np.ndarray]:
    """Who is at the edge, by tenure (per run): the periphery as a lasting position
    shows up as tenured members who are still peripheral."""
    people, lay = c.people, c.layout
    peripheral = base["part_home"] < c.params.periphery_threshold
    tenured = base["present"] & (people.tenure >= TENURED)
    fresh = base["present"] & (people.tenure < TENURED)

    def share(group: np.ndarray) -> np.ndarray:
        return lay.count(peripheral & group) / np.maximum(lay.count(group), 1)

    return {
        "periphery_share_tenured": share(tenured).astype(np.float64),
        "periphery_share_newcomers": share(fresh).astype(np.float64),
    }


def measures(c: Community, base: dict) -> dict[str, np.ndarray]:
    """The periphery measures, recorded when the trajectory switch is on."""
    return periphery_measures(c, base) if c.params.lpp_trajectory else {}
