"""The many-runs panel's pictures: how outcomes spread over seeds, as SVG.

Two kinds of panel, drawn with :class:`copsim.viz.svg.Canvas` like the rest of
the page:

* an *outcome histogram*: the final expansiveness (or defensiveness) of every
  run, in bins of 0.05, each bar split by the runs' labels in the label
  colours, with the label threshold dashed, so a class sees where the labels
  come from;
* a *difference histogram* (side-by-side mode): run B minus run A on the same
  seed, bars split into seeds where B was higher, the same or lower, with the
  mean difference and its 95% interval drawn above.

A black line marks the run on screen (its seed's final value) when it is one
of the runs drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from copsim.outcomes import DEFENSIVE_AT, EXPANSIVE_AT, LABELS
from copsim.viz.drawing import LABEL_COLOURS, nice_step
from copsim.viz.many import MEASURES, ManyRuns, PairedDifference
from copsim.viz.svg import Canvas

#: Bins of an outcome histogram over [0, 1].
OUTCOME_BINS = 20
#: Bins of a difference histogram (even, so that 0 is an edge: B lower on the left of
#: the zero line, B higher on its right, seeds with no difference at the bottom of the
#: first bar right of it).
DIFFERENCE_BINS = 20
THRESHOLDS = {"expansiveness": EXPANSIVE_AT, "defensiveness": DEFENSIVE_AT}
TITLES = {"expansiveness": "Expansiveness", "defensiveness": "Defensiveness"}
#: Colours of B higher / the same / lower than A (Okabe-Ito blue, grey, vermilion).
SIGN_COLOURS = (("B higher", "#0072B2"), ("same", "#9e9e9e"), ("B lower", "#D55E00"))
MARKER = "#000000"
PANEL_WIDTH, PANEL_HEIGHT = 330.0, 215.0
#: Distance from a panel's top to its plot area (title, subtitle, interval, marker name).
PLOT_TOP = 64.0


def bin_counts(values: np.ndarray, groups: Sequence[str], order: Sequence[str], edges: np.ndarray):
    """Counts per (bin, group): an array of shape (bins, len(order)).

    Values outside the edges go to the first or last bin, so every run is drawn.
    """
    values = np.asarray(values, dtype=np.float64)
    bins = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, edges.size - 2)
    counts = np.zeros((edges.size - 1, len(order)), dtype=np.int64)
    index = {g: i for i, g in enumerate(order)}
    np.add.at(counts, (bins, [index[g] for g in groups]), 1)
    return counts


def _frame(
    canvas: Canvas,
    box: tuple[float, float, float, float],
    title: str,
    subtitle: str,
    x_range: tuple[float, float],
    y_max: int,
    unit: str = "runs",
) -> tuple:
    """Title, subtitle, plot area, grid and tick labels; returns (sx, sy, right,
    top, bottom).  The plot starts at the same height in every panel, leaving room
    above it for the marker's name (and a difference panel's interval)."""
    x0, y0, w, h = box
    left, right, top, bottom = x0 + 36, x0 + w - 10, y0 + PLOT_TOP, y0 + h - 30
    lo, hi = x_range

    def sx(value: float) -> float:
        return left + (right - left) * (value - lo) / (hi - lo)

    def sy(count: float) -> float:
        return bottom - (bottom - top) * count / y_max

    canvas.text(x0 + 4, y0 + 14, title, size=13, weight="bold")
    canvas.text(x0 + 4, y0 + 29, subtitle, size=11, fill="#444")
    canvas.rect(left, top, right - left, bottom - top, fill="#fafafa", stroke="#cfcfcf")
    ystep = max(1, round(nice_step(y_max, 4)))
    for tick in range(0, y_max + 1, ystep):
        canvas.line(left, sy(tick), right, sy(tick), stroke="#e3e3e3")
        canvas.text(left - 4, sy(tick) + 4, str(tick), size=10, fill="#666", anchor="end")
    xstep = nice_step(hi - lo, 5)
    tick = math.ceil(lo / xstep - 1e-9) * xstep
    while tick <= hi + 1e-9:
        shown = 0.0 if abs(tick) < 1e-12 else tick
        canvas.text(sx(tick), bottom + 14, f"{shown:g}", size=10, fill="#666", anchor="middle")
        tick += xstep
    canvas.text(left - 30, top - 6, unit, size=10, fill="#666")
    return sx, sy, right, top, bottom


def _bars(
    canvas: Canvas,
    sx,
    sy,
    edges: np.ndarray,
    counts: np.ndarray,
    colours: Sequence[str],
    names: Sequence[str],
    unit: str,
) -> None:
    """Stacked bars, one segment per group, with a hover text per bin."""
    for b in range(counts.shape[0]):
        total = int(counts[b].sum())
        if not total:
            continue
        parts = ", ".join(f"{c} {n}" for c, n in zip(counts[b], names, strict=True) if c)
        title = f"{edges[b]:.2f} to {edges[b + 1]:.2f}: {total} {unit} ({parts})"
        x, width = sx(edges[b]) + 0.5, sx(edges[b + 1]) - sx(edges[b]) - 1.0
        base = 0
        for g, colour in enumerate(colours):
            c = int(counts[b, g])
            if c:
                canvas.rect(
                    x, sy(base + c), width, sy(base) - sy(base + c), fill=colour, title=title
                )
                base += c


def _marker(canvas: Canvas, x: float, top: float, bottom: float, text: str, right: float) -> None:
    """The run on screen: a black line through the plot, its name above."""
    canvas.line(x, top - 4, x, bottom, stroke=MARKER, width=2.0)
    anchor = "end" if x > right - 60 else "start"
    canvas.text(
        x + (-3 if anchor == "end" else 3), top - 6, text, size=10, anchor=anchor, halo=True
    )


def _y_max(counts: np.ndarray) -> int:
    peak = int(counts.sum(axis=1).max(initial=0))
    step = max(1, round(nice_step(max(peak, 1), 4)))
    return max(step, math.ceil(peak / step) * step)


def outcome_panel(
    canvas: Canvas,
    box: tuple[float, float, float, float],
    measure: str,
    values: np.ndarray,
    labels: Sequence[str],
    title: str,
    marker: float | None = None,
    marker_text: str = "",
) -> None:
    """Histogram of one outcome over the runs, bars split by label."""
    edges = np.linspace(0.0, 1.0, OUTCOME_BINS + 1)
    counts = bin_counts(values, labels, LABELS, edges)
    low, mid, high = np.percentile(values, [25, 50, 75])
    subtitle = f"median {mid:.2f}; half of the runs between {low:.2f} and {high:.2f}"
    sx, sy, right, top, bottom = _frame(canvas, box, title, subtitle, (0.0, 1.0), _y_max(counts))
    _bars(canvas, sx, sy, edges, counts, [LABEL_COLOURS[n] for n in LABELS], LABELS, "runs")
    level = THRESHOLDS[measure]
    canvas.line(sx(level), top, sx(level), bottom, stroke="#555555", dash="5 3")
    canvas.text(
        sx(level) - 3,
        top + 11,
        f"label threshold {level:g}",
        size=9,
        fill="#555",
        anchor="end",
        halo=True,
    )
    if marker is not None:
        _marker(canvas, sx(min(max(marker, 0.0), 1.0)), top, bottom, marker_text, right)


def difference_range(differences: np.ndarray) -> float:
    """Half-width of the difference axis: the largest |B - A|, rounded up (0.05 to 1)."""
    largest = float(np.abs(differences).max(initial=0.0))
    return float(min(1.0, max(0.05, math.ceil(largest * 20 - 1e-9) / 20)))


def difference_panel(
    canvas: Canvas,
    box: tuple[float, float, float, float],
    diff: PairedDifference,
    title: str,
    marker: float | None = None,
    marker_text: str = "",
) -> None:
    """Histogram of B - A over the seeds, split by sign, with the mean and its 95% CI."""
    half = difference_range(diff.differences)
    edges = np.linspace(-half, half, DIFFERENCE_BINS + 1)
    d = diff.differences
    sign = np.where(d > 0, "B higher", np.where(d < 0, "B lower", "same"))
    names = [n for n, _ in SIGN_COLOURS]
    counts = bin_counts(d, sign.tolist(), names, edges)
    r = diff.summary
    subtitle = f"mean {r.mean_difference:+.3f}, 95% CI {r.ci_low:+.3f} to {r.ci_high:+.3f}"
    sx, sy, right, top, bottom = _frame(
        canvas, box, title, subtitle, (float(edges[0]), float(edges[-1])), _y_max(counts), "seeds"
    )
    _bars(canvas, sx, sy, edges, counts, [c for _, c in SIGN_COLOURS], names, "seeds")
    canvas.line(sx(0.0), top, sx(0.0), bottom, stroke="#555555", width=1.2)
    y = box[1] + 40  # the mean and its interval, between the subtitle and the plot
    lo, hi = max(r.ci_low, edges[0]), min(r.ci_high, edges[-1])
    canvas.line(sx(lo), y, sx(hi), y, stroke="#333333", width=2.0)
    for end in (lo, hi):
        canvas.line(sx(end), y - 4, sx(end), y + 4, stroke="#333333", width=1.5)
    canvas.circle(sx(r.mean_difference), y, 3.0, fill="#333333")
    canvas.text(sx(hi) + 6, y + 4, "mean, 95% CI", size=9, fill="#555")
    if marker is not None:
        _marker(canvas, sx(min(max(marker, edges[0]), edges[-1])), top, bottom, marker_text, right)


def _legend(canvas: Canvas, y: float, items: Sequence[tuple[str, str]], x: float = 8.0) -> float:
    """A row of colour keys; returns the x after it."""
    for name, colour in items:
        canvas.rect(x, y - 9, 11, 11, fill=colour)
        canvas.text(x + 15, y, name, size=11)
        x += 22 + 6.5 * len(name)
    return x


def many_width(result: ManyRuns) -> float:
    """Width of :func:`many_svg` in canvas units (two panels, or three side by side)."""
    return (3 if result.paired else 2) * PANEL_WIDTH


def many_svg(result: ManyRuns, on_screen: bool) -> str:
    """The whole picture: one histogram per outcome (per arm) and, in side-by-side
    mode, the difference histograms; ``on_screen`` adds the run-on-screen marker."""
    rows = 2 if result.paired else 1
    width = many_width(result)
    legend_h = 22.0
    canvas = Canvas(width, legend_h + rows * PANEL_HEIGHT, label="Outcomes over many seeds")
    x = _legend(canvas, 14, [(n, LABEL_COLOURS[n]) for n in LABELS])
    if result.paired:
        _legend(canvas, 14, [(f"{n} (B − A)", c) for n, c in SIGN_COLOURS], x + 16)
    seed = result.screen_seed
    for row, measure in enumerate(MEASURES):
        top = legend_h + row * PANEL_HEIGHT if result.paired else legend_h
        for a, arm in enumerate(result.arms):
            values = arm.values(measure)
            col = a if result.paired else row
            title = TITLES[measure] + (f" · run {arm.name}" if result.paired else "")
            outcome_panel(
                canvas,
                (col * PANEL_WIDTH, top, PANEL_WIDTH, PANEL_HEIGHT),
                measure,
                values,
                arm.labels,
                title,
                float(values[0]) if on_screen else None,
                f"seed {seed} (on screen)",
            )
        if result.paired:
            diff = result.difference(measure)
            difference_panel(
                canvas,
                (2 * PANEL_WIDTH, top, PANEL_WIDTH, PANEL_HEIGHT),
                diff,
                f"{TITLES[measure]} · B − A",
                float(diff.differences[0]) if on_screen else None,
                f"seed {seed}",
            )
    return canvas.render()
