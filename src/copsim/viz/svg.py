"""A tiny SVG writer: shapes in, one ``<svg>`` string out.

The view draws with SVG text rather than a plotting library: building a few
hundred elements as strings takes about a millisecond, the browser draws them
crisply at any size, and hovering a member shows its ``<title>`` tooltip.
Coordinates are in the canvas's own units (its ``viewBox``); the element
scales to the width of its container.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr


def num(value: float) -> str:
    """A coordinate with one decimal and no trailing zeros ('12.5', '3', '-0.2')."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _floats(values: Iterable[float]) -> list[float]:
    """Plain Python floats (formatting numpy scalars one by one is several times slower)."""
    return values.tolist() if hasattr(values, "tolist") else [float(v) for v in values]


def _attrs(**attributes: object) -> str:
    """Attributes as text; ``None`` values are left out, '_' in names becomes '-'.

    Numbers need no quoting; other values are quoted and escaped.
    """
    parts = []
    for key, value in attributes.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        if isinstance(value, float):
            parts.append(f'{name}="{num(value)}"')
        elif isinstance(value, int):
            parts.append(f'{name}="{value}"')
        else:
            parts.append(f"{name}={quoteattr(str(value))}")
    return " ".join(parts)


class Canvas:
    """An SVG drawing of a given size, built shape by shape."""

    def __init__(self, width: float, height: float, label: str = "") -> None:
        self.width = width
        self.height = height
        self.label = label
        self.parts: list[str] = []

    def circle(
        self,
        cx: float,
        cy: float,
        r: float,
        fill: str = "none",
        stroke: str | None = None,
        stroke_width: float | None = None,
        opacity: float | None = None,
        dash: str | None = None,
        title: str | None = None,
    ) -> None:
        """A circle; ``title`` becomes its hover tooltip."""
        attrs = _attrs(
            cx=float(cx),
            cy=float(cy),
            r=float(r),
            fill=fill,
            stroke=stroke,
            stroke_width=None if stroke_width is None else float(stroke_width),
            opacity=None if opacity is None else float(round(opacity, 2)),
            stroke_dasharray=dash,
        )
        if title:
            self.parts.append(f"<circle {attrs}><title>{escape(title)}</title></circle>")
        else:
            self.parts.append(f"<circle {attrs}/>")

    def dots(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        radii: Sequence[float],
        fills: Sequence[str],
        titles: Sequence[str],
        stroke: str | Sequence[str] = "#ffffff",
        stroke_width: float = 0.8,
        opacities: Sequence[float] | None = None,
    ) -> None:
        """Many circles at once (the fast path for the members of a space).

        ``fills`` and ``stroke`` must be plain colour strings (they are not escaped);
        titles are escaped.
        """
        strokes = [stroke] * len(fills) if isinstance(stroke, str) else stroke
        alphas = [None] * len(fills) if opacities is None else opacities
        for x, y, r, fill, title, edge, alpha in zip(
            _floats(xs), _floats(ys), _floats(radii), fills, titles, strokes, alphas, strict=True
        ):
            fade = "" if alpha is None else f' opacity="{alpha:.2f}"'
            self.parts.append(
                f'<circle cx="{num(x)}" cy="{num(y)}" r="{num(r)}" fill="{fill}" '
                f'stroke="{edge}" stroke-width="{num(stroke_width)}"{fade}>'
                f"<title>{escape(title)}</title></circle>"
            )

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        stroke: str = "#000",
        width: float = 1.0,
        dash: str | None = None,
        opacity: float | None = None,
    ) -> None:
        """A straight line."""
        attrs = _attrs(
            x1=float(x1),
            y1=float(y1),
            x2=float(x2),
            y2=float(y2),
            stroke=stroke,
            stroke_width=float(width),
            stroke_dasharray=dash,
            opacity=opacity,
        )
        self.parts.append(f"<line {attrs}/>")

    def polyline(
        self,
        xs: Iterable[float],
        ys: Iterable[float],
        stroke: str,
        width: float = 2.0,
        dash: str | None = None,
        label: str | None = None,
    ) -> None:
        """A line through points; non-finite points break it into pieces."""
        pieces: list[list[str]] = [[]]
        for x, y in zip(_floats(xs), _floats(ys), strict=True):
            if x != x or y != y or abs(y) == float("inf"):  # NaN or inf: start a new piece
                pieces.append([])
            else:
                pieces[-1].append(f"{num(x)},{num(y)}")
        for points in pieces:
            if len(points) == 1:
                points = points * 2
            if points:
                attrs = _attrs(
                    points=" ".join(points),
                    fill="none",
                    stroke=stroke,
                    stroke_width=float(width),
                    stroke_dasharray=dash,
                    stroke_linejoin="round",
                    data_series=label,
                )
                self.parts.append(f"<polyline {attrs}/>")

    def rect(
        self,
        x: float,
        y: float,
        width: float,
        height: float,
        fill: str = "none",
        stroke: str | None = None,
        opacity: float | None = None,
        title: str | None = None,
    ) -> None:
        """A rectangle; ``title`` becomes its hover tooltip."""
        attrs = _attrs(
            x=float(x),
            y=float(y),
            width=float(width),
            height=float(height),
            fill=fill,
            stroke=stroke,
            opacity=opacity,
        )
        if title:
            self.parts.append(f"<rect {attrs}><title>{escape(title)}</title></rect>")
        else:
            self.parts.append(f"<rect {attrs}/>")

    def text(
        self,
        x: float,
        y: float,
        content: str,
        size: float = 12.0,
        fill: str = "#333",
        anchor: str = "start",
        weight: str | None = None,
        halo: bool = False,
    ) -> None:
        """A line of text; ``anchor`` is start, middle or end; ``halo`` keeps it readable
        over other shapes (a white outline drawn under the letters)."""
        attrs = _attrs(
            x=float(x),
            y=float(y),
            font_size=float(size),
            fill=fill,
            text_anchor=anchor,
            font_weight=weight,
            font_family="Roboto, Arial, sans-serif",
            stroke="#ffffff" if halo else None,
            stroke_width=3.0 if halo else None,
            paint_order="stroke" if halo else None,
        )
        self.parts.append(f"<text {attrs}>{escape(content)}</text>")

    def render(self) -> str:
        """The finished ``<svg>`` element."""
        head = _attrs(
            xmlns="http://www.w3.org/2000/svg",
            viewBox=f"0 0 {num(self.width)} {num(self.height)}",
            width="100%",
            role="img",
            aria_label=self.label or None,
        )
        return f"<svg {head}>" + "".join(self.parts) + "</svg>"
