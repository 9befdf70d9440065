"""The drawings: the community as core-periphery discs, and the live charts.

Both are SVG strings built by :class:`copsim.viz.svg.Canvas` from a
:class:`copsim.viz.run.Run`; nothing is laid out or optimised, so a frame
costs a few milliseconds at hundreds of practitioners.

The community picture has one disc per learning space.  A dot is a member:
its distance from the centre is ``1 - participation`` (core in the middle,
periphery at the rim, the two dotted circles are the model's core and
periphery thresholds), its colour an identity dimension chosen by the user
(or what the member knows), its area its voice (power relative to the mean,
raised to the power asymmetry).  Members who just left fade out where they
stood; challengers are ringed; the disc turns pink when the space cannot pay
for its meetings and grey when it has stopped meeting; a funding shock is
written under the discs while it is recent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from copsim.outcomes import DEFENSIVE_AT, EXPANSIVE_AT
from copsim.viz import layout
from copsim.viz.run import FADE_STEPS, HIGHLIGHT_STEPS, Run
from copsim.viz.svg import Canvas

#: Colour option that shades members by what they know instead of an identity.
KNOWLEDGE = "knowledge"
#: Okabe-Ito palette: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
#: Label chip and highlight colours.
LABEL_COLOURS = {
    "expansive": "#1b7837",
    "defensive": "#b2182b",
    "stagnant": "#636363",
    "dissolved": "#252525",
}
GOOD, BAD, GREY = "#1b7837", "#b2182b", "#888888"
#: Knowledge shading: from pale (knows nothing) to dark green (knows everything).
KNOWLEDGE_RAMP = ((229, 245, 224), (0, 68, 27))
#: Dot radius (canvas units) of a member with average voice in a space of 50.
BASE_RADIUS = 5.0
#: Size of one disc's cell in the community picture (canvas units).
CELL = 300.0


# ----------------------------------------------------------------------------- colours
def colour_options(run: Run) -> list[str]:
    """What members can be coloured by: each identity dimension, then knowledge."""
    return [*run.model.identity_names, KNOWLEDGE]


def knowledge_colour(value: float) -> str:
    """Hex colour for a knowledge level in [-1, 1] (negative counts as none)."""
    k = min(max(float(value), 0.0), 1.0)
    (r0, g0, b0), (r1, g1, b1) = KNOWLEDGE_RAMP
    return f"#{round(r0 + k * (r1 - r0)):02x}{round(g0 + k * (g1 - g0)):02x}{round(b0 + k * (b1 - b0)):02x}"


def member_colours(
    names: Sequence[str], colour_by: str, identity: np.ndarray, knowledge: np.ndarray
) -> list[str]:
    """One colour per member: the palette colour of its category, or its knowledge shade."""
    if colour_by in names:
        codes = np.asarray(identity, dtype=np.int64).reshape(len(knowledge), -1)
        column = codes[:, list(names).index(colour_by)]
        return [PALETTE[c % len(PALETTE)] for c in column]
    return [knowledge_colour(k) for k in knowledge]


def dot_radius(weight: np.ndarray | float, members_in_space: int) -> np.ndarray:
    """Dot radius by voice: area proportional to the weight, the same scale in every run.

    A member with average voice (weight 1) gets ``BASE_RADIUS``, a little less
    in crowded spaces; radii are clipped so nobody vanishes or covers the disc.
    """
    crowd = math.sqrt(50.0 / max(members_in_space, 50))
    area = np.asarray(weight, dtype=np.float64) * crowd
    return np.clip(BASE_RADIUS * np.sqrt(area), 1.8, 26.0)


def _describe(run: Run, slot: int, participation: float, weight: float, knowledge: float) -> str:
    """Hover text for a member: identity, participation, voice, knowledge."""
    model = run.model
    who = [
        model.identity_levels[d][model.identity[slot, i]].replace("_", " ")
        for i, d in enumerate(model.identity_names)
    ]
    head = " · ".join(who) if who else "practitioner"
    return (
        f"{head} — participation {participation:.2f}, voice {weight:.2f}, knowledge {knowledge:.2f}"
    )


# ----------------------------------------------------------------------------- the discs
def _disc(
    canvas: Canvas, run: Run, space: int, cx: float, cy: float, radius: float, colour_by: str
) -> None:
    """Draw one learning space centred at (cx, cy)."""
    model, now = run.model, run.current
    p = model.params
    alive = bool(now.alive[space])
    shortfall = 1.0 - float(model.intensity[space]) if alive else 1.0
    if not alive:
        face = "#e8e8e8"
    else:
        fade = round(255 - 60 * shortfall)
        face = f"#ff{fade:02x}{fade:02x}"
    canvas.circle(cx, cy, radius * 1.03, fill=face, stroke="#9e9e9e", stroke_width=1.0)
    rings = [(p.core_threshold, "core"), (p.periphery_threshold, "periphery")]
    for threshold, _ in rings:
        r = radius * layout.ring_radius(threshold)
        canvas.circle(cx, cy, r, stroke="#8c8c8c", stroke_width=0.8, dash="3 3")

    ghosts = [g for g in run.visible_ghosts() if g.space == space]
    if ghosts:
        gx, gy = layout.positions(
            np.array([g.person for g in ghosts]), np.array([g.participation for g in ghosts])
        )
        canvas.dots(
            cx + radius * gx,
            cy - radius * gy,
            dot_radius(np.array([g.weight for g in ghosts]), 50),
            member_colours(
                model.identity_names,
                colour_by,
                np.array([g.identity for g in ghosts]),
                np.array([g.knowledge for g in ghosts]),
            ),
            ["left" + (" after a rejected challenge" if g.excluded else "") for g in ghosts],
            stroke=[BAD if g.excluded else "#777777" for g in ghosts],
            stroke_width=1.2,
            opacities=[0.5 * (1.0 - (run.steps - g.step) / FADE_STEPS) for g in ghosts],
        )

    members = np.flatnonzero(now.membership[space])
    part = now.participation[space, members]
    x, y = layout.positions(now.ids[members], part)
    x, y = cx + radius * x, cy - radius * y
    colours = member_colours(
        model.identity_names, colour_by, now.identity[members], now.knowledge[members]
    )
    radii = dot_radius(now.weight[members], members.size)
    order = np.argsort(-radii, kind="stable")  # big dots first, so small ones stay visible
    canvas.dots(
        x[order],
        y[order],
        radii[order],
        [colours[i] for i in order],
        [
            _describe(run, members[i], part[i], now.weight[members[i]], now.knowledge[members[i]])
            for i in order
        ],
    )
    for i, slot in enumerate(members):
        kind = run.highlights.get(int(now.ids[slot]))
        if kind is not None:
            canvas.circle(
                x[i],
                y[i],
                float(radii[i]) + 5,
                stroke=GOOD if kind[0] == "accepted" else BAD,
                stroke_width=2.5,
            )

    for threshold, name in rings:  # labels on top of the dots
        r = radius * layout.ring_radius(threshold)
        # the core lies inside its ring, the periphery outside its ring
        x, anchor = (cx + r - 3, "end") if name == "core" else (cx + r + 3, "start")
        canvas.text(x, cy + 4, name, size=10, fill="#606060", anchor=anchor, halo=True)

    title = f"Space {space}: {members.size} members"
    if not alive:
        title += " · stopped meeting"
    elif shortfall > 0.01:
        title += f" · meets {1 - shortfall:.0%}"
    canvas.text(cx, cy - radius * 1.03 - 8, title, size=13, anchor="middle", weight="bold")
    challenges = [e for e in run.recent("contest") + run.recent("exclusion") if e.space == space]
    if challenges:
        last = max(challenges, key=lambda e: e.step)
        accepted = last.kind == "contest"
        canvas.text(
            cx,
            cy + radius * 1.03 + 16,
            "challenge accepted" if accepted else "challenger excluded",
            size=12,
            fill=GOOD if accepted else BAD,
            anchor="middle",
            weight="bold",
        )


def _legend(canvas: Canvas, run: Run, colour_by: str, top: float) -> float:
    """The legend rows under the discs; returns the y below them."""
    model = run.model
    items: list[tuple[str, str]] = []
    if colour_by in model.identity_names:
        levels = model.identity_levels[colour_by]
        items = [(PALETTE[i % len(PALETTE)], lvl.replace("_", " ")) for i, lvl in enumerate(levels)]
        heading = f"Colour = {colour_by.replace('_', ' ')}:"
    else:
        items = [(knowledge_colour(0.0), "knows little"), (knowledge_colour(1.0), "knows much")]
        heading = "Colour = what a member knows:"
    x, y = 10.0, top + 14
    canvas.text(x, y, heading, size=12, weight="bold")
    x += 8.0 * len(heading) + 4
    for colour, name in items:
        width = 22 + 7.0 * len(name)
        if x + width > canvas.width:
            x, y = 10.0, y + 20
        canvas.circle(x + 6, y - 4, 6, fill=colour)
        canvas.text(x + 16, y, name, size=12)
        x += width
    for line in (
        "Centre = core, rim = periphery · bigger dot = more voice",
        "Faded = just left · ringed = just challenged",
    ):
        y += 18
        canvas.text(10, y, line, size=12, fill="#555")
    return y + 8


def community_svg(run: Run, colour_by: str, columns: int = 2) -> str:
    """The community of one run: a disc per learning space, then the legend."""
    spaces = run.model.alive.size
    cols = max(1, min(columns, spaces))
    rows = math.ceil(spaces / cols)
    width = max(cols * CELL, 1.4 * CELL)
    radius = CELL * 0.40
    top = 30.0
    height = top + rows * (CELL + 10)
    canvas = Canvas(width, height + 80, label=f"Community of run {run.name}")
    offset = (width - cols * CELL) / 2
    for s in range(spaces):
        row, col = divmod(s, cols)
        cx = offset + (col + 0.5) * CELL
        cy = top + row * (CELL + 10) + CELL * 0.48
        _disc(canvas, run, s, cx, cy, radius, colour_by)
    shocks = run.recent("shock", HIGHLIGHT_STEPS)
    if shocks:
        canvas.text(
            width / 2,
            16,
            "⚡ " + shocks[-1].text,
            size=15,
            fill=BAD,
            anchor="middle",
            weight="bold",
        )
    _legend(canvas, run, colour_by, height)
    return canvas.render()


# ----------------------------------------------------------------------------- the charts
#: The four chart panels: title, y range, then (measure, plain name, colour) per line.
PANELS: tuple[tuple[str, tuple[float, float], tuple[tuple[str, str, str], ...]], ...] = (
    (
        "Expansive or defensive learning?",
        (0.0, 1.0),
        (("expansiveness", "expansive", GOOD), ("defensiveness", "defensive", BAD)),
    ),
    (
        "What is known (share of reality)",
        (-0.2, 1.0),
        (
            ("code_knowledge", "shared repertoire", "#5e3c99"),
            ("mean_individual_knowledge", "members", "#e08214"),
        ),
    ),
    (
        "Who takes part",
        (0.0, 1.2),
        (
            ("participation_mean", "participation", "#0072B2"),
            ("members", "members (share of start)", "#009E73"),
        ),
    ),
    (
        "Money",
        (0.0, 1.2),
        (
            ("budget", "funding in, per space", "#b35806"),
            ("meeting_intensity", "meetings held", "#542788"),
        ),
    ),
)
DASHES = (None, "7 4")


def series(run: Run, measure: str) -> np.ndarray:
    """Values of a chart line, one per step from 0 ('members' as a share of the start)."""
    if measure == "budget":
        return np.asarray(run.budget, dtype=np.float64)
    values = run.series(measure)
    if measure == "members" and values.size and values[0] > 0:
        return values / values[0]
    return values


def nice_step(span: float, target: int = 5) -> float:
    """A round tick spacing (1, 2 or 5 times a power of ten) giving about ``target`` ticks."""
    raw = max(span, 1e-9) / target
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


def _panel(
    canvas: Canvas,
    box: tuple[float, float, float, float],
    spec: tuple,
    runs: Sequence[Run],
    horizon: int,
    shocks: list[int],
) -> None:
    """One chart panel in ``box`` = (x, y, width, height)."""
    title, (lo, hi), lines = spec
    x0, y0, w, h = box
    left, right, top, bottom = x0 + 38, x0 + w - 8, y0 + 24, y0 + h - 22
    if title == "Money":  # the y range follows the funding level
        peak = max([hi, *(np.nanmax(series(r, "budget"), initial=0.0) for r in runs)])
        hi = 1.1 * peak if np.isfinite(peak) else hi

    def sx(step: np.ndarray | float) -> np.ndarray | float:
        """Canvas x of a step (arrays or single numbers)."""
        return left + (right - left) * step / horizon

    def sy(value: np.ndarray | float) -> np.ndarray | float:
        """Canvas y of a value, clipped to the panel's range (arrays or single numbers)."""
        v = np.clip(value, lo, hi) if isinstance(value, np.ndarray) else min(max(value, lo), hi)
        return bottom - (bottom - top) * (v - lo) / (hi - lo)

    canvas.text(x0 + 4, y0 + 14, title, size=13, weight="bold")
    canvas.rect(left, top, right - left, bottom - top, fill="#fafafa", stroke="#cfcfcf")
    ystep = nice_step(hi - lo, 4)
    tick = math.ceil(lo / ystep) * ystep
    while tick <= hi + 1e-9:
        canvas.line(left, float(sy(tick)), right, float(sy(tick)), stroke="#e3e3e3")
        canvas.text(left - 4, float(sy(tick)) + 4, f"{tick:g}", size=10, fill="#666", anchor="end")
        tick += ystep
    xstep = nice_step(horizon, 5)
    tick = 0.0
    while tick <= horizon + 1e-9:
        canvas.text(
            float(sx(tick)), bottom + 14, f"{tick:g}", size=10, fill="#666", anchor="middle"
        )
        tick += xstep
    if title.startswith("Expansive"):
        level = max(EXPANSIVE_AT, DEFENSIVE_AT)
        canvas.line(left, float(sy(level)), right, float(sy(level)), stroke=GREY, dash="5 3")
        canvas.text(
            right - 2, float(sy(level)) - 3, "label threshold", size=9, fill="#777", anchor="end"
        )
    for s in shocks:
        canvas.line(float(sx(s)), top, float(sx(s)), bottom, stroke=BAD, width=1.2, dash="2 3")
        canvas.text(float(sx(s)), top + 11, "⚡", size=11, fill=BAD, anchor="middle")
    legend_x = left + 6
    for run, dash in zip(runs, DASHES, strict=False):
        for measure, name, colour in lines:
            values = series(run, measure)
            if values.size == 0 or np.all(np.isnan(values)):
                continue
            steps = np.arange(values.size)
            label = f"{name} ({run.name})" if len(runs) > 1 else name
            canvas.polyline(sx(steps), sy(values), stroke=colour, width=2.2, dash=dash, label=label)
    for row, (_, name, colour) in enumerate(lines):
        y = top + 14 + 15 * row
        canvas.line(legend_x, y - 4, legend_x + 16, y - 4, stroke=colour, width=3)
        canvas.text(legend_x + 20, y, name, size=11, fill="#333", halo=True)
    if lines[0][0] == "budget" and all(np.all(np.isnan(series(r, "budget"))) for r in runs):
        canvas.text(
            (left + right) / 2,
            (top + bottom) / 2,
            "no money in this scenario",
            size=12,
            fill="#777",
            anchor="middle",
        )


#: Runs longer than this get a time axis that grows with the run instead of a fixed one.
FIXED_AXIS_UP_TO = 500


def chart_horizon(runs: Sequence[Run]) -> int:
    """The last step on the time axis: the scenario's horizon, so the axes stay put
    while the run fills them; for open-ended runs (March's, to equilibrium) the
    steps so far."""
    steps = max(r.steps for r in runs)
    limit = max(r.params.max_steps for r in runs)
    return limit if limit <= FIXED_AXIS_UP_TO else max(10, steps)


def charts_svg(runs: Sequence[Run], names: Sequence[str] = (), width: float = 640.0) -> str:
    """Four live charts (two by two); with two runs, A solid and B dashed in each."""
    height = width * 0.62
    canvas = Canvas(width, height + (22 if len(runs) > 1 else 0), label="Charts over time")
    horizon = chart_horizon(runs)
    shocks = sorted({s for r in runs for s in r.event_steps("shock")})
    for i, spec in enumerate(PANELS):
        row, col = divmod(i, 2)
        box = (col * width / 2, row * height / 2, width / 2, height / 2)
        _panel(canvas, box, spec, runs, horizon, shocks)
    if len(runs) > 1:
        text = "solid line = " + (names[0] if names else "run A")
        text += "    dashed line = " + (names[1] if len(names) > 1 else "run B")
        canvas.text(width / 2, height + 14, text, size=12, anchor="middle", fill="#333")
    return canvas.render()
