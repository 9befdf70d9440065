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

``"simple"``: a member at the periphery of its home space whose purpose fits
the agenda less than the typical member's (the median over its own
community's members) challenges with probability ``contest_rate``; the
challenge is accepted with probability ``safety`` (the space's).  Accepted: the
challenger gains legitimacy and participation, the repertoire *reopens* (sets
to 0) contested dimensions (each where the code differs from the challenger's
belief, with probability ``renegotiation``), rigidity halves and the agenda
moves toward the challenger's purpose.  Rejected: the challenger is shut out
of the space.

``"bindura"`` (the default): who, how acceptance is decided and what an
accepted challenge brings all follow the case.

- *Who.*  Anyone present with a stake in a space and something to say to it:
  a member at the periphery of its home space, or a practitioner with no
  membership at all (shut out earlier, or never admitted), who addresses the
  alive space of its own community whose agenda fits its purpose best.  The
  stake is the same as in the simple rule (its purpose fits that agenda less
  than the typical member's purpose fits its own: the agenda matters to it and
  does not serve it); something to say means it holds a belief the repertoire
  contradicts on a codified dimension.  It must have political capital left,
  must not be silenced and must not be in the middle of being drawn in after
  an earlier accepted challenge; then it challenges with probability
  ``contest_rate``.
- *Cost.*  Each challenge spends ``CONTEST_COST`` of the challenger's political
  capital (``resources.spend_capital``: with ``resource_budgets`` on, clipped at 0).
- *Acceptance.*  ``P = logistic(SAFETY_SLOPE (safety - 1/2) - contest_gap_weight
  x gap)`` with ``gap = (power gap + legitimacy gap) / 2``.  The power gap is
  ``max(0, 1 - w_challenger / w_core)``, with ``w`` the power weights
  (``(power / mean power of its community) ** power_asymmetry``) and ``w_core``
  the mean weight of the space's core members (of all its members if none is
  core); the legitimacy gap is ``max(0, L_core - L_challenger)``, with a
  non-member's legitimacy 0.  With no gap the acceptance is
  ``logistic(4.4 (safety - 1/2))``: 0.1 at safety 0, 1/2 at 1/2, 0.75 at 0.75
  (the preset's safety), 0.9 at 1.  So the safe, facilitated space is
  necessary and, against a large gap, not sufficient.
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
  linearly fading support) of the way to 1, at the start of the stage.
- *Rejected.*  A member is shut out of the space (as in the simple rule); a
  rejected challenger, member or not, is silenced: it cannot challenge again
  for ``contest_silence_periods`` periods.

*Simultaneous challenges* (both rules).  All the challenges of a period, in
every community of an ensemble at once, are judged against the state at the
start of the contestation stage (after the bindura support): who may
challenge, the acceptance and what each accepted challenger would change are
computed from that state, and the effects are applied together.  Where several
accepted challenges touch one space the resolution is deterministic and does
not depend on the order of the challengers:

- on one (space, dimension), the simple rule reopens the cell if any accepted
  challenger reopens it (the same code as one challenge after another; the
  cell counts once in ``period.changed``); the bindura rule sets the cell to
  the sign of the sum of the beliefs the accepted challengers bring there
  (they all contradict the code, so they agree unless the code was 0), and
  leaves it unchanged on a tie;
- rigidity is multiplied by ``RIGIDITY_AFTER`` once per accepted challenge;
- the agenda moves a share ``1 - (1 - AGENDA_SHIFT) ** n`` of the way toward
  the mean purpose of the space's ``n`` accepted challengers (what ``n``
  successive moves of ``AGENDA_SHIFT`` give when their purposes agree; one
  challenger: ``AGENDA_SHIFT``).

A challenger addresses one space a period, so its own gains, its shutting out
and its joining never collide with another challenge.

Reads: home spaces, participation, legitimacy and fit, power weights,
``spaces.safety``, ``spaces.codes``, ``spaces.agenda``, ``spaces.alive``,
``people.beliefs``, ``people.purpose``, ``people.resources[:, 2]``,
``world.tacit``, ``world.reality`` (credit), ``params`` (periphery_threshold,
core_threshold, contestation_model, contest_support_periods,
contest_silence_periods, excluded_group; per run: contest_rate,
renegotiation, contest_gap_weight; power_asymmetry through the power weights).
Writes: memberships (legitimacy, participation; drops the rejected; adds
accepted non-members), ``spaces.codes``, ``spaces.rigidity``,
``spaces.agenda``, ``people.resources[:, 2]`` (bindura), ``period.changed``,
``records`` (per run: counts, peripheral and change weights, repertoire
changes), events ``contest`` (outcome ``accepted``: a member; ``admitted``: a
non-member who joins) and ``exclusion`` (``rejected``: a member shut out;
``silenced``: a non-member turned away), with the run and the local space and
practitioner; in the bindura rule an event's ``amount`` is the acceptance
probability.  At initialization, when ``params.excluded_group`` is set, each
community's founding excluded group (see :func:`form_group`).
Own state: ``c.own["contestation"]``, a :class:`Ledger`: per slot, who has
challenged, whom the space is drawing in (its local space) and for how long,
who is silenced until when, who belongs to the excluded group; per run, the
group's founding size and running counts of challengers (leavers included);
and, while events are kept, a log of every challenge (with whether the
challenger was a member).  Per-slot entries are cleared when the practitioner
leaves.
Measures (one value per run): ``contests``, ``contests_won``,
``contester_core_share``; with the bindura rule also ``challenger_inclusion``,
``outsider_contests``, ``outsider_contests_won``; with an excluded group
``excluded_core_share`` (core share of the group's founders still present),
``excluded_present`` and ``excluded_inclusion`` (core members of the group
over its founding size, so leavers count as not included).

Draw sites: ``contestation.challenge`` (per slot: whether it challenges),
``contestation.accept`` (per challenger slot), ``contestation.renegotiate`` (per
challenger (slot, dimension) cell) and, at set-up, ``init.excluded_group``
(the group's purposes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

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

_SLOT_FIELDS = (
    "challenged",
    "included",
    "support_left",
    "support_space",
    "silenced_until",
    "group",
)
_RUN_FIELDS = ("group_size", "ever", "ever_included", "outsider_contests", "outsider_won")


@dataclass(eq=False)
class Ledger:
    """The module's own state: one row per slot (K*N), plus per-run (K,) counts."""

    challenged: np.ndarray  # (K*N,) bool: has challenged and is still here
    included: np.ndarray  # (K*N,) bool: has challenged and reached the core since
    support_left: np.ndarray  # (K*N,) int: periods of support still to come
    support_space: np.ndarray  # (K*N,) int: the space drawing the challenger in (LOCAL)
    silenced_until: np.ndarray  # (K*N,) int: first period it may challenge again
    group: np.ndarray  # (K*N,) bool: founding member of the excluded group, still here
    group_size: np.ndarray  # (K,) founders in the excluded group
    ever: np.ndarray  # (K,) people who ever challenged (leavers included)
    ever_included: np.ndarray  # (K,) of them, those who reached the core afterwards
    outsider_contests: np.ndarray  # (K,) challenges by non-members of the space
    outsider_won: np.ndarray  # (K,)
    #: While events are kept, one row per challenge: (step, local slot, local space,
    #: was a member, accepted, probability, run).
    log: list[tuple[int, int, int, bool, bool, float, int]] = field(default_factory=list)

    @classmethod
    def empty(cls, n: int, runs: int = 1) -> Ledger:
        return cls(
            challenged=np.zeros(n, dtype=bool),
            included=np.zeros(n, dtype=bool),
            support_left=np.zeros(n, dtype=np.int64),
            support_space=np.zeros(n, dtype=np.int64),
            silenced_until=np.zeros(n, dtype=np.int64),
            group=np.zeros(n, dtype=bool),
            **{name: np.zeros(runs, dtype=np.int64) for name in _RUN_FIELDS},
        )


def applies(params) -> bool:
    return params.contestation


def bindura(c: Community) -> bool:
    return c.params.contestation_model == "bindura"


def ledger(c: Community) -> Ledger:
    return c.own["contestation"]


def init(c: Community) -> None:
    c.own["contestation"] = Ledger.empty(c.people.size, c.runs)
    if c.params.excluded_group is not None and c.social:
        form_group(c)


def compact(c: Community, runs: np.ndarray, slots: np.ndarray, spaces: np.ndarray) -> None:
    """Keep the ledger of ``runs`` only (their ``slots``); spaces are stored local."""
    led = c.own.get("contestation")
    if led is None:
        return
    for name in _SLOT_FIELDS:
        setattr(led, name, getattr(led, name)[slots])
    for name in _RUN_FIELDS:
        setattr(led, name, getattr(led, name)[runs])
    runs = np.asarray(runs)
    kept = [row for row in led.log if np.isin(row[6], runs)]  # the log (events kept only)
    led.log = [(*row[:6], int(np.searchsorted(runs, row[6]))) for row in kept]


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
    """(K*N,) bool: who has challenged (and is still here)."""
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
    """Each community's founding excluded group (the widows): the last ``share`` of
    its founders' slots (identities are drawn independently per slot, so any block
    of slots is a random sample; taking a block draws nothing).  They take the
    group's category (reserved for them: other founders drawn into it move to the
    dimension's first category) and the other categories ``identity`` names,
    purposes drawn afresh for that identity (keyed by slot, site
    ``init.excluded_group``), and ``resources`` times their money and political
    capital; their power follows.  Because starting participation follows power
    rank (ODD II.5), they start at the edge.  Runs before the founding memberships
    exist, so nothing derived from power or purpose has been computed yet.
    """
    g, people, lay = c.params.excluded_group, c.people, c.layout
    n = lay.slots
    k = min(n, round(float(g.get("share", GROUP_SHARE)) * n))
    slots = (lay.first_slot(np.arange(c.runs))[:, None] + np.arange(n - k, n)).reshape(-1)
    dim, category = _group_code(c)
    people.identity[people.identity[:, dim] == category, dim] = 0
    people.identity[slots, dim] = category
    for name, level in dict(g.get("identity", {})).items():
        people.identity[slots, people.identity_names.index(name)] = people.identity_levels[
            name
        ].index(level)
    purpose = people.purpose.copy()
    purpose[slots] = pop.draw_purpose(c, slots, people.identity[slots], "init.excluded_group")
    people.set_purpose(purpose)
    people.resources[slots, 1:] *= float(g.get("resources", GROUP_RESOURCES))
    people.power[slots] = pop.power_of(people.resources[slots])
    people.income[slots] = people.resources[slots, 1]
    ledger(c).group[slots] = True
    ledger(c).group_size = np.full(c.runs, k, dtype=np.int64)


# --------------------------------------------------------------------------- shared
def typical_fit(c: Community, fit: np.ndarray, members: np.ndarray) -> np.ndarray:
    """(K*N,) the median fit of the members of each slot's community (1 if none).

    One sort of each run's block (non-members last); the median of an even count
    is the mean of the two middle values.
    """
    lay = c.layout
    ordered = np.sort(lay.by_run(np.where(members, fit, np.inf)), axis=1)
    count = lay.count(members)
    rows = np.arange(lay.runs)
    low = ordered[rows, np.maximum(count - 1, 0) // 2]
    high = ordered[rows, np.minimum(count // 2, lay.slots - 1)]
    return lay.to_slots(np.where(count > 0, 0.5 * (low + high), 1.0))


def _draw_challenges(c: Community, eligible: np.ndarray) -> np.ndarray:
    """The eligible slots that challenge this period, each with ``contest_rate``."""
    some = np.flatnonzero(eligible)
    rate = c.at_slots("contest_rate", some)
    return some[c.u_slots("contestation.challenge", some) < rate]


def _changed_so_far(c: Community) -> np.ndarray:
    """``period.changed`` (repertoire dims changed this period), zeros if not yet set."""
    if c.period.changed is None:
        c.period.changed = np.zeros(c.layout.n_spaces, dtype=np.int64)
    return c.period.changed


def _count_changes(c: Community, changed: np.ndarray) -> None:
    """Add this stage's changes per space; the per-run total of the period follows."""
    c.period.changed = _changed_so_far(c) + changed
    c.records.repertoire_changes = c.layout.total_spaces(c.period.changed).astype(np.int64)


def _per_run(c: Community, slots: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
    """(K,) how many of ``slots`` (those with ``where``) belong to each run."""
    run = c.layout.run_of_slots(slots)
    if where is not None:
        run = run[where]
    return np.bincount(run, minlength=c.runs).astype(np.int64)


def _apply_agenda_and_rigidity(c: Community, who: np.ndarray, space: np.ndarray) -> None:
    """Accepted challenges ``who`` -> ``space`` (global): rigidity x RIGIDITY_AFTER per
    challenge; the agenda a share 1 - (1 - AGENDA_SHIFT)^n of the way toward the
    mean purpose of the space's n accepted challengers (order-free)."""
    if who.size == 0:
        return
    spaces = c.spaces
    rows, inverse = np.unique(space, return_inverse=True)
    n = np.bincount(inverse, minlength=rows.size)
    spaces.rigidity[rows] *= RIGIDITY_AFTER ** n.astype(np.float64)
    total = np.zeros((rows.size, spaces.agenda.shape[1]))
    np.add.at(total, inverse, c.people.purpose[who])  # challengers in slot order
    toward = total / n[:, None]
    share = 1.0 - (1.0 - AGENDA_SHIFT) ** n.astype(np.float64)
    spaces.move_agendas(rows, toward, share[:, None])


def _gain(c: Community, pairs: np.ndarray) -> None:
    """Accepted members gain legitimacy and participation in the space addressed."""
    mb = c.members
    mb.legitimacy[pairs] += LEGITIMACY_GAIN * (1.0 - mb.legitimacy[pairs])
    mb.participation[pairs] = np.minimum(1.0, mb.participation[pairs] + PARTICIPATION_GAIN)


def _renegotiation_coins(c: Community, who: np.ndarray) -> np.ndarray:
    """(len(who), m) bool: each challenger cell's renegotiation coin, by (slot, dim)."""
    m = c.layout.dims
    flat = (who[:, None] * m + np.arange(m)).reshape(-1)
    u = c.u_cells("contestation.renegotiate", flat).reshape(who.size, m)
    return u < np.asarray(c.at_slots("renegotiation", who)).reshape(-1, 1)


def step(c: Community) -> None:
    """This period's challenges under the chosen rule, then who has reached the core."""
    _changed_so_far(c)  # set by repertoire learning earlier in the period (zeros if not)
    if bindura(c):
        _support(c)
        _bindura(c)
    else:
        _simple(c)
    _note_inclusion(c)


# --------------------------------------------------------------------------- simple
def challengers(c: Community) -> np.ndarray:
    """The slots that challenge this period: peripheral members whose fit is below
    the median fit of their community's members, each with ``contest_rate``."""
    p, d = c.params, c.derived
    pair = d.home_pairs()
    part = d.home_participation(pair)
    fit = at_home(d.fit(), pair, 1.0)
    members = c.people.present & (pair >= 0)
    divergent = members & (part < p.periphery_threshold) & (fit < typical_fit(c, fit, members))
    return _draw_challenges(c, divergent)


def _simple(c: Community) -> None:
    """Challenges are accepted with probability safety; the rest are rejected.

    Every challenge of the period is judged against the code at the start of the
    stage and the effects are applied together (module docstring)."""
    mb, spaces, people = c.members, c.spaces, c.people
    who = challengers(c)
    if who.size == 0:
        return
    pair = c.derived.home_pairs()[who]
    space = c.derived.home_space()[who]
    won = c.u_slots("contestation.accept", who) < spaces.safety[space]
    _count_new(c, who)
    c.records.counts["contests"] += _per_run(c, who)
    c.records.counts["contests_won"] += _per_run(c, who, won)
    # accepted: reopen (set to 0) codified dims where the code differs from the belief
    yes, where = who[won], space[won]
    reopen = (spaces.codes[where] != people.beliefs[yes]) & c.world.codified
    reopen &= _renegotiation_coins(c, yes)
    rows, inverse = np.unique(where, return_inverse=True)
    cells = np.zeros((rows.size, c.layout.dims), dtype=bool)
    np.logical_or.at(cells, inverse, reopen)  # a cell reopened twice counts once
    spaces.codes[rows] = np.where(cells, 0, spaces.codes[rows])
    changed = np.zeros(c.layout.n_spaces, dtype=np.int64)
    changed[rows] = np.count_nonzero(cells, axis=1)  # reopened: no knowledge, no credit
    _gain(c, pair[won])
    _apply_agenda_and_rigidity(c, yes, where)
    if c.records.keep_events:
        _events(c, who, space, np.ones(who.size, bool), won, None)
    excluded = np.zeros(len(mb), dtype=bool)
    excluded[pair[~won]] = True
    mb.keep(~excluded)  # the rejected are shut out of that space
    _count_changes(c, changed)


def _count_new(c: Community, who: np.ndarray) -> None:
    """Mark ``who`` as challengers; count (per run) those challenging for the first time."""
    led = ledger(c)
    led.ever += _per_run(c, who, ~led.challenged[who])
    led.challenged[who] = True


def _note_inclusion(c: Community) -> None:
    """Challengers who are now core in their home space count as included (once)."""
    led = ledger(c)
    core = c.derived.home_participation() >= c.params.core_threshold
    fresh = led.challenged & ~led.included & core & c.people.present
    led.included |= fresh
    led.ever_included += c.layout.count(fresh)


def _events(c, who, space, member, won, prob) -> None:
    """Events and the log, one per challenge (only while events are kept)."""
    lay, led = c.layout, ledger(c)
    run, slot, local = lay.run_of_slots(who), lay.local_slots(who), lay.local_spaces(space)
    for i in range(who.size):  # building the kept events themselves
        accepted, inside = bool(won[i]), bool(member[i])
        if accepted:
            outcome = "accepted" if inside else "admitted"
        else:
            outcome = "rejected" if inside else "silenced"
        chance = float("nan") if prob is None else float(prob[i])
        extra = {} if prob is None else {"amount": chance}
        c.emit(
            "contest" if accepted else "exclusion",
            run=int(run[i]),
            space=int(local[i]),
            practitioner=int(slot[i]),
            outcome=outcome,
            identity=describe(c, int(who[i])),
            **extra,
        )
        led.log.append((c.step, int(slot[i]), int(local[i]), inside, accepted, chance, int(run[i])))


# --------------------------------------------------------------------------- bindura
def targets(
    c: Community, among: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per slot: the space (global) it would challenge, its fit with that agenda and
    whether it is a member there.  A member addresses its home space; a
    practitioner with no membership the alive space of its community whose agenda
    fits its purpose best (first such space on a tie).  With ``among`` (bool per
    slot) only those non-members are placed; the others keep their run's first
    space and fit 1 (no stake)."""
    d, spaces, lay = c.derived, c.spaces, c.layout
    pair = d.home_pairs()
    space = np.where(pair >= 0, d.home_space(), lay.first_space(lay.slot_run))
    fit = at_home(d.fit(), pair, 1.0)
    lost = c.people.present & (pair < 0)
    outside = np.flatnonzero(lost if among is None else lost & among)
    if outside.size:
        run = lay.run_of_slots(outside)
        agenda = lay.spaces_by_run(pop.unit_rows(spaces.agenda))[run]  # (o, S, T)
        purpose = d.unit_purpose()[outside]  # (o, T)
        cosine = np.zeros((outside.size, lay.spaces))
        for t in range(purpose.shape[1]):  # over the few themes
            cosine += purpose[:, t, None] * agenda[:, :, t]
        cosine[~lay.spaces_by_run(spaces.alive)[run]] = -np.inf
        best = np.argmax(cosine, axis=1)
        space[outside] = lay.first_space(run) + best
        fit[outside] = cosine[np.arange(outside.size), best]
    return space, fit, pair >= 0


def bindura_challengers(c: Community) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who challenges this period (slots), which space (global) and whether a
    member there."""
    p, d, people, spaces = c.params, c.derived, c.people, c.spaces
    led = ledger(c)
    able = (people.resources[:, 2] > 0) & (led.silenced_until <= c.step) & (led.support_left == 0)
    space, fit, member = targets(c, among=able)  # the typical fit is the members' only
    part = d.home_participation()
    members = people.present & member
    edge = people.present & (~member | (part < p.periphery_threshold))
    stake = edge & (fit < typical_fit(c, fit, members)) & spaces.alive[space]
    eligible = stake & able
    some = np.flatnonzero(eligible)  # only these need their beliefs compared
    beliefs = people.beliefs[some]
    says = (spaces.codes[space[some]] != beliefs) & (beliefs != 0) & c.world.codified
    eligible[some] = says.any(axis=1)
    who = _draw_challenges(c, eligible)
    return who, space[who], member[who]


def membership_of(c: Community, slots: np.ndarray, spaces: np.ndarray) -> np.ndarray:
    """Index of the membership (space, slot) for each pair, -1 where there is none
    (one sort of the memberships; global keys never mix runs)."""
    mb = c.members
    none = np.full(np.shape(slots), -1, dtype=np.int64)
    if len(mb) == 0:
        return none
    keys = mb.space * mb.n_slots + mb.slot
    order = np.argsort(keys, kind="stable")
    wanted = np.asarray(spaces, dtype=np.int64) * mb.n_slots + np.asarray(slots, dtype=np.int64)
    at = np.minimum(np.searchsorted(keys[order], wanted), keys.size - 1)
    return np.where(keys[order[at]] == wanted, order[at], none)


def acceptance(
    c: Community, who: np.ndarray, space: np.ndarray, there: np.ndarray | None = None
) -> np.ndarray:
    """P(accepted) = logistic(SAFETY_SLOPE (safety - 1/2) - contest_gap_weight x gap),
    gap = mean of the power gap and the legitimacy gap to the space's core.

    ``there`` is each challenger's membership in the space it addresses (-1 for
    none); looked up when not given."""
    p, mb, d = c.params, c.members, c.derived
    n_spaces = c.spaces.size
    weight = d.power_weights()
    member_w = weight[mb.slot]
    core = mb.participation >= p.core_threshold
    has_core = np.bincount(mb.space, weights=core, minlength=n_spaces) > 0
    elite = np.where(has_core[mb.space], core, True)  # no core: all members
    size = np.maximum(np.bincount(mb.space, weights=elite, minlength=n_spaces), 1)
    core_w = np.bincount(mb.space, weights=elite * member_w, minlength=n_spaces) / size
    core_l = np.bincount(mb.space, weights=elite * mb.legitimacy, minlength=n_spaces) / size
    # the challenger's legitimacy in the space it addresses (0 for a non-member)
    if there is None:
        there = membership_of(c, who, space)
    own_l = at_home(mb.legitimacy, there, 0.0)
    power_gap = np.clip(1.0 - weight[who] / np.maximum(core_w[space], 1e-12), 0.0, 1.0)
    legit_gap = np.clip(core_l[space] - own_l, 0.0, 1.0)
    gap = 0.5 * (power_gap + legit_gap)
    gap_weight = c.at_slots("contest_gap_weight", who)
    logit = SAFETY_SLOPE * (c.spaces.safety[space] - 0.5) - gap_weight * gap
    return 1.0 / (1.0 + np.exp(-logit))


def _bindura(c: Community) -> None:
    """Challenges by the periphery and the excluded, accepted by safety and the gap.

    Vectorized over every challenger of every run: all are judged against the
    state at the start of the stage, and the effects are applied together with
    the order-free resolution of the module docstring (bringing knowledge: the sign
    of the summed beliefs brought to a cell, unchanged on a tie)."""
    p, mb = c.params, c.members
    led, lay = ledger(c), c.layout
    who, where, member = bindura_challengers(c)
    if who.size == 0:
        return
    # a member addresses its home space, a non-member has no membership at all
    there = np.where(member, c.derived.home_pairs()[who], -1)
    prob = acceptance(c, who, where, there)
    won = c.u_slots("contestation.accept", who) < prob
    resources.spend_capital(c, who, CONTEST_COST)
    _count_new(c, who)
    c.records.counts["contests"] += _per_run(c, who)
    c.records.counts["contests_won"] += _per_run(c, who, won)
    led.outsider_contests += _per_run(c, who, ~member)
    led.outsider_won += _per_run(c, who, ~member & won)
    # accepted: knowledge in, agenda and rigidity, the challenger's gains and support
    yes, at = who[won], where[won]
    changed = _bring_knowledge(c, yes, at)
    _apply_agenda_and_rigidity(c, yes, at)
    inside = member[won]
    _gain(c, there[won][inside])
    led.support_left[yes] = p.contest_support_periods
    led.support_space[yes] = lay.local_spaces(at)
    # rejected: members shut out, everyone rejected silenced
    no = who[~won]
    led.silenced_until[no] = c.step + p.contest_silence_periods + 1
    if c.records.keep_events:
        _events(c, who, where, member, won, prob)
    excluded = np.zeros(len(mb), dtype=bool)
    excluded[there[~won & member]] = True
    mb.keep(~excluded)  # rejected members are shut out of that space
    if (~inside).any():  # accepted non-members join at the edge
        mb.add(at[~inside], yes[~inside], NEWCOMER_START, NEWCOMER_START)
    _count_changes(c, changed)


def _bring_knowledge(c: Community, who: np.ndarray, space: np.ndarray) -> np.ndarray:
    """The accepted challengers' knowledge enters the code: on each codified dimension
    where a challenger holds a belief the (stage-start) code contradicts, it claims the
    cell with probability ``renegotiation``; a cell takes the sign of the summed
    claims on it (unchanged on a tie).  Credits the changes that brought knowledge
    (per run) and returns the changed dimensions per space (K*S,)."""
    spaces, lay = c.spaces, c.layout
    changed = np.zeros(lay.n_spaces, dtype=np.int64)
    if who.size == 0:
        return changed
    beliefs = c.people.beliefs[who]
    differ = (spaces.codes[space] != beliefs) & (beliefs != 0) & c.world.codified
    claim = np.where(differ & _renegotiation_coins(c, who), beliefs, 0).astype(np.int64)
    rows, inverse = np.unique(space, return_inverse=True)
    net = np.zeros((rows.size, lay.dims), dtype=np.int64)
    np.add.at(net, inverse, claim)  # integer sums: order-free
    new = np.sign(net).astype(spaces.codes.dtype)
    before = spaces.codes[rows]
    take = (new != 0) & (new != before)
    after = np.where(take, new, before)
    spaces.codes[rows] = after
    changed[rows] = np.count_nonzero(take, axis=1)
    # credit, as for votes, only what brought knowledge: the code now fits reality
    reality = c.world.reality[lay.run_of_spaces(rows)]
    brought = np.count_nonzero(take & (after == reality), axis=1).astype(np.float64)
    credit = np.bincount(lay.run_of_spaces(rows), weights=brought, minlength=c.runs)
    c.records.peripheral_weight += credit
    c.records.change_weight += credit
    return changed


def _support(c: Community) -> None:
    """Accepted challengers are drawn toward the core of the space that accepted them:
    participation and legitimacy there move a fading share of the way to 1."""
    led, mb = ledger(c), c.members
    if not (led.support_left > 0).any():  # nothing to do in any run: exactly a no-op
        return
    periods = max(c.params.contest_support_periods, 1)
    left = led.support_left[mb.slot]
    on = (left > 0) & (c.layout.local_spaces(mb.space) == led.support_space[mb.slot])
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


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den per run, 0 where den is 0."""
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    return np.where(den > 0, num / np.maximum(den, 1.0), 0.0)


def measures(c: Community, base: dict) -> dict[str, np.ndarray]:
    counts, lay = c.records.counts, c.layout
    led = c.own.get("contestation")
    core = base["core"]
    values = {
        "contests": counts["contests"].astype(np.float64),
        "contests_won": counts["contests_won"].astype(np.float64),
        "contester_core_share": np.zeros(c.runs),
    }
    if led is None:
        return values
    who = led.challenged
    values["contester_core_share"] = _ratio(lay.count(who & core), lay.count(who))
    if bindura(c):
        values["challenger_inclusion"] = _ratio(led.ever_included, led.ever)
        values["outsider_contests"] = led.outsider_contests.astype(np.float64)
        values["outsider_contests_won"] = led.outsider_won.astype(np.float64)
    if c.params.excluded_group is not None:
        group = led.group & base["present"]
        in_core = lay.count(group & core)
        values["excluded_core_share"] = _ratio(in_core, lay.count(group))
        values["excluded_present"] = lay.count(group).astype(np.float64)
        values["excluded_inclusion"] = _ratio(in_core, led.group_size)
    return values
