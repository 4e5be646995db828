"""Format rflow: a parsed workflow and its source text in, canonical text out.

    >>> print(format_text("workflow w version 1;start a;step a { -> done };outcome done"), end="")
    workflow w version 1
    <BLANKLINE>
    start a
    <BLANKLINE>
    step a {
      -> done
    }
    <BLANKLINE>
    outcome done

The layout is one canonical form (docs/formatting.md): declarations in source order, one
statement per line, 2-space indents, a step's statements in the order of the language's
table (wait, do/offer, every, due, when/->, on EVENT, on timeout; stable within each
group), lines wrapped at 100 characters. A line that carries a suppression comment
(`# rflow: ignore[...]`, at its end or standing alone just before it) is never broken or
split (`runs`, `joined`), since the suppression covers that one line. Comments stay where
they were: each one is attached by its source position to the construct it precedes,
ends the line of, or sits at the end of. Literals are printed as they were written (money
with one space before its currency), so the tree of the output equals the tree of the
input, up to the order of statements inside steps (`canonical`), and formatting twice
changes nothing.
"""

from __future__ import annotations

import bisect
import contextlib
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import attrs

from retainflow import nodes as n
from retainflow.analysis import parse_workflow
from retainflow.diagnostics import Diagnostic, FileDiagnostics, render_text
from retainflow.exprs import quote, render_precedence
from retainflow.source import NO_SPAN, SourceFile, Span

__all__ = [
    "MAX_WIDTH",
    "FormatError",
    "canonical",
    "format_text",
    "format_workflow",
    "statement_rank",
]

MAX_WIDTH = 100
INDENT = "  "

# Precedence levels, loosest first: the same scale as `retainflow.exprs.render`.
_OR, _AND, _NOT, _CMP, _SUM, _PRODUCT, _OF, _UNARY, _ATOM = range(1, 10)

_NUMBER_RE = re.compile(r"[0-9]+(\.[0-9]+)?")
_COUNT_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # `up to N` as written, also when it is RF002
_MONEY_RE = re.compile(r"[0-9]+(\.[0-9]+)?[ \t]+[A-Z]{3}")
_PERCENT_RE = re.compile(r"[0-9]+(\.[0-9]+)?%")
_DURATION_RE = re.compile(r"[0-9]+[smhdw]")
_STRING_RE = re.compile(r'"(\\.|[^"\\\n])*"')
_WRITTEN: dict[type, re.Pattern[str]] = {
    n.Number: _NUMBER_RE,
    n.String: _STRING_RE,
    n.PercentLit: _PERCENT_RE,
    n.DurationLit: _DURATION_RE,
}
_TIME_RE = re.compile(r"[0-9]{2}:[0-9]{2}")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

_T = TypeVar("_T")

# Lowering and printing recurse over expression trees: the same head room as
# `retainflow.analysis.analyze` gives them, so what `lint` can read, `fmt` can write.
_RECURSION_LIMIT = 20_000

_SUPPRESSION = re.compile(r"#\s*rflow:\s*ignore\[", re.IGNORECASE)
_BLOCKS = (n.Step, n.Calendar, n.CaseSchema, n.EventDecl, n.ActionDecl)


class FormatError(ValueError):
    """The text does not parse: `diagnostic` says why (RF001; RF003 for nesting too deep
    for Python's stack), `source` is the file it is about."""

    def __init__(self, diagnostic: Diagnostic, source: SourceFile) -> None:
        self.diagnostic = diagnostic
        self.source = source
        position = source.position(diagnostic.span.start)
        super().__init__(
            f"{source.path}:{position.line}:{position.column}: "
            f"{diagnostic.code}: {diagnostic.message}"
        )

    def render(self, color: bool = False) -> str:
        """The diagnostic as `retainflow lint` prints it (rustc-like text)."""
        return render_text(FileDiagnostics.of(self.source, [self.diagnostic]), color=color)


def format_text(text: str, path: str = "<text>") -> str:
    """The canonical form of one file's text; raises `FormatError` if it does not parse."""
    source = SourceFile(path, text)
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, _RECURSION_LIMIT))
    try:
        workflow, diagnostics = parse_workflow(source)
        if workflow is None:
            syntax = [d for d in diagnostics if d.code == "RF001"]
            diagnostic = syntax[0] if syntax else Diagnostic("RF001", Span(0, 0), "does not parse")
            raise FormatError(diagnostic, source)
        return format_workflow(workflow, text)
    except RecursionError:
        message = "an expression in this file is nested far too deeply to format"
        raise FormatError(Diagnostic("RF003", Span(0, 0), message), source) from None
    finally:
        sys.setrecursionlimit(previous)


def format_workflow(workflow: n.Workflow, source_text: str) -> str:
    """The canonical text of a workflow parsed from `source_text` (spans index into it)."""
    return _Printer(source_text, workflow.comments).workflow(workflow)


def statement_rank(statement: n.Statement) -> int:
    """Where a statement goes in a step: wait, do/offer, every, due, when/->, on, on timeout."""
    if isinstance(statement, n.Wait):
        return 0
    if isinstance(statement, n.Do | n.Offer):
        return 1
    if isinstance(statement, n.Every):
        return 2
    if isinstance(statement, n.Due):
        return 3
    if isinstance(statement, n.When | n.Goto):
        return 4
    return 6 if statement.is_timeout else 5


def canonical(workflow: n.Workflow) -> n.Workflow:
    """The workflow with each step's statements in formatter order (meaning is unchanged:
    statements of one group keep their source order, and groups act independently)."""
    declarations = tuple(
        attrs.evolve(decl, body=tuple(sorted(decl.body, key=statement_rank)))
        if isinstance(decl, n.Step)
        else decl
        for decl in workflow.declarations
    )
    return attrs.evolve(workflow, declarations=declarations)


# ---- comments: who owns which -----------------------------------------------------------


@attrs.define
class _Dist:
    """Comments of one region shared among its children (in source order)."""

    leading: list[list[n.Comment]]  # own-line comments before child i
    trailing: list[n.Comment | None]  # the comment that ends child i's line
    interior: list[list[n.Comment]]  # comments inside child i's span
    opener: n.Comment | None = None  # the comment that ends the opening line (`{`, `(`)
    dangling: list[n.Comment] = attrs.Factory(list)  # own-line comments after the last child


def _distribute(comments: Sequence[n.Comment], spans: Sequence[Span], opener: bool = True) -> _Dist:
    count = len(spans)
    dist = _Dist([[] for _ in spans], [None] * count, [[] for _ in spans])
    starts = [span.start for span in spans]
    for comment in sorted(comments, key=lambda c: c.span.start):
        at = comment.span.start
        index = bisect.bisect_right(starts, at) - 1
        if index >= 0 and at < spans[index].end:
            dist.interior[index].append(comment)
            continue
        following = index + 1
        if not comment.own_line:
            # A second comment on the "same" line (after a `;`) becomes an own-line one.
            if index >= 0 and dist.trailing[index] is None:
                dist.trailing[index] = comment
                continue
            if index < 0 and opener and dist.opener is None:
                dist.opener = comment
                continue
        if following < count:
            dist.leading[following].append(comment)
        else:
            dist.dangling.append(comment)
    return dist


def _text(comment: n.Comment) -> str:
    return comment.text.rstrip()


def _suppresses(comment: n.Comment | None) -> bool:
    return comment is not None and _SUPPRESSION.search(comment.text) is not None


def _with_trailing(lines: list[str], comment: n.Comment | None) -> list[str]:
    if comment is not None:
        lines[-1] = f"{lines[-1]}  {_text(comment)}"
    return lines


def _span(node: object) -> Span:
    span = getattr(node, "span", NO_SPAN)
    return span if isinstance(span, Span) else NO_SPAN


def _tight(expr: n.Expr) -> Span:
    """From the expression's first token to its last. (A node's own span also covers the
    parentheses around its first or last operand, but not its own: comments inside those
    parentheses must belong to the operand both before and after formatting.)"""
    first: n.Expr = expr
    while True:
        if isinstance(first, n.Arith | n.Compare | n.BoolOp):
            first = first.left
        elif isinstance(first, n.Of):
            first = first.percent
        elif isinstance(first, n.IsNone):
            first = first.operand
        else:
            break
    last: n.Expr = expr
    while True:
        if isinstance(last, n.Arith | n.Compare | n.BoolOp):
            last = last.right
        elif isinstance(last, n.Of):
            last = last.base
        elif isinstance(last, n.Negate | n.Not):
            last = last.operand
        elif isinstance(last, n.IfExpr):
            last = last.otherwise
        else:
            break
    start, end = _span(first).start, _span(last).end
    return Span(start, end) if end > start else _span(expr)


# ---- the printer -----------------------------------------------------------------------


@attrs.frozen
class _Elem:
    """One element of a breakable group: printed as PREFIX EXPR SUFFIX on its own line."""

    expr: n.Expr
    level: int
    prefix: str
    suffix: str
    span: Span


@attrs.frozen
class _Group:
    """OPENER, one element per line, CLOSER. `inner` is the source between the group's own
    brackets: each element's region grows to the parentheses around it there. Without
    `inner`, the elements' spans are their regions already."""

    opener: str
    elems: tuple[_Elem, ...]
    closer: str
    inner: Span | None = None
    # Parentheses the formatter adds (around `and`/`or`, `+ -`, `* /` chains and `if`)
    # are not the group's own in the source: a comment just inside them could belong
    # to the group or to its first element, so the group keeps none before its first
    # element (they go before its first line).
    synthetic: bool = False


def _kind_group(decl: n.Header | n.Declaration, lines: list[str]) -> str | None:
    """Consecutive one-line declarations of one group stay together; None is a block."""
    if isinstance(decl, n.Header | n.Title):
        return "header"
    if isinstance(decl, n.EventDecl | n.ActionDecl):
        return "schema" if len(lines) == 1 else None
    if isinstance(decl, n.Limit | n.Approve):
        return "limit"
    if isinstance(decl, n.Calendar | n.CaseSchema | n.Step):
        return None
    return type(decl).__name__


class _Printer:
    def __init__(self, text: str, comments: Sequence[n.Comment]) -> None:
        self.text = text
        # The text with comments blanked out, to find brackets between expressions.
        chars = list(text)
        for comment in comments:
            chars[comment.span.start : comment.span.end] = " " * (
                comment.span.end - comment.span.start
            )
        self.masked = "".join(chars)
        self.newlines = [match.start() for match in re.finditer("\n", text)]
        # Whether the construct being written has a suppression at its end / just before.
        self.keep_end = self.keep_before = False

    @property
    def keep_line(self) -> bool:
        return self.keep_end or self.keep_before

    @contextlib.contextmanager
    def keeping_line(self, leading: list[n.Comment], trailing: n.Comment | None) -> Iterator[None]:
        """Suppressions (`# rflow: ignore[...]`) apply to one line: a construct (or an
        element of a broken group) with one at its end, or on the line just before it, is
        not broken over several lines. Comments a construct lifts out go just before it,
        so the last of them decides on the next run: `layout` updates `keep_before`."""
        saved = self.keep_end, self.keep_before
        self.keep_end = _suppresses(trailing)
        self.keep_before = _suppresses(leading[-1] if leading else None)
        try:
            yield
        finally:
            self.keep_end, self.keep_before = saved

    def end_of_line(self, node: object, lines: list[str], trailing: n.Comment | None) -> list[str]:
        """The comment that ends a construct's line goes at the end of its last line; for
        a block that sat on one source line (`step a { -> b }  # c`), at the end of its
        opening line."""
        if (
            trailing is not None
            and len(lines) > 1
            and isinstance(node, _BLOCKS)
            and lines[0].endswith("{")
            and "\n" not in self.text[_span(node).start : trailing.span.start]
        ):
            lines[0] = f"{lines[0]}  {_text(trailing)}"
            return lines
        return _with_trailing(lines, trailing)

    def line_of(self, offset: int) -> int:
        """The 0-based source line of an offset."""
        return bisect.bisect_left(self.newlines, offset)

    def one_line(self, span: Span) -> bool:
        """Whether a construct sat on one source line."""
        return span.end > span.start and "\n" not in self.text[span.start : span.end]

    def runs(self, spans: Sequence[Span], dist: _Dist, order: Sequence[int]) -> list[list[int]]:
        """The children (source indices) of each output line, in output order: one each,
        except that children sharing a source line that carries a suppression (at its end,
        or standing alone on the line before) stay on one line, since the suppression
        covers that one line. In a step, the statements of such a line may not be
        neighbours in the table order: then the statements between them (which must be
        one-line and comment-free) join the line too, so that the step keeps the table
        order; if they cannot, or two such lines interleave, the line is broken as any."""
        on_line: dict[int, list[int]] = {}
        for index, span in enumerate(spans):
            if self.one_line(span):
                on_line.setdefault(self.line_of(span.start), []).append(index)
        position = {child: at for at, child in enumerate(order)}
        ranges: list[tuple[int, int]] = []
        for line, members in on_line.items():
            if len(members) < 2:
                continue
            trailing, leading = dist.trailing[members[-1]], dist.leading[members[0]]
            at_end = (
                trailing is not None
                and _suppresses(trailing)
                and self.line_of(trailing.span.start) == line
            )
            if not (at_end or _suppresses(leading[-1] if leading else None)):
                continue
            places = sorted(position[m] for m in members)
            low, high = places[0], places[-1]
            joining = [order[at] for at in range(low, high + 1) if order[at] not in members]
            if all(
                self.one_line(spans[i])
                and not dist.leading[i]
                and dist.trailing[i] is None
                and not dist.interior[i]
                for i in joining
            ):
                ranges.append((low, high))
        kept = {
            low: high
            for low, high in ranges
            if not any((lo, hi) != (low, high) and lo <= high and low <= hi for lo, hi in ranges)
        }
        result: list[list[int]] = []
        at = 0
        while at < len(order):
            high = kept.get(at, at)
            result.append(list(order[at : high + 1]))
            at = high + 1
        return result

    def joined(
        self,
        children: Sequence[_T],
        run: list[int],
        line: Callable[[_T, int, list[n.Comment]], list[str]],
        indent: int,
        dist: _Dist,
    ) -> list[str] | None:
        """The children of one run on one line, `; ` between them, each unbroken; None
        if one of them would not fit on one line anyway."""
        saved = self.keep_end, self.keep_before
        self.keep_end = self.keep_before = True
        try:
            texts = []
            for index in run:
                body = line(children[index], 0, dist.interior[index])
                if len(body) != 1:
                    return None
                texts.append(body[0])
        finally:
            self.keep_end, self.keep_before = saved
        return [INDENT * indent + "; ".join(texts)]

    # ---- layout helpers ---------------------------------------------------------------

    def has_blank(self, start: int, end: int) -> bool:
        """Whether the source between two offsets holds an empty line."""
        if end <= start:
            return False
        lines = self.text[start:end].split("\n")
        return any(line.strip(" \t\r\f;") == "" for line in lines[1:-1])

    def source(self, span: Span, pattern: re.Pattern[str]) -> str | None:
        """The literal as written, if the span holds one of the expected shape."""
        if span.end <= span.start:
            return None
        raw = self.text[span.start : span.end]
        return raw if pattern.fullmatch(raw) else None

    def workflow(self, workflow: n.Workflow) -> str:
        children: list[n.Header | n.Declaration] = [workflow.header, *workflow.declarations]
        dist = _distribute(workflow.comments, [c.span for c in children], opener=False)
        lines: list[str] = []
        previous: n.Header | n.Declaration | None = None
        previous_group: str | None = None
        last = 0
        spans = [c.span for c in children]
        for run in self.runs(spans, dist, range(len(children))):
            together = (
                self.joined(children, run, self.declaration, 0, dist) if len(run) > 1 else None
            )
            for part in [run] if together is not None else [[i] for i in run]:
                index = part[0]
                child = children[index]
                leading = dist.leading[index]
                trailing = dist.trailing[part[-1]]
                if together is not None:
                    body, group = together, None
                else:
                    with self.keeping_line(leading, trailing):
                        body = self.declaration(child, 0, dist.interior[index])
                    group = _kind_group(child, body)
                first = leading[0].span.start if leading else child.span.start
                if previous is not None:
                    if isinstance(previous, n.Header) and isinstance(child, n.Title):
                        blank = False
                    elif group is None or previous_group is None or group != previous_group:
                        blank = True
                    else:
                        blank = self.has_blank(last, first)
                    if blank:
                        lines.append("")
                lines.extend(self.comment_lines(leading, "", child.span.start, keep_blanks=True))
                lines.extend(self.end_of_line(child, body, trailing))
                last = trailing.span.end if trailing is not None else spans[part[-1]].end
                previous, previous_group = children[part[-1]], group
        for comment in dist.dangling:
            if self.has_blank(last, comment.span.start):
                lines.append("")
            lines.append(_text(comment))
            last = comment.span.end
        return "\n".join(lines) + "\n"

    def comment_lines(
        self, comments: list[n.Comment], pad: str, before: int, keep_blanks: bool
    ) -> list[str]:
        """Own-line comments before a construct starting at `before`."""
        lines: list[str] = []
        for index, comment in enumerate(comments):
            if (
                keep_blanks
                and index
                and self.has_blank(comments[index - 1].span.end, comment.span.start)
            ):
                lines.append("")
            lines.append(pad + _text(comment))
        if keep_blanks and comments and self.has_blank(comments[-1].span.end, before):
            lines.append("")
        return lines

    def block(
        self,
        head: str,
        children: Sequence[_T],
        line: Callable[[_T, int, list[n.Comment]], list[str]],
        indent: int,
        comments: list[n.Comment],
        keep_blanks: bool,
        span: Span,
        order: Callable[[_T], int] | None = None,
    ) -> list[str]:
        """`HEAD {`, one child per line at one more indent, `}`; `HEAD {}` when empty.
        A block that sat on one source line with a suppression at its end or just before
        it stays on one line: `HEAD { CHILD; CHILD }`."""
        pad = INDENT * indent
        inner = INDENT * (indent + 1)
        if not children and not comments:
            return [f"{pad}{head} {{}}"]
        spans = [_span(c) for c in children]
        dist = _distribute(comments, spans)
        indices = list(range(len(children)))
        if order is not None:
            indices.sort(key=lambda i: order(children[i]))
        if self.keep_line and not comments and self.one_line(span):
            one = self.joined(children, indices, line, 0, dist)
            if one is not None:
                return [f"{pad}{head} {{ {one[0]} }}"]
        first = f"{pad}{head} {{"
        lines = _with_trailing([first], dist.opener)
        last: int | None = None
        for run in self.runs(spans, dist, indices):
            together = self.joined(children, run, line, indent + 1, dist) if len(run) > 1 else None
            for part in [run] if together is not None else [[i] for i in run]:
                leading = [c for i in sorted(part) for c in dist.leading[i]]
                trailing = next((dist.trailing[i] for i in part if dist.trailing[i]), None)
                start = min(spans[i].start for i in part)
                first_at = leading[0].span.start if leading else start
                if keep_blanks and last is not None and self.has_blank(last, first_at):
                    lines.append("")
                lines.extend(self.comment_lines(leading, inner, start, keep_blanks))
                if together is not None:
                    body = together
                else:
                    child = children[part[0]]
                    with self.keeping_line(leading, trailing):
                        body = line(child, indent + 1, dist.interior[part[0]])
                lines.extend(self.end_of_line(children[part[0]], body, trailing))
                last = (
                    trailing.span.end if trailing is not None else max(spans[i].end for i in part)
                )
        for comment in dist.dangling:
            if keep_blanks and last is not None and self.has_blank(last, comment.span.start):
                lines.append("")
            lines.append(inner + _text(comment))
            last = comment.span.end
        lines.append(pad + "}")
        return lines

    def simple(self, text: str, indent: int, comments: list[n.Comment]) -> list[str]:
        """A construct that cannot hold comments inside: any found go before it."""
        pad = INDENT * indent
        return [pad + _text(c) for c in comments] + [pad + text]

    # ---- declarations -------------------------------------------------------------------

    def declaration(
        self, decl: n.Header | n.Declaration, indent: int, comments: list[n.Comment]
    ) -> list[str]:
        if isinstance(decl, n.Header):
            return self.simple(
                f"workflow {decl.name.text} version {decl.version}", indent, comments
            )
        if isinstance(decl, n.Title):
            return self.simple(f"title {self.string(decl.text)}", indent, comments)
        if isinstance(decl, n.Calendar):
            return self.block(
                f"calendar {decl.name.text}",
                decl.items,
                self.calendar_item,
                indent,
                comments,
                True,
                decl.span,
            )
        if isinstance(decl, n.CaseSchema):
            return self.block("case", decl.fields, self.field, indent, comments, True, decl.span)
        if isinstance(decl, n.EventDecl):
            return self.schema(f"event {decl.name.text}", decl.fields, indent, comments, decl.span)
        if isinstance(decl, n.ActionDecl):
            return self.schema(f"action {decl.name.text}", decl.params, indent, comments, decl.span)
        if isinstance(decl, n.Const):
            return self.layout(decl.value, 0, indent, f"const {decl.name.text} = ", "", comments)
        if isinstance(decl, n.Trigger):
            return self.trigger(decl, indent, comments)
        if isinstance(decl, n.Limit):
            head = f"limit {decl.kind.text} per {decl.scope.text} "
            tail = f" over {self.expr(decl.over, 0)}" if decl.over is not None else ""
            return self.layout(decl.amount, 0, indent, head, tail, comments)
        if isinstance(decl, n.Approve):
            head = f"approve {decl.kind.text} above "
            return self.layout(
                decl.amount, 0, indent, head, f" by {self.string(decl.role)}", comments
            )
        if isinstance(decl, n.Sla):
            return self.simple(self.sla(decl), indent, comments)
        if isinstance(decl, n.Measure):
            text = f"measure {decl.name.text} from {decl.event.text}.{decl.field.text}"
            if decl.kind is not None:
                text += f" as {decl.kind.text}"
            return self.simple(text, indent, comments)
        if isinstance(decl, n.On):
            return self.on(decl, indent, comments)
        if isinstance(decl, n.Start):
            return self.simple(f"start {decl.step.text}", indent, comments)
        if isinstance(decl, n.Step):
            head = f"step {decl.name.text}"
            if decl.title is not None:
                head += f" {self.string(decl.title)}"
            return self.block(
                head,
                decl.body,
                self.statement,
                indent,
                comments,
                False,
                decl.span,
                order=statement_rank,
            )
        if isinstance(decl, n.Outcome):
            text = f"outcome {decl.name.text}"
            if decl.kind is not None:
                text += f" as {decl.kind.text}"
            return self.simple(text, indent, comments)
        raise TypeError(f"not a declaration: {decl!r}")

    def schema(
        self,
        head: str,
        fields: tuple[n.Field, ...],
        indent: int,
        comments: list[n.Comment],
        span: Span,
    ) -> list[str]:
        """`event NAME` / `event NAME { a: t; b: t }` when short, else a block."""
        pad = INDENT * indent
        if not fields and not comments:
            return [pad + head]
        if len(fields) <= 2 and not comments:
            line = f"{pad}{head} {{ " + "; ".join(self.field_text(f) for f in fields) + " }"
            if len(line) <= MAX_WIDTH or self.keep_line:
                return [line]
        return self.block(head, fields, self.field, indent, comments, True, span)

    def field_text(self, field: n.Field) -> str:
        return f"{field.name.text}: {self.type_ref(field.type)}"

    def field(self, field: n.Field, indent: int, comments: list[n.Comment]) -> list[str]:
        return self.simple(self.field_text(field), indent, comments)

    def type_ref(self, ref: n.TypeRef) -> str:
        text = ref.name.text
        if ref.args:
            text += "(" + ", ".join(self.type_ref(arg) for arg in ref.args) + ")"
        return text + ("?" if ref.optional else "")

    def calendar_item(
        self, item: n.CalendarItem, indent: int, comments: list[n.Comment]
    ) -> list[str]:
        if isinstance(item, n.CalTimezone):
            text = f"timezone {self.string(item.zone)}"
        elif isinstance(item, n.CalHours):
            days = ",".join(
                d.first.text + (f"-{d.last.text}" if d.last is not None else "") for d in item.days
            )
            intervals = ", ".join(
                f"{self.time_of_day(i.open)}-{self.time_of_day(i.close)}" for i in item.intervals
            )
            text = f"hours {days} {intervals}"
        elif isinstance(item, n.CalHolidaysCountry):
            text = f"holidays {self.string(item.country)}"
        elif isinstance(item, n.CalHolidaysDates):
            text = "holidays " + ", ".join(self.date(d) for d in item.dates)
        else:
            text = "open " + ", ".join(self.date(d) for d in item.dates)
        return self.simple(text, indent, comments)

    def time_of_day(self, time: n.TimeOfDay) -> str:
        written = self.source(time.span, _TIME_RE)
        return written or f"{time.minutes // 60:02d}:{time.minutes % 60:02d}"

    def date(self, date: n.DateLit) -> str:
        return self.source(date.span, _DATE_RE) or date.value.isoformat()

    def trigger(self, decl: n.Trigger, indent: int, comments: list[n.Comment]) -> list[str]:
        head = f"trigger {decl.name.text} "
        tail = f" cooldown {self.expr(decl.cooldown, 0)}" if decl.cooldown is not None else ""
        if decl.mode == "on":
            head += f"on {decl.event.text if decl.event else ''}"
        elif decl.mode == "at" and decl.at is not None:
            at_span = _tight(decl.at)
            inside = [c for c in comments if at_span.start <= c.span.start < at_span.end]
            if decl.condition is None:
                return self.layout(decl.at, 0, indent, head + "at ", tail, comments)
            hoisted = [INDENT * indent + _text(c) for c in inside]
            if inside:
                self.keep_before = _suppresses(inside[-1])
            rest = [c for c in comments if c not in inside]
            head += f"at {self.expr(decl.at, 0)}"
            return hoisted + self.layout(decl.condition, 0, indent, head + " when ", tail, rest)
        if decl.condition is None:
            return self.simple(head.rstrip() + tail, indent, comments)
        return self.layout(decl.condition, 0, indent, f"{head.rstrip()} when ", tail, comments)

    def sla(self, decl: n.Sla) -> str:
        parts = [f"sla {decl.name.text} {self.expr(decl.duration, 0)}"]
        if decl.calendar is not None:
            parts.append(f"in {decl.calendar.text}")
        if decl.start_step is not None:
            parts.append(f"from {decl.start_step.text}")
        parts.append(f"until {decl.until.text}")
        if decl.warn is not None:
            parts.append(f"warn {self.expr(decl.warn, 0)} before")
        if decl.pause:
            parts.append("pause in " + ", ".join(step.text for step in decl.pause))
        if decl.breach is not None:
            parts.append(f"breach -> {decl.breach.text}")
        return " ".join(parts)

    def on(self, handler: n.On, indent: int, comments: list[n.Comment]) -> list[str]:
        tail = f" -> {handler.target.text}"
        if handler.guard is None:
            return self.simple(f"on {handler.event.text}{tail}", indent, comments)
        return self.layout(
            handler.guard, 0, indent, f"on {handler.event.text} when ", tail, comments
        )

    # ---- step statements ----------------------------------------------------------------

    def statement(self, stmt: n.Statement, indent: int, comments: list[n.Comment]) -> list[str]:
        if isinstance(stmt, n.Wait | n.Due):
            word = "wait" if isinstance(stmt, n.Wait) else "due"
            return self.simple(
                f"{word} {self.timing(stmt.duration, stmt.calendar)}", indent, comments
            )
        if isinstance(stmt, n.Every):
            count = self.source(stmt.count_span, _COUNT_RE) or str(stmt.count)
            text = f"every {self.timing(stmt.duration, stmt.calendar)} up to {count}"
            return self.simple(text, indent, comments)
        if isinstance(stmt, n.Do):
            return self.do(stmt, indent, comments)
        if isinstance(stmt, n.Offer):
            tail = f" label {self.string(stmt.label)}" if stmt.label is not None else ""
            return self.layout(stmt.amount, 0, indent, f"offer {stmt.kind.text} ", tail, comments)
        if isinstance(stmt, n.When):
            return self.layout(stmt.guard, 0, indent, "when ", f" -> {stmt.target.text}", comments)
        if isinstance(stmt, n.Goto):
            return self.simple(f"-> {stmt.target.text}", indent, comments)
        return self.on(stmt, indent, comments)

    def timing(self, duration: n.DurationRef, calendar: n.Name | None) -> str:
        text = self.expr(duration, 0)
        return f"{text} in {calendar.text}" if calendar is not None else text

    def do(self, stmt: n.Do, indent: int, comments: list[n.Comment]) -> list[str]:
        pad = INDENT * indent
        head = f"do {stmt.action.text}"
        if not stmt.args and not comments:
            return [pad + head]
        flat = head + "(" + ", ".join(f"{a.name.text}: {self.expr(a.value, 0)}" for a in stmt.args)
        flat += ")"
        if not comments and (len(pad + flat) <= MAX_WIDTH or self.keep_line):
            return [pad + flat]
        last = len(stmt.args) - 1
        elems = tuple(
            _Elem(arg.value, 0, f"{arg.name.text}: ", "," if i < last else "", arg.span)
            for i, arg in enumerate(stmt.args)
        )
        return self.explode(indent, "", _Group(head + "(", elems, ")"), "", comments)

    # ---- expressions: breaking long lines ------------------------------------------------

    def layout(
        self,
        expr: n.Expr,
        level: int,
        indent: int,
        prefix: str,
        suffix: str,
        comments: list[n.Comment],
    ) -> list[str]:
        """PREFIX EXPR SUFFIX on one line if it fits and holds no comment; else broken
        inside the expression's brackets (a chain or an `if` gets parentheses). Comments
        with no place inside go on their own lines before it."""
        pad = INDENT * indent
        lifted, comments = self.lift(expr, level, comments)
        head = [pad + _text(c) for c in lifted]
        if lifted:
            self.keep_before = _suppresses(lifted[-1])
        line = pad + prefix + self.expr(expr, level) + suffix
        if not comments and (len(line) <= MAX_WIDTH or self.keep_line):
            return [*head, line]
        group = self.group(expr, level)
        if group is not None:
            return head + self.explode(indent, prefix, group, suffix, comments)
        split = self.split(expr, level)
        if split is not None:
            part, part_level, lead = split
            return head + self.layout(part, part_level, indent, prefix + lead, suffix, comments)
        return [*head, line]

    def split(self, expr: n.Expr, level: int) -> tuple[n.Expr, int, str] | None:
        """`not GROUP` and `X op GROUP` break inside their last operand: (operand, its
        level, the text before it)."""
        if isinstance(expr, n.Not) and level <= _NOT and self.group(expr.operand, _NOT):
            return expr.operand, _NOT, "not "
        if isinstance(expr, n.Compare) and level <= _CMP and self.group(expr.right, _SUM):
            return expr.right, _SUM, f"{self.expr(expr.left, _SUM)} {expr.op} "
        return None

    def lift(
        self, expr: n.Expr, level: int, comments: list[n.Comment]
    ) -> tuple[list[n.Comment], list[n.Comment]]:
        """The comments that go before the expression's first line, and the rest.

        All of them when the expression cannot break (or would break after one of
        them); for a chain or an `if`, those before its first element and those its
        first element lifts: just inside parentheses that the formatter adds, a comment
        could not tell the group from its first element on the next run.
        """
        if not comments:
            return [], []
        group = self.group(expr, level)
        if group is None:
            split = self.split(expr, level)
            if split is None or (isinstance(expr, n.Compare) and self.inside(expr.left, comments)):
                return list(comments), []
            return self.lift(split[0], split[1], comments)
        if not group.synthetic:
            return [], list(comments)
        first = self.regions(group)[0]
        inside = [c for c in comments if first.start <= c.span.start < first.end]
        from_first, _ = self.lift(group.elems[0].expr, group.elems[0].level, inside)
        lifted = [c for c in comments if c.span.start < first.start or c in from_first]
        return lifted, [c for c in comments if c not in lifted]

    def inside(self, expr: n.Expr, comments: list[n.Comment]) -> bool:
        span = _tight(expr)
        return any(span.start <= c.span.start < span.end for c in comments)

    def group(self, expr: n.Expr, level: int) -> _Group | None:
        """The elements an expression breaks into, one per line, or None."""
        if isinstance(expr, n.BoolOp):
            base = _OR if expr.op == "or" else _AND
            rights: list[n.Expr] = []
            left: n.Expr = expr
            while isinstance(left, n.BoolOp) and left.op == expr.op:
                rights.append(left.right)
                left = left.left
            elems = [_Elem(left, base, "", "", _tight(left))]
            elems.extend(
                _Elem(right, base + 1, f"{expr.op} ", "", _tight(right))
                for right in reversed(rights)
            )
            return _Group(
                "(", tuple(elems), ")", Span(elems[0].span.start, elems[-1].span.end), True
            )
        if isinstance(expr, n.Arith):
            level = _SUM if expr.op in ("+", "-") else _PRODUCT
            ops = ("+", "-") if level == _SUM else ("*", "/")
            tail: list[tuple[str, n.Expr]] = []
            first: n.Expr = expr
            while isinstance(first, n.Arith) and first.op in ops:
                tail.append((first.op, first.right))
                first = first.left
            terms = [_Elem(first, level, "", "", _tight(first))]
            terms.extend(
                _Elem(right, level + 1, f"{op} ", "", _tight(right)) for op, right in reversed(tail)
            )
            return _Group(
                "(", tuple(terms), ")", Span(terms[0].span.start, terms[-1].span.end), True
            )
        if isinstance(expr, n.IfExpr):
            parts = (
                _Elem(expr.condition, _OR, "if ", "", _tight(expr.condition)),
                _Elem(expr.then, _OR, "then ", "", _tight(expr.then)),
                _Elem(expr.otherwise, 0, "else ", "", _tight(expr.otherwise)),
            )
            return _Group("(", parts, ")", Span(_tight(expr).start, parts[-1].span.end), True)
        if isinstance(expr, n.Call) and expr.args:
            span = _span(expr)
            opening = self.masked.find("(", span.start + len(expr.function.text), span.end)
            inner = Span(opening + 1, span.end - 1) if opening >= 0 else None
            return _Group(f"{expr.function.text}(", self.listed(expr.args), ")", inner)
        if isinstance(expr, n.ListExpr) and expr.items:
            span = _span(expr)
            return _Group("[", self.listed(expr.items), "]", Span(span.start + 1, span.end - 1))
        return None

    def listed(self, items: tuple[n.Expr, ...]) -> tuple[_Elem, ...]:
        last = len(items) - 1
        return tuple(
            _Elem(item, 0, "", "," if i < last else "", _tight(item))
            for i, item in enumerate(items)
        )

    def explode(
        self, indent: int, prefix: str, group: _Group, suffix: str, comments: list[n.Comment]
    ) -> list[str]:
        pad = INDENT * indent
        inner = INDENT * (indent + 1)
        dist = _distribute(comments, self.regions(group))
        lines = _with_trailing([pad + prefix + group.opener], dist.opener)
        for index, elem in enumerate(group.elems):
            leading, trailing = dist.leading[index], dist.trailing[index]
            lines.extend(inner + _text(c) for c in leading)
            with self.keeping_line(leading, trailing):
                body = self.layout(
                    elem.expr,
                    elem.level,
                    indent + 1,
                    elem.prefix,
                    elem.suffix,
                    dist.interior[index],
                )
            lines.extend(_with_trailing(body, trailing))
        lines.extend(inner + _text(c) for c in dist.dangling)
        lines.append(pad + group.closer + suffix)
        return lines

    def regions(self, group: _Group) -> list[Span]:
        spans = [e.span for e in group.elems]
        return spans if group.inner is None else self.widen(spans, group.inner)

    def widen(self, spans: list[Span], inner: Span) -> list[Span]:
        """Each element's span grown to the parentheses around it: between two elements
        the source holds only `)`s of the first, the separator, and `(`s of the second."""
        text = self.masked
        starts = [s.start for s in spans]
        ends = [s.end for s in spans]
        for index, span in enumerate(spans):
            low = inner.start if index == 0 else spans[index - 1].end
            at = span.start
            while at > low and text[at - 1] in " \t\r\n\f(":
                at -= 1
                if text[at] == "(":
                    starts[index] = at
            high = inner.end if index == len(spans) - 1 else spans[index + 1].start
            at = span.end
            while at < high and text[at] in " \t\r\n\f)":
                at += 1
                if text[at - 1] == ")":
                    ends[index] = at
        return [Span(start, end) for start, end in zip(starts, ends, strict=True)]

    # ---- expressions: one line -----------------------------------------------------------

    def expr(self, expr: n.Expr, level: int) -> str:
        """The expression's text, parenthesized if it binds looser than `level` needs."""
        text, precedence = render_precedence(expr, self.written)
        return f"({text})" if precedence < level else text

    def string(self, node: n.String) -> str:
        return self.source(node.span, _STRING_RE) or quote(node.value)

    def written(self, literal: n.Expr) -> str | None:
        """A literal as the source wrote it (`exprs.render` gives the rest)."""
        if isinstance(literal, n.MoneyLit):
            text = self.source(literal.span, _MONEY_RE)
            return None if text is None else re.sub(r"[ \t]+", " ", text)
        pattern = _WRITTEN.get(type(literal))
        return None if pattern is None else self.source(literal.span, pattern)
