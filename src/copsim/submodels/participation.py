"""Participation: from periphery to core and back (ODD II.7.11).

Johnson (2007): "Potential participants can be rejected (or exclude
themselves)"; peripheral and full participation "depend on relations of power
and control, including access to, control over and use of resources".  Reboot
(2016) names "lack of time" first among the pain points.  Each membership's
participation moves toward a target set by the member's time, purpose fit,
legitimacy, recent learning and engagement, scaled by how fully the space can
meet and capped by the time the member has.

Reads: ``people.resources[:, 0]`` (time), ``people.gain``,
``people.engagement``, memberships' legitimacy, purpose fit (derived),
``spaces.intensity``, ``params.participation_adaptation``.
Writes: memberships' participation; re-decides home spaces.
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
    mb.participation += c.params.participation_adaptation * (target - mb.participation)
    np.clip(mb.participation, 0.0, 1.0, out=mb.participation)
    mb.decide_homes()
