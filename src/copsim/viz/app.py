"""The teaching view's page: ``solara run copsim.viz.app`` (or ``copsim viz``).

The :func:`Page` component creates one :class:`~copsim.viz.session.Session`
per browser session with ``solara.use_memo``: nothing model-related lives at
module level, so two tabs (or two students) never share a model.
"""

from __future__ import annotations

import solara

from copsim.viz import components as ui
from copsim.viz.many_panel import ManyRunsPanel
from copsim.viz.session import Session

TITLE = "copsim: how a community of practice learns"
BAR_STYLE = (
    "background: #1565c0; color: white; font-size: 20px; padding: 12px 20px; "
    "flex: 0 0 auto; box-shadow: 0 2px 4px rgba(0,0,0,0.2);"
)
SIDE_STYLE = (
    "width: 380px; flex: 0 0 380px; overflow-y: auto; padding: 10px; "
    "background: #f5f5f5; border-right: 1px solid #ddd;"
)
MAIN_STYLE = "flex: 1 1 auto; min-width: 0; overflow-y: auto; padding: 10px 18px;"


@solara.component
def Page():
    """The page Solara serves: a fresh :class:`Session` for every browser session."""
    session = solara.use_memo(Session, dependencies=[])
    TeachingView(session)


@solara.component
def TeachingView(session: Session):
    """The whole view of one session: settings on the left, the run on the right.

    Only :func:`~copsim.viz.components.LiveView` listens to steps; this component
    and the settings panels re-render when settings change, not on every step.
    """
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(ui.DEFAULT_SPEED)
    colour_by = solara.use_reactive("")
    reset_error = solara.use_reactive(None)
    seed_error = solara.use_reactive(None)
    ui.use_player(session, playing, speed)

    def on_pick(name: str) -> None:
        playing.set(False)
        session.choose_scenario(name)
        colour_by.set("")
        reset_error.set(None)
        ui.refresh_all()

    def on_reset() -> None:
        reset_error.set(ui.apply_reset(session, playing))

    solara.Title(TITLE)
    with solara.Column(gap="0px", style="height: 100vh; overflow: hidden;"):
        solara.HTML(tag="div", unsafe_innerHTML=TITLE, style=BAR_STYLE, classes=["copsim-bar"])
        with solara.Row(gap="0px", style="flex: 1 1 auto; min-height: 0;"):
            with solara.Column(gap="8px", style=SIDE_STYLE, classes=["copsim-controls"]):
                with solara.Card("1 · Scenario", margin=0):
                    ui.ScenarioPicker(session, on_pick)
                with solara.Card("2 · Seed and speed", margin=0):
                    ui.SeedAndSpeed(session, speed, seed_error)
                with solara.Card("3 · Compare", margin=0):
                    ui.ComparePanel(session)
                with solara.Card("4 · Settings", margin=0):
                    ui.SettingsPanel(session)
            with solara.Column(gap="8px", style=MAIN_STYLE, classes=["copsim-main"]):
                ui.LiveView(
                    session,
                    colour_by,
                    playing,
                    on_reset,
                    seed_error.value is not None,
                    reset_error.value,
                )
                ManyRunsPanel(session, seed_error.value is not None)
                ui.ResearchDetails(session)


@solara.component
def Layout(children: list | None = None):
    """The page lays itself out: no app bar or sidebar portals that would make Solara
    re-render the whole page whenever a control changes."""
    return solara.Column(children=children or [], gap="0px", style="padding: 0;")
