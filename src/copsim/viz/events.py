"""The event log in plain language.

Two sources feed it: the model's own events (``model.events``: funding
shocks, challenges accepted or rejected, champions leaving), and changes the
view reads off the public state between two steps (a space stops meeting, role
play begins or ends, half the founders are gone, the run's label changes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: A short marker per kind, shown before the text (and used for colours).
ICONS: dict[str, str] = {
    "start": "●",
    "shock": "⚡",
    "contest": "✔",
    "exclusion": "✖",
    "champions": "↗",
    "space": "■",
    "roleplay": "⇄",
    "founders": "↘",
    "label": "★",
}


@dataclass(frozen=True)
class LogEntry:
    """One line of the event log."""

    step: int
    kind: str
    text: str

    def plain(self) -> str:
        """The text without a trailing 'at step N' (the step is shown separately)."""
        return re.sub(r"\s+at step \d+$", "", self.text)

    def line(self) -> str:
        """``'step 40 ⚡ Funding cut by 85%'``."""
        return f"step {self.step} {ICONS.get(self.kind, '•')} {self.plain()}"

    def space(self) -> int | None:
        """The learning space the entry is about, if its text names one at the end."""
        match = re.search(r"space (\d+)$", self.text)
        return int(match.group(1)) if match else None


def from_model(event: dict[str, Any]) -> LogEntry:
    """A log entry from one of ``model.events`` ({step, kind, text})."""
    text = str(event.get("text", "")).replace("_", " ").strip()
    return LogEntry(int(event.get("step", 0)), str(event.get("kind", "event")), text)


def opening(members: int, spaces: int, scenario_title: str, seed: int) -> LogEntry:
    """The first line of a run: who is there and with which seed."""
    where = "one learning space" if spaces == 1 else f"{spaces} learning spaces"
    return LogEntry(
        0, "start", f"{scenario_title}: {members} practitioners in {where} (seed {seed})"
    )


def space_closed(step: int, space: int) -> LogEntry:
    """A space has stopped meeting."""
    return LogEntry(
        step,
        "space",
        f"Space {space} stopped meeting: too few active members or no money to meet",
    )


def role_play(step: int, started: bool) -> LogEntry:
    """Role play begins or ends."""
    text = (
        "Role play began: members step out of their usual roles"
        if started
        else "Role play ended: members are back in their roles"
    )
    return LogEntry(step, "roleplay", text)


def founders_halved(step: int) -> LogEntry:
    """Retention of the founding members fell below one half."""
    return LogEntry(step, "founders", "Half of the founding members have now left")


def label_changed(step: int, before: str, after: str) -> LogEntry:
    """The run's label changed."""
    return LogEntry(step, "label", f"The run now reads as {after} (it was {before})")
