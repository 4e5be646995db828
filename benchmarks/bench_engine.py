"""Engine benchmarks: whole-case runs per second, and compile time per workflow.

    python benchmarks/bench_engine.py [--cases N] [--repeat R] [--same-instants]
                                      [--gc-freeze] [--profile]

A whole-case run is what `retainflow run` does for one case, through the public `Engine`
API of one engine with a `MemoryStore`: the case's submission (`submit`), each of its
events (`handle`), and every timer due up to its end (`advance`). The N cases are the 10
runnable cases of the conformance example (shared/conformance/run/reactive_retention, R6a
is rejected data) replicated with new ids (three cases per client, so the shared ledger
is exercised) and times shifted by whole weeks over a year plus a few seconds per round,
so that no two cases share an instant (as in real traffic; `--same-instants` drops the
seconds: then ~38 cases share each instant and the per-instant deadline memo hits
almost always). Every input of every case goes to the one engine in time order (the
cases overlap, and every finished case stays in the store), then one `advance` fires the
timers left.

Measured on one core (`time.process_time`), best of R runs (the machine is shared: the
median is printed too): cases per second, microseconds per case and per input (inputs:
submissions, events and timers fired), the time the cyclic garbage collector took, and
the same run including the run-result records (`Engine.records` of every case).
`--gc-freeze` tunes the process as a long-running service may (`gc.freeze()` after
loading, a generation-0 threshold of 50,000): it is not the default, and it is not the
number the goal is judged by. Then: `retainflow.load` (parse, checks, compile) of each
file in workflows/.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import pstats
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import retainflow  # noqa: E402
from retainflow.caseio import load_cases  # noqa: E402
from retainflow.engine import Engine  # noqa: E402
from retainflow.runtime.data import Plain  # noqa: E402
from retainflow.stores.memory import MemoryStore  # noqa: E402

SORT = "tottime"
COMPACT = False  # --compact
EXAMPLE = ROOT.parent / "shared" / "conformance" / "run" / "reactive_retention"
WORKFLOW = EXAMPLE / "reactive_retention.rflow"
if not WORKFLOW.is_file():
    WORKFLOW = ROOT / "workflows" / "reactive_retention.rflow"
    EXAMPLE = ROOT / "examples"

Entry = tuple[dt.datetime, int, int, str, dict[str, Any]]


class Timeline:
    """The inputs of a run in time order: (at, case number, 0 for the submission or the
    event's index, case id, data or event).

    Kept as rows of plain values beside a list of the payloads: a tuple that holds a dict
    stays tracked by the garbage collector (the dict might become tracked later), so a
    list of 130,000 such tuples would be 130,000 objects of the harness that every full
    collection of the run traverses; rows without the dict are untracked at the first
    collection, and so are dicts of plain values."""

    def __init__(self, entries: list[Entry]) -> None:
        self.rows = [entry[:4] for entry in entries]
        self.payloads = [entry[4] for entry in entries]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Entry]:
        for (at, number, sub, case_id), payload in zip(self.rows, self.payloads, strict=True):
            yield at, number, sub, case_id, payload

    def head(self, count: int) -> Timeline:
        return Timeline(list(self)[:count])


def inputs(count: int, same_instants: bool = False) -> tuple[Any, Timeline]:
    """The workflow and the timeline of `count` cases: (at, case number, 0 for the
    submission or the event's index, case id, data or event), in time order."""
    workflow = retainflow.load(WORKFLOW)
    cases_file = EXAMPLE / "cases.yaml"
    if not cases_file.is_file():
        cases_file = ROOT / "examples" / "reactive_retention.cases.yaml"
    templates = [e for e in load_cases(cases_file, [workflow]) if e.ok]
    timeline: list[Entry] = []
    weeks = 52
    for number in range(count):
        template = templates[number % len(templates)]
        shift = dt.timedelta(weeks=(number // len(templates)) % weeks)
        if not same_instants:  # a second more for each round of a year of weeks
            shift += dt.timedelta(seconds=1 + number // (len(templates) * weeks))
        case_id = f"B{number}"
        data = {
            **{k: v for k, v in template.data.items()},
            "id": case_id,
            "client": f"client{number // 3}",
        }
        assert template.at is not None
        timeline.append((template.at + shift, number, 0, case_id, as_json(data)))
        for event in template.events:
            raw = dict(event.raw)
            if raw.get("id") is not None:
                raw["id"] = f"{raw['id']}-{number}"
            timeline.append((event.at + shift, number, event.index, case_id, as_json(raw)))
    timeline.sort(key=lambda item: item[:3])
    return workflow, Timeline(timeline)


def as_json(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as a service receives it (decoded JSON: plain str, int, bool), not as
    YAML scalars (`Plain`, a str subclass keeping its source text). Besides being what
    services send, plain values keep the timeline out of the garbage collector's way: a
    dict of them is not tracked, and 130,000 tracked inputs waiting in the harness would
    be traversed by every full collection of the run, at the engine's expense."""
    return {str(k): (v.value if isinstance(v, Plain) else v) for k, v in payload.items()}


class _GcClock:
    """Time spent in the cyclic garbage collector (gc.callbacks), while enabled."""

    def __init__(self) -> None:
        self.total = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start


def feed(engine: Engine, timeline: Timeline) -> None:
    """Every input of the timeline, in order, then every timer left (a year after)."""
    last = None
    for at, _, sub, case_id, payload in timeline:
        if sub == 0:
            engine.submit(payload, at=at)
        else:
            engine.handle(case_id, payload, at=at)
        last = at
    assert last is not None
    engine.advance(last + dt.timedelta(days=365))


def run(workflow: Any, timeline: Timeline, with_records: bool) -> float:
    """CPU seconds of one run of the timeline through a fresh engine."""
    engine = Engine([workflow], store=MemoryStore(compact=COMPACT))
    start = time.process_time()
    feed(engine, timeline)
    if with_records:
        for case_id in engine.store.case_ids():
            engine.records(case_id)
    return time.process_time() - start


def fired_timers(workflow: Any, timeline: Timeline) -> tuple[int, float]:
    """Timers fired in a run of the timeline, and GC-tracked objects kept per case."""
    gc.collect()
    before = len(gc.get_objects())
    engine = Engine([workflow], store=MemoryStore(compact=COMPACT))
    feed(engine, timeline)
    gc.collect()
    kept = len(gc.get_objects()) - before
    fired = 0
    cases = 0
    for case_id in engine.store.case_ids():
        cases += 1
        fired += sum(1 for entry in engine.history(case_id) if entry["kind"] == "timer")
    return fired, kept / max(cases, 1)


def bench_cases(count: int, repeat: int, profile: bool, same_instants: bool) -> None:
    workflow, timeline = inputs(count, same_instants)
    run(workflow, timeline.head(2000), False)  # warm caches
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run(workflow, timeline, False)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(SORT).print_stats(30)
        return
    fired, kept = fired_timers(workflow, timeline)
    applied = len(timeline) + fired
    print(
        f"{count} cases, {'shared' if same_instants else 'distinct'} instants: "
        f"{len(timeline)} submissions and events + {fired} timers = {applied} inputs "
        f"({applied / count:.2f} per case); {kept:.1f} GC-tracked objects kept per case"
    )
    for label, records in (("engine only", False), ("with records", True)):
        times, collector = [], []
        for _ in range(repeat):
            clock = _GcClock()
            gc.collect()
            gc.callbacks.append(clock)
            try:
                times.append(run(workflow, timeline, records))
            finally:
                gc.callbacks.remove(clock)
            collector.append(clock.total)
        best = min(times)
        gc_share = collector[times.index(best)] / best if best else 0.0
        print(
            f"{label:>13}: best of {repeat} {best:.3f}s = {count / best:,.0f} cases/s, "
            f"{best / count * 1e6:.1f} us/case, {best / applied * 1e6:.2f} us/input "
            f"(median {statistics.median(times) / count * 1e6:.1f} us/case; "
            f"GC {gc_share:.0%} of the best run)"
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
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--same-instants",
        action="store_true",
        help="shift cases by whole weeks only (about 38 cases share each instant)",
    )
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() after loading and a gen-0 threshold of 50,000, as a "
        "long-running service may tune its process (not the honest default)",
    )
    parser.add_argument("--no-compile", action="store_true", help="skip the compile timings")
    parser.add_argument(
        "--compact",
        action="store_true",
        help="MemoryStore(compact=True): finished cases kept encoded (less memory)",
    )
    args = parser.parse_args()
    if args.gc_freeze:
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
    global COMPACT
    COMPACT = args.compact
    bench_cases(args.cases, args.repeat, args.profile, args.same_instants)
    if not args.profile and not args.no_compile:
        bench_compile(args.repeat)


if __name__ == "__main__":
    main()
