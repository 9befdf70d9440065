"""The event log in plain language.

Two sources feed it: the model's own typed events (``model.events``,
:class:`copsim.events.Event`: funding shocks, challenges accepted or rejected,
champions leaving), which are turned into prose here, and changes the view
reads off the public state between two steps (a space stops meeting, role play
begins or ends, half the founders are gone, the run's label changes).
"""

from __future__ import annotations

from dataclasses import dataclass

from copsim.events import Event

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
    space: int | None = None  # the learning space the entry is about, if any

    def line(self) -> str:
        """``'step 40 ⚡ Funding cut by 85%'``."""
        return f"step {self.step} {ICONS.get(self.kind, '•')} {self.text}"


def who(identity: tuple[str, ...]) -> str:
    """'a peripheral member (south, civil society)' from a challenger's categories."""
    if not identity:
        return "a member"
    return "a peripheral member (" + ", ".join(n.replace("_", " ") for n in identity) + ")"


def from_model(event: Event) -> LogEntry:
    """A log entry, in plain language, from one of the model's typed events."""
    if event.kind == "shock":
        text = {
            "cut": f"Funding cut by {event.amount or 0:.0%}",
            "stop": "Funding stopped",
            "delay": f"Funding delayed for {int(event.amount or 0)} periods",
        }.get(event.outcome or "", "A funding shock")
    elif event.kind == "contest":
        text = f"A challenge by {who(event.identity)} was accepted in space {event.space}"
    elif event.kind == "exclusion":
        text = (
            f"A challenge by {who(event.identity)} was rejected; excluded from space {event.space}"
        )
    elif event.kind == "champions":
        text = f"{int(event.amount or 0)} of the most central members left"
    else:
        text = event.kind.replace("_", " ")
    return LogEntry(event.step, event.kind, text, space=event.space)


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
