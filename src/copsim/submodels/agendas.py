"""Agendas and purposes: conversation as data and purpose drift (ODD II.7.14, II.7.2, II.5).

Reboot (2016), "Principle #2": "Treat the workshop conversations as data, and
use it to drive your programming going forward."  Johnson (2007),
"Conclusions": "purposes may not be the same between participants and may
also change over time".  Without conversation as data an agenda is what the
powerful convenors wanted at the start (II.5) and changes only through
accepted challenges; with it, each agenda moves toward the purposes the
members voice, weighted by voice (participation x power weight).

Purposes drift (``purpose_drift_mode``): *mix* (default) mixes in flat
Dirichlet noise, which pulls every purpose toward the centre of the simplex so
that purposes converge; *wander* is a log-normal random walk of each purpose
around the practitioner's own (entry) purpose, so purposes keep changing and
keep differing ("may not be the same ... and may also change over time").

Switches: ``power_in_agenda`` (default True): the convenors' agenda and the
voice weights use power; off, every member counts as an average member.
With ``resource_budgets``, voicing a purpose costs political capital in
proportion to one's share of the space's voice (II.7.19).

Reads: memberships' participation, power weights, ``people.purpose``,
``people.power``, ``params`` (conversation_as_data, agenda_adaptation,
purpose_drift, purpose_drift_mode, power_asymmetry, power_in_agenda,
resource_budgets, agenda_capital_cost).
Writes: ``spaces.agenda`` (through ``set_agendas`` / ``move_agendas``),
``people.purpose`` (through ``set_purpose``), political capital (through
``resources.spend_capital``).
Own state (only in *wander* mode): ``c.own["agendas"]``, (N, T) the log of each
practitioner's own purpose, the centre of its walk; set on arrival.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from copsim import population as pop
from copsim.submodels import resources

if TYPE_CHECKING:
    from copsim.state import Community

#: The convenors' say in the founding agenda: power weight exponent = asymmetry + this.
CONVENOR_SHARPENING = 1.0
#: Wander: share of the (log) distance back to the own purpose closed each period
#: (a memory of about 1 / WANDER_RETURN periods; keeps the walk from running to a corner).
WANDER_RETURN = 0.1
#: Smallest purpose weight whose log is taken (weights are positive but may underflow).
LOG_FLOOR = 1e-12


def init(c: Community) -> None:
    if c.params.purpose_drift_mode == "wander":
        c.own["agendas"] = np.log(np.maximum(c.people.purpose, LOG_FLOOR))


def on_arrive(c: Community, slots: np.ndarray) -> None:
    if "agendas" in c.own:
        c.own["agendas"][slots] = np.log(np.maximum(c.people.purpose[slots], LOG_FLOOR))


def weighted_mean_purpose(c: Community, weights: np.ndarray) -> np.ndarray:
    """Per space, the mean purpose of its members under per-membership weights
    (the current agenda for a space whose weights sum to 0)."""
    mb, agenda = c.members, c.spaces.agenda
    total = mb.per_space(weights)[:, None]
    voiced = mb.weighted_rows(weights, c.people.purpose)
    return np.where(total > 0, voiced / np.where(total > 0, total, 1.0), agenda)


def set_from_convenors(c: Community) -> None:
    """The founding agendas: what the powerful convenors want (power weights sharpened;
    without the agenda power channel, what the founders want on average)."""
    people = c.people
    exponent = (
        c.at_slots("power_asymmetry") + CONVENOR_SHARPENING if c.params.power_in_agenda else 0.0
    )
    w = pop.power_weights(c.layout, people.power, people.present, exponent)
    c.spaces.set_agendas(weighted_mean_purpose(c, w[c.members.slot]))


def voice(c: Community) -> np.ndarray:
    """Per membership: the member's voice in its space's agenda, P x w (P alone
    without the agenda power channel)."""
    mb = c.members
    if not c.params.power_in_agenda:
        return mb.participation.copy()
    return mb.participation * c.derived.power_weights()[mb.slot]


def pay_for_voice(c: Community, weights: np.ndarray) -> None:
    """Agenda-setting spends political capital: each member pays
    ``agenda_capital_cost`` x its share of its space's voice."""
    mb = c.members
    total = mb.per_space(weights)[mb.space]
    share = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    resources.spend_capital(c, mb.slot, c.params.agenda_capital_cost * share)


def mix(c: Community) -> np.ndarray:
    """Mix in flat Dirichlet noise, drawn as normalized exponentials (the same law)."""
    d, purpose = c.params.purpose_drift, c.people.purpose
    noise = c.rng.standard_exponential(purpose.shape)
    noise /= pop.row_sums(noise)[:, None]
    return (1 - d) * purpose + d * noise


def wander(c: Community) -> np.ndarray:
    """A log-normal step around the own purpose: log weights take a Gaussian step of
    variance ``purpose_drift`` and return a share ``WANDER_RETURN`` toward the own
    purpose's logs; renormalized to sum to 1.  No pull toward the simplex centre."""
    logs = np.log(np.maximum(c.people.purpose, LOG_FLOOR))
    logs += WANDER_RETURN * (c.own["agendas"] - logs)
    logs += np.sqrt(c.params.purpose_drift) * c.rng.standard_normal(logs.shape)
    logs -= logs.max(axis=1, keepdims=True)  # for exp without overflow
    walked = np.exp(logs)
    return walked / pop.row_sums(walked)[:, None]


def step(c: Community) -> None:
    """Agendas follow voiced purposes (conversation as data); purposes drift."""
    p = c.params
    if p.conversation_as_data:
        weights = voice(c)
        voiced = weighted_mean_purpose(c, weights)
        c.spaces.move_agendas(slice(None), voiced, p.agenda_adaptation)
        if p.resource_budgets:
            pay_for_voice(c, weights)
    if p.purpose_drift > 0:
        c.people.set_purpose(wander(c) if p.purpose_drift_mode == "wander" else mix(c))
