"""Repertoire learning: perceived superiority and power-weighted votes (ODD II.7.4).

Johnson (2007), citing Cooke and Kothari (2001): "Do group dynamics lead to
participatory decisions that reinforce the interests of the already
powerful?", and knowledge outcomes "shaped by pre-existing relationships"
(Mosse 2001).  Each space's code learns from its members who *look* superior:
performance mixed with power rank (at asymmetry 0 the action score alone, as
in March).  A superior member's vote weighs participation x power weight,
scaled so an average superior member casts one vote, which keeps
k = |net votes| in March's units.  Rigidity slows the code; a space that
cannot meet learns less.  Under a grand plan the expert replaces member votes
in some spaces (:mod:`copsim.submodels.grand_plan`).

Power acts here through two channels that can be switched off one by one, so
that each one's effect can be measured with the others gone (ODD II.7.3):
``power_in_superiority`` (off: the plain action score decides who is
superior, March's rule) and ``power_in_votes`` (off: a vote weighs
participation only).  A space's voice norm (``spaces.voice_norm``, from
``space_voice_norm``) raises the power weight in its votes to that exponent:
Kolb et al. (2002, in Johnson 2007), a space's norms "determine ... who has
voice and who does not have voice"; 0 gives every member an equal vote.

In an ensemble (docs/engine.md) each code is scored against its own run's
reality and looks at its own run's members: perceived scores use the run's
power ranks, score range and asymmetry; votes are one sparse product over
memberships, which never join two runs; the adoption draws are keyed per
(space, dimension); the credit is summed per run.

Reads: ``period.actions``, ``period.action_scores``, ``spaces.codes``,
``spaces.rigidity``, ``spaces.intensity``, ``spaces.voice_norm``, memberships'
participation, power weights and ranks, ``params.periphery_threshold``,
``world.tacit``, ``world.reality``, ``params`` (power_asymmetry,
power_in_superiority, power_in_votes, repertoire_learning_rate; asymmetry and
rate per run).
Writes: ``spaces.codes``, ``period.changed`` (per space), the credit for the
changes that brought knowledge (``records.peripheral_weight``,
``records.change_weight``, ``records.expert_changes``; see
``credit_knowledge``), ``records.repertoire_changes`` (per run, this period).
Measures: ``repertoire_changes``.
Draw site: ``repertoire.adopt`` (per open (space, dimension)).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from copsim import knowledge as kn
from copsim import population as pop
from copsim.submodels import grand_plan

if TYPE_CHECKING:
    from copsim.state import Community


def code_scores(c: Community) -> np.ndarray:
    """(K*S,) each code's score against its own run's reality (a batched product)."""
    lay = c.layout
    by_run = lay.spaces_by_run(c.spaces.codes).astype(np.float32)
    return kn.score(by_run, c.world.reality).reshape(-1)


def member_votes(c: Community) -> tuple[np.ndarray, np.ndarray]:
    """Per space, the net power-weighted votes of its superior members, and the
    weight of each membership's vote."""
    p, mb, d = c.params, c.members, c.derived
    looks = c.at_slots("power_asymmetry") if p.power_in_superiority else 0.0
    perceived = pop.perceived_scores(
        c.layout, c.period.action_scores, d.power_rank(), c.people.present, looks
    )
    superior = perceived[mb.slot] > code_scores(c)[mb.space]
    weights = superior * mb.participation
    if p.power_in_votes:
        weights = weights * vote_power(c)
    count = mb.per_space((superior & (mb.participation > 0)).astype(np.float64))
    mean_w = mb.per_space(weights) / np.maximum(count, 1)
    weights = weights / np.where(mean_w > 0, mean_w, 1.0)[mb.space]
    votes = mb.weighted_rows(weights, c.period.actions.astype(np.float32))
    return votes, weights


def vote_power(c: Community) -> np.ndarray:
    """Per membership: the power weight its vote carries, w_i, or w_i ** norm_s
    where the space has its own voice norm."""
    mb = c.members
    power_w = c.derived.power_weights()[mb.slot]
    norm = c.spaces.voice_norm
    if norm is None:
        return power_w
    return power_w ** norm[mb.space]


def step(c: Community) -> None:
    """Each code adopts the majority of its votes with probability 1 - (1 - rate)^k;
    the changes that brought knowledge are credited to whoever caused them."""
    p, spaces = c.params, c.spaces
    votes, weights = member_votes(c)
    by_expert = np.zeros(spaces.size, dtype=bool)
    if grand_plan.applies(p):
        by_expert = grand_plan.replace_votes(c, votes)
    votes[:, c.world.tacit] = 0.0
    rate = c.at_spaces("repertoire_learning_rate") * (1.0 - spaces.rigidity) * spaces.intensity
    before = spaces.codes.copy()
    kn.learn_code(spaces.codes, votes, rate[:, None], c.keyed("repertoire.adopt", over="codes"))
    changed = np.count_nonzero(spaces.codes != before, axis=1)
    credit_knowledge(c, weights, before, by_expert)
    c.period.changed = changed
    c.records.repertoire_changes = c.layout.total_spaces(changed).astype(np.int64)


def credit_knowledge(
    c: Community, weights: np.ndarray, before: np.ndarray, by_expert: np.ndarray
) -> None:
    """Credit this period's knowledge-bringing changes to whoever caused them.

    A change brings knowledge when the repertoire now fits reality on that
    dimension; a change to a wrong belief brings none.  In a space whose votes the
    expert replaced, the changes are the expert's; otherwise the members', split by
    vote weight between members at the periphery *now* (participation below
    ``periphery_threshold``) and the rest: the periphery contributed when members
    at the edge moved the repertoire, whoever they once were.  Sums are per run.
    """
    codes, mb, lay = c.spaces.codes, c.members, c.layout
    reality = c.world.at_spaces(lay)
    brought = np.count_nonzero((codes != before) & (codes == reality), axis=1)
    at_edge = mb.participation < c.params.periphery_threshold
    peripheral_share = mb.per_space(weights * at_edge) / np.maximum(mb.per_space(weights), 1e-12)
    c.records.peripheral_weight += lay.total_spaces(peripheral_share * brought * ~by_expert)
    c.records.change_weight += lay.total_spaces(brought).astype(np.float64)
    c.records.expert_changes += lay.total_spaces(brought * by_expert).astype(np.float64)


def measures(c: Community, base: dict) -> dict[str, np.ndarray]:
    return {"repertoire_changes": c.records.repertoire_changes.astype(np.float64)}
