"""The SQLite store at scale: a million waiting instances, `advance` throughput, memory.

Run from the repository root (a few minutes with the defaults):

    python benchmarks/bench_store.py [--instances 1000000] [--fire 300000] [--window 1800]
        [--synchronous FULL|NORMAL] [--batch 256] [--cache 512] [--gc-freeze] [--db PATH]

1. Engine submissions: `--engine-submits` cases of `workflows/reactive_retention.rflow`
   through `Engine.submit`, grouped 1,000 per transaction (bulk loading), and `--commits`
   more with one transaction per call (what a service does: one fsync per call with FULL).
2. The other instances are generated directly: `--templates` cases, submitted through an
   engine with a memory store at distinct times over `--days` days, are cloned (new case
   id and client, new timer sequence numbers) and written through the store API
   (`save_case`, `add_timer`) in transactions of 100,000 cases. Every instance waits in
   `listen`, with four timers (SLA warning, two SLA deadlines, the step's `due`).
3. Database size per instance (after a WAL checkpoint), `next_wakeup` latency.
4. `advance` in windows of `--window` seconds of simulated time, from the earliest timer,
   until `--fire` timers have fired: timers per second (wall and CPU), and the resident
   memory (VmRSS) after every window and its peak (sampled every 0.2 s while advancing).
   `--single N` also fires N timers in one `advance` call (the whole `Result` then stays
   in memory: its actions and trace are what grows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import retainflow  # noqa: E402
from retainflow.runtime.state import CaseState  # noqa: E402
from retainflow.stores.base import DueTimer  # noqa: E402
from retainflow.stores.codec import dump_state, load_state  # noqa: E402
from retainflow.stores.sqlite import SQLiteStore  # noqa: E402

WORKFLOW = ROOT / "workflows" / "reactive_retention.rflow"
T0 = dt.datetime(2026, 5, 4, 0, 0, tzinfo=dt.UTC)  # Monday 08:00 in Manila
TIERS = ("bronze", "silver", "gold", "platinum")


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Sampler:
    """The highest VmRSS seen while a block runs (sampled every 0.2 s)."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, rss_mb())

    def __enter__(self) -> Sampler:
        self.peak = rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def case_data(number: int, case_id: str, client: str) -> dict[str, Any]:
    return {
        "id": case_id,
        "client": client,
        "tier": TIERS[number % 4],
        "arr": f"{20000 + (number % 7) * 10000} USD",
        "intent_to_leave": True,
    }


def submit_time(number: int, count: int, days: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=days * 86400 * number / max(1, count))


def engine_submits(store: SQLiteStore, wf: Any, count: int, commits: int) -> int:
    """Submissions in the 6 hours before T0 (the generated instances come after)."""
    engine = retainflow.Engine([wf], store=store)
    first = T0 - dt.timedelta(hours=6)
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, count, 1000):
        with store.transaction():
            for i in range(start, min(count, start + 1000)):
                at = first + dt.timedelta(seconds=5 * 3600 * i / max(1, count))
                engine.submit(case_data(i, f"E{i:07d}", f"e{i % 5000:05d}"), at=at)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"engine submissions, 1,000 per transaction: {count:,} in {wall:.1f} s: "
        f"{count / wall:,.0f}/s wall, {count / cpu:,.0f}/s CPU"
    )
    # one transaction (and, with FULL, one fsync) per call, after the bulk-loaded ones
    last = T0 - dt.timedelta(hours=1)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(commits):
        engine.submit(
            case_data(i, f"F{i:07d}", f"f{i % 5000:05d}"),
            at=last + dt.timedelta(seconds=3000 * i / max(1, commits)),
        )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if commits:
        print(
            f"engine submissions, one transaction each ({store.synchronous}): {commits:,} in "
            f"{wall:.1f} s: {commits / wall:,.0f}/s wall, {commits / cpu:,.0f}/s CPU"
        )
    return count + commits


def templates(wf: Any, count: int, days: float) -> list[tuple[bytes, int]]:
    """Waiting case states submitted at `count` times, each with a placeholder id/client."""
    engine = retainflow.Engine([wf])
    found: list[tuple[bytes, int]] = []
    for i in range(count):
        engine.submit(case_data(i, "Z#######", "z#####"), at=submit_time(i, count, days))
        state = engine.case_state("Z#######")
        assert state is not None and state.timers
        found.append((dump_state(state), min(state.timers)))
        engine.store.cases.clear()  # type: ignore[attr-defined]
    return found


def clone(blob: bytes, first_seq: int, number: int, seq: int) -> CaseState:
    """A template state as a new case (id, client) with timer sequence numbers from seq."""
    case_id, client = f"C{number:07d}".encode(), f"c{number % 99999:05d}".encode()
    state = load_state(blob.replace(b"Z#######", case_id).replace(b"z#####", client))
    shift = seq - first_seq
    state.timers = {
        old + shift: type(timer)(
            old + shift,
            timer.at,
            timer.workflow,
            timer.kind,
            timer.instance,
            timer.name,
            timer.entry,
        )
        for old, timer in state.timers.items()
    }
    for flow in state.flows.values():
        flow.at_timers = {name: old + shift for name, old in flow.at_timers.items()}
        for inst in flow.instances:
            inst.timers = {role: old + shift for role, old in inst.timers.items()}
    return state


def generate(store: SQLiteStore, wf: Any, count: int, ntemplates: int, days: float) -> None:
    made = templates(wf, ntemplates, days)
    wall, cpu = time.perf_counter(), time.process_time()
    done = 0
    while done < count:
        with store.transaction() as tx:
            seq = tx.take_seq()
            for number in range(done, min(count, done + 100_000)):
                blob, first = made[number % ntemplates]
                state = clone(blob, first, number, seq)
                for timer in state.timers.values():
                    tx.add_timer(DueTimer(timer.at, timer.seq, state.case_id))
                seq = max(state.timers) + 1
                tx.save_case(state)
            tx.put_seq(seq)
            done = min(count, done + 100_000)
        print(f"  generated {done:,} of {count:,} ({time.perf_counter() - wall:.0f} s)", flush=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"generated instances through the store API: {count:,} in {wall:.1f} s "
        f"({count / wall:,.0f}/s wall, {count / cpu:,.0f}/s CPU)"
    )


def database_size(store: SQLiteStore) -> int:
    conn = store._connection()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(
        os.path.getsize(p) for p in (store.path, Path(f"{store.path}-wal")) if os.path.exists(p)
    )


def advance_windows(store: SQLiteStore, wf: Any, fire: int, window: float) -> None:
    engine = retainflow.Engine([wf], store=store)
    start = engine.next_wakeup()
    assert start is not None
    now = start
    fired = 0
    total_wall = total_cpu = 0.0
    print(
        f"advance in windows of {window:g} s from {start.isoformat()} "
        f"(rss {rss_mb():.0f} MB before)"
    )
    print("| window | timers fired | wall s | timers/s wall | timers/s CPU | VmRSS MB | peak MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    rows = 0
    while fired < fire or (fire and not rows):
        now += dt.timedelta(seconds=window)
        before = store.stats["timers_fired"]
        with Sampler() as sampler:
            wall, cpu = time.perf_counter(), time.process_time()
            result = engine.advance(now)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        count = store.stats["timers_fired"] - before
        del result
        if count == 0:
            if engine.next_wakeup() is None:
                break
            continue
        fired += count
        total_wall += wall
        total_cpu += cpu
        rows += 1
        print(
            f"| {rows} | {count:,} | {wall:.1f} | {count / wall:,.0f} | {count / cpu:,.0f} "
            f"| {rss_mb():.0f} | {sampler.peak:.0f} |",
            flush=True,
        )
    if rows:
        print(
            f"advance total: {fired:,} timers in {total_wall:.1f} s: {fired / total_wall:,.0f}/s "
            f"wall, {fired / total_cpu:,.0f}/s CPU; process peak RSS {peak_mb():.0f} MB"
        )


def advance_single(store: SQLiteStore, wf: Any, count: int) -> None:
    engine = retainflow.Engine([wf], store=store)
    start = engine.next_wakeup()
    assert start is not None
    # find the time by which `count` timers are due
    row = (
        store._connection()
        .execute("SELECT at FROM timers ORDER BY at, seq LIMIT 1 OFFSET ?", (count,))
        .fetchone()
    )
    until = (
        start
        if row is None
        else dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=row[0] - 1)
    )
    before = store.stats["timers_fired"]
    rss = rss_mb()
    with Sampler() as sampler:
        wall, cpu = time.perf_counter(), time.process_time()
        result = engine.advance(until)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    fired = store.stats["timers_fired"] - before
    print(
        f"one advance call: {fired:,} timers in {wall:.1f} s ({fired / wall:,.0f}/s wall, "
        f"{fired / cpu:,.0f}/s CPU); RSS {rss:.0f} -> peak {sampler.peak:.0f} MB with a Result "
        f"of {len(result._actions):,} actions and {len(result._trace):,} trace entries"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--engine-submits", type=int, default=20_000)
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument("--templates", type=int, default=2000)
    parser.add_argument("--days", type=float, default=10.0)
    parser.add_argument("--fire", type=int, default=300_000)
    parser.add_argument("--window", type=float, default=1800.0)
    parser.add_argument("--single", type=int, default=0)
    parser.add_argument("--synchronous", choices=("FULL", "NORMAL"), default="FULL")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--cache", type=int, default=16)
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() before advancing and a gen-0 threshold of 50,000 (what a "
        "long-running service may do; see bench_engine.py)",
    )
    parser.add_argument("--db", default="/tmp/retainflow-bench-store.db")
    parser.add_argument("--reuse", action="store_true", help="keep an existing --db")
    args = parser.parse_args()

    path = Path(args.db)
    if not args.reuse:
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
    wf = retainflow.load(WORKFLOW)
    store = SQLiteStore(path, synchronous=args.synchronous, batch=args.batch, cache=args.cache)
    print(
        f"retainflow {retainflow.__version__}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {path} "
        f"(synchronous={args.synchronous}, batch={args.batch}, cache={args.cache})"
    )
    if not args.reuse:
        made = engine_submits(store, wf, args.engine_submits, args.commits)
        if args.instances > made:
            generate(store, wf, args.instances - made, args.templates, args.days)
    counts = store.counts()
    size = database_size(store)
    print(
        f"store: {counts['cases']:,} cases, {counts['instances']:,} instances, "
        f"{counts['timers']:,} timers; {size / 1e6:,.0f} MB = {size / counts['cases']:,.0f} "
        f"bytes per instance"
    )
    repeat = 2000
    wall = time.perf_counter()
    for _ in range(repeat):
        store.next_wakeup()
    print(f"next_wakeup: {(time.perf_counter() - wall) / repeat * 1e6:.0f} us per call")
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
    advance_windows(store, wf, args.fire, args.window)
    if args.single:
        advance_single(store, wf, args.single)
    print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
