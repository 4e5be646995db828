"""Source files and spans: text in, 1-based line/column positions out.

A `Span` is a half-open range of code-point offsets into one file's text; a
`SourceFile` turns offsets into the 1-based lines and code-point columns that
diagnostics show (tools.md: `end_column` is exclusive).
"""

from __future__ import annotations

import bisect
from functools import cached_property

import attrs


@attrs.frozen
class Span:
    start: int
    end: int

    def cover(self, other: Span) -> Span:
        return Span(min(self.start, other.start), max(self.end, other.end))


NO_SPAN = Span(0, 0)


@attrs.frozen
class Position:
    line: int
    column: int


@attrs.define
class SourceFile:
    path: str
    text: str

    @cached_property
    def _line_starts(self) -> list[int]:
        starts = [0]
        starts.extend(index + 1 for index, char in enumerate(self.text) if char == "\n")
        return starts

    def position(self, offset: int) -> Position:
        offset = max(0, min(offset, len(self.text)))
        line_index = bisect.bisect_right(self._line_starts, offset) - 1
        return Position(line_index + 1, offset - self._line_starts[line_index] + 1)

    def line_text(self, line: int) -> str:
        starts = self._line_starts
        if not 1 <= line <= len(starts):
            return ""
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[starts[line - 1] : end].rstrip("\r")

    def snippet(self, span: Span) -> str:
        return self.text[span.start : span.end]
