"""Conversation between pairs of members (ODD II.7.5, with the organizing principle, II.7.17).

Johnson (2007): conversational learning "assumes that safe, receptive spaces
are needed in which difference can be explored" (Baker 2002), and "it is
bumping up against difference that can stimulate our curiosity, our drive to
learn" (Wyss-Flamm 2002).  Members who attend their home space are grouped by
the organizing principle (Reboot 2016, principle 1: "a way of slicing and
dicing the group for increased interaction") and paired within their group.
In each pair, identity difference raises what is learned when the space is
safe, and raises the chance of conflict (and withdrawal) when it is not.
Learning is interpersonal, as in Miller, Zhao & Calantone's (2006) extension
of March: a member takes gradual steps toward a partner who performed better;
tacit dimensions can be learned only this way.

Switches (each off by default, which is the model as it was):

- ``power_in_voice``, who gets heard: a learner steps toward a partner's
  beliefs with its chance multiplied by the partner's power weight w (raised
  to the space's voice norm), so the powerful are heard more and the weak
  less.  Johnson (2007) on Chambers (1997), *Whose knowledge counts?*, and
  Kolb et al. (2002): a space's norms "determine what can be said and not
  said, who has voice and who does not have voice".
- ``role_play_mixing``, role play changes who meets whom: while role play is
  on, each space's attendees are paired across identities (the identity order
  folded in half, :func:`mixed_pairs`), as well as feeling difference less.  Reboot
  (2016), principle 3: asking participants to imagine "a position that is
  currently not their own" "resulted in greater interaction".
- ``organizing_across_spaces``, the organizing principle shapes groups across
  the community: attendees are paired within their principle group whatever
  their home space (a working group or regional meeting of the whole
  constellation, Reboot 2016 principle 1: OGP's groups "coalesce around
  domains and geography").  Such a pair meets as safely as the mean of its
  members' home spaces; each side withdraws in its own home space after a
  conflict.  Off, groups only order the pairs inside each space.

In an ensemble (docs/engine.md) every community pairs its own attendees:
the attendees of each run are sorted in one batched sort of the run's block,
so a pair never joins two runs, and an odd member out of one run never shifts
the pairing of the next.  Every chance is a keyed draw (who attends, the
tie-breaks of the order, conflict, each learning step), so a run's
conversations are the same alone or among thousands; counts and measures are
per run.
Power weights and receptiveness (:func:`power_weights`, :func:`receptiveness`,
also used by socialization and repertoire learning) are computed with the
asymmetry given per slot, so a run's weights do not depend on whether the
asymmetry is shared.

Reads: ``params`` (organizing_principle, conversation_rate, diversity_gain,
withdrawal, power_in_receptiveness, power_in_voice, role_play_mixing,
organizing_across_spaces; the rates per run), home spaces and participation,
``spaces.intensity``, ``spaces.safety``, ``spaces.voice_norm``,
``people.identity``, ``people.purpose``, receptiveness, power weights,
``period.action_scores``; role play's factor (``role_play_identity_weight``
per run).
Writes: ``people.beliefs``, memberships' participation (withdrawal),
``people.gain``, ``people.engagement``, ``records.last_exchange``,
``records.counts`` (conflicts, conversations: per run).
Measures: ``mutual_engagement``, ``cross_identity_exchange``, ``conflicts``.
Draw sites: ``conversation.attend`` (per slot), ``conversation.order`` and
``conversation.mixing`` (the random tie-break of the pairing order, per slot),
``conversation.conflict`` (per pair, keyed by its first member's slot),
``conversation.learn`` (per learner cell)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from copsim import knowledge as kn
from copsim.draws import Keyed
from copsim.submodels import role_play

if TYPE_CHECKING:
    from copsim.state import Community

#: Identity distance from which a conversation counts as crossing identities.
CROSS_IDENTITY = 0.5


@dataclass
class Exchange:
    """The outcome of one round of conversations (arrays over pairs, global indices;
    the pairs of each run are together, runs in order)."""

    left: np.ndarray  # practitioner slots, first member of each pair
    right: np.ndarray  # second member of each pair
    space: np.ndarray  # the space each pair met in
    conflict: np.ndarray  # bool per pair
    distance: np.ndarray  # effective identity distance per pair
    engagement: np.ndarray  # purpose similarity of pairs that talked (0 for conflicts)
    learned: np.ndarray  # beliefs changed per practitioner slot (K*N,)
    run: np.ndarray  # the run of each pair


class _RowsKeyed(Keyed):
    """Keyed draws for the rows ``rows`` of a (K*N, m) array gathered into a
    (len(rows), m) array: flat index f of the gathered array draws for the
    cell (rows[f // m], f % m) of the whole array, so a learner's draws are
    keyed by its own slot, not by its position among this period's learners."""

    def __init__(self, keyed: Keyed, rows: np.ndarray) -> None:
        super().__init__(keyed.draws, keyed.site, keyed.per_run, keyed.width, keyed.round_)
        self.rows = np.asarray(rows, dtype=np.int64)

    def uniform_at(self, flat: np.ndarray) -> np.ndarray:
        flat = np.asarray(flat, dtype=np.int64)
        m = self.width
        return super().uniform_at(self.rows[flat // m] * m + flat % m)


def group_keys(
    principle: str, identity: np.ndarray, purpose: np.ndarray, dim_names: list[str]
) -> np.ndarray:
    """The conversation group of each practitioner under an organizing principle.

    domain: the professional field (sector, the first identity dimension);
    geography: the region dimension (or the second dimension);
    challenge: the enterprise theme a practitioner cares most about.
    """
    if principle == "challenge":
        return np.argmax(purpose, axis=1)
    return identity[:, _group_dimension(principle, identity, dim_names)].astype(np.int64)


def _group_dimension(principle: str, identity: np.ndarray, dim_names: list[str]) -> int:
    if principle == "geography":
        return dim_names.index("region") if "region" in dim_names else min(1, identity.shape[1] - 1)
    return 0


def group_count(principle: str, levels: list[int], themes: int, dim_names: list[str]) -> int:
    """How many groups the principle can make (fixed by the parameters, so the
    pairing order of a run never depends on the other runs)."""
    if principle == "challenge":
        return max(themes, 1)
    if not levels:
        return 1
    d = _group_dimension(principle, np.zeros((0, len(levels))), dim_names)
    return max(levels[d], 1)


def pairing_order(
    sort_key: np.ndarray, active: np.ndarray, slots_per_run: int
) -> tuple[np.ndarray, np.ndarray]:
    """The active slots of every run in the order of ``sort_key`` (equal keys:
    lower slot first), run after run, and each one's position in its run's order.

    One batched sort of each run's block of N slots (inactive slots sort last),
    so the order of a run never depends on the other runs.
    """
    rows = np.where(active, sort_key, np.inf).reshape(-1, slots_per_run)
    order = np.argsort(rows, axis=1, kind="stable")
    count = np.count_nonzero(active.reshape(-1, slots_per_run), axis=1)
    valid = np.arange(slots_per_run)[None, :] < count[:, None]
    first = (np.arange(rows.shape[0]) * slots_per_run)[:, None]
    ordered = (order + first)[valid]
    position = np.broadcast_to(np.arange(slots_per_run), order.shape)[valid]
    return ordered, position


def neighbours(ordered: np.ndarray, position: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of neighbours in each run's order (first with second, third with
    fourth, ...); an odd last one of a run sits out."""
    at = np.flatnonzero(position[:-1] % 2 == 0)
    at = at[position[at + 1] == position[at] + 1]  # the next one is of the same run
    return ordered[at], ordered[at + 1]


def pair_up(
    home: np.ndarray,
    keys: np.ndarray,
    active: np.ndarray,
    tiebreak: np.ndarray,
    slots_per_run: int,
    groups: int,
    spaces_per_run: int,
    *,
    across_spaces: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Random pairs within (space, group); leftovers pair across groups of their space.

    Sorting each run's attendees by (space, group, random) and pairing
    neighbours puts almost every pair inside one group; an odd member out meets
    the next group's first.  With ``across_spaces`` the space is left out of the
    sort: pairs form within a group of the whole constellation (of the run),
    whatever the members' home spaces.  ``home`` is each slot's (global) home
    space, ``keys`` its group (below ``groups``), ``tiebreak`` a uniform per
    slot (the random part of the order).
    """
    place = 0 if across_spaces else (home % spaces_per_run) * groups
    ordered, position = pairing_order(place + keys + tiebreak, active, slots_per_run)
    left, right = neighbours(ordered, position)
    if across_spaces:
        return left, right
    same_space = home[left] == home[right]
    return left[same_space], right[same_space]


def identity_code(identity: np.ndarray, levels: list[int]) -> np.ndarray:
    """One integer per practitioner for its whole combination of identity categories."""
    code = np.zeros(identity.shape[0], dtype=np.int64)
    for d, count in enumerate(levels):  # over the few identity dimensions
        code = code * max(count, 1) + identity[:, d]
    return code


def mixed_pairs(
    place: np.ndarray,
    code: np.ndarray,
    active: np.ndarray,
    tiebreak: np.ndarray,
    slots_per_run: int,
    codes: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs across identities within each ``place`` of a run (its local space
    index, or 0 for everyone of the run).

    The attendees of a place are put in the order of their identity code (the
    first identity dimension most significant, random among equals: ``tiebreak``,
    a uniform per slot) and the order is folded: the j-th of the first half
    meets the j-th of the second half.  Partners thus lie far apart in identity
    (different sectors, as a rule), and two of one identity meet only where that
    identity holds more than half of the place's attendees.  An odd member out
    sits out.  ``codes`` bounds the identity codes.
    """
    ordered, _ = pairing_order(place * codes + code + tiebreak, active, slots_per_run)
    if ordered.size < 2:
        return ordered[:0], ordered[:0]
    run, where = ordered // slots_per_run, place[ordered]
    starts = np.flatnonzero(np.r_[True, (where[1:] != where[:-1]) | (run[1:] != run[:-1])])
    sizes = np.diff(np.r_[starts, where.size])
    start = np.repeat(starts, sizes)  # per position: where its place's block starts
    half = np.repeat(sizes // 2, sizes)
    first = (np.arange(where.size) - start) < half
    left_at = np.flatnonzero(first)
    return ordered[left_at], ordered[left_at + half[left_at]]


def identity_distance(identity: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Share of identity dimensions on which two practitioners differ."""
    if identity.shape[1] == 0:
        return np.zeros(left.size)
    return (np.take(identity, left, axis=0) != np.take(identity, right, axis=0)).mean(axis=1)


def purpose_similarity(unit_purpose: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Cosine similarity of two purpose profiles (1 = same priorities), from
    profiles already scaled to unit length."""
    a, b = np.take(unit_purpose, left, axis=0), np.take(unit_purpose, right, axis=0)
    return np.einsum("ij,ij->i", a, b)


def converse(
    beliefs: np.ndarray,
    action_scores: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    safety: np.ndarray,
    distance: np.ndarray,
    felt_distance: np.ndarray,
    rate: float | np.ndarray,
    diversity_gain: float | np.ndarray,
    receptiveness: np.ndarray,
    conflict_draw: np.ndarray,
    steps: Keyed,
    voice: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Both members of every pair try to learn from each other, in place.

    ``safety``, ``distance`` (identity difference) and ``felt_distance`` (the
    difference as experienced: lower during role play) are per pair, and so may
    be ``rate`` and ``diversity_gain`` (the pair's run's values).  A pair falls
    into conflict with probability (1 - safety) x felt distance (``conflict_draw``:
    a uniform per pair); otherwise each member steps toward a better-performing
    partner's beliefs with probability rate x safety x (1 + gain x distance) x
    receptiveness per differing dimension (``steps``: keyed draws over the cells
    of ``beliefs``, one per learner's cell).  ``voice`` (per pair, (2, pairs): how
    much the right member is heard by the left, and the left by the right)
    multiplies that chance when given (the voice channel).  Returns (conflict per
    pair, beliefs changed per slot).
    """
    conflict = conflict_draw < (1.0 - safety) * felt_distance
    talk = ~conflict
    learners = np.concatenate([left[talk], right[talk]])
    teachers = np.concatenate([right[talk], left[talk]])
    chance = rate * safety * (1 + diversity_gain * distance)
    strength = np.tile(np.broadcast_to(chance, talk.shape)[talk], 2)
    strength = strength * receptiveness[learners]
    if voice is not None:  # the partner's voice: [heard by left, heard by right]
        strength = strength * np.concatenate([voice[0][talk], voice[1][talk]])
    strength = np.clip(strength, 0.0, 1.0)
    better = action_scores[teachers] > action_scores[learners]
    learners, teachers, strength = learners[better], teachers[better], strength[better]
    learned = np.zeros(beliefs.shape[0], dtype=np.int64)
    if learners.size:
        before = np.take(beliefs, learners, axis=0)  # np.take: a fast row gather
        after = before.copy()
        teach = np.take(beliefs, teachers, axis=0)
        kn.socialize(after, teach, strength[:, None], _RowsKeyed(steps, learners))
        beliefs[learners] = after  # pairs are disjoint: no slot is written twice
        learned[learners] = np.count_nonzero(after != before, axis=1)
    return conflict, learned


def attending(c: Community) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who meets this period (with probability home participation x the home
    space's intensity), in which home space, and the index of that home
    membership (-1 for none)."""
    d = c.derived
    pair = d.home_pairs()
    home = d.home_space()
    chance = d.home_participation(pair) * c.spaces.intensity[home]
    attend = c.people.present & (pair >= 0) & (c.u_slots("conversation.attend") < chance)
    return home, attend, pair


def pairs(c: Community, home: np.ndarray, attend: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """This period's pairs in every run: by the organizing principle (in each space,
    or across spaces), or across identities while role play mixes them."""
    p, people, lay = c.params, c.people, c.layout
    levels = [len(v) for v in people.identity_levels.values()]
    if p.role_play_mixing and role_play.active(c):
        place = np.zeros_like(home) if p.organizing_across_spaces else home % lay.spaces
        codes = int(np.prod([max(n, 1) for n in levels]))
        tiebreak = c.u_slots("conversation.mixing")
        code = identity_code(people.identity, levels)
        return mixed_pairs(place, code, attend, tiebreak, lay.slots, codes)
    principle = p.organizing_principle
    keys = group_keys(principle, people.identity, people.purpose, people.identity_names)
    groups = group_count(principle, levels, people.purpose.shape[1], people.identity_names)
    tiebreak = c.u_slots("conversation.order")
    return pair_up(
        home, keys, attend, tiebreak, lay.slots, groups, lay.spaces,
        across_spaces=p.organizing_across_spaces,
    )  # fmt: skip


def voice_of(
    c: Community,
    left: np.ndarray,
    right: np.ndarray,
    space: np.ndarray,
    w: np.ndarray | None = None,
) -> np.ndarray:
    """(2, pairs): how much each member is heard by its partner, the partner's power
    weight w (w ** norm in a space with its own voice norm): [w_right, w_left]."""
    w = c.derived.power_weights() if w is None else w
    heard = np.stack([w[right], w[left]])
    norm = c.spaces.voice_norm
    return heard if norm is None else heard ** norm[space]


def step(c: Community) -> None:
    """This period's conversations: attend, group, pair, then conflict or learning."""
    p, people, lay = c.params, c.people, c.layout
    home, attend, pair = attending(c)
    left, right = pairs(c, home, attend)
    run = lay.run_of_slots(left)
    distance = identity_distance(people.identity, left, right)
    felt = distance * role_play.factor(c, "slots", left)
    w = c.derived.power_weights()
    space = home[left]
    safety = c.spaces.safety[space]
    if p.organizing_across_spaces:  # a meeting of two spaces' members
        safety = 0.5 * (safety + c.spaces.safety[home[right]])
    conflict, learned = converse(
        people.beliefs,
        c.period.action_scores,
        left,
        right,
        safety,
        distance,
        felt,
        c.at_slots("conversation_rate", left),
        c.at_slots("diversity_gain", left),
        c.derived.receptiveness(p.power_in_receptiveness),
        c.u_slots("conversation.conflict", left),
        c.keyed("conversation.learn"),
        voice=voice_of(c, left, right, space, w) if p.power_in_voice else None,
    )
    participation = c.members.participation
    for side in (left, right):  # withdrawal after conflict, in the pair's space
        quit_ = side[conflict]
        participation[pair[quit_]] *= 1.0 - c.at_slots("withdrawal", quit_)
    similarity = purpose_similarity(c.derived.unit_purpose(), left, right) * ~conflict
    people.gain = learned / people.beliefs.shape[1]
    people.engagement[:] = 0.0
    people.engagement[left], people.engagement[right] = similarity, similarity
    c.records.last_exchange = Exchange(
        left, right, space, conflict, distance, similarity, learned, run
    )
    c.records.counts["conflicts"] += np.bincount(run[conflict], minlength=c.runs)
    c.records.counts["conversations"] += np.bincount(run, minlength=c.runs)


def measures(c: Community, base: dict) -> dict[str, np.ndarray]:
    """(K,) per run: mean engagement over the pairs, the share of talking pairs that
    crossed identities, and the running count of conflicts."""
    k, ex = c.runs, c.records.last_exchange
    conflicts = c.records.counts["conflicts"].astype(np.float64)
    if ex is None:
        return {
            "mutual_engagement": np.zeros(k),
            "cross_identity_exchange": np.zeros(k),
            "conflicts": conflicts,
        }
    talked = ~ex.conflict
    return {
        "mutual_engagement": _per_run_mean(ex.run, ex.engagement, np.ones_like(talked), k),
        "cross_identity_exchange": _per_run_mean(
            ex.run, (ex.distance >= CROSS_IDENTITY).astype(np.float64), talked, k
        ),
        "conflicts": conflicts,
    }


def _per_run_mean(run: np.ndarray, values: np.ndarray, where: np.ndarray, k: int) -> np.ndarray:
    """(K,) mean of per-pair ``values`` over the pairs ``where`` of each run (0 if none)."""
    n = np.bincount(run[where], minlength=k)
    total = np.bincount(run[where], weights=values[where], minlength=k)
    return np.where(n > 0, total / np.maximum(n, 1), 0.0)
