"""JUnit XML for `retainflow test --format junit`: a `TestRun` in, one XML document out.

    <testsuites name="retainflow" tests="12" failures="1" errors="0" time="0.412">
      <testsuite name="tests/scenarios/reactive_retention.rflow-test.yaml" tests="9" ...>
        <properties><property name="workflow" value="reactive_retention"/></properties>
        <testcase classname="reactive_retention" name="happy path" file="..." time="0.031"/>
        <testcase classname="reactive_retention" name="wrong outcome" ...>
          <failure message="outcome: expected retained, actual churned ..." type="outcome">
            outcome: expected retained, actual churned ...
              expected: retained
              actual:   churned
              step:     escalate
          </failure>
        </testcase>
      </testsuite>
    </testsuites>

One `testsuite` per scenario file, one `testcase` per scenario; a failed expectation is a
`failure`, a scenario that could not run (bad YAML, a missing or broken workflow, rejected
case data, an engine error) an `error`. Unreadable paths get a suite of their own with
one erroring case. The text is built with `xml.etree.ElementTree`, so attribute and text
escaping is the library's; characters XML 1.0 cannot carry are written as `\\xNN`.
Coverage goes to each suite's `system-out`, as in the text report.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from retainflow.scenarios import ScenarioResult, TestRun, coverage_lines, failure_lines

__all__ = ["render_junit"]

# Characters outside XML 1.0's Char production (control characters, lone surrogates,
# U+FFFE/U+FFFF) cannot appear even escaped.
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _suite_stats(results: Sequence[ScenarioResult]) -> dict[str, str]:
    return {
        "tests": str(len(results)),
        "failures": str(sum(1 for r in results if r.status == "fail")),
        "errors": str(sum(1 for r in results if r.status == "error")),
        "skipped": "0",
        "time": f"{sum(r.seconds for r in results):.3f}",
    }


def render_junit(run: TestRun) -> str:
    """The whole run as a JUnit XML document (UTF-8, with an XML declaration)."""
    root = ET.Element("testsuites", {"name": "retainflow", **_suite_stats(run.results)})
    if run.problems:
        root.set("errors", str(int(root.get("errors", "0")) + len(run.problems)))
        root.set("tests", str(int(root.get("tests", "0")) + len(run.problems)))
    by_file: dict[str, list[ScenarioResult]] = {}
    for result in run.results:
        by_file.setdefault(result.file, []).append(result)
    for file, results in by_file.items():
        suite = ET.SubElement(root, "testsuite", {"name": _clean(file), **_suite_stats(results)})
        workflow = next((r.workflow for r in results if r.workflow), None)
        if workflow is not None:
            properties = ET.SubElement(suite, "properties")
            ET.SubElement(properties, "property", {"name": "workflow", "value": _clean(workflow)})
        for result in results:
            _testcase(suite, result, workflow)
        coverage = run.coverage.get(workflow) if workflow is not None else None
        if coverage is not None:
            out = ET.SubElement(suite, "system-out")
            out.text = _clean(_coverage_text(run, workflow or ""))
    for problem in run.problems:
        suite = ET.SubElement(
            root,
            "testsuite",
            {
                "name": _clean(problem.path),
                "tests": "1",
                "failures": "0",
                "errors": "1",
                "skipped": "0",
                "time": "0.000",
            },
        )
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": "retainflow", "name": _clean(problem.path), "time": "0.000"},
        )
        error = ET.SubElement(
            case, "error", {"message": _clean(problem.problem), "type": "unreadable"}
        )
        error.text = _clean(f"{problem.path}: {problem.problem}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _testcase(suite: ET.Element, result: ScenarioResult, workflow: str | None) -> None:
    classname = workflow or result.file.removesuffix(".rflow-test.yaml").replace("/", ".")
    case = ET.SubElement(
        suite,
        "testcase",
        {
            "classname": _clean(classname),
            "name": _clean(result.name if result.name is not None else "(scenario file)"),
            "file": _clean(result.file),
            "time": f"{result.seconds:.3f}",
        },
    )
    if result.status == "pass":
        return
    tag = "failure" if result.status == "fail" else "error"
    first = result.failures[0] if result.failures else None
    message = f"{first.key}: {first.message.splitlines()[0]}" if first else result.status
    if len(result.failures) > 1:
        message += f" (and {len(result.failures) - 1} more)"
    element = ET.SubElement(
        case, tag, {"message": _clean(message), "type": first.key if first else tag}
    )
    lines = [line for failure in result.failures for line in failure_lines(failure)]
    element.text = _clean("\n".join(lines))


def _coverage_text(run: TestRun, workflow: str) -> str:
    return "\n".join(line.strip("\n") for line in coverage_lines(run.coverage[workflow]))
