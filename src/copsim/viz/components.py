"""The Solara components of the teaching view.

Two counters tell components when to redraw.  Every step calls Mesa's
``force_update`` (``mesa.visualization.utils``), as SolaraViz does; a
component only redraws after a step if it reads Mesa's ``update_counter``
or gets its value as an argument.  The page reads the counter once and passes
it down as ``tick`` to the components that show the run (one listener, so one
render pass per step).  The controls read :data:`settings_counter` instead,
bumped by :func:`settings_changed`, so a step does not re-render the dozens
of sliders in the sidebar.  Both are ``solara.reactive`` values, which Solara
keeps per browser session, like the :class:`Session` itself."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from typing import Any

import solara
from mesa.visualization.utils import force_update, update_counter

from copsim.params import Params, ParamsError
from copsim.viz import drawing
from copsim.viz import settings as st
from copsim.viz.session import Session

#: Speeds offered for Play (steps per second).
SPEEDS = (1, 2, 4, 8, 15)
DEFAULT_SPEED = 4
#: Bumped whenever the staged settings change (the controls redraw on it, not on steps).
settings_counter = solara.reactive(0)
HELP_STYLE = "font-size: 12px; color: #5f5f5f; margin: 0 0 6px 0; line-height: 1.3;"
CHIP_STYLE = (
    "display:inline-block; padding:2px 12px; border-radius:14px; color:white; "
    "font-weight:600; margin-right:8px;"
)


def settings_changed() -> None:
    """Tell the controls to redraw (after the staged settings changed)."""
    settings_counter.value += 1


def refresh_all() -> None:
    """Redraw everything: the live views and the controls (after a reset)."""
    settings_changed()
    force_update()


def help_note(text: str) -> None:
    """A small grey explanation under a control."""
    solara.HTML(tag="div", unsafe_innerHTML=html.escape(text), style=HELP_STYLE)


# ----------------------------------------------------------------------------- controls
@solara.component
def ControlWidget(
    control: st.Control,
    value: Any,
    on_value: Callable[[Any], None],
    disabled: bool = False,
    prefix: str = "",
):
    """One parameter as a slider, menu or checkbox, with its plain-language help.

    Plain Vuetify widgets with a persistent hint: one element per control keeps the
    widget tree small, and Solara walks the whole tree on every render.
    """
    name = prefix + control.label
    common = dict(hint=control.help, persistent_hint=True, disabled=disabled, class_="mb-3")
    if control.kind in ("float", "int"):
        low, high = control.widget_range(value)
        solara.v.Slider(
            label=f"{name}: {control.describe(value)}",
            v_model=value,
            on_v_model=lambda v: on_value(control.coerce(v)),
            min=low,
            max=high,
            step=control.step,
            dense=True,
            **common,
        )
    elif control.kind == "choice":
        solara.v.Select(
            label=name,
            items=[{"text": text, "value": v} for v, text in control.choice_labels],
            v_model=value,
            on_v_model=on_value,
            dense=True,
            **common,
        )
    else:
        solara.v.Checkbox(
            label=name, v_model=bool(value), on_v_model=on_value, dense=True, **common
        )


@solara.component
def ScenarioPicker(session: Session, on_pick: Callable[[str], None]):
    """The preset menu and the source story of the chosen one."""
    settings_counter.get()
    name = session.staged.scenario
    solara.v.Select(
        label="Scenario",
        items=[{"text": st.scenario_title(n), "value": n} for n in st.scenario_names()],
        v_model=name,
        on_v_model=on_pick,
    )
    solara.HTML(
        tag="p",
        unsafe_innerHTML=html.escape(st.narrative(name)),
        style="font-size: 13px; line-height: 1.4; margin: 0;",
        classes=["copsim-narrative"],
    )


@solara.component
def SeedAndSpeed(
    session: Session, speed: solara.Reactive[int], seed_error: solara.Reactive[str | None]
):
    """The seed field (validated: text arrives as a string) and the playing speed."""
    settings_counter.get()
    seed_text = solara.use_reactive(str(session.staged.seed))

    def on_seed(text: str | None) -> None:
        seed_text.set(text or "")
        try:
            session.set_seed(text)
        except st.SeedError as exc:
            seed_error.set(str(exc))
        else:
            seed_error.set(None)
        settings_changed()

    solara.InputText(
        "Seed",
        value=seed_text.value,
        on_value=on_seed,
        error=seed_error.value or False,
        message="Same seed + same settings = the same run, every time.",
    )
    if seed_error.value:
        solara.Error(f"Seed not accepted: {seed_error.value}", dense=True)
    solara.v.Select(
        label="Speed of Play",
        items=[{"text": f"{s} step{'s' if s > 1 else ''} per second", "value": s} for s in SPEEDS],
        v_model=speed.value,
        on_v_model=speed.set,
        dense=True,
    )


@solara.component
def Transport(
    session: Session,
    playing: solara.Reactive[bool],
    on_reset: Callable[[], None],
    reset_blocked: bool,
    reset_error: str | None,
    tick: int,
    revision: int,
):
    """Play / pause / step / reset, what is waiting for Reset, and the end of a run.

    ``tick`` is Mesa's update counter and ``revision`` the settings counter, passed
    down so the buttons follow each step and the note follows each change.
    """

    def on_step() -> None:
        session.step()
        force_update()

    running = session.running
    with solara.Row(gap="8px", style="align-items: center; flex-wrap: wrap;"):
        solara.Button(
            "Pause" if playing.value else "Play",
            icon_name="mdi-pause" if playing.value else "mdi-play",
            color="primary",
            on_click=lambda: playing.set(not playing.value),
            disabled=not running and not playing.value,
        )
        solara.Button(
            "Step",
            icon_name="mdi-skip-next",
            color="primary",
            outlined=True,
            on_click=on_step,
            disabled=playing.value or not running,
        )
        solara.Button(
            "Reset",
            icon_name="mdi-restart",
            color="primary",
            outlined=True,
            on_click=on_reset,
            disabled=reset_blocked,
        )
    pending = session.pending()
    if reset_blocked:
        solara.Error("Fix the seed (left) before pressing Reset.", dense=True)
    elif pending:
        solara.Warning(
            "Changed but not applied yet: " + "; ".join(pending) + ". Press Reset to start a "
            "new run with these settings.",
            dense=True,
        )
    if reset_error:
        solara.Error(reset_error, dense=True)
    if not running:
        solara.Info("This run has ended. Press Reset to run it again.", dense=True)


@solara.component
def SettingsPanel(session: Session):
    """The sliders, menus and checkboxes a teacher moves."""
    settings_counter.get()
    values = session.staged.values
    social = Params.preset(session.staged.scenario).social_layer
    if not social:
        solara.Info(
            "This scenario has no identities, power or money: only turnover and size apply.",
            dense=True,
        )
    for control in st.CONTROLS:

        def on_value(value: Any, name: str = control.name) -> None:
            session.set_value(name, value)
            settings_changed()

        ControlWidget(
            control, values[control.name], on_value, disabled=control.social and not social
        ).key(control.name)


@solara.component
def ComparePanel(session: Session):
    """Side-by-side mode: the same seed twice, one setting changed in run B."""
    settings_counter.get()
    s = session.staged
    social = Params.preset(s.scenario).social_layer
    options = [c for c in st.CONTROLS if social or not c.social]

    def on_switch(on: bool) -> None:
        session.set_compare(on)
        settings_changed()

    def on_name(name: str) -> None:
        session.set_compare_name(name)
        settings_changed()

    def on_value(value: Any) -> None:
        session.set_compare_value(value)
        settings_changed()

    solara.Switch(label="Side by side: same seed, one change", value=s.compare, on_value=on_switch)
    help_note(
        "Two runs with the same people and the same luck; only the setting below differs, "
        "so any difference you see comes from that one change."
    )
    if s.compare:
        solara.v.Select(
            label="Run B changes",
            items=[{"text": c.label, "value": c.name} for c in options],
            v_model=s.compare_name,
            on_v_model=on_name,
            dense=True,
        )
        control = st.CONTROL_BY_NAME[s.compare_name]
        solara.Text(f"Run A: {control.describe(s.values[s.compare_name])} (as set above)")
        ControlWidget(control, s.compare_value, on_value, prefix="Run B · ").key(
            f"b-{control.name}"
        )


# ----------------------------------------------------------------------------- the display
def label_chip(label: str) -> str:
    """A run's label as a coloured chip (HTML), in the label colours of the plots."""
    colour = drawing.LABEL_COLOURS.get(label, "#636363")
    return f'<span style="{CHIP_STYLE} background:{colour};">{html.escape(label)}</span>'


@solara.component
def StatusBar(session: Session, tick: int):
    """Step counter, and each run's label with the one-line reason (``tick``: see LiveView)."""
    runs = session.runs
    first = runs[0]
    p = first.params
    if (
        not p.social_layer
        and p.stop_at_equilibrium
        and p.turnover_rate == 0
        and p.turbulence_rate == 0
    ):
        horizon = "runs until nothing is left to learn"
    else:
        horizon = f"of {p.max_steps}"
    status = "finished" if not session.running else "ready" if session.steps == 0 else "running"
    rows = [
        f'<div style="font-size:20px; font-weight:600;">Step {session.steps} {horizon} <span style="font-size:14px; color:#666;">({status})</span></div>'
    ]
    names = session.run_names()
    for run, name in zip(runs, names, strict=True):
        label, reason = run.label()
        prefix = f"<b>{html.escape(name)}</b> " if len(runs) > 1 else ""
        if run.steps == 0:
            label = "not started"
            reason = (
                "Press Step or Play. The label will say what kind of learning the run shows so far."
            )
        rows.append(
            f'<div class="copsim-label" data-label="{label}" style="margin-top:6px;">{prefix}{label_chip(label)}'
            f'<span style="font-size:14px;">{html.escape(reason)}</span></div>'
        )
    solara.HTML(tag="div", unsafe_innerHTML="".join(rows), classes=["copsim-status"])


@solara.component
def CommunityView(session: Session, colour_by: solara.Reactive[str], tick: int):
    """The community picture(s) with the colour choice."""
    runs = session.runs
    options = drawing.colour_options(runs[0])
    chosen = colour_by.value if colour_by.value in options else options[0]
    solara.v.Select(
        label="Colour members by",
        items=[{"text": o.replace("_", " "), "value": o} for o in options],
        v_model=chosen,
        on_v_model=colour_by.set,
        dense=True,
        style_="max-width: 320px;",
    )
    names = session.run_names()
    if len(runs) == 1:
        columns = 2 if runs[0].model.alive.size > 1 else 1
        solara.HTML(
            tag="div",
            unsafe_innerHTML=drawing.community_svg(runs[0], chosen, columns),
            classes=["copsim-community"],
        )
        return
    with solara.Columns([1, 1]):
        for run, name in zip(runs, names, strict=True):
            with solara.Column():
                solara.HTML(
                    tag="h3", unsafe_innerHTML=html.escape("Run " + name), style="margin:0;"
                )
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=drawing.community_svg(run, chosen, 2),
                    classes=["copsim-community"],
                )


@solara.component
def ChartsView(session: Session, tick: int):
    """The four live charts."""
    svg = drawing.charts_svg(session.runs, session.run_names())
    solara.HTML(tag="div", unsafe_innerHTML=svg, classes=["copsim-charts"])


@solara.component
def EventLog(session: Session, tick: int):
    """The plain-language event log, newest first (one column per run)."""
    runs = session.runs
    names = session.run_names()
    with solara.Columns([1] * len(runs)):
        for run, name in zip(runs, names, strict=True):
            lines = "".join(
                f'<li class="copsim-event" data-kind="{e.kind}">{html.escape(e.line())}</li>'
                for e in reversed(run.log[-200:])
            )
            head = f"<b>{html.escape('Run ' + name)}</b>" if len(runs) > 1 else ""
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f'{head}<ul style="list-style:none; padding-left:0; margin:0;">{lines}</ul>',
                classes=["copsim-log"],
                style="max-height: 240px; overflow-y: auto; font-size: 13px; line-height: 1.5;",
            )


@solara.component
def ResearchDetails(session: Session):
    """The exact parameters of each run (for checking what the class saw)."""
    settings_counter.get()
    with solara.Details("For researchers: the exact parameters of this run"):
        for run in session.runs:
            dump = run.params.model_dump()
            default = Params().model_dump()
            rows = "".join(
                f"<tr><td><code>{k}</code></td><td>{html.escape(repr(v))}</td>"
                f"<td style='color:#888'>{'' if default.get(k) == v else 'changed'}</td></tr>"
                for k, v in dump.items()
            )
            solara.HTML(
                tag="div",
                unsafe_innerHTML=(
                    f"<p><b>Run {run.name}</b>: <code>CoPModel(Params.preset('{session.applied.scenario}', ...), rng={run.seed})</code>"
                    f" — 'changed' marks values that differ from the Params defaults.</p>"
                    f"<table style='font-size:12px'>{rows}</table>"
                ),
            )


@solara.component
def Explainer():
    """What the picture shows, for someone who has never seen an agent-based model."""
    with solara.Details("How to read this page"):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                "<p>Each dot is one practitioner, simulated by the computer. At every step each "
                "one takes part more or less, talks with others, learns from them and from the "
                "group's shared repertoire (what the group holds to be true), and may challenge it, "
                "leave or join.</p><ul>"
                "<li><b>Distance from the centre</b>: how much they take part (centre = core, rim = periphery).</li>"
                "<li><b>Size</b>: their voice, i.e. their power sharpened by the power asymmetry.</li>"
                "<li><b>Colour</b>: the identity you choose above the picture, or what they know.</li>"
                "<li><b>Faded dots</b> have just left; <b>ringed dots</b> have just challenged the group.</li>"
                "<li>A disc turns <b>pink</b> when the space cannot pay for its meetings and <b>grey</b> when it stops meeting.</li></ul>"
                "<p><b>Expansive</b> learning: the group comes to know what nobody knew at the start, keeps "
                "its variety of views, and newcomers and the periphery shape it. <b>Defensive</b> learning: "
                "the group ends up repeating what its most powerful members believed at the start.</p>"
            ),
            style="font-size: 14px;",
        )


# ----------------------------------------------------------------------------- play loop
def use_player(
    session: Session, playing: solara.Reactive[bool], speed: solara.Reactive[int]
) -> None:
    """Step the session in a background thread while ``playing`` is on."""

    def loop() -> None:
        while playing.value:
            started = time.perf_counter()
            if not session.step():
                playing.set(False)
                break
            force_update()
            if not session.running:
                playing.set(False)
                break
            pause = 1.0 / max(speed.value, 1) - (time.perf_counter() - started)
            time.sleep(max(pause, 0.01))

    # intrusive cancelling traces every line the thread runs (and slows the model down
    # many times); the loop checks ``playing`` after each step instead
    solara.use_thread(loop, dependencies=[playing.value], intrusive_cancel=False)


def apply_reset(session: Session, playing: solara.Reactive[bool]) -> str | None:
    """Stop playing and start fresh runs from the staged settings; returns an error or None."""
    playing.set(False)
    try:
        session.reset()
    except ParamsError as exc:
        return str(exc)
    finally:
        refresh_all()
    return None


def _heading(text: str) -> None:
    solara.HTML(tag="h3", unsafe_innerHTML=html.escape(text), style="margin: 8px 0 4px 0;")


@solara.component
def LiveView(
    session: Session,
    colour_by: solara.Reactive[str],
    playing: solara.Reactive[bool],
    on_reset: Callable[[], None],
    reset_blocked: bool,
    reset_error: str | None,
):
    """Everything in the main area that a step changes, with the Play/Step/Reset buttons.

    This is the one component that reads Mesa's update counter; it passes the value
    down as ``tick``.  A changed argument makes a component redraw, components whose
    arguments did not change are skipped, and the sidebar is not touched: Solara walks
    the whole tree on every render, so one small listener keeps a step cheap.  It also
    reads the settings counter, to show what is waiting for Reset.
    """
    tick = update_counter.get()
    revision = settings_counter.get()
    with solara.Row(gap="24px", style="align-items: flex-start; flex-wrap: wrap;"):
        with solara.Column(gap="4px"):
            Transport(session, playing, on_reset, reset_blocked, reset_error, tick, revision)
        with solara.Column(gap="0px", style="flex: 1 1 400px;"):
            StatusBar(session, tick)
    Explainer()
    if len(session.runs) == 1:
        with solara.Columns([1, 1]):
            with solara.Column():
                CommunityView(session, colour_by, tick)
            with solara.Column():
                _heading("Over time")
                ChartsView(session, tick)
                _heading("What happened")
                EventLog(session, tick)
        return
    CommunityView(session, colour_by, tick)
    with solara.Columns([3, 2]):
        with solara.Column():
            _heading("Over time")
            ChartsView(session, tick)
        with solara.Column():
            _heading("What happened")
            EventLog(session, tick)
