"""Linting as CI runs it: paths in, per-file diagnostics after configuration out.

Finds `.rflow` files, analyzes them (in parallel processes when there are many), then
applies what the user asked for, in this order: the selection (`select`/`ignore` from
`[tool.retainflow.lint]` in the nearest pyproject.toml, then `--select`/`--ignore`),
suppression comments (`# rflow: ignore[CODE]`, `# rflow: ignore-file[CODE]`) with RF901
for a suppression that suppresses nothing, and severity overrides. RF001 can be neither
deselected, suppressed nor demoted.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path

import attrs

from retainflow import nodes
from retainflow.analysis import Analysis, analyze_path, display_path
from retainflow.diagnostics import CATALOG, Diagnostic, FileDiagnostics, Severity
from retainflow.source import SourceFile, Span

UNDESELECTABLE = "RF001"
# Below this many files, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 48


class ConfigError(ValueError):
    """A `[tool.retainflow.lint]` table or a command-line selection that makes no sense."""


@attrs.frozen
class LintConfig:
    select: tuple[str, ...] = ()  # code prefixes; empty: everything
    ignore: tuple[str, ...] = ()
    severity: tuple[tuple[str, Severity], ...] = ()
    source: str | None = None  # the pyproject.toml it came from

    def selects(self, code: str) -> bool:
        if code == UNDESELECTABLE:
            return True
        if self.select and not any(code.startswith(p) for p in self.select):
            return False
        return not any(code.startswith(prefix) for prefix in self.ignore)

    def severity_of(self, diag: Diagnostic) -> Severity:
        if diag.code == UNDESELECTABLE:
            return Severity.ERROR
        for code, severity in self.severity:
            if code == diag.code:
                return severity
        return diag.effective_severity

    def with_cli(self, select: Sequence[str], ignore: Sequence[str]) -> LintConfig:
        _validate_codes(select, "--select")
        _validate_codes(ignore, "--ignore")
        return attrs.evolve(
            self,
            select=tuple(select) if select else self.select,
            ignore=self.ignore + tuple(ignore),
        )


def _validate_codes(codes: Iterable[str], where: str) -> None:
    for code in codes:
        if not code or not any(known.startswith(code) for known in CATALOG):
            raise ConfigError(f"{where}: '{code}' matches no check code (see `lint --explain`)")


def parse_codes(text: str | None) -> tuple[str, ...]:
    """`RF105,RF2` -> ("RF105", "RF2")."""
    if not text:
        return ()
    return tuple(part.strip().upper() for part in text.split(",") if part.strip())


@cache
def _config_for_dir(directory: Path) -> LintConfig:
    for folder in (directory, *directory.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            config = _read_config(candidate)
            if config is not None:
                return config
    return LintConfig()


def config_for(path: Path) -> LintConfig:
    """The configuration of the nearest pyproject.toml above `path` that has a
    `[tool.retainflow.lint]` table (like ruff, a pyproject without one is passed over);
    none: the defaults."""
    return _config_for_dir(path.resolve().parent)


def _read_config(pyproject: Path) -> LintConfig | None:
    shown = display_path(pyproject)
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{shown}: cannot read it: {error}") from None
    table = data.get("tool", {}).get("retainflow", {}).get("lint")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{shown}: [tool.retainflow.lint] must be a table")
    unknown = set(table) - {"select", "ignore", "severity"}
    if unknown:
        raise ConfigError(
            f"{shown}: unknown key(s) in [tool.retainflow.lint]: {', '.join(sorted(unknown))} "
            "(expected select, ignore, severity)"
        )
    select = _code_list(table.get("select", []), f"{shown}: select")
    ignore = _code_list(table.get("ignore", []), f"{shown}: ignore")
    severities: list[tuple[str, Severity]] = []
    raw_severity = table.get("severity", {})
    if not isinstance(raw_severity, dict):
        raise ConfigError(f'{shown}: severity must be a table like {{RF206 = "error"}}')
    for code, level in raw_severity.items():
        if code not in CATALOG:
            raise ConfigError(f"{shown}: severity: unknown check code '{code}'")
        if level not in ("error", "warning"):
            raise ConfigError(f'{shown}: severity of {code} must be "error" or "warning"')
        if code == UNDESELECTABLE and level != "error":
            raise ConfigError(f"{shown}: RF001 (syntax-error) cannot be demoted")
        severities.append((code, Severity(level)))
    return LintConfig(select, ignore, tuple(severities), shown)


def _code_list(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f'{where} must be a list of codes like ["RF105", "RF2"]')
    codes = tuple(item.strip().upper() for item in value)
    _validate_codes(codes, where)
    return codes


# ---- suppressions ----------------------------------------------------------------------

_SUPPRESSION = re.compile(
    r"#\s*rflow:\s*(?P<kind>ignore-file|ignore)\[(?P<codes>[^\]]*)\]", re.IGNORECASE
)


@attrs.frozen
class Suppression:
    codes: tuple[str, ...]
    whole_file: bool
    line: int | None  # the line it applies to (None for ignore-file)
    span: Span


def suppressions_of(source: SourceFile, comments: Iterable[nodes.Comment]) -> list[Suppression]:
    found: list[Suppression] = []
    for comment in comments:
        match = _SUPPRESSION.search(comment.text)
        if match is None:
            continue
        codes = parse_codes(match["codes"])
        line = source.position(comment.span.start).line
        whole = match["kind"].lower() == "ignore-file"
        target = None if whole else (line + 1 if comment.own_line else line)
        found.append(Suppression(codes, whole, target, comment.span))
    return found


def apply_configuration(analysis: Analysis, config: LintConfig) -> FileDiagnostics:
    """Selection, suppressions (with RF901 for unused ones) and severities for one file."""
    source = analysis.source
    suppressions = suppressions_of(source, analysis.comments)
    used: set[tuple[int, str]] = set()
    kept: list[Diagnostic] = []
    for diag in analysis.diagnostics:
        if not config.selects(diag.code):
            continue
        line = source.position(diag.span.start).line
        hit = _suppressing(suppressions, diag.code, line)
        if hit is not None and diag.code != UNDESELECTABLE:
            used.add(hit)
            continue
        kept.append(diag)
    # A file that does not parse reports its one RF001 and nothing else (tools.md).
    if analysis.workflow is not None and config.selects("RF901"):
        for index, suppression in enumerate(suppressions):
            for code in suppression.codes:
                if (index, code) in used or (code in CATALOG and not config.selects(code)):
                    continue
                kept.append(_unused(suppression, code, analysis.source))
    final = [attrs.evolve(d, severity=config.severity_of(d)) for d in kept]
    return FileDiagnostics.of(source, final)


def _suppressing(
    suppressions: Sequence[Suppression], code: str, line: int
) -> tuple[int, str] | None:
    for index, suppression in enumerate(suppressions):
        if code in suppression.codes and (suppression.whole_file or suppression.line == line):
            return index, code
    return None


def _unused(suppression: Suppression, code: str, source: SourceFile) -> Diagnostic:
    kind = "ignore-file" if suppression.whole_file else "ignore"
    if code not in CATALOG:
        message = f"'{code}' in this {kind} comment is not a check code"
    elif suppression.whole_file:
        message = f"this ignore-file comment suppresses nothing: no {code} in this file"
    else:
        where = (
            "the next line"
            if suppression.line != source.position(suppression.span.start).line
            else "this line"
        )
        message = f"this ignore comment suppresses nothing: no {code} on {where}"
    return Diagnostic("RF901", suppression.span, message, label="remove it, or fix the code")


# ---- running ------------------------------------------------------------------------------


@attrs.frozen
class FileFailure:
    path: str
    problem: str


@attrs.frozen
class LintRun:
    files: int
    reports: tuple[FileDiagnostics, ...]
    failures: tuple[FileFailure, ...]  # unreadable files (exit 2)

    def failed(self, strict: bool) -> bool:
        return any(
            d.effective_severity is Severity.ERROR or strict
            for report in self.reports
            for d in report.diagnostics
        )


def collect_files(paths: Sequence[str]) -> tuple[list[Path], list[str]]:
    """The .rflow files named or found recursively under `paths` (default "."), and the
    paths that do not exist. Hidden folders (.git, .venv) are not searched."""
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths or (".",):
        path = Path(raw)
        if path.is_dir():
            for found in path.rglob("*.rflow"):
                inner = found.relative_to(path).parts[:-1]
                if found.is_file() and not any(part.startswith(".") for part in inner):
                    files.append(found)
        elif path.is_file():
            files.append(path)
        else:
            missing.append(raw)
    unique = {display_path(p): p for p in files}
    return [unique[key] for key in sorted(unique)], missing


@attrs.frozen
class _Job:
    path: Path
    config: LintConfig


def _lint_one(job: _Job) -> FileDiagnostics | FileFailure:
    """One file, start to finish, so a worker process sends back only the diagnostics."""
    try:
        analysis = analyze_path(job.path)
    except UnicodeDecodeError:
        return FileFailure(display_path(job.path), "is not UTF-8 text")
    except OSError as error:
        return FileFailure(display_path(job.path), f"cannot be read ({error.strerror or error})")
    return apply_configuration(analysis, job.config)


def _lint_all(
    jobs: Sequence[_Job], progress: Callable[[int], None] | None
) -> list[FileDiagnostics | FileFailure]:
    workers = min(os.cpu_count() or 1, 8)
    results: list[FileDiagnostics | FileFailure] = []
    if len(jobs) < PARALLEL_THRESHOLD or workers < 2:
        for job in jobs:
            results.append(_lint_one(job))
            if progress:
                progress(1)
        return results
    chunk = max(1, len(jobs) // (workers * 8))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for result in pool.map(_lint_one, jobs, chunksize=chunk):
            results.append(result)
            if progress:
                progress(1)
    return results


def lint_paths(
    files: Sequence[Path],
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
) -> LintRun:
    """Analyze every file and apply each file's configuration (raises ConfigError)."""
    reports: list[FileDiagnostics] = []
    failures: list[FileFailure] = []
    jobs = [_Job(path, config_for(path).with_cli(select, ignore)) for path in files]
    for outcome in _lint_all(jobs, progress):
        if isinstance(outcome, FileFailure):
            failures.append(outcome)
        else:
            reports.append(outcome)
    reports.sort(key=lambda report: report.source.path)
    return LintRun(len(files), tuple(reports), tuple(failures))
