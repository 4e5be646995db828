"""The `retainflow` command line: arguments in, library calls, rendered results out.

Thin by design: every command parses its options, calls the library and renders. Results
go to stdout, errors to stderr; exit codes follow tools.md.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from retainflow import __version__, nodes
from retainflow.analysis import Analysis
from retainflow.diagnostics import (
    CATALOG_ROWS,
    FileDiagnostics,
    Severity,
    render_github,
    render_json,
    render_sarif,
    render_text,
)
from retainflow.lint import ConfigError, collect_files, lint_paths, parse_codes

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

_out_option = click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the result to this file instead of stdout.",
)


def _err(message: str) -> None:
    click.echo(f"retainflow: {message}", err=True)


def _checked_workflow(path: str, verb: str) -> tuple[Analysis, nodes.Workflow]:
    """Analyze a workflow file for a command that needs it free of errors: an unreadable
    file exits 2, a file with errors prints them (as `lint` does) and exits 1."""
    from retainflow.analysis import analyze_path

    try:
        analysis = analyze_path(path)
    except UnicodeDecodeError:
        _err(f"{path}: is not UTF-8 text")
        sys.exit(EXIT_USAGE)
    except OSError as error:
        _err(f"{path}: cannot be read ({error.strerror or error})")
        sys.exit(EXIT_USAGE)
    errors = len(analysis.errors)
    if errors or analysis.workflow is None:
        click.echo(render_text(analysis.report, color=sys.stderr.isatty()), err=True, nl=False)
        _err(f"{analysis.source.path}: {verb}: {errors} compile error{'s' * (errors != 1)}")
        sys.exit(EXIT_PROBLEMS)
    return analysis, analysis.workflow


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="retainflow")
def main() -> None:
    """Client retention playbooks as code: lint, run and test .rflow workflows."""


# ---- lint -------------------------------------------------------------------------------


@main.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "sarif", "github"]),
    default="text",
    show_default=True,
    help="How to print the diagnostics.",
)
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option("--select", "select", default=None, help="Only these codes (e.g. RF1,RF205).")
@click.option("--ignore", "ignore", default=None, help="Leave out these codes (e.g. RF105).")
@click.option("--explain", "explain", metavar="CODE", default=None, help="Explain a check.")
@_out_option
def lint(
    paths: tuple[str, ...],
    output_format: str,
    strict: bool,
    select: str | None,
    ignore: str | None,
    explain: str | None,
    out: str | None,
) -> None:
    """Check .rflow files (directories are searched recursively; default: .)."""
    if explain is not None:
        _explain(explain)
        return
    files, missing = collect_files(paths)
    exit_code = EXIT_OK
    for raw in missing:
        _err(f"{raw}: no such file or directory")
        exit_code = EXIT_USAGE
    try:
        with _progress(len(files), "linting") as advance:
            run = lint_paths(files, parse_codes(select), parse_codes(ignore), advance)
    except ConfigError as error:
        _err(str(error))
        sys.exit(EXIT_USAGE)
    for failure in run.failures:
        _err(f"{failure.path}: {failure.problem}")
        exit_code = EXIT_USAGE
    reports = list(run.reports)
    if output_format == "json":
        rendered = render_json(reports, run.files)
    elif output_format == "sarif":
        rendered = render_sarif(reports, __version__, _sarif_help())
    elif output_format == "github":
        rendered = render_github(reports, run.files)
    else:
        color = out is None and sys.stdout.isatty()
        rendered = "\n".join(text for r in reports if (text := render_text(r, color=color)))
    _emit(rendered, out)
    if output_format == "text":
        _err_plain(_summary(reports, run.files))
    if exit_code == EXIT_OK and run.failed(strict):
        exit_code = EXIT_PROBLEMS
    sys.exit(exit_code)


def _explain(code: str) -> None:
    from retainflow.explain import explain_text

    try:
        click.echo(explain_text(code))
    except KeyError as error:
        _err(str(error.args[0]) if error.args else f"unknown check code {code}")
        sys.exit(EXIT_USAGE)


def _sarif_help() -> dict[str, tuple[str, str]]:
    try:
        from retainflow.explain import sarif_help
    except ImportError:  # pragma: no cover - explanations ship with the package
        return {}
    return {check.code: sarif_help(check.code) for check in CATALOG_ROWS}


class _Output:
    """A command's result lines, written at its end to --out or stdout (`_emit`)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        self.lines.append(line)

    def emit(self, out: str | None) -> None:
        _emit("".join(line + "\n" for line in self.lines), out)


def _emit(data: str | bytes, out: str | None) -> None:
    """Results to --out or stdout; an unwritable --out is a usage problem (exit 2)."""
    if out is None:
        if data:
            click.echo(data, nl=isinstance(data, str) and not data.endswith("\n"))
        return
    try:
        if isinstance(data, bytes):
            Path(out).write_bytes(data)
        else:
            Path(out).write_text(data, encoding="utf-8")
    except OSError as error:
        _err(f"{out}: cannot be written ({error.strerror or error})")
        sys.exit(EXIT_USAGE)


def _err_plain(message: str) -> None:
    click.echo(message, err=True)


@contextlib.contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr for long work, only when stderr is a terminal."""
    if total < 200 or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def _summary(reports: list[FileDiagnostics], files: int) -> str:
    errors = sum(
        1 for r in reports for d in r.diagnostics if d.effective_severity is Severity.ERROR
    )
    warnings = sum(
        1 for r in reports for d in r.diagnostics if d.effective_severity is Severity.WARNING
    )
    noun = "file" if files == 1 else "files"
    if not errors and not warnings:
        return f"{files} {noun} checked: no problems"
    return (
        f"{files} {noun} checked: {errors} error{'s' * (errors != 1)}, "
        f"{warnings} warning{'s' * (warnings != 1)}"
    )


# ---- graph ------------------------------------------------------------------------------

# The renderers live in retainflow.render_graph (FORMATS); svg and png join them later.
GRAPH_FORMATS = ("mermaid", "dot", "json", "svg", "png")


@main.command()
@click.argument("workflow")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(GRAPH_FORMATS),
    default="mermaid",
    show_default=True,
    help="mermaid (GitHub Markdown), dot (Graphviz), json (networkx node-link data), "
    "svg or png (drawn by Graphviz's dot).",
)
@_out_option
def graph(workflow: str, output_format: str, out: str | None) -> None:
    """Print the state graph of WORKFLOW: steps, outcomes and every transition."""
    from retainflow.graph import build_graph
    from retainflow.render_graph import (
        IMAGE_FORMATS,
        GraphvizFailed,
        GraphvizMissing,
        render,
        to_image,
    )

    analysis, checked = _checked_workflow(workflow, "no graph")
    state_graph = build_graph(checked, analysis.source)
    if output_format in IMAGE_FORMATS:
        try:
            image = to_image(state_graph, output_format, analysis.workflow, analysis.source)
        except (GraphvizMissing, GraphvizFailed) as error:
            _err(str(error))
            sys.exit(EXIT_USAGE)
        if out is None and output_format == "png" and sys.stdout.isatty():
            _err("a png is binary: give --out FILE (or redirect stdout)")
            sys.exit(EXIT_USAGE)
        _emit(image, out)
        return
    _emit(render(state_graph, output_format, analysis.workflow, analysis.source), out)


# ---- run --------------------------------------------------------------------------------

# Young collections during a batch run: every this many new objects instead of CPython's
# 700 (benchmarks/README.md, `bench_run.py`).
_BATCH_YOUNG_THRESHOLD = 10_000


@contextlib.contextmanager
def _batch_collector() -> Iterator[None]:
    """The garbage collector tuned for one long batch, which this command's process runs
    (the library never touches interpreter settings): what is loaded already (modules, the
    workflow, the case file) is set aside from the collector's passes (`gc.freeze`), and
    young collections come every 10,000 new objects instead of 700, so that the objects of
    a case that finishes within a few hundred inputs die young instead of being promoted
    and traversed by every full collection. Both restored afterwards."""
    import gc

    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(_BATCH_YOUNG_THRESHOLD, previous[1], previous[2])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


RUN_FORMATS = ("jsonl", "json", "text")


@main.command()
@click.argument("workflow")
@click.argument("cases")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(RUN_FORMATS),
    default="jsonl",
    show_default=True,
    help="jsonl (one record per instance), json ({results, summary}) or text (a table).",
)
@click.option(
    "--until",
    "until",
    default=None,
    metavar="TIME",
    help="Stop at this time (ISO 8601 with an offset); default: 365 days after the "
    "latest time in CASES.",
)
@click.option(
    "--ledger",
    "ledger",
    type=click.Path(dir_okay=False),
    default=None,
    help="Earlier grants (YAML/JSON: client, kind, amount, at) that count against limits.",
)
@_out_option
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Keep instances, timers and ledger in this SQLite store (created if missing); a "
    "later run or `advance` continues them. --until then defaults to the latest time in "
    "CASES.",
)
def run(
    workflow: str,
    cases: str,
    output_format: str,
    until: str | None,
    ledger: str | None,
    out: str | None,
    store_path: str | None = None,
) -> None:
    """Run the CASES file (YAML, JSON or JSON Lines) through WORKFLOW on one timeline."""
    import json as _json

    from retainflow.caseio import CaseFileError, load_cases, load_ledger
    from retainflow.compile import compile_workflow
    from retainflow.results import render_text as render_results
    from retainflow.results import summary
    from retainflow.runtime.batch import run_entries
    from retainflow.values import parse_time

    analysis, checked = _checked_workflow(workflow, "not run")
    compiled = compile_workflow(checked, analysis.source)
    horizon = None
    if until is not None:
        try:
            horizon = parse_time(until)
        except ValueError as error:
            _err(f"--until: {error}")
            sys.exit(EXIT_USAGE)
    try:
        entries = load_cases(cases, [compiled])
        grants = load_ledger(ledger) if ledger is not None else []
    except CaseFileError as error:
        _err(str(error))
        sys.exit(EXIT_USAGE)
    if store_path is not None:
        import sqlite3

        from retainflow.runtime.batch import DEFAULT_HORIZON, default_until
        from retainflow.stores.sqlite import (
            SQLiteStore,
            StoreError,
            VersionConflict,
            database_error,
        )

        if horizon is None:  # stop at the data's "now": instances wait in the store
            latest = default_until(entries)
            horizon = None if latest is None else latest - DEFAULT_HORIZON
        try:
            store = SQLiteStore(store_path)
            with _progress(len(entries), "running cases") as update, _batch_collector():
                output = run_entries(
                    compiled, entries, ledger=grants, until=horizon, store=store, progress=update
                )
        except (StoreError, VersionConflict) as error:
            _err(str(error))
            sys.exit(EXIT_USAGE)
        except sqlite3.DatabaseError as error:
            _err(str(database_error(store_path, error)))
            sys.exit(EXIT_USAGE)
    else:
        with _progress(len(entries), "running cases") as update, _batch_collector():
            output = run_entries(
                compiled, entries, ledger=grants, until=horizon, progress=update, release=True
            )
    if output_format == "jsonl":
        text = "".join(line + "\n" for line in output.lines())
    elif output_format == "json":
        records = output.records
        document = {"results": records, "summary": summary(records)}
        text = _json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    else:
        records = output.records
        text = render_results(records, summary(records))
    _emit(text, out)
    sys.exit(EXIT_PROBLEMS if output.failed else EXIT_OK)


# ---- fmt --------------------------------------------------------------------------------


@main.command("fmt")
@click.argument("paths", nargs=-1)
@click.option(
    "--check", is_flag=True, help="Write nothing; list the files that would change (exit 1)."
)
@click.option(
    "--diff", "show_diff", is_flag=True, help="Write nothing; print a unified diff of the changes."
)
def fmt(paths: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Rewrite .rflow files in canonical form (directories recursively; default: .).

    Exit 0; 1 when --check finds a file to change or a file does not parse (it is left
    as is); 2 for a missing path or an unreadable or non-UTF-8 file.
    """
    from retainflow.analysis import display_path
    from retainflow.formatter import FormatError, format_text

    files, missing = collect_files(paths)
    exit_code = EXIT_OK
    for raw in missing:
        _err(f"{raw}: no such file or directory")
        exit_code = EXIT_USAGE
    changed = unchanged = broken = 0
    for path in files:
        shown = display_path(path)
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            _err(f"{shown}: is not UTF-8 text")
            exit_code = EXIT_USAGE
            continue
        except OSError as error:
            _err(f"{shown}: cannot be read ({error.strerror or error})")
            exit_code = EXIT_USAGE
            continue
        try:
            formatted = format_text(text, shown)
        except FormatError as error:
            click.echo(error.render(color=sys.stderr.isatty()), err=True, nl=False)
            broken += 1
            exit_code = max(exit_code, EXIT_PROBLEMS)
            continue
        if formatted == text:
            unchanged += 1
            continue
        changed += 1
        if show_diff:
            click.echo(_fmt_diff(text, formatted, shown), nl=False)
        if check:
            exit_code = max(exit_code, EXIT_PROBLEMS)
            if show_diff:
                _err_plain(f"would reformat {shown}")
            else:
                click.echo(f"would reformat {shown}")
        elif not show_diff:
            try:
                path.write_bytes(formatted.encode("utf-8"))
            except OSError as error:
                _err(f"{shown}: cannot be written ({error.strerror or error})")
                exit_code = EXIT_USAGE
                continue
            _err_plain(f"reformatted {shown}")
    _err_plain(_fmt_summary(changed, unchanged, broken, dry=check or show_diff))
    sys.exit(exit_code)


def _fmt_diff(before: str, after: str, path: str) -> str:
    import difflib

    lines: list[str] = []
    for line in difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), path, path
    ):
        lines.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(lines)


def _fmt_summary(changed: int, unchanged: int, broken: int, dry: bool) -> str:
    def files(count: int) -> str:
        return f"{count} file{'s' * (count != 1)}"

    if dry:
        parts = [f"{files(changed)} would be reformatted", f"{files(unchanged)} already formatted"]
    else:
        parts = [f"{files(changed)} reformatted", f"{files(unchanged)} left unchanged"]
    if broken:
        parts.append(f"{files(broken)} not parsed (left as is)")
    return ", ".join(parts)


# ---- status and advance: a store ----------------------------------------------------------

STORE_FORMATS = ("text", "json")


def _store_command(command: Callable[..., None]) -> Callable[..., None]:
    """A command on a store (`--store FILE`): a store that turns out damaged, unreadable
    or read-only halfway is a clear message and exit 2, never a traceback."""

    @functools.wraps(command)
    def run_it(*args: Any, **kwargs: Any) -> None:
        import sqlite3

        from retainflow.stores.sqlite import StoreError, database_error

        try:
            command(*args, **kwargs)
        except StoreError as error:
            _err(str(error))
            sys.exit(EXIT_USAGE)
        except sqlite3.DatabaseError as error:
            _err(str(database_error(kwargs.get("store_path") or "the store", error)))
            sys.exit(EXIT_USAGE)

    return run_it


def _open_store(path: str) -> Any:
    """The SQLite store at `path` (it must exist), or exit 2."""
    from retainflow.stores.sqlite import SQLiteStore, StoreError

    try:
        return SQLiteStore(path, create=False)
    except StoreError as error:
        _err(str(error))
        sys.exit(EXIT_USAGE)


def _store_engine(store: Any) -> Any:
    """An engine over the store's own workflows, or exit 2."""
    from retainflow.api import CompileError
    from retainflow.stores.sqlite import StoreError, open_engine

    try:
        return open_engine(store)
    except (CompileError, StoreError) as error:
        _err(f"{store.path}: a stored workflow cannot be loaded: {error}")
        sys.exit(EXIT_USAGE)


def _when(value: Any) -> str:
    from retainflow.values import format_time

    return "-" if value is None else format_time(value)


def _call(name: str, args: Any) -> str:
    from retainflow.values import to_json_value

    shown = ", ".join(f"{key}: {to_json_value(value)}" for key, value in args.items())
    return f"{name}({shown})"


@main.command()
@click.option("--store", "store_path", required=True, metavar="FILE", help="The SQLite store.")
@click.argument("case", required=False)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(STORE_FORMATS),
    default="text",
    show_default=True,
    help="text (a table, or one case in detail) or json.",
)
@_out_option
@_store_command
def status(store_path: str, case: str | None, output_format: str, out: str | None) -> None:
    """Instances in a store: status, step, what each waits for and until when.

    With CASE: that case in detail (its instances, SLAs, offers, pending timers and
    history). Exit 0; 1 for an unknown case; 2 for a missing or unreadable store.
    """
    import json as _json

    from retainflow.stores.sqlite import waits_for

    store = _open_store(store_path)
    engine = _store_engine(store)
    echo = _Output()
    versions: dict[tuple[str, int], Any] = {}

    def workflow(name: str, version: int) -> Any:
        if (name, version) not in versions:
            versions[(name, version)] = engine.workflow(name, version)
        return versions[(name, version)]

    def waiting(row: Any) -> list[str]:
        if row.status != "active":
            return []
        return waits_for(workflow(row.workflow, row.version), row.step, row.phase)

    if case is not None:
        _status_case(store, engine, case, output_format, workflow, echo)
        echo.emit(out)
        return
    counts = store.counts()
    clock, wakeup = store.clock(), store.next_wakeup()
    if output_format == "json":
        items: list[dict[str, Any]] = []
        for case_id, rows in store.cases_with_instances():
            if not rows:
                items.append({"case": case_id, "instance": None, "status": "not_triggered"})
            for row in rows:
                items.append(
                    {
                        "case": row.case,
                        "instance": row.number,
                        "workflow": row.workflow,
                        "version": row.version,
                        "status": "waiting" if row.status == "active" else row.status,
                        "step": row.step,
                        "phase": row.phase or None,
                        "outcome": row.outcome,
                        "started_at": _when(row.started_at),
                        "ended_at": None if row.ended_at is None else _when(row.ended_at),
                        "waits_for": waiting(row),
                        "until": None if row.next_at is None else _when(row.next_at),
                        "timer": row.next_timer,
                    }
                )
        document = {
            "store": str(store.path),
            "clock": None if clock is None else _when(clock),
            "next_wakeup": None if wakeup is None else _when(wakeup),
            "counts": counts,
            "instances": items,
        }
        echo(_json.dumps(document, ensure_ascii=False, indent=2))
        echo.emit(out)
        return
    parts = [
        f"{counts.get(key, 0):,} {label}"
        for key, label in (
            ("active", "waiting"),
            ("ended", "ended"),
            ("cancelled", "cancelled"),
            ("error", "error"),
        )
        if counts.get(key, 0)
    ]
    echo(
        f"{store.path}: clock {_when(clock)}, next timer {_when(wakeup)}; {counts['cases']:,} "
        f"cases, {counts['instances']:,} instances"
        + (f" ({', '.join(parts)})" if parts else "")
        + f", {counts['timers']:,} pending timers, {counts['grants']:,} grants"
    )
    header = ("CASE", "#", "WORKFLOW", "STATUS", "STEP", "WAITS FOR", "UNTIL")
    lines: list[tuple[str, ...]] = []
    for case_id, rows in store.cases_with_instances():
        if not rows:
            lines.append((case_id, "-", "-", "not triggered", "-", "-", "-"))
        for row in rows:
            active = row.status == "active"
            until = "-"
            if active and row.next_at is not None:
                until = f"{_when(row.next_at)} ({row.next_timer})"
            lines.append(
                (
                    row.case,
                    str(row.number),
                    f"{row.workflow} v{row.version}",
                    (row.phase if row.phase in ("sleeping", "pending") else "waiting")
                    if active
                    else row.status,
                    row.step or "-",
                    ", ".join(waiting(row)) or "-",
                    until,
                )
            )
    widths = [max(len(cell) for cell in column) for column in zip(header, *lines, strict=True)]
    for line in (header, *lines):
        echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    echo.emit(out)


def _status_case(
    store: Any, engine: Any, case_id: str, output_format: str, workflow: Any, echo: _Output
) -> None:
    import json as _json

    from retainflow.runtime.state import CaseState
    from retainflow.stores.sqlite import waits_for
    from retainflow.values import to_json_value

    state = engine.case_state(case_id)
    if not isinstance(state, CaseState):
        _err(f"{store.path}: no case {case_id!r}")
        sys.exit(EXIT_PROBLEMS)
    records = engine.records(case_id)
    rows = {(r.workflow, r.number): r for r in store.instances(case_id)}
    timers: dict[tuple[str, int | None], list[dict[str, Any]]] = {}
    for timer in sorted(state.timers.values(), key=lambda t: (t.at, t.seq)):
        timers.setdefault((timer.workflow, timer.instance), []).append(
            {"at": _when(timer.at), "kind": timer.kind, "name": timer.name}
        )
    for record in records:
        key = (record["workflow"], record["instance"])
        row = rows.get(key)
        record["waits_for"] = (
            waits_for(workflow(row.workflow, row.version), row.step, row.phase)
            if row is not None and row.status == "active"
            else []
        )
        record["step"] = None if row is None else row.step
        record["timers"] = timers.get(key, [])
        source = store.workflow_source(record["workflow"], record["version"] or 0)
        record["content_hash"] = None if source is None else source.content_hash
    history = [to_json_value(entry) for entry in engine.history(case_id)]
    if output_format == "json":
        document = {"case": case_id, "instances": records, "history": history}
        echo(_json.dumps(document, ensure_ascii=False, indent=2))
        return
    echo(f"case {case_id}: {len(state.flows)} workflow(s), {len(records)} record(s)")
    for record in records:
        echo("")
        if record["instance"] is None:
            echo(f"{record['workflow']}: {record['status']}")
            continue
        version = f"v{record['version']}"
        if record["content_hash"]:
            version += f" (sha256 {record['content_hash'][:12]})"
        status_text = record["status"]
        if record["outcome"] is not None:
            status_text += f", outcome {record['outcome']} ({record['outcome_kind']})"
        echo(f"instance {record['instance']} of {record['workflow']} {version}: {status_text}")
        echo(
            f"  trigger {record['trigger']}, started {record['started_at']}, "
            f"ended {record['ended_at'] or '-'}, clock {record['clock']}"
        )
        echo(f"  step {record['step'] or '-'}; path: {' > '.join(record['path']) or '-'}")
        if record["waits_for"]:
            echo(f"  waits for: {', '.join(record['waits_for'])}")
        if record["error"]:
            echo(f"  error: {record['error']}")
        if record["slas"]:
            echo("  SLAs:")
            for name, sla in record["slas"].items():
                paused = " (paused)" if sla.get("paused") else ""
                echo(
                    f"    {name}: {sla['status']}{paused}, started {sla['started_at'] or '-'}, "
                    f"due {sla['due'] or '-'}, completed {sla['completed_at'] or '-'}"
                )
        if record["offers"]:
            echo("  offers:")
            for offer in record["offers"]:
                reason = f" ({offer['reason']})" if offer["reason"] else ""
                echo(
                    f"    {offer['at']} {offer['step']}: {offer['kind']} requested "
                    f"{offer['requested']}, {offer['status']}{reason} {offer['amount']}, "
                    f"decided {offer['decided_at'] or '-'}"
                )
        if record["timers"]:
            echo("  pending timers:")
            for timer in record["timers"]:
                name = f" {timer['name']}" if timer["name"] else ""
                echo(f"    {timer['at']} {timer['kind']}{name}")
    echo("\nhistory:")
    for entry in history:
        rest = {k: v for k, v in entry.items() if k not in ("at", "kind")}
        shown = " ".join(f"{k}={_json.dumps(v, ensure_ascii=False)}" for k, v in rest.items())
        echo(f"  {entry['at']} {entry['kind']} {shown}".rstrip())


@main.command()
@click.option("--store", "store_path", required=True, metavar="FILE", help="The SQLite store.")
@click.option("--now", "now", required=True, metavar="TIME", help="ISO 8601 with an offset (or Z).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(STORE_FORMATS),
    default="text",
    show_default=True,
    help="text (one action a line) or json.",
)
@_out_option
@_store_command
def advance(store_path: str, now: str, output_format: str, out: str | None) -> None:
    """Fire every timer of the store due at or before TIME; print the actions.

    Exit 0 (also when the store's clock is already at or past TIME: nothing fires);
    2 for a missing or unreadable store, or a bad TIME.
    """
    import json as _json

    from retainflow.values import parse_time, to_json_value

    try:
        when = parse_time(now)
    except ValueError as error:
        _err(f"--now: {error}")
        sys.exit(EXIT_USAGE)
    store = _open_store(store_path)
    engine = _store_engine(store)
    clock = store.clock()
    before = store.stats["timers_fired"]
    result = engine.advance(when)
    fired = store.stats["timers_fired"] - before
    actions = result.actions
    echo = _Output()
    if output_format == "json":
        document = {
            "now": _when(when),
            "clock_before": None if clock is None else _when(clock),
            "fired": fired,
            "actions": [
                {
                    "at": _when(a.at),
                    "case": a.case,
                    "workflow": a.workflow,
                    "step": a.step,
                    "name": a.name,
                    "args": to_json_value(dict(a.args)),
                }
                for a in actions
            ],
            "started": [
                {
                    "case": s.case,
                    "workflow": s.workflow,
                    "instance": s.instance,
                    "trigger": s.trigger,
                    "at": _when(s.at),
                }
                for s in result.started
            ],
            "errors": list(result.errors),
        }
        echo(_json.dumps(document, ensure_ascii=False, indent=2))
    else:
        for a in actions:
            echo(f"{_when(a.at)}  {a.case}  {a.workflow}  {a.step}  {_call(a.name, a.args)}")
    echo.emit(out)
    for message in result.errors:
        _err(message)
    if clock is not None and when <= clock:
        _err_plain(f"the store's clock is already at {_when(clock)}: nothing to fire")
    else:
        _err_plain(
            f"advanced to {_when(when)}: {fired:,} timer{'s' * (fired != 1)} fired, "
            f"{len(actions):,} action{'s' * (len(actions) != 1)}, "
            f"{len(result.started):,} instance{'s' * (len(result.started) != 1)} started"
        )


# ---- worker -----------------------------------------------------------------------------


@main.command()
@click.argument("workflows", nargs=-1, metavar="WORKFLOW...")
@click.option(
    "--temporal",
    "address",
    default="127.0.0.1:7233",
    show_default=True,
    metavar="HOST:PORT",
    help="The Temporal server (frontend) address.",
)
@click.option("--task-queue", default="retainflow", show_default=True, help="The task queue.")
@click.option("--namespace", default="default", show_default=True, help="The namespace.")
@click.option(
    "--ledger",
    "ledger_path",
    default=None,
    metavar="FILE",
    help="A SQLite ledger file shared by every worker of the host (default: in memory, "
    "for one worker only).",
)
@click.option(
    "--actions",
    default=None,
    metavar="MODULE:ATTR",
    help="Host action handlers: a mapping of action name to handler (or a callable returning one).",
)
@click.option("--log-level", default="INFO", show_default=True)
def worker(
    workflows: tuple[str, ...],
    address: str,
    task_queue: str,
    namespace: str,
    ledger_path: str | None,
    actions: str | None,
    log_level: str,
) -> None:
    """Run retainflow case workflows on a Temporal task queue until stopped (Ctrl-C).

    WORKFLOW files are loaded and checked first (a case may also run a version the
    client sends). Needs the extra: pip install 'retainflow[temporal]'. Exit 0 when
    stopped; 2 for a workflow that does not load or a missing extra.
    """
    try:
        from retainflow.temporal.worker import main as worker_main
    except ImportError as error:
        _err(f"the Temporal runtime needs the extra: pip install 'retainflow[temporal]' ({error})")
        sys.exit(EXIT_USAGE)
    argv = [*workflows, "--address", address, "--namespace", namespace]
    argv += ["--task-queue", task_queue, "--log-level", log_level]
    if ledger_path is not None:
        argv += ["--ledger", ledger_path]
    if actions is not None:
        argv += ["--actions", actions]
    sys.exit(worker_main(argv))


# ---- report -----------------------------------------------------------------------------

# The same as retainflow.report.GROUPINGS and FORMATS (kept here: the report package loads
# only when the command runs).
_REPORT_GROUPINGS = ("workflow", "trigger", "version", "client", "week", "month")
_REPORT_FORMATS = ("text", "json", "html")


@main.command()
@click.argument("results", nargs=-1, metavar="[RESULTS]...")
@click.option(
    "--workflow",
    "workflow_files",
    multiple=True,
    metavar="FILE",
    help="A workflow the results ran (repeatable): titles, outcome kinds, SLA calendars.",
)
@click.option(
    "--by",
    "by",
    type=click.Choice(_REPORT_GROUPINGS),
    default="workflow",
    show_default=True,
    help="Group instances by this (week and month of start, in UTC).",
)
@click.option("--from", "date_from", metavar="DATE", default=None, help="Starts from DATE.")
@click.option("--to", "date_to", metavar="DATE", default=None, help="Starts up to DATE.")
@click.option(
    "--clients",
    "clients_file",
    metavar="FILE",
    default=None,
    help="Client books (CSV or YAML: client, since, until) for the client retention rate.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(_REPORT_FORMATS),
    default="text",
    show_default=True,
    help="text (terminal), json (machines) or html (one self-contained page).",
)
@_out_option
@click.option(
    "--store",
    "store",
    metavar="FILE",
    default=None,
    help="Report every instance of this SQLite store (its workflows come with it).",
)
def report(
    results: tuple[str, ...],
    workflow_files: tuple[str, ...],
    by: str,
    date_from: str | None,
    date_to: str | None,
    clients_file: str | None,
    output_format: str,
    out: str | None,
    store: str | None,
) -> None:
    """Retention metrics over run results (JSON Lines or JSON; - reads stdin).

    DATE is a date (UTC; --to includes that whole day) or a time with an offset.
    """
    from retainflow import report as rr

    if store is not None and results:
        raise click.UsageError("give RESULTS files or --store FILE, not both")
    if store is None and not results:
        raise click.UsageError(
            "give one or more RESULTS files (run --format jsonl), - for stdin, or --store FILE"
        )
    try:
        period = rr.period_of(date_from, date_to)
    except rr.PeriodError as error:
        raise click.BadParameter(error.message, param_hint=error.option) from None
    if clients_file is not None and (period.start is None or period.end is None):
        raise click.UsageError("--clients needs --from and --to (the period to measure)")
    try:
        infos = [rr.load_workflow_info(path) for path in workflow_files]
        if store is not None:
            from retainflow.report.store import StoreInputError, read_store

            try:
                records, stored = read_store(store)
            except StoreInputError as error:
                _err(str(error))
                sys.exit(EXIT_PROBLEMS)
            infos = infos or stored
        else:
            records = rr.read_results(results)
        clients = None
        if clients_file is not None and period.start is not None and period.end is not None:
            rows = rr.read_clients(clients_file)
            clients = rr.client_retention(rows, period.start, period.end)
    except rr.ResultsError as error:
        for line in error.lines():
            click.echo(line, err=True)
        sys.exit(EXIT_PROBLEMS)
    except rr.WorkflowError as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_PROBLEMS)
    built = rr.build_report(records, infos, by=by, period=period, clients=clients)
    _emit(rr.render(built, output_format), out)


# ---- test -------------------------------------------------------------------------------

TEST_FORMATS = ("text", "json", "junit")


@main.command("test")
@click.argument("paths", nargs=-1)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(TEST_FORMATS),
    default="text",
    show_default=True,
    help="text (PASS/FAIL lines and coverage), json (one object) or junit (JUnit XML, for CI).",
)
@_out_option
def test_command(paths: tuple[str, ...], output_format: str, out: str | None) -> None:
    """Run *.rflow-test.yaml scenario files (directories recursively; default: .) and
    report step and transition coverage.

    Exit 0 when every scenario passes; 1 when one fails or cannot run (bad YAML, a missing
    or broken workflow, rejected case data); 2 for a missing or unreadable path.
    """
    from retainflow.junit import render_junit
    from retainflow.scenarios import render_json as render_test_json
    from retainflow.scenarios import render_text as render_test_text
    from retainflow.scenarios import run_paths

    outcome = run_paths(paths)
    for problem in outcome.problems:
        _err(f"{problem.path}: {problem.problem}")
    if outcome.files == 0 and not outcome.problems:
        _err("no *.rflow-test.yaml files found")
    if output_format == "json":
        text = render_test_json(outcome)
    elif output_format == "junit":
        text = render_junit(outcome)
    else:
        text = render_test_text(outcome, color=out is None and sys.stdout.isatty())
    _emit(text, out)
    sys.exit(outcome.exit_code)


if __name__ == "__main__":
    main()
