"""Several engines on one SQLite file: every timer fires once, every event applies once.

Two worker processes (and, separately, four threads with an engine each) feed the same
stream of cases, events and `advance`s (test_crash_safety's) into one database at the same
time. Each records the actions its calls returned. Together they must have returned
exactly the actions of one in-memory run (a timer fired twice or an event applied twice
would repeat its actions; one lost would miss them), and the store must end as that run.
An input one engine finds older than the store's clock was applied by the other (both
send the stream in the same order), and is skipped.

This file is also the worker: `python test_concurrency.py worker DB CASES OUT NUMBER`.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from test_crash_safety import (
    WORKFLOW,
    Input,
    assert_ledger_has_no_twin,
    assert_same_run,
    stream,
    write_cases,
)

import retainflow
from retainflow.engine import Action, Engine, Result
from retainflow.stores.sqlite import SQLiteStore
from retainflow.values import format_time, parse_time, to_json_value


def action_key(action: Action) -> str:
    return json.dumps(
        [
            format_time(action.at),
            action.case,
            action.workflow,
            action.step,
            action.name,
            to_json_value(dict(action.args)),
        ]
    )


def feed_collecting(
    engine: Engine, inputs: Sequence[Input], lead: tuple[int, int] | None = None
) -> list[str]:
    """Feed the stream; the actions every call returned. With `lead` (n, of k feeders),
    the feeder waits a little before the inputs of every block of five but the n-th of
    each k, so that the feeders take the lead in turn (and race at the block edges)."""
    actions: list[str] = []
    rng = random.Random()
    for number, item in enumerate(inputs):
        if lead is not None:
            mine = (number // 5) % lead[1] == lead[0]
            time.sleep(rng.uniform(0, 0.002) if mine else 0.01 + rng.uniform(0, 0.004))
        result: Result | None = None
        try:
            if item[0] == "submit":
                result = engine.submit(item[1], at=item[2])
            elif item[0] == "handle":
                result = engine.handle(item[1], item[2], at=item[3])
            else:
                result = engine.advance(item[1])
        except retainflow.EventRejected:
            continue  # bad data, or already applied by the other engine (see above)
        actions.extend(action_key(a) for a in result.actions)
    return actions


def worker(db: str, cases: str, out: str, number: int) -> None:
    workflow = retainflow.load(WORKFLOW)
    store = SQLiteStore(db, synchronous="NORMAL")
    engine = Engine([workflow], store=store)
    inputs = stream(workflow, Path(cases))
    Path(f"{out}.ready").touch()
    go = Path(out).parent / "go"
    while not go.exists():  # start together
        time.sleep(0.005)
    actions = feed_collecting(engine, inputs, lead=(number, 2))
    Path(out).write_text(json.dumps({"actions": actions, "stats": store.stats}))


def reference_run(inputs: Sequence[Input]) -> tuple[Engine, Counter[str]]:
    engine = Engine([retainflow.load(WORKFLOW)])
    return engine, Counter(feed_collecting(engine, inputs))


def test_two_processes_fire_each_timer_once_and_apply_each_event_once(tmp_path: Path) -> None:
    cases = write_cases(tmp_path / "cases.yaml", copies=2)
    workflow = retainflow.load(WORKFLOW)
    inputs = stream(workflow, cases)
    reference, expected = reference_run(inputs)
    db = tmp_path / "store.db"
    SQLiteStore(db).close()  # created before the race
    outs = [tmp_path / f"out{n}.json" for n in range(2)]
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "worker", str(db), str(cases), str(out), str(number)]
        )
        for number, out in enumerate(outs)
    ]
    deadline = time.monotonic() + 60
    while not all(Path(f"{out}.ready").exists() for out in outs):
        assert time.monotonic() < deadline and all(p.poll() is None for p in workers)
        time.sleep(0.01)
    (tmp_path / "go").touch()
    for process in workers:
        assert process.wait(timeout=120) == 0
    reports = [json.loads(out.read_text()) for out in outs]
    got = Counter(a for report in reports for a in report["actions"])
    assert got == expected
    assert sum(expected.values()) > 300
    # both did real work (the race was a race)
    assert all(len(report["actions"]) > 0 for report in reports)
    engine = Engine([workflow], store=SQLiteStore(db))
    assert_same_run(engine, reference, inputs)
    assert_ledger_has_no_twin(db)


def test_engines_in_threads_share_one_file(tmp_path: Path) -> None:
    cases = write_cases(tmp_path / "cases.yaml", copies=1)
    workflow = retainflow.load(WORKFLOW)
    inputs = stream(workflow, cases)
    reference, expected = reference_run(inputs)
    db = tmp_path / "store.db"
    store = SQLiteStore(db, synchronous="NORMAL")
    found: list[list[str]] = []
    errors: list[BaseException] = []

    def work(number: int) -> None:
        try:
            own = store if number % 2 else SQLiteStore(db, synchronous="NORMAL")
            found.append(feed_collecting(Engine([workflow], store=own), inputs, (number, 4)))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    got: Counter[str] = Counter()
    for actions in found:
        got.update(actions)
    assert got == expected
    assert sum(1 for actions in found if actions) >= 2  # a real race
    assert_same_run(Engine([workflow], store=store), reference, inputs)


if __name__ == "__main__" and len(sys.argv) > 5 and sys.argv[1] == "worker":
    worker(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))


def test_a_forked_child_uses_its_own_connection(tmp_path: Path) -> None:
    workflow = retainflow.load(WORKFLOW)
    store = SQLiteStore(tmp_path / "store.db", synchronous="NORMAL")
    engine = Engine([workflow], store=store)
    data = {"id": "P", "client": "acme", "tier": "gold", "arr": "1000 USD"}
    engine.submit({**data, "intent_to_leave": True}, at=parse_time("2026-05-04T10:00:00+08:00"))
    pid = os.fork()
    if pid == 0:  # the child: the same store object, in another process
        code = 1
        try:
            engine.submit(
                {**data, "id": "Q", "intent_to_leave": True},
                at=parse_time("2026-05-04T11:00:00+08:00"),
            )
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    engine.handle(
        "P", {"type": "call_logged", "id": "c"}, at=parse_time("2026-05-04T12:00:00+08:00")
    )
    assert [r.case for r in store.instances()] == ["P", "Q"]
    view = engine.get("P")
    assert view is not None and view.step == "solve"
