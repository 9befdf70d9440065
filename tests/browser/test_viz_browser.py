"""End to end: the teaching view in headless Chromium against a running ``copsim viz``.

Screenshots of the main states go to ``tests/artifacts/viz-screenshots/``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from viz_page import ViewPage

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def status(view: ViewPage) -> str:
    return view.page.locator(".copsim-status").inner_text()


def wait_status(view: ViewPage, pattern: str) -> None:
    """Wait until the status line matches ``pattern`` (a regular expression)."""
    view.page.locator(".copsim-status", has_text=re.compile(pattern)).wait_for()


def points(view: ViewPage, series: str) -> int:
    """Number of distinct steps the charts draw for one line."""
    line = view.page.locator(f'.copsim-charts polyline[data-series="{series}"]')
    return len({p.split(",")[0] for p in line.get_attribute("points").split()})


def wait_points(view: ViewPage, series: str, count: int) -> None:
    """Wait until the charts draw ``count`` steps of one line (widgets update one by one)."""
    view.page.wait_for_function(
        """([series, count]) => {
            const line = document.querySelector(`.copsim-charts polyline[data-series="${series}"]`);
            if (!line) return false;
            const xs = new Set(line.getAttribute("points").split(" ").map(p => p.split(",")[0]));
            return xs.size === count;
        }""",
        arg=[series, count],
    )


def step(view: ViewPage, times: int = 1) -> None:
    button = view.page.get_by_role("button", name="Step", exact=True)
    for _ in range(times):
        before = status(view)
        button.click()
        view.page.wait_for_function(
            "old => document.querySelector('.copsim-status').innerText !== old", arg=before
        )


def pick_scenario(view: ViewPage, title: str) -> None:
    view.page.get_by_label("Scenario").click(force=True)
    view.page.get_by_role("option", name=title).click()


def test_page_loads_offline_without_console_errors(view: ViewPage):
    page = view.page
    assert page.title() == "copsim: how a community of practice learns"
    assert "Step 0 of 80" in status(view) and "not started" in status(view)
    assert page.locator(".copsim-community svg circle").count() > 40
    assert page.get_by_text("Johnson (2007), the Bindura").is_visible()
    view.shot("01-loaded")
    assert view.errors == []
    assert [u for u in view.failed if "/_solara/cdn/" in u] == []


def test_picking_a_scenario_and_stepping_advances_the_charts(view: ViewPage):
    pick_scenario(view, "Open Government Partnership workshops (Reboot 2016)")
    view.page.get_by_text("Reboot (2016), Open Government Partnership").wait_for()
    wait_status(view, r"Step 0 of 100")
    assert view.page.locator(".copsim-community", has_text="Space 3:").count() == 1
    assert points(view, "expansive") == 1
    step(view, 3)
    wait_status(view, r"Step 3 of 100")
    wait_points(view, "expansive", 4)
    assert points(view, "meetings held") == 4
    assert view.page.locator(".copsim-log li").count() >= 1
    view.shot("02-ogp-after-3-steps")
    assert view.errors == []


def test_moving_the_asymmetry_slider_and_resetting_changes_the_model(view: ViewPage):
    page = view.page
    control = page.locator(".v-input", has_text="Power asymmetry:")
    before = page.locator(".copsim-community").inner_html()
    control.locator(".v-slider__thumb-container").focus()
    page.keyboard.press("End")
    control.filter(has_text="Power asymmetry: 4").wait_for()
    page.get_by_text("Changed but not applied yet: Power asymmetry 1.5 → 4").wait_for()
    view.shot("03-slider-moved")
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text("Changed but not applied yet").wait_for(state="detached")
    page.get_by_text("For researchers: the exact parameters of this run").click()
    row = page.locator("tr", has=page.locator("code", has_text=re.compile("^power_asymmetry$")))
    assert row.locator("td").nth(1).inner_text() == "4.0"
    assert page.locator(".copsim-community").inner_html() != before  # voices (dot sizes) changed
    view.shot("04-reset-with-high-asymmetry")
    assert view.errors == []


def test_seed_field_rejects_bad_input_with_a_visible_message(view: ViewPage):
    page = view.page
    seed = page.get_by_role("textbox", name="Seed")
    seed.fill("forty-two")
    seed.press("Enter")
    message = page.get_by_text("Seed not accepted: 'forty-two' is not a seed")
    message.wait_for()
    assert message.is_visible()
    # the message and the button are separate widgets that reach the page one after
    # the other: wait (up to Playwright's 5 s) for the button rather than read it once
    expect(page.get_by_role("button", name="Reset", exact=True)).to_be_disabled()
    view.shot("05-bad-seed")
    seed.fill("42")
    seed.press("Enter")
    message.wait_for(state="detached")
    page.get_by_role("button", name="Reset", exact=True).click()
    page.locator(".copsim-log", has_text="(seed 42)").wait_for()
    assert view.errors == []


def test_side_by_side_steps_two_runs_with_one_seed(view: ViewPage):
    page = view.page
    page.get_by_text("Side by side: same seed, one change").click()
    page.get_by_text("Run A: 1.5 (as set above)").wait_for()
    page.get_by_role("button", name="Reset", exact=True).click()
    page.locator(".copsim-community").nth(1).wait_for()
    assert page.locator(".copsim-community").count() == 2
    assert page.get_by_role("heading", name="Run A: power asymmetry 1.5").is_visible()
    assert page.get_by_role("heading", name="Run B: power asymmetry 3").is_visible()
    step(view, 5)
    wait_status(view, r"Step 5 of 80")
    wait_points(view, "expansive (A)", 6)
    wait_points(view, "expansive (B)", 6)
    view.shot("06-side-by-side")
    assert view.errors == []


def test_play_and_pause(view: ViewPage):
    page = view.page
    page.get_by_role("button", name="Play", exact=True).click()
    wait_status(view, r"Step ([3-9]|\d\d) of 80")
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_role("button", name="Play", exact=True).wait_for()
    view.shot("07-after-play")
    assert view.errors == []


def test_a_funding_shock_shows_in_the_picture_the_charts_and_the_log(view: ViewPage):
    page = view.page
    pick_scenario(view, "Uganda-UK council partnerships (Johnson 2007)")
    wait_status(view, r"Step 0 of 100")
    shock_at = page.locator(".v-input", has_text="Shock at step:")
    shock_at.locator(".v-slider__thumb-container").focus()
    page.keyboard.press("Home")
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    shock_at.filter(has_text="Shock at step: 8").wait_for()
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text("Changed but not applied yet").wait_for(state="detached")
    step(view, 10)
    wait_status(view, r"Step 10 of 100")
    page.locator(".copsim-community", has_text="⚡ Funding cut by 85%").wait_for()
    assert page.locator(".copsim-log", has_text="step 8 ⚡ Funding cut by 85%").count() == 1
    wait_points(view, "funding in, per space", 11)
    view.shot("08-funding-shock")
    assert view.errors == []
