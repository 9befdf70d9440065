"""The teaching view's many-runs panel: the computation, its pictures and the component."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from copsim.facts import paired_difference
from copsim.model import CoPModel
from copsim.outcomes import LABELS
from copsim.viz import histograms, many
from copsim.viz.session import Session, Settings, initial_settings

#: A small, short Bindura community: every test case here runs in well under a second.
SMALL = {"n_practitioners": 10, "max_steps": 30}


def small(scenario: str = "bindura_eag", seed: int = 3, **changes) -> Settings:
    base = initial_settings(scenario, seed)
    return replace(base, values={**base.values, **SMALL}, **changes)


# ----------------------------------------------------------------------------- computation
def test_seeds_start_at_the_seed_on_screen():
    assert many.seeds_for(7, 4) == [7, 8, 9, 10]
    with pytest.raises(ValueError, match="at least 2"):
        many.seeds_for(7, 1)


@pytest.mark.parametrize("scenario", ["bindura_eag", "march1991"])
def test_each_run_is_bit_identical_to_copmodel_with_that_seed(scenario):
    settings = small(scenario, compare=True, compare_name="n_practitioners", compare_value=20)
    if scenario == "march1991":  # the closed model stops at equilibrium, well before this
        settings = replace(settings, values={**settings.values, "max_steps": 10_000})
    result = many.run_many(settings, 3)
    assert result.seeds == (3, 4, 5) and result.screen_seed == 3
    for arm, params in zip(result.arms, many.arm_params(settings), strict=True):
        for i, seed in enumerate(result.seeds):
            alone = CoPModel(params, rng=seed).run().outcomes()
            assert arm.expansiveness[i] == alone["expansiveness"]  # exact, not approximate
            assert arm.defensiveness[i] == alone["defensiveness"]
            assert arm.labels[i] == alone["label"]
            assert arm.steps[i] == alone["steps"]


def test_label_shares_count_every_run_once():
    result = many.run_many(small(), 40)
    arm = result.arms[0]
    counts = arm.counts()
    assert list(counts) == list(LABELS)
    assert sum(counts.values()) == result.n == 40
    assert sum(arm.shares().values()) == pytest.approx(1.0)
    for label in LABELS:
        assert counts[label] == sum(lab == label for lab in arm.labels)
        watch = arm.seeds_with(label, result.seeds)
        assert len(watch) == min(3, counts[label])
        assert all(arm.labels[result.seeds.index(s)] == label for s in watch)


def test_paired_differences_are_b_minus_a_on_the_same_seeds():
    settings = small(compare=True, compare_name="power_asymmetry", compare_value=3.5)
    paired = many.run_many(settings, 30)
    alone_a = many.run_many(replace(settings, compare=False), 30)
    alone_b = many.run_many(replace(settings, compare=False, values=_b_values(settings)), 30)
    a, b = paired.arms
    for measure in many.MEASURES:
        # each arm is what it gives alone on these seeds: the pairs share their seeds
        assert np.array_equal(a.values(measure), alone_a.arms[0].values(measure))
        assert np.array_equal(b.values(measure), alone_b.arms[0].values(measure))
        diff = paired.difference(measure)
        assert np.array_equal(diff.differences, b.values(measure) - a.values(measure))
        assert diff.higher + diff.lower + diff.equal == 30
        assert diff.higher == int((b.values(measure) > a.values(measure)).sum())
        expected = paired_difference(a.values(measure), b.values(measure), 1)
        assert diff.summary.mean_difference == pytest.approx(expected.mean_difference)
        assert diff.summary.ci_low <= diff.summary.mean_difference <= diff.summary.ci_high
    with pytest.raises(ValueError, match="side-by-side"):
        alone_a.difference("expansiveness")


def _b_values(settings: Settings) -> dict:
    return {**settings.values, settings.compare_name: settings.compare_value}


def test_results_go_stale_when_a_setting_changes():
    session = Session("bindura_eag")
    result = many.run_many(session.staged, 2)
    assert result.changes_since(session.staged) == []
    session.set_value("power_asymmetry", 3.0)
    assert result.changes_since(session.staged) == ["Power asymmetry 1.5 → 3"]
    session.set_value("power_asymmetry", 1.5)
    assert result.changes_since(session.staged) == []  # back to what was run
    session.set_seed("9")
    assert result.changes_since(session.staged) == ["seed 1 → 9"]
    session.set_seed("1")
    session.set_compare(True)
    assert result.changes_since(session.staged) == ["side-by-side on"]
    session.choose_scenario("ogp_workshop")
    assert result.changes_since(session.staged)[0].startswith("scenario → Open Government")


def test_the_run_on_screen_is_marked_only_when_it_is_one_of_the_runs():
    session = Session("bindura_eag")
    session.set_value("n_practitioners", 10)
    session.reset()
    result = many.run_many(session.staged, 2)
    on_screen = [(run.params, run.seed) for run in session.runs]
    assert result.shows_screen(on_screen)
    assert "is one of them" in many.reading(result, True)
    session.set_value("safety", 0.2)  # staged only: the run on screen is unchanged
    assert result.shows_screen(on_screen)
    session.reset()
    assert not result.shows_screen([(run.params, run.seed) for run in session.runs])
    assert "press Reset to watch seed 1" in many.reading(result, False)


def test_the_screen_run_ends_where_its_marker_says():
    session = Session("bindura_eag")
    session.set_value("n_practitioners", 10)
    session.reset()
    result = many.run_many(session.staged, 2)
    while session.step():
        pass
    run = session.runs[0]
    assert run.label()[0] == result.arms[0].labels[0]
    assert run.model.metrics["expansiveness"] == result.arms[0].expansiveness[0]


def test_reading_states_the_shares_in_plain_words():
    result = many.run_many(small(), 20)
    shares = result.arms[0].shares()
    text = many.reading(result, True)
    assert text.startswith("In 20 runs with these settings (seeds 3-22)")
    assert f"expansive in {100 * shares['expansive']:.0f}%" in text
    assert f"defensive in {100 * shares['defensive']:.0f}%" in text
    paired = many.run_many(small(compare=True, compare_value=3.5), 20)
    text = many.reading(paired, False)
    assert "Over the same 20 seeds, changing power asymmetry 1.5 → 3.5" in text
    line = many.describe_difference(paired.difference("defensiveness"), 20)
    assert "B higher on" in line and "95% CI" in line


def test_job_runs_one_computation_at_a_time():
    job = many.Job()
    settings = small()
    assert job.claim(settings, 4)
    assert not job.claim(settings, 4)  # a second press while running is refused
    result = job.execute(settings, 4)
    assert result is job.result and result.n == 4 and not job.busy
    assert job.claim(settings, 4)  # free again once done
    job.execute(settings, 4)


def test_stop_keeps_the_previous_result(monkeypatch):
    monkeypatch.setattr(many, "MIN_CHUNK", 2)
    monkeypatch.setattr(many, "WORK_PER_CHUNK", 1)  # two runs per chunk
    job = many.Job()
    settings = small()
    job.claim(settings, 2)
    first = job.execute(settings, 2)
    job.claim(settings, 6)
    job.cancel()
    seen = []
    assert job.execute(settings, 6, lambda done, total: seen.append((done, total))) is None
    assert seen == [(2, 6)] and job.result is first and not job.busy
    assert job.note.startswith("Stopped after 2 of 6 runs")


def test_invalid_settings_give_a_message_not_a_traceback():
    job = many.Job()
    bad = replace(small(), values={**small().values, "safety": 7.0})
    job.claim(bad, 2)
    assert job.execute(bad, 2) is None
    assert "safety" in job.error and not job.busy


def test_chunks_follow_the_work_per_run():
    small_runs = small().params()
    assert many.chunk_size(small_runs) >= many.MIN_CHUNK
    big = initial_settings("ogp_workshop").params().replace(n_practitioners=300)
    assert many.chunk_size(big) == many.MIN_CHUNK


# ----------------------------------------------------------------------------- pictures
def test_bin_counts_put_every_value_in_one_bin():
    edges = np.linspace(0.0, 1.0, 5)
    counts = histograms.bin_counts(
        np.array([0.0, 0.1, 0.3, 0.99, 1.0, 1.4]), ["a", "b", "a", "a", "b", "a"], ["a", "b"], edges
    )
    assert counts.tolist() == [[1, 1], [1, 0], [0, 0], [2, 1]]


def test_histograms_show_every_run_and_mark_the_screen_run():
    result = many.run_many(small(), 20)
    svg = histograms.many_svg(result, on_screen=True)
    assert svg.startswith("<svg") and "seed 3 (on screen)" in svg
    assert "label threshold 0.312" in svg and "label threshold 0.286" in svg
    assert "seed 3" not in histograms.many_svg(result, on_screen=False)
    for measure in many.MEASURES:  # the hover texts of one panel's bars add up to n
        panel = svg.split(histograms.TITLES[measure])[1].split("Defensiveness")[0]
        bins = {t.split("</title>")[0] for t in panel.split("<title>")[1:]}  # one per bin
        assert sum(int(t.split(": ")[1].split(" ")[0]) for t in bins) == 20
    paired = many.run_many(small(compare=True, compare_value=3.5), 20)
    both = histograms.many_svg(paired, on_screen=True)
    assert "Expansiveness · B − A" in both and "95% CI" in both and "B higher (B − A)" in both


# ----------------------------------------------------------------------------- the component
solara = pytest.importorskip("solara")
v = pytest.importorskip("ipyvuetify")

from solara.widgets import HTML  # noqa: E402

from copsim.viz.app import TeachingView  # noqa: E402


@pytest.fixture
def page():
    """Render the teaching view of a small Bindura session; close it afterwards."""
    session = Session("bindura_eag")
    session.set_value("n_practitioners", 10)
    session.reset()
    _, rc = solara.render(TeachingView(session), handle_error=False)
    yield session, rc
    rc.close()


def html(rc, css_class: str) -> list:
    return [w for w in rc.find(HTML).widgets if css_class in w.attributes.get("class", "")]


def run_button(rc) -> v.Btn:
    (found,) = [
        w for w in rc.find(v.Btn).widgets if any("seeds with" in str(c) for c in w.children)
    ]
    return found


def alerts(rc) -> str:
    return " ".join(str(c) for w in rc.find(v.Alert).widgets for c in w.children)


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def wait_for_result(rc) -> None:
    """Wait until the result is drawn and the button is free again: the worker thread
    updates the widgets one by one, so wait for the last of them."""
    wait_for(lambda: html(rc, "copsim-many-hist") and not run_button(rc).disabled)


def test_panel_runs_the_staged_settings_and_shows_the_shares(page):
    _, rc = page
    button = run_button(rc)
    assert "Run 200 seeds with these settings" in button.children
    button.click()
    wait_for_result(rc)
    shares = html(rc, "copsim-many-shares")[0].unsafe_innerHTML
    reading = html(rc, "copsim-many-reading")[0].unsafe_innerHTML
    assert reading.startswith("In 200 runs with these settings (seeds 1-200)")
    assert "is one of them" in reading
    counts = [
        int(cell.split("</span>")[1].split(" (")[0]) for cell in shares.split("data-arm=")[1:]
    ]
    assert len(counts) == len(LABELS) and sum(counts) == 200
    assert "seed 1 (on screen)" in html(rc, "copsim-many-hist")[0].unsafe_innerHTML
    # a staged change marks the results stale at once
    rc.find(v.Slider, label="Power asymmetry: 1.5").widget.v_model = 3.0
    assert "Settings changed since these runs (Power asymmetry 1.5 → 3): run again" in alerts(rc)


def test_panel_side_by_side_shows_paired_differences(page):
    _, rc = page
    rc.find(v.Switch, label="Side by side: same seed, one change").widget.v_model = True
    rc.find(v.Select, label="Seeds").widget.v_model = 100
    button = run_button(rc)
    assert "Run 100 seeds with both settings" in button.children
    button.click()
    wait_for_result(rc)
    lines = html(rc, "copsim-many-differences")[0].unsafe_innerHTML
    assert "expansiveness" in lines and "defensiveness" in lines and "95% CI" in lines
    assert "B − A" in html(rc, "copsim-many-hist")[0].unsafe_innerHTML
    # side by side was staged, not applied: the single run on screen is not one of these pairs
    assert "press Reset to watch seed 1" in html(rc, "copsim-many-reading")[0].unsafe_innerHTML


def test_a_second_press_while_running_starts_nothing(page, monkeypatch):
    _, rc = page
    calls, release = [], threading.Event()
    real = many.run_many

    def slow(settings, n, progress=None):
        calls.append(n)
        release.wait(10)
        return real(settings, n, progress)

    monkeypatch.setattr(many, "run_many", slow)
    run_button(rc).click()
    wait_for(lambda: calls)
    assert run_button(rc).disabled
    run_button(rc).click()  # the handler runs even if the widget is disabled
    release.set()
    wait_for_result(rc)
    assert calls == [200]


def test_stop_ends_the_computation_and_says_so(page, monkeypatch):
    _, rc = page
    monkeypatch.setattr(many, "MIN_CHUNK", 2)
    monkeypatch.setattr(many, "WORK_PER_CHUNK", 1)  # many small chunks: Stop lands between
    started, release = threading.Event(), threading.Event()
    real = many.run_many

    def held(settings, n, progress=None):
        started.set()
        release.wait(10)
        return real(settings, n, progress)

    monkeypatch.setattr(many, "run_many", held)
    run_button(rc).click()
    assert started.wait(10)
    (stop,) = [w for w in rc.find(v.Btn).widgets if "Stop" in w.children]
    stop.click()
    release.set()
    # the worker thread updates the widgets one by one: wait for the last of them
    wait_for(lambda: "Stopped after 2 of 200 runs" in alerts(rc))
    wait_for(lambda: not run_button(rc).disabled)
    assert not html(rc, "copsim-many-shares")


def test_a_step_does_not_redraw_the_panel(page, monkeypatch):
    _, rc = page
    run_button(rc).click()
    wait_for_result(rc)
    readings = []
    real = many.reading
    monkeypatch.setattr(many, "reading", lambda *a: readings.append(a) or real(*a))
    (step,) = [w for w in rc.find(v.Btn).widgets if "Step" in w.children]
    for _ in range(3):
        step.click()
    assert readings == []  # one render pass per step: the panel is not part of it
    rc.find(v.Slider, label="Safety of the space: 0.75").widget.v_model = 0.5
    assert readings  # but a settings change redraws it (to mark it stale)


def test_a_bad_seed_blocks_the_button(page):
    _, rc = page
    field = rc.find(v.TextField, label="Seed").widget
    field.v_model = "ten"
    field.fire_event("keyup.enter", None)
    assert run_button(rc).disabled
    assert "Fix the seed (left) before running many seeds" in alerts(rc)
