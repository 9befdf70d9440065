"""Who the practitioners are: identities, purposes, resources and power.

Johnson (2007) on the Bindura EAG: members had "overlapping identities ...
being a Christian, poor, male or female, a parent, professionally trained",
and differed in "access to resources and livelihoods".  Identities here are
categories on several cross-cutting dimensions; purposes are weights over
enterprise themes shaped by sector (Ugandan politicians, officers and UK
officers read the partnership's purpose differently); resources (time, money,
political capital) follow sector and role; power derives from resources and role.

All functions draw ``k`` newcomers at once (vectorized) from the model's
generator; the model writes the rows into its state arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from copsim.params import Params

#: Resource endowment by sector and role, before noise: (time, money, political capital).
#: Donors and governments control money and influence; community members have time.
SECTOR_RESOURCES = {
    "government": (0.5, 0.7, 0.8),
    "civil_society": (0.7, 0.4, 0.4),
    "private": (0.4, 0.8, 0.5),
    "donor": (0.3, 1.0, 0.9),
}
ROLE_RESOURCES = {
    "officer": (0.5, 0.6, 0.5),
    "politician": (0.3, 0.6, 1.0),
    "community": (0.9, 0.1, 0.1),
}
NEUTRAL = (0.5, 0.5, 0.5)


@dataclass
class Newcomers:
    """Attributes of ``k`` people entering the community (row-aligned arrays)."""

    identity: np.ndarray  # (k, D) int16 category codes
    purpose: np.ndarray  # (k, T) float, rows sum to 1
    resources: np.ndarray  # (k, 3) float in [0, 1]: time, money, political capital


def category_probabilities(levels: int, diversity: float) -> np.ndarray:
    """Category shares on one dimension: all in the first at 0, uniform at 1."""
    probs = np.full(levels, diversity / levels)
    probs[0] += 1.0 - diversity
    return probs


def draw_categories(rng: np.random.Generator, probs: np.ndarray, k: int) -> np.ndarray:
    """``k`` category codes with the given probabilities, by inverse CDF (one
    uniform each); cheaper than ``Generator.choice`` for the few newcomers of a period."""
    cdf = np.cumsum(probs)
    cdf /= cdf[-1]
    return cdf.searchsorted(rng.random(k), side="right")


def draw_identity(rng: np.random.Generator, params: Params, k: int) -> np.ndarray:
    """Categorical memberships on every identity dimension."""
    dims = list(params.identity_dimensions.values())
    identity = np.empty((k, len(dims)), dtype=np.int16)
    for d, levels in enumerate(dims):  # loop over a handful of dimensions, not agents
        probs = category_probabilities(len(levels), params.identity_diversity)
        identity[:, d] = draw_categories(rng, probs, k)
    return identity


def draw_purpose(rng: np.random.Generator, params: Params, identity: np.ndarray) -> np.ndarray:
    """Purpose profiles: a position-preferred theme mixed with personal variety.

    The preferred theme follows the last identity dimension (role by default):
    officers and politicians of one council read the same enterprise
    differently (Johnson 2007).
    """
    k, themes = identity.shape[0], params.n_themes
    personal = rng.dirichlet(np.ones(themes), size=k)
    preferred = np.zeros((k, themes))
    preferred[np.arange(k), identity[:, -1] % themes] = 1.0
    return params.purpose_focus * preferred + (1 - params.purpose_focus) * personal


def _profile(params: Params, identity: np.ndarray, dim: str, table: dict) -> np.ndarray:
    """Per-person (time, money, capital) baseline from one identity dimension."""
    names = list(params.identity_dimensions)
    if dim not in names:
        return np.tile(NEUTRAL, (identity.shape[0], 1))
    levels = params.identity_dimensions[dim]
    lookup = np.array([table.get(level, NEUTRAL) for level in levels])
    return lookup[identity[:, names.index(dim)]]


def draw_resources(rng: np.random.Generator, params: Params, identity: np.ndarray) -> np.ndarray:
    """Time, money, political capital in [0, 1]: structured by sector and role."""
    structured = 0.5 * (
        _profile(params, identity, "sector", SECTOR_RESOURCES)
        + _profile(params, identity, "role", ROLE_RESOURCES)
    )
    noise = rng.uniform(0.0, 1.0, size=structured.shape)
    mix = params.resource_inequality
    return np.clip(mix * structured + (1 - mix) * noise, 0.0, 1.0)


def draw_newcomers(rng: np.random.Generator, params: Params, k: int) -> Newcomers:
    """Everything a newcomer brings, for ``k`` newcomers."""
    identity = draw_identity(rng, params, k)
    return Newcomers(
        identity=identity,
        purpose=draw_purpose(rng, params, identity),
        resources=draw_resources(rng, params, identity),
    )


def power_of(resources: np.ndarray) -> np.ndarray:
    """Power from control over resources: political capital counts most, then money.

    Kept strictly positive so that any asymmetry exponent is defined.
    """
    return 0.05 + 0.6 * resources[..., 2] + 0.35 * resources[..., 1]


def power_weights(power: np.ndarray, present: np.ndarray, asymmetry: float) -> np.ndarray:
    """Power relative to the present members' mean, raised to the asymmetry.

    At asymmetry 0 every weight is 1 ("everyone counts equally"); as it grows the
    most powerful dominate voice, the repertoire and the granting of legitimacy.
    """
    mean = power[present].mean() if present.any() else 1.0
    return np.where(present, (power / mean) ** asymmetry, 0.0)


def power_order(power: np.ndarray, present: np.ndarray) -> np.ndarray:
    """The present slots from least to most powerful (equal power: lower slot first)."""
    who = np.flatnonzero(present)
    return who[np.argsort(power[who], kind="stable")]


def update_power_order(
    order: np.ndarray, stayed: np.ndarray, power: np.ndarray, present: np.ndarray
) -> np.ndarray:
    """:func:`power_order` after arrivals and departures, without sorting everyone again.

    ``stayed`` marks the slots still held by the person who held them when
    ``order`` was made.  Leavers are dropped and newcomers are inserted by
    binary search; if a newcomer's power equals a stayer's (the slot number
    would decide) the order is simply rebuilt.  The result equals
    ``power_order(power, present)``.
    """
    survivors = order[stayed[order]]
    fresh = np.flatnonzero(present & ~stayed)
    fresh = fresh[np.argsort(power[fresh], kind="stable")]
    ranked = power[survivors]
    at = np.searchsorted(ranked, power[fresh], side="left")
    if np.any(at != np.searchsorted(ranked, power[fresh], side="right")):
        return power_order(power, present)
    return np.insert(survivors, at, fresh)


def rank_of(order: np.ndarray, n: int) -> np.ndarray:
    """Per slot: position in ``order`` spread over [-1, 1]; 0 for slots not in it."""
    rank = np.zeros(n)
    rank[order] = np.linspace(-1.0, 1.0, order.size)
    return rank


def power_rank(power: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Each present member's power rank among those present, from -1 (least) to +1
    (most); 0 for empty slots, which are never members."""
    return rank_of(power_order(power, present), power.size)


def perceived_scores(
    action_scores: np.ndarray, rank: np.ndarray, present: np.ndarray, asymmetry: float
) -> np.ndarray:
    """Performance as the community sees it: the action score mixed with power rank.

    With weight a / (1 + a) on power, at asymmetry 0 only performance counts
    (March's superior group); as asymmetry grows the powerful look superior
    whatever they did and the repertoire learns from them (Cooke & Kothari:
    participation that reinforces the powerful).  ``rank`` is :func:`power_rank`
    (among the present members only, so empty slots never shift anyone's
    standing), scaled to the range of the present members' scores.
    """
    if asymmetry == 0:
        return action_scores
    m = np.abs(action_scores[present]).max(initial=1)
    bias = asymmetry / (1.0 + asymmetry)
    return (1.0 - bias) * action_scores + bias * m * rank


def row_sums(x: np.ndarray) -> np.ndarray:
    """Sum of each row of a 2-D array with few columns (e.g. themes).

    Adds whole columns, which numpy does far faster than a reduction along a
    short last axis; the sum runs left to right.
    """
    total = x[:, 0].copy()
    for k in range(1, x.shape[1]):  # over the few columns, not the rows
        total += x[:, k]
    return total


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero): for cosine similarities."""
    norm = np.sqrt(np.einsum("ij,ij->i", x, x))  # row norms, without a temporary
    return x / np.maximum(norm, 1e-12)[:, None]


def similarity_to_space(
    identity: np.ndarray,
    space: np.ndarray,
    slot: np.ndarray,
    weights: np.ndarray,
    levels: list[int],
) -> np.ndarray:
    """Per membership (space, slot): the weighted share of the space's members who
    share the member's category, averaged over identity dimensions.

    ``weights`` is per membership (e.g. power x participation).  Per-category
    totals are ``bincount`` sums, so the cost is O(memberships x dimensions).
    """
    n_spaces = int(space.max(initial=-1)) + 1
    total = np.bincount(space, weights=weights, minlength=n_spaces)
    total[total == 0] = 1.0
    space_total = total[space]
    category = np.take(identity, slot, axis=0).astype(np.int64)  # (k, D), one gather
    sim = np.zeros(space.size)
    for d, count in enumerate(levels):  # loop over identity dimensions only
        cell = space * count + category[:, d]  # (space, category) bin of each membership
        shares = np.bincount(cell, weights=weights, minlength=n_spaces * count)
        sim += shares[cell] / space_total
    return sim / max(len(levels), 1)
