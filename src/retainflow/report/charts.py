"""Accessible bar charts as inline SVG text: categories and series in, one `<svg>` out.

Hand-written on purpose (docs/reports.md says why): the output is small, byte-for-byte
deterministic, needs no network and no dependency, and is accessible by construction:
`role="img"` labelled by its `<title>` and `<desc>`, labelled axes, a `<title>` on every
bar (the exact value, shown as a tooltip), and a legend in text. The HTML page puts a data
table beside each chart as its text alternative.

    >>> svg = bar_chart("c1", "Outcomes", "Two bars.", ["March", "April"],
    ...                 [Series("retained", (3, 2), RETAINED)], x_label="Month",
    ...                 y_label="Instances")
    >>> svg.startswith('<svg') and '<title id="c1-title">Outcomes</title>' in svg
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

import attrs

__all__ = [
    "CHURNED",
    "OTHER",
    "PALETTE",
    "RETAINED",
    "Series",
    "bar_chart",
    "histogram_bins",
    "nice_step",
]

# Okabe-Ito colours: told apart with the common colour-vision deficiencies.
RETAINED = "#0072B2"
CHURNED = "#D55E00"
OTHER = "#999999"
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")

WIDTH, HEIGHT = 640, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 40, 64
_MAX_LABEL = 14
_MAX_BAR = 56  # px: a few categories still get slim bars


@attrs.frozen
class Series:
    """One named series: a value per category, a colour, and optional tooltip texts."""

    name: str
    values: tuple[float, ...]
    color: str
    labels: tuple[str, ...] | None = None


def nice_step(span: float, target: int = 5) -> float:
    """A round step (1, 2 or 5 times a power of ten) cutting `span` in about `target`."""
    if span <= 0:
        return 1.0
    raw = span / target
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return float(factor * magnitude)
    return float(10 * magnitude)  # pragma: no cover - the loop always returns


def histogram_bins(values: Sequence[float], target: int = 8) -> tuple[float, int]:
    """A round bin width and the number of bins [0, w), [w, 2w), ... holding `values`."""
    top = max(values, default=0.0)
    width = nice_step(top, target) if top > 0 else 1.0
    return width, int(top // width) + 1


def _fmt(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _short(label: str) -> str:
    return label if len(label) <= _MAX_LABEL else label[: _MAX_LABEL - 1] + "…"


def _num(value: float) -> str:
    """A coordinate: at most one decimal, no trailing zeros."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    stacked: bool = False,
    y_max: float | None = None,
    y_format: Callable[[float], str] = _fmt,
    integer_axis: bool = False,
    show_values: bool = False,
) -> str:
    """A vertical bar chart, grouped (side by side) or stacked, as an `<svg>` element;
    `show_values` writes each value above its bar (not for stacked bars)."""
    count = max(len(categories), 1)
    plot_w = WIDTH - _LEFT - _RIGHT
    plot_h = HEIGHT - _TOP - _BOTTOM
    bottom = _TOP + plot_h
    if stacked:
        top_value = max(
            (sum(s.values[i] for s in series) for i in range(len(categories))), default=0
        )
    else:
        top_value = max((v for s in series for v in s.values), default=0)
    step = nice_step(y_max if y_max is not None else float(top_value))
    if integer_axis:
        step = max(1.0, math.ceil(step))
    axis_max = y_max if y_max is not None else step * max(1, math.ceil(top_value / step))
    if axis_max <= 0:
        axis_max = step

    def y(value: float) -> float:
        return bottom - plot_h * value / axis_max

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]
    # Grid and y axis ticks.
    parts.append('<g class="grid" aria-hidden="true">')
    ticks = round(axis_max / step)
    for i in range(ticks + 1):
        value = step * i
        ty = _num(y(value))
        parts.append(
            f'<line x1="{_LEFT}" y1="{ty}" x2="{WIDTH - _RIGHT}" y2="{ty}" class="gridline"/>'
            f'<text x="{_LEFT - 6}" y="{ty}" class="tick" text-anchor="end" '
            f'dominant-baseline="middle">{escape(y_format(value))}</text>'
        )
    parts.append("</g>")
    # Bars.
    band = plot_w / count
    group_w = min(band * 0.7, _MAX_BAR * (1 if stacked else max(len(series), 1)))
    parts.append('<g class="bars">')
    for i, category in enumerate(categories):
        x0 = _LEFT + band * i + (band - group_w) / 2
        base = 0.0
        for j, s in enumerate(series):
            value = s.values[i]
            tip = s.labels[i] if s.labels is not None else y_format(value)
            name = f"{category}, {s.name}: {tip}" if len(series) > 1 else f"{category}: {tip}"
            if stacked:
                x, w = x0, group_w
                top, height = y(base + value), plot_h * value / axis_max
                base += value
            else:
                w = group_w / len(series)
                x = x0 + w * j
                top, height = y(value), plot_h * value / axis_max
            if show_values and not stacked:
                parts.append(
                    f'<text x="{_num(x + w / 2)}" y="{_num(top - 4)}" class="value" '
                    f'text-anchor="middle" aria-hidden="true">{escape(y_format(value))}</text>'
                )
            if value <= 0:
                continue
            parts.append(
                f'<rect x="{_num(x)}" y="{_num(top)}" width="{_num(w)}" height="{_num(height)}" '
                f'fill="{s.color}"><title>{escape(name)}</title></rect>'
            )
    parts.append("</g>")
    # Axes, category labels, axis titles.
    parts.append(
        f'<line x1="{_LEFT}" y1="{bottom}" x2="{WIDTH - _RIGHT}" y2="{bottom}" class="axis"/>'
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{bottom}" class="axis"/>'
    )
    every = max(1, math.ceil(len(categories) / 12))
    parts.append('<g class="labels">')
    for i, category in enumerate(categories):
        if i % every:
            continue
        cx = _num(_LEFT + band * (i + 0.5))
        parts.append(
            f'<text x="{cx}" y="{bottom + 16}" class="tick" text-anchor="middle">'
            f"{escape(_short(category))}</text>"
        )
    parts.append("</g>")
    parts.append(
        f'<text x="{_num(_LEFT + plot_w / 2)}" y="{HEIGHT - 14}" class="axis-label" '
        f'text-anchor="middle">{escape(x_label)}</text>'
        f'<text x="16" y="{_num(_TOP + plot_h / 2)}" class="axis-label" text-anchor="middle" '
        f'transform="rotate(-90 16 {_num(_TOP + plot_h / 2)})">{escape(y_label)}</text>'
    )
    if len(series) > 1:
        parts.append('<g class="legend">')
        x = float(_LEFT)
        for s in series:
            parts.append(
                f'<rect x="{_num(x)}" y="12" width="12" height="12" fill="{s.color}"/>'
                f'<text x="{_num(x + 16)}" y="22" class="legend-text">{escape(s.name)}</text>'
            )
            x += 16 + 7.5 * len(s.name) + 20
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)
