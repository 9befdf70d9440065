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
Own state (only in *wander* mode): ``c.own["agendas"]``, (K*N, T) the log of
each practitioner's own purpose, the centre of its walk; set on arrival.

In an ensemble each run moves its agendas at its own ``agenda_adaptation``,
pays its own ``agenda_capital_cost`` and drifts at its own ``purpose_drift``
(a run with drift 0 keeps its purposes, as a run alone does); voice weights
are relative to the run's own members.  The drift's noise is keyed by
(slot, theme) at the sites ``agendas.mix`` and ``agendas.wander``.
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


def compact(c: Community, runs: np.ndarray, slots: np.ndarray, spaces: np.ndarray) -> None:
    """Keep the walks' centres of the runs still going (their ``slots``)."""
    if "agendas" in c.own:
        c.own["agendas"] = c.own["agendas"][slots]


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
    resources.spend_capital(c, mb.slot, c.at_pairs("agenda_capital_cost") * share)


def theme_draws(c: Community, slots: np.ndarray, site: str, kind: str) -> np.ndarray:
    """(len(slots), T) keyed standard draws (``kind``: "exponential" or "normal"),
    one per (slot, theme), keyed by the slot's local index."""
    themes = c.people.purpose.shape[1]
    lay = c.layout
    run, local = lay.run_of_slots(slots), lay.local_slots(slots)
    element = (local[:, None] * themes + np.arange(themes)).reshape(-1)
    draw = getattr(c.draws, kind)(site, np.repeat(run, themes), element)
    return draw.reshape(slots.size, themes)


def _column(value: float | np.ndarray) -> float | np.ndarray:
    """A per-row value as a column (a scalar stays a scalar)."""
    return value[:, None] if np.ndim(value) else value


def mix(c: Community, slots: np.ndarray) -> np.ndarray:
    """Mix in flat Dirichlet noise, drawn as normalized exponentials (the same law),
    for the practitioners in ``slots``."""
    d = _column(c.at_slots("purpose_drift", slots))
    purpose = c.people.purpose[slots]
    noise = theme_draws(c, slots, "agendas.mix", "exponential")
    noise /= pop.row_sums(noise)[:, None]
    return (1 - d) * purpose + d * noise


def wander(c: Community, slots: np.ndarray) -> np.ndarray:
    """A log-normal step around the own purpose: log weights take a Gaussian step of
    variance ``purpose_drift`` and return a share ``WANDER_RETURN`` toward the own
    purpose's logs; renormalized to sum to 1.  No pull toward the simplex centre."""
    logs = np.log(np.maximum(c.people.purpose[slots], LOG_FLOOR))
    logs += WANDER_RETURN * (c.own["agendas"][slots] - logs)
    step_size = np.sqrt(_column(c.at_slots("purpose_drift", slots)))
    logs += step_size * theme_draws(c, slots, "agendas.wander", "normal")
    logs -= pop.row_maxima(logs)[:, None]  # for exp without overflow
    walked = np.exp(logs)
    return walked / pop.row_sums(walked)[:, None]


def drift(c: Community) -> None:
    """Purposes drift in the runs whose ``purpose_drift`` is positive (the others
    keep theirs)."""
    d = c.value("purpose_drift")
    if np.ndim(d) == 0:
        if d <= 0:
            return
        moving = c.people.present
    else:
        moving = c.layout.to_slots(np.asarray(d) > 0) & c.people.present
    # an empty slot's purpose is never read: a newcomer arrives with a fresh one
    # (People.arrive), so only those present drift (their draws are keyed by slot)
    slots = np.flatnonzero(moving)
    if slots.size == 0:
        return
    moved = wander(c, slots) if c.params.purpose_drift_mode == "wander" else mix(c, slots)
    if slots.size == c.layout.n_slots:
        c.people.set_purpose(moved)
    else:
        purpose = c.people.purpose.copy()
        purpose[slots] = moved
        c.people.set_purpose(purpose)


def step(c: Community) -> None:
    """Agendas follow voiced purposes (conversation as data); purposes drift."""
    p = c.params
    if p.conversation_as_data:
        weights = voice(c)
        voiced = weighted_mean_purpose(c, weights)
        c.spaces.move_agendas(slice(None), voiced, _column(c.at_spaces("agenda_adaptation")))
        if p.resource_budgets:
            pay_for_voice(c, weights)
    drift(c)
