"""``CoPModel``: a community of practice as a Mesa model, a thin facade over the submodels.

The state lives in arrays (:mod:`copsim.state`), one row per practitioner
*slot* and per learning space; the model is an ensemble of one community
(:mod:`copsim.ensemble`), so it runs the same code as a sweep of thousands.
Each period runs the stages of :mod:`copsim.schedule` in order, each a
function of one submodel module (:mod:`copsim.submodels`, one per section of
ODD II.7).  The rules draw keyed random numbers from the run's seed
(:mod:`copsim.draws`); Mesa's ``self.rng`` (seeded from the same seed) is left
to user code such as agent activation.  This class adds what
Mesa users expect: set-up from ``Params`` and a seed, ``step``/``run`` with a
stop rule, one ``Practitioner`` agent per present slot (synchronized lazily),
a ``DataCollector`` of the per-period measures, ``outcomes()`` and ``label()``.
What the view and the sweep may read is :class:`copsim.readout.Readout`.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import mesa
import numpy as np

from copsim import outcomes
from copsim.agents import Practitioner
from copsim.ensemble import Ensemble, outcome_record
from copsim.params import Params
from copsim.readout import Readout
from copsim.seeds import SeedLike


def _metric(model: CoPModel, name: str) -> Any:
    """DataCollector reporter: read one value of the period's record (picklable)."""
    return model.metrics[name]


def checked_rng(rng: Any) -> Any:
    """The seed as Mesa can take it (a numpy integer, e.g. read from a results
    table, becomes an ``int``); anything that is not a seed is refused naming ``rng``."""
    if isinstance(rng, np.integer | int) and not isinstance(rng, bool) and rng >= 0:
        return int(rng)
    if rng is None or isinstance(rng, np.random.SeedSequence | np.random.Generator):
        return rng
    raise ValueError(
        f"CoPModel: rng = {rng!r} is not a seed; expected a non-negative integer, a "
        "numpy SeedSequence or Generator, or None (fresh entropy)"
    )


class CoPModel(Readout, mesa.Model):
    """A community of practice learning about a changing reality (an ensemble of one)."""

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
        seed = checked_rng(rng)
        super().__init__(rng=seed)
        self.params = params
        #: the run's seed for the keyed draws of the rules (copsim.draws): the seed
        #: given, or one drawn from Mesa's generator when none (or a Generator) is given
        self.seed = (
            seed
            if isinstance(seed, int | np.random.SeedSequence)
            else int(self.rng.integers(2**63))
        )
        self.ensemble = Ensemble(
            params, [self.seed], keep_events=True, compact=False, every_period=True
        )
        self.community = self.ensemble.community
        self.stages = self.ensemble.stages
        n = params.n_practitioners
        # Mesa's registry follows the slots' occupants lazily (see sync_agents)
        self._agent_occupant = np.zeros(n, dtype=np.int64)
        self._slot_agent: list[Practitioner | None] = list(
            Practitioner.create_agents(self, n, slot=np.arange(n))
        )
        self.metrics: dict[str, float] = self.ensemble.current(0)
        self.datacollector = self._make_datacollector()
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ schedule
    def step(self) -> None:
        """One period: the stages of ``copsim.schedule`` in order, then everyone
        present ages a period and the measures are recorded."""
        if not self.running:
            raise RuntimeError(
                f"CoPModel.step: the run has stopped at step {self.steps - 1} "
                f"({self.stop_reason()}); build a new model (e.g. with a larger max_steps)"
            )
        self.ensemble.step()
        self.metrics = self.ensemble.current(0)
        self.datacollector.collect(self)
        if not self.ensemble.running[0]:
            self.running = False

    @property
    def at_equilibrium(self) -> bool:
        return bool(self.ensemble.at_equilibrium[0])

    def stop_reason(self) -> str:
        """Why the run stopped (or 'running')."""
        return "running" if self.running else self.ensemble.stop_reason(0)

    def run(self, max_steps: int | None = None) -> CoPModel:
        """Step until the stop rule (equilibrium, dissolution or horizon) or
        ``max_steps`` more steps."""
        budget = max_steps if max_steps is not None else self.params.max_steps
        for _ in range(budget):
            if not self.running:
                break
            self.step()
        return self

    # ------------------------------------------------------------------ Mesa agents
    def sync_agents(self) -> None:
        """Bring Mesa's agents up to date with who is present: one ``Practitioner``
        per present slot, a new agent (new ``unique_id``) for each newcomer.

        Arrivals and departures happen in arrays during a step; the per-agent
        Mesa bookkeeping (about 10 us per agent) is done here, only for slots
        whose occupant changed, and only when someone looks at the agents.
        """
        if not hasattr(self, "_slot_agent"):  # still inside set-up
            return
        people = self.community.people
        stale = np.flatnonzero(people.occupant != self._agent_occupant)
        for slot in stale:  # only slots whose occupant changed since the last look
            agent = self._slot_agent[slot]
            if agent is not None:
                agent.remove()
            self._slot_agent[slot] = Practitioner(self, slot) if people.present[slot] else None
        self._agent_occupant[stale] = people.occupant[stale]

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

    def person_ids(self) -> np.ndarray:
        """(N,) the Mesa ``unique_id`` of whoever holds each slot, -1 for an empty slot."""
        return np.array([-1 if a is None else a.unique_id for a in self.slot_agent], np.int64)

    # ------------------------------------------------------------------ outcomes
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
        """The run's final outcomes as one flat record (a row of a results table):
        the label, its margin (distance from the nearest label line, in reference
        spreads) and the period's record."""
        return outcome_record(self.metrics, int(self.steps), self.at_equilibrium)
