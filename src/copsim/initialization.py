"""Initialization (ODD II.5, and Part I 5 with the social layer off).

Builds the :class:`copsim.state.Community` for a parameter set from one random
generator, in a fixed order of draws: reality, beliefs, then (social layer on)
the founders' identities, purposes and resources, their constellations of
spaces and starting participation (by power rank: the powerful convenors start
nearer the core; see :func:`start_rank` for the power-in-start switches), and the convenors' agendas; then the starting cohort that
``inclusion`` follows and the baseline the outcome indices compare against.
"""

from __future__ import annotations

import numpy as np

from copsim import knowledge as kn
from copsim import learning, metrics, outcomes, schedule
from copsim import population as pop
from copsim.derived import Derived
from copsim.memberships import Memberships
from copsim.params import Params
from copsim.state import Community, People, Spaces, World
from copsim.submodels import agendas, membership
from copsim.submodels.funding import Funder

#: Starting participation = START_BASE + START_BY_RANK x power rank (0..1) + noise.
START_BASE = 0.1
START_BY_RANK = 0.6
START_NOISE = 0.05
#: Founders in the lowest POWER_COHORT of power belong to the starting cohort.
POWER_COHORT = 1 / 3


def build(params: Params, rng: np.random.Generator) -> Community:
    """The community at period 0."""
    p = params
    reality = kn.draw_reality(rng, (p.n_dimensions,))
    beliefs = kn.draw_beliefs(rng, (p.n_practitioners, p.n_dimensions))
    tacit = np.zeros(p.n_dimensions, dtype=bool)
    if p.social_layer:
        tacit[: round(p.tacit_share * p.n_dimensions)] = True
    people = _founders(p, rng, beliefs)
    spaces = _empty_spaces(p, themes=people.purpose.shape[1], rng=rng)
    c = Community(p, rng, World(reality, tacit), people, spaces, Funder(p))
    c.derived = Derived(people, spaces, p.power_asymmetry)
    for init in schedule.hooks("init"):
        init(c)
    c.on_leave, c.on_arrive = schedule.hooks("on_leave"), schedule.hooks("on_arrive")
    _found_spaces(c)
    power = people.power
    cohort = (c.derived.home_participation() < p.periphery_threshold) | (
        power <= np.quantile(power, POWER_COHORT)
    )
    people.mark_cohort(cohort)
    learning.mark_edge(c, cohort if p.social_layer else np.zeros_like(cohort))
    c.baseline = outcomes.Baseline(
        beliefs=beliefs.copy(),
        diversity=metrics.belief_diversity(beliefs),
        powerful_view=outcomes.powerful_view(beliefs, power, spaces.members.mask()),
        codified=~tacit,
    )
    return c


def _founders(p: Params, rng: np.random.Generator, beliefs: np.ndarray) -> People:
    """The founding practitioners (identity, purpose and resources drawn when the
    social layer is on; March's anonymous individuals when it is off)."""
    n = beliefs.shape[0]
    rates = np.full(n, p.socialization_rate)
    rates[: round(p.slow_learner_share * n)] = p.slow_socialization_rate
    if p.social_layer:
        founders = pop.draw_newcomers(rng, p, n)
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


def _empty_spaces(p: Params, themes: int, rng: np.random.Generator | None = None) -> Spaces:
    """The learning spaces before anyone joins (one code for March's model).

    Spaces differ when the parameters say so (ODD II.2, II.7.5, II.7.13): a list per
    space, or a spread around the global value.  A spread draws from ``rng`` (safety
    first, then permeability), and only when it is positive, so a community of alike
    spaces consumes exactly the random numbers it always did.
    """
    if not p.social_layer:  # March: one code, always safe, nobody enters through it
        n_spaces = 1
        return Spaces(
            codes=np.zeros((n_spaces, p.n_dimensions), dtype=kn.BELIEF_DTYPE),
            agenda=np.full((n_spaces, themes), 1.0 / themes),
            safety=np.full(n_spaces, 1.0),
            members=Memberships(n_spaces, p.n_practitioners),
        )
    n_spaces = p.n_spaces
    safety = _per_space(p.space_safety, p.safety, p.safety_spread, n_spaces, rng)
    permeability = _per_space(
        p.space_permeability, p.permeability, p.permeability_spread, n_spaces, rng
    )
    voice = None if p.space_voice_norm is None else np.array(p.space_voice_norm, dtype=float)
    return Spaces(
        codes=np.zeros((n_spaces, p.n_dimensions), dtype=kn.BELIEF_DTYPE),
        agenda=np.full((n_spaces, themes), 1.0 / themes),
        safety=safety,
        members=Memberships(n_spaces, p.n_practitioners),
        permeability=permeability,
        voice_norm=voice,
    )


def start_rank(p: Params, rank: np.ndarray) -> np.ndarray:
    """The power rank (0..1) that sets starting participation, by the power channel.

    Today (``power_in_start``) the rank itself, whatever the asymmetry.  With
    ``start_by_power_scaled`` the rank counts with weight b = a / (1 + a) and the
    mean rank 1/2 with weight 1 - b, so at asymmetry 0 power does not set the start
    and the mean start is the same at every asymmetry; without ``power_in_start``
    everyone starts at the mean rank (only the noise differs).
    """
    if not p.power_in_start:
        return np.full_like(rank, 0.5)
    if p.start_by_power_scaled:
        b = p.power_asymmetry / (1.0 + p.power_asymmetry)
        return b * rank + (1.0 - b) * 0.5
    return rank


def _per_space(
    values: list[float] | None,
    common: float,
    spread: float,
    n_spaces: int,
    rng: np.random.Generator | None,
) -> np.ndarray:
    """One value per space: the list if given, else ``common`` (uniformly within
    +-``spread`` of it, clipped to [0, 1], when the spread is positive)."""
    if values is not None:
        return np.array(values, dtype=float)
    if spread > 0:
        if rng is None:
            raise ValueError("a spread of space values needs the model's random generator")
        return np.clip(common + rng.uniform(-spread, spread, n_spaces), 0.0, 1.0)
    return np.full(n_spaces, common)


def _found_spaces(c: Community) -> None:
    """The founders' memberships, starting participation and the first agendas."""
    mb, people = c.members, c.people
    n = people.size
    if c.social:
        space, slot = membership.founding_memberships(c)
        rank = start_rank(c.params, np.argsort(np.argsort(people.power)) / max(n - 1, 1))
        noise = c.rng.normal(0, START_NOISE, n)
        start = np.clip(START_BASE + START_BY_RANK * rank + noise, 0, 1)
        mb.add(space, slot, start[slot], start[slot])
        agendas.set_from_convenors(c)
    else:  # March: one code, everyone a full member
        mb.add(np.zeros(n, dtype=np.int64), np.arange(n), 1.0, 1.0)
    c.spaces.founding_mass = np.maximum(mb.per_space(mb.participation), 1e-9)
