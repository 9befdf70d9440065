"""The schedule: one period as an ordered list of stages (ODD II.3 and Part I 3).

Each stage names its ODD section, the submodel function that runs it and,
for optional mechanisms, the switch that decides whether it runs at all
(checked once, when the model is built: parameters never change during a
run).  ``CoPModel.step`` runs the stages in order, then ages everyone by a
period and records the measures.  To add a mechanism, add its module to
:mod:`copsim.submodels` and one line here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from copsim import learning
from copsim.submodels import (
    acting,
    agendas,
    contestation,
    conversation,
    funding,
    grand_plan,
    legitimacy,
    march_core,
    membership,
    participation,
    reification,
    repertoire,
    resources,
    role_play,
    socialization,
    turbulence,
)

if TYPE_CHECKING:
    from copsim.params import Params
    from copsim.state import Community


@dataclass(frozen=True)
class Stage:
    """One stage of a period."""

    name: str
    odd: str  # the ODD section that describes it
    run: Callable[[Community], None]
    applies: Callable[[Params], bool] | None = None  # None: always runs

    def active(self, params: Params) -> bool:
        return self.applies is None or self.applies(params)


#: A period of the social model (ODD II.3), in order.
SOCIAL: tuple[Stage, ...] = (
    Stage("turnover", "II.7.13", membership.turnover, membership.turnover_applies),
    Stage("turbulence", "II.7.18", turbulence.step, turbulence.applies),
    Stage("funding", "II.7.12", funding.step),
    Stage("resources", "II.7.19", resources.step, resources.applies),
    Stage("participation", "II.7.11", participation.step),
    Stage("acting and scoring", "I.7.3-4", acting.step),
    Stage("conversation", "II.7.5", conversation.step),
    Stage("socialization", "II.7.6", socialization.step),
    Stage("repertoire learning", "II.7.4, II.7.16", repertoire.step),
    Stage("contestation", "II.7.7", contestation.step, contestation.applies),
    Stage("reification", "II.7.8", reification.step, reification.applies),
    Stage("legitimacy", "II.7.9", legitimacy.step),
    Stage("exits and entries", "II.7.13", membership.step),
    Stage("agendas and purposes", "II.7.14, II.7.2", agendas.step),
    Stage("survival", "II.7.12", funding.survive),
)

#: A period of March's model (social layer off; ODD Part I 3), in order.
MARCH: tuple[Stage, ...] = (
    Stage("turnover", "I.7.1", march_core.turnover, march_core.turnover_applies),
    Stage("turbulence", "I.7.2", turbulence.step, turbulence.applies),
    Stage("acting and scoring", "I.7.3-4", acting.step),
    Stage("socialization", "I.7.5", march_core.socialize),
    Stage("code learning", "I.7.6", march_core.learn_code),
)

#: Every module with its own state or measures (the social submodels, and the ledger
#: of what participants learned): their ``init``, ``on_leave``, ``on_arrive`` and
#: ``measures`` are collected from here (modules without them are skipped).
SUBMODELS: tuple[ModuleType, ...] = (
    membership,
    turbulence,
    funding,
    resources,
    participation,
    acting,
    conversation,
    socialization,
    repertoire,
    grand_plan,
    contestation,
    reification,
    legitimacy,
    agendas,
    role_play,
    learning,
)


def stages(params: Params | Sequence[Params]) -> list[Stage]:
    """The stages that run for these parameters (an ensemble's: a stage runs when any
    of its runs needs it; a stage whose rate is 0 for a run changes nothing there), in
    order."""
    runs = [params] if not isinstance(params, Sequence) else list(params)
    plan = SOCIAL if runs[0].social_layer else MARCH
    return [stage for stage in plan if any(stage.active(p) for p in runs)]


def hooks(name: str) -> list[Callable]:
    """Every submodel's function ``name`` (e.g. ``on_leave``), in ``SUBMODELS`` order."""
    return [getattr(m, name) for m in SUBMODELS if hasattr(m, name)]
