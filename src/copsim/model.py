"""``CoPModel``: a community of practice as a Mesa model over numpy state.

The practitioners are Mesa agents (:class:`copsim.agents.Practitioner`), but
every state variable lives in model-owned arrays with one row per practitioner
slot, and each step is a short sequence of array kernels over all of them.
With the social layer off (the ``march1991`` preset) a step is exactly March's
(1991) period, computed by the same kernels as the batch replication study.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import mesa
import numpy as np

from copsim import knowledge as kn
from copsim import metrics
from copsim.agents import Practitioner
from copsim.params import Params
from copsim.seeds import SeedLike


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

        # -- environment and knowledge state (March rules 1-2) ---------------------
        self.reality = kn.draw_reality(self.rng, (m,))
        self.beliefs = kn.draw_beliefs(self.rng, (n, m))
        self.codes = np.zeros((1, m), dtype=kn.BELIEF_DTYPE)
        self.socialization_rates = np.full(n, p.socialization_rate)
        self.socialization_rates[: round(p.slow_learner_share * n)] = p.slow_socialization_rate

        # -- the people ------------------------------------------------------------
        self.slot_agent: list[Practitioner] = list(
            Practitioner.create_agents(self, n, slot=np.arange(n))
        )
        self.exits = 0
        self.at_equilibrium = False
        self.metrics: dict[str, float] = {}
        self._update_metrics()
        self.datacollector = self._make_datacollector()
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ schedule
    def step(self) -> None:
        """One period, in March's order: turnover, turbulence, act, socialize, learn."""
        p = self.params
        if p.turnover_rate > 0:
            leaving = kn.replace_individuals(self.beliefs, p.turnover_rate, self.rng)
            self._renew(np.flatnonzero(leaving))
        if p.turbulence_rate > 0:
            kn.shift_reality(self.reality, p.turbulence_rate, self.rng)
        actions = kn.act(self.beliefs, self.rng)
        action_scores = kn.score(actions, self.reality)
        kn.socialize(self.beliefs, self.codes, self.socialization_rates[:, None], self.rng)
        weights = kn.superior_weights(action_scores, kn.score(self.codes, self.reality))
        kn.learn_code(
            self.codes, kn.net_votes(actions, weights), p.repertoire_learning_rate, self.rng
        )

        self._update_metrics()
        self.datacollector.collect(self)
        self._check_stop()

    def _renew(self, slots: np.ndarray) -> None:
        """Practitioners in ``slots`` leave; a newcomer agent takes each slot.

        A per-leaver loop, but only over the few who leave this period.
        """
        for slot in slots:
            self.slot_agent[slot].remove()
            self.slot_agent[slot] = Practitioner(self, slot)
        self.exits += len(slots)

    def _check_stop(self) -> None:
        p = self.params
        closed = p.turnover_rate == 0 and p.turbulence_rate == 0
        if closed and p.stop_at_equilibrium:
            self.at_equilibrium = bool(
                kn.at_equilibrium(self.beliefs[None], self.codes[None], self.reality[None])[0]
            )
        if self.at_equilibrium or self.steps >= p.max_steps:
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
        self.metrics = {
            "code_knowledge": float(kn.knowledge(self.codes, self.reality).mean()),
            "mean_individual_knowledge": metrics.mean_knowledge(self.beliefs, self.reality),
            "belief_diversity": metrics.belief_diversity(self.beliefs),
            "exits": float(self.exits),
        }

    def _make_datacollector(self) -> mesa.DataCollector:
        model_reporters = {name: partial(_metric, name=name) for name in self.metrics}
        agent_reporters = (
            {"knowledge": "knowledge", "slot": "slot"} if self.params.record_agents else {}
        )
        return mesa.DataCollector(model_reporters=model_reporters, agent_reporters=agent_reporters)

    def outcomes(self) -> dict[str, Any]:
        """The run's final outcomes as one flat record (a row of a results table)."""
        return {"steps": int(self.steps), "at_equilibrium": self.at_equilibrium, **self.metrics}
