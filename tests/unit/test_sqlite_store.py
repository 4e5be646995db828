"""The SQLite store: schema and migrations, the codec, transactions, timers, ledger, log,
and the engine behaving the same on it as on the memory store.

The engine's own tests (test_engine*.py) run here a second time with `SQLiteStore` as the
default store, and the reference cases run through both stores with identical results.
"""

from __future__ import annotations

import inspect
import json
import pickle
import sqlite3
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import test_engine
import test_engine_offers
import test_engine_slas
from test_engine_support import at, flow

import retainflow
import retainflow.engine as engine_module
from retainflow import Engine, EventRejected, MemoryStore, Money, SQLiteStore
from retainflow.caseio import load_cases
from retainflow.ledger import Grant
from retainflow.runtime.batch import run_entries
from retainflow.runtime.state import ActionRecord, CaseState, Timer
from retainflow.stores.base import DueTimer
from retainflow.stores.codec import dump_state, load_state
from retainflow.stores.sqlite import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    SchemaVersionError,
    StoreError,
)

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "workflows" / "reactive_retention.rflow"
EXAMPLES = ROOT / "examples" / "reactive_retention.cases.yaml"

TIMED = """
case { client: text }
trigger t on open
start a
step a {
  do begin(n: 1)
  due 1h
  on go -> done
  on timeout -> b
}
step b {
  wait 30m
  do later(n: 2)
  due 2h
  on go -> done
  on timeout -> lost
}
outcome done as retained
outcome lost as churned
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


def reopen(path: Path, **options: Any) -> SQLiteStore:
    return SQLiteStore(path, synchronous="NORMAL", **options)


# ---- schema ------------------------------------------------------------------------------------


def test_a_new_file_gets_the_schema_wal_and_the_header(db: Path) -> None:
    store = SQLiteStore(db)
    assert store.schema_version == SCHEMA_VERSION
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"cases", "instances", "timers", "ledger", "log", "clock", "workflows"} <= tables
    indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"timers_due", "ledger_client", "log_case", "instances_version"} <= indexes
    assert store.counts() == {
        "cases": 0,
        "instances": 0,
        "timers": 0,
        "grants": 0,
        "log": 0,
    }


def test_reopening_keeps_everything(db: Path) -> None:
    engine = Engine([flow(TIMED)], store=SQLiteStore(db))
    engine.submit({"id": "C", "client": "x"}, at=at())
    engine.handle("C", {"type": "open", "id": "e1"}, at=at())
    again = Engine([flow(TIMED)], store=SQLiteStore(db))
    view = again.get("C")
    assert view is not None and (view.status, view.step) == ("waiting", "a")
    assert again.next_wakeup() == at(1)


def test_a_newer_schema_is_refused_with_a_clear_error(db: Path) -> None:
    SQLiteStore(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaVersionError, match=r"newer retainflow.*upgrade retainflow"):
        SQLiteStore(db)


def test_an_older_schema_is_migrated(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import retainflow.stores.sqlite as sqlite_module

    SQLiteStore(db).close()
    extra = (*sqlite_module.MIGRATIONS, ("CREATE TABLE later (x INTEGER)",))
    monkeypatch.setattr(sqlite_module, "MIGRATIONS", extra)
    monkeypatch.setattr(sqlite_module, "SCHEMA_VERSION", len(extra))
    store = SQLiteStore(db)
    assert store.schema_version == len(extra)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM later").fetchone() == (0,)
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    assert f"schema {len(extra)}" in meta


def _inputs(engine: Engine, *events: tuple[str, str, float]) -> None:
    engine.submit({"id": "C", "client": "x"}, at=at())
    for type_, id_, hours in events:
        engine.handle("C", {"type": type_, "id": id_}, at=at(hours))


def test_the_history_is_in_the_log_not_in_the_state_each_write_rewrites(db: Path) -> None:
    store = reopen(db)
    engine = Engine([flow(TIMED)], store=store)
    memory = Engine([flow(TIMED)])
    for each in (engine, memory):
        _inputs(each, ("open", "e1", 0.5), ("go", "e2", 0.75))
    (blob,) = sqlite3.connect(db).execute("SELECT state FROM cases").fetchone()
    assert load_state(blob).history == []
    assert len(engine.history("C")) == len(memory.history("C")) > 3
    assert engine.history("C") == memory.history("C")
    # the log's JSON bodies are rendered from the typed entries when read
    bodies = sqlite3.connect(db).execute("SELECT body FROM log WHERE case_id = 'C'").fetchall()
    assert bodies and all(body == "" for (body,) in bodies)
    logged = [h for entry in store.log("C") for h in entry.body["history"]]
    assert [h["kind"] for h in logged] == [h["kind"] for h in memory.history("C")]
    assert logged[0]["at"].endswith("Z")  # rendered as the JSON bodies always were
    begin = [a for entry in store.log("C") for a in entry.body["actions"]]
    assert begin and begin[0]["name"] == "begin" and begin[0]["args"] == {"n": 1}


def test_the_history_inside_an_open_transaction_includes_its_own_inputs(db: Path) -> None:
    store = reopen(db)
    engine = Engine([flow(TIMED)], store=store)
    memory = Engine([flow(TIMED)])
    _inputs(memory, ("open", "e1", 0.5))
    with store.transaction():  # a host grouping calls into one commit
        _inputs(engine, ("open", "e1", 0.5))
        assert engine.history("C") == memory.history("C")
        engine.handle("C", {"type": "go", "id": "e2"}, at=at(0.75))
    memory.handle("C", {"type": "go", "id": "e2"}, at=at(0.75))
    assert engine.history("C") == memory.history("C")


def test_a_schema_1_file_keeps_the_history_its_states_hold(db: Path) -> None:
    """Schema 1 kept each case's history in its state: it reads back, and moves to the
    log the first time the case is written again."""
    memory = Engine([flow(TIMED)])
    store = reopen(db)
    _inputs(memory, ("open", "e1", 0.5))
    _inputs(Engine([flow(TIMED)], store=store), ("open", "e1", 0.5))
    store.close()
    old = memory.case_state("C")
    assert old is not None and old.history
    conn = sqlite3.connect(db)  # make it the file schema 1 wrote
    conn.execute("UPDATE cases SET state = ?", (dump_state(old),))
    conn.execute("ALTER TABLE log DROP COLUMN history")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()

    engine = Engine([flow(TIMED)], store=reopen(db))
    assert engine.history("C") == memory.history("C")
    engine.handle("C", {"type": "go", "id": "e2"}, at=at(0.75))
    memory.handle("C", {"type": "go", "id": "e2"}, at=at(0.75))
    assert engine.history("C") == memory.history("C")
    (blob,) = sqlite3.connect(db).execute("SELECT state FROM cases").fetchone()
    assert load_state(blob).history == []
    assert engine.records("C") == memory.records("C")


def test_mmap_size_reads_the_file_through_a_memory_map(db: Path) -> None:
    store = reopen(db, mmap_size=1 << 26)
    engine = Engine([flow(TIMED)], store=store)
    _inputs(engine, ("open", "e1", 0.5))
    assert store._connection().execute("PRAGMA mmap_size").fetchone() == (1 << 26,)
    assert reopen(db)._connection().execute("PRAGMA mmap_size").fetchone() == (0,)
    assert [h["kind"] for h in engine.history("C")][:2] == ["submission", "event"]


def test_files_that_are_not_stores_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a retainflow store"):
        SQLiteStore(other)
    text = tmp_path / "text.db"
    text.write_text("hello, this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not a retainflow store"):
        SQLiteStore(text)
    with pytest.raises(StoreError, match="no such store"):
        SQLiteStore(tmp_path / "missing.db", create=False)
    with pytest.raises(ValueError, match="file path"):
        SQLiteStore(":memory:")


# ---- codec -------------------------------------------------------------------------------------


def test_case_states_round_trip_through_the_codec() -> None:
    engine = Engine([retainflow.load(REFERENCE)])
    output = run_entries(
        engine.workflows[0], load_cases(EXAMPLES, engine.workflows), store=engine.store
    )
    for case_id in output.engine.store.case_ids():
        state = output.engine.case_state(case_id)
        assert state is not None
        assert load_state(dump_state(state)) == state


def test_the_codec_refuses_foreign_types_both_ways() -> None:
    class Foreign:
        pass

    state = CaseState("C", data={"x": Foreign()})
    with pytest.raises(pickle.PicklingError, match="plain values only"):
        dump_state(state)
    # a row that refers to anything else is an unreadable row (StoreError), not code run
    with pytest.raises(StoreError, match=r"cannot be read.*may not refer to builtins\.print"):
        load_state(pickle.dumps([print]))
    with pytest.raises(StoreError, match=r"runtime\.state\.CaseState"):
        load_state(pickle.dumps(CaseState("C")))  # only through the codec's own layout
    with pytest.raises(StoreError, match="does not hold a case state"):
        load_state(pickle.dumps([1, 2]))


def test_the_codec_reads_a_layout_with_fields_added_or_removed() -> None:
    from retainflow.stores.codec import _build

    action = _build("ActionRecord:at,step,name,args,gone", (at(), "a", "ping", {}, 1))
    assert action == ActionRecord(at(), "a", "ping", {})
    timer = _build("Timer:seq,at,workflow,kind", (3, at(), "w", "due"))
    assert timer == Timer(3, at(), "w", "due")
    with pytest.raises(StoreError, match="lacks"):
        _build("Timer:seq,at", (3, at()))
    with pytest.raises(StoreError, match="does not know"):
        _build("Mystery:a", (1,))


def test_a_layout_only_the_store_file_knows_is_read_from_its_layouts_table(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    import retainflow.stores.codec as codec

    old = "Timer:seq,at,workflow,kind"  # a Timer as an older retainflow wrote it
    number = codec._layout_id(old)

    class OldTimer:
        pass

    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.dispatch_table = {
        **codec._REDUCERS,
        OldTimer: lambda _: (codec._build, (number, (3, at(), "w", "due"))),
    }
    pickler.dump(CaseState("C", timers={3: OldTimer()}))  # type: ignore[dict-item]
    blob = buffer.getvalue()
    monkeypatch.setattr(codec, "LAYOUTS", dict(codec.LAYOUTS))
    monkeypatch.setattr(codec, "_READ", dict(codec._READ))
    with pytest.raises(StoreError, match="layouts table"):
        load_state(blob)
    SQLiteStore(db).close()
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO layouts (id, layout) VALUES (?, ?)", (number, old))
    conn.commit()
    conn.close()
    SQLiteStore(db)  # learns the file's layouts
    assert load_state(blob).timers == {3: Timer(3, at(), "w", "due")}


def test_subclasses_of_builtins_are_stored_as_the_builtin() -> None:
    class Text(str):
        pass

    state = CaseState("C", data={"tier": Text("gold"), "n": Decimal("1.5")})
    back = load_state(dump_state(state))
    assert type(back.data["tier"]) is str and back == state


# ---- transactions -------------------------------------------------------------------------------


def test_an_exception_rolls_the_whole_call_back(db: Path) -> None:
    store = reopen(db)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.set_clock(at(5))
        tx.save_case(CaseState("C"))
        tx.add_timer(DueTimer(at(1), 0, "C"))
        tx.add_grant(Grant(at(), "acme", "credit", Money(Decimal(5), "USD"), "C", "w", None, 1))
        raise RuntimeError("boom")
    assert store.clock() is None
    assert store.counts()["cases"] == 0 and store.counts()["grants"] == 0
    assert store.next_wakeup() is None


def test_joined_calls_commit_once_and_a_clean_failure_keeps_the_rest(db: Path) -> None:
    store = reopen(db)
    engine = Engine([flow(TIMED)], store=store)
    before = store.stats["transactions"]
    with store.transaction():
        engine.submit({"id": "A", "client": "x"}, at=at(1))
        with pytest.raises(EventRejected):  # rejected before changing anything
            engine.handle("A", {"type": "open"}, at=at())
        engine.submit({"id": "B", "client": "y"}, at=at(1))
        assert store.stats["transactions"] == before
    assert store.stats["transactions"] == before + 1
    assert list(store.case_ids()) == ["A", "B"]


def test_a_joined_call_failing_halfway_fails_the_transaction(db: Path) -> None:
    store = reopen(db)
    with pytest.raises(StoreError, match="failed halfway"), store.transaction() as outer:
        with pytest.raises(RuntimeError), store.transaction() as inner:
            inner.save_case(CaseState("A"))
            raise RuntimeError("engine bug")
        outer.save_case(CaseState("B"))
    assert store.counts()["cases"] == 0


def test_reads_do_not_write(db: Path) -> None:
    store = reopen(db)
    engine = Engine([flow(TIMED)], store=store)
    engine.submit({"id": "C", "client": "x"}, at=at())
    (tx_before,) = sqlite3.connect(db).execute("SELECT tx FROM clock").fetchone()
    engine.get("C")
    engine.history("C")
    engine.ledger("x")
    (tx_after,) = sqlite3.connect(db).execute("SELECT tx FROM clock").fetchone()
    assert tx_before == tx_after


# ---- timers -------------------------------------------------------------------------------------


def test_timers_pop_in_time_then_creation_order_in_small_batches(db: Path) -> None:
    store = reopen(db, batch=16, cache=32, timer_rows=16)
    times = [at(minutes=(i * 7) % 50) for i in range(200)]
    with store.transaction() as tx:
        for seq, when in enumerate(times):
            tx.add_timer(DueTimer(when, seq, f"C{seq}"))
    popped: list[DueTimer] = []
    with store.transaction() as tx:
        while (due := tx.pop_due(at(minutes=30))) is not None:
            popped.append(due)
            if due.seq == 4:  # a timer added while firing, due with the current one
                tx.add_timer(DueTimer(due.at, 1000, "late"))
            if due.seq == 8:  # a timer cancelled while it waits in the read-ahead buffer
                tx.cancel_timer(2)
    expected = [DueTimer(w, s, f"C{s}") for s, w in enumerate(times) if w <= at(minutes=30)]
    expected = [t for t in expected if t.seq != 2] + [DueTimer(times[4], 1000, "late")]
    assert times[8] < times[2] < times[4] <= at(minutes=30)
    assert popped == sorted(expected)
    assert len(popped) > 3 * 16
    left = store.pending_timers()
    assert all(t.at > at(minutes=30) for t in left)
    assert store.next_wakeup() == min(t.at for t in left)


def test_next_wakeup_inside_and_outside_a_transaction(db: Path) -> None:
    store = reopen(db)
    assert store.next_wakeup() is None
    with store.transaction() as tx:
        tx.add_timer(DueTimer(at(3), 1, "C"))
        assert store.next_wakeup() == at(3)
        tx.add_timer(DueTimer(at(2), 2, "C"))
        tx.cancel_timer(1)
        assert tx.next_wakeup() == at(2)
    assert store.next_wakeup() == at(2)


def test_engine_advance_fires_each_timer_once_with_a_tiny_cache(db: Path) -> None:
    workflow = flow(TIMED)
    sqlite_engine = Engine([workflow], store=reopen(db, batch=16, cache=32, timer_rows=16))
    memory = Engine([workflow])
    for engine in (sqlite_engine, memory):
        with engine.store.transaction():
            for i in range(300):
                engine.submit({"id": f"C{i}", "client": "x"}, at=at())
                engine.handle(f"C{i}", {"type": "open", "id": f"o{i}"}, at=at())
    results = [e.advance(at(10)) for e in (sqlite_engine, memory)]
    assert [(a.at, a.case, a.name) for a in results[0].actions] == [
        (a.at, a.case, a.name) for a in results[1].actions
    ]
    assert [a.name for a in results[0].actions] == ["later"] * 300
    for i in (0, 150, 299):
        assert sqlite_engine.records(f"C{i}") == memory.records(f"C{i}")


# ---- ledger and log -----------------------------------------------------------------------------


def test_ledger_is_per_client_in_time_order_and_reseeding_is_idempotent(db: Path) -> None:
    store = reopen(db)
    seed = [
        Grant(at(2), "acme", "credit", Money(Decimal(20), "USD")),
        Grant(at(1), "acme", "credit", Money(Decimal(10), "USD")),
        Grant(at(1), "acme", "credit", Money(Decimal(10), "USD")),  # twice on purpose
        Grant(at(1), "globex", "credit", Money(Decimal(7), "USD")),
        Grant(at(1), None, "credit", Money(Decimal(1), "USD")),
    ]
    for _ in range(2):
        Engine([flow(TIMED)], store=store).seed(seed)
    engine = Engine([flow(TIMED)], store=store)
    assert [g.amount.amount for g in engine.ledger("acme")] == [10, 10, 20]
    assert engine.ledger("globex") == [seed[3]]
    assert engine.ledger("") == [seed[4]]
    assert len(store.all_grants()) == 5


def test_the_log_records_every_input_with_its_result(db: Path) -> None:
    store = reopen(db)
    engine = Engine([flow(TIMED)], store=store)
    engine.submit({"id": "C", "client": "x"}, at=at())
    engine.handle("C", {"type": "open", "id": "e1"}, at=at())
    engine.handle("C", {"type": "open", "id": "e1"}, at=at(minutes=5))
    engine.advance(at(2))
    engine.move("C", "a", reason="retry", at=at(2))
    engine.cancel("C", reason="duplicate case", at=at(3))
    kinds = [(e.kind, e.case) for e in store.log()]
    assert kinds == [
        ("submission", "C"),
        ("event", "C"),
        ("duplicate", "C"),
        ("timer", "C"),
        ("advance", None),
        ("move", "C"),
        ("cancel", "C"),
    ]
    event = store.log("C")[1].body
    assert [a["name"] for a in event["actions"]] == ["begin"]
    assert event["history"][0] == {
        "at": "2026-03-02T09:00:00Z",
        "kind": "event",
        "type": "open",
        "id": "e1",
        "payload": {},
    }
    advance = store.log()[4].body
    # the store's clock is the latest advance (inputs do not move it): none before this one
    assert advance == {"from": None, "to": "2026-03-02T11:00:00Z", "fired": 2}
    assert [e.id for e in store.log(since=5)] == [6, 7]


# ---- the engine on both stores -------------------------------------------------------------------


def _engine_tests() -> Iterator[Any]:
    for module in (test_engine, test_engine_offers, test_engine_slas):
        for name, function in sorted(vars(module).items()):
            if (
                name.startswith("test_")
                and callable(function)
                and not inspect.signature(function).parameters
            ):
                yield pytest.param(function, id=f"{module.__name__}.{name}")


@pytest.mark.parametrize("test", list(_engine_tests()))
def test_the_engine_suite_passes_on_sqlite(
    test: Callable[[], None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[SQLiteStore] = []

    def sqlite_store() -> SQLiteStore:
        made.append(reopen(tmp_path / f"s{len(made)}.db"))
        return made[-1]

    monkeypatch.setattr(engine_module, "MemoryStore", sqlite_store)
    test()


def test_reference_cases_give_identical_records_histories_and_ledgers(db: Path) -> None:
    workflow = retainflow.load(REFERENCE)
    entries = load_cases(EXAMPLES, [workflow])
    memory = run_entries(workflow, entries)
    stored = run_entries(workflow, entries, store=SQLiteStore(db))
    assert json.dumps(stored.records) == json.dumps(memory.records)
    for case_id in dict.fromkeys(e.case_id for e in entries if e.ok):
        assert case_id is not None
        assert stored.engine.history(case_id) == memory.engine.history(case_id)
        mine, theirs = stored.engine.get(case_id), memory.engine.get(case_id)
        if theirs is None:
            assert mine is None
            continue
        assert mine is not None
        assert (mine.status, mine.step, mine.outcome, mine.path) == (
            theirs.status,
            theirs.step,
            theirs.outcome,
            theirs.path,
        )
        assert (mine.slas, mine.offers, mine.timers) == (theirs.slas, theirs.offers, theirs.timers)
    for client in ("lucerne", "contoso", "fabrikam", "wide_world"):
        assert stored.engine.ledger(client) == memory.engine.ledger(client)
        later = at(days=120)
        assert stored.engine.budget(client, at=later, case="RR-08b") == memory.engine.budget(
            client, at=later, case="RR-08b"
        )
    # a fresh engine on the file reads the same
    again = Engine([workflow], store=SQLiteStore(db))
    assert again.records("RR-02") == memory.engine.records("RR-02")
    assert again.ledger("lucerne") == memory.engine.ledger("lucerne")


def test_instance_rows_follow_the_case_states(db: Path) -> None:
    store = reopen(db)
    engine = Engine([flow(TIMED)], store=store)
    engine.submit({"id": "C", "client": "x"}, at=at())
    engine.handle("C", {"type": "open", "id": "e1"}, at=at())
    (row,) = store.instances()
    assert (row.case, row.workflow, row.number, row.status, row.step, row.phase) == (
        "C",
        "w",
        1,
        "active",
        "a",
        "waiting",
    )
    assert (row.next_at, row.next_timer, row.client) == (at(1), "due", "x")
    engine.advance(at(1))
    (row,) = store.instances()
    assert (row.step, row.phase, row.next_at, row.next_timer) == ("b", "sleeping", at(1.5), "wait")
    engine.handle("C", {"type": "go", "id": "e2"}, at=at(2))
    (row,) = store.instances(status="ended")
    assert (row.outcome, row.ended_at, row.next_at) == ("done", at(2), None)
    assert list(store.cases_with_instances()) == [("C", [row])]


def test_engines_in_threads_share_one_store_object(db: Path) -> None:
    store = SQLiteStore(db, synchronous="NORMAL")
    workflow = flow(TIMED)
    errors: list[BaseException] = []

    def work(number: int) -> None:
        try:
            engine = Engine([workflow], store=store)
            for i in range(20):
                case = f"T{number}-{i}"
                engine.submit({"id": case, "client": "x"}, at=at())
                engine.handle(case, {"type": "open", "id": case}, at=at())
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.counts()["instances"] == 80
    assert len(store.pending_timers()) == 80


def test_memory_and_sqlite_stores_answer_the_same_reads(db: Path) -> None:
    for store in (MemoryStore(), reopen(db)):
        engine = Engine([flow(TIMED)], store=store)
        engine.submit({"id": "C", "client": "x"}, at=at())
        engine.handle("C", {"type": "open", "id": "e1"}, at=at())
        view = engine.get("C")
        assert view is not None
        assert (view.status, view.step, view.path) == ("waiting", "a", ["a"])
        assert view.timers == [{"kind": "due", "at": at(1), "name": None, "step": "a"}]
        assert [h["kind"] for h in engine.history("C")] == ["submission", "event", "trace"]
        assert engine.get("nobody") is None
