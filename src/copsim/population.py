"""Who the practitioners are: identities, purposes, resources and power.

Johnson (2007) on the Bindura EAG: members had "overlapping identities ...
being a Christian, poor, male or female, a parent, professionally trained",
and differed in "access to resources and livelihoods".  Identities here are
categories on several cross-cutting dimensions; purposes are weights over
enterprise themes shaped by sector (Ugandan politicians, officers and UK
officers read the partnership's purpose differently); resources (time, money,
political capital) follow sector and role; power derives from resources and role.

All functions draw everyone arriving in a period at once (vectorized), with
keyed draws (:mod:`copsim.draws`) indexed by the slot each newcomer takes; the
model writes the rows into its state arrays.  Power comparisons (mean power,
power rank) are within each run of an ensemble (:mod:`copsim.layout`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from copsim.layout import Layout
from copsim.params import Params

if TYPE_CHECKING:
    from copsim.state import Community

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


def category_probabilities(levels: int, diversity: float | np.ndarray) -> np.ndarray:
    """Category shares on one dimension: all in the first at 0, uniform at 1.

    ``diversity`` may be one value per person (an ensemble's runs differ); the
    result is then (k, levels).
    """
    diversity = np.asarray(diversity, dtype=np.float64)[..., None]
    probs = np.broadcast_to(diversity / levels, (*diversity.shape[:-1], levels)).copy()
    probs[..., 0] += 1.0 - diversity[..., 0]
    return probs


def draw_categories(u: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Category codes by inverse CDF, one uniform ``u`` each (``probs`` (levels,) or
    (k, levels)): the number of cumulative shares at or below ``u``."""
    cdf = np.cumsum(probs, axis=-1)
    cdf /= cdf[..., -1:]
    codes = (np.broadcast_to(cdf, (u.size, cdf.shape[-1])) <= u[:, None]).sum(axis=1)
    return np.minimum(codes, cdf.shape[-1] - 1)


def draw_identity(c: Community, slots: np.ndarray, site: str) -> np.ndarray:
    """Categorical memberships on every identity dimension for the people taking
    ``slots`` (one keyed uniform per slot and dimension)."""
    params, layout = c.params, c.layout
    dims = list(params.identity_dimensions.values())
    run, local = layout.run_of_slots(slots), layout.local_slots(slots)
    diversity = c.at_slots("identity_diversity", slots)
    identity = np.empty((slots.size, len(dims)), dtype=np.int16)
    for d, levels in enumerate(dims):  # loop over a handful of dimensions, not agents
        probs = category_probabilities(len(levels), diversity)
        u = c.draws.uniform(site + ".identity", run, local * len(dims) + d)
        identity[:, d] = draw_categories(u, probs)
    return identity


def draw_purpose(c: Community, slots: np.ndarray, identity: np.ndarray, site: str) -> np.ndarray:
    """Purpose profiles: a position-preferred theme mixed with personal variety.

    The preferred theme follows the last identity dimension (role by default):
    officers and politicians of one council read the same enterprise
    differently (Johnson 2007).  The personal part is a flat Dirichlet draw
    (exponentials scaled to sum 1).
    """
    k, themes = identity.shape[0], c.params.n_themes
    run, local = c.layout.run_of_slots(slots), c.layout.local_slots(slots)
    element = (local[:, None] * themes + np.arange(themes)).reshape(-1)
    noise = c.draws.exponential(site + ".purpose", np.repeat(run, themes), element)
    noise = noise.reshape(k, themes)
    personal = noise / row_sums(noise)[:, None]
    preferred = np.zeros((k, themes))
    preferred[np.arange(k), identity[:, -1] % themes] = 1.0
    focus = np.asarray(c.at_slots("purpose_focus", slots))
    focus = focus[:, None] if focus.ndim else focus
    return focus * preferred + (1 - focus) * personal


def _profile(params: Params, identity: np.ndarray, dim: str, table: dict) -> np.ndarray:
    """Per-person (time, money, capital) baseline from one identity dimension."""
    names = list(params.identity_dimensions)
    if dim not in names:
        return np.tile(NEUTRAL, (identity.shape[0], 1))
    levels = params.identity_dimensions[dim]
    lookup = np.array([table.get(level, NEUTRAL) for level in levels])
    return lookup[identity[:, names.index(dim)]]


def draw_resources(c: Community, slots: np.ndarray, identity: np.ndarray, site: str) -> np.ndarray:
    """Time, money, political capital in [0, 1]: structured by sector and role."""
    params = c.params
    structured = 0.5 * (
        _profile(params, identity, "sector", SECTOR_RESOURCES)
        + _profile(params, identity, "role", ROLE_RESOURCES)
    )
    run, local = c.layout.run_of_slots(slots), c.layout.local_slots(slots)
    element = (local[:, None] * 3 + np.arange(3)).reshape(-1)
    noise = c.draws.uniform(site + ".resources", np.repeat(run, 3), element).reshape(-1, 3)
    mix = np.asarray(c.at_slots("resource_inequality", slots))
    mix = mix[:, None] if mix.ndim else mix
    return np.clip(mix * structured + (1 - mix) * noise, 0.0, 1.0)


def draw_newcomers(c: Community, slots: np.ndarray, site: str) -> Newcomers:
    """Everything the people about to take ``slots`` bring (keyed by slot: the
    draws of one slot never depend on who else arrives)."""
    slots = np.asarray(slots, dtype=np.int64)
    identity = draw_identity(c, slots, site)
    return Newcomers(
        identity=identity,
        purpose=draw_purpose(c, slots, identity, site),
        resources=draw_resources(c, slots, identity, site),
    )


def power_of(resources: np.ndarray) -> np.ndarray:
    """Power from control over resources: political capital counts most, then money.

    Kept strictly positive so that any asymmetry exponent is defined.
    """
    return 0.05 + 0.6 * resources[..., 2] + 0.35 * resources[..., 1]


def power_weights(
    layout: Layout, power: np.ndarray, present: np.ndarray, asymmetry: float | np.ndarray
) -> np.ndarray:
    """Power relative to the present members' mean in the same run, raised to the
    asymmetry (a scalar, or one value per slot).

    At asymmetry 0 every weight is 1 ("everyone counts equally"); as it grows the
    most powerful dominate voice, the repertoire and the granting of legitimacy.
    """
    mean = layout.to_slots(layout.mean(power, present, empty=1.0))
    # always an array exponent: numpy's scalar fast paths (x**2 as a square, x**0.5 as
    # a square root) differ in the last bit, and a run must not depend on whether its
    # asymmetry is shared (alone) or one of many (an ensemble whose runs differ)
    exponent = np.ascontiguousarray(
        np.broadcast_to(np.asarray(asymmetry, dtype=np.float64), power.shape)
    )
    return np.where(present, (power / mean) ** exponent, 0.0)


def power_rank(layout: Layout, power: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Each present member's power rank among those present in its run, from -1
    (least) to +1 (most; equal power: lower slot first); 0 for empty slots.

    One batched sort of each run's block: empty slots sort last.
    """
    key = layout.by_run(np.where(present, power, np.inf))
    order = np.argsort(key, axis=1, kind="stable")
    position = np.empty_like(order)
    np.put_along_axis(position, order, np.arange(layout.slots)[None, :], axis=1)
    count = layout.count(present)[:, None]
    rank = -1.0 + 2.0 * position / np.maximum(count - 1, 1)
    rank = np.where(count == 1, -1.0, rank)
    return np.where(present, rank.reshape(-1), 0.0)


def perceived_scores(
    layout: Layout,
    action_scores: np.ndarray,
    rank: np.ndarray,
    present: np.ndarray,
    asymmetry: float | np.ndarray,
) -> np.ndarray:
    """Performance as the community sees it: the action score mixed with power rank.

    With weight a / (1 + a) on power, at asymmetry 0 only performance counts
    (March's superior group); as asymmetry grows the powerful look superior
    whatever they did and the repertoire learns from them (Cooke & Kothari:
    participation that reinforces the powerful).  ``rank`` is :func:`power_rank`
    (among the present members only, so empty slots never shift anyone's
    standing), scaled to the range of the present members' scores.
    """
    if np.ndim(asymmetry) == 0 and asymmetry == 0:
        return action_scores
    m = layout.to_slots(layout.maximum(np.abs(action_scores), present, initial=1.0))
    bias = asymmetry / (1.0 + asymmetry)
    return np.where(bias == 0, action_scores, (1.0 - bias) * action_scores + bias * m * rank)


def row_sums(x: np.ndarray) -> np.ndarray:
    """Sum of each row of a 2-D array with few columns (e.g. themes).

    Adds whole columns, which numpy does far faster than a reduction along a
    short last axis; the sum runs left to right.
    """
    total = x[:, 0].copy()
    for k in range(1, x.shape[1]):  # over the few columns, not the rows
        total += x[:, k]
    return total


def row_maxima(x: np.ndarray) -> np.ndarray:
    """Largest value of each row of a 2-D array with few columns, column by column
    (the same values as ``x.max(axis=1)``: a maximum is exact in any order)."""
    top = x[:, 0].copy()
    for k in range(1, x.shape[1]):
        np.maximum(top, x[:, k], out=top)
    return top


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
