"""Agendas and purposes: conversation as data and purpose drift (ODD II.7.14, II.7.2, II.5).

Reboot (2016), "Principle #2": "Treat the workshop conversations as data, and
use it to drive your programming going forward."  Johnson (2007),
"Conclusions": "purposes may not be the same between participants and may
also change over time".  Without conversation as data an agenda is what the
powerful convenors wanted at the start (II.5) and changes only through
accepted challenges; with it, each agenda moves toward the purposes the
members voice, weighted by voice (participation x power weight).  Purposes
drift by mixing in flat Dirichlet noise.

Reads: memberships' participation, power weights, ``people.purpose``,
``people.power``, ``params`` (conversation_as_data, agenda_adaptation,
purpose_drift, power_asymmetry).
Writes: ``spaces.agenda`` (through ``set_agendas`` / ``move_agendas``),
``people.purpose`` (through ``set_purpose``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from copsim import population as pop

if TYPE_CHECKING:
    from copsim.state import Community

#: The convenors' say in the founding agenda: power weight exponent = asymmetry + this.
CONVENOR_SHARPENING = 1.0


def weighted_mean_purpose(c: Community, weights: np.ndarray) -> np.ndarray:
    """Per space, the mean purpose of its members under per-membership weights
    (the current agenda for a space whose weights sum to 0)."""
    mb, agenda = c.members, c.spaces.agenda
    total = mb.per_space(weights)[:, None]
    voiced = mb.weighted_rows(weights, c.people.purpose)
    return np.where(total > 0, voiced / np.where(total > 0, total, 1.0), agenda)


def set_from_convenors(c: Community) -> None:
    """The founding agendas: what the powerful convenors want (power weights sharpened)."""
    people = c.people
    exponent = c.params.power_asymmetry + CONVENOR_SHARPENING
    w = pop.power_weights(people.power, people.present, exponent)
    c.spaces.set_agendas(weighted_mean_purpose(c, w[c.members.slot]))


def step(c: Community) -> None:
    """Agendas follow voiced purposes (conversation as data); purposes drift."""
    p, mb = c.params, c.members
    if p.conversation_as_data:
        voice = mb.participation * c.derived.power_weights()[mb.slot]
        voiced = weighted_mean_purpose(c, voice)
        c.spaces.move_agendas(slice(None), voiced, p.agenda_adaptation)
    if p.purpose_drift > 0:
        # flat Dirichlet noise, drawn as normalized exponentials (the same law)
        purpose = c.people.purpose
        noise = c.rng.standard_exponential(purpose.shape)
        noise /= pop.row_sums(noise)[:, None]
        c.people.set_purpose((1 - p.purpose_drift) * purpose + p.purpose_drift * noise)
