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

Reads: ``params`` (organizing_principle, conversation_rate, diversity_gain,
withdrawal, power_in_receptiveness, power_in_voice, role_play_mixing,
organizing_across_spaces), home spaces and participation, ``spaces.intensity``,
``spaces.safety``, ``spaces.voice_norm``, ``people.identity``,
``people.purpose``, receptiveness, power weights, ``period.action_scores``;
role play's factor.
Writes: ``people.beliefs``, memberships' participation (withdrawal),
``people.gain``, ``people.engagement``, ``records.last_exchange``,
``records.counts`` (conflicts, conversations).
Measures: ``mutual_engagement``, ``cross_identity_exchange``, ``conflicts``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from copsim import knowledge as kn
from copsim.submodels import role_play

if TYPE_CHECKING:
    from copsim.state import Community

#: Identity distance from which a conversation counts as crossing identities.
CROSS_IDENTITY = 0.5


@dataclass
class Exchange:
    """The outcome of one round of conversations (arrays over pairs)."""

    left: np.ndarray  # practitioner slots, first member of each pair
    right: np.ndarray  # second member of each pair
    space: np.ndarray  # the space each pair met in
    conflict: np.ndarray  # bool per pair
    distance: np.ndarray  # effective identity distance per pair
    engagement: np.ndarray  # purpose similarity of pairs that talked (0 for conflicts)
    learned: np.ndarray  # beliefs changed per practitioner slot (N,)


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
    if principle == "geography":
        d = dim_names.index("region") if "region" in dim_names else min(1, identity.shape[1] - 1)
        return identity[:, d].astype(np.int64)
    return identity[:, 0].astype(np.int64)


def pair_up(
    home: np.ndarray,
    keys: np.ndarray,
    active: np.ndarray,
    rng: np.random.Generator,
    *,
    across_spaces: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Random pairs within (space, group); leftovers pair across groups of their space.

    Sorting by (space, group, random) and pairing neighbours puts almost every
    pair inside one group; an odd member out meets the next group's first.
    With ``across_spaces`` the space is left out of the sort: pairs form within
    a group of the whole constellation, whatever the members' home spaces.
    """
    slots = np.flatnonzero(active)
    if across_spaces:
        order = np.argsort(keys[slots] + rng.random(slots.size))
        return neighbours(slots[order])
    # one sort on (space, group) with a random fraction as the tie-breaker
    groups = int(keys.max(initial=0)) + 1
    order = np.argsort((home[slots] * groups + keys[slots]) + rng.random(slots.size))
    ordered = slots[order]
    half = ordered.size // 2
    left, right = ordered[0 : 2 * half : 2], ordered[1 : 2 * half : 2]
    same_space = home[left] == home[right]
    return left[same_space], right[same_space]


def neighbours(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of neighbours (first with second, third with fourth, ...); an odd last one
    sits out."""
    half = ordered.size // 2
    return ordered[0 : 2 * half : 2], ordered[1 : 2 * half : 2]


def identity_code(identity: np.ndarray, levels: list[int]) -> np.ndarray:
    """One integer per practitioner for its whole combination of identity categories."""
    code = np.zeros(identity.shape[0], dtype=np.int64)
    for d, count in enumerate(levels):  # over the few identity dimensions
        code = code * max(count, 1) + identity[:, d]
    return code


def mixed_pairs(
    place: np.ndarray, code: np.ndarray, active: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs across identities within each ``place`` (a space, or 0 for everyone).

    The attendees of a place are put in the order of their identity code (the
    first identity dimension most significant, random among equals) and the
    order is folded: the j-th of the first half meets the j-th of the second
    half.  Partners thus lie far apart in identity (different sectors, as a
    rule), and two of one identity meet only where that identity holds more than
    half of the place's attendees.  An odd member out sits out.
    """
    slots = np.flatnonzero(active)
    if slots.size < 2:
        return slots[:0], slots[:0]
    codes = int(code.max(initial=0)) + 1
    ordered = slots[np.argsort((place[slots] * codes + code[slots]) + rng.random(slots.size))]
    where = place[ordered]
    starts = np.flatnonzero(np.r_[True, where[1:] != where[:-1]])
    sizes = np.diff(np.r_[starts, where.size])
    start = np.repeat(starts, sizes)  # per position: where its place's run starts
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
    rate: float,
    diversity_gain: float,
    receptiveness: np.ndarray,
    rng: np.random.Generator,
    voice: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Both members of every pair try to learn from each other, in place.

    ``safety``, ``distance`` (identity difference) and ``felt_distance`` (the
    difference as experienced: lower during role play) are per pair.  A pair
    falls into conflict with probability (1 - safety) x felt distance;
    otherwise each member steps toward a better-performing partner's beliefs
    with probability rate x safety x (1 + gain x distance) x receptiveness per
    differing dimension.  ``voice`` (per pair, (2, pairs): how much the right
    member is heard by the left, and the left by the right) multiplies that
    chance when given (the voice channel).  Returns (conflict per pair, beliefs
    changed per slot).
    """
    conflict = kn.bernoulli(rng, (1.0 - safety) * felt_distance, distance.shape)
    talk = ~conflict
    learners = np.concatenate([left[talk], right[talk]])
    teachers = np.concatenate([right[talk], left[talk]])
    strength = np.tile((rate * safety * (1 + diversity_gain * distance))[talk], 2)
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
        kn.socialize(after, np.take(beliefs, teachers, axis=0), strength[:, None], rng)
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
    attend = c.people.present & (pair >= 0) & kn.bernoulli(c.rng, chance, chance.shape)
    return home, attend, pair


def pairs(c: Community, home: np.ndarray, attend: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """This period's pairs: by the organizing principle (in each space, or across
    spaces), or across identities while role play mixes them."""
    p, people = c.params, c.people
    if p.role_play_mixing and role_play.active(c):
        place = np.zeros_like(home) if p.organizing_across_spaces else home
        levels = [len(v) for v in people.identity_levels.values()]
        return mixed_pairs(place, identity_code(people.identity, levels), attend, c.rng)
    keys = group_keys(
        p.organizing_principle, people.identity, people.purpose, people.identity_names
    )
    return pair_up(home, keys, attend, c.rng, across_spaces=p.organizing_across_spaces)


def voice_of(c: Community, left: np.ndarray, right: np.ndarray, space: np.ndarray) -> np.ndarray:
    """(2, pairs): how much each member is heard by its partner, the partner's power
    weight w (w ** norm in a space with its own voice norm): [w_right, w_left]."""
    w = c.derived.power_weights()
    heard = np.stack([w[right], w[left]])
    norm = c.spaces.voice_norm
    return heard if norm is None else heard ** norm[space]


def step(c: Community) -> None:
    """This period's conversations: attend, group, pair, then conflict or learning."""
    p, people = c.params, c.people
    home, attend, pair = attending(c)
    left, right = pairs(c, home, attend)
    distance = identity_distance(people.identity, left, right)
    felt = distance * role_play.factor(c)
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
        p.conversation_rate,
        p.diversity_gain,
        c.derived.receptiveness(p.power_in_receptiveness),
        c.rng,
        voice=voice_of(c, left, right, space) if p.power_in_voice else None,
    )
    participation = c.members.participation
    for side in (left, right):  # withdrawal after conflict, in the pair's space
        participation[pair[side[conflict]]] *= 1.0 - p.withdrawal
    similarity = purpose_similarity(c.derived.unit_purpose(), left, right) * ~conflict
    people.gain = learned / people.beliefs.shape[1]
    people.engagement[:] = 0.0
    people.engagement[left], people.engagement[right] = similarity, similarity
    c.records.last_exchange = Exchange(left, right, space, conflict, distance, similarity, learned)
    c.records.counts["conflicts"] += int(conflict.sum())
    c.records.counts["conversations"] += int(left.size)


def measures(c: Community, base: dict) -> dict[str, float]:
    ex = c.records.last_exchange
    talked = ~ex.conflict if ex is not None else np.zeros(0, dtype=bool)
    return {
        "mutual_engagement": float(ex.engagement.mean())
        if ex is not None and ex.engagement.size
        else 0.0,
        "cross_identity_exchange": float((ex.distance[talked] >= CROSS_IDENTITY).mean())
        if ex is not None and talked.any()
        else 0.0,
        "conflicts": float(c.records.counts["conflicts"]),
    }
