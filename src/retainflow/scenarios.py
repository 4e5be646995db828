"""Scenario tests (`retainflow test`): `*.rflow-test.yaml` files in, verdicts and coverage out.

    run = run_paths(["tests/scenarios"])      # every scenario file found, run and compared
    run.exit_code                              # 0 all pass, 1 a failure or an error, 2 unreadable
    print(render_text(run))                    # PASS/FAIL lines, details, summary, coverage
    document = run.to_json()                   # the `--format json` object

A scenario file names one workflow (relative to the file) and a list of scenarios. Each
scenario is one case (the same fields and YAML rules as a case file, read by `caseio`),
its events, earlier grants for the ledger, an optional `until`, and `expect`:

    workflow: ../../workflows/reactive_retention.rflow
    scenarios:
      - name: gold client's discount is capped by the per-case limit
        case: {id: T1, at: 2026-03-02T09:15:00+08:00, client: acme, ...}
        events: [{type: call_logged, at: 2026-03-02T11:00:00+08:00}]
        ledger: [{client: acme, kind: credit, amount: 1000 USD, at: 2026-01-10T00:00:00Z}]
        expect: {outcome: retained, path: [...], offers: [...], actions_include: [...],
                 slas: {first_response: met}}

Every scenario runs alone through `runtime.batch.run_entries` (the machinery of
`retainflow run`) on a fresh in-memory store: ledger seeded, the case submitted at its
`at`, events in time order, then timers advanced to `until` (default: 365 days after the
latest time in the scenario). Expectations are compared with the instance's run-result
record (`InstanceView.to_json()` form); values are compared as values ("5000 USD" equals
"5000.00 USD", "24h" equals "1d", times in any offset), mappings partially (only the
keys given).

Coverage: the store used for the run is a `MemoryStore` that notes, each time the engine
hands a case state back (once per input or timer applied), how long every instance's path
is and which history entry (the input) caused the growth. The first step entered by an
input was entered through the edge that input selects (an event: that event's `on` or
global handler; the `due` timer: `on timeout`; an SLA's due timer: its `breach ->`; a
`wait` timer or a decided approval: an immediate transition); every further step entered
by the same input was entered through an immediate transition. The edge is then the one
of the graph with that source, target, kind (and event or SLA); see docs/testing.md.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs

from retainflow.analysis import analyze_path, display_path
from retainflow.caseio import (
    CaseEntry,
    CaseFileError,
    check_case,
    core_value,
    ledger_entry,
    read_document,
)
from retainflow.compile import OfferItem, Workflow, compile_workflow
from retainflow.diagnostics import closest
from retainflow.diagnostics import render_text as render_diagnostics
from retainflow.graph import all_edges_in_order, nodes_in_order
from retainflow.ledger import Grant
from retainflow.runtime.batch import default_until, run_entries
from retainflow.runtime.data import DataError, Plain
from retainflow.runtime.state import CaseState
from retainflow.stores.memory import MemoryStore
from retainflow.values import Duration, Money, Percent, format_time, number_to_json, parse_time

__all__ = [
    "SCENARIO_SUFFIX",
    "Edge",
    "Failure",
    "FileProblem",
    "ScenarioResult",
    "TestRun",
    "Transition",
    "WorkflowCoverage",
    "collect_scenario_files",
    "coverage_lines",
    "derive_transitions",
    "failure_lines",
    "never_takeable",
    "render_json",
    "render_text",
    "run_paths",
    "same_value",
]

SCENARIO_SUFFIX = ".rflow-test.yaml"

FILE_KEYS = ("workflow", "scenarios")
SCENARIO_KEYS = ("name", "case", "events", "ledger", "until", "expect")
EXPECT_KEYS = (
    "instance",
    "status",
    "trigger",
    "outcome",
    "path",
    "offers",
    "actions_include",
    "slas",
    "measures",
)
OFFER_KEYS = (
    "at",
    "decided_at",
    "step",
    "kind",
    "requested",
    "amount",
    "status",
    "reason",
    "label",
)
ACTION_KEYS = ("at", "step", "name", "args")
SLA_KEYS = ("status", "started_at", "due", "completed_at", "paused")
# The values a record can hold (tools.md, "Run results"): an expectation outside them could
# never hold, so it is a mistake in the scenario file, reported before running.
RECORD_STATUSES = ("ended", "waiting", "cancelled", "error", "not_triggered")
OFFER_STATUSES = ("granted", "capped", "refused", "denied", "withdrawn", "pending")
SLA_STATUSES = ("not_started", "pending", "met", "breached", "cancelled")
_TIME_KEYS = ("at", "decided_at", "started_at", "due", "completed_at")


# ---- results ------------------------------------------------------------------------------


@attrs.frozen
class Failure:
    """One expectation that did not hold, or one problem that kept a scenario from running.

    `key` is the expectation (`outcome`, `path`, ...) or the part of the file at fault
    (`workflow`, `scenarios`, `case`, `ledger`, ...); `field` names the field of rejected
    data; `step` is where the run parted from the expectation (None when it did not run).
    """

    key: str
    message: str
    expected: Any = None
    actual: Any = None
    step: str | None = None
    field: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "expected": self.expected,
            "actual": self.actual,
            "step": self.step,
            "message": self.message,
            "field": self.field,
        }


@attrs.frozen
class ScenarioResult:
    """The verdict on one scenario: `status` is "pass", "fail" or "error"."""

    file: str
    name: str | None
    status: str
    failures: tuple[Failure, ...] = ()
    workflow: str | None = None
    record: Mapping[str, Any] | None = None  # the run-result record compared
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "name": self.name,
            "status": self.status,
            "failures": [f.to_json() for f in self.failures],
        }


@attrs.frozen
class FileProblem:
    """A path that could not be read (the run exits 2)."""

    path: str
    problem: str


@attrs.frozen
class Edge:
    """One transition of the state graph, identified as the coverage report names it."""

    source: str
    target: str
    kind: str  # immediate, event, timeout, global, breach
    event: str | None = None
    guard: str | None = None
    sla: str | None = None

    @property
    def how(self) -> str:
        """The statement, roughly as written: `on resolved when event.accepted`."""
        guard = f" when {self.guard}" if self.guard is not None else ""
        if self.kind == "immediate":
            return f"when {self.guard}" if self.guard is not None else "->"
        if self.kind == "event":
            return f"on {self.event}{guard}"
        if self.kind == "global":
            return f"global on {self.event}{guard}"
        if self.kind == "timeout":
            return f"on timeout{guard}"
        return f"breach of {self.sla}"

    @property
    def label(self) -> str:
        return f"{self.source} -> {self.target} ({self.how})"

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "kind": self.kind,
            "event": self.event,
            "guard": self.guard,
            "sla": self.sla,
        }


@attrs.frozen
class Transition:
    """One step entered by an instance, with the edge that led there (None at the start
    and for an operator's move)."""

    instance: int
    index: int  # position of the entered step in the instance's path
    source: str | None
    target: str
    at: dt.datetime
    cause: str  # "start", "immediate", "event NAME", "timeout", "breach of SLA", ...
    edge: Edge | None
    ambiguous: bool = False  # several edges fit; the first in engine order is credited


@attrs.define
class WorkflowCoverage:
    """Which steps and transitions of one workflow the scenarios took."""

    name: str
    path: str
    steps: list[str]  # steps and outcomes, in definition order
    edges: list[Edge]  # every edge, sources in definition order, engine order within
    never: dict[Edge, str]  # edges no run can take, with the reason
    covered_steps: set[str] = attrs.Factory(set)
    covered_edges: set[Edge] = attrs.Factory(set)
    ambiguous: set[Edge] = attrs.Factory(set)

    @classmethod
    def of(cls, workflow: Workflow) -> WorkflowCoverage:
        graph = workflow.graph
        steps = [n for n in nodes_in_order(graph) if graph.nodes[n]["kind"] != "undefined"]
        edges = [_edge(u, v, d) for u, v, d in all_edges_in_order(graph)]
        return cls(workflow.name, workflow.path or "", steps, edges, never_takeable(workflow))

    def add(self, record: Mapping[str, Any], transitions: Iterable[Transition]) -> None:
        self.covered_steps.update(name for name in record.get("path") or () if name)
        for item in transitions:
            if item.edge is not None:
                self.covered_edges.add(item.edge)
                if item.ambiguous:
                    self.ambiguous.add(item.edge)

    @property
    def missed_steps(self) -> list[str]:
        return [s for s in self.steps if s not in self.covered_steps]

    @property
    def missed_edges(self) -> list[Edge]:
        return [e for e in self.edges if e not in self.covered_edges]

    @property
    def takeable(self) -> int:
        return len(self.edges) - len(self.never)

    def to_json(self) -> dict[str, Any]:
        covered = [e for e in self.edges if e in self.covered_edges]
        takeable_covered = sum(1 for e in covered if e not in self.never)
        return {
            "file": self.path,
            "steps": {
                "total": len(self.steps),
                "covered": [s for s in self.steps if s in self.covered_steps],
                "missed": self.missed_steps,
                "percent": _percent(len(self.steps) - len(self.missed_steps), len(self.steps)),
            },
            "transitions": {
                "total": len(self.edges),
                "covered": [e.to_json() for e in covered],
                "missed": [e.to_json() for e in self.missed_edges],
                "never_takeable": [
                    {**e.to_json(), "reason": self.never[e]} for e in self.edges if e in self.never
                ],
                "percent": _percent(len(covered), len(self.edges)),
                "takeable": self.takeable,
                "percent_takeable": _percent(takeable_covered, self.takeable),
            },
        }


def _percent(part: int, whole: int) -> float:
    return 100.0 if whole == 0 else round(part * 100 / whole, 1)


def _edge(source: str, target: str, data: Mapping[str, Any]) -> Edge:
    return Edge(source, target, data["kind"], data["event"], data["guard"], data["sla"])


@attrs.define
class TestRun:
    """Everything `retainflow test` found: verdicts, coverage, unreadable paths."""

    __test__ = False  # not a pytest class

    files: int = 0
    results: list[ScenarioResult] = attrs.Factory(list)
    coverage: dict[str, WorkflowCoverage] = attrs.Factory(dict)
    problems: list[FileProblem] = attrs.Factory(list)  # missing or unreadable paths

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def summary(self) -> dict[str, int]:
        return {
            "files": self.files,
            "scenarios": len(self.results),
            "passed": self.count("pass"),
            "failed": self.count("fail"),
            "errors": self.count("error"),
            "unreadable": len(self.problems),
        }

    @property
    def exit_code(self) -> int:
        if self.problems:
            return 2
        return 1 if any(r.status != "pass" for r in self.results) else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "files": self.files,
            "scenarios": [r.to_json() for r in self.results],
            "summary": self.summary,
            "coverage": {name: cov.to_json() for name, cov in self.coverage.items()},
            "unreadable": [{"path": p.path, "problem": p.problem} for p in self.problems],
        }


# ---- finding and running files ------------------------------------------------------------


def collect_scenario_files(paths: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """The scenario files named or found recursively under `paths` (default "."), and the
    paths that do not exist. Hidden folders (.git, .venv) are not searched."""
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths or (".",):
        path = Path(raw)
        if path.is_dir():
            for found in path.rglob("*" + SCENARIO_SUFFIX):
                inner = found.relative_to(path).parts[:-1]
                if found.is_file() and not any(part.startswith(".") for part in inner):
                    files.append(found)
        elif path.is_file():
            files.append(path)
        else:
            missing.append(str(raw))
    unique = {display_path(p): p for p in files}
    return [unique[key] for key in sorted(unique)], missing


def run_paths(paths: Sequence[str | Path] = ()) -> TestRun:
    """Run every scenario file under `paths`; never raises for bad files or data."""
    files, missing = collect_scenario_files(paths)
    run = TestRun()
    for raw in missing:
        run.problems.append(FileProblem(raw, "no such file or directory"))
    loader = _WorkflowLoader()
    for path in files:
        run.files += 1
        shown = display_path(path)
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            run.problems.append(FileProblem(shown, "is not UTF-8 text"))
            continue
        except OSError as error:
            run.problems.append(FileProblem(shown, f"cannot be read ({error.strerror or error})"))
            continue
        try:
            run.results.extend(_run_file(path, shown, loader, run.coverage))
        except Exception as error:  # a bug here must not hide the other files
            failure = Failure("scenarios", f"internal error: {type(error).__name__}: {error}")
            run.results.append(ScenarioResult(shown, None, "error", (failure,)))
    return run


class _WorkflowLoader:
    """Compiled workflows by resolved path (a workflow shared by files compiles once)."""

    def __init__(self) -> None:
        self._cache: dict[Path, Workflow | Failure] = {}

    def load(self, path: Path, written: str) -> Workflow | Failure:
        key = path.resolve()
        if key not in self._cache:
            self._cache[key] = self._load(path, written)
        return self._cache[key]

    @staticmethod
    def _load(path: Path, written: str) -> Workflow | Failure:
        shown = display_path(path)
        if not path.is_file():
            where = "" if shown == written else f" (looked for {shown})"
            return Failure(
                "workflow",
                f"workflow {written}: no such file{where}; the path is relative to the "
                "scenario file",
                expected=written,
            )
        try:
            analysis = analyze_path(path)
        except UnicodeDecodeError:
            return Failure("workflow", f"workflow {shown}: is not UTF-8 text", expected=written)
        except OSError as error:
            return Failure(
                "workflow",
                f"workflow {shown}: cannot be read ({error.strerror or error})",
                expected=written,
            )
        errors = len(analysis.errors)
        if errors or analysis.workflow is None:
            text = render_diagnostics(analysis.report).rstrip()
            return Failure(
                "workflow",
                f"workflow {shown} does not compile ({errors} error{'s' * (errors != 1)}):\n"
                + text,
                expected=written,
            )
        return compile_workflow(analysis.workflow, analysis.source)


class _Problem(Exception):
    """A problem with a scenario's data: becomes an error verdict."""

    def __init__(self, key: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.failure = Failure(key, message, field=field)


def _run_file(
    path: Path, shown: str, loader: _WorkflowLoader, coverage: dict[str, WorkflowCoverage]
) -> list[ScenarioResult]:
    def file_error(failure: Failure, names: Sequence[str | None] = (None,)) -> list[ScenarioResult]:
        return [ScenarioResult(shown, name, "error", (failure,)) for name in names]

    try:
        document = read_document(path)
    except CaseFileError as error:
        return file_error(Failure("yaml", str(error)))
    if not isinstance(document, Mapping):
        return file_error(
            Failure("scenarios", f"{shown}: a scenario file is a mapping: workflow, scenarios")
        )
    unknown = [str(k) for k in document if str(k) not in FILE_KEYS]
    raw_scenarios = document.get("scenarios")
    names = _scenario_names(raw_scenarios)
    if unknown:
        return file_error(
            Failure(
                "scenarios", f"{shown}: unknown key {unknown[0]!r}" + _hint(unknown[0], FILE_KEYS)
            ),
            names,
        )
    written = document.get("workflow")
    if written is None or isinstance(written, Mapping | list) or not str(written):
        return file_error(
            Failure("workflow", f"{shown}: `workflow:` is required (a .rflow path)"), names
        )
    if isinstance(raw_scenarios, list) and not raw_scenarios:
        return file_error(
            Failure("scenarios", f"{shown}: `scenarios:` is empty (give at least one scenario)")
        )
    if not isinstance(raw_scenarios, list):
        return file_error(
            Failure("scenarios", f"{shown}: `scenarios:` is required (a list of scenarios)")
        )
    loaded = loader.load(path.parent / str(written), str(written))
    if isinstance(loaded, Failure):
        return file_error(loaded, names)
    workflow = loaded
    cov = coverage.get(workflow.name)
    if cov is None:
        cov = coverage[workflow.name] = WorkflowCoverage.of(workflow)
    results: list[ScenarioResult] = []
    seen: set[str] = set()
    for number, raw in enumerate(raw_scenarios, start=1):
        name = names[number - 1]
        try:
            if not isinstance(raw, Mapping):
                raise _Problem("scenarios", f"scenario #{number}: a scenario is a mapping")
            if name is None:
                raise _Problem("name", f"scenario #{number}: `name:` is required")
            if name in seen:
                raise _Problem("name", f"scenario #{number}: the name {name!r} is used twice")
            seen.add(name)
            results.append(_run_scenario(shown, name, raw, workflow, cov))
        except _Problem as problem:
            results.append(ScenarioResult(shown, name, "error", (problem.failure,), workflow.name))
    return results


def _scenario_names(raw: Any) -> list[str | None]:
    if not isinstance(raw, list) or not raw:
        return [None]
    names: list[str | None] = []
    for item in raw:
        name = item.get("name") if isinstance(item, Mapping) else None
        names.append(None if name is None or isinstance(name, Mapping | list) else str(name))
    return names


def _hint(word: str, choices: Sequence[str], listed: bool = False) -> str:
    """` (did you mean 'x'?)` for a close choice; else the choices, unless `listed`
    (the message names them already)."""
    close = closest(word, choices)
    if close is not None:
        return f" (did you mean {close!r}?)"
    return "" if listed else f" (expected one of: {', '.join(choices)})"


# ---- one scenario ------------------------------------------------------------------------


class _RecordingStore(MemoryStore):
    """A MemoryStore that notes, each time the engine hands a case back (once per input
    or timer applied), the length of the case's history and of every instance's path."""

    def __init__(self) -> None:
        super().__init__()
        self.snapshots: list[tuple[int, dict[int, int]]] = []

    def save_case(self, state: CaseState) -> None:
        super().save_case(state)
        paths = {
            inst.number: len(inst.path) for flow in state.flows.values() for inst in flow.instances
        }
        self.snapshots.append((len(state.history), paths))


def _run_scenario(
    file: str, name: str, raw: Any, workflow: Workflow, cov: WorkflowCoverage
) -> ScenarioResult:
    started = time.perf_counter()
    unknown = [str(k) for k in raw if str(k) not in SCENARIO_KEYS]
    if unknown:
        raise _Problem("scenarios", f"unknown key {unknown[0]!r}{_hint(unknown[0], SCENARIO_KEYS)}")
    entry = _case_entry(raw, workflow)
    grants = _ledger(raw.get("ledger"))
    until = _until(raw.get("until"))
    expect = _expectations(raw.get("expect"), workflow)
    if until is not None and entry.at is not None and until < entry.at:
        raise _Problem(
            "until",
            f"until {format_time(until)} is before the case's at {format_time(entry.at)}",
            "until",
        )
    store = _RecordingStore()
    horizon = until if until is not None else default_until([entry])
    try:
        output = run_entries(workflow, [entry], ledger=grants, until=horizon, store=store)
    except Exception as error:  # an engine bug must not hide the other scenarios
        raise _Problem("run", f"the engine failed: {type(error).__name__}: {error}") from None
    assert entry.case_id is not None
    state = output.engine.case_state(entry.case_id)
    transitions: list[Transition] = []
    if state is not None:
        history = output.engine.history(entry.case_id)
        transitions = derive_transitions(workflow, state, history, store.snapshots)
    for record in output.records:
        if record.get("instance") is not None or record.get("status") == "not_triggered":
            number = record.get("instance")
            cov.add(record, [t for t in transitions if t.instance == number])
    failures, compared = _compare(expect, output.records, transitions, workflow)
    status = "pass"
    if failures:
        status = "error" if any(f.key in ("run", "events") for f in failures) else "fail"
    seconds = time.perf_counter() - started
    return ScenarioResult(file, name, status, tuple(failures), workflow.name, compared, seconds)


def _case_entry(raw: Mapping[str, Any], workflow: Workflow) -> CaseEntry:
    case = raw.get("case")
    if not isinstance(case, Mapping):
        raise _Problem("case", "`case:` is required: the case's fields, with id and at")
    events = raw.get("events")
    data = dict(case)
    if events is not None:
        if "events" in data:
            raise _Problem("events", "give `events:` in the scenario or in its case, not both")
        data["events"] = events
    entry = check_case(0, data, [workflow])
    if entry.error is not None:
        match = re.match(r"case .*?: field (.+?): ", entry.error)
        field = match[1] if match else None
        key = "events" if field is not None and field.startswith("events") else "case"
        raise _Problem(key, f"case data rejected: {entry.error}", field)
    return entry


def _ledger(raw: Any) -> list[Grant]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _Problem("ledger", "`ledger:` is a list of grants (client, kind, amount, at)")
    grants = []
    for number, item in enumerate(raw, start=1):
        try:
            grants.append(ledger_entry(item))
        except DataError as error:
            raise _Problem(
                "ledger", f"ledger[{number}]: {error}", f"ledger[{number}].{error.field}"
            ) from None
        except ValueError as error:
            raise _Problem("ledger", f"ledger[{number}]: {error}", f"ledger[{number}]") from None
    return grants


def _until(raw: Any) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        return parse_time(str(raw))
    except ValueError as error:
        raise _Problem("until", f"until: {error}", "until") from None


# ---- expectations ---------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A YAML value as compared: plain scalars take their YAML 1.2 core value (text stays
    text), mappings and lists recursively."""
    if isinstance(value, Plain):
        core = value.value
        return str(value) if isinstance(core, str) else core
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _show_json(value: Any) -> Any:
    """An expected value in JSON form (numbers as numbers)."""
    if isinstance(value, Decimal):
        return number_to_json(value)
    if isinstance(value, Mapping):
        return {k: _show_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_show_json(v) for v in value]
    return value


def _expectations(raw: Any, workflow: Workflow) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise _Problem("expect", "`expect:` is a mapping (outcome, path, offers, ...)")
    expect = {str(k): _plain(v) for k, v in raw.items()}
    for key in expect:
        if key not in EXPECT_KEYS:
            raise _Problem("expect", f"expect: unknown key {key!r}{_hint(key, EXPECT_KEYS)}")
    targets = list(workflow.targets)

    def name_of(value: Any, where: str, choices: Sequence[str]) -> None:
        if not isinstance(value, str):
            raise _Problem("expect", f"expect.{where}: expected a name, got {_show(value)}")
        if value not in choices:
            raise _Problem(
                "expect",
                f"expect.{where}: {workflow.name} has no {value!r}{_hint(value, choices)}",
            )

    def one_of(value: Any, where: str, choices: Sequence[str]) -> None:
        if not isinstance(value, str) or value not in choices:
            shown = repr(value) if isinstance(value, str) else _show(value)
            hint = _hint(value, choices, listed=True) if isinstance(value, str) else ""
            raise _Problem(
                "expect", f"expect.{where}: {shown} is not one of {', '.join(choices)}{hint}"
            )

    def times_in(item: Mapping[str, Any], where: str) -> None:
        for field in _TIME_KEYS:
            value = item.get(field)
            if value is None or isinstance(value, dt.datetime):
                continue
            try:
                parse_time(str(value))
            except ValueError as error:
                raise _Problem("expect", f"expect.{where}.{field}: {error}") from None

    if "status" in expect:
        one_of(expect["status"], "status", RECORD_STATUSES)
    if "trigger" in expect and not same_value(expect["trigger"], None):
        name_of(expect["trigger"], "trigger", [t.name for t in workflow.triggers])
    if "outcome" in expect and not same_value(expect["outcome"], None):
        name_of(expect["outcome"], "outcome", list(workflow.outcomes))
    if "path" in expect:
        path = expect["path"]
        if not isinstance(path, list):
            raise _Problem("expect", "expect.path: a list of step and outcome names")
        for index, item in enumerate(path):
            name_of(item, f"path[{index}]", targets)
    if "instance" in expect:
        number = expect["instance"]
        if isinstance(number, str):
            number = core_value(number)
        if not isinstance(number, Decimal) or number != int(number) or number < 1:
            raise _Problem("expect", "expect.instance: the instance number (1, 2, ...)")
        expect["instance"] = int(number)
    for key, allowed in (("offers", OFFER_KEYS), ("actions_include", ACTION_KEYS)):
        if key not in expect:
            continue
        items = expect[key]
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise _Problem("expect", f"expect.{key}: a list of mappings ({', '.join(allowed)})")
        for index, item in enumerate(items):
            for field in item:
                if field not in allowed:
                    raise _Problem(
                        "expect",
                        f"expect.{key}[{index}]: unknown key {field!r}{_hint(field, allowed)}",
                    )
            if key == "actions_include" and "name" not in item:
                raise _Problem("expect", f"expect.actions_include[{index}]: `name:` is required")
            if key == "offers" and "status" in item:
                one_of(item["status"], f"offers[{index}].status", OFFER_STATUSES)
            times_in(item, f"{key}[{index}]")
    if "slas" in expect:
        slas = expect["slas"]
        if not isinstance(slas, Mapping):
            raise _Problem("expect", "expect.slas: a mapping of SLA name to status")
        for sla, value in slas.items():
            name_of(sla, f"slas.{sla}", [s.name for s in workflow.slas])
            if isinstance(value, Mapping):
                for field in value:
                    if field not in SLA_KEYS:
                        raise _Problem(
                            "expect",
                            f"expect.slas.{sla}: unknown key {field!r}{_hint(field, SLA_KEYS)}",
                        )
                if "status" in value:
                    one_of(value["status"], f"slas.{sla}.status", SLA_STATUSES)
                times_in(value, f"slas.{sla}")
            else:
                one_of(value, f"slas.{sla}", SLA_STATUSES)
    if "measures" in expect:
        measures = expect["measures"]
        if not isinstance(measures, Mapping):
            raise _Problem("expect", "expect.measures: a mapping of measure name to values")
        for measure, values in measures.items():
            name_of(measure, f"measures.{measure}", [m.name for m in workflow.measures])
            if not isinstance(values, list):
                raise _Problem(
                    "expect",
                    f"expect.measures.{measure}: a list of the values recorded, like [5]",
                )
    return expect


_NUMBER = re.compile(r"[-+]?[0-9]+(\.[0-9]+)?")


def _text_value(text: str) -> Any:
    """What a text means, for comparing values: money, percent, duration, time, number."""
    for parse in (Money.parse, Percent.parse, Duration.parse):
        try:
            value = parse(text)
        except ValueError:
            continue
        return value.timedelta if isinstance(value, Duration) else value
    if "T" in text:
        try:
            return parse_time(text)
        except ValueError:
            pass
    if _NUMBER.fullmatch(text.strip()):
        return Decimal(text.strip())
    return text


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float):
        try:
            return Decimal(str(value))
        except InvalidOperation:  # pragma: no cover - nan/inf never reach a record
            return None
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return Decimal(value.strip())
    return None


def same_value(expected: Any, actual: Any) -> bool:
    """Does the actual (JSON record) value satisfy the expected (YAML) one?

    Money, percents, durations and times compare as values ("5000 USD" == "5000.00 USD",
    "1d" == "24h", "2026-03-02T09:15:00+08:00" == "2026-03-02T01:15:00Z"), numbers
    exactly, a mapping by the keys it gives, a list item by item.
    """
    expected = _plain(expected)
    if expected is None:
        return actual is None
    if isinstance(expected, bool):
        return actual is expected
    if isinstance(expected, Decimal | int | float):
        number = _number(actual)
        return number is not None and number == _number(expected)
    if isinstance(expected, str):
        if actual == expected:
            return True
        if actual is None or isinstance(actual, bool):
            # `null`, `true`, `false` written plain (a YAML loader that does not mark
            # plain scalars gives their text).
            core = core_value(expected)
            return core is actual if isinstance(core, bool) or core is None else False
        if isinstance(actual, str):
            left, right = _text_value(expected), _text_value(actual)
            return type(left) is type(right) and not isinstance(left, str) and left == right
        number = _number(actual)
        return number is not None and number == _number(expected)
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and same_value(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list | tuple)
            and len(actual) == len(expected)
            and all(same_value(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return bool(expected == actual)


def _show(value: Any) -> str:
    """A value as one line of YAML flow style, for messages."""
    value = _plain(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return (
            format(value.normalize(), "f")
            if value != value.to_integral_value()
            else str(int(value))
        )
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


class _Timeline:
    """When an instance entered each step of its path, to say which step it was in."""

    def __init__(self, record: Mapping[str, Any], transitions: Sequence[Transition]) -> None:
        self.path: list[str] = list(record.get("path") or [])
        self.entered: dict[int, Transition] = {t.index: t for t in transitions}

    @property
    def last(self) -> str | None:
        return self.path[-1] if self.path else None

    def step_at(self, when: Any) -> str | None:
        """The step the instance was in at `when` (a record time), entries included."""
        try:
            moment = parse_time(str(when))
        except ValueError:
            return self.last
        found = None
        for index, name in enumerate(self.path):
            item = self.entered.get(index)
            if item is None or item.at <= moment:
                found = name
            else:
                break
        return found

    def left_for(self, index: int) -> str:
        """How the run entered path[index]: `on resolved -> compensate at TIME`."""
        item = self.entered.get(index)
        if item is None:
            return ""
        how = item.edge.how if item.edge is not None else item.cause
        return f" ({how}, at {format_time(item.at)})"


def _pick_record(
    records: Sequence[Mapping[str, Any]], number: int | None
) -> Mapping[str, Any] | None:
    if not records:
        return None
    wanted = number or 1
    for record in records:
        if record.get("instance") == wanted:
            return record
    if number is None:
        return records[0]  # not triggered, or rejected
    return None


def _compare(
    expect: Mapping[str, Any],
    records: Sequence[Mapping[str, Any]],
    transitions: Sequence[Transition],
    workflow: Workflow,
) -> tuple[list[Failure], Mapping[str, Any] | None]:
    number = expect.get("instance")
    record = _pick_record(records, number)
    if record is None:
        started = [r for r in records if r.get("instance") is not None]
        count = len(started)
        message = f"expected instance {number}, the case started {count} instance" + "s" * (
            count != 1
        )
        step = None  # where they parted: the last instance's last step (none if none began)
        if started:
            last = started[-1]
            step = _outcome_step(last, _Timeline(last, ()))
            if last.get("status") == "ended":
                message += f"; instance {last.get('instance')} ended in {last.get('outcome')}"
                message += f" from step {step}"
            else:
                message += f"; instance {last.get('instance')} is {last.get('status')}"
                message += f" in step {step}"
        return [Failure("instance", message, expected=number, actual=count, step=step)], None
    failures: list[Failure] = []
    mine = [t for t in transitions if t.instance == record.get("instance")]
    line = _Timeline(record, mine)
    status = record.get("status")
    if status == "error" and expect.get("status") != "error":
        key = "run" if record.get("instance") is not None else "events"
        failures.append(
            Failure(key, f"the run stopped with an error: {record.get('error')}", step=line.last)
        )
    for key in EXPECT_KEYS:
        if key not in expect or key == "instance":
            continue
        check = _CHECKS[key]
        failures.extend(check(expect[key], record, line))
    return failures, record


def _check_scalar(key: str) -> Any:
    def check(expected: Any, record: Mapping[str, Any], line: _Timeline) -> list[Failure]:
        actual = record.get(key)
        if same_value(expected, actual):
            return []
        message = f"expected {_show(expected)}, actual {_show(actual)}"
        step = line.last
        if key == "outcome":
            step = _outcome_step(record, line)
            if record.get("status") == "ended":
                message += f": the run ended in {actual} from step {step}" + line.left_for(
                    len(line.path) - 1
                )
            elif record.get("status") == "waiting":
                message += f": the run is still waiting in step {step}"
            else:
                message += f" (status {record.get('status')})"
        elif key == "status" and step is not None:
            message += f" (last step {step})"
        return [Failure(key, message, _show_json(expected), actual, step)]

    return check


def _outcome_step(record: Mapping[str, Any], line: _Timeline) -> str | None:
    path = line.path
    if record.get("status") == "ended" and len(path) >= 2:
        return path[-2]
    return line.last


def _check_path(expected: Any, record: Mapping[str, Any], line: _Timeline) -> list[Failure]:
    actual = line.path
    wanted = [str(x) for x in expected]
    if wanted == actual:
        return []
    index = next(
        (i for i, (e, a) in enumerate(zip(wanted, actual, strict=False)) if e != a),
        min(len(wanted), len(actual)),
    )
    before = actual[index - 1] if index > 0 else None
    if index < len(wanted) and index < len(actual):
        if before is None:
            message = f"the run started in {actual[0]}, expected {wanted[0]}"
        else:
            message = (
                f"the run parted from the expected path after {before}: at path[{index}] "
                f"expected {wanted[index]}, the run went to {actual[index]}" + line.left_for(index)
            )
    elif index == len(actual):
        if not actual:
            message = f"the run entered no step (status {record.get('status')})"
        else:
            message = (
                f"the run stopped in {before} (status {record.get('status')}) where the "
                f"expected path goes on to {wanted[index]}"
            )
    else:
        message = (
            f"the expected path ends with {wanted[-1] if wanted else '(nothing)'}, the run "
            f"went on from {before} to {actual[index]}" + line.left_for(index)
        )
    return [Failure("path", message, wanted, actual, before)]


def _check_offers(expected: Any, record: Mapping[str, Any], line: _Timeline) -> list[Failure]:
    actual: list[Mapping[str, Any]] = list(record.get("offers") or [])
    keys = [k for k in OFFER_KEYS if any(k in item for item in expected)]
    shown = [{k: o.get(k) for k in keys} for o in actual]
    failures = []
    for index, item in enumerate(expected):
        if index >= len(actual):
            failures.append(
                Failure(
                    "offers",
                    f"expected offer #{index + 1} {_show(item)}, the run made "
                    + (f"only {len(actual)}" if actual else "no offer"),
                    _show_json(expected),
                    shown,
                    line.last,
                )
            )
            break
        offer = actual[index]
        wrong = [k for k, v in item.items() if not same_value(v, offer.get(k))]
        if wrong:
            detail = ", ".join(
                f"{k}: expected {_show(item[k])}, actual {_show(offer.get(k))}" for k in wrong
            )
            failures.append(
                Failure(
                    "offers",
                    f"offer #{index + 1} (in step {offer.get('step')}): {detail}",
                    _show_json(expected),
                    shown,
                    offer.get("step"),
                )
            )
    if len(actual) > len(expected):
        extra = actual[len(expected)]
        failures.append(
            Failure(
                "offers",
                f"expected {len(expected)} offer" + "s" * (len(expected) != 1) + ", the run "
                f"made {len(actual)}: the next one in step {extra.get('step')}",
                _show_json(expected),
                shown,
                extra.get("step"),
            )
        )
    return failures


def _check_actions(expected: Any, record: Mapping[str, Any], line: _Timeline) -> list[Failure]:
    actual: list[Mapping[str, Any]] = list(record.get("actions") or [])
    used: set[int] = set()
    failures = []
    for item in expected:
        found = next(
            (i for i, a in enumerate(actual) if i not in used and same_value(item, a)), None
        )
        if found is not None:
            used.add(found)
            continue
        alike = [a for a in actual if a.get("name") == str(item.get("name"))]
        if alike:
            step = alike[0].get("step")
            message = (
                f"no action matches {_show(item)}; the run emitted {item.get('name')} "
                f"{len(alike)} time"
                + "s" * (len(alike) != 1)
                + ": "
                + "; ".join(
                    f"{_show(a.get('args'))} in step {a.get('step')} at {a.get('at')}"
                    for a in alike
                )
            )
            shown: Any = alike
        else:
            step = line.last
            names = list(dict.fromkeys(str(a.get("name")) for a in actual))
            message = f"no action {item.get('name')} was emitted; the run emitted: " + (
                ", ".join(names) or "nothing"
            )
            shown = names
        failures.append(Failure("actions_include", message, _show_json(item), shown, step))
    return failures


def _check_slas(expected: Any, record: Mapping[str, Any], line: _Timeline) -> list[Failure]:
    slas: Mapping[str, Any] = record.get("slas") or {}
    failures = []
    for name, want in expected.items():
        state = slas.get(name) or {}
        want_map = want if isinstance(want, Mapping) else {"status": want}
        if same_value(want_map, state):
            continue
        actual_status = state.get("status")
        step = line.last
        if actual_status == "breached":
            breach = next(
                (
                    a
                    for a in record.get("actions") or []
                    if a.get("name") == "sla_breached" and (a.get("args") or {}).get("sla") == name
                ),
                None,
            )
            step = breach.get("step") if breach else line.step_at(state.get("due"))
        elif actual_status == "met":
            step = line.step_at(state.get("completed_at"))
        wrong = [k for k, v in want_map.items() if not same_value(v, state.get(k))]
        detail = ", ".join(
            f"{k}: expected {_show(want_map[k])}, actual {_show(state.get(k))}" for k in wrong
        )
        extra = f" (due {state.get('due')})" if "due" not in wrong and state.get("due") else ""
        where = f"; in step {step}" if step else ""
        failures.append(
            Failure(
                "slas",
                f"sla {name}: {detail}{extra}{where}",
                {name: _show_json(want)},
                {
                    name: {k: state.get(k) for k in want_map}
                    if isinstance(want, Mapping)
                    else actual_status
                },
                step,
            )
        )
    return failures


def _check_measures(expected: Any, record: Mapping[str, Any], line: _Timeline) -> list[Failure]:
    measures: Mapping[str, Any] = record.get("measures") or {}
    failures = []
    for name, want in expected.items():
        values = measures.get(name)
        want_list = want if isinstance(want, list) else [want]
        if same_value(want_list, values):
            continue
        failures.append(
            Failure(
                "measures",
                f"measure {name}: expected {_show(want_list)}, actual {_show(values)}",
                {name: _show_json(want_list)},
                {name: values},
                line.last,
            )
        )
    return failures


_CHECKS: dict[str, Any] = {
    "status": _check_scalar("status"),
    "trigger": _check_scalar("trigger"),
    "outcome": _check_scalar("outcome"),
    "path": _check_path,
    "offers": _check_offers,
    "actions_include": _check_actions,
    "slas": _check_slas,
    "measures": _check_measures,
}


# ---- transitions taken -------------------------------------------------------------------


def derive_transitions(
    workflow: Workflow,
    state: CaseState,
    history: Sequence[Mapping[str, Any]],
    snapshots: Sequence[tuple[int, dict[int, int]]],
) -> list[Transition]:
    """Which edge led to each step the case's instances entered (see the module docstring).

    `snapshots` are (history length, {instance: path length}) after each input applied,
    in order; `state` is the case's final state and `history` its `Engine.history` (which
    only grows, so a snapshot's length marks the entries of that input).
    """
    flow = state.flows.get(workflow.name)
    if flow is None:
        return []
    graph = workflow.graph
    out_edges: dict[str, list[Edge]] = {}
    for u, v, d in all_edges_in_order(graph):
        out_edges.setdefault(u, []).append(_edge(u, v, d))
    seen_history = 0
    lengths: dict[int, int] = {}
    found: list[Transition] = []
    for history_length, paths in snapshots:
        new = history[seen_history:history_length]
        seen_history = history_length
        cause = next((h for h in new if h.get("kind") != "trace"), None)
        for number, length in sorted(paths.items()):
            before = lengths.get(number, 0)
            lengths[number] = length
            if length <= before or number > len(flow.instances):
                continue
            inst = flow.instances[number - 1]
            for index in range(before, length):
                target = inst.path[index]
                at = _entry_time(cause, inst.started_at)
                if index == 0:
                    found.append(Transition(number, 0, None, target, at, "start", None))
                    continue
                source = inst.path[index - 1]
                first = index == before
                kinds, event, sla, label = _cause_of(cause, inst, source, at, first)
                edge, ambiguous = _match_edge(out_edges.get(source, []), target, kinds, event, sla)
                found.append(Transition(number, index, source, target, at, label, edge, ambiguous))
    return found


def _entry_time(cause: Mapping[str, Any] | None, fallback: dt.datetime) -> dt.datetime:
    at = cause.get("at") if cause is not None else None
    return at if isinstance(at, dt.datetime) else fallback


def _cause_of(
    cause: Mapping[str, Any] | None, inst: Any, source: str, at: dt.datetime, first: bool
) -> tuple[frozenset[str] | None, str | None, str | None, str]:
    """(edge kinds allowed, event, SLA, label) for a step entered; kinds None: no edge."""
    immediate = (frozenset({"immediate"}), None, None, "immediate")
    if not first:
        return immediate
    if cause is None:
        return frozenset({"immediate", "event", "timeout", "global", "breach"}), None, None, "?"
    kind = cause.get("kind")
    if kind == "event":
        event = str(cause.get("type"))
        if event == "approval" and any(
            o.step == source
            and o.sent is not None
            and o.decided_at == at
            and o.status in ("granted", "capped", "refused", "denied")
            for o in inst.offers
        ):
            return immediate
        if event == "case_updated":
            return frozenset({"immediate", "event", "global"}), event, None, "on case_updated"
        return frozenset({"event", "global"}), event, None, f"on {event}"
    if kind == "submission":
        return frozenset({"immediate", "event", "global"}), "case_updated", None, "re-submission"
    if kind == "timer":
        timer = cause.get("timer")
        if timer == "due":
            return frozenset({"timeout"}), None, None, "on timeout"
        if timer == "sla_due":
            name = str(cause.get("name"))
            return frozenset({"breach"}), None, name, f"breach of {name}"
        if timer == "wait":
            return immediate
    if kind == "move":
        return None, None, None, "moved by an operator"
    return frozenset({"immediate", "event", "timeout", "global", "breach"}), None, None, "?"


def _match_edge(
    edges: Sequence[Edge],
    target: str,
    kinds: frozenset[str] | None,
    event: str | None,
    sla: str | None,
) -> tuple[Edge | None, bool]:
    if kinds is None:
        return None, False
    fits = [
        e
        for e in edges
        if e.target == target
        and e.kind in kinds
        and (event is None or e.kind not in ("event", "global") or e.event == event)
        and (sla is None or e.kind != "breach" or e.sla == sla)
    ]
    if not fits:  # the cause did not tell: fall back to (source, target)
        fits = [e for e in edges if e.target == target]
        return (fits[0], True) if fits else (None, False)
    return fits[0], len(fits) > 1


# ---- edges no run can take -----------------------------------------------------------------


def never_takeable(workflow: Workflow) -> dict[Edge, str]:
    """Edges of the graph that no run can take, with the reason.

    - the source step never rests (no `wait`, no offer that may wait for approval, an
      unconditional `->`): no event, timer or breach can reach it there;
    - a transition after an unconditional `->`, a handler after an unguarded handler for
      the same event, a global handler for an event the step handles unguarded;
    - a breach edge where its SLA cannot be pending: every path from where the SLA starts
      to the step passes its target first (the graph adds breach edges everywhere).
    """
    graph = workflow.graph
    pending = {sla.name: _pending_steps(workflow, sla.name) for sla in workflow.slas}
    never: dict[Edge, str] = {}
    by_source: dict[str, list[Edge]] = {}
    for u, v, d in all_edges_in_order(graph):
        by_source.setdefault(u, []).append(_edge(u, v, d))
    for source, edges in by_source.items():
        spec = workflow.steps.get(source)
        if spec is None:
            continue
        rests = _rests(workflow, source)
        unguarded_immediate = False
        unguarded_events: set[str] = set()
        unguarded_globals: set[str] = set()
        for edge in edges:
            reason = None
            if edge.kind == "immediate":
                if unguarded_immediate:
                    reason = "shadowed by an earlier unconditional transition"
                unguarded_immediate = unguarded_immediate or edge.guard is None
            elif not rests:
                reason = f"{source} never rests (it always moves on at once)"
            elif edge.kind == "event":
                if edge.event in unguarded_events:
                    reason = f"shadowed by an earlier unguarded `on {edge.event}`"
                elif edge.guard is None and edge.event is not None:
                    unguarded_events.add(edge.event)
            elif edge.kind == "global":
                if edge.event in unguarded_events:
                    reason = f"{source} handles {edge.event} itself, unguarded"
                elif edge.event in unguarded_globals:
                    reason = f"shadowed by an earlier unguarded global `on {edge.event}`"
                elif edge.guard is None and edge.event is not None:
                    unguarded_globals.add(edge.event)
            elif (
                edge.kind == "breach"
                and edge.sla is not None
                and source not in pending.get(edge.sla, set())
            ):
                reason = f"sla {edge.sla} cannot be pending in {source}"
            if reason is not None:
                never[edge] = reason
    return never


def _rests(workflow: Workflow, name: str) -> bool:
    spec = workflow.steps[name]
    if spec.wait is not None:
        return True
    for item in spec.work:
        if isinstance(item, OfferItem) and any(
            a.kind in ("compensation", item.kind) for a in workflow.approvals
        ):
            return True
    return not any(imm.guard is None for imm in spec.immediates)


def _pending_steps(workflow: Workflow, sla_name: str) -> set[str]:
    """Steps where the SLA may be pending: reachable from where it starts without
    entering its target (once met it stays met; once breached it stays breached)."""
    sla = next(s for s in workflow.slas if s.name == sla_name)
    start = sla.start_step or workflow.start

    def is_target(node: str) -> bool:
        return node == sla.until or (sla.until_any_outcome and node in workflow.outcomes)

    if is_target(start) or start not in workflow.steps:
        return set()
    seen = {start}
    todo = [start]
    graph = workflow.graph
    while todo:
        node = todo.pop()
        for _, target, data in graph.out_edges(node, data=True):
            if data["kind"] == "breach" and data["sla"] == sla_name:
                continue
            if target in seen or is_target(target) or target not in workflow.steps:
                continue
            seen.add(target)
            todo.append(target)
    return seen


# ---- rendering -----------------------------------------------------------------------------


def render_json(run: TestRun) -> str:
    return json.dumps(run.to_json(), ensure_ascii=False, indent=2) + "\n"


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


_MARKS = {"pass": ("PASS", "32"), "fail": ("FAIL", "31"), "error": ("ERROR", "1;31")}


def failure_lines(failure: Failure) -> list[str]:
    """A failure as text lines: `key: message`, then expected/actual/step when known."""
    head, *rest = failure.message.split("\n")
    lines = [f"{failure.key}: {head}", *(f"  {line}".rstrip() for line in rest)]
    if failure.key in EXPECT_KEYS or failure.key == "instance":
        lines.append(f"  expected: {_show(failure.expected)}")
        lines.append(f"  actual:   {_show(failure.actual)}")
        if failure.step is not None:
            lines.append(f"  step:     {failure.step}")
    elif failure.field is not None:
        lines.append(f"  field:    {failure.field}")
    return lines


def render_text(run: TestRun, color: bool = False) -> str:
    out: list[str] = []
    previous: tuple[str, tuple[Failure, ...]] | None = None
    for result in run.results:
        mark, code = _MARKS[result.status]
        name = result.name if result.name is not None else "(scenario file)"
        out.append(f"{_paint(mark, code, color)} {result.file}::{name}")
        if result.status == "error" and previous == (result.file, result.failures):
            # every scenario of a file whose workflow is broken: say it once
            out.append(f"    {result.failures[0].key}: as above")
            continue
        previous = (result.file, result.failures)
        for failure in result.failures:
            out.extend(("    " + line).rstrip() for line in failure_lines(failure))
    for problem in run.problems:
        out.append(f"{_paint('ERROR', '1;31', color)} {problem.path}: {problem.problem}")
    summary = run.summary
    scenarios = summary["scenarios"]
    files = summary["files"]
    out.append("")
    out.append(
        f"{scenarios} scenario{'s' * (scenarios != 1)} in {files} file{'s' * (files != 1)}: "
        f"{summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['errors']} error{'s' * (summary['errors'] != 1)}"
        + (f", {len(run.problems)} unreadable" if run.problems else "")
    )
    if run.coverage:
        out.append("")
        out.append("Coverage")
        for cov in run.coverage.values():
            out.extend(coverage_lines(cov))
    return "\n".join(out) + "\n"


def coverage_lines(cov: WorkflowCoverage) -> list[str]:
    steps = len(cov.steps)
    covered_steps = steps - len(cov.missed_steps)
    edges = len(cov.edges)
    covered = edges - len(cov.missed_edges)
    takeable_covered = sum(1 for e in cov.covered_edges if e not in cov.never)
    lines = [f"  {cov.name} ({cov.path})"]
    lines.append(f"    steps:       {covered_steps} of {steps} ({_percent(covered_steps, steps)}%)")
    text = f"    transitions: {covered} of {edges} ({_percent(covered, edges)}%)"
    if cov.never:
        text += (
            f"; {takeable_covered} of the {cov.takeable} that can be taken "
            f"({_percent(takeable_covered, cov.takeable)}%)"
        )
    lines.append(text)
    if cov.missed_steps:
        lines.append("    steps no scenario entered: " + ", ".join(cov.missed_steps))
    missed = [e for e in cov.missed_edges if e not in cov.never]
    if missed:
        lines.append("    transitions no scenario took:")
        lines.extend(f"      {e.label}" for e in missed)
    never = [e for e in cov.missed_edges if e in cov.never]
    if never:
        lines.append("    transitions no run can take:")
        lines.extend(f"      {e.label}: {cov.never[e]}" for e in never)
    if cov.ambiguous:
        lines.append("    credited by source and target only (several edges fit):")
        lines.extend(f"      {e.label}" for e in cov.edges if e in cov.ambiguous)
    return lines
