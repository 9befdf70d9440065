"""Contestation: the periphery and the excluded challenge the repertoire (ODD II.7.7).

Johnson (2007), "Participation and identity": the EAG's first project was for
"the widows of HIV/AIDS victims"; "until the workshop, however, the widows had
not been involved in negotiations around the project and their interests had
been represented by a local church group".  In the workshop "the widows and
government and environmental professionals ... had quite different
perspectives about the project"; "the widows went from being excluded to being
core participants through their contestation of the assumptions being made by
some members of the EAG"; "inclusion was gained through challenging the power
relations within and outside the group"; Cornwall's "inevitability of
conflict" "can thus have both positive and negative outcomes".  And: "the
determinants of how peripheral and full participation occur also depend on
relations of power and control, including access to, control over and use of
resources".

Two rules, chosen by ``params.contestation_model``:

``"simple"`` (the default, unchanged): a member at the periphery of its home
space whose purpose fits the agenda less than the typical member's challenges
with probability ``contest_rate``; the challenge is accepted with probability
``safety``.  Accepted: the challenger gains legitimacy and participation, the
repertoire *reopens* (sets to 0) contested dimensions, rigidity halves and the
agenda moves toward the challenger's purpose.  Rejected: the challenger is
shut out of the space.

``"bindura"``: who, how acceptance is decided and what an accepted challenge
brings all follow the case.

- *Who.*  Anyone present with a stake in a space and something to say to it:
  a member at the periphery of its home space, or a practitioner with no
  membership at all (shut out earlier, or never admitted), who addresses the
  alive space whose agenda fits its purpose best.  The stake is the same as in
  the simple rule (its purpose fits that agenda less than the typical
  member's purpose fits its own: the agenda matters to it and does not serve
  it); something to say means it holds a belief the repertoire contradicts on
  a codified dimension.  It must have political capital left, must not be
  silenced and must not be in the middle of being drawn in after an earlier
  accepted challenge; then it challenges with probability ``contest_rate``.
- *Cost.*  Each challenge spends ``CONTEST_COST`` of the challenger's political
  capital (``resources.spend_capital``: with ``resource_budgets`` on, clipped at 0).
- *Acceptance.*  ``P = logistic(SAFETY_SLOPE (safety - 1/2) - contest_gap_weight
  x gap)`` with ``gap = (power gap + legitimacy gap) / 2``.  The power gap is
  ``max(0, 1 - w_challenger / w_core)``, with ``w`` the power weights
  (``(power / mean power) ** power_asymmetry``) and ``w_core`` the mean weight of
  the space's core members (of all its members if none is core); the legitimacy
  gap is ``max(0, L_core - L_challenger)``, with a non-member's legitimacy 0.
  With no gap the acceptance is ``logistic(4.4 (safety - 1/2))``: 0.1 at safety
  0, 1/2 at 1/2, 0.75 at 0.75 (the preset's safety), 0.9 at 1.  So the safe,
  facilitated space is necessary and, against a large gap, not sufficient.
- *Accepted.*  The challenger's knowledge enters the repertoire: on each
  codified dimension where the challenger holds a belief (not 0) the code
  contradicts, the code takes the challenger's belief with probability
  ``renegotiation``; rigidity halves and the agenda moves toward the
  challenger's purpose, as in the simple rule.  A member gains legitimacy and
  participation as in the simple rule; a non-member joins the space at the
  edge (participation and legitimacy ``membership.NEWCOMER_START``).  For the
  next ``contest_support_periods`` periods the challenger is drawn toward the
  core of that space: each period its participation and legitimacy there move
  a share ``SUPPORT_SHARE x (periods left / contest_support_periods)`` (a
  linearly fading support) of the way to 1, after the participation stage.
- *Rejected.*  A member is shut out of the space (as in the simple rule); a
  rejected challenger, member or not, is silenced: it cannot challenge again
  for ``contest_silence_periods`` periods.

Reads: home spaces, participation, legitimacy and fit, power weights,
``spaces.safety``, ``spaces.codes``, ``spaces.agenda``, ``people.beliefs``,
``people.purpose``, ``people.resources[:, 2]``, ``world.tacit``, ``params``
(periphery_threshold, core_threshold, contest_rate, renegotiation,
contestation_model, contest_gap_weight, contest_support_periods,
contest_silence_periods, excluded_group).
Writes: memberships (legitimacy, participation; drops the rejected; adds
accepted non-members), ``spaces.codes``, ``spaces.rigidity``,
``spaces.agenda``, ``people.resources[:, 2]`` (bindura), ``period.changed``,
``records`` (counts, peripheral and change weights, repertoire changes),
events ``contest`` (outcome ``accepted``: a member; ``admitted``: a non-member
who joins) and ``exclusion`` (``rejected``: a member shut out; ``silenced``: a
non-member turned away); in the bindura rule an event's ``amount`` is the
acceptance probability.  At initialization, when ``params.excluded_group`` is
set, the founding excluded group (see :func:`form_group`).
Own state: ``c.own["contestation"]``, a :class:`Ledger`: who has challenged,
whom the space is drawing in and for how long, who is silenced until when,
who belongs to the excluded group, running counts of challengers (leavers
included) and a log of every challenge (with whether the challenger was a
member).  Per-slot entries are cleared when the practitioner leaves.
Measures: ``contests``, ``contests_won``, ``contester_core_share``; with the
bindura rule also ``challenger_inclusion``, ``outsider_contests``,
``outsider_contests_won``; with an excluded group ``excluded_core_share`` (core share of
the group's founders still present), ``excluded_present`` and
``excluded_inclusion`` (core members of the group over its founding size, so
leavers count as not included).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from copsim import knowledge as kn
from copsim import population as pop
from copsim.derived import at_home
from copsim.submodels import resources
from copsim.submodels.membership import NEWCOMER_START

if TYPE_CHECKING:
    from copsim.state import Community

#: Share of the way to full legitimacy an accepted challenger gains.
LEGITIMACY_GAIN = 0.5
#: Participation an accepted challenger gains.
PARTICIPATION_GAIN = 0.3
#: Factor applied to the space's rigidity by an accepted challenge.
RIGIDITY_AFTER = 0.5
#: Share of the way the agenda moves toward an accepted challenger's purpose.
AGENDA_SHIFT = 0.2
#: Bindura: log-odds of acceptance per unit of safety above 1/2 (4.4 makes a
#: challenge with no gap accepted with probability 0.75 at safety 0.75, the
#: simple rule's value there).
SAFETY_SLOPE = 4.4
#: Bindura: political capital one challenge costs.
CONTEST_COST = 0.05
#: Bindura: share of the way to 1 that a supported challenger's participation and
#: legitimacy move in the first period of support (fading linearly after).
SUPPORT_SHARE = 0.3
#: Excluded group defaults: share of the founders in it, and the factor on their
#: money and political capital (their time is left as drawn).
GROUP_SHARE = 0.2
GROUP_RESOURCES = 0.3


@dataclass(eq=False)
class Ledger:
    """The module's own state: one row per slot, plus running counts."""

    challenged: np.ndarray  # (N,) bool: has challenged and is still here
    included: np.ndarray  # (N,) bool: has challenged and reached the core since
    support_left: np.ndarray  # (N,) int: periods of support still to come
    support_space: np.ndarray  # (N,) int: the space drawing the challenger in
    silenced_until: np.ndarray  # (N,) int: first period it may challenge again
    group: np.ndarray  # (N,) bool: founding member of the excluded group, still here
    group_size: int = 0  # founders in the excluded group
    ever: int = 0  # people who ever challenged (leavers included)
    ever_included: int = 0  # of them, those who reached the core afterwards
    outsider_contests: int = 0  # challenges by non-members of the space
    outsider_won: int = 0
    #: One row per challenge: (step, slot, space, was a member, accepted, probability).
    log: list[tuple[int, int, int, bool, bool, float]] = field(default_factory=list)

    @classmethod
    def empty(cls, n: int) -> Ledger:
        return cls(
            challenged=np.zeros(n, dtype=bool),
            included=np.zeros(n, dtype=bool),
            support_left=np.zeros(n, dtype=np.int64),
            support_space=np.zeros(n, dtype=np.int64),
            silenced_until=np.zeros(n, dtype=np.int64),
            group=np.zeros(n, dtype=bool),
        )


def applies(params) -> bool:
    return params.contestation


def bindura(c: Community) -> bool:
    return c.params.contestation_model == "bindura"


def ledger(c: Community) -> Ledger:
    return c.own["contestation"]


def init(c: Community) -> None:
    c.own["contestation"] = Ledger.empty(c.people.size)
    if c.params.excluded_group is not None and c.social:
        form_group(c)


def on_leave(c: Community, slots: np.ndarray) -> None:
    led = ledger(c)
    led.challenged[slots] = False
    led.included[slots] = False
    led.support_left[slots] = 0
    led.silenced_until[slots] = 0
    led.group[slots] = False


def on_arrive(c: Community, slots: np.ndarray) -> None:
    """The excluded group's category is reserved for its founders: a newcomer drawn
    into it is counted in the dimension's first (majority) category instead."""
    if c.params.excluded_group is None:
        return
    dim, category = _group_code(c)
    drawn = slots[c.people.identity[slots, dim] == category]
    c.people.identity[drawn, dim] = 0


def contested(c: Community) -> np.ndarray:
    """(N,) bool: who has challenged (and is still here)."""
    return ledger(c).challenged


# --------------------------------------------------------------------------- the group
def _group_code(c: Community) -> tuple[int, int]:
    """(dimension index, category code) of the excluded group."""
    g, people = c.params.excluded_group, c.people
    return (
        people.identity_names.index(g["dimension"]),
        people.identity_levels[g["dimension"]].index(g["category"]),
    )


def form_group(c: Community) -> None:
    """The founding excluded group (the widows): the last ``share`` of the founders
    (identities are drawn independently per slot, so any block of slots is a random
    sample; taking a block draws nothing).  They take the group's category (reserved
    for them: other founders drawn into it move to the dimension's first category)
    and the other categories ``identity`` names, purposes drawn afresh for that
    identity, and ``resources`` times their money and political capital; their power
    follows.  Because starting participation follows power rank (ODD II.5), they
    start at the edge.  Runs before the founding memberships exist, so nothing
    derived from power or purpose has been computed yet.
    """
    g, people, p = c.params.excluded_group, c.people, c.params
    n = people.size
    k = min(n, round(float(g.get("share", GROUP_SHARE)) * n))
    slots = np.arange(n - k, n)
    dim, category = _group_code(c)
    people.identity[people.identity[:, dim] == category, dim] = 0
    people.identity[slots, dim] = category
    for name, level in dict(g.get("identity", {})).items():
        people.identity[slots, people.identity_names.index(name)] = people.identity_levels[
            name
        ].index(level)
    purpose = people.purpose.copy()
    purpose[slots] = pop.draw_purpose(c.rng, p, people.identity[slots])
    people.set_purpose(purpose)
    people.resources[slots, 1:] *= float(g.get("resources", GROUP_RESOURCES))
    people.power[slots] = pop.power_of(people.resources[slots])
    people.income[slots] = people.resources[slots, 1]
    ledger(c).group[slots] = True
    ledger(c).group_size = int(k)


# --------------------------------------------------------------------------- simple
def challengers(c: Community) -> np.ndarray:
    """The slots that challenge this period: peripheral members whose fit is below
    the median fit of all members, each with probability ``contest_rate``."""
    p, d = c.params, c.derived
    pair = d.home_pairs()
    part = d.home_participation(pair)
    fit = at_home(d.fit(), pair, 1.0)
    members = c.people.present & (pair >= 0)
    typical_fit = np.median(fit[members]) if members.any() else 1.0
    divergent = members & (part < p.periphery_threshold) & (fit < typical_fit)
    return np.flatnonzero(divergent & kn.bernoulli(c.rng, p.contest_rate, divergent.shape))


def step(c: Community) -> None:
    """This period's challenges under the chosen rule, then who has reached the core."""
    if bindura(c):
        _support(c)
        _bindura(c)
    else:
        _simple(c)
    _note_inclusion(c)


def _simple(c: Community) -> None:
    """Challenges are accepted with probability safety; the rest are rejected."""
    p, mb, spaces, people = c.params, c.members, c.spaces, c.people
    who = challengers(c)
    if who.size == 0:
        return
    pair = c.derived.home_pairs()
    home = c.derived.home_space()
    won = kn.bernoulli(c.rng, spaces.safety[home[who]], who.shape)
    _count_new(c, who)
    c.records.counts["contests"] += int(who.size)
    c.records.counts["contests_won"] += int(won.sum())
    changed = np.zeros(spaces.size, dtype=np.int64)
    excluded = np.zeros(len(mb), dtype=bool)
    for slot, accepted in zip(who, won, strict=True):  # few challengers per period
        space, k = int(home[slot]), pair[slot]
        if accepted:
            mb.legitimacy[k] += LEGITIMACY_GAIN * (1.0 - mb.legitimacy[k])
            mb.participation[k] = min(1.0, mb.participation[k] + PARTICIPATION_GAIN)
            reopen = (spaces.codes[space] != people.beliefs[slot]) & ~c.world.tacit
            reopen &= kn.bernoulli(c.rng, p.renegotiation, reopen.shape)
            spaces.codes[space, reopen] = 0
            spaces.rigidity[space] *= RIGIDITY_AFTER
            changed[space] += int(reopen.sum())  # reopened: no knowledge brought, no credit
            spaces.move_agendas(space, people.purpose[slot], AGENDA_SHIFT)
        else:
            excluded[k] = True
        c.emit(
            "contest" if accepted else "exclusion",
            space=space,
            practitioner=int(slot),
            outcome="accepted" if accepted else "rejected",
            identity=describe(c, slot),
        )
        ledger(c).log.append((c.step, int(slot), space, True, bool(accepted), float("nan")))
    mb.keep(~excluded)  # the rejected are shut out of that space
    c.period.changed += changed
    c.records.repertoire_changes = int(c.period.changed.sum())


def _count_new(c: Community, who: np.ndarray) -> None:
    """Mark ``who`` as challengers; count those challenging for the first time."""
    led = ledger(c)
    led.ever += int((~led.challenged[who]).sum())
    led.challenged[who] = True


def _note_inclusion(c: Community) -> None:
    """Challengers who are now core in their home space count as included (once)."""
    led = ledger(c)
    core = c.derived.home_participation() >= c.params.core_threshold
    fresh = led.challenged & ~led.included & core & c.people.present
    led.included |= fresh
    led.ever_included += int(fresh.sum())


# --------------------------------------------------------------------------- bindura
def targets(c: Community) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per slot: the space it would challenge, its fit with that agenda and whether
    it is a member there.  A member addresses its home space; a practitioner with
    no membership the alive space whose agenda fits its purpose best."""
    d, spaces = c.derived, c.spaces
    pair = d.home_pairs()
    space = d.home_space().copy()
    fit = at_home(d.fit(), pair, 1.0)
    outside = np.flatnonzero(c.people.present & (pair < 0))
    if outside.size and spaces.alive.any():
        agenda = pop.unit_rows(spaces.agenda)
        cosine = d.unit_purpose()[outside] @ agenda.T  # (outsiders, S): a few columns
        cosine[:, ~spaces.alive] = -np.inf
        space[outside] = np.argmax(cosine, axis=1)
        fit[outside] = cosine[np.arange(outside.size), space[outside]]
    return space, fit, pair >= 0


def bindura_challengers(c: Community) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who challenges this period (slots), which space and whether a member there."""
    p, d, people, spaces = c.params, c.derived, c.people, c.spaces
    led = ledger(c)
    space, fit, member = targets(c)
    part = d.home_participation()
    members = people.present & member
    typical_fit = np.median(fit[members]) if members.any() else 1.0
    edge = people.present & (~member | (part < p.periphery_threshold))
    stake = edge & (fit < typical_fit) & spaces.alive[space]
    able = (people.resources[:, 2] > 0) & (led.silenced_until <= c.step) & (led.support_left == 0)
    eligible = stake & able
    some = np.flatnonzero(eligible)  # only these need their beliefs compared
    beliefs = people.beliefs[some]
    says = (spaces.codes[space[some]] != beliefs) & (beliefs != 0) & c.world.codified
    eligible[some] = says.any(axis=1)
    who = np.flatnonzero(eligible & kn.bernoulli(c.rng, p.contest_rate, eligible.shape))
    return who, space[who], member[who]


def membership_of(c: Community, slots: np.ndarray, spaces: np.ndarray) -> np.ndarray:
    """Index of the membership (space, slot) for each pair, -1 where there is none
    (one sort of the memberships, so it stays cheap with many challengers)."""
    mb = c.members
    none = np.full(np.shape(slots), -1, dtype=np.int64)
    if len(mb) == 0:
        return none
    keys = mb.space * mb.n_slots + mb.slot
    order = np.argsort(keys, kind="stable")
    wanted = np.asarray(spaces, dtype=np.int64) * mb.n_slots + np.asarray(slots, dtype=np.int64)
    at = np.minimum(np.searchsorted(keys[order], wanted), keys.size - 1)
    return np.where(keys[order[at]] == wanted, order[at], none)


def acceptance(c: Community, who: np.ndarray, space: np.ndarray) -> np.ndarray:
    """P(accepted) = logistic(SAFETY_SLOPE (safety - 1/2) - contest_gap_weight x gap),
    gap = mean of the power gap and the legitimacy gap to the space's core."""
    p, mb, d = c.params, c.members, c.derived
    weight = d.power_weights()
    member_w = weight[mb.slot]
    core = mb.participation >= p.core_threshold
    has_core = np.bincount(mb.space, weights=core, minlength=c.spaces.size) > 0
    elite = np.where(has_core[mb.space], core, True)  # no core: all members
    size = np.maximum(np.bincount(mb.space, weights=elite, minlength=c.spaces.size), 1)
    core_w = np.bincount(mb.space, weights=elite * member_w, minlength=c.spaces.size) / size
    core_l = np.bincount(mb.space, weights=elite * mb.legitimacy, minlength=c.spaces.size) / size
    # the challenger's legitimacy in the space it addresses (0 for a non-member)
    own_l = at_home(mb.legitimacy, membership_of(c, who, space), 0.0)
    power_gap = np.clip(1.0 - weight[who] / np.maximum(core_w[space], 1e-12), 0.0, 1.0)
    legit_gap = np.clip(core_l[space] - own_l, 0.0, 1.0)
    gap = 0.5 * (power_gap + legit_gap)
    logit = SAFETY_SLOPE * (c.spaces.safety[space] - 0.5) - p.contest_gap_weight * gap
    return 1.0 / (1.0 + np.exp(-logit))


def _bindura(c: Community) -> None:
    """Challenges by the periphery and the excluded, accepted by safety and the gap."""
    p, mb, spaces, people = c.params, c.members, c.spaces, c.people
    led = ledger(c)
    who, where, member = bindura_challengers(c)
    if who.size == 0:
        return
    prob = acceptance(c, who, where)
    won = kn.bernoulli(c.rng, prob, who.shape)
    resources.spend_capital(c, who, CONTEST_COST)
    _count_new(c, who)
    c.records.counts["contests"] += int(who.size)
    c.records.counts["contests_won"] += int(won.sum())
    led.outsider_contests += int((~member).sum())
    led.outsider_won += int((~member & won).sum())
    changed = np.zeros(spaces.size, dtype=np.int64)
    excluded = np.zeros(len(mb), dtype=bool)
    joins: list[tuple[int, int]] = []
    there = membership_of(c, who, where)
    loop = zip(who, where, member, won, prob, there, strict=True)
    for slot, space, inside, accepted, chance, k in loop:
        slot, space = int(slot), int(space)  # a loop over the few challengers of a period
        here = np.array([k]) if k >= 0 else np.zeros(0, dtype=np.int64)
        if accepted:
            taken = _bring_knowledge(c, slot, space)
            changed[space] += taken
            spaces.rigidity[space] *= RIGIDITY_AFTER
            spaces.move_agendas(space, people.purpose[slot], AGENDA_SHIFT)
            if here.size:
                k = here[0]
                mb.legitimacy[k] += LEGITIMACY_GAIN * (1.0 - mb.legitimacy[k])
                mb.participation[k] = min(1.0, mb.participation[k] + PARTICIPATION_GAIN)
            else:
                joins.append((space, slot))
            led.support_left[slot] = p.contest_support_periods
            led.support_space[slot] = space
        else:
            excluded[here] = True
            led.silenced_until[slot] = c.step + p.contest_silence_periods + 1
        outcome = ("accepted" if here.size else "admitted") if accepted else None
        if not accepted:
            outcome = "rejected" if here.size else "silenced"
        c.emit(
            "contest" if accepted else "exclusion",
            space=space,
            practitioner=slot,
            outcome=outcome,
            amount=float(chance),
            identity=describe(c, slot),
        )
        led.log.append((c.step, slot, space, bool(inside), bool(accepted), float(chance)))
    mb.keep(~excluded)  # rejected members are shut out of that space
    if joins:  # accepted non-members join at the edge
        space_in, slot_in = (np.array(v, dtype=np.int64) for v in zip(*joins, strict=True))
        mb.add(space_in, slot_in, NEWCOMER_START, NEWCOMER_START)
    c.period.changed += changed
    c.records.repertoire_changes = int(c.period.changed.sum())


def _bring_knowledge(c: Community, slot: int, space: int) -> int:
    """The code takes the challenger's belief, with probability ``renegotiation``, on
    each codified dimension where the challenger holds a belief the code contradicts;
    returns how many dimensions changed."""
    code, belief = c.spaces.codes[space], c.people.beliefs[slot]
    differ = (code != belief) & (belief != 0) & c.world.codified
    take = differ & kn.bernoulli(c.rng, c.params.renegotiation, differ.shape)
    code[take] = belief[take]
    # credit, as for votes, only what brought knowledge: the code now fits reality
    brought = float((take & (code == c.world.reality)).sum())
    c.records.peripheral_weight += brought
    c.records.change_weight += brought
    return int(take.sum())


def _support(c: Community) -> None:
    """Accepted challengers are drawn toward the core of the space that accepted them:
    participation and legitimacy there move a fading share of the way to 1."""
    led, mb = ledger(c), c.members
    if not (led.support_left > 0).any():
        return
    periods = max(c.params.contest_support_periods, 1)
    left = led.support_left[mb.slot]
    on = (left > 0) & (mb.space == led.support_space[mb.slot])
    share = SUPPORT_SHARE * np.where(on, left / periods, 0.0)
    mb.participation += share * (1.0 - mb.participation)
    mb.legitimacy += share * (1.0 - mb.legitimacy)
    np.maximum(led.support_left - 1, 0, out=led.support_left)


# --------------------------------------------------------------------------- readout
def describe(c: Community, slot: int) -> tuple[str, ...]:
    """The practitioner's category on each identity dimension."""
    people = c.people
    return tuple(
        people.identity_levels[dim][people.identity[slot, i]]
        for i, dim in enumerate(people.identity_names)
    )


def measures(c: Community, base: dict) -> dict[str, float]:
    counts = c.records.counts
    led = c.own.get("contestation")
    who = led.challenged if led is not None else None
    core = base["core"]
    values = {
        "contests": float(counts["contests"]),
        "contests_won": float(counts["contests_won"]),
        "contester_core_share": float((who & core).sum() / who.sum())
        if who is not None and who.any()
        else 0.0,
    }
    if led is None:
        return values
    if bindura(c):
        values["challenger_inclusion"] = led.ever_included / led.ever if led.ever else 0.0
        values["outsider_contests"] = float(led.outsider_contests)
        values["outsider_contests_won"] = float(led.outsider_won)
    if c.params.excluded_group is not None:
        group = led.group & base["present"]
        values["excluded_core_share"] = (
            float((group & core).sum() / group.sum()) if group.any() else 0.0
        )
        values["excluded_present"] = float(group.sum())
        values["excluded_inclusion"] = (
            float((group & core).sum() / led.group_size) if led.group_size else 0.0
        )
    return values
