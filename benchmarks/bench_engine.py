"""Engine benchmarks: whole-case runs per second, and compile time per workflow.

    python benchmarks/bench_engine.py [--cases N] [--repeat R] [--profile]

Whole-case runs: the 10 runnable cases of the conformance example (shared/conformance/run/
reactive_retention, R6a is rejected data) are replicated into N distinct cases (new ids
and clients, times shifted by whole weeks over a year) and fed to one Engine in time order
through the Python API, as a service would: each case's submission, its events, and every
timer up to its end (`Engine.advance`). Measured: cases per second (submission to end), on
one core, best of R runs, and the same including the run-result records (`records`).
Compile time: `retainflow.load` of each file in workflows/ (parse, checks, compile).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import pstats
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import retainflow  # noqa: E402
from retainflow.caseio import load_cases  # noqa: E402
from retainflow.engine import Engine  # noqa: E402

SORT = "tottime"
EXAMPLE = ROOT.parent / "shared" / "conformance" / "run" / "reactive_retention"
WORKFLOW = EXAMPLE / "reactive_retention.rflow"
if not WORKFLOW.is_file():
    WORKFLOW = ROOT / "workflows" / "reactive_retention.rflow"
    EXAMPLE = ROOT / "examples"


def inputs(count: int) -> tuple[Any, list[tuple[dt.datetime, int, int, str, dict[str, Any]]]]:
    workflow = retainflow.load(WORKFLOW)
    cases_file = EXAMPLE / "cases.yaml"
    if not cases_file.is_file():
        cases_file = ROOT / "examples" / "reactive_retention.cases.yaml"
    templates = [e for e in load_cases(cases_file, [workflow]) if e.ok]
    timeline: list[tuple[dt.datetime, int, int, str, dict[str, Any]]] = []
    for number in range(count):
        template = templates[number % len(templates)]
        shift = dt.timedelta(weeks=(number // len(templates)) % 52)
        case_id = f"B{number}"
        data = {
            **{k: v for k, v in template.data.items()},
            "id": case_id,
            "client": f"client{number // 3}",
        }
        assert template.at is not None
        timeline.append((template.at + shift, number, 0, case_id, data))
        for event in template.events:
            raw = dict(event.raw)
            if raw.get("id") is not None:
                raw["id"] = f"{raw['id']}-{number}"
            timeline.append((event.at + shift, number, event.index, case_id, raw))
    timeline.sort(key=lambda item: item[:3])
    return workflow, timeline


def run(workflow: Any, timeline: list[Any], with_records: bool) -> float:
    engine = Engine([workflow])
    start = time.process_time()
    last = None
    for at, _, sub, case_id, payload in timeline:
        if sub == 0:
            engine.submit(payload, at=at)
        else:
            engine.handle(case_id, payload, at=at)
        last = at
    assert last is not None
    engine.advance(last + dt.timedelta(days=365))
    if with_records:
        for case_id in engine.store.case_ids():
            engine.records(case_id)
    return time.process_time() - start


def bench_cases(count: int, repeat: int, profile: bool) -> None:
    workflow, timeline = inputs(count)
    run(workflow, timeline[: min(len(timeline), 2000)], False)  # warm caches
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run(workflow, timeline, False)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(SORT).print_stats(30)
        return
    for label, records in (("engine only", False), ("with records", True)):
        best = min(run(workflow, timeline, records) for _ in range(repeat))
        print(
            f"{label:>13}: {count} cases ({len(timeline)} inputs) in {best:.3f}s = "
            f"{count / best:,.0f} cases/s, {best / count * 1e6:.0f} us/case"
        )


def bench_compile(repeat: int) -> None:
    for path in sorted((ROOT / "workflows").glob("*.rflow")):
        text = path.read_text(encoding="utf-8")
        best = float("inf")
        for _ in range(repeat):
            start = time.process_time()
            retainflow.load(text)
            best = min(best, time.process_time() - start)
        print(f"compile {path.name:<28} {best * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() after loading and a gen-0 threshold of 50,000, as a "
        "long-running service may tune its process",
    )
    args = parser.parse_args()
    if args.gc_freeze:
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
    bench_cases(args.cases, args.repeat, args.profile)
    if not args.profile:
        bench_compile(args.repeat)


if __name__ == "__main__":
    main()
