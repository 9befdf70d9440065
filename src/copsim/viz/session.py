"""One browser session's state: the settings being edited and the runs on screen.

Solara runs one Python process for every browser tab, so anything created at
module level is shared by the whole class.  A :class:`Session` is created per
page render (``solara.use_memo`` in :mod:`copsim.viz.app`), so each tab has
its own models.

Settings are *staged*: moving a slider or typing a seed changes what the next
run will use, and :meth:`Session.reset` starts it.  Picking a scenario starts
it at once.  In side-by-side mode the session keeps two runs built from the
same scenario and seed that differ in exactly one setting, and steps them
together, so what differs between the two pictures is that one change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from copsim.params import Params
from copsim.viz import settings as st
from copsim.viz.run import Run

#: Setting varied in side-by-side mode unless the teacher picks another.
DEFAULT_COMPARE = "power_asymmetry"


@dataclass(frozen=True)
class Settings:
    """Everything a run is built from."""

    scenario: str
    values: dict[str, Any] = field(default_factory=dict)
    seed: int = st.DEFAULT_SEED
    compare: bool = False
    compare_name: str = DEFAULT_COMPARE
    compare_value: Any = None

    def params(self) -> Params:
        """Parameters of run A."""
        return st.make_params(self.scenario, self.values)

    def params_b(self) -> Params:
        """Parameters of run B: run A's with the compared setting changed."""
        return st.make_params(self.scenario, {**self.values, self.compare_name: self.compare_value})


def initial_settings(scenario: str = st.DEFAULT_SCENARIO, seed: int = st.DEFAULT_SEED) -> Settings:
    """A scenario's own values, with a contrasting value ready for side-by-side."""
    values = st.scenario_values(scenario)
    control = st.CONTROL_BY_NAME[DEFAULT_COMPARE]
    contrast = st.contrast_value(control, values[DEFAULT_COMPARE])
    return Settings(scenario, values, seed, False, DEFAULT_COMPARE, contrast)


def differences(old: Settings, new: Settings) -> list[str]:
    """What the next reset would change, as short phrases ('Power asymmetry 1.5 → 3')."""
    notes = []
    if new.seed != old.seed:
        notes.append(f"seed {old.seed} → {new.seed}")
    for name, value in new.values.items():
        before = old.values.get(name)
        if before != value:
            c = st.CONTROL_BY_NAME[name]
            notes.append(f"{c.label} {c.describe(before)} → {c.describe(value)}")
    if new.compare != old.compare:
        notes.append("side-by-side " + ("on" if new.compare else "off"))
    elif new.compare and (new.compare_name, new.compare_value) != (
        old.compare_name,
        old.compare_value,
    ):
        c = st.CONTROL_BY_NAME[new.compare_name]
        notes.append(f"run B: {c.label} {c.describe(new.compare_value)}")
    return notes


class Session:
    """The staged settings and the run(s) built from the last applied ones."""

    def __init__(self, scenario: str = st.DEFAULT_SCENARIO, seed: int = st.DEFAULT_SEED) -> None:
        self._lock = threading.RLock()
        self.staged = initial_settings(scenario, seed)
        self.applied = self.staged
        self.runs: list[Run] = []
        self.reset()

    # ------------------------------------------------------------------ editing
    def choose_scenario(self, scenario: str) -> None:
        """Load a preset's values (keeping the seed and side-by-side choice) and start it."""
        if scenario not in st.scenario_names():
            raise ValueError(f"unknown scenario {scenario!r}")
        fresh = initial_settings(scenario, self.staged.seed)
        compare_value = st.contrast_value(
            st.CONTROL_BY_NAME[self.staged.compare_name], fresh.values[self.staged.compare_name]
        )
        self.staged = replace(
            fresh,
            compare=self.staged.compare,
            compare_name=self.staged.compare_name,
            compare_value=compare_value,
        )
        self.reset()

    def set_value(self, name: str, value: Any) -> None:
        """Stage a new value for one teacher control (applied at the next reset)."""
        control = st.CONTROL_BY_NAME[name]
        self.staged = replace(
            self.staged, values={**self.staged.values, name: control.coerce(value)}
        )

    def set_seed(self, text: Any) -> int:
        """Stage a seed typed as text; raises :class:`~copsim.viz.settings.SeedError`."""
        seed = st.parse_seed(text)
        self.staged = replace(self.staged, seed=seed)
        return seed

    def set_compare(self, on: bool) -> None:
        """Stage side-by-side mode on or off."""
        self.staged = replace(self.staged, compare=bool(on))

    def set_compare_name(self, name: str) -> None:
        """Stage which setting run B changes (with a contrasting value for it)."""
        control = st.CONTROL_BY_NAME[name]
        value = st.contrast_value(control, self.staged.values[name])
        self.staged = replace(self.staged, compare_name=name, compare_value=value)

    def set_compare_value(self, value: Any) -> None:
        """Stage run B's value of the compared setting."""
        control = st.CONTROL_BY_NAME[self.staged.compare_name]
        self.staged = replace(self.staged, compare_value=control.coerce(value))

    def pending(self) -> list[str]:
        """Staged changes not yet applied (empty when the runs match the controls)."""
        return differences(self.applied, self.staged)

    # ------------------------------------------------------------------ running
    def reset(self) -> None:
        """Build fresh run(s) from the staged settings (validated; raises ParamsError)."""
        settings = self.staged
        title = st.scenario_title(settings.scenario)
        runs = [Run(settings.params(), settings.seed, "A", title)]
        if settings.compare:
            runs.append(Run(settings.params_b(), settings.seed, "B", title))
        with self._lock:
            self.runs = runs
            self.applied = settings

    def step(self) -> bool:
        """Advance every run that is still running by one step; False if none could."""
        with self._lock:
            moved = [run.step() for run in self.runs]
        return any(moved)

    @property
    def running(self) -> bool:
        """True while at least one run can still step."""
        return any(run.running for run in self.runs)

    @property
    def steps(self) -> int:
        """Steps taken by the first run (runs step together)."""
        return self.runs[0].steps if self.runs else 0

    @property
    def horizon(self) -> int:
        """The last step of the applied scenario (its ``max_steps``)."""
        return self.runs[0].params.max_steps if self.runs else 0

    @property
    def social(self) -> bool:
        """False for scenarios with the social layer off (March 1991)."""
        return bool(self.runs[0].params.social_layer) if self.runs else True

    def run_names(self) -> list[str]:
        """Short names of the runs on screen ('A', or 'A' and 'B' with their difference)."""
        if len(self.runs) < 2:
            return ["this run"]
        s = self.applied
        c = st.CONTROL_BY_NAME[s.compare_name]
        return [
            f"A: {c.label.lower()} {c.describe(s.values[s.compare_name])}",
            f"B: {c.label.lower()} {c.describe(s.compare_value)}",
        ]
