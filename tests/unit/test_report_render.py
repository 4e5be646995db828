"""Report renderings: the self-contained, accessible HTML page, its SVG charts, and text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from retainflow.cli import main
from retainflow.report import build_report, render_html, render_text
from retainflow.report.charts import Series, bar_chart, histogram_bins, nice_step
from tests.support import SHARED

RUN = SHARED / "conformance" / "run" / "reactive_retention"
RESULTS = RUN / "expected.jsonl"
WORKFLOW = RUN / "reactive_retention.rflow"

needs_conformance = pytest.mark.skipif(not RESULTS.is_file(), reason=f"no run at {RUN}")


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
def test_html_is_one_self_contained_page(by: str) -> None:
    page = html_report("--by", by)
    assert page.startswith("<!DOCTYPE html>")
    # Nothing to fetch: no script, no external stylesheet, image, font or frame.
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert not re.search(r"url\(", page)
    assert "<script" not in page and "<link" not in page and "<img" not in page
    assert "http://" not in page and "https://" not in page
    parsed = outline(page)
    assert parsed.errors == [] and parsed.stack == []
    links = [a.get("href") or "" for tag, a in parsed.tags if tag == "a"]
    assert links and all(href.startswith("#") for href in links)
    ids = [a["id"] for _, a in parsed.tags if a.get("id")]
    assert len(ids) == len(set(ids))
    for href in links:
        assert href[1:] in ids


@needs_conformance
def test_html_charts_are_accessible_svg() -> None:
    page = html_report()
    svgs = re.findall(r"<svg\b.*?</svg>", page, re.S)
    # Outcomes over time, SLA attainment, 2 time-to-target, compensation, csat.
    assert len(svgs) == 6
    for svg in svgs:
        chart = re.match(r'<svg [^>]*role="img" aria-labelledby="([\w-]+)-title \1-desc"', svg)
        assert chart, svg[:200]
        name = chart.group(1)
        assert f'<title id="{name}-title">' in svg
        assert f'<desc id="{name}-desc">' in svg
        assert 'class="axis-label"' in svg  # labelled axes
        assert svg.count("<rect") >= 1
    titles = re.findall(r'<title id="[\w-]+-title">([^<]*)</title>', page)
    assert titles == [
        "Outcomes over time",
        "SLA attainment",
        "Time to target: first_response",
        "Time to target: resolution",
        "Compensation by kind (USD)",
        "Responses: csat (csat)",
    ]
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
def test_html_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    for target in (first, second):
        result = CliRunner().invoke(
            main, ["report", str(RESULTS), "--format", "html", "--out", str(target)]
        )
        assert result.exit_code == 0, result.stderr
    assert first.read_bytes() == second.read_bytes()


def test_empty_report_renders() -> None:
    report = build_report([])
    assert "No records to report." in render_text(report)
    page = render_html(report)
    assert "No records to report." in page and "<svg" not in page
    assert outline(page).errors == []


def test_bar_chart_escapes_and_labels() -> None:
    svg = bar_chart(
        "c9",
        "A <b> & c",
        "desc & more",
        ["x<y", "a very long category name indeed"],
        [Series("s1", (1.0, 0.0), "#000"), Series("s2", (2.5, 3.0), "#111", ("two", "three"))],
        x_label="X",
        y_label="Y",
    )
    assert '<title id="c9-title">A &lt;b&gt; &amp; c</title>' in svg
    assert "<title>x&lt;y, s2: two</title>" in svg
    assert "a very long c…" in svg  # category labels are cut; the bar titles keep them whole
    assert "<title>a very long category name indeed, s2: three</title>" in svg
    assert svg.count("<rect") == 3 + 2  # bars above zero, plus two legend swatches
    assert 'class="legend"' in svg


def test_nice_steps_and_bins() -> None:
    assert nice_step(100) == 20
    assert nice_step(7) == 2
    assert nice_step(0.3) == pytest.approx(0.1)
    assert histogram_bins([0.5, 16.5]) == (5.0, 4)
    assert histogram_bins([]) == (1.0, 1)
