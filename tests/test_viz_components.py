"""The teaching view's components, rendered without a browser (``solara.render``)."""

from __future__ import annotations

import time

import ipyvuetify as v
import pytest

solara = pytest.importorskip("solara")

from solara.widgets import HTML  # noqa: E402

from copsim.viz.app import Page, TeachingView  # noqa: E402
from copsim.viz.session import Session  # noqa: E402

OPEN: list = []


@pytest.fixture(autouse=True)
def close_pages():
    """Close every page a test rendered: outside a Solara server the update counters
    are process-wide, so an open page would keep redrawing during later tests."""
    yield
    while OPEN:
        OPEN.pop().close()


def render(session: Session):
    _, rc = solara.render(TeachingView(session), handle_error=False)
    OPEN.append(rc)
    return rc


def render_page():
    _, rc = solara.render(Page(), handle_error=False)
    OPEN.append(rc)
    return rc


def button(rc, text: str) -> v.Btn:
    (found,) = [w for w in rc.find(v.Btn).widgets if text in w.children]
    return found


def html(rc, css_class: str) -> list[HTML]:
    return [w for w in rc.find(HTML).widgets if css_class in w.attributes.get("class", "")]


def slider(rc, label: str) -> v.Slider:
    (found,) = [w for w in rc.find(v.Slider).widgets if w.label.startswith(label + ":")]
    return found


def select(rc, label: str) -> v.Select:
    return rc.find(v.Select, label=label).widget


def alerts(rc) -> str:
    return " ".join(str(c) for w in rc.find(v.Alert).widgets for c in w.children)


def status(rc) -> str:
    return html(rc, "copsim-status")[0].unsafe_innerHTML


def enter(rc, label: str, text: str) -> None:
    field = rc.find(v.TextField, label=label).widget
    field.v_model = text
    field.fire_event("keyup.enter", None)


def test_step_advances_the_status_charts_and_pictures():
    session = Session("bindura_eag")
    rc = render(session)
    assert "Step 0 of 80" in status(rc) and "not started" in status(rc)
    charts = html(rc, "copsim-charts")[0].unsafe_innerHTML
    picture = html(rc, "copsim-community")[0].unsafe_innerHTML
    button(rc, "Step").click()
    button(rc, "Step").click()
    assert session.steps == 2
    assert "Step 2 of 80" in status(rc) and "not started" not in status(rc)
    assert html(rc, "copsim-charts")[0].unsafe_innerHTML != charts
    assert html(rc, "copsim-community")[0].unsafe_innerHTML != picture
    log = html(rc, "copsim-log")[0].unsafe_innerHTML
    assert "step 0 ● Bindura" in log


def test_scenario_picker_loads_the_preset_with_its_story():
    session = Session("bindura_eag")
    rc = render(session)
    button(rc, "Step").click()
    select(rc, "Scenario").v_model = "ogp_workshop"
    assert session.steps == 0 and session.applied.scenario == "ogp_workshop"
    assert "Open Government Partnership" in html(rc, "copsim-narrative")[0].unsafe_innerHTML
    assert slider(rc, "Power asymmetry").v_model == 0.5
    assert rc.find(v.Select, label="Organizing principle").widget.v_model == "challenge"
    assert html(rc, "copsim-community")[0].unsafe_innerHTML.count("Space ") == 4


def test_moving_a_slider_is_staged_until_reset():
    session = Session("bindura_eag")
    rc = render(session)
    slider(rc, "Power asymmetry").v_model = 3.0
    assert slider(rc, "Power asymmetry").label == "Power asymmetry: 3"
    assert session.runs[0].params.power_asymmetry == 1.5
    assert "Power asymmetry 1.5 → 3" in alerts(rc) and "Press Reset" in alerts(rc)
    old_model = session.runs[0].model
    button(rc, "Reset").click()
    assert session.runs[0].model is not old_model
    assert session.runs[0].params.power_asymmetry == 3.0
    assert "not applied" not in alerts(rc)


def test_choices_and_flags_are_staged_too():
    session = Session("bindura_eag")
    rc = render(session)
    select(rc, "Funding shock").v_model = "stop"
    rc.find(v.Checkbox, label="Role play").widget.v_model = True
    button(rc, "Reset").click()
    assert session.runs[0].params.shock_kind == "stop"
    assert session.runs[0].params.role_play is True


def test_seed_field_rejects_bad_input_with_a_message():
    session = Session("bindura_eag")
    rc = render(session)
    enter(rc, "Seed", "twelve")
    assert "Seed not accepted" in alerts(rc) and "'twelve' is not a seed" in alerts(rc)
    assert button(rc, "Reset").disabled
    assert session.staged.seed == 1
    enter(rc, "Seed", " 12 ")
    assert "Seed not accepted" not in alerts(rc) and not button(rc, "Reset").disabled
    assert "seed 1 → 12" in alerts(rc)
    button(rc, "Reset").click()
    assert session.runs[0].seed == 12 and "(seed 12)" in html(rc, "copsim-log")[0].unsafe_innerHTML


def test_side_by_side_runs_two_settings_with_one_seed():
    session = Session("bindura_eag")
    rc = render(session)
    rc.find(v.Switch, label="Side by side: same seed, one change").widget.v_model = True
    assert select(rc, "Run B changes").v_model == "power_asymmetry"
    assert slider(rc, "Run B · Power asymmetry").v_model == 3.0  # a contrasting value
    assert slider(rc, "Power asymmetry").v_model == 1.5
    select(rc, "Run B changes").v_model = "safety"
    slider(rc, "Run B · Safety of the space").v_model = 0.1
    button(rc, "Reset").click()
    a, b = session.runs
    assert (a.params.safety, b.params.safety) == (0.75, 0.1) and a.seed == b.seed
    assert len(html(rc, "copsim-community")) == 2 and len(html(rc, "copsim-log")) == 2
    assert "A: safety of the space 0.75" in status(rc) and "B: safety of the space 0.1" in status(
        rc
    )
    button(rc, "Step").click()
    assert a.steps == b.steps == 1
    points = html(rc, "copsim-charts")[0].unsafe_innerHTML
    assert 'data-series="expansive (A)"' in points and 'data-series="expansive (B)"' in points


def test_each_page_has_its_own_session():
    first = render_page()
    second = render_page()
    button(first, "Step").click()
    assert "Step 1 of" in status(first)
    assert "Step 0 of" in status(second)


def test_colour_choice_changes_the_legend():
    session = Session("bindura_eag")
    rc = render(session)
    assert "Colour = sector" in html(rc, "copsim-community")[0].unsafe_innerHTML
    select(rc, "Colour members by").v_model = "faith"
    picture = html(rc, "copsim-community")[0].unsafe_innerHTML
    assert "Colour = faith" in picture and "church" in picture


def test_march_scenario_disables_social_controls():
    session = Session("march1991")
    rc = render(session)
    assert "no identities, power or money" in alerts(rc)
    assert slider(rc, "Power asymmetry").disabled
    assert not slider(rc, "Turnover").disabled
    assert "runs until nothing is left to learn" in status(rc)


def test_finished_run_disables_step_and_says_so():
    session = Session("bindura_eag")
    session.set_value("n_practitioners", 10)
    session.reset()
    while session.step():
        pass
    rc = render(session)
    assert button(rc, "Step").disabled and button(rc, "Play").disabled
    assert "This run has ended" in alerts(rc)
    button(rc, "Reset").click()
    assert not button(rc, "Step").disabled


def test_play_steps_until_paused():
    session = Session("bindura_eag")
    rc = render(session)
    select(rc, "Speed of Play").v_model = 15
    button(rc, "Play").click()
    deadline = time.monotonic() + 20
    while session.steps < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session.steps >= 3
    assert button(rc, "Step").disabled  # no stepping by hand while playing
    button(rc, "Pause").click()
    time.sleep(0.5)
    stopped = session.steps
    time.sleep(0.5)
    assert session.steps == stopped
    assert "Step " + str(stopped) in status(rc)
