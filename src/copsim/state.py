"""The community's state, grouped as ODD II.2 groups it.

Every state variable lives in one of these small containers, one row per
practitioner *slot* or per learning space, so a submodel updates all of them
with one array operation.  The containers are plain data with a few methods;
the methods are the only places that bump the *versions* on which derived
values (:mod:`copsim.derived`) are cached:

- ``People.version``: someone left or arrived (power weights, power order);
- ``People.purpose_version``: purposes changed (purpose fit);
- ``Spaces.agenda_version``: an agenda changed (purpose fit);
- ``Memberships.version`` and ``Memberships.home_round``: memberships were
  added or dropped, or home spaces were re-decided (home space and fit).

A submodel never bumps a version by hand: it changes state through these
methods (``leave``, ``arrive``, ``set_purpose``, ``set_agendas``,
``move_agendas``, ``Memberships.add/keep/drop_slots/decide_homes``), and the
rule lives here once.  ``Community`` bundles the containers with the
parameters, the random generator and this period's scratch values; it is what
every submodel receives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from copsim.draws import Draws, Keyed
from copsim.events import Event
from copsim.layout import Layout
from copsim.memberships import Memberships
from copsim.params import Params
from copsim.population import Newcomers, power_of
from copsim.submodels.funding import Funder


def _local_range(total: int, per_run: int) -> np.ndarray:
    """0..per_run-1 repeated for every run: the local index of every row."""
    return np.arange(total) % per_run


@dataclass(eq=False)
class World:
    """The environment (ODD II.2 'Environment'): the reality the practice must fit."""

    reality: np.ndarray  # (K, m) int8, +-1: one reality per run
    tacit: np.ndarray  # (m,) bool: dimensions no repertoire can hold (the same in every run)

    @property
    def codified(self) -> np.ndarray:
        """(m,) bool: the dimensions a repertoire can hold."""
        return ~self.tacit

    def at_slots(self, layout: Layout) -> np.ndarray:
        """(K*N, m) each slot's run's reality."""
        return np.repeat(self.reality, layout.slots, axis=0)

    def at_spaces(self, layout: Layout) -> np.ndarray:
        """(K*S, m) each space's run's reality."""
        return np.repeat(self.reality, layout.spaces, axis=0)


@dataclass(eq=False)
class People:
    """The practitioners (ODD II.2 'Practitioners'), one row per slot."""

    beliefs: np.ndarray  # (N, m) int8
    socialization_rates: np.ndarray  # (N,) p1 per slot
    identity: np.ndarray  # (N, D) int16 category codes
    purpose: np.ndarray  # (N, T) weights over themes
    resources: np.ndarray  # (N, 3) time, money, political capital
    power: np.ndarray  # (N,)
    income: np.ndarray  # (N,) usual money, toward which spent money recovers
    identity_names: list[str]
    identity_levels: dict[str, list[str]]
    present: np.ndarray = field(init=False)
    tenure: np.ndarray = field(init=False)
    founder: np.ndarray = field(init=False)  # still the slot's founding practitioner
    cohort: np.ndarray = field(init=False)  # starting cohort still present (inclusion)
    peripheral_origin: np.ndarray = field(init=False)  # started at the edge, or newcomer
    gain: np.ndarray = field(init=False)  # share of dimensions changed in conversation
    engagement: np.ndarray = field(init=False)  # purpose similarity with this period's partner
    occupant: np.ndarray = field(init=False)  # bumped whenever a slot changes hands
    #: (N, 3) the resources a practitioner brought (at founding or arrival), toward which
    #: spent time and political capital recover (submodels.resources)
    endowment: np.ndarray = field(init=False)
    cohort_size: Any = 0  # (K,) size of each run's starting cohort
    version: int = 0  # bumped whenever someone leaves or arrives
    purpose_version: int = 0  # bumped whenever purposes change

    def __post_init__(self) -> None:
        n = self.beliefs.shape[0]
        self.present = np.ones(n, dtype=bool)
        self.tenure = np.zeros(n, dtype=np.int64)
        self.founder = np.ones(n, dtype=bool)
        self.cohort = np.zeros(n, dtype=bool)
        self.peripheral_origin = np.zeros(n, dtype=bool)
        self.gain = np.zeros(n)
        self.engagement = np.zeros(n)
        self.occupant = np.zeros(n, dtype=np.int64)
        self.endowment = self.resources.copy()  # the founders' own resources

    @property
    def size(self) -> int:
        """Number of slots N."""
        return self.present.size

    def mark_cohort(self, cohort: np.ndarray, layout: Layout) -> None:
        """Fix the starting cohort that ``inclusion`` follows (those who start at
        the edge or with low power); every one of them is of peripheral origin."""
        self.cohort = cohort
        self.cohort_size = layout.count(cohort)  # (K,) per run
        self.peripheral_origin = cohort.copy()

    def leave(self, slots: np.ndarray) -> None:
        """Practitioners in ``slots`` leave: the slots empty, the founders are gone."""
        self.present[slots] = False
        self.version += 1
        self.founder[slots] = False
        self.cohort[slots] = False
        self.occupant[slots] += 1  # their agents are removed at the next agent sync

    def arrive(self, slots: np.ndarray, fresh: Newcomers, beliefs: np.ndarray) -> None:
        """Newcomers take ``slots`` with their own identity, purpose, resources and
        (naive) beliefs; they start with no tenure and count as peripheral origin."""
        self.identity[slots], self.purpose[slots] = fresh.identity, fresh.purpose
        self.purpose_version += 1
        self.resources[slots] = fresh.resources
        self.endowment[slots] = fresh.resources
        self.power[slots] = power_of(fresh.resources)
        self.income[slots] = fresh.resources[:, 1]
        self.beliefs[slots] = beliefs
        self.present[slots] = True
        self.version += 1
        self.tenure[slots] = 0
        self.gain[slots] = 0.0
        self.peripheral_origin[slots] = True
        self.occupant[slots] += 1  # a new agent is created at the next agent sync

    def renew(self, slots: np.ndarray) -> None:
        """March turnover: a newcomer takes each slot in place (beliefs already reset)."""
        self.occupant[slots] += 1

    def set_purpose(self, purpose: np.ndarray) -> None:
        """Replace every purpose profile (purpose drift)."""
        self.purpose = purpose
        self.purpose_version += 1


@dataclass(eq=False)
class Spaces:
    """The learning spaces (ODD II.2 'Learning spaces') and their memberships."""

    codes: np.ndarray  # (S, m) int8: each space's shared repertoire
    agenda: np.ndarray  # (S, T)
    safety: np.ndarray  # (S,)
    members: Memberships
    #: (S,) chance each space admits a newcomer; None = ``params.permeability`` for all.
    permeability: np.ndarray | None = None
    #: (S,) exponent on power weights in the space's votes and voice (1 = the global
    #: asymmetry, 0 = equal voice); None = 1 for every space.
    voice_norm: np.ndarray | None = None
    funds: np.ndarray = field(init=False)
    intensity: np.ndarray = field(init=False)
    rigidity: np.ndarray = field(init=False)
    alive: np.ndarray = field(init=False)
    founding_mass: np.ndarray = field(init=False)
    agenda_version: int = 0  # bumped whenever an agenda changes

    def __post_init__(self) -> None:
        s = self.codes.shape[0]
        self.funds = np.ones(s)
        self.intensity = np.ones(s)
        self.rigidity = np.zeros(s)
        self.alive = np.ones(s, dtype=bool)
        self.founding_mass = np.ones(s)

    @property
    def size(self) -> int:
        """Number of spaces S."""
        return self.codes.shape[0]

    def set_agendas(self, agenda: np.ndarray) -> None:
        """Replace every agenda."""
        self.agenda = agenda
        self.agenda_version += 1

    def move_agendas(self, rows: Any, toward: np.ndarray, share: float) -> None:
        """Move the agendas of ``rows`` (an index or slice) a ``share`` of the way
        toward ``toward``."""
        self.agenda[rows] += share * (toward - self.agenda[rows])
        self.agenda_version += 1


@dataclass(eq=False)
class Records:
    """Model-level records (ODD II.2): counters, the event stream, running sums.

    Every counter and running sum is a (K,) array, one value per run.
    """

    runs: int = 1
    events: list[Event] = field(default_factory=list)
    keep_events: bool = True  # the sweep engine does not keep them (nobody reads them)
    exits: np.ndarray = field(init=False)
    counts: dict[str, np.ndarray] = field(init=False)
    #: Running sums behind the peripheral contribution: repertoire changes that brought
    #: knowledge credited to peripheral-origin members (by vote weight) and to accepted
    #: challenges, and all repertoire changes that brought knowledge (expert's included).
    peripheral_weight: np.ndarray = field(init=False)
    change_weight: np.ndarray = field(init=False)
    expert_changes: np.ndarray = field(init=False)  # changes forced by the outside expert
    repertoire_changes: np.ndarray = field(init=False)  # codified dims changed this period
    last_exchange: Any = None  # this period's conversations (submodels.conversation.Exchange)

    def __post_init__(self) -> None:
        k = self.runs
        self.exits = np.zeros(k, dtype=np.int64)
        self.counts = {
            name: np.zeros(k, dtype=np.int64)
            for name in ("conflicts", "contests", "contests_won", "conversations")
        }
        self.peripheral_weight = np.zeros(k)
        self.change_weight = np.zeros(k)
        self.expert_changes = np.zeros(k)
        self.repertoire_changes = np.zeros(k, dtype=np.int64)

    def take(self, runs: np.ndarray) -> None:
        """Keep only the records of ``runs`` (compaction)."""
        self.runs = int(np.size(runs))
        self.exits = self.exits[runs]
        self.counts = {name: v[runs] for name, v in self.counts.items()}
        for name in ("peripheral_weight", "change_weight", "expert_changes", "repertoire_changes"):
            setattr(self, name, getattr(self, name)[runs])
        self.last_exchange = None


@dataclass(eq=False)
class Period:
    """Values one stage of a period hands to later stages of the same period."""

    actions: np.ndarray | None = None  # (N, m) this period's actions (March rule 3)
    action_scores: np.ndarray | None = None  # (N,) their scores against reality
    changed: np.ndarray | None = None  # (S,) repertoire dimensions changed this period


@dataclass(eq=False)
class Community:
    """Everything a submodel may read or write: the state, its derived values,
    the parameters, the random generator and the current period."""

    params: Params
    draws: Draws  # keyed random numbers, one key per run (copsim.draws)
    layout: Layout  # where each run's rows are (copsim.layout)
    world: World
    people: People
    spaces: Spaces
    funder: Funder
    records: Records = field(default_factory=Records)
    period: Period = field(default_factory=Period)
    step: int = 0  # the period being computed (Mesa's ``steps``)
    derived: Any = None  # copsim.derived.Derived, set once the state exists
    baseline: Any = None  # copsim.outcomes.Baseline: what the indices compare against
    own: dict[str, Any] = field(default_factory=dict)  # submodels' own extra state
    #: Submodels' hooks, called with (community, slots) after practitioners leave / arrive.
    on_leave: list[Any] = field(default_factory=list)
    on_arrive: list[Any] = field(default_factory=list)
    #: Parameters that differ between the runs of an ensemble: name -> (K,) values
    #: (only names in ``params.ENSEMBLE_VARYING``; every other parameter is shared).
    varying: dict[str, np.ndarray] = field(default_factory=dict)
    #: The run's index in the ensemble it was built in (kept through compaction).
    run_ids: np.ndarray | None = None

    @property
    def runs(self) -> int:
        """K, the number of communities held in these arrays."""
        return self.layout.runs

    # ------------------------------------------------------------ keyed draws
    # One uniform per element, keyed by (run key, period, site, local element):
    # see copsim.draws.  ``round_`` separates repeated draws of one site in a period.
    def u_slots(self, site: str, slots: np.ndarray | None = None, round_: int = 0) -> np.ndarray:
        """A uniform per slot (every slot, or ``slots``: global indices)."""
        lay = self.layout
        if slots is None:
            return self.draws.uniform(
                site, lay.slot_run, _local_range(lay.n_slots, lay.slots), round_
            )
        return self.draws.uniform(site, lay.run_of_slots(slots), lay.local_slots(slots), round_)

    def u_cells(self, site: str, flat: np.ndarray | None = None, round_: int = 0) -> np.ndarray:
        """A uniform per (slot, dimension) cell: every cell as a flat (K*N*m,) array,
        or the cells at ``flat`` (global flat indices into a (K*N, m) array)."""
        lay = self.layout
        per_run = lay.slots * lay.dims
        if flat is None:
            run = np.repeat(np.arange(lay.runs), per_run)
            return self.draws.uniform(site, run, _local_range(lay.runs * per_run, per_run), round_)
        flat = np.asarray(flat)
        return self.draws.uniform(site, flat // per_run, flat % per_run, round_)

    def u_spaces(self, site: str, spaces: np.ndarray | None = None, round_: int = 0) -> np.ndarray:
        """A uniform per learning space (every space, or ``spaces``: global indices)."""
        lay = self.layout
        if spaces is None:
            return self.draws.uniform(
                site, lay.space_run, _local_range(lay.n_spaces, lay.spaces), round_
            )
        return self.draws.uniform(site, lay.run_of_spaces(spaces), lay.local_spaces(spaces), round_)

    def u_pairs(
        self,
        site: str,
        space: np.ndarray | None = None,
        slot: np.ndarray | None = None,
        round_: int = 0,
    ) -> np.ndarray:
        """A uniform per (space, slot) pair: the current memberships, or the pairs given."""
        if space is None:
            space, slot = self.members.space, self.members.slot
        lay = self.layout
        return self.draws.uniform(
            site, lay.run_of_spaces(space), lay.pair_element(space, slot), round_
        )

    def u_runs(self, site: str, round_: int = 0) -> np.ndarray:
        """(K,) one uniform per run."""
        return self.draws.uniform(site, np.arange(self.runs), np.zeros(self.runs, np.int64), round_)

    def keyed(self, site: str, over: str = "cells", round_: int = 0) -> Keyed:
        """Keyed draws for a knowledge kernel (:mod:`copsim.knowledge`) working on a
        flat (K*N, m) array of cells (``over="cells"``) or (K*S, m) repertoires
        (``over="codes"``)."""
        lay = self.layout
        rows = {"cells": lay.slots, "codes": lay.spaces}[over]
        return Keyed(self.draws, site, rows * lay.dims, lay.dims, round_)

    def coins(self, site: str, slots: np.ndarray | None = None) -> np.ndarray:
        """(len, m) fair bits (uint8) for every slot's (or ``slots``') dimensions."""
        lay = self.layout
        slots = np.arange(lay.n_slots) if slots is None else np.asarray(slots)
        return self.draws.bits(site, lay.run_of_slots(slots), lay.local_slots(slots), lay.dims)

    # ------------------------------------------------------------ per-run parameters
    def value(self, name: str) -> Any:
        """A parameter: the shared scalar, or (K,) values when it differs by run."""
        values = self.varying.get(name)
        return getattr(self.params, name) if values is None else values

    def at_runs(self, name: str, run: np.ndarray) -> Any:
        """A parameter for the runs ``run`` (per element): a scalar when shared."""
        values = self.varying.get(name)
        return getattr(self.params, name) if values is None else values[run]

    def at_slots(self, name: str, slots: np.ndarray | None = None) -> Any:
        """A parameter at every slot (or at ``slots``): a scalar when shared."""
        values = self.varying.get(name)
        if values is None:
            return getattr(self.params, name)
        run = self.layout.slot_run if slots is None else self.layout.run_of_slots(slots)
        return values[run]

    def at_spaces(self, name: str, spaces: np.ndarray | None = None) -> Any:
        """A parameter at every space (or at ``spaces``): a scalar when shared."""
        values = self.varying.get(name)
        if values is None:
            return getattr(self.params, name)
        run = self.layout.space_run if spaces is None else self.layout.run_of_spaces(spaces)
        return values[run]

    def at_pairs(self, name: str) -> Any:
        """A parameter at every membership: a scalar when shared."""
        values = self.varying.get(name)
        if values is None:
            return getattr(self.params, name)
        return values[self.members.space // self.layout.spaces]

    @property
    def members(self) -> Memberships:
        """The (space, slot) memberships (``spaces.members``)."""
        return self.spaces.members

    @property
    def social(self) -> bool:
        """Whether the social layer is on (off: March's model exactly)."""
        return self.params.social_layer

    def emit(self, kind: str, run: int = 0, **fields: Any) -> None:
        """Record a typed event of this period for run ``run`` (the view turns events
        into prose); ``space`` and ``practitioner`` are given as *local* indices."""
        if self.records.keep_events:
            self.records.events.append(Event(step=self.step, kind=kind, run=int(run), **fields))
