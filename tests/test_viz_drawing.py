"""The SVG drawings: what the community picture and the charts contain."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from copsim import Params
from copsim.viz import drawing
from copsim.viz.run import Run
from copsim.viz.svg import Canvas, num

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def member_circles(root: ET.Element) -> list[ET.Element]:
    """Circles with a hover title that describes a member (not a leaver)."""
    return [
        c
        for c in root.iter("{http://www.w3.org/2000/svg}circle")
        if (t := c.find("s:title", NS)) is not None and "participation" in t.text
    ]


def test_canvas_writes_valid_svg_and_escapes_text():
    c = Canvas(100, 50, label="a & b")
    c.circle(10, 10, 3, fill="#fff", title="<x>")
    c.polyline([0, 1, float("nan"), 3, 4], [0, 1, 2, 3, 4], stroke="#000")
    c.text(5, 5, "1 < 2", halo=True)
    root = parse(c.render())
    assert root.get("viewBox") == "0 0 100 50" and root.get("aria-label") == "a & b"
    assert root.find("s:circle/s:title", NS).text == "<x>"
    assert len(root.findall("s:polyline", NS)) == 2  # the NaN splits the line
    assert root.find("s:text", NS).get("paint-order") == "stroke"
    assert num(2.0) == "2" and num(-0.25) == "-0.2" and num(12.46) == "12.5"


def test_one_dot_per_member_in_each_space():
    run = Run(Params.preset("ogp_workshop"), seed=1)
    for _ in range(3):
        run.step()
    root = parse(drawing.community_svg(run, "sector"))
    dots = member_circles(root)
    expected = int((run.model.membership & run.model.present).sum())
    assert len(dots) == expected
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for s in range(run.model.alive.size):
        assert any(t.startswith(f"Space {s}:") for t in titles)


def test_colour_follows_the_chosen_identity_dimension():
    run = Run(Params.preset("bindura_eag"), seed=2)
    model = run.model
    dim = model.identity_names.index("livelihood")
    colours = drawing.member_colours(
        model.identity_names, "livelihood", model.identity, np.zeros(len(model.identity))
    )
    for code, colour in zip(model.identity[:, dim], colours, strict=True):
        assert colour == drawing.PALETTE[code]
    root = parse(drawing.community_svg(run, "livelihood"))
    legend = " ".join(t.text for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "Colour = livelihood" in legend and "poor" in legend and "professional" in legend


def test_knowledge_colouring_runs_from_pale_to_dark():
    assert drawing.knowledge_colour(-0.5) == drawing.knowledge_colour(0.0) == "#e5f5e0"
    assert drawing.knowledge_colour(1.0) == "#00441b"
    run = Run(Params.preset("march1991"), seed=1)
    assert drawing.colour_options(run) == [drawing.KNOWLEDGE]
    root = parse(drawing.community_svg(run, drawing.KNOWLEDGE))
    assert len(member_circles(root)) == 50


def test_dot_area_grows_with_voice_on_one_scale():
    r = drawing.dot_radius(np.array([0.25, 1.0, 4.0]), 50)
    assert r[1] == pytest.approx(drawing.BASE_RADIUS)
    assert r[2] / r[1] == pytest.approx(2.0) and r[1] / r[0] == pytest.approx(2.0)
    assert drawing.dot_radius(1.0, 200) < drawing.dot_radius(1.0, 50)  # crowded spaces
    flat = Run(Params.preset("bindura_eag", power_asymmetry=0.0), seed=1)
    steep = Run(Params.preset("bindura_eag", power_asymmetry=3.0), seed=1)
    assert np.ptp(flat.current.weight[flat.model.present]) == pytest.approx(0.0)
    assert np.ptp(steep.current.weight[steep.model.present]) > 1.0


def test_recent_shock_and_ended_space_are_drawn():
    params = Params.preset("north_south_partnership", shock_kind="stop", shock_time=2)
    run = Run(params, seed=1)
    for _ in range(3):
        run.step()
    texts = [
        t.text
        for t in parse(drawing.community_svg(run, "sector")).iter(
            "{http://www.w3.org/2000/svg}text"
        )
    ]
    assert "⚡ Funding stopped" in texts


def test_charts_draw_each_measure_and_dash_run_b():
    a = Run(Params.preset("bindura_eag"), seed=1, name="A")
    b = Run(Params.preset("bindura_eag", power_asymmetry=3.0), seed=1, name="B")
    for _ in range(4):
        a.step()
        b.step()
    root = parse(drawing.charts_svg([a, b], ["A: low", "B: high"]))
    lines = root.findall("s:polyline", NS)
    series = {p.get("data-series") for p in lines}
    for _, measures in ((p[0], p[2]) for p in drawing.PANELS):
        for _, name, _ in measures:
            assert f"{name} (A)" in series and f"{name} (B)" in series
    dashed = {p.get("data-series") for p in lines if p.get("stroke-dasharray")}
    assert dashed and all(s.endswith("(B)") for s in dashed)
    first = next(p for p in lines if p.get("data-series") == "expansive (A)")
    assert len(first.get("points").split()) == 5  # steps 0..4
    texts = " ".join(t.text for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "dashed line = B: high" in texts


def test_charts_say_when_there_is_no_money():
    run = Run(Params.preset("march1991"), seed=1)
    run.step()
    root = parse(drawing.charts_svg([run]))
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "no money in this scenario" in texts
    assert drawing.nice_step(100) == 20 and drawing.nice_step(1.0, 4) == 0.5


def test_time_axis_is_fixed_to_the_horizon_unless_open_ended():
    short = Run(Params.preset("bindura_eag"), seed=1)
    assert drawing.chart_horizon([short]) == 80
    march = Run(Params.preset("march1991"), seed=1)
    assert drawing.chart_horizon([march]) == 10
    for _ in range(12):
        march.step()
    assert drawing.chart_horizon([march]) == 12
