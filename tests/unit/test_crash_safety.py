"""Crash safety: a worker feeding cases and events into a SQLite store is killed (SIGKILL)
at many points, restarted, re-sends everything, and ends where an uninterrupted run ends.

The stream is the reference workflow's example cases plus shifted copies of them, put on
one timeline as `retainflow run` does, with an `advance` before some inputs. Kill points:
- deterministic: the worker's SQLite connection counts virtual-machine steps (a progress
  handler) and the worker SIGKILLs itself at a step drawn from a seeded generator, so it
  dies inside statements and transactions, before or after their COMMIT;
- by the parent, at a seeded delay after the worker starts (anywhere, Python included).
After every kill, every call the worker reported as returned must be in the store; after
the last (uninterrupted) run, outcomes, paths, offers, SLAs, actions, histories and the
ledger equal those of an in-memory run (re-sent events show as extra `duplicate`s only).

This file is also the worker: `python test_crash_safety.py worker DB CASES [KILL_STEP]`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

import retainflow  # noqa: E402
from retainflow.caseio import load_cases  # noqa: E402
from retainflow.compile import Workflow  # noqa: E402
from retainflow.engine import Engine  # noqa: E402
from retainflow.runtime.batch import default_until  # noqa: E402
from retainflow.stores.sqlite import SQLiteStore  # noqa: E402

WORKFLOW = ROOT / "workflows" / "reactive_retention.rflow"
EXAMPLES = ROOT / "examples" / "reactive_retention.cases.yaml"
SEED = 20261201

Input = tuple[Any, ...]  # ("submit", data, at) | ("handle", case, event, at) | ("advance", at)

# ---- the stream --------------------------------------------------------------------------------

_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")


def write_cases(path: Path, copies: int) -> Path:
    """The example cases and `copies` shifted copies (new case and event ids and clients,
    times moved by whole weeks plus a few minutes so that no two inputs coincide)."""
    text = EXAMPLES.read_text(encoding="utf-8")
    parts = [text]
    for copy in range(1, copies + 1):
        shift = dt.timedelta(weeks=copy, minutes=7 * copy)

        def moved(match: re.Match[str], shift: dt.timedelta = shift) -> str:
            return (dt.datetime.fromisoformat(match.group(0)) + shift).isoformat()

        body = _TIME.sub(moved, text)
        body = re.sub(r"^- id: (\S+)", rf"- id: K{copy}-\1", body, flags=re.M)
        body = re.sub(r"id: (rr\S+?)}", rf"id: k{copy}-\1}}", body)
        body = re.sub(r"^  client: (\S+)", rf"  client: \1_{copy}", body, flags=re.M)
        parts.append(body)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def stream(workflow: Workflow, cases: Path) -> list[Input]:
    """Every input on one timeline (as `retainflow run` orders them), an `advance` to the
    time of every fifth input before it, and a last `advance` to the horizon."""
    entries = load_cases(cases, [workflow])
    timed: list[tuple[dt.datetime, int, int, Input]] = []
    for entry in entries:
        if entry.at is None or entry.case_id is None:
            continue  # rejected while loading: never sent
        timed.append((entry.at.astimezone(dt.UTC), entry.index, 0, ("submit", entry.data)))
        for event in entry.events:
            item = ("handle", entry.case_id, dict(event.raw))
            timed.append((event.at.astimezone(dt.UTC), entry.index, event.index, item))
    timed.sort(key=lambda t: t[:3])
    inputs: list[Input] = []
    for number, (at, _, _, item) in enumerate(timed):
        if number % 5 == 4:
            inputs.append(("advance", at))
        inputs.append((*item, at))
    horizon = default_until(entries)
    assert horizon is not None
    inputs.append(("advance", horizon))
    return inputs


def feed(engine: Engine, inputs: Sequence[Input], done: Callable[[int], None] | None) -> None:
    for number, item in enumerate(inputs):
        try:
            if item[0] == "submit":
                engine.submit(item[1], at=item[2])
            elif item[0] == "handle":
                engine.handle(item[1], item[2], at=item[3])
            else:
                engine.advance(item[1])
        except retainflow.EventRejected:
            pass  # bad data (RR-09): rejected every time, changes nothing
        if done is not None:
            done(number)


def case_ids(inputs: Sequence[Input]) -> list[str]:
    return list(dict.fromkeys(str(item[1]["id"]) for item in inputs if item[0] == "submit"))


def clients(inputs: Sequence[Input]) -> list[str]:
    return sorted({str(item[1]["client"]) for item in inputs if item[0] == "submit"})


# ---- comparing ---------------------------------------------------------------------------------


def without_duplicates(record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record)
    out["ignored"] = [i for i in record["ignored"] if i["reason"] != "duplicate"]
    return out


def assert_same_run(
    engine: Engine, reference: Engine, inputs: Sequence[Input], resent: bool = True
) -> None:
    """Everything an uninterrupted run has; re-sending adds only `duplicate` records."""
    for case in case_ids(inputs):
        mine = json.loads(json.dumps(engine.records(case)))
        theirs = json.loads(json.dumps(reference.records(case)))
        assert [without_duplicates(r) for r in mine] == [without_duplicates(r) for r in theirs], (
            case
        )
        for got, want in zip(mine, theirs, strict=True):
            dupes = [i["id"] for i in got["ignored"] if i["reason"] == "duplicate"]
            for item in want["ignored"]:
                if item["reason"] == "duplicate":
                    assert item["id"] in dupes
            if not resent:
                assert got["ignored"] == want["ignored"]
        history = [h for h in engine.history(case) if h["kind"] != "duplicate"]
        assert history == [h for h in reference.history(case) if h["kind"] != "duplicate"], case
    for client in clients(inputs):
        assert engine.ledger(client) == reference.ledger(client), client


def assert_ledger_has_no_twin(db: Path) -> None:
    conn = sqlite3.connect(db)
    twins = conn.execute(
        "SELECT case_id, workflow, instance, at, kind, amount, count(*) FROM ledger "
        "WHERE instance IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6 HAVING count(*) > 1"
    ).fetchall()
    conn.close()
    assert twins == []


# ---- the worker --------------------------------------------------------------------------------


class KillingStore(SQLiteStore):
    """A store whose connection SIGKILLs the process after `kill_step` progress calls."""

    kill_step = 0
    steps = 0

    def _connect(self) -> sqlite3.Connection:
        conn = super()._connect()
        if self.kill_step or os.environ.get("RF_COUNT_STEPS"):
            conn.set_progress_handler(self._step, 20)
        return conn

    def _step(self) -> int:
        KillingStore.steps += 1
        if self.kill_step and KillingStore.steps >= self.kill_step:
            os.kill(os.getpid(), signal.SIGKILL)
        return 0


def worker(db: str, cases: str, kill_step: int, done_file: str | None) -> None:
    workflow = retainflow.load(WORKFLOW)
    KillingStore.kill_step = kill_step
    engine = Engine([workflow], store=KillingStore(db))
    inputs = stream(workflow, Path(cases))
    out = open(done_file, "a", encoding="utf-8") if done_file else None  # noqa: SIM115

    def done(number: int) -> None:
        if out is not None:
            out.write(f"{number}\n")
            out.flush()  # in the OS's hands: survives the process

    feed(engine, inputs, done)
    if os.environ.get("RF_COUNT_STEPS"):
        print(KillingStore.steps)


def run_worker(
    db: Path, cases: Path, kill_step: int = 0, done: Path | None = None, **popen: Any
) -> subprocess.Popen[str]:
    command = [sys.executable, __file__, "worker", str(db), str(cases), str(kill_step)]
    if done is not None:
        command.append(str(done))
    return subprocess.Popen(command, text=True, **popen)


# ---- the test ----------------------------------------------------------------------------------


def assert_returned_calls_are_kept(db: Path, inputs: Sequence[Input], done: Path) -> None:
    """Every call the worker saw return is in the store."""
    numbers = [int(line) for line in done.read_text().split()] if done.exists() else []
    if not numbers:
        return
    last = max(numbers)
    store = SQLiteStore(db, create=False)
    engine = Engine([retainflow.load(WORKFLOW)], store=store)
    clock = store.clock()
    for item in inputs[: last + 1]:
        if item[0] == "advance":
            assert clock is not None and clock >= item[1]
            continue
        case = item[1]["id"] if item[0] == "submit" else item[1]
        state = engine.case_state(str(case))
        if item[0] == "submit":
            if str(case) == "RR-09" or str(case).endswith("-RR-09"):
                continue  # rejected data: never stored
            assert state is not None and item[2] in state.submissions, case
        else:
            assert state is not None and str(item[2]["id"]) in state.seen_ids, (case, item)
    store.close()


def test_killed_workers_lose_nothing_and_leave_no_half_effect(tmp_path: Path) -> None:
    cases = write_cases(tmp_path / "cases.yaml", copies=2)
    workflow = retainflow.load(WORKFLOW)
    inputs = stream(workflow, cases)
    reference = Engine([workflow])
    feed(reference, inputs, None)

    # how many progress steps an uninterrupted run takes (on a scratch file)
    scratch = tmp_path / "scratch.db"
    counted = run_worker(
        scratch, cases, env={**os.environ, "RF_COUNT_STEPS": "1"}, stdout=subprocess.PIPE
    )
    total = int(counted.communicate(timeout=120)[0].split()[-1])
    assert counted.returncode == 0 and total > 1000

    db = tmp_path / "store.db"
    rng = random.Random(SEED)
    kills = sorted(rng.sample(range(total // 50, total), 10))
    kills.insert(0, 1)  # while opening the store
    killed = 0
    started = time.monotonic()
    for round_number, step in enumerate(kills):
        done = tmp_path / f"done{round_number}.txt"
        process = run_worker(db, cases, kill_step=step, done=done)
        process.wait(timeout=120)
        if process.returncode == -signal.SIGKILL:
            killed += 1
        else:
            assert process.returncode == 0
        assert_returned_calls_are_kept(db, inputs, done)
    for delay in (rng.uniform(0.5, 1.2), rng.uniform(0.5, 1.5)):
        done = tmp_path / f"done-timed-{delay:.3f}.txt"
        process = run_worker(db, cases, done=done)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=120)
        killed += process.returncode == -signal.SIGKILL
        assert_returned_calls_are_kept(db, inputs, done)
    assert killed >= 10

    final = run_worker(db, cases)
    assert final.wait(timeout=120) == 0
    engine = Engine([workflow], store=SQLiteStore(db, create=False))
    assert_same_run(engine, reference, inputs)
    assert_ledger_has_no_twin(db)
    assert time.monotonic() - started < 90


def test_an_uninterrupted_run_equals_the_memory_run_exactly(tmp_path: Path) -> None:
    cases = write_cases(tmp_path / "cases.yaml", copies=1)
    workflow = retainflow.load(WORKFLOW)
    inputs = stream(workflow, cases)
    reference = Engine([workflow])
    feed(reference, inputs, None)
    db = tmp_path / "store.db"
    assert run_worker(db, cases).wait(timeout=120) == 0
    engine = Engine([workflow], store=SQLiteStore(db))
    assert_same_run(engine, reference, inputs, resent=False)


def test_inputs_at_one_instant_never_share_a_client(tmp_path: Path) -> None:
    """So their order cannot matter (the concurrency test relies on it: two engines may
    apply two such inputs in either order)."""
    workflow = retainflow.load(WORKFLOW)
    inputs = stream(workflow, write_cases(tmp_path / "cases.yaml", copies=2))
    client = {str(i[1]["id"]): str(i[1]["client"]) for i in inputs if i[0] == "submit"}
    by_time: dict[dt.datetime, set[str]] = {}
    for item in inputs:
        if item[0] == "submit":
            by_time.setdefault(item[2], set()).add(str(item[1]["id"]))
        elif item[0] == "handle":
            by_time.setdefault(item[3], set()).add(str(item[1]))
    for cases in by_time.values():
        assert len({client[case] for case in cases}) == len(cases)
    assert len(inputs) > 150


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "worker":
    worker(
        sys.argv[2],
        sys.argv[3],
        int(sys.argv[4]) if len(sys.argv) > 4 else 0,
        sys.argv[5] if len(sys.argv) > 5 else None,
    )
elif __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
