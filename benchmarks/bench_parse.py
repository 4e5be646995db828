"""Lexing, parsing and lowering a 1,000-line workflow (issue: well under a second).

Run: `.venv/bin/python benchmarks/bench_parse.py`. Prints the best of several runs for
parse (Lark LALR + post-lexer), parse + lower (typed AST), and the full front end
(parse, lower and every check).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from retainflow import lower, parser
from retainflow.analysis import analyze_text


def make_workflow(steps: int) -> str:
    """A realistic file: a header, schemas, limits, then `steps` steps of ~10 lines."""
    lines = [
        "workflow big version 1",
        'title "A generated workflow for benchmarks"',
        "calendar support {",
        '  timezone "Europe/London"',
        "  hours mon-fri 09:00-17:30",
        "}",
        "case {",
        "  client: text",
        "  tier: enum(bronze, silver, gold)",
        "  arr: money(GBP)",
        "  csat: number?",
        "}",
        "event answered { score: number }",
        "limit compensation per case 500 GBP",
        "start s0",
    ]
    for index in range(steps):
        nxt = f"s{index + 1}" if index + 1 < steps else "done"
        lines += [
            f'step s{index} "Step number {index}" {{',
            "  # follow up with the client",
            f'  do notify(role: "agent", level: {index % 3})',
            "  due 2h in support",
            f'  when case.tier == "gold" and case.arr >= 1000 GBP -> {nxt}',
            f"  on answered when event.score >= 4 -> {nxt}",
            "  on answered when event.score <= 2 -> done",
            f"  on timeout -> {nxt}",
            "}",
            "",
        ]
    lines += ["outcome done as retained", ""]
    return "\n".join(lines)


def best_of(runs: int, work: Callable[[], object]) -> float:
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        timings.append(time.perf_counter() - began)
    return min(timings)


def main() -> None:
    text = make_workflow(99)
    line_count = text.count("\n")
    parser.parse(text)  # build the cached parser once (its cost is reported separately)
    began = time.perf_counter()
    parser._build.cache_clear()
    parser.parse(text)
    cold = time.perf_counter() - began

    def parse_and_lower() -> object:
        result = parser.parse(text)
        assert result.tree is not None, result.error
        return lower.lower(result.tree, text, result.comments)

    parse_only = best_of(5, lambda: parser.parse(text))
    lowered = best_of(5, parse_and_lower)
    full = best_of(5, lambda: analyze_text(text))
    print(f"{line_count} lines")
    print(f"first parse incl. building the parser: {cold * 1000:.1f} ms")
    print(f"parse:                 {parse_only * 1000:.1f} ms")
    print(f"parse + lower:         {lowered * 1000:.1f} ms")
    print(f"parse + lower + check: {full * 1000:.1f} ms")


if __name__ == "__main__":
    main()
