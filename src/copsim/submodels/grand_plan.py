"""Grand plan and outside expert (ODD II.7.16).

Johnson (2007), "Modelling traffic management": learning incrementally "was
undermined by the donor's desire to have a large scale grand plan", and "an
external consultant was brought in to develop it rather than the engineers
developing their own practical skills".  With ``grand_plan`` (and funding on)
an expert view is drawn once for each community, at set-up: each dimension
right with the run's ``expert_accuracy``; each period each space, with its
run's probability ``conditionality``, has its members' votes replaced by
``EXPERT_VOTES`` times the expert's view.

Reads: ``params`` (grand_plan, funding; per run: expert_accuracy,
conditionality), ``world.reality`` (one per run).
Writes: the repertoire votes it is given; its own state, the expert's view.
Own state: ``c.own["grand_plan"]``, the expert views (K, m) int8, one per run;
untouched by arrivals and departures (the expert is not a member).
Draw sites: ``grand_plan.expert`` (per run and dimension, at set-up),
``grand_plan.conditionality`` (per space, each period).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from copsim.state import Community

#: Votes the outside expert casts per dimension (in units of member votes).
EXPERT_VOTES = 5.0


def applies(params) -> bool:
    return params.grand_plan and params.funding


def init(c: Community) -> None:
    """Draw each run's expert view at set-up (period 0) when the grand plan is on."""
    c.own.pop("grand_plan", None)
    if applies(c.params):
        c.own["grand_plan"] = _draw_view(c)


def compact(c: Community, runs: np.ndarray, slots: np.ndarray, spaces: np.ndarray) -> None:
    """Keep the expert views of ``runs``."""
    if "grand_plan" in c.own:
        c.own["grand_plan"] = c.own["grand_plan"][runs]


def _draw_view(c: Community) -> np.ndarray:
    """(K, m) each run's expert view: each dimension right with ``expert_accuracy``,
    keyed by (run, dimension)."""
    k, m = c.runs, c.layout.dims
    run = np.repeat(np.arange(k), m)
    u = c.draws.uniform("grand_plan.expert", run, np.tile(np.arange(m), k)).reshape(k, m)
    accuracy = np.asarray(c.value("expert_accuracy"), dtype=np.float64).reshape(-1, 1)
    right = u < accuracy
    reality = c.world.reality
    return np.where(right, reality, -reality).astype(np.int8)


def expert_view(c: Community) -> np.ndarray:
    """(K, m) the expert's view of each run's reality (drawn at set-up; if the
    community was built without it, drawn now)."""
    if "grand_plan" not in c.own:
        c.own["grand_plan"] = _draw_view(c)
    return c.own["grand_plan"]


def replace_votes(c: Community, votes: np.ndarray) -> np.ndarray:
    """Each space, with its run's probability ``conditionality``, has its members'
    votes ((K*S, m)) replaced by the expert's this period; returns which spaces
    ((K*S,) bool)."""
    view = expert_view(c)
    chance = c.at_spaces("conditionality")
    replaced = c.u_spaces("grand_plan.conditionality") < chance
    votes[replaced] = EXPERT_VOTES * view[c.layout.space_run[replaced]]
    return replaced
