"""Accessible bar charts as inline SVG text: categories and series in, one `<svg>` out.

Two renderers draw the same charts from the same input:

- `"matplotlib"`: matplotlib's SVG backend (`Figure` and `FigureCanvasSVG` directly, no
  pyplot and no global style: the settings apply inside an `rc_context` only), when the
  `report` extra is installed (`pip install 'retainflow[report]'`);
- `"builtin"`: the small hand-written SVG below, so the core package needs no plotting
  library.

`bar_chart` uses matplotlib when it can be imported, or the renderer it is told. Both give
byte-for-byte deterministic SVG (matplotlib: a fixed `svg.hashsalt`, no date, text kept as
`<text>` with `svg.fonttype = "none"`), with no XML prolog or doctype, no external
reference and ids unique on the page (every id starts with the chart's id). Both are
accessible the same way: `role="img"` labelled by the chart's `<title>` and `<desc>`,
labelled axes (`class="axis-label"`), a `<title>` on every bar (the exact value, shown
as a tooltip), and a legend in text. The HTML page puts a data table beside each chart as
its text alternative.

    >>> svg = bar_chart("c1", "Outcomes", "Two bars.", ["March", "April"],
    ...                 [Series("retained", (3, 2), RETAINED)], x_label="Month",
    ...                 y_label="Instances", renderer="builtin")
    >>> svg.startswith('<svg') and '<title id="c1-title">Outcomes</title>' in svg
    True
"""

from __future__ import annotations

import io
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from html import escape
from importlib import import_module
from typing import Any, Literal

import attrs

__all__ = [
    "CHURNED",
    "OTHER",
    "PALETTE",
    "RENDERERS",
    "RETAINED",
    "Renderer",
    "Series",
    "available_renderer",
    "bar_chart",
    "builtin_bar_chart",
    "histogram_bins",
    "matplotlib_bar_chart",
    "nice_step",
    "renderer_credit",
]

Renderer = Literal["matplotlib", "builtin"]
RENDERERS: tuple[Renderer, ...] = ("matplotlib", "builtin")

# Okabe-Ito colours: told apart with the common colour-vision deficiencies.
RETAINED = "#0072B2"
CHURNED = "#D55E00"
OTHER = "#999999"
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")

WIDTH, HEIGHT = 640, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 40, 64
_MAX_LABEL = 14
_MAX_BAR = 56  # px: a few categories still get slim bars
_MAX_TICKS = 12  # category labels shown at most; the others are skipped

_Format = Callable[[float], str]


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


# ---- what both renderers share ------------------------------------------------------------


def available_renderer() -> Renderer:
    """`"matplotlib"` when matplotlib (the `report` extra) can be imported, else
    `"builtin"`."""
    try:
        import_module("matplotlib.figure")
        import_module("matplotlib.backends.backend_svg")
    except ImportError:
        return "builtin"
    return "matplotlib"


def renderer_credit(renderer: Renderer) -> str:
    """One sentence saying what drew the charts, for the page's footer."""
    if renderer == "matplotlib":
        version = str(getattr(import_module("matplotlib"), "__version__", "")).strip()
        return f"Charts drawn with matplotlib {version} (SVG backend).".replace("  ", " ")
    return (
        "Charts drawn by retainflow's built-in SVG renderer "
        "(with retainflow[report] installed, matplotlib draws them)."
    )


def _y_axis(
    categories: Sequence[str],
    series: Sequence[Series],
    stacked: bool,
    y_max: float | None,
    integer_axis: bool,
) -> tuple[float, float]:
    """The top of the value axis and its tick step, the same for both renderers."""
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
    return float(axis_max), step


def _tip(category: str, series: Sequence[Series], j: int, i: int, y_format: _Format) -> str:
    """A bar's tooltip: its category (and series, when several) and its exact value."""
    s = series[j]
    tip = s.labels[i] if s.labels is not None else y_format(s.values[i])
    return f"{category}, {s.name}: {tip}" if len(series) > 1 else f"{category}: {tip}"


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
    y_format: _Format = _fmt,
    integer_axis: bool = False,
    show_values: bool = False,
    renderer: Renderer | None = None,
) -> str:
    """A vertical bar chart, grouped (side by side) or stacked, as an `<svg>` element;
    `show_values` writes each value above its bar (not for stacked bars). `chart_id`
    starts every id of the chart (unique on the page); `renderer` defaults to
    `available_renderer()`."""
    draw = (
        matplotlib_bar_chart
        if (renderer or available_renderer()) == "matplotlib"
        else builtin_bar_chart
    )
    return draw(
        chart_id,
        title,
        desc,
        categories,
        series,
        x_label=x_label,
        y_label=y_label,
        stacked=stacked,
        y_max=y_max,
        y_format=y_format,
        integer_axis=integer_axis,
        show_values=show_values,
    )


# ---- built in ---------------------------------------------------------------------------


def builtin_bar_chart(
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
    y_format: _Format = _fmt,
    integer_axis: bool = False,
    show_values: bool = False,
) -> str:
    """`bar_chart` drawn by hand: small SVG, no dependency."""
    count = max(len(categories), 1)
    plot_w = WIDTH - _LEFT - _RIGHT
    plot_h = HEIGHT - _TOP - _BOTTOM
    bottom = _TOP + plot_h
    axis_max, step = _y_axis(categories, series, stacked, y_max, integer_axis)

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
            name = _tip(category, series, j, i, y_format)
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
    every = max(1, math.ceil(len(categories) / _MAX_TICKS))
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


# ---- matplotlib -------------------------------------------------------------------------

# Inside `rc_context` over matplotlib's defaults (not the user's matplotlibrc or style), so
# the same input gives the same bytes anywhere: ids are hashed with a fixed salt, text
# stays `<text>` (no glyph paths, no font embedded: smaller, searchable and read aloud).
# (Typed `Any`: matplotlib's stubs type the keys as literals, differently by version.)
_RC: dict[Any, Any] = {
    "svg.hashsalt": "retainflow",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],  # shipped with matplotlib: the layout's metrics
    "font.size": 11.0,
    "axes.labelsize": 12.0,
    "axes.edgecolor": "#333333",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
    "grid.color": "#e6e6e6",
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "legend.frameon": False,
    "path.simplify": False,
}
# Keys of the metadata matplotlib would write (with links and the date); None drops them.
_NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}

_SVG_NS = "{http://www.w3.org/2000/svg}"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_URL_REF = re.compile(r"url\(#([^)]+)\)")
_GID = "rf-"  # the ids this module gives artists, to find them in the SVG
# Coordinates to 2 decimals (a hundredth of a pixel) instead of matplotlib's 6.
_GEOMETRY = frozenset({"d", "x", "y", "width", "height", "transform"})
_DECIMALS = re.compile(r"-?\d+\.\d+")
_FONT_FAMILY = "font-family: 'DejaVu Sans', sans-serif; "  # as written for font.sans-serif
_NO_TURN = re.compile(r"rotate\(-?0 [-\d. ]+\)")


def _two_decimals(match: re.Match[str]) -> str:
    text = f"{float(match.group()):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def matplotlib_bar_chart(
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
    y_format: _Format = _fmt,
    integer_axis: bool = False,
    show_values: bool = False,
) -> str:
    """`bar_chart` drawn by matplotlib's SVG backend (raises ImportError without it)."""
    import matplotlib as mpl
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    axis_max, step = _y_axis(categories, series, stacked, y_max, integer_axis)
    count = len(categories)
    tips: dict[str, str] = {}
    with mpl.rc_context():
        mpl.rcdefaults()
        mpl.rcParams.update(_RC)
        # Sizes in points at 72 per inch: the viewBox is WIDTH x HEIGHT, like the built-in.
        fig = Figure(figsize=(WIDTH / 72, HEIGHT / 72), layout="constrained")
        fig.patch.set_visible(False)
        ax = fig.add_subplot()
        ax.patch.set_visible(False)
        # As the built-in: a group takes 70% of its band, each bar at most _MAX_BAR px.
        band_px = (WIDTH - _LEFT - _RIGHT) / max(count, 1)
        group_w = min(0.7, _MAX_BAR * (1 if stacked else max(len(series), 1)) / band_px)
        base = [0.0] * count
        for j, s in enumerate(series):
            width = group_w if stacked else group_w / max(len(series), 1)
            offset = 0.0 if stacked else (j - (len(series) - 1) / 2) * width
            # Bars above zero only, each with its tooltip; the legend gets one swatch.
            drawn = [i for i in range(count) if s.values[i] > 0]
            bars = ax.bar(
                [i + offset for i in drawn],
                [s.values[i] for i in drawn],
                width,
                bottom=[base[i] for i in drawn] if stacked else 0.0,
                color=s.color,
                label=s.name,
            )
            for i, bar in zip(drawn, bars.patches, strict=True):
                gid = f"{_GID}bar-{j}-{i}"
                bar.set_gid(gid)
                tips[gid] = _tip(categories[i], series, j, i, y_format)
            if show_values and not stacked:
                for i in range(count):
                    ax.annotate(
                        y_format(s.values[i]),
                        (i + offset, s.values[i]),
                        xytext=(0, 3),
                        textcoords="offset points",
                        ha="center",
                        va="bottom",
                        fontsize=10,
                    )
            if stacked:
                base = [b + v for b, v in zip(base, s.values, strict=True)]
        ax.set_xlim(-0.5, max(count, 1) - 0.5)
        every = max(1, math.ceil(count / _MAX_TICKS))
        shown = range(0, count, every)
        labels = [_short(categories[i]) for i in shown]
        band = (WIDTH - 100) / max(count / every, 1)  # about the room of a label, in px
        tilt = any(len(label) * 6.5 > band for label in labels)
        ax.set_xticks(
            list(shown),
            labels,
            rotation=30 if tilt else 0,
            ha="right" if tilt else "center",
            rotation_mode="anchor" if tilt else "default",
        )
        ticks = round(axis_max / step)
        ax.set_ylim(0, axis_max)
        ax.set_yticks(
            [step * k for k in range(ticks + 1)], [y_format(step * k) for k in range(ticks + 1)]
        )
        ax.yaxis.grid(True)
        ax.set_xlabel(x_label).set_gid(f"{_GID}axis-label")
        ax.set_ylabel(y_label).set_gid(f"{_GID}axis-label")
        if len(series) > 1:
            legend = ax.legend(
                loc="lower left",
                bbox_to_anchor=(0.0, 1.0),
                ncols=len(series),
                borderaxespad=0.2,
                handlelength=1.0,
            )
            legend.set_gid(f"{_GID}legend")
        out = io.BytesIO()
        FigureCanvasSVG(fig)  # attaches itself: savefig draws with it
        fig.savefig(out, format="svg", metadata=_NO_METADATA)
    return _finish_svg(out.getvalue(), chart_id, title, desc, tips)


def _finish_svg(data: bytes, chart_id: str, title: str, desc: str, tips: dict[str, str]) -> str:
    """matplotlib's SVG document as an element for an HTML page: no prolog or doctype, no
    namespaces (inline SVG in HTML needs none; `xlink:href` becomes SVG 2's `href`), no
    page-wide `<style>`, ids kept only where referenced and prefixed with `chart_id`, our
    artists' ids turned into classes or bar tooltips, `<title>` and `<desc>` first, and
    `role="img"` labelled by them. ElementTree does the XML escaping."""
    root = ET.fromstring(data)  # expat: the doctype is skipped, its DTD never fetched
    for element in root.iter():
        if element.tag.startswith(_SVG_NS):
            element.tag = element.tag.removeprefix(_SVG_NS)
        if _XLINK_HREF in element.attrib:
            element.set("href", element.attrib.pop(_XLINK_HREF))
    for defs in root.findall("defs"):
        for style in defs.findall("style"):  # `*{...}` would style the whole page
            defs.remove(style)
        if len(defs) == 0:
            root.remove(defs)
    referenced = set()
    for element in root.iter():
        for key, value in element.attrib.items():
            if key == "href" and value.startswith("#"):
                referenced.add(value[1:])
            referenced.update(_URL_REF.findall(value))
    for element in root.iter():
        gid = element.attrib.pop("id", None)
        if gid is None:
            pass
        elif gid in referenced:
            element.set("id", f"{chart_id}-{gid}")
        elif gid in tips:
            shape = element.find("path")
            ET.SubElement(shape if shape is not None else element, "title").text = tips[gid]
        elif gid.startswith(_GID):
            element.set("class", gid.removeprefix(_GID))
        if _NO_TURN.fullmatch(element.get("transform", "")):
            del element.attrib["transform"]
        if element.tag == "text":  # the font once, on the root
            element.set("style", element.get("style", "").replace(_FONT_FAMILY, ""))
        for key, value in list(element.attrib.items()):
            if key in _GEOMETRY:
                element.set(key, _DECIMALS.sub(_two_decimals, " ".join(value.split())))
            elif key == "href" and value.startswith("#"):
                element.set(key, f"#{chart_id}-{value[1:]}")
            elif "url(#" in value:
                element.set(key, _URL_REF.sub(rf"url(#{chart_id}-\1)", value))
    _flatten(root)
    view_box = root.get("viewBox", f"0 0 {WIDTH} {HEIGHT}")
    width, height = (_num(float(v)) for v in view_box.split()[2:])
    root.attrib.clear()
    root.attrib.update(
        {
            "class": "chart",
            "viewBox": view_box,
            "width": width,
            "height": height,
            "role": "img",
            "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
            "style": _FONT_FAMILY.removesuffix("; "),
        }
    )
    heading = ET.Element("title", id=f"{chart_id}-title")
    heading.text = title
    summary = ET.Element("desc", id=f"{chart_id}-desc")
    summary.text = desc
    root[:0] = [heading, summary]
    root.text = "\n"
    for child in root:
        child.tail = "\n"
    return ET.tostring(root, encoding="unicode")


def _flatten(parent: ET.Element) -> None:
    """Drop layout whitespace (not inside `<text>`) and unwrap `<g>`s with no attribute:
    the same drawing in fewer bytes."""
    children: list[ET.Element] = []
    for child in parent:
        _flatten(child)
        if child.tag == "g" and not child.attrib and not (child.text or "").strip():
            children.extend(_strip_tails(child))
        else:
            children.append(child)
    if parent.tag != "text":
        if not (parent.text or "").strip():
            parent.text = None
        for child in children:
            if not (child.tail or "").strip():
                child.tail = None
    parent[:] = children


def _strip_tails(group: ET.Element) -> Iterator[ET.Element]:
    for child in group:
        child.tail = None
        yield child
