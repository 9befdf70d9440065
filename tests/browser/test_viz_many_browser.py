"""End to end: the "What happens across many runs?" panel in headless Chromium.

Bindura at its default size: 200 seeds take about a second on the engine, so
the test runs the panel as shipped.  Screenshots go to
``tests/artifacts/viz-screenshots/``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from viz_page import ViewPage

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

TITLE = "What happens across many runs?"


def open_panel(view: ViewPage):
    """Open the panel (it starts folded) and return its content."""
    page = view.page
    page.get_by_text(TITLE).click()
    panel = page.locator(".copsim-many")
    panel.wait_for()
    return panel


def choose_count(view: ViewPage, panel, n: int) -> None:
    """Pick the number of seeds from the panel's menu (once the panel has unfolded)."""
    page = view.page
    page.get_by_role("button", name=re.compile(r"^Run \d+ seeds")).wait_for()
    menu = panel.locator(".v-input", has_text="Seeds")
    menu.scroll_into_view_if_needed()
    menu.locator(".v-select__slot").click()
    page.get_by_role("option", name=f"{n} seeds").click()
    page.get_by_role("button", name=re.compile(rf"^Run {n} seeds")).wait_for()


def run_and_wait(view: ViewPage, button_text: str):
    """Press the run button and wait until the result is drawn and the button is free
    again (widgets arrive one by one, so wait for each part checked later)."""
    page = view.page
    button = page.get_by_role("button", name=button_text)
    button.click()
    reading = page.locator(".copsim-many-reading")
    reading.wait_for(timeout=120_000)
    page.locator(".copsim-many-hist svg").wait_for()
    page.locator(".copsim-many-shares td[data-label='dissolved']").last.wait_for()
    expect(button).to_be_enabled()
    return reading


def shares(view: ViewPage, arm: str = "A") -> dict[str, int]:
    """Runs per label from the shares table."""
    cells = view.page.locator(f".copsim-many-shares td[data-arm='{arm}']")
    out = {}
    for i in range(cells.count()):
        cell = cells.nth(i)
        count = re.match(r"\s*(\d+) \(", cell.inner_text())
        out[cell.get_attribute("data-label")] = int(count.group(1))
    return out


def test_many_runs_panel_shows_shares_and_histograms(view: ViewPage):
    page = view.page
    open_panel(view)
    reading = run_and_wait(view, "Run 200 seeds with these settings")
    assert reading.inner_text().startswith("In 200 runs with these settings (seeds 1-200)")
    assert "The run on screen (seed 1) is one of them" in reading.inner_text()
    counts = shares(view)
    assert set(counts) == {"expansive", "defensive", "stagnant", "dissolved"}
    assert sum(counts.values()) == 200
    histogram = page.locator(".copsim-many-hist svg")
    assert histogram.locator("rect[fill='#1b7837']").count() > 0  # expansive bars
    assert histogram.get_by_text("seed 1 (on screen)").count() == 2  # one marker per outcome
    page.locator(".copsim-many-hist").scroll_into_view_if_needed()
    view.shot("09-many-runs")
    # a staged change says the numbers are old instead of passing them off as current
    control = page.locator(".v-input", has_text="Power asymmetry:")
    control.locator(".v-slider__thumb-container").focus()
    page.keyboard.press("End")
    page.get_by_text("Settings changed since these runs (Power asymmetry 1.5 → 4)").wait_for()
    assert view.errors == []


def test_many_runs_side_by_side_shows_paired_differences(view: ViewPage):
    page = view.page
    page.get_by_text("Side by side: same seed, one change").click()
    page.get_by_text("Run A: 1.5 (as set above)").wait_for()
    page.get_by_role("button", name="Reset", exact=True).click()
    page.locator(".copsim-community").nth(1).wait_for()
    panel = open_panel(view)
    choose_count(view, panel, 100)
    reading = run_and_wait(view, "Run 100 seeds with both settings")
    assert "Over the same 100 seeds, changing power asymmetry 1.5 → 3" in reading.inner_text()
    assert "The pair on screen (seed 1) is one of them" in reading.inner_text()
    assert sum(shares(view, "A").values()) == sum(shares(view, "B").values()) == 100
    differences = page.locator(".copsim-many-differences").inner_text()
    assert "B higher on" in differences and "95% CI" in differences
    assert page.locator(".copsim-many-hist svg", has_text="Expansiveness · B − A").count() == 1
    page.locator(".copsim-many-hist").scroll_into_view_if_needed()
    view.shot("10-many-runs-side-by-side")
    assert view.errors == []
