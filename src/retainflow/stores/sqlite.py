"""The SQLite store: the engine's state in one database file, one transaction per call.

Input/output: the `Store` Protocol of `retainflow.stores.base`, on a file that several
engines (threads or processes) may share:

    store = SQLiteStore("retainflow.db")
    engine = retainflow.Engine([wf], store=store)

Each engine call runs in one `BEGIN IMMEDIATE ... COMMIT`: the call reads and writes under
the database's write lock, so a timer is claimed (deleted) by exactly one engine and an
event id is checked and recorded by exactly one engine; a process killed at any instant
leaves either the whole call or none of it (WAL). The database holds:

- `cases`: one row per case id, its `CaseState` as a pickle of plain values (see "Codec");
- `instances`: one row per instance (status, step, phase, version, next timer), kept in
  step with the case states, for listings, reports and the version checks;
- `timers`: the pending timers, indexed by (time, creation sequence);
- `ledger`: the compensation grants, indexed by (client, time);
- `log`: the append-only event log: per call and case, the inputs and timers applied
  (history entries) and the actions emitted; per `advance`, the clock move;
- `clock`: the store clock, the next timer sequence number, the last transaction number;
- `workflows`: the source of every workflow version an engine was given;
- `layouts`: the field layouts of the classes in the pickled states;
- `meta`: facts about the file (schema history).

The schema is versioned with `PRAGMA user_version` (and marked as a retainflow file with
`PRAGMA application_id`); `MIGRATIONS` upgrade older files on open, and a file written by a
newer retainflow is refused with `SchemaVersionError`. docs/store.md has the details.

Codec: case states are pickled with the restricted pickler of `retainflow.stores.codec`,
not with `state.dumps` (JSON): it is 5-8x faster both ways (the per-timer cost of
`advance` is dominated by it); the `layouts` table keeps the field names of the class
layouts the pickles refer to, so a field added later with a default reads old rows.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from retainflow import __version__
from retainflow import values as _values
from retainflow.ledger import Grant
from retainflow.runtime import state as _state
from retainflow.runtime.state import CaseState
from retainflow.stores import codec as _codec
from retainflow.stores.base import DueTimer, StoreError, StoreTransaction, WorkflowSource
from retainflow.stores.codec import (
    dump_log,
    dump_state,
    load_log,
    load_state,
    own_layouts,
)
from retainflow.stores.locking import is_busy, retry_while_busy
from retainflow.values import Money, to_json_value

if TYPE_CHECKING:
    from retainflow.compile import Workflow
    from retainflow.engine import Engine

__all__ = [
    "APPLICATION_ID",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "InstanceRow",
    "LogEntry",
    "SQLiteStore",
    "SchemaVersionError",
    "StoreBusy",
    "StoreError",
    "VersionConflict",
    "open_engine",
    "waits_for",
]


# ---- errors --------------------------------------------------------------------------------


class SchemaVersionError(StoreError):
    """The file's schema is newer than this retainflow knows: upgrade retainflow."""


class StoreBusy(StoreError):
    """Another writer held the database's lock for longer than the busy timeout."""


class VersionConflict(StoreError, ValueError):
    """A changed workflow text under a version number that has instances in the store."""


# ---- schema ----------------------------------------------------------------------------------

# A retainflow store file says so in its header ("RFlw").
APPLICATION_ID = 0x52466C77

# MIGRATIONS[i] takes a file from schema version i to i + 1, in one transaction. Append,
# never edit: a file records how far it went in `PRAGMA user_version`.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        """CREATE TABLE clock (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            now INTEGER,
            next_seq INTEGER NOT NULL,
            tx INTEGER NOT NULL
        )""",
        "INSERT INTO clock (id, now, next_seq, tx) VALUES (1, NULL, 0, 0)",
        """CREATE TABLE workflows (
            name TEXT NOT NULL,
            version INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            source TEXT NOT NULL,
            path TEXT,
            PRIMARY KEY (name, version)
        )""",
        """CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            case_id TEXT NOT NULL UNIQUE,
            state BLOB NOT NULL,
            tx INTEGER NOT NULL
        )""",
        """CREATE TABLE instances (
            case_id TEXT NOT NULL,
            workflow TEXT NOT NULL,
            number INTEGER NOT NULL,
            version INTEGER NOT NULL,
            status TEXT NOT NULL,
            step TEXT,
            phase TEXT NOT NULL,
            trigger TEXT,
            outcome TEXT,
            started_at INTEGER NOT NULL,
            ended_at INTEGER,
            clock INTEGER NOT NULL,
            next_at INTEGER,
            next_timer TEXT,
            client TEXT,
            PRIMARY KEY (case_id, workflow, number)
        ) WITHOUT ROWID""",
        "CREATE INDEX instances_version ON instances (workflow, version)",
        """CREATE TABLE timers (
            seq INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            case_id TEXT NOT NULL
        )""",
        # Entries are (at, rowid = seq): the firing order, and `next_wakeup` reads one.
        "CREATE INDEX timers_due ON timers (at)",
        """CREATE TABLE ledger (
            id INTEGER PRIMARY KEY,
            client TEXT,
            at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            amount TEXT NOT NULL,
            currency TEXT NOT NULL,
            case_id TEXT,
            workflow TEXT,
            label TEXT,
            instance INTEGER,
            tx INTEGER NOT NULL
        )""",
        "CREATE INDEX ledger_client ON ledger (coalesce(client, ''), at)",
        """CREATE TABLE log (
            id INTEGER PRIMARY KEY,
            tx INTEGER NOT NULL,
            at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            case_id TEXT,
            body TEXT NOT NULL
        )""",
        "CREATE INDEX log_case ON log (case_id)",
        # the field layouts of the classes in the pickled case states, by number
        """CREATE TABLE layouts (
            id INTEGER PRIMARY KEY,
            layout TEXT NOT NULL
        )""",
    ),
    # 1 -> 2: the case's history moves out of its state into the log rows (`history`: the
    # entries the row's call added, pickled like states). The states of schema-1 rows
    # still hold theirs; they move to the log the first time the case is written again.
    ("ALTER TABLE log ADD COLUMN history BLOB",),
)
SCHEMA_VERSION = len(MIGRATIONS)

_INPUT_KINDS = frozenset({"submission", "event", "duplicate", "move", "cancel"})


# ---- time ------------------------------------------------------------------------------------

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)


def _us(at: dt.datetime) -> int:
    """An aware time as integer microseconds since the epoch (the column form)."""
    return (at - _EPOCH) // _US


def _time(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=us)


def _opt_us(at: dt.datetime | None) -> int | None:
    return None if at is None else (at - _EPOCH) // _US


def _opt_time(us: int | None) -> dt.datetime | None:
    return None if us is None else _EPOCH + dt.timedelta(microseconds=us)


# ---- log bodies ------------------------------------------------------------------------------


_ZERO = dt.timedelta(0)
_ISO: dict[dt.datetime, str] = {}


def _iso(at: dt.datetime) -> str:
    """`format_time` (UTC, `Z`, microseconds only when present), memoized: the entries of
    one call share their times."""
    text = _ISO.get(at)
    if text is None:
        if len(_ISO) > 4096:
            _ISO.clear()
        utc = at if at.utcoffset() == _ZERO else at.astimezone(dt.UTC)
        text = _ISO[at] = utc.isoformat()[:-6] + "Z"
    return text


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _iso(value)
    if isinstance(value, Money | _values.Percent | _values.Duration | Decimal | dt.timedelta):
        return to_json_value(value)
    if isinstance(value, set | frozenset):
        return sorted((to_json_value(v) for v in value), key=str)
    if attrs.has(type(value)):
        return {a.name: getattr(value, a.name) for a in attrs.fields(type(value))}
    if isinstance(value, Mapping):
        return dict(value)
    return to_json_value(value)


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_json_default, separators=(",", ":"))


def _json(body: Any) -> str:
    try:
        return _ENCODER.encode(body)
    except (TypeError, ValueError):  # keys json cannot take: render everything as text
        return json.dumps(to_json_value(body), ensure_ascii=False, separators=(",", ":"))


def _log_body(text: str, blob: bytes | None) -> Any:
    """A log row's body: its JSON text, or (rows of case calls since schema 2) the same
    JSON rendered from the typed entries and actions of its `history` column."""
    if text or blob is None:
        return json.loads(text)
    _, history, actions = load_log(blob)
    body = {
        "history": [_history_dict(item) for item in history],
        "actions": [
            {
                "workflow": workflow,
                "instance": number,
                "at": action.at,
                "step": action.step,
                "name": action.name,
                "args": action.args,
            }
            for workflow, number, action in actions
        ],
    }
    return json.loads(_json(body))


def _history_dict(entry: Any) -> Any:
    if isinstance(entry, tuple):
        convert = getattr(_state, "history_entry", None)
        if convert is not None:
            return convert(entry)
    return entry


def _entry_kind(entry: Any) -> str | None:
    if isinstance(entry, tuple) and len(entry) > 1:
        return str(entry[1])
    if isinstance(entry, Mapping):
        kind = entry.get("kind")
        return None if kind is None else str(kind)
    return None


def _entry_at(entry: Any) -> dt.datetime | None:
    at = entry[0] if isinstance(entry, tuple) and entry else None
    if isinstance(entry, Mapping):
        at = entry.get("at")
    return at if isinstance(at, dt.datetime) else None


# ---- rows --------------------------------------------------------------------------------------


@attrs.frozen
class InstanceRow:
    """One row of the `instances` table: what a listing shows without loading the case."""

    case: str
    workflow: str
    number: int
    version: int
    status: str  # active ended cancelled error
    step: str | None
    phase: str  # sleeping pending waiting, or '' (ended)
    trigger: str | None
    outcome: str | None
    started_at: dt.datetime
    ended_at: dt.datetime | None
    clock: dt.datetime
    next_at: dt.datetime | None  # the instance's earliest pending timer
    next_timer: str | None  # its kind (and SLA name): due, wait, every, sla_due:resolution
    client: str | None


@attrs.frozen
class LogEntry:
    """One row of the event log: transaction, time, kind, case, and what happened."""

    id: int
    tx: int
    at: dt.datetime
    kind: str
    case: str | None
    body: Any


_InstKey = tuple[str, int]
_InstTuple = tuple[Any, ...]


def _instance_rows(state: CaseState, final: set[_InstKey]) -> list[_InstTuple]:
    """The `instances` rows (column order) of a case's instances not in `final` (ended
    instances already written: their rows never change again)."""
    client = state.data.get("client")
    client = client if isinstance(client, str) else None
    nexts: dict[_InstKey, tuple[dt.datetime, int, str]] = {}
    for timer in state.timers.values():
        if timer.instance is None:
            continue
        key = (timer.workflow, timer.instance)
        found = nexts.get(key)
        if found is None or (timer.at, timer.seq) < found[:2]:
            kind = timer.kind if timer.name is None else f"{timer.kind}:{timer.name}"
            nexts[key] = (timer.at, timer.seq, kind)
    rows: list[_InstTuple] = []
    for flow in state.flows.values():
        for inst in flow.instances:
            key = (inst.workflow, inst.number)
            if key in final:
                continue
            nxt = None
            if inst.status == "active":
                nxt = nexts.get(key)
            else:
                final.add(key)
            rows.append(
                (
                    state.case_id,
                    inst.workflow,
                    inst.number,
                    inst.version,
                    inst.status,
                    inst.step,
                    inst.phase,
                    inst.trigger,
                    inst.outcome,
                    _us(inst.started_at),
                    _opt_us(inst.ended_at),
                    _us(inst.clock),
                    None if nxt is None else _us(nxt[0]),
                    None if nxt is None else nxt[2],
                    client,
                )
            )
    return rows


def _baseline(state: CaseState) -> tuple[dict[_InstKey, int], set[_InstKey]]:
    """Per instance, its number of actions; and the instances that have ended."""
    counts: dict[_InstKey, int] = {}
    final: set[_InstKey] = set()
    for flow in state.flows.values():
        for inst in flow.instances:
            key = (inst.workflow, inst.number)
            counts[key] = len(inst.actions)
            if inst.status != "active":
                final.add(key)
    return counts, final


def _row_to_instance(row: Sequence[Any]) -> InstanceRow:
    return InstanceRow(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        _time(row[9]),
        _opt_time(row[10]),
        _time(row[11]),
        _opt_time(row[12]),
        row[13],
        row[14],
    )


def _grant_row(grant: Grant, tx: int) -> tuple[Any, ...]:
    return (
        grant.client,
        _us(grant.at),
        grant.kind,
        str(grant.amount.amount),
        grant.amount.currency,
        grant.case,
        grant.workflow,
        grant.label,
        grant.instance,
        tx,
    )


def _row_to_grant(row: Sequence[Any]) -> Grant:
    return Grant(
        _time(row[1]),
        row[0],
        row[2],
        Money(Decimal(row[3]), row[4]),
        row[5],
        row[6],
        row[7],
        row[8],
    )


_GRANT_COLUMNS = "client, at, kind, amount, currency, case_id, workflow, label, instance"


# ---- the transaction -----------------------------------------------------------------------


class _Entry:
    """A case loaded in a transaction, with what it was when loaded or last written."""

    __slots__ = ("actions", "dirty", "final", "history", "moved", "rowid", "state", "stored")

    def __init__(self, state: CaseState, stored: bool, rowid: int | None = None) -> None:
        self.state = state
        self.stored = stored  # the cases table has its row
        self.rowid = rowid  # its `id`, when it was read (an update by rowid skips the index)
        self.dirty = False
        # what is already written: history entries and actions logged, instances ended
        self.history = len(state.history) if stored else 0
        # history entries already in log rows' `history` column: none of the loaded
        # state's (the row holds no history; a schema-1 row's history moves to the log)
        self.moved = 0
        self.actions: dict[_InstKey, int]
        self.final: set[_InstKey]
        if stored:
            self.actions, self.final = _baseline(state)
        else:
            self.actions, self.final = {}, set()


class _Transaction:
    """The reads and writes of one engine call (`StoreTransaction`), on one connection.

    Case states are kept by identity for the transaction (a case is decoded once, however
    many of its timers fire) and written back in batches; the timer index is read in
    batches in firing order; memory stays bounded by `batch` whatever the call does.
    """

    def __init__(self, store: SQLiteStore, conn: sqlite3.Connection) -> None:
        self.store = store
        self.conn = conn
        self.batch = store.batch
        self.cache = store.cache
        self.timer_rows = store.timer_rows
        self.changes = 0  # store changes so far (a failed nested call must have made none)
        self.failed: str | None = None
        now, next_seq, tx = self.conn.execute(
            "SELECT now, next_seq, tx FROM clock WHERE id = 1"
        ).fetchone()
        self.clock: dt.datetime | None = _opt_time(now)
        self.clock_dirty = False
        self.seq = int(next_seq)
        self.seq_saved = self.seq
        self.tx_no = int(tx) + 1  # this transaction's number, if it writes anything
        self.wrote = False
        self.cases: dict[str, _Entry] = {}
        self.dirty: list[_Entry] = []
        self.inputs = 0  # history entries of inputs written (0 for an advance)
        self.fired = 0
        self.clock_before = self.clock
        # timers not yet written, and timer rows to delete
        self.timer_inserts: dict[int, tuple[int, int, str]] = {}
        self.timer_deletes: list[int] = []
        # the due-timer buffer: rows read from the index in firing order, not yet popped
        self.due: list[tuple[int, int, str]] = []
        self.due_pos = 0
        self.due_seqs: set[int] = set()
        self.due_skip: set[int] = set()
        self.due_upto: tuple[int, int] | None = None  # the last (at, seq) read from the index
        self.due_done_until: int | None = None  # every row up to this time has been read
        self.seed_counts: dict[tuple[Any, ...], int] = {}

    # -- clock and sequence --

    def get_clock(self) -> dt.datetime | None:
        return self.clock

    def set_clock(self, at: dt.datetime) -> None:
        self.clock = at
        self.clock_dirty = True
        self.changes += 1

    def take_seq(self) -> int:
        return self.seq

    def put_seq(self, next_seq: int) -> None:
        if next_seq > self.seq:
            self.seq = next_seq
            self.changes += 1

    # -- cases --

    def load_case(self, case_id: str) -> CaseState | None:
        entry = self.cases.get(case_id)
        if entry is not None:
            return entry.state
        row = self.conn.execute(
            "SELECT id, state FROM cases WHERE case_id = ?", (case_id,)
        ).fetchone()
        if row is None:
            return None
        state = load_state(row[1])
        if state.case_id != case_id:
            raise StoreError(f"the row of case {case_id} holds case {state.case_id}")
        self.cases[case_id] = _Entry(state, True, row[0])
        self.store.stats["cases_loaded"] += 1
        if len(self.cases) > self.cache:
            self._evict()
        return state

    def save_case(self, state: CaseState) -> None:
        self.changes += 1
        entry = self.cases.get(state.case_id)
        if entry is None:
            entry = self.cases[state.case_id] = _Entry(state, False)
        elif entry.state is not state:
            raise RuntimeError(
                f"case {state.case_id}: a second copy of its state was saved in one transaction"
            )
        if not entry.dirty:
            entry.dirty = True
            self.dirty.append(entry)
            if len(self.dirty) >= self.batch:
                self.flush_cases()

    def _evict(self) -> None:
        """Drop written cases that nothing outside the transaction holds, oldest first.

        A state the engine still holds is never dropped (CPython's reference count: the
        entry's and getrefcount's own), so it can never come back as a second copy."""
        keep = self.cache * 3 // 4
        for case_id in list(self.cases):
            if len(self.cases) <= keep:
                break
            entry = self.cases[case_id]
            if not entry.dirty and sys.getrefcount(entry.state) <= 2:
                del self.cases[case_id]

    # -- timers --

    def add_timer(self, timer: DueTimer) -> None:
        self.changes += 1
        at = _us(timer.at)
        row = (timer.seq, at, timer.case_id)
        self.timer_inserts[timer.seq] = row
        upto = self.due_upto
        if upto is not None and (at, timer.seq) <= upto:
            # behind the index position already read: it joins the buffer
            bisect.insort(self.due, (at, timer.seq, timer.case_id), lo=self.due_pos)
            self.due_seqs.add(timer.seq)
        elif self.due_done_until is not None and at <= self.due_done_until:
            self.due_done_until = None
        if len(self.timer_inserts) + len(self.timer_deletes) >= self.timer_rows:
            self.flush_timers()

    def cancel_timer(self, seq: int) -> None:
        self.changes += 1
        if self.timer_inserts.pop(seq, None) is None:
            self.timer_deletes.append(seq)
        if seq in self.due_seqs:
            self.due_skip.add(seq)
        if len(self.timer_deletes) >= self.timer_rows:
            self.flush_timers()

    def pop_due(self, until: dt.datetime) -> DueTimer | None:
        limit = _us(until)
        while True:
            if self.due_pos < len(self.due):
                at, seq, case_id = self.due[self.due_pos]
                if at > limit:
                    return None
                self.due_pos += 1
                if seq in self.due_skip:
                    continue
                if self.timer_inserts.pop(seq, None) is None:
                    self.timer_deletes.append(seq)
                self.fired += 1
                self.changes += 1
                self.store.stats["timers_fired"] += 1
                return DueTimer(_time(at), seq, case_id)
            if self.due_done_until is not None and limit <= self.due_done_until:
                return None
            if not self._read_due(limit):
                return None

    def _read_due(self, limit: int) -> bool:
        """Read the next batch of due timers from the index; False when there is none."""
        self.flush_timers()
        if self.due_upto is None:
            rows = self.conn.execute(
                "SELECT at, seq, case_id FROM timers WHERE at <= ? ORDER BY at, seq LIMIT ?",
                (limit, self.timer_rows),
            ).fetchall()
        else:
            rows = self.conn.execute(
                "SELECT at, seq, case_id FROM timers WHERE at <= ? AND (at, seq) > (?, ?) "
                "ORDER BY at, seq LIMIT ?",
                (limit, *self.due_upto, self.timer_rows),
            ).fetchall()
        self.due = rows
        self.due_pos = 0
        self.due_seqs = {row[1] for row in rows}
        self.due_skip = set()
        if len(rows) < self.timer_rows:
            self.due_done_until = limit
        if not rows:
            return False
        self.due_upto = (rows[-1][0], rows[-1][1])
        return True

    def next_wakeup(self) -> dt.datetime | None:
        self.flush_timers()
        row = self.conn.execute("SELECT at FROM timers ORDER BY at, seq LIMIT 1").fetchone()
        return None if row is None else _time(row[0])

    # -- ledger --

    def grants(self, client: str) -> Sequence[Grant]:
        rows = self.conn.execute(
            f"SELECT {_GRANT_COLUMNS} FROM ledger WHERE coalesce(client, '') = ? ORDER BY at, id",
            (client,),
        ).fetchall()
        return [_row_to_grant(row) for row in rows]

    def add_grant(self, grant: Grant) -> None:
        row = _grant_row(grant, self.tx_no)
        if grant.instance is None:
            # An earlier grant given to the ledger (`seed`, `run --ledger`): seeding the
            # same grants again (a second `run --store`) must not count them twice.
            key = row[:-1]
            count = self.seed_counts[key] = self.seed_counts.get(key, 0) + 1
            (present,) = self.conn.execute(
                "SELECT count(*) FROM ledger WHERE coalesce(client, '') = coalesce(?, '') "
                "AND client IS ? AND at = ? AND kind = ? AND amount = ? AND currency = ? "
                "AND case_id IS ? AND workflow IS ? AND label IS ? AND instance IS NULL",
                (row[0], *row[:8]),
            ).fetchone()
            if present >= count:
                return
        self.changes += 1
        self.conn.execute(
            f"INSERT INTO ledger ({_GRANT_COLUMNS}, tx) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )
        self.wrote = True

    # -- writing --

    def flush_timers(self) -> None:
        if self.timer_inserts:
            self.conn.executemany(
                "INSERT INTO timers (seq, at, case_id) VALUES (?, ?, ?)",
                list(self.timer_inserts.values()),
            )
            self.timer_inserts = {}
            self.wrote = True
        if self.timer_deletes:
            self.conn.executemany(
                "DELETE FROM timers WHERE seq = ?", [(seq,) for seq in self.timer_deletes]
            )
            self.timer_deletes = []
            self.wrote = True

    def flush_cases(self) -> None:
        """Write every changed case: its state, its instance rows, its log row."""
        if not self.dirty:
            return
        tx = self.tx_no
        inserts: list[tuple[str, bytes, int]] = []
        updates: list[tuple[bytes, int, str]] = []
        updates_by_rowid: list[tuple[bytes, int, int]] = []
        inst_rows: list[_InstTuple] = []
        log_rows: list[tuple[int, int, str, str, str, bytes]] = []
        for entry in self.dirty:
            state = entry.state
            data = dump_state(state, history=False)
            if entry.rowid is not None:
                updates_by_rowid.append((data, tx, entry.rowid))
            elif entry.stored:
                updates.append((data, tx, state.case_id))
            else:
                inserts.append((state.case_id, data, tx))
                entry.stored = True
            inst_rows.extend(_instance_rows(state, entry.final))
            log = self._log_row(entry)
            if log is not None:
                log_rows.append(log)
            entry.dirty = False
        self.store.stats["cases_saved"] += len(self.dirty)
        self.dirty = []
        conn = self.conn
        if inserts:
            conn.executemany(
                "INSERT INTO cases (case_id, state, tx) VALUES (?, ?, ?) ON CONFLICT (case_id) "
                "DO UPDATE SET state = excluded.state, tx = excluded.tx",
                inserts,
            )
        if updates:
            conn.executemany("UPDATE cases SET state = ?, tx = ? WHERE case_id = ?", updates)
        if updates_by_rowid:
            conn.executemany("UPDATE cases SET state = ?, tx = ? WHERE id = ?", updates_by_rowid)
        if inst_rows:
            conn.executemany(
                # an upsert that leaves `version` (and its index entry) alone: an instance
                # never changes version (REPLACE would delete and insert the index entries)
                "INSERT INTO instances VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (case_id, workflow, number) DO UPDATE SET status = excluded.status, "
                "step = excluded.step, phase = excluded.phase, trigger = excluded.trigger, "
                "outcome = excluded.outcome, started_at = excluded.started_at, "
                "ended_at = excluded.ended_at, clock = excluded.clock, "
                "next_at = excluded.next_at, next_timer = excluded.next_timer, "
                "client = excluded.client",
                inst_rows,
            )
        if log_rows:
            conn.executemany(
                "INSERT INTO log (tx, at, kind, case_id, body, history) VALUES (?, ?, ?, ?, ?, ?)",
                log_rows,
            )
        self.wrote = True
        if len(self.cases) > self.cache:
            self._evict()

    def _log_row(self, entry: _Entry) -> tuple[int, int, str, str, str, bytes] | None:
        """What this transaction did to the case since it was loaded (or last written):
        its log row, whose `history` column holds the new history entries and actions
        (the JSON `body` is rendered from them when read: writing JSON for every fired
        timer cost more than a tenth of an `advance`)."""
        state = entry.state
        entries = state.history
        history = entries[entry.history :]
        earlier = entries[entry.moved : entry.history]  # a schema-1 state's, not yet moved
        entry.history = entry.moved = len(entries)
        actions: list[tuple[str, int, Any]] = []
        counts = entry.actions
        for flow in state.flows.values():
            for inst in flow.instances:
                done = counts.get((inst.workflow, inst.number), 0)
                if len(inst.actions) > done:
                    actions.extend((inst.workflow, inst.number, a) for a in inst.actions[done:])
                    counts[(inst.workflow, inst.number)] = len(inst.actions)
        if not history and not actions and not earlier:
            return None
        # The row is named after the input the call applied to the case, else after the
        # first timer that fired for it (timers due before an input fire first).
        kind = "trace"
        at: dt.datetime | None = None
        for item in history:
            item_kind = _entry_kind(item)
            if item_kind in _INPUT_KINDS:
                kind, at = item_kind, _entry_at(item)
                self.inputs += 1
                break
            if kind == "trace" and item_kind is not None and item_kind != "trace":
                kind, at = item_kind, _entry_at(item)
        if at is None:
            at = _entry_at(history[0]) if history else actions[0][2].at if actions else None
        if at is None:
            at = self.clock or _EPOCH
        blob = dump_log(earlier, history, actions)
        return (self.tx_no, _us(at), kind, state.case_id, "", blob)

    def flush(self) -> None:
        """Write everything pending (before a savepoint, and at commit)."""
        self.flush_timers()
        self.flush_cases()
        if self.clock_dirty or self.seq != self.seq_saved:
            self.wrote = True
        if not self.wrote:
            return
        if self.clock_dirty and self.inputs == 0 and self.clock != self.clock_before:
            self.conn.execute(
                "INSERT INTO log (tx, at, kind, case_id, body) VALUES (?, ?, 'advance', NULL, ?)",
                (
                    self.tx_no,
                    _us(self.clock) if self.clock is not None else 0,
                    _json(
                        {
                            "from": self.clock_before,
                            "to": self.clock,
                            "fired": self.fired,
                        }
                    ),
                ),
            )
        self.conn.execute(
            "UPDATE clock SET now = ?, next_seq = ?, tx = ? WHERE id = 1",
            (_opt_us(self.clock), self.seq, self.tx_no),
        )
        self.clock_dirty = False
        self.clock_before = self.clock
        self.seq_saved = self.seq
        self.inputs = 0
        self.fired = 0


# ---- the store -------------------------------------------------------------------------------


# Connections a forked child inherited: kept, so that they are never closed in the child.
_INHERITED: list[sqlite3.Connection] = []


class _Local(threading.local):
    conn: sqlite3.Connection | None = None
    pid: int = 0
    tx: _Transaction | None = None


Synchronous = Literal["FULL", "NORMAL"]


def database_error(path: Path | str, error: sqlite3.DatabaseError) -> Exception:
    """What a host sees of an SQLite error inside a call: `StoreBusy` for a lock held
    too long, else a `StoreError` that names the file and says what to check."""
    if isinstance(error, sqlite3.OperationalError) and is_busy(error):
        return StoreBusy(f"{path}: another writer held the lock ({error})")
    lines = str(error).splitlines() or [type(error).__name__]
    text = lines[0] if len(lines[0]) <= 120 else lines[0][:117] + "..."  # may quote a row
    if "readonly" in text or "read-only" in text:
        return StoreError(f"{path}: cannot be written ({text}): check the file's permissions")
    return StoreError(
        f"{path}: cannot be read ({text}); it may be damaged: "
        "`sqlite3 FILE 'PRAGMA integrity_check'` says what is wrong"
    )


class SQLiteStore:
    """The engine's state in one SQLite file (see the module docstring and docs/store.md).

    `synchronous="FULL"` (the default) makes every returned call survive a power loss too;
    `"NORMAL"` survives any process crash but may lose the last calls on a power loss or
    an OS crash (never corrupting the file), for several times the write throughput.
    `busy_timeout` is how long a call waits for another writer (seconds) before
    `StoreBusy`; `create=False` refuses a missing file; `batch` is how many changed case
    states a call keeps before writing them, `cache` how many case states it keeps
    decoded (at least `2 * batch`), `timer_rows` how many due timers it reads per query
    and how many timer changes it keeps before writing them: together they bound a call's
    memory, however many timers it fires. Both are
    small on purpose (docs/store.md: the garbage collector).
    One object may be shared by threads (each gets its own connection).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Synchronous = "FULL",
        busy_timeout: float = 30.0,
        create: bool = True,
        batch: int = 16,
        cache: int = 16,
        timer_rows: int = 256,
        mmap_size: int = 0,
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
        text = os.fspath(path)
        if text == ":memory:" or text.startswith("file:"):
            raise ValueError("SQLiteStore needs a file path (use MemoryStore() in memory)")
        self.path = Path(text)
        if not create and not self.path.exists():
            raise StoreError(f"{self.path}: no such store")
        if not create and self.path.is_file() and self.path.stat().st_size == 0:
            # an empty file would silently become a new store: it is none yet
            raise StoreError(f"{self.path}: is empty, not a retainflow store")
        self.synchronous: Synchronous = synchronous
        self.busy_timeout = busy_timeout
        self.batch = max(16, batch)
        self.cache = max(2 * self.batch, cache)  # dirty states are cached too
        # Unlike case states, timer rows are tuples of plain values, which the garbage
        # collector stops tracking at its first pass: big batches of them cost it nothing.
        self.timer_rows = max(1, timer_rows)
        self.mmap_size = max(0, int(mmap_size))
        self.stats: dict[str, int] = {
            "transactions": 0,
            "busy_retries": 0,
            "cases_loaded": 0,
            "cases_saved": 0,
            "timers_fired": 0,
        }
        self._local = _Local()
        self._migrate(self._connection())
        self._register_layouts(self._connection())

    def __repr__(self) -> str:
        return f"<SQLiteStore {self.path}>"

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close this thread's connection (another call opens a new one)."""
        local = self._local
        if local.conn is not None and local.pid == os.getpid() and local.tx is None:
            local.conn.close()
        local.conn = None

    # -- connections --

    def _connect(self) -> sqlite3.Connection:
        """Open and set up a connection (tests override this to inject faults)."""
        try:
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None, cached_statements=64
            )
        except sqlite3.Error as error:
            raise StoreError(f"{self.path}: cannot be opened ({error})") from None
        try:
            self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone())
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute("PRAGMA cache_size = -32768")  # 32 MiB per connection
            if self.mmap_size:
                conn.execute(f"PRAGMA mmap_size = {self.mmap_size}")
        except sqlite3.DatabaseError as error:
            conn.close()
            if "readonly" in str(error) or "read-only" in str(error):
                raise database_error(self.path, error) from None  # a store, not writable
            raise StoreError(f"{self.path}: is not a retainflow store ({error})") from None
        return conn

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        pid = os.getpid()
        if local.conn is None or local.pid != pid:
            if local.conn is not None:  # forked: never use (or close) the parent's
                _INHERITED.append(local.conn)
            local.conn = self._connect()
            local.pid = pid
            local.tx = None
        return local.conn

    def _retry(self, action: Callable[[], Any]) -> Any:
        """Run `action`, retrying while another connection holds a lock (SQLITE_BUSY)."""
        try:
            return retry_while_busy(action, self.busy_timeout, self._count_retry)
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
            raise StoreBusy(
                f"{self.path}: another writer held the lock for more than {self.busy_timeout:g}s"
            ) from None

    def _count_retry(self) -> None:
        self.stats["busy_retries"] += 1

    def _migrate(self, conn: sqlite3.Connection) -> None:
        app_id, version = self._header(conn)
        if app_id == APPLICATION_ID and version == SCHEMA_VERSION:
            return
        self._check_header(conn, app_id, version)
        self._retry(lambda: conn.execute("BEGIN IMMEDIATE"))
        try:
            app_id, version = self._header(conn)
            self._check_header(conn, app_id, version)
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number]:
                    conn.execute(statement)
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    (f"schema {number + 1}", f"retainflow {__version__}"),
                )
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _register_layouts(self, conn: sqlite3.Connection) -> None:
        """Learn the layouts the file's case states use; record this retainflow's."""
        stored = dict(conn.execute("SELECT id, layout FROM layouts").fetchall())
        for number, text in stored.items():
            if _codec.LAYOUTS.setdefault(number, text) != text:
                raise StoreError(
                    f"{self.path}: layout {number} is {text!r} here, not {_codec.LAYOUTS[number]!r}"
                )
        mine = own_layouts()
        missing = [(number, _codec.LAYOUTS[number]) for number in sorted(mine - set(stored))]
        if missing:
            self._retry(lambda: conn.execute("BEGIN IMMEDIATE"))
            try:
                conn.executemany(
                    "INSERT OR IGNORE INTO layouts (id, layout) VALUES (?, ?)", missing
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _header(self, conn: sqlite3.Connection) -> tuple[int, int]:
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path}: is not a retainflow store ({error})") from None
        return int(app_id), int(version)

    def _check_header(self, conn: sqlite3.Connection, app_id: int, version: int) -> None:
        if app_id != APPLICATION_ID:
            (tables,) = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if app_id != 0 or version != 0 or tables:
                raise StoreError(f"{self.path}: is an SQLite database but not a retainflow store")
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{self.path}: the store's schema is version {version}, written by a newer "
                f"retainflow; this retainflow ({__version__}) reads schema versions up to "
                f"{SCHEMA_VERSION}: upgrade retainflow to use this store"
            )

    @property
    def schema_version(self) -> int:
        return self._header(self._connection())[1]

    # -- transactions --

    @contextmanager
    def transaction(self) -> Iterator[StoreTransaction]:
        """One `BEGIN IMMEDIATE ... COMMIT`.

        A transaction opened inside another one (in the same thread) joins it: a host may
        group many engine calls into one commit (bulk loading). A joined call that raises
        after changing nothing (a rejected input) leaves the outer transaction usable; one
        that raises after a change makes it fail: it rolls back, whatever the host does.
        """
        conn = self._connection()
        local = self._local
        tx = local.tx
        if tx is not None:
            if tx.failed is not None:
                raise StoreError(tx.failed)
            before = tx.changes
            try:
                yield tx
            except BaseException as error:
                if tx.changes != before and tx.failed is None:
                    tx.failed = (
                        f"{self.path}: a call failed halfway inside this transaction "
                        f"({type(error).__name__}: {error}); it is rolled back"
                    )
                raise
            return
        self._retry(lambda: conn.execute("BEGIN IMMEDIATE"))
        try:
            tx = _Transaction(self, conn)
            local.tx = tx
            yield tx
            if tx.failed is not None:
                raise StoreError(tx.failed)
            tx.flush()
            conn.execute("COMMIT")
            self.stats["transactions"] += 1
        except sqlite3.DatabaseError as error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise database_error(self.path, error) from None
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            local.tx = None

    # -- Store --------------------------------------------------------------------------------

    def save_workflow(self, workflow: WorkflowSource) -> None:
        """Keep a workflow version's source; a changed text under a version number that
        has instances in the store is a `VersionConflict`."""
        with self.transaction() as _:
            conn = self._connection()
            row = conn.execute(
                "SELECT content_hash FROM workflows WHERE name = ? AND version = ?",
                (workflow.name, workflow.version),
            ).fetchone()
            if row is not None and row[0] == workflow.content_hash:
                return
            if row is not None:
                (count,) = conn.execute(
                    "SELECT count(*) FROM instances WHERE workflow = ? AND version = ?",
                    (workflow.name, workflow.version),
                ).fetchone()
                if count:
                    where = f" in {workflow.path}" if workflow.path else ""
                    (highest,) = conn.execute(
                        "SELECT max(version) FROM workflows WHERE name = ?", (workflow.name,)
                    ).fetchone()
                    free = max(int(highest or 0), workflow.version) + 1  # a number not taken
                    raise VersionConflict(
                        f"workflow {workflow.name} version {workflow.version}: the store "
                        f"{self.path} holds {count} instance{'s' * (count != 1)} started on "
                        f"another text of this version (sha256 {row[0][:12]}; this text is "
                        f"{workflow.content_hash[:12]}). A changed workflow needs a new "
                        f"version number: bump 'version {workflow.version}' to 'version "
                        f"{free}'{where}; instances in flight finish on the "
                        "text they started with, new ones take the new version"
                    )
            conn.execute(
                "INSERT OR REPLACE INTO workflows (name, version, content_hash, source, path) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    workflow.name,
                    workflow.version,
                    workflow.content_hash,
                    workflow.source,
                    workflow.path,
                ),
            )

    def workflow_source(self, name: str, version: int) -> WorkflowSource | None:
        row = (
            self._connection()
            .execute(
                "SELECT name, version, content_hash, source, path FROM workflows "
                "WHERE name = ? AND version = ?",
                (name, version),
            )
            .fetchone()
        )
        return None if row is None else WorkflowSource(*row)

    def workflow_sources(self) -> list[WorkflowSource]:
        """Every stored workflow version, by name and version (`[-1]` of a name is the
        newest: what new instances take)."""
        rows = (
            self._connection()
            .execute(
                "SELECT name, version, content_hash, source, path FROM workflows "
                "ORDER BY name, version"
            )
            .fetchall()
        )
        return [WorkflowSource(*row) for row in rows]

    def case_ids(self) -> Iterator[str]:
        """Every case id, in first-submission order (read in pages: no lock is held)."""
        last = 0
        while True:
            rows = (
                self._connection()
                .execute(
                    "SELECT id, case_id FROM cases WHERE id > ? ORDER BY id LIMIT 1000", (last,)
                )
                .fetchall()
            )
            if not rows:
                return
            for _, case_id in rows:
                yield case_id
            last = rows[-1][0]

    def case_history(self, case_id: str) -> list[tuple[Any, ...]] | None:
        """The case's history: the log rows' entries in order, after any a schema-1 state
        still holds (one transaction: the state and the log agree)."""
        with self.transaction() as tx:
            state = tx.load_case(case_id)
            if state is None:
                return None
            assert isinstance(tx, _Transaction)
            tx.flush()  # writes of the transaction a caller may have joined
            loaded = tx.cases.get(case_id)
            entries = list(state.history[loaded.moved if loaded is not None else 0 :])
            rows = self._connection().execute(
                "SELECT history FROM log WHERE case_id = ? AND history IS NOT NULL ORDER BY id",
                (case_id,),
            )
            for (blob,) in rows:
                earlier, history, _ = load_log(blob)
                entries.extend(earlier)
                entries.extend(history)
            return entries

    def next_wakeup(self) -> dt.datetime | None:
        tx = self._local.tx
        if tx is not None and self._local.pid == os.getpid():
            return tx.next_wakeup()
        row = (
            self._connection().execute("SELECT at FROM timers ORDER BY at, seq LIMIT 1").fetchone()
        )
        return None if row is None else _time(row[0])

    # -- reading, for status displays, reports and tests ---------------------------------------

    def clock(self) -> dt.datetime | None:
        """The store clock (the latest time the engine moved to), or None."""
        row = self._connection().execute("SELECT now FROM clock WHERE id = 1").fetchone()
        return _opt_time(row[0])

    def counts(self) -> dict[str, int]:
        """Cases, instances by status, pending timers, grants and log entries."""
        conn = self._connection()
        out: dict[str, int] = {
            "cases": conn.execute("SELECT count(*) FROM cases").fetchone()[0],
            "instances": 0,
        }
        for status, count in conn.execute(
            "SELECT status, count(*) FROM instances GROUP BY status ORDER BY status"
        ):
            out[status] = count
            out["instances"] += count
        out["timers"] = conn.execute("SELECT count(*) FROM timers").fetchone()[0]
        out["grants"] = conn.execute("SELECT count(*) FROM ledger").fetchone()[0]
        out["log"] = conn.execute("SELECT count(*) FROM log").fetchone()[0]
        return out

    def instances(
        self, case_id: str | None = None, status: str | None = None
    ) -> Iterator[InstanceRow]:
        """Instance rows (of one case, or with one status), cases in first-submission order,
        then by workflow and number (read in pages: no lock is held)."""
        if case_id is not None:
            rows = (
                self._connection()
                .execute(
                    "SELECT * FROM instances WHERE case_id = ? ORDER BY workflow, number",
                    (case_id,),
                )
                .fetchall()
            )
            for row in rows:
                if status is None or row[4] == status:
                    yield _row_to_instance(row)
            return
        for _, found in self.cases_with_instances():
            for row in found:
                if status is None or row.status == status:
                    yield row

    def cases_with_instances(self) -> Iterator[tuple[str, list[InstanceRow]]]:
        """Every case id in first-submission order with its instance rows (maybe none)."""
        conn = self._connection()
        last = 0
        while True:
            cases = conn.execute(
                "SELECT id, case_id FROM cases WHERE id > ? ORDER BY id LIMIT 500", (last,)
            ).fetchall()
            if not cases:
                return
            marks = ",".join("?" * len(cases))
            found: dict[str, list[InstanceRow]] = {}
            for row in conn.execute(
                f"SELECT * FROM instances WHERE case_id IN ({marks}) "
                "ORDER BY case_id, workflow, number",
                [c[1] for c in cases],
            ):
                found.setdefault(row[0], []).append(_row_to_instance(row))
            for _, case in cases:
                yield case, found.get(case, [])
            last = cases[-1][0]

    def pending_timers(self, case_id: str | None = None) -> list[DueTimer]:
        """The pending timers (of one case), in firing order."""
        conn = self._connection()
        if case_id is None:
            rows = conn.execute("SELECT at, seq, case_id FROM timers ORDER BY at, seq")
        else:
            rows = conn.execute(
                "SELECT at, seq, case_id FROM timers WHERE case_id = ? ORDER BY at, seq",
                (case_id,),
            )
        return [DueTimer(_time(at), seq, case) for at, seq, case in rows]

    def log(self, case_id: str | None = None, since: int = 0) -> list[LogEntry]:
        """Event log entries (of one case), oldest first, with id above `since`."""
        conn = self._connection()
        if case_id is None:
            rows = conn.execute(
                "SELECT id, tx, at, kind, case_id, body, history FROM log WHERE id > ? ORDER BY id",
                (since,),
            )
        else:
            rows = conn.execute(
                "SELECT id, tx, at, kind, case_id, body, history FROM log "
                "WHERE case_id = ? AND id > ? ORDER BY id",
                (case_id, since),
            )
        return [
            LogEntry(row[0], row[1], _time(row[2]), row[3], row[4], _log_body(row[5], row[6]))
            for row in rows
        ]

    def all_grants(self) -> list[Grant]:
        """The whole ledger, oldest first (for reports)."""
        rows = (
            self._connection()
            .execute(f"SELECT {_GRANT_COLUMNS} FROM ledger ORDER BY at, id")
            .fetchall()
        )
        return [_row_to_grant(row) for row in rows]


# ---- views for operators (`retainflow status`, `retainflow advance`) ---------------------


def open_engine(store: SQLiteStore) -> Engine:
    """An engine over the workflows a store holds: the newest version of each name (older
    versions load from the store for the instances pinned on them)."""
    from retainflow.api import load_source
    from retainflow.engine import Engine
    from retainflow.source import SourceFile

    newest: dict[str, WorkflowSource] = {}
    for source in store.workflow_sources():
        newest[source.name] = source
    workflows = [
        load_source(SourceFile(s.path or f"<{s.name} v{s.version}>", s.source))
        for s in newest.values()
    ]
    return Engine(workflows, store=store)


def waits_for(workflow: Workflow, step: str | None, phase: str) -> list[str]:
    """What an active instance in `step` and `phase` waits for: the events its handlers
    (the step's, then the global ones) take, `timeout`, `approval` or `wait`."""
    if phase == "sleeping":
        return ["wait"]
    if phase == "pending":
        return ["approval"]
    spec = workflow.steps.get(step or "")
    if spec is None or phase != "waiting":
        return []
    found = list(dict.fromkeys([*spec.handlers, *workflow.global_handlers]))
    if spec.timeout is not None:
        found.append("timeout")
    return found
