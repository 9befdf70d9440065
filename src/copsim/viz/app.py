"""The teaching view's page: ``solara run copsim.viz.app`` (or ``copsim viz``).

The :func:`Page` component creates one :class:`~copsim.viz.session.Session`
per browser session with ``solara.use_memo``: nothing model-related lives at
module level, so two tabs (or two students) never share a model.
"""

from __future__ import annotations

import solara

from copsim.viz import components as ui
from copsim.viz.session import Session

TITLE = "copsim: how a community of practice learns"


@solara.component
def Page():
    """The whole page: controls in the sidebar, the community and its story in the main area."""
    session = solara.use_memo(Session, dependencies=[])
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(ui.DEFAULT_SPEED)
    colour_by = solara.use_reactive("")
    reset_error = solara.use_reactive(None)
    ui.use_player(session, playing, speed)

    def on_pick(name: str) -> None:
        playing.set(False)
        session.choose_scenario(name)
        colour_by.set("")
        reset_error.set(None)
        ui.force_update()

    def on_reset() -> None:
        reset_error.set(ui.apply_reset(session, playing))

    solara.Title(TITLE)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar():
        with solara.Card("1 · Scenario", margin=0, classes=["mb-2"]):
            ui.ScenarioPicker(session, on_pick)
        with solara.Card("2 · Run", margin=0, classes=["mb-2"]):
            ui.RunControls(session, playing, speed, on_reset, reset_error.value)
        with solara.Card("3 · Compare", margin=0, classes=["mb-2"]):
            ui.ComparePanel(session)
        with solara.Card("4 · Settings", margin=0, classes=["mb-2"]):
            ui.SettingsPanel(session)
    with solara.Column(style="padding: 8px 16px; max-width: 1600px;"):
        ui.StatusBar(session)
        ui.Explainer()
        ui.MainView(session, colour_by)
        ui.ResearchDetails(session)
