"""Initialization (ODD II.5, and Part I 5 with the social layer off).

Builds the :class:`copsim.state.Community` of K runs (an ensemble; one run for
``CoPModel``) from their parameters and run keys.  Every draw is keyed
(:mod:`copsim.draws`), so the order of the steps below does not matter to the
numbers: reality, beliefs, then (social layer on)
the founders' identities, purposes and resources, their constellations of
spaces and starting participation (by power rank: the powerful convenors start
nearer the core; see :func:`start_rank` for the power-in-start switches), and the convenors' agendas; then the starting cohort that
``inclusion`` follows and the baseline the outcome indices compare against.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from copsim import knowledge as kn
from copsim import learning, metrics, outcomes, schedule
from copsim import population as pop
from copsim.derived import Derived
from copsim.draws import Draws
from copsim.layout import Layout
from copsim.memberships import Memberships
from copsim.params import ENSEMBLE_VARYING, Params
from copsim.state import Community, People, Records, Spaces, World
from copsim.submodels import agendas, membership
from copsim.submodels.funding import Funder

#: Starting participation = START_BASE + START_BY_RANK x power rank (0..1) + noise.
START_BASE = 0.1
START_BY_RANK = 0.6
START_NOISE = 0.05
#: Founders in the lowest POWER_COHORT of power belong to the starting cohort.
POWER_COHORT = 1 / 3


def shared_and_varying(params: Sequence[Params]) -> tuple[Params, dict[str, np.ndarray]]:
    """The parameters an ensemble's runs share, and (K,) values of those that differ.

    Only names in ``ENSEMBLE_VARYING`` may differ; runs that differ in anything
    else (a size, a switch, a choice) cannot share arrays and are refused here
    (the sweep engine groups them into separate ensembles, :mod:`copsim.ensemble`).
    """
    first = params[0]
    if len(params) == 1:
        return first, {}
    dumps = [q.model_dump() for q in params]
    varying: dict[str, np.ndarray] = {}
    for name, value in dumps[0].items():
        values = [d[name] for d in dumps]
        if all(v == value for v in values[1:]):
            continue
        if name not in ENSEMBLE_VARYING:
            raise ValueError(
                f"an ensemble's runs must share {name!r} (got {sorted(set(map(repr, values)))});"
                " group runs by it"
            )
        varying[name] = np.asarray(values, dtype=np.float64)
    return first, varying


def build(params: Params | Sequence[Params], keys: Sequence[int] | np.ndarray) -> Community:
    """K communities at period 0, one per (parameters, run key), in one set of arrays.

    Every draw is keyed by (run key, site, local element) (:mod:`copsim.draws`), so
    each community is the same whether built alone or beside others.
    """
    params = [params] if isinstance(params, Params) else list(params)
    p, varying = shared_and_varying(params)
    keys = np.asarray(keys, dtype=np.uint64).reshape(-1)
    if keys.size != len(params):
        if len(params) != 1:
            raise ValueError(f"{len(params)} parameter sets for {keys.size} run keys")
        params = params * keys.size
    n_spaces = p.n_spaces if p.social_layer else 1
    layout = Layout(keys.size, p.n_practitioners, n_spaces, p.n_dimensions)
    c = Community(p, Draws(keys), layout, None, None, None, None, varying=varying)
    c.records = Records(runs=layout.runs)
    c.run_ids = np.arange(layout.runs)
    reality = _reality(c)
    beliefs = _initial_beliefs(c)
    tacit = np.zeros(p.n_dimensions, dtype=bool)
    if p.social_layer:
        tacit[: round(p.tacit_share * p.n_dimensions)] = True
    c.world = World(reality, tacit)
    c.people = _founders(c, beliefs)
    c.spaces = _empty_spaces(c, themes=c.people.purpose.shape[1])
    c.funder = Funder(p, layout.runs)
    c.derived = Derived(c.people, c.spaces, c.at_slots("power_asymmetry"), layout)
    for init in schedule.hooks("init"):
        init(c)
    c.on_leave, c.on_arrive = schedule.hooks("on_leave"), schedule.hooks("on_arrive")
    _found_spaces(c)
    people = c.people
    power = people.power
    low = layout.to_slots(np.quantile(layout.by_run(power), POWER_COHORT, axis=1))
    cohort = (c.derived.home_participation() < p.periphery_threshold) | (power <= low)
    people.mark_cohort(cohort, layout)
    learning.mark_edge(c, cohort if p.social_layer else np.zeros_like(cohort))
    c.baseline = outcomes.Baseline(
        beliefs=beliefs.copy(),
        diversity=metrics.belief_diversity_by_run(layout.by_run(beliefs)),
        powerful_view=outcomes.powerful_view(beliefs, power, c.members),
        codified=~tacit,
    )
    return c


def _reality(c: Community) -> np.ndarray:
    """(K, m) each run's reality: a fair coin per dimension (March rule 1)."""
    runs = np.arange(c.runs)
    bits = c.draws.bits("init.reality", runs, np.zeros(c.runs, dtype=np.int64), c.layout.dims)
    return (bits.astype(kn.BELIEF_DTYPE) << 1) - 1


def _initial_beliefs(c: Community) -> np.ndarray:
    """(K*N, m) naive beliefs: -1, 0, +1 with equal chance (March rule 2)."""
    u = c.u_cells("init.beliefs")
    return (np.floor(3.0 * u).astype(kn.BELIEF_DTYPE) - 1).reshape(-1, c.layout.dims)


def _founders(c: Community, beliefs: np.ndarray) -> People:
    """The founding practitioners (identity, purpose and resources drawn when the
    social layer is on; March's anonymous individuals when it is off)."""
    p, layout = c.params, c.layout
    n = layout.n_slots
    rates = np.array(np.broadcast_to(c.at_slots("socialization_rate"), (n,)), dtype=np.float64)
    slow = layout.local_slots(np.arange(n)) < round(p.slow_learner_share * layout.slots)
    rates[slow] = p.slow_socialization_rate
    if p.social_layer:
        founders = pop.draw_newcomers(c, np.arange(n), "init.founders")
        identity, purpose, resources = founders.identity, founders.purpose, founders.resources
    else:
        identity = np.zeros((n, 0), dtype=np.int16)
        purpose = np.ones((n, 1))
        resources = np.full((n, 3), 0.5)
    return People(
        beliefs=beliefs,
        socialization_rates=rates,
        identity=identity,
        purpose=purpose,
        resources=resources,
        power=pop.power_of(resources),
        income=resources[:, 1].copy(),
        identity_names=list(p.identity_dimensions) if p.social_layer else [],
        identity_levels=dict(p.identity_dimensions) if p.social_layer else {},
    )


def _empty_spaces(c: Community, themes: int) -> Spaces:
    """The learning spaces before anyone joins (one code for March's model).

    Spaces differ when the parameters say so (ODD II.2, II.7.5, II.7.13): a list per
    space, or a spread around the global value (a keyed uniform per space).
    """
    p, layout = c.params, c.layout
    n_spaces = layout.n_spaces
    members = Memberships(n_spaces, layout.n_slots)
    codes = np.zeros((n_spaces, p.n_dimensions), dtype=kn.BELIEF_DTYPE)
    agenda = np.full((n_spaces, themes), 1.0 / themes)
    if not p.social_layer:  # March: one code, always safe, nobody enters through it
        return Spaces(codes=codes, agenda=agenda, safety=np.ones(n_spaces), members=members)
    safety = _per_space(c, p.space_safety, "safety", p.safety_spread)
    permeability = _per_space(c, p.space_permeability, "permeability", p.permeability_spread)
    voice = None
    if p.space_voice_norm is not None:
        voice = np.tile(np.array(p.space_voice_norm, dtype=float), layout.runs)
    return Spaces(
        codes=codes,
        agenda=agenda,
        safety=safety,
        members=members,
        permeability=permeability,
        voice_norm=voice,
    )


def start_rank(c: Community, rank: np.ndarray) -> np.ndarray:
    """The power rank (0..1) that sets starting participation, by the power channel.

    Today (``power_in_start``) the rank itself, whatever the asymmetry.  With
    ``start_by_power_scaled`` the rank counts with weight b = a / (1 + a) and the
    mean rank 1/2 with weight 1 - b, so at asymmetry 0 power does not set the start
    and the mean start is the same at every asymmetry; without ``power_in_start``
    everyone starts at the mean rank (only the noise differs).
    """
    p = c.params
    if not p.power_in_start:
        return np.full_like(rank, 0.5)
    if p.start_by_power_scaled:
        a = c.at_slots("power_asymmetry")
        b = a / (1.0 + a)
        return b * rank + (1.0 - b) * 0.5
    return rank


def _per_space(c: Community, values: list[float] | None, name: str, spread: float) -> np.ndarray:
    """One value per space: the list if given (the same in every run), else the
    parameter ``name`` (uniformly within +-``spread`` of it, clipped to [0, 1], when
    the spread is positive)."""
    n = c.layout.n_spaces
    if values is not None:
        return np.tile(np.array(values, dtype=float), c.runs)
    common = np.array(np.broadcast_to(c.at_spaces(name), (n,)), dtype=np.float64)
    if spread > 0:
        u = c.u_spaces(f"init.{name}_spread")
        return np.clip(common + (2.0 * u - 1.0) * spread, 0.0, 1.0)
    return common


def _found_spaces(c: Community) -> None:
    """The founders' memberships, starting participation and the first agendas."""
    mb, people, layout = c.members, c.people, c.layout
    n = layout.n_slots
    if c.social:
        space, slot = membership.founding_memberships(c)
        by_run = layout.by_run(people.power)
        order = np.argsort(np.argsort(by_run, axis=1, kind="stable"), axis=1, kind="stable")
        rank = start_rank(c, order.reshape(-1) / max(layout.slots - 1, 1))
        noise = c.draws.normal("init.start", layout.slot_run, layout.local_slots(np.arange(n)))
        start = np.clip(START_BASE + START_BY_RANK * rank + START_NOISE * noise, 0, 1)
        mb.add(space, slot, start[slot], start[slot])
        agendas.set_from_convenors(c)
    else:  # March: one code, everyone a full member
        mb.add(layout.slot_run.copy(), np.arange(n), 1.0, 1.0)  # space k is run k's code
    c.spaces.founding_mass = np.maximum(mb.per_space(mb.participation), 1e-9)
