"""The teaching view's state: settings, seeds, sessions, side-by-side runs, the run tracker."""

from __future__ import annotations

import numpy as np
import pytest

from copsim import Params, ParamsError
from copsim.events import Event
from copsim.scenarios import PRESETS
from copsim.viz import events as ev
from copsim.viz import layout
from copsim.viz import settings as st
from copsim.viz.run import FADE_STEPS, Run, departures, snapshot
from copsim.viz.session import Session, differences, initial_settings

# ----------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    "text, seed", [("0", 0), ("42", 42), ("  7 ", 7), (str(st.MAX_SEED), st.MAX_SEED)]
)
def test_parse_seed_accepts_whole_numbers(text, seed):
    assert st.parse_seed(text) == seed


@pytest.mark.parametrize(
    "text",
    ["", "   ", None, "abc", "-1", "+3", "1.5", "1e3", "0x10", "1_000", "٣", str(st.MAX_SEED + 1)],
)
def test_parse_seed_rejects_anything_else_with_a_message(text):
    with pytest.raises(st.SeedError, match=r"seed|too large"):
        st.parse_seed(text)


def test_every_control_is_a_params_field_inside_its_bounds():
    for control in st.CONTROLS:
        assert control.name in Params.model_fields
        assert control.field_meaning.startswith(control.name)
        if control.kind in ("float", "int"):
            lo, hi = control.bounds()
            assert lo is None or control.low >= lo
            assert hi is None or control.high <= hi
            assert control.low < control.high and control.step > 0
        if control.kind == "choice":
            assert [v for v, _ in control.choice_labels] == control.choices()


def test_scenarios_list_every_preset_with_the_source_cases_first():
    names = st.scenario_names()
    assert set(names) == set(PRESETS)
    assert names[:3] == ["bindura_eag", "north_south_partnership", "ogp_workshop"]
    assert all(st.narrative(n) for n in names)


def test_make_params_coerces_widget_values_and_validates():
    params = st.make_params("bindura_eag", {"shock_time": 12.0, "power_asymmetry": 2})
    assert params.shock_time == 12 and isinstance(params.shock_time, int)
    assert params.power_asymmetry == 2.0
    assert params.n_spaces == PRESETS["bindura_eag"]["n_spaces"]
    with pytest.raises(ParamsError, match="safety"):
        st.make_params("bindura_eag", {"safety": 1.5})
    with pytest.raises(ValueError, match="Organizing principle"):
        st.make_params("bindura_eag", {"organizing_principle": "astrology"})


@pytest.mark.parametrize("control", st.CONTROLS, ids=lambda c: c.name)
def test_contrast_value_differs_and_is_valid(control):
    value = st.scenario_values("ogp_workshop")[control.name]
    other = st.contrast_value(control, value)
    assert other != value
    st.make_params("ogp_workshop", {control.name: other})  # valid


# ----------------------------------------------------------------------------- session


def test_sessions_are_independent():
    a, b = Session(), Session()
    a.step()
    assert a.steps == 1 and b.steps == 0
    assert a.runs[0].model is not b.runs[0].model


def test_choose_scenario_loads_the_preset_and_starts_it():
    s = Session("bindura_eag", seed=5)
    s.step()
    s.choose_scenario("ogp_workshop")
    assert s.steps == 0
    assert s.applied.scenario == "ogp_workshop" and s.applied.seed == 5
    assert s.applied.values == st.scenario_values("ogp_workshop")
    assert s.runs[0].model.alive.size == PRESETS["ogp_workshop"]["n_spaces"]
    with pytest.raises(ValueError):
        s.choose_scenario("atlantis")


def test_settings_are_staged_until_reset():
    s = Session("bindura_eag")
    before = s.runs[0].model
    s.set_value("power_asymmetry", 3.0)
    s.set_seed(" 9 ")
    assert s.runs[0].model is before and s.runs[0].params.power_asymmetry == 1.5
    assert s.pending() == ["seed 1 → 9", "Power asymmetry 1.5 → 3"]
    s.reset()
    assert s.pending() == []
    assert s.runs[0].params.power_asymmetry == 3.0 and s.runs[0].seed == 9


def test_bad_seed_leaves_the_staged_seed_alone():
    s = Session()
    with pytest.raises(st.SeedError):
        s.set_seed("twelve")
    assert s.staged.seed == st.DEFAULT_SEED and s.pending() == []


def test_same_seed_and_settings_give_the_same_run():
    a, b = Session("north_south_partnership", 3), Session("north_south_partnership", 3)
    for _ in range(12):
        a.step()
        b.step()
    assert np.array_equal(a.runs[0].series("code_knowledge"), b.runs[0].series("code_knowledge"))
    assert [e.line() for e in a.runs[0].log] == [e.line() for e in b.runs[0].log]


def test_side_by_side_runs_share_the_seed_and_differ_in_one_setting():
    s = Session("bindura_eag", seed=4)
    s.set_compare(True)
    s.set_compare_value(3.5)
    s.reset()
    a, b = s.runs
    assert a.seed == b.seed == 4
    dump_a, dump_b = a.params.model_dump(), b.params.model_dump()
    assert {k for k in dump_a if dump_a[k] != dump_b[k]} == {"power_asymmetry"}
    assert b.params.power_asymmetry == 3.5
    # the same people start in the same spaces: only the one setting differs (and what
    # it sets at the start: power shapes starting participation more at 3.5 than at 1.5)
    assert np.array_equal(a.model.identity, b.model.identity)
    assert np.array_equal(a.model.beliefs, b.model.beliefs)
    assert np.array_equal(a.model.membership, b.model.membership)
    s.step()
    assert a.steps == b.steps == 1
    assert s.run_names() == ["A: power asymmetry 1.5", "B: power asymmetry 3.5"]


def test_compare_name_picks_a_contrasting_value():
    s = Session("bindura_eag")
    s.set_compare(True)
    s.set_compare_name("role_play")
    assert s.staged.compare_value is (not s.staged.values["role_play"])
    assert "side-by-side on" in s.pending()


def test_differences_name_each_change():
    old = initial_settings("bindura_eag")
    new = initial_settings("bindura_eag", seed=2)
    assert differences(old, new) == ["seed 1 → 2"]


def test_stepping_stops_when_the_run_ends():
    s = Session("bindura_eag")
    s.set_value("n_practitioners", 10)
    s.reset()
    steps = 0
    while s.step():
        steps += 1
    assert not s.running
    assert steps == s.steps <= s.horizon
    assert s.step() is False


# ----------------------------------------------------------------------------- run tracker


def test_a_funding_shock_shows_in_the_budget_and_the_log():
    params = Params.preset("north_south_partnership", shock_time=5, shock_severity=0.5)
    run = Run(params, seed=1, title="partners")
    for _ in range(7):
        run.step()
    assert run.budget[4] == pytest.approx(1.0) and run.budget[5] == pytest.approx(0.5)
    shocks = [e for e in run.log if e.kind == "shock"]
    assert [(e.step, e.line()) for e in shocks] == [(5, "step 5 ⚡ Funding cut by 50%")]
    assert run.event_steps("shock") == [5]
    assert run.log[0].kind == "start" and "partners" in run.log[0].text


def test_budget_is_undefined_without_money():
    run = Run(Params.preset("march1991"), seed=1)
    run.step()
    assert np.isnan(run.budget).all()


def test_leavers_become_fading_ghosts_where_they_stood():
    run = Run(Params.preset("bindura_eag", turnover_rate=0.2), seed=2)
    before = run.current
    run.step()
    ghosts = [g for g in run.ghosts if g.step == 1]
    assert ghosts, "with 20% turnover someone leaves in the first step"
    for g in ghosts:
        slot = int(np.flatnonzero(before.ids == g.person)[0])
        assert g.participation == pytest.approx(before.participation[g.space, slot])
        assert before.membership[g.space, slot]
        assert not (run.current.membership[g.space, slot] and run.current.ids[slot] == g.person)
    for _ in range(FADE_STEPS):
        run.step()
    assert all(run.steps - g.step < FADE_STEPS for g in run.visible_ghosts())
    assert not [g for g in run.visible_ghosts() if g.step == 1]


def test_departures_compare_people_not_slots():
    run = Run(Params.preset("march1991", turnover_rate=0.0), seed=1)
    before = snapshot(run.model)
    after = snapshot(run.model)
    assert departures(before, after) == []
    replaced = np.array(after.ids)
    replaced[3] = 10_000  # someone new in slot 3
    moved = type(after)(**{**after.__dict__, "ids": replaced})
    (ghost,) = departures(before, moved)
    assert ghost.person == before.ids[3] and ghost.space == 0


def test_challenges_are_ringed_and_logged():
    params = Params.preset("bindura_eag", contest_rate=0.5)
    run = Run(params, seed=3)
    for _ in range(5):
        run.step()
    kinds = {e.kind for e in run.log}
    assert {"contest", "exclusion"} & kinds
    ringed = {kind for kind, _ in run.highlights.values()}
    assert ringed <= {"accepted", "excluded"} and ringed
    entry = next(e for e in run.log if e.kind in ("contest", "exclusion"))
    assert entry.space == 0


def test_derived_entries_report_role_play_and_label_changes():
    params = Params.preset("ogp_workshop", role_play_start=2, role_play_duration=3)
    run = Run(params, seed=1)
    for _ in range(6):
        run.step()
    roleplay = [(e.step, e.text.split(":")[0]) for e in run.log if e.kind == "roleplay"]
    assert roleplay == [(2, "Role play began"), (5, "Role play ended")]
    labels = [e for e in run.log if e.kind == "label"]
    assert all(e.text.startswith("The run now reads as") for e in labels)


def test_log_lines_do_not_repeat_the_step():
    entry = ev.from_model(Event(step=40, kind="shock", outcome="stop"))
    assert entry.line() == "step 40 ⚡ Funding stopped"
    cut = ev.from_model(Event(step=7, kind="shock", outcome="cut", amount=0.85))
    assert cut.text == "Funding cut by 85%" and cut.space is None


def test_challenge_events_become_prose_with_their_space():
    event = Event(
        step=3,
        kind="exclusion",
        space=12,
        practitioner=4,
        outcome="rejected",
        identity=("civil_society", "south"),
    )
    entry = ev.from_model(event)
    assert entry.space == 12
    assert entry.text == (
        "A challenge by a peripheral member (civil society, south) was rejected; "
        "excluded from space 12"
    )


# ----------------------------------------------------------------------------- layout


def test_distance_from_centre_is_one_minus_participation():
    r = layout.radius(np.array([1.0, 0.5, 0.0]))
    assert r[0] == pytest.approx(layout.INNER) and r[2] == pytest.approx(1.0)
    assert r[1] == pytest.approx(layout.INNER + (1 - layout.INNER) * 0.5)
    x, y = layout.positions(np.array([7, 7]), np.array([0.2, 0.9]))
    assert np.hypot(x, y) == pytest.approx(layout.radius(np.array([0.2, 0.9])))
    assert layout.ring_radius(0.6) == pytest.approx(layout.radius(np.array([0.6]))[0])


def test_angles_are_fixed_per_person_and_spread_out():
    a = layout.angles(np.arange(100))
    assert np.array_equal(a, layout.angles(np.arange(100)))
    assert ((a >= 0) & (a < 2 * np.pi)).all()
    counts, _ = np.histogram(a, bins=8, range=(0, 2 * np.pi))
    assert counts.min() >= 10  # evenly spread: 12 or 13 per octant


def test_person_ids_follow_the_agents_in_each_slot():
    run = Run(Params.preset("bindura_eag"), seed=1)
    ids = run.model.person_ids()
    assert np.array_equal(ids, [a.unique_id for a in run.model.slot_agent])


def test_the_view_reads_only_the_documented_contract():
    import re
    from pathlib import Path

    from copsim import viz
    from copsim.readout import CONTRACT

    read = set()
    for path in Path(viz.__file__).parent.glob("*.py"):
        text = path.read_text()
        read |= set(re.findall(r"\bmodel\.(\w+)", text))
        assert not re.search(r"getattr\(\s*(self\.)?(run\.)?model\b", text), path.name
    assert read and read <= CONTRACT, sorted(read - CONTRACT)
