"""``CoPModel``: a community of practice as a Mesa model over numpy state.

The practitioners are Mesa agents (:class:`copsim.agents.Practitioner`), but
every state variable lives in model-owned arrays with one row per practitioner
*slot* (and one row per learning space), and each step is a short sequence of
array operations over all of them.  With the social layer off (the
``march1991`` preset) a step is exactly March's (1991) period, computed by the
same kernels as the batch replication study.  The schedule of a social step is
documented in ``docs/ODD.md`` and in :meth:`CoPModel.step`.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import mesa
import numpy as np

from copsim import conversation as conv
from copsim import knowledge as kn
from copsim import metrics, outcomes
from copsim import population as pop
from copsim.agents import Practitioner
from copsim.funding import Funder, meeting_intensity
from copsim.params import Params
from copsim.seeds import SeedLike
from copsim.spaces import Memberships

#: Tenure (periods) during which a member counts as a newcomer for reification pressure.
NEWCOMER_TENURE = 10
#: Participation below which a member counts as inactive (for space survival and exits).
INACTIVE = 0.05
#: Extra exit chance per period per unit of purpose misfit with the home agenda.
MISFIT_EXIT = 0.05
#: Votes an outside expert casts under a grand plan (in units of member votes).
EXPERT_VOTES = 5.0


def at_home(values: np.ndarray, pair: np.ndarray, outside: float) -> np.ndarray:
    """Per slot: a per-membership quantity at the slot's home membership ``pair``
    (``outside`` for slots with no membership, pair -1; also when nobody is a member)."""
    if values.size == 0:
        return np.full(pair.shape, outside, dtype=np.result_type(values, outside))
    return np.where(pair >= 0, values[np.maximum(pair, 0)], outside)


def _metric(model: CoPModel, name: str) -> Any:
    """DataCollector reporter: read one value of the step's metrics (picklable)."""
    return model.metrics[name]


class CoPModel(mesa.Model):
    """A community of practice learning about a changing reality."""

    def __init__(
        self,
        params: Params | None = None,
        *,
        rng: SeedLike | np.random.Generator | None = None,
        **overrides: Any,
    ) -> None:
        params = params if params is not None else Params()
        if overrides:
            params = params.replace(**overrides)
        super().__init__(rng=rng)
        self.params = params
        p = params
        n, m = p.n_practitioners, p.n_dimensions
        self.social = p.social_layer
        spaces = p.n_spaces if self.social else 1

        # -- environment and knowledge state (March rules 1-2) ---------------------
        self.reality = kn.draw_reality(self.rng, (m,))
        self.beliefs = kn.draw_beliefs(self.rng, (n, m))
        self.codes = np.zeros((spaces, m), dtype=kn.BELIEF_DTYPE)
        self.socialization_rates = np.full(n, p.socialization_rate)
        self.socialization_rates[: round(p.slow_learner_share * n)] = p.slow_socialization_rate
        self.tacit = np.zeros(m, dtype=bool)
        if self.social:
            self.tacit[: round(p.tacit_share * m)] = True

        # -- people, spaces, funder ---------------------------------------------------
        self.events: list[dict[str, Any]] = []
        self.exits = 0
        self.present = np.ones(n, dtype=bool)
        self.tenure = np.zeros(n, dtype=np.int64)
        self.identity_names = list(p.identity_dimensions) if self.social else []
        self.identity_levels = dict(p.identity_dimensions) if self.social else {}
        self.funder = Funder(p)
        self._init_people_and_spaces(n, spaces)
        # who occupies each slot: bumped on every departure and arrival; Mesa's
        # registry is brought up to date lazily (see sync_agents)
        self._occupant = np.zeros(n, dtype=np.int64)
        self._agent_occupant = np.zeros(n, dtype=np.int64)
        self._slot_agent: list[Practitioner | None] = list(
            Practitioner.create_agents(self, n, slot=np.arange(n))
        )

        # -- what the outcome indices compare against ---------------------------------
        self.baseline = outcomes.Baseline(
            beliefs=self.beliefs.copy(),
            diversity=metrics.belief_diversity(self.beliefs),
            powerful_view=outcomes.powerful_view(self.beliefs, self.power, self.membership),
            codified=~self.tacit,
        )
        self.at_equilibrium = False
        self.metrics: dict[str, float] = {}
        self._update_metrics()
        self.datacollector = self._make_datacollector()
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ set-up
    def _init_people_and_spaces(self, n: int, spaces: int) -> None:
        p = self.params
        if self.social:
            newcomers = pop.draw_newcomers(self.rng, p, n)
            self.identity, self.purpose = newcomers.identity, newcomers.purpose
            self.resources = newcomers.resources
        else:
            self.identity = np.zeros((n, 0), dtype=np.int16)
            self.purpose = np.ones((n, 1))
            self.resources = np.full((n, 3), 0.5)
        self.power = pop.power_of(self.resources)
        self.income = self.resources[:, 1].copy()
        self.members = Memberships(spaces, n)
        self._home_version = self._fit_key = self._power_key = self._rank_key = None
        self._home_space_of = None
        self._people_version = 0  # bumped whenever someone leaves or enters
        self._purpose_version = 0  # bumped whenever purposes change
        self._agenda_version = 0  # bumped whenever agendas change
        self._unit_purpose_version = -1
        self.agenda = np.full((spaces, self.purpose.shape[1]), 1.0 / self.purpose.shape[1])
        self.funds = np.ones(spaces)
        self.intensity = np.ones(spaces)
        self.rigidity = np.zeros(spaces)
        self.safety = np.full(spaces, p.safety if self.social else 1.0)
        self.alive = np.ones(spaces, dtype=bool)
        self.gain = np.zeros(n)
        self.engagement = np.zeros(n)  # purpose similarity of last conversation (0 if none)
        self.founder = np.ones(n, dtype=bool)
        self._peripheral_weight = 0.0
        self._change_weight = 0.0
        self.last_exchange: conv.Exchange | None = None
        self.repertoire_changes = 0
        self.counts = {"conflicts": 0, "contests": 0, "contests_won": 0, "conversations": 0}
        if self.social:
            space, slot = np.nonzero(self._draw_memberships(n, spaces))
            rank = np.argsort(np.argsort(self.power)) / max(n - 1, 1)
            start = np.clip(0.1 + 0.6 * rank + self.rng.normal(0, 0.05, n), 0, 1)
            self.members.add(space, slot, start[slot], start[slot])
            self._set_agendas_from_convenors()
        else:  # March: one code, everyone a full member
            self.members.add(np.zeros(n, dtype=np.int64), np.arange(n), 1.0, 1.0)
        self.founding_mass = np.maximum(self.members.per_space(self.members.participation), 1e-9)
        self.cohort = (self.home_participation() < p.periphery_threshold) | (
            self.power <= np.quantile(self.power, 1 / 3)
        )
        self.cohort_size = int(self.cohort.sum())
        self.peripheral_origin = self.cohort.copy()  # started at the edge (or as newcomers)
        self.contested = np.zeros(n, dtype=bool)  # has challenged (and is still here)

    def _draw_memberships(self, n: int, spaces: int) -> np.ndarray:
        """Each practitioner joins 1 + Poisson(mean - 1) distinct spaces (constellations)."""
        count, order = self._constellations(n, spaces)
        ranks = np.argsort(order, axis=1)
        return (ranks < count[:, None]).T

    def _constellations(self, k: int, spaces: int) -> tuple[np.ndarray, np.ndarray]:
        """For ``k`` people: how many spaces each seeks (1 + Poisson(mean - 1), at most
        ``spaces``) and a random order of the spaces, one row per person."""
        extra = self.rng.poisson(self.params.memberships_per_practitioner - 1.0, k)
        order = np.argsort(self.rng.random((k, spaces)), axis=1)
        return np.minimum(1 + extra, spaces), order

    def _set_agendas_from_convenors(self) -> None:
        """Without conversation as data an agenda is what the powerful convenors want."""
        w = pop.power_weights(self.power, self.present, self.params.power_asymmetry + 1.0)
        self.agenda = self._weighted_mean_purpose(w[self.members.slot])
        self._agenda_version += 1

    def _weighted_mean_purpose(self, weights: np.ndarray) -> np.ndarray:
        """Per space, the mean purpose of its members under per-membership weights."""
        total = self.members.per_space(weights)[:, None]
        voiced = self.members.weighted_rows(weights, self.purpose)
        return np.where(total > 0, voiced / np.where(total > 0, total, 1.0), self.agenda)

    # ------------------------------------------------------------------ Mesa agents
    def sync_agents(self) -> None:
        """Bring Mesa's agents up to date with who is present: one ``Practitioner``
        per present slot, a new agent (new ``unique_id``) for each newcomer.

        Arrivals and departures happen in arrays during a step; the per-agent
        Mesa bookkeeping (about 10 us per agent) is done here, only for slots
        whose occupant changed, and only when someone looks at the agents
        (``agents``, ``agents_by_type``, ``slot_agent``, agent reporters).
        """
        if not hasattr(self, "_occupant"):  # still inside mesa.Model.__init__
            return
        stale = np.flatnonzero(self._occupant != self._agent_occupant)
        for slot in stale:  # only slots whose occupant changed since the last look
            agent = self._slot_agent[slot]
            if agent is not None:
                agent.remove()
            self._slot_agent[slot] = Practitioner(self, slot) if self.present[slot] else None
        self._agent_occupant[stale] = self._occupant[stale]

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """All present practitioners as Mesa agents (synchronized on access)."""
        self.sync_agents()
        return super().agents

    @property
    def agents_by_type(self) -> dict[type, mesa.agent.AgentSet]:
        self.sync_agents()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        self.sync_agents()
        return super().agent_types

    @property
    def slot_agent(self) -> list[Practitioner | None]:
        """The agent in each slot (None for an empty slot), synchronized on access."""
        self.sync_agents()
        return self._slot_agent

    # ------------------------------------------------------------------ queries
    @property
    def membership(self) -> np.ndarray:
        """(S, N) bool: who belongs to which space (a dense copy, for reading)."""
        return self.members.dense(np.ones(len(self.members), dtype=bool), fill=False)

    @property
    def participation(self) -> np.ndarray:
        """(S, N) participation in each space, 0 outside it (a dense copy, for reading)."""
        return self.members.dense(self.members.participation)

    @property
    def legitimacy(self) -> np.ndarray:
        """(S, N) legitimacy granted in each space, 0 outside it (a dense copy)."""
        return self.members.dense(self.members.legitimacy)

    def home_pairs(self) -> np.ndarray:
        """Per slot, the index of its home membership (-1 for none).

        The home space is where a practitioner participates most; it is decided
        once a period, after participation is updated, and again whenever
        memberships change (cached on the memberships' version).
        """
        if self._home_version != self.members.version:
            self._home = self.members.home()
            self._home_version = self.members.version
        return self._home

    def home_space(self) -> np.ndarray:
        """Each practitioner's main space (where it participates most), 0 if none.

        Computed once per home decision (:meth:`home_pairs`).
        """
        current = self.home_pairs()
        if self._home_space_of is not current:
            self._home_space = at_home(self.members.space, current, 0)
            self._home_space_of = current
        return self._home_space

    def home_participation(self, home: np.ndarray | None = None) -> np.ndarray:
        """Participation in the home space per slot (0 for non-members)."""
        home = self.home_pairs() if home is None else home
        return at_home(self.members.participation, home, 0.0)

    def centrality(self) -> np.ndarray:
        """Participation x legitimacy in the home space (-1 for absent slots)."""
        home = self.home_pairs()
        legit = at_home(self.members.legitimacy, home, 0.0)
        return np.where(self.present, self.home_participation(home) * legit, -1.0)

    def role_play_active(self) -> bool:
        p = self.params
        return (
            self.social
            and p.role_play
            and p.role_play_start <= self.steps < p.role_play_start + p.role_play_duration
        )

    def receptiveness(self) -> np.ndarray:
        """How open each practitioner is to learning: 1, less for the powerful.

        Chambers (quoted in Johnson 2007): "for learning, power is a
        disability".  Receptiveness is min(1, 1 / power weight), so at
        asymmetry 0 everyone learns at the full rate.
        """
        self._refresh_power()
        return self._receptiveness

    def power_weights(self) -> np.ndarray:
        """Per slot: (power / mean power of those present) ** asymmetry, 0 if absent.

        Cached until someone leaves or enters (power and presence change only then).
        """
        self._refresh_power()
        return self._power_w

    def _refresh_power(self) -> None:
        if self._power_key == self._people_version:
            return
        a = self.params.power_asymmetry
        self._power_w = pop.power_weights(self.power, self.present, a)
        self._receptiveness = np.minimum(1.0, 1.0 / np.maximum(self._power_w, 1e-12))
        self._power_key = self._people_version

    def power_rank(self) -> np.ndarray:
        """Per slot: power rank among those present, -1 (least) to +1 (most), 0 if absent.

        Cached until someone leaves or enters.
        """
        if self._rank_key != self._people_version:
            if self._rank_key is None:
                self._power_order = pop.power_order(self.power, self.present)
            else:  # keep the stayers' order, insert the newcomers
                stayed = self.present & (self._occupant == self._rank_occupant)
                self._power_order = pop.update_power_order(
                    self._power_order, stayed, self.power, self.present
                )
            self._rank_occupant = self._occupant.copy()
            self._power_rank = pop.rank_of(self._power_order, self.power.size)
            self._rank_key = self._people_version
        return self._power_rank

    def fit(self) -> np.ndarray:
        """Per membership: cosine similarity of the member's purpose with the agenda.

        Cached until memberships, agendas or purposes change.
        """
        key = (self.members.version, self._purpose_version, self._agenda_version)
        if self._fit_key != key:
            mb = self.members
            purpose = np.take(self.unit_purpose(), mb.slot, axis=0)
            agenda = np.take(pop.unit_rows(self.agenda), mb.space, axis=0)
            self._fit = np.einsum("ij,ij->i", purpose, agenda)
            self._fit_key = key
        return self._fit

    def unit_purpose(self) -> np.ndarray:
        """Purpose profiles scaled to unit length (cached until purposes change)."""
        if self._unit_purpose_version != self._purpose_version:
            self._unit_purpose = pop.unit_rows(self.purpose)
            self._unit_purpose_version = self._purpose_version
        return self._unit_purpose

    def alignment(self) -> np.ndarray:
        """(S, N) purpose-agenda fit of every member (0 outside a space), for reading."""
        return self.members.dense(self.fit())

    # ------------------------------------------------------------------ schedule
    def step(self) -> None:
        """One period.  Social layer off: March's period exactly.

        Social layer on, in this order: turnover, turbulence, funding,
        participation, acting, conversation, socialization, repertoire learning,
        contestation, reification, legitimacy, exits and entry, agendas and
        purposes; then the outcome measures.
        """
        if self.social:
            self._social_step()
        else:
            self._march_step()
        self.tenure += self.present
        self._update_metrics()
        self.datacollector.collect(self)
        self._check_stop()

    def _march_step(self) -> None:
        p = self.params
        if p.turnover_rate > 0:
            leaving = kn.replace_individuals(self.beliefs, p.turnover_rate, self.rng)
            self._renew_agents(np.flatnonzero(leaving))
        if p.turbulence_rate > 0:
            kn.shift_reality(self.reality, p.turbulence_rate, self.rng)
        actions = kn.act(self.beliefs, self.rng)
        action_scores = kn.score(actions, self.reality)
        kn.socialize(self.beliefs, self.codes, self.socialization_rates[:, None], self.rng)
        weights = kn.superior_weights(action_scores, kn.score(self.codes, self.reality))
        votes = kn.net_votes(actions, weights)
        kn.learn_code(self.codes, votes, p.repertoire_learning_rate, self.rng)

    def _social_step(self) -> None:
        p = self.params
        if p.turnover_rate > 0:
            leaving = self.present & kn.bernoulli(self.rng, p.turnover_rate, self.present.shape)
            self._exit(np.flatnonzero(leaving), reason=None)
            self._enter(np.flatnonzero(leaving))
        if p.turbulence_rate > 0:
            kn.shift_reality(self.reality, p.turbulence_rate, self.rng)
        self._fund_spaces()
        self._update_participation()
        actions = kn.act(self.beliefs, self.rng)
        action_scores = kn.score(actions, self.reality)
        self._converse(action_scores)
        self._socialize()
        changed = self._learn_repertoires(actions, action_scores)
        if p.contestation:
            changed += self._contest()
        if p.reification:
            self._reify(changed)
        self.repertoire_changes = int(changed.sum())
        self._grant_legitimacy(action_scores)
        self._exits_and_entries()
        self._update_agendas_and_purposes()
        self._update_survival()

    # ------------------------------------------------------------------ social submodels
    def _fund_spaces(self) -> None:
        """Funding arrives (or a shock strikes); members top up what is missing."""
        p = self.params
        if not p.funding:
            self.intensity = self.alive.astype(float)  # a dissolved space no longer meets
            return
        kind = self.funder.strike(self.steps, self.rng)
        if kind is not None:
            text = {
                "cut": f"Funding cut by {p.shock_severity:.0%}",
                "stop": "Funding stopped",
                "delay": f"Funding delayed for {p.shock_duration} periods",
            }[kind]
            self.log("shock", f"{text} at step {self.steps}")
        self.funds += np.where(self.alive, self.funder.budget(self.steps), 0.0)
        cost = np.where(self.alive, self.meeting_cost(), 0.0)
        shortfall = np.maximum(cost - self.funds, 0.0)
        contributions = self._members_contribute(shortfall)
        intensity, self.funds = meeting_intensity(self.funds, contributions, cost)
        self.intensity = np.where(self.alive, intensity, 0.0)  # a dissolved space never meets

    def meeting_cost(self) -> np.ndarray:
        """What a space needs this period: its participation relative to its founding
        level (1.0 = the founding community meeting fully).  A community that shrinks
        meets more cheaply, which is how it can recover on a smaller budget."""
        return self.members.per_space(self.members.participation) / self.founding_mass

    def _members_contribute(self, shortfall: np.ndarray) -> np.ndarray:
        """Members pay part of a shortfall from their own money, which runs down
        and only slowly recovers toward their usual means (their income)."""
        p = self.params
        money = self.resources[:, 1]
        money += 0.05 * (self.income - money) * self.present  # means recover slowly
        mb = self.members
        offer = p.self_funding * mb.participation * money[mb.slot]
        offered = mb.per_space(offer)
        contributions = np.minimum(shortfall, offered)
        share = contributions / np.where(offered > 0, offered, 1.0)
        money -= mb.per_slot(offer * share[mb.space])
        np.clip(money, 0.0, 1.0, out=money)
        return contributions

    def _update_participation(self) -> None:
        """Members move toward the participation their time, purpose fit, legitimacy,
        recent learning and the space's ability to meet allow (Johnson: access to
        resources shapes participation; OGP: lack of time)."""
        p = self.params
        mb = self.members
        time = np.take(self.resources[:, 0], mb.slot)
        drive = 0.15 * time + 0.35 * self.fit() + 0.4 * mb.legitimacy + 0.1
        drive += np.minimum(2.0 * self.gain[mb.slot], 0.2) + 0.2 * self.engagement[mb.slot]
        target = self.intensity[mb.space] * np.clip(drive, 0.0, 1.0)
        target = np.minimum(target, 0.2 + time)  # no more engagement than time allows
        mb.participation += p.participation_adaptation * (target - mb.participation)
        np.clip(mb.participation, 0.0, 1.0, out=mb.participation)
        self._home_version = None  # this period's home spaces follow the new participation

    def _attending(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Who meets this period (by participation), in which (home) space, and the
        index of that home membership (-1 for none)."""
        pair = self.home_pairs()
        home = self.home_space()
        chance = self.home_participation(pair) * self.intensity[home]
        attend = self.present & (pair >= 0) & kn.bernoulli(self.rng, chance, chance.shape)
        return home, attend, pair

    def _converse(self, action_scores: np.ndarray) -> None:
        p = self.params
        home, attend, pair = self._attending()
        keys = conv.group_keys(
            p.organizing_principle, self.identity, self.purpose, self.identity_names
        )
        left, right = conv.pair_up(home, keys, attend, self.rng)
        distance = conv.identity_distance(self.identity, left, right)
        felt = distance * (p.role_play_identity_weight if self.role_play_active() else 1.0)
        space = home[left]
        conflict, learned = conv.converse(
            self.beliefs,
            action_scores,
            left,
            right,
            self.safety[space],
            distance,
            felt,
            p.conversation_rate,
            p.diversity_gain,
            self.receptiveness(),
            self.rng,
        )
        for side in (left, right):  # withdrawal after conflict, in the pair's space
            self.members.participation[pair[side[conflict]]] *= 1.0 - p.withdrawal
        similarity = conv.purpose_similarity(self.unit_purpose(), left, right) * ~conflict
        self.gain = learned / self.beliefs.shape[1]
        self.engagement[:] = 0.0
        self.engagement[left], self.engagement[right] = similarity, similarity
        self.last_exchange = conv.Exchange(
            left, right, space, conflict, distance, similarity, learned
        )
        self.counts["conflicts"] += int(conflict.sum())
        self.counts["conversations"] += int(left.size)

    def _socialize(self) -> None:
        """Members learn the codified part of their home space's repertoire; rigid
        repertoires press harder on newcomers."""
        p = self.params
        pair = self.home_pairs()
        home = self.home_space()
        targets = np.take(self.codes, home, axis=0)  # np.take: much faster row gather
        targets[:, self.tacit] = 0  # tacit knowledge is never in a repertoire
        newcomer = self.tenure < NEWCOMER_TENURE
        pressure = 1.0 + p.newcomer_pressure * self.rigidity[home] * newcomer
        rates = self.socialization_rates * self.home_participation(pair) * pressure
        rates *= self.receptiveness()
        if self.role_play_active():  # out of role, members explore rather than conform
            rates *= p.role_play_identity_weight
        rates = np.clip(rates * self.present, 0.0, 1.0)
        kn.socialize(self.beliefs, targets, rates[:, None], self.rng)

    def _learn_repertoires(self, actions: np.ndarray, action_scores: np.ndarray) -> np.ndarray:
        """Each space's code learns from its superior members, power-weighted.

        Who looks superior is judged on a performance mixed with power rank (at
        asymmetry 0 the action score alone, as in March); the weight of a member
        is participation x (power / mean)**asymmetry, scaled so an average
        superior member casts one vote, which keeps k = |net votes| in March's
        units.  Returns changes per space.
        """
        p = self.params
        code_scores = kn.score(self.codes, self.reality)
        power_w = self.power_weights()
        perceived = pop.perceived_scores(
            action_scores, self.power_rank(), self.present, p.power_asymmetry
        )
        mb = self.members
        superior = perceived[mb.slot] > code_scores[mb.space]
        weights = superior * mb.participation * power_w[mb.slot]
        count = mb.per_space((superior & (mb.participation > 0)).astype(np.float64))
        mean_w = mb.per_space(weights) / np.maximum(count, 1)
        weights = weights / np.where(mean_w > 0, mean_w, 1.0)[mb.space]
        votes = mb.weighted_rows(weights, actions.astype(np.float32))
        if p.grand_plan and p.funding:
            votes = self._expert_votes(votes)
        votes[:, self.tacit] = 0.0
        rate = (p.repertoire_learning_rate * (1.0 - self.rigidity) * self.intensity)[:, None]
        before = self.codes.copy()
        kn.learn_code(self.codes, votes, rate, self.rng)
        changed = np.count_nonzero(self.codes != before, axis=1)
        from_edge = mb.per_space(weights * self.peripheral_origin[mb.slot])
        peripheral_share = from_edge / np.maximum(mb.per_space(weights), 1e-12)
        self._peripheral_weight += float((peripheral_share * changed).sum())
        self._change_weight += float(changed.sum())
        return changed

    def _expert_votes(self, votes: np.ndarray) -> np.ndarray:
        """Under a grand plan the funder's expert replaces member learning in a
        share (conditionality) of spaces each period (Johnson: consultants)."""
        p = self.params
        if not hasattr(self, "expert_view"):
            right = kn.bernoulli(self.rng, p.expert_accuracy, self.reality.shape)
            self.expert_view = np.where(right, self.reality, -self.reality).astype(np.int8)
        replaced = kn.bernoulli(self.rng, max(p.conditionality, 0.5), (votes.shape[0],))
        votes[replaced] = EXPERT_VOTES * self.expert_view
        return votes

    def _contest(self) -> np.ndarray:
        """Peripheral members whose purposes diverge from the agenda may challenge
        it (the Bindura widows).  In a safe space the challenge is accepted: the
        challenger gains legitimacy and the repertoire reopens the contested
        dimensions; in an unsafe one the challenger is shut out of the space."""
        p = self.params
        mb = self.members
        pair = self.home_pairs()
        home = self.home_space()
        part = self.home_participation(pair)
        fit = at_home(self.fit(), pair, 1.0)
        members = self.present & (pair >= 0)
        typical_fit = np.median(fit[members]) if members.any() else 1.0
        divergent = members & (part < p.periphery_threshold) & (fit < typical_fit)
        contest = divergent & kn.bernoulli(self.rng, p.contest_rate, divergent.shape)
        changed = np.zeros(self.codes.shape[0], dtype=np.int64)
        who = np.flatnonzero(contest)
        if who.size == 0:
            return changed
        won = kn.bernoulli(self.rng, self.safety[home[who]], who.shape)
        self.contested[who] = True
        self.counts["contests"] += int(who.size)
        self.counts["contests_won"] += int(won.sum())
        excluded = np.zeros(len(mb), dtype=bool)
        for slot, accepted in zip(who, won, strict=True):  # few challengers per period
            space = home[slot]
            label = self._describe(slot)
            k = pair[slot]
            if accepted:
                mb.legitimacy[k] += 0.5 * (1.0 - mb.legitimacy[k])
                mb.participation[k] = min(1.0, mb.participation[k] + 0.3)
                open_ = (self.codes[space] != self.beliefs[slot]) & ~self.tacit
                open_ &= kn.bernoulli(self.rng, p.renegotiation, open_.shape)
                self.codes[space, open_] = 0
                self.rigidity[space] *= 0.5
                changed[space] += int(open_.sum())
                self._peripheral_weight += float(open_.sum())
                self._change_weight += float(open_.sum())
                self.agenda[space] += 0.2 * (self.purpose[slot] - self.agenda[space])
                self._agenda_version += 1
                self.log("contest", f"A challenge by {label} was accepted in space {space}")
            else:
                excluded[k] = True
                self.log(
                    "exclusion", f"A challenge by {label} was rejected; excluded from space {space}"
                )
        mb.keep(~excluded)  # the rejected are shut out of that space
        return changed

    def _reify(self, changed: np.ndarray) -> None:
        """Stable repertoires congeal, faster under funder reporting demands."""
        p = self.params
        stability = 1.0 - changed / self.codes.shape[1]
        growth = p.reification_rate * stability * (1.0 + 3.0 * p.conditionality)
        self.rigidity += growth * (1.0 - self.rigidity)
        np.clip(self.rigidity, 0.0, 0.99, out=self.rigidity)

    def _grant_legitimacy(self, action_scores: np.ndarray) -> None:
        """Members grant legitimacy: for competence shown and for being like them,
        each member's say weighted by power and participation (Lave & Wenger's
        legitimate peripheral participation; Chambers: whose knowledge counts)."""
        p = self.params
        power_w = self.power_weights()
        mb = self.members
        grantors = mb.participation * power_w[mb.slot]
        levels = [len(v) for v in self.identity_levels.values()]
        similar = pop.similarity_to_space(self.identity, mb.space, mb.slot, grantors, levels)
        competence = (action_scores / self.beliefs.shape[1] + 1.0) / 2.0
        w_id = p.identity_weight * (p.role_play_identity_weight if self.role_play_active() else 1.0)
        # the powerful grant themselves standing: a member's own relative power counts too
        standing = np.clip(power_w / (1.0 + power_w), 0.0, 1.0)
        grant = (1 - w_id) * (0.5 * competence + 0.5 * standing)[mb.slot] + w_id * similar
        mb.legitimacy += p.legitimacy_adaptation * (grant - mb.legitimacy)
        np.clip(mb.legitimacy, 0.0, 1.0, out=mb.legitimacy)

    def _exits_and_entries(self) -> None:
        """Members leave (more when their space cannot meet or they have withdrawn);
        empty places are filled by newcomers at the periphery."""
        p = self.params
        pair = self.home_pairs()
        home = self.home_space()
        inactive = self.home_participation(pair) < INACTIVE
        misfit = 1.0 - at_home(self.fit(), pair, 0.0)
        chance = p.exit_rate + p.shock_exit_rate * (1.0 - self.intensity[home]) + 0.1 * inactive
        chance += MISFIT_EXIT * misfit
        leaving = self.present & kn.bernoulli(self.rng, np.clip(chance, 0, 1), chance.shape)
        if p.champions_leave and leaving.any():
            centrality = self.centrality()
            top = np.argsort(-centrality, kind="stable")[: int(leaving.sum())]
            leaving = np.zeros_like(leaving)
            leaving[top] = True
            self.log(
                "champions", f"{top.size} of the most central members left at step {self.steps}"
            )
        self._exit(np.flatnonzero(leaving), reason="exit")
        empty = ~self.present & ~leaving
        chance_in = (
            p.entry_rate * float(self.intensity[self.alive].mean()) if self.alive.any() else 0.0
        )
        self._enter(np.flatnonzero(empty & kn.bernoulli(self.rng, chance_in, empty.shape)))

    def _update_agendas_and_purposes(self) -> None:
        """Conversation as data (OGP principle 2): agendas follow the purposes members
        voice, weighted by voice; purposes drift (Johnson: purposes change over time)."""
        p = self.params
        if p.conversation_as_data:
            power_w = self.power_weights()
            voice = self.members.participation * power_w[self.members.slot]
            voiced = self._weighted_mean_purpose(voice)
            self.agenda += p.agenda_adaptation * (voiced - self.agenda)
            self._agenda_version += 1
        if p.purpose_drift > 0:
            # flat Dirichlet noise, drawn as normalized exponentials (the same law)
            noise = self.rng.standard_exponential(self.purpose.shape)
            noise /= pop.row_sums(noise)[:, None]
            self.purpose = (1 - p.purpose_drift) * self.purpose + p.purpose_drift * noise
            self._purpose_version += 1

    def _update_survival(self) -> None:
        """A space survives while two or more members still take part and it can meet."""
        engaged = self.members.per_space((self.members.participation >= INACTIVE).astype(float))
        self.alive &= (engaged >= 2) & (self.intensity > INACTIVE)

    # ------------------------------------------------------------------ membership changes
    def _exit(self, slots: np.ndarray, reason: str | None) -> None:
        """Practitioners in ``slots`` leave: the agent is removed; the slot empties."""
        if slots.size == 0:
            return
        self.present[slots] = False
        self._people_version += 1
        self.members.drop_slots(slots)
        self.founder[slots] = False
        self.cohort[slots] = False
        self.contested[slots] = False
        self._occupant[slots] += 1  # the agent is removed at the next sync_agents()
        self.exits += int(slots.size)

    def _enter(self, slots: np.ndarray) -> None:
        """Newcomers take empty slots, admitted by each space's boundary permeability."""
        if slots.size == 0:
            return
        p = self.params
        space, newcomer = self._seek_admission(slots.size)
        if space.size == 0:
            return
        joined = np.unique(newcomer)  # a newcomer no space admits stays outside
        slots, newcomer = slots[joined], np.searchsorted(joined, newcomer)
        fresh = pop.draw_newcomers(self.rng, p, slots.size)
        self.identity[slots], self.purpose[slots] = fresh.identity, fresh.purpose
        self._purpose_version += 1
        self.resources[slots] = fresh.resources
        self.power[slots] = pop.power_of(fresh.resources)
        self.income[slots] = fresh.resources[:, 1]
        self.beliefs[slots] = kn.draw_beliefs(self.rng, (slots.size, self.beliefs.shape[1]))
        self.present[slots] = True
        self._people_version += 1
        self.tenure[slots] = 0
        self.gain[slots] = 0.0
        self.peripheral_origin[slots] = True
        self.members.add(space, slots[newcomer], 0.1, 0.1)  # newcomers start at the periphery
        self._occupant[slots] += 1  # a new agent is created at the next sync_agents()

    def _seek_admission(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Which spaces admit each of ``k`` newcomers: (space, newcomer) pairs.

        A newcomer seeks as many spaces as a founder belongs to (1 + Poisson(mean
        - 1)) and approaches the spaces in a random order; each alive space admits
        it with probability ``permeability``, until it has joined as many as it
        sought.  So permeability decides *whether* newcomers get in, and the
        constellation of a newcomer is the size of a founder's.
        """
        spaces = self.codes.shape[0]
        sought, order = self._constellations(k, spaces)  # order: in which they approach
        admits = kn.bernoulli(self.rng, self.params.permeability, (k, spaces)) & self.alive[order]
        joined = admits & (np.cumsum(admits, axis=1) <= sought[:, None])
        newcomer, turn = np.nonzero(joined)
        return order[newcomer, turn], newcomer

    def _renew_agents(self, slots: np.ndarray) -> None:
        """March turnover: a newcomer agent replaces each leaver in the same slot
        (at the next :meth:`sync_agents`)."""
        self._occupant[slots] += 1
        self.exits += len(slots)

    # ------------------------------------------------------------------ events
    def log(self, kind: str, text: str) -> None:
        """Record a plain-language event (shown in the teaching view)."""
        self.events.append({"step": int(self.steps), "kind": kind, "text": text})

    def _describe(self, slot: int) -> str:
        """'a community member (south, civil_society)' for the event log."""
        if not self.identity_names:
            return "a member"
        names = [
            self.identity_levels[d][self.identity[slot, i]]
            for i, d in enumerate(self.identity_names)
        ]
        return "a peripheral member (" + ", ".join(n.replace("_", " ") for n in names) + ")"

    # ------------------------------------------------------------------ stopping
    def _check_stop(self) -> None:
        p = self.params
        closed = not self.social and p.turnover_rate == 0 and p.turbulence_rate == 0
        if closed and p.stop_at_equilibrium:
            self.at_equilibrium = bool(
                kn.at_equilibrium(self.beliefs[None], self.codes[None], self.reality[None])[0]
            )
        dissolved = self.social and self.metrics["members"] < 2
        if self.at_equilibrium or dissolved or self.steps >= p.max_steps:
            self.running = False

    def run(self, max_steps: int | None = None) -> CoPModel:
        """Step until the stop rule (equilibrium or horizon) or ``max_steps`` more steps."""
        budget = max_steps if max_steps is not None else self.params.max_steps
        for _ in range(budget):
            if not self.running:
                break
            self.step()
        return self

    # ------------------------------------------------------------------ outcomes
    def _update_metrics(self) -> None:
        self.metrics = self._measure()

    def _measure(self) -> dict[str, float]:
        p = self.params
        present = self.present
        slots = np.flatnonzero(present)
        mb = self.members
        part_home = self.home_participation()
        core = present & (part_home >= p.core_threshold)
        # one pass over the beliefs: column sums of b and |b| over those present
        # (float32 products are exact for these integer counts)
        weights = present.astype(np.float32)
        held = self.beliefs.astype(np.float32)
        total = weights @ held
        decided = weights @ np.abs(held, out=held)
        n_present = int(present.sum())
        diversity = metrics.diversity_from_sums(total, decided, n_present)
        m = self.beliefs.shape[1]
        power_w = self.power_weights()
        voice = mb.per_slot(mb.participation * power_w[mb.slot])[present]
        members = max(int(present.sum()), 1)
        mass = mb.participation.sum()
        alignment = float((self.fit() * mb.participation).sum() / mass) if mass > 0 else 0.0
        ex = self.last_exchange
        talked = ~ex.conflict if ex is not None else np.zeros(0, dtype=bool)
        peripheral = self._peripheral_weight / self._change_weight if self._change_weight else 0.0
        values = {
            "code_knowledge": float(kn.knowledge(self.codes[self.alive], self.reality).mean())
            if self.alive.any()
            else 0.0,
            "mean_individual_knowledge": float(total @ self.reality) / (n_present * m)
            if n_present
            else 0.0,
            "belief_diversity": diversity,
            "members": float(present.sum()),
            "exits": float(self.exits),
            "retention": float(self.founder.mean()),
            "participation_mean": float(part_home[slots].mean()) if slots.size else 0.0,
            "core_share": float(core.sum() / members),
            "periphery_share": float(
                (present & (part_home < p.periphery_threshold)).sum() / members
            ),
            "voice_gini": metrics.gini(voice),
            "inclusion": float((self.cohort & core).sum() / self.cohort_size)
            if self.cohort_size
            else 0.0,
            "purpose_alignment": alignment,
            "mutual_engagement": float(ex.engagement.mean())
            if ex is not None and ex.engagement.size
            else 0.0,
            "cross_identity_exchange": float((ex.distance[talked] >= 0.5).mean())
            if ex is not None and talked.any()
            else 0.0,
            "conflicts": float(self.counts["conflicts"]),
            "contests": float(self.counts["contests"]),
            "contests_won": float(self.counts["contests_won"]),
            "contester_core_share": float((self.contested & core).sum() / self.contested.sum())
            if self.contested.any()
            else 0.0,
            "repertoire_changes": float(self.repertoire_changes),
            "spaces_alive": float(self.alive.sum()),
            "funds_total": float(self.funds.sum()),
            "meeting_intensity": float(self.intensity[self.alive].mean())
            if self.alive.any()
            else 0.0,
            "rigidity": float(self.rigidity.mean()),
        }
        values.update(
            outcomes.indices(
                self.codes, self.reality, diversity, peripheral, self.baseline, self.alive
            )
        )
        return values

    def label(self) -> tuple[str, str]:
        """The current run label and a one-line reason."""
        m = self.metrics
        name = outcomes.classify(
            m["expansiveness"], m["defensiveness"], int(m["members"]), int(m["spaces_alive"])
        )
        return name, outcomes.explain(name, m)

    def _make_datacollector(self) -> mesa.DataCollector:
        model_reporters = {name: partial(_metric, name=name) for name in self.metrics}
        agent_reporters = (
            {
                "knowledge": "knowledge",
                "slot": "slot",
                "participation": "participation",
                "power": "power",
            }
            if self.params.record_agents
            else {}
        )
        return mesa.DataCollector(model_reporters=model_reporters, agent_reporters=agent_reporters)

    def outcomes(self) -> dict[str, Any]:
        """The run's final outcomes as one flat record (a row of a results table)."""
        label, _ = self.label()
        return {
            "steps": int(self.steps),
            "at_equilibrium": self.at_equilibrium,
            "label": label,
            **self.metrics,
        }
