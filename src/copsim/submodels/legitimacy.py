"""Legitimacy granted by the members of a space (ODD II.7.9).

Johnson (2007): in legitimate peripheral participation (Lave & Wenger 1991)
"practitioners and learners have to be accepted as legitimate participants";
Chambers (1997) on whose knowledge counts.  Each membership's legitimacy moves
toward a grant made of the competence the member showed, its standing (its own
relative power) and how like the space's members it is, each member's say in
that likeness weighted by power and participation.

Reads: ``period.action_scores``, power weights, memberships' participation,
``people.identity``, ``params`` (identity_weight, legitimacy_adaptation);
role play's factor.
Writes: memberships' legitimacy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from copsim import population as pop
from copsim.submodels import role_play

if TYPE_CHECKING:
    from copsim.state import Community

#: Weight of shown competence (vs standing) in the non-identity part of the grant.
COMPETENCE_SHARE = 0.5


def step(c: Community) -> None:
    """L moves a share ``legitimacy_adaptation`` toward the grant."""
    p, mb, people = c.params, c.members, c.people
    power_w = c.derived.power_weights()
    grantors = mb.participation * power_w[mb.slot]
    levels = [len(v) for v in people.identity_levels.values()]
    similar = pop.similarity_to_space(people.identity, mb.space, mb.slot, grantors, levels)
    competence = (c.period.action_scores / people.beliefs.shape[1] + 1.0) / 2.0
    w_id = p.identity_weight * role_play.factor(c)
    # the powerful grant themselves standing: a member's own relative power counts too
    standing = np.clip(power_w / (1.0 + power_w), 0.0, 1.0)
    shown = COMPETENCE_SHARE * competence + (1.0 - COMPETENCE_SHARE) * standing
    grant = (1 - w_id) * shown[mb.slot] + w_id * similar
    mb.legitimacy += p.legitimacy_adaptation * (grant - mb.legitimacy)
    np.clip(mb.legitimacy, 0.0, 1.0, out=mb.legitimacy)
