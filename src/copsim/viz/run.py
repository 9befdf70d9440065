"""One run on screen: a model plus what the picture remembers between steps.

:class:`Run` owns a :class:`copsim.CoPModel` and, after every step, compares a
snapshot of the public state with the previous one to find who left (drawn
fading for a few steps), reads the model's typed events to find who challenged
(drawn ringed) and turns them into plain language for the event log.  It never
changes the model and reads only the documented contract
(:class:`copsim.readout.Readout`, docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from copsim.events import Event
from copsim.model import CoPModel
from copsim.params import Params
from copsim.viz import events as ev

#: Steps over which a member who left (or was excluded from a space) fades out.
FADE_STEPS = 8
#: Steps during which a challenger stays ringed in the picture.
HIGHLIGHT_STEPS = 6


@dataclass(frozen=True)
class Snapshot:
    """The public state the view compares between two steps."""

    step: int
    ids: np.ndarray  # (N,) person id per slot, -1 if empty
    membership: np.ndarray  # (S, N)
    participation: np.ndarray  # (S, N)
    identity: np.ndarray  # (N, D)
    knowledge: np.ndarray  # (N,)
    weight: np.ndarray  # (N,) voice: power relative to the mean, raised to the asymmetry
    alive: np.ndarray  # (S,)
    contested: np.ndarray  # (N,) has challenged (and is still here)
    role_play: bool
    retention: float
    label: str


@dataclass(frozen=True)
class Ghost:
    """A member who left a space: drawn where they last stood, fading."""

    space: int
    person: int
    participation: float
    identity: np.ndarray
    knowledge: float
    weight: float
    step: int  # the step at which they left
    excluded: bool  # left after a rejected challenge


def snapshot(model: CoPModel) -> Snapshot:
    """Copy what the view compares from the model's public state."""
    return Snapshot(
        step=int(model.steps),
        ids=model.person_ids(),
        membership=(model.membership & model.present).copy(),
        participation=model.participation.copy(),
        identity=model.identity.copy(),
        knowledge=model.individual_knowledge(),
        weight=model.voice_weights().copy(),
        alive=model.alive.copy(),
        contested=model.contested.copy(),
        role_play=bool(model.role_play_active()),
        retention=float(model.metrics.get("retention", 1.0)),
        label=model.label()[0],
    )


def departures(
    before: Snapshot, after: Snapshot, excluded_people: set[int] | None = None
) -> list[Ghost]:
    """Members of a space before who are no longer in it (left, replaced or excluded)."""
    excluded_people = excluded_people or set()
    same_person = before.ids == after.ids
    stayed = after.membership & same_person[None, :]
    gone = before.membership & ~stayed & (before.ids >= 0)[None, :]
    ghosts = []
    for space, slot in zip(*np.nonzero(gone), strict=True):
        person = int(before.ids[slot])
        ghosts.append(
            Ghost(
                space=int(space),
                person=person,
                participation=float(before.participation[space, slot]),
                identity=before.identity[slot].copy(),
                knowledge=float(before.knowledge[slot]),
                weight=float(before.weight[slot]),
                step=after.step,
                excluded=person in excluded_people,
            )
        )
    return ghosts


def new_challenges(before: Snapshot, after: Snapshot, events: list[Event]) -> dict[int, str]:
    """People who challenged this step and are still here: person id -> 'accepted'
    or 'excluded', read from the model's challenge events."""
    result = {}
    for e in events:
        if e.kind not in ("contest", "exclusion") or e.practitioner is None:
            continue
        slot = e.practitioner
        if before.ids[slot] == after.ids[slot]:  # not replaced later in the same step
            result[int(after.ids[slot])] = "accepted" if e.outcome == "accepted" else "excluded"
    return result


def derived_entries(before: Snapshot, after: Snapshot) -> list[ev.LogEntry]:
    """Plain-language changes between two snapshots (beyond the model's own events)."""
    step = after.step
    entries = [ev.space_closed(step, int(s)) for s in np.flatnonzero(before.alive & ~after.alive)]
    if after.role_play != before.role_play:
        entries.append(ev.role_play(step, after.role_play))
    if before.retention >= 0.5 > after.retention:
        entries.append(ev.founders_halved(step))
    if after.label != before.label:
        entries.append(ev.label_changed(step, before.label, after.label))
    return entries


class Run:
    """A model on screen, with its fading leavers, ringed challengers and event log."""

    def __init__(self, params: Params, seed: int, name: str = "A", title: str = "") -> None:
        self.name = name
        self.seed = int(seed)
        self.params = params
        self.model = CoPModel(params, rng=self.seed)
        self.ghosts: list[Ghost] = []
        self.highlights: dict[int, tuple[str, int]] = {}  # person -> (kind, step)
        self.budget: list[float] = [self.current_budget()]
        self.log: list[ev.LogEntry] = [
            ev.opening(
                int(self.model.present.sum()), self.model.alive.size, title or name, self.seed
            )
        ]
        self._events_seen = 0
        self._read_model_events()
        self.current = snapshot(self.model)

    # ------------------------------------------------------------------ state
    @property
    def steps(self) -> int:
        """Steps taken so far."""
        return int(self.model.steps)

    @property
    def running(self) -> bool:
        """False once the model has stopped (horizon, equilibrium or dissolution)."""
        return bool(self.model.running)

    def label(self) -> tuple[str, str]:
        """The run's current label and its one-line reason."""
        return self.model.label()

    def current_budget(self) -> float:
        """Outside funding per space that came in at the latest step (nan if money is off)."""
        return self.model.funding_budget()

    # ------------------------------------------------------------------ stepping
    def step(self) -> bool:
        """Advance one step (if still running) and update what the picture remembers."""
        if not self.model.running:
            return False
        self.model.step()
        after = snapshot(self.model)
        fresh = self._read_model_events()
        challenges = new_challenges(self.current, after, fresh)
        excluded = {p for p, kind in challenges.items() if kind == "excluded"}
        self.ghosts = [g for g in self.ghosts if after.step - g.step < FADE_STEPS]
        self.ghosts += departures(self.current, after, excluded)
        self.highlights = {
            p: v for p, v in self.highlights.items() if after.step - v[1] < HIGHLIGHT_STEPS
        }
        self.highlights.update({p: (kind, after.step) for p, kind in challenges.items()})
        self.budget.append(self.current_budget())
        self.log += derived_entries(self.current, after)
        self.current = after
        return True

    def _read_model_events(self) -> list[Event]:
        """The model's events since the last look, added to the log in prose."""
        new = self.model.events[self._events_seen :]
        self._events_seen = len(self.model.events)
        self.log += [ev.from_model(e) for e in new]
        return new

    # ------------------------------------------------------------------ for drawing
    def visible_ghosts(self) -> list[Ghost]:
        """Leavers still fading (younger than FADE_STEPS)."""
        return [g for g in self.ghosts if self.steps - g.step < FADE_STEPS]

    def series(self, name: str) -> np.ndarray:
        """One collected measure, one value per step from step 0."""
        return np.asarray(self.model.datacollector.model_vars[name], dtype=np.float64)

    def event_steps(self, *kinds: str) -> list[int]:
        """Steps at which the log has entries of these kinds."""
        return [e.step for e in self.log if e.kind in kinds]

    def recent(self, kind: str, within: int = HIGHLIGHT_STEPS) -> list[ev.LogEntry]:
        """Log entries of ``kind`` from the last ``within`` steps."""
        return [e for e in self.log if e.kind == kind and self.steps - e.step < within]
