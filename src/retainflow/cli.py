"""The `retainflow` command line: arguments in, library calls, rendered results out.

Thin by design: every command parses its options, calls the library and renders. Results
go to stdout, errors to stderr; exit codes follow tools.md.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from retainflow import __version__
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


def _err(message: str) -> None:
    click.echo(f"retainflow: {message}", err=True)


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
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the report to this file instead of stdout.",
)
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


def _emit(text: str, out: str | None) -> None:
    """Results to --out or stdout."""
    if out is None:
        if text:
            click.echo(text, nl=not text.endswith("\n"))
        return
    Path(out).write_text(text, encoding="utf-8")


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
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the graph to this file instead of stdout.",
)
def graph(workflow: str, output_format: str, out: str | None) -> None:
    """Print the state graph of WORKFLOW: steps, outcomes and every transition."""
    from retainflow.analysis import analyze_path
    from retainflow.graph import build_graph
    from retainflow.render_graph import (
        IMAGE_FORMATS,
        GraphvizFailed,
        GraphvizMissing,
        render,
        to_image,
    )

    try:
        analysis = analyze_path(workflow)
    except UnicodeDecodeError:
        _err(f"{workflow}: is not UTF-8 text")
        sys.exit(EXIT_USAGE)
    except OSError as error:
        _err(f"{workflow}: cannot be read ({error.strerror or error})")
        sys.exit(EXIT_USAGE)
    errors = len(analysis.errors)
    if errors or analysis.workflow is None:
        click.echo(render_text(analysis.report, color=sys.stderr.isatty()), err=True, nl=False)
        _err(f"{analysis.source.path}: no graph: {errors} compile error{'s' * (errors != 1)}")
        sys.exit(EXIT_PROBLEMS)
    state_graph = build_graph(analysis.workflow, analysis.source)
    if output_format in IMAGE_FORMATS:
        try:
            image = to_image(state_graph, output_format, analysis.workflow, analysis.source)
        except (GraphvizMissing, GraphvizFailed) as error:
            _err(str(error))
            sys.exit(EXIT_USAGE)
        if out is None:
            if output_format == "png" and sys.stdout.isatty():
                _err("a png is binary: give --out FILE (or redirect stdout)")
                sys.exit(EXIT_USAGE)
            click.echo(image, nl=False)
            return
        try:
            Path(out).write_bytes(image)
        except OSError as error:
            _err(f"{out}: cannot be written ({error.strerror or error})")
            sys.exit(EXIT_USAGE)
        return
    text = render(state_graph, output_format, analysis.workflow, analysis.source)
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as error:
        _err(f"{out}: cannot be written ({error.strerror or error})")
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    main()
