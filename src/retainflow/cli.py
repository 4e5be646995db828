"""The `retainflow` command line: arguments in, library calls, rendered results out.

Thin by design: every command parses its options, calls the library and renders. Results
go to stdout, errors to stderr; exit codes follow tools.md.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click

from retainflow import __version__
from retainflow.analysis import Analysis, analyze_path, display_path
from retainflow.diagnostics import FileDiagnostics, Severity, render_json, render_text

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _err(message: str) -> None:
    click.echo(f"retainflow: {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="retainflow")
def main() -> None:
    """Client retention playbooks as code: lint, run and test .rflow workflows."""


# ---- lint -------------------------------------------------------------------------------


def collect_rflow_files(paths: tuple[str, ...]) -> tuple[list[Path], list[str]]:
    """The .rflow files named or found (recursively) under `paths`, and missing paths."""
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths or (".",):
        path = Path(raw)
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*.rflow")
                    if p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(path).parts[:-1])
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            missing.append(raw)
    unique = list(dict.fromkeys(files))
    unique.sort(key=lambda p: display_path(p))
    return unique, missing


def _lint_files(files: list[Path]) -> Iterator[tuple[Path, Analysis | str]]:
    for path in files:
        try:
            yield path, analyze_path(path)
        except UnicodeDecodeError:
            yield path, "is not UTF-8 text"
        except OSError as error:
            yield path, f"cannot be read ({error.strerror or error})"


@main.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to print the diagnostics.",
)
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
def lint(paths: tuple[str, ...], output_format: str, strict: bool) -> None:
    """Check .rflow files (directories are searched recursively; default: .)."""
    files, missing = collect_rflow_files(paths)
    exit_code = EXIT_OK
    for raw in missing:
        _err(f"{raw}: no such file or directory")
        exit_code = EXIT_USAGE
    reports: list[FileDiagnostics] = []
    failed = False
    for path, outcome in _lint_files(files):
        if isinstance(outcome, str):
            _err(f"{display_path(path)}: {outcome}")
            exit_code = EXIT_USAGE
            continue
        report = outcome.report
        reports.append(report)
        for diag in report.diagnostics:
            severity = diag.effective_severity
            if severity is Severity.ERROR or strict:
                failed = True
    reports.sort(key=lambda r: r.source.path)
    if output_format == "json":
        click.echo(render_json(reports, len(files)), nl=False)
    else:
        color = sys.stdout.isatty()
        for report in reports:
            text = render_text(report, color=color)
            if text:
                click.echo(text)
        click.echo(_summary(reports, len(files)), err=output_format == "text")
    if exit_code == EXIT_OK and failed:
        exit_code = EXIT_PROBLEMS
    sys.exit(exit_code)


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


if __name__ == "__main__":
    main()
