"""Legitimacy granted by the members of a space (ODD II.7.9).

Johnson (2007), "Communities of practice and development": in legitimate
peripheral participation (Lave & Wenger 1991) "newcomers interact with old
timers and then eventually become old timers"; "the process has to have a
legitimate character - i.e. practitioners and learners have to be accepted as
legitimate participants"; "the determinants of how peripheral and full
participation occur also depend on relations of power and control".  Chambers
(1997) on whose knowledge counts.  Each membership's legitimacy moves toward a
grant made of the competence the member showed, its standing (its own
relative power) and how like the space's members it is, each member's say in
that likeness weighted by power and participation.

Switches (ODD II.7.9):

- ``power_in_legitimacy`` (default True): grantors weigh by power and a
  member's own power is its standing; off, grantors weigh by participation only
  and everyone's standing is that of an average member (1/2).
- ``lpp_trajectory`` (default False): legitimacy *rises* only as fast as the
  space accepts the member, acceptance = ((1 - w'_id) + w'_id x similar) x
  min(1, w): the dissimilar and the weak are accepted slowly, so they stay at
  the edge for long (participation is capped by legitimacy, II.7.11); it
  falls at the usual rate.

In an ensemble the grant is per membership with each run's own
``identity_weight``, ``legitimacy_adaptation`` and role-play factor; power
weights (and so standing) are relative to the member's own run, and the
likeness is summed over the members of the member's own space.

Reads: ``period.action_scores``, power weights, memberships' participation,
``people.identity``, ``params`` (identity_weight, legitimacy_adaptation,
power_in_legitimacy, lpp_trajectory, role_play_identity_weight); whether role
play is on.
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


def acceptance(similar: np.ndarray, power_w: np.ndarray, w_id: float | np.ndarray) -> np.ndarray:
    """Per membership: how readily the space accepts the member, in [0, 1].

    The identity part follows the grant's own weighting (role play lowers it);
    a member weaker than average (w < 1) is accepted in proportion to its weight,
    one at least as strong as average is not held back by power.
    """
    return ((1.0 - w_id) + w_id * similar) * np.minimum(power_w, 1.0)


def identity_weight(c: Community) -> float | np.ndarray:
    """Per membership (a scalar when the runs share it): ``identity_weight`` times
    role play's factor (``role_play_identity_weight`` while role play is on)."""
    w_id = c.at_pairs("identity_weight")
    if role_play.active(c):
        w_id = w_id * c.at_pairs("role_play_identity_weight")
    return w_id


def step(c: Community) -> None:
    """L moves a share ``legitimacy_adaptation`` toward the grant (when rising under
    ``lpp_trajectory``, that share times the member's acceptance)."""
    p, mb, people = c.params, c.members, c.people
    # without the power channel everyone present counts as an average member
    power_w = c.derived.power_weights() if p.power_in_legitimacy else people.present * 1.0
    grantors = mb.participation * power_w[mb.slot]
    levels = [len(v) for v in people.identity_levels.values()]
    similar = pop.similarity_to_space(people.identity, mb.space, mb.slot, grantors, levels)
    competence = (c.period.action_scores / people.beliefs.shape[1] + 1.0) / 2.0
    w_id = identity_weight(c)
    # the powerful grant themselves standing: a member's own relative power counts too
    standing = np.clip(power_w / (1.0 + power_w), 0.0, 1.0)
    shown = COMPETENCE_SHARE * competence + (1.0 - COMPETENCE_SHARE) * standing
    grant = (1 - w_id) * shown[mb.slot] + w_id * similar
    rate = c.at_pairs("legitimacy_adaptation")
    if p.lpp_trajectory:
        accepted = acceptance(similar, power_w[mb.slot], w_id)
        rate = np.where(grant > mb.legitimacy, rate * accepted, rate)
    mb.legitimacy += rate * (grant - mb.legitimacy)
    np.clip(mb.legitimacy, 0.0, 1.0, out=mb.legitimacy)
