"""Report renderings: the self-contained, accessible HTML page, its SVG charts, and text."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import cast

import pytest
from click.testing import CliRunner

from retainflow.cli import main
from retainflow.report import build_report, render_html, render_text
from retainflow.report.charts import (
    RENDERERS,
    Renderer,
    Series,
    available_renderer,
    bar_chart,
    builtin_bar_chart,
    histogram_bins,
    nice_step,
    renderer_credit,
)
from tests.support import SHARED

RUN = SHARED / "conformance" / "run" / "reactive_retention"
RESULTS = RUN / "expected.jsonl"
WORKFLOW = RUN / "reactive_retention.rflow"

needs_conformance = pytest.mark.skipif(not RESULTS.is_file(), reason=f"no run at {RUN}")

# The SVG (and, in the matplotlib output, only the SVG) namespace URIs are the only
# addresses a page may hold: they name a vocabulary, nothing is fetched.
NAMESPACES = re.compile(r'xmlns(?::\w+)?="http://www\.w3\.org/(?:2000/svg|1999/xlink)"')


def _hide_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """`import matplotlib` (and of any submodule) fails, as when the extra is not installed."""
    names = {"matplotlib", *(n for n in sys.modules if n.startswith("matplotlib."))}
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


@pytest.fixture(params=RENDERERS)
def renderer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Renderer]:
    """Each test with it runs with matplotlib (skipped only where it is not installed: the
    `dev` extra has it) and with the built-in fallback, matplotlib's import made to fail."""
    if request.param == "matplotlib":
        pytest.importorskip("matplotlib")
    else:
        _hide_matplotlib(monkeypatch)
    assert available_renderer() == request.param
    yield cast(Renderer, request.param)


def _chart(renderer: Renderer | None = None) -> str:
    return bar_chart(
        "c9",
        "A <b> & c",
        'desc & "more" <here>',
        ["x<y", "a very long category name indeed"],
        [Series("s1", (1.0, 0.0), "#000"), Series("s2", (2.5, 3.0), "#111", ("two", "three"))],
        x_label="X & co",
        y_label="Y <units>",
        renderer=renderer,
    )


def html_report(*args: str) -> str:
    result = CliRunner().invoke(
        main, ["report", str(RESULTS), "--workflow", str(WORKFLOW), "--format", "html", *args]
    )
    assert result.exit_code == 0, result.stderr
    return result.stdout


class _Outline(HTMLParser):
    """Tags in order, with a stack check: every opened element is closed in order."""

    VOID = frozenset({"meta", "br", "img", "input", "link", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def outline(page: str) -> _Outline:
    parser = _Outline()
    parser.feed(page)
    parser.close()
    return parser


@needs_conformance
@pytest.mark.parametrize("by", ["workflow", "client", "month"])
def test_html_is_one_self_contained_page(by: str, renderer: Renderer) -> None:
    page = html_report("--by", by)
    assert page.startswith("<!DOCTYPE html>")
    # Nothing to fetch: no script, no external stylesheet, image, font or frame.
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert not re.search(r"url\((?!#[\w-]+\))", page)  # only references within the page
    assert "<script" not in page and "<link" not in page and "<img" not in page
    assert "@font-face" not in page and "@import" not in page
    bare = NAMESPACES.sub("", page)
    assert "http://" not in bare and "https://" not in bare and "//www." not in bare
    # No XML prolog, doctype, metadata or page-wide style from the SVG documents.
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page and "<metadata" not in page
    assert page.count("<style") == 1
    parsed = outline(page)
    assert parsed.errors == [] and parsed.stack == []
    links = [a.get("href") or "" for tag, a in parsed.tags if tag == "a"]
    assert links and all(href.startswith("#") for href in links)
    ids = [a["id"] for _, a in parsed.tags if a.get("id")]
    assert len(ids) == len(set(ids))
    for href in links:
        assert href[1:] in ids
    # References inside the charts (clip paths, tick marks) point at ids of the page.
    for ref in re.findall(r'url\(#([\w-]+)\)|href="#([\w-]+)"', page):
        assert (ref[0] or ref[1]) in ids
    # The footer says what drew the charts; the page stays small.
    credit = renderer_credit(renderer)
    assert f'<footer><p class="meta">{escape(credit)}</p></footer>' in page
    assert credit.startswith("Charts drawn with matplotlib ") == (renderer == "matplotlib")
    assert len(page.encode()) < 150_000


@needs_conformance
def test_html_charts_are_accessible_svg(renderer: Renderer) -> None:
    page = html_report()
    svgs = re.findall(r"<svg\b.*?</svg>", page, re.S)
    # Outcomes over time, SLA attainment, 2 time-to-target, compensation, csat.
    assert len(svgs) == 6
    for svg in svgs:
        chart = re.match(
            r'<svg class="chart" [^>]*role="img" aria-labelledby="([\w-]+)-title \1-desc"', svg
        )
        assert chart, svg[:200]
        name = chart.group(1)
        assert f'<title id="{name}-title">' in svg
        assert f'<desc id="{name}-desc">' in svg
        assert re.search(r'<svg [^>]*viewBox="0 0 640 300"', svg)
        # Labelled axes: the axis titles are text, marked as such.
        assert len(re.findall(r'class="axis-label"', svg)) == 2
        assert svg.count("<text") >= 4  # text stays text: no glyphs drawn as paths
        assert "DejaVuSans-" not in svg
        # Every bar has its exact value as a tooltip: titles besides the chart's own.
        assert svg.count("<title>") >= 1
        # Every id of a chart starts with the chart's id.
        for found in re.findall(r'\bid="([^"]+)"', svg):
            assert found.startswith(f"{name}-"), found
    titles = re.findall(r'<title id="[\w-]+-title">([^<]*)</title>', page)
    assert titles == [
        "Outcomes over time",
        "SLA attainment",
        "Time to target: first_response",
        "Time to target: resolution",
        "Compensation by kind (USD)",
        "Responses: csat (csat)",
    ]
    axis_labels = re.findall(r'class="axis-label"[^>]*>(?:<text[^>]*>)?([^<]+)<', page)
    assert "Week of start (UTC)" in axis_labels and "Attainment (%)" in axis_labels
    assert "Amount (USD)" in axis_labels and "Score" in axis_labels
    assert "<title>first_response: 88.9% (8 met, 1 breached)</title>" in page
    # Each chart has its data as a table next to it.
    assert page.count("<figure>") == 6
    assert page.count("<summary>Data of this chart</summary>") == 6


@needs_conformance
def test_html_headings_and_tables() -> None:
    page = html_report("--by", "client")
    parsed = outline(page)
    tags = [tag for tag, _ in parsed.tags]
    assert tags.count("h1") == 1
    assert '<html lang="en">' in page
    assert tags.count("table") == tags.count("caption")
    assert tags.count("section") == 1 + 9  # the overview and 9 client groups
    assert '<h2 id="group-7">wayne</h2>' in page
    assert "Retention rate by client" in page
    assert 'scope="col"' in page and 'scope="row"' in page
    assert "Retention rate <strong>55.6%</strong>." in page  # the overview's
    assert "13,000.00 USD" in page
    assert "Retention rate <strong>66.7%</strong>" in page


@needs_conformance
def test_html_is_deterministic(tmp_path: Path, renderer: Renderer) -> None:
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    for target in (first, second):
        result = CliRunner().invoke(
            main, ["report", str(RESULTS), "--format", "html", "--out", str(target)]
        )
        assert result.exit_code == 0, result.stderr
    assert first.read_bytes() == second.read_bytes()
    assert renderer in first.read_text(encoding="utf-8").split("<footer>")[1].replace(
        "built-in", "builtin"
    )


def test_empty_report_renders() -> None:
    report = build_report([])
    assert "No records to report." in render_text(report)
    page = render_html(report)
    assert "No records to report." in page and "<svg" not in page
    assert "<footer>" not in page  # no chart, so nothing drew one
    assert outline(page).errors == []


def test_bar_chart_escapes_and_labels(renderer: Renderer) -> None:
    svg = _chart()
    assert svg.startswith('<svg class="chart" ') and svg.endswith("</svg>")
    assert '<title id="c9-title">A &lt;b&gt; &amp; c</title>' in svg
    assert "<title>x&lt;y, s2: two</title>" in svg
    assert "a very long c…" in svg  # category labels are cut; the bar titles keep them whole
    assert "<title>a very long category name indeed, s2: three</title>" in svg
    assert "<title>x&lt;y, s1: 1</title>" in svg
    assert svg.count("<title>") == 3  # bars above zero only
    assert "X &amp; co" in svg and "Y &lt;units&gt;" in svg
    assert 'class="legend"' in svg and ">s1</text>" in svg and ">s2</text>" in svg
    # Well-formed XML (the page embeds it as is), the same bytes every time.
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c9-title c9-desc"
    assert [child.tag for child in root][:2] == ["title", "desc"]
    assert [root[0].text, root[1].text] == ["A <b> & c", 'desc & "more" <here>']
    assert root[1].get("id") == "c9-desc"
    assert svg == _chart()
    assert "http" not in svg


def test_builtin_chart_draws_rects() -> None:
    svg = _chart("builtin")
    assert svg.count("<rect") == 3 + 2  # bars above zero, plus two legend swatches
    assert svg == builtin_bar_chart(
        "c9",
        "A <b> & c",
        'desc & "more" <here>',
        ["x<y", "a very long category name indeed"],
        [Series("s1", (1.0, 0.0), "#000"), Series("s2", (2.5, 3.0), "#111", ("two", "three"))],
        x_label="X & co",
        y_label="Y <units>",
    )


def test_matplotlib_chart_leaves_no_global_state() -> None:
    mpl = pytest.importorskip("matplotlib")
    before = dict(mpl.rcParams)
    with mpl.rc_context({"svg.hashsalt": "someone-else", "font.size": 30.0}):
        inside = dict(mpl.rcParams)
        svg = _chart("matplotlib")  # the user's settings change nothing ...
        assert dict(mpl.rcParams) == inside  # ... and are left as they were
    assert dict(mpl.rcParams) == before
    assert svg == _chart("matplotlib")
    assert "font-size: 11px" in svg and "<metadata" not in svg and "<style" not in svg
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and all(i.startswith("c9-") for i in ids)
    for ref in re.findall(r'url\(#([\w-]+)\)|href="#([\w-]+)"', svg):
        assert (ref[0] or ref[1]) in ids


def test_matplotlib_chart_needs_no_pyplot() -> None:
    pytest.importorskip("matplotlib")
    code = (
        "import sys; from retainflow.report.charts import bar_chart, Series; "
        "bar_chart('c', 't', 'd', ['a'], [Series('s', (1.0,), '#000')], x_label='x', "
        "y_label='y', renderer='matplotlib'); "
        "print(sorted(m for m in sys.modules if m in ('matplotlib', 'matplotlib.pyplot')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['matplotlib']"


def test_fallback_without_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_matplotlib(monkeypatch)
    assert available_renderer() == "builtin"
    assert _chart() == _chart("builtin")
    assert "built-in" in renderer_credit("builtin") and "retainflow[report]" in renderer_credit(
        "builtin"
    )
    if RESULTS.is_file():
        page = html_report()
        assert page.count("<svg") == 6 and page.count("<rect") > 6
        assert "built-in SVG renderer" in page.split("<footer>")[1]


def test_nice_steps_and_bins() -> None:
    assert nice_step(100) == 20
    assert nice_step(7) == 2
    assert nice_step(0.3) == pytest.approx(0.1)
    assert histogram_bins([0.5, 16.5]) == (5.0, 4)
    assert histogram_bins([]) == (1.0, 1)
