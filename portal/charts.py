"""Server-side charts: bar, pie and funnel as plain SVG, no script and nothing fetched.

The functions here only compute geometry (rectangles, paths, texts in pixel coordinates);
templates/charts/chart.svg writes them out, autoescaped. The same SVG is inlined in the
report page and in its PDF, so what is printed is what was shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# Distinguishable in colour and still apart when printed in grey.
PALETTE = (
    "#2f6db5",
    "#e08a2c",
    "#3a9e5c",
    "#c8423b",
    "#7b5ea7",
    "#8c6d46",
    "#d16ba5",
    "#5b6770",
    "#1fa2b8",
    "#b5a22f",
)
FONT_SIZE = 12
TEXT = "#222"
MUTED = "#666"
GRID = "#d9d9d9"

Number = int | float


def plain_number(value: Number) -> str:
    """1234567.8 → "1,234,568"; small fractions keep one decimal."""
    if isinstance(value, float) and not value.is_integer() and abs(value) < 100:
        return f"{value:,.1f}"
    return f"{value:,.0f}"


@dataclass
class Shape:
    """One SVG element: kind is rect, path, line, circle or text."""

    kind: str
    attrs: dict[str, object]
    text: str = ""
    tooltip: str = ""


@dataclass
class Chart:
    kind: str  # bar, pie, funnel (for tests and CSS)
    width: int
    height: int
    label: str  # accessible name of the image
    shapes: list[Shape] = field(default_factory=list)
    template: str = "charts/chart.svg"
    empty: bool = False  # nothing to draw (every value is zero): pages leave it out

    def add(self, kind: str, text: str = "", tooltip: str = "", **attrs) -> None:
        self.shapes.append(
            Shape(kind, {k.replace("_", "-"): v for k, v in attrs.items()}, text, tooltip)
        )


def text_width(text: str, size: int = FONT_SIZE) -> float:
    """Rough rendered width: CJK characters are square, Latin ones about half."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.58 for ch in text)


def fit(text: str, width: float, size: int = FONT_SIZE) -> str:
    """Cut a label to `width` pixels, with an ellipsis."""
    text = str(text)
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def nice_ceiling(value: float) -> tuple[float, float]:
    """Axis maximum and tick step (1, 2, 2.5 or 5 × 10^k), about 4–5 ticks."""
    if value <= 0:
        return 1.0, 0.25
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return step * math.ceil(value / step - 1e-9), step


def bar_chart(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number]]],
    *,
    label: str,
    stacked: bool = False,
    width: int = 640,
    limit: int = 30,
    value_format: Callable[[Number], str] = plain_number,
) -> Chart:
    """Horizontal bars, one row per category: long Chinese labels stay readable.
    Several series are grouped side by side, or stacked when `stacked`. At most
    `limit` categories (the first ones) are drawn, so the chart fits on a page."""
    categories = list(categories)[:limit]
    series = [(name, list(values)[:limit]) for name, values in series]
    left = min(150, max(60, max((text_width(c) for c in categories), default=0) + 12))
    right = 70
    legend = len(series) > 1
    top = 28 if legend else 8
    band = 24 if stacked or len(series) == 1 else 10 * len(series) + 10
    height = int(top + band * max(len(categories), 1) + 26)
    chart = Chart("bar", width, height, label)
    totals = [
        sum(values[i] or 0 for _, values in series)
        if stacked
        else max((values[i] or 0 for _, values in series), default=0)
        for i in range(len(categories))
    ]
    chart.empty = max(totals, default=0) <= 0
    axis_max, step = nice_ceiling(max(totals, default=0))
    plot = width - left - right
    scale = plot / axis_max
    bottom = top + band * max(len(categories), 1)
    tick = 0.0
    while tick <= axis_max + 1e-9:
        x = left + tick * scale
        chart.add("line", x1=f"{x:.1f}", y1=top, x2=f"{x:.1f}", y2=bottom, stroke=GRID)
        chart.add(
            "text",
            value_format(tick),
            x=f"{x:.1f}",
            y=bottom + 16,
            text_anchor="middle",
            fill=MUTED,
            font_size=10,
        )
        tick += step
    if legend:
        x = left
        for index, (name, _values) in enumerate(series):
            chart.add("rect", x=x, y=6, width=12, height=12, fill=PALETTE[index % len(PALETTE)])
            chart.add("text", name, x=x + 16, y=16, fill=TEXT)
            x += 16 + text_width(name) + 18
    for row, category in enumerate(categories):
        y0 = top + row * band
        chart.add(
            "text",
            fit(category, left - 10),
            tooltip=category,
            x=left - 6,
            y=f"{y0 + band / 2 + 4:.1f}",
            text_anchor="end",
            fill=TEXT,
        )
        offset = 0.0
        for index, (name, values) in enumerate(series):
            value = values[row] or 0
            fill = PALETTE[index % len(PALETTE)]
            if stacked:
                x, y, h = left + offset * scale, y0 + 4, band - 8
                offset += value
            else:
                x, h = left, (band - 10) / len(series) if len(series) > 1 else band - 8
                y = y0 + 5 + index * h if len(series) > 1 else y0 + 4
            w = value * scale
            if w > 0:
                chart.add(
                    "rect",
                    tooltip=f"{category} · {name}: {value_format(value)}",
                    x=f"{x:.1f}",
                    y=f"{y:.1f}",
                    width=f"{w:.1f}",
                    height=f"{h:.1f}",
                    fill=fill,
                )
            if not stacked:
                chart.add(
                    "text",
                    value_format(value),
                    x=f"{x + w + 4:.1f}",
                    y=f"{y + h / 2 + 4:.1f}",
                    fill=TEXT,
                    font_size=10 if len(series) > 1 else FONT_SIZE,
                )
        if stacked:
            chart.add(
                "text",
                value_format(totals[row]),
                x=f"{left + totals[row] * scale + 4:.1f}",
                y=f"{y0 + band / 2 + 4:.1f}",
                fill=TEXT,
            )
    chart.add("line", x1=left, y1=top, x2=left, y2=bottom, stroke=TEXT)
    return chart


def pie_chart(
    items: Sequence[tuple[str, Number]],
    *,
    label: str,
    width: int = 640,
    value_format: Callable[[Number], str] = plain_number,
) -> Chart:
    """Slices for the positive values; the legend lists every item with its share."""
    radius, cx, cy = 90, 110, 110
    height = max(2 * cy, 24 + 20 * len(items))
    chart = Chart("pie", width, height, label)
    total = sum(v for _, v in items if v and v > 0)
    chart.empty = not total
    angle = -math.pi / 2  # start at twelve o'clock
    for index, (name, value) in enumerate(items):
        fill = PALETTE[index % len(PALETTE)]
        share = (value / total) if total and value and value > 0 else 0
        tip = f"{name}: {value_format(value)} ({share:.1%})"
        if share >= 0.9999:
            chart.add("circle", tooltip=tip, cx=cx, cy=cy, r=radius, fill=fill)
        elif share > 0:
            end = angle + share * 2 * math.pi
            x1, y1 = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
            x2, y2 = cx + radius * math.cos(end), cy + radius * math.sin(end)
            large = 1 if share > 0.5 else 0
            chart.add(
                "path",
                tooltip=tip,
                d=(
                    f"M{cx},{cy} L{x1:.2f},{y1:.2f} "
                    f"A{radius},{radius} 0 {large},1 {x2:.2f},{y2:.2f} Z"
                ),
                fill=fill,
                stroke="#fff",
                stroke_width=1,
            )
            angle = end
        y = 24 + 20 * index
        chart.add("rect", x=2 * cx + 20, y=y - 10, width=12, height=12, fill=fill)
        chart.add(
            "text",
            f"{fit(name, width - 2 * cx - 200)}  {value_format(value)}  ({share:.1%})",
            tooltip=name,
            x=2 * cx + 38,
            y=y,
            fill=TEXT,
        )
    if not total:
        chart.add("circle", cx=cx, cy=cy, r=radius, fill="none", stroke=GRID, stroke_width=2)
    return chart


def funnel_chart(
    items: Sequence[tuple[str, Number]],
    *,
    label: str,
    notes: Sequence[str] = (),
    width: int = 640,
    value_format: Callable[[Number], str] = plain_number,
) -> Chart:
    """A funnel: one trapezoid per stage, its width proportional to the stage's value and
    narrowing to the next one's; `notes` (e.g. conversion rates) are written at the right."""
    left, right, row, gap = 130, 130, 30, 3
    height = max(row, len(items) * (row + gap) + 6)
    chart = Chart("funnel", width, height, label)
    plot = width - left - right
    centre = left + plot / 2
    peak = max((v for _, v in items), default=0)
    chart.empty = peak <= 0
    peak = peak or 1
    widths = [max(plot * (v or 0) / peak, 2.0) for _, v in items]
    for index, (name, value) in enumerate(items):
        y = 3 + index * (row + gap)
        top_w = widths[index]
        bottom_w = widths[index + 1] if index + 1 < len(widths) else top_w
        bottom_w = min(bottom_w, top_w)
        chart.add(
            "path",
            tooltip=f"{name}: {value_format(value)}",
            d=(
                f"M{centre - top_w / 2:.1f},{y} L{centre + top_w / 2:.1f},{y} "
                f"L{centre + bottom_w / 2:.1f},{y + row} L{centre - bottom_w / 2:.1f},{y + row} Z"
            ),
            fill=PALETTE[index % len(PALETTE)],
        )
        chart.add(
            "text",
            fit(name, left - 12),
            tooltip=name,
            x=left - 8,
            y=y + row / 2 + 4,
            text_anchor="end",
            fill=TEXT,
        )
        chart.add(
            "text",
            value_format(value),
            x=f"{centre:.1f}",
            y=y + row / 2 + 4,
            text_anchor="middle",
            fill="#fff" if top_w > 60 else TEXT,
            font_weight="bold",
        )
        if index < len(notes) and notes[index]:
            chart.add(
                "text", notes[index], x=width - right + 8, y=y + row + 4, fill=MUTED, font_size=10
            )
    return chart
