"""The shared compensation ledger of the Temporal runtime: check-and-append, atomically.

Input: `LedgerRequest`s from case workflows (through the `retainflow.ledger_sync`
activity): the ledger versions the engine read, per client, and the grants it made.
Output: `LedgerReply`: appended (every version still current), or refused with the
current grants so the workflow runs its input again on them.

Per-client limits count the grants of every case of the client, and cases run in
separate Temporal workflows, so the ledger is the one place they meet. A client's
version is the number of its grants (the ledger only grows), which makes the check
optimistic concurrency: two cases of one client that offer at once both read version
n; the first to commit makes it n+1; the second is refused, re-runs its input with the
first's grant counted, and commits against n+1. No grant is ever made on a view that
missed another grant of the same client.

    ledger = SQLiteLedger("ledger.db")   # shared by every worker process of the host
    ledger = MemoryLedger()              # one worker process (tests, demos)

Every request's reply is recorded under its `key`, and a request seen before gets that
same reply again: a commit retried after a lost reply is applied once, and a workflow task
that a killed worker leaves unfinished re-runs on exactly what it was told the first time
(with local activities, their results are lost with the task: the re-run asks again, and
must not see the grants its own lost run committed, or it would decide differently from
what the ledger holds).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from retainflow.ledger import Grant
from retainflow.stores.locking import retry_while_busy
from retainflow.temporal.messages import LedgerReply, LedgerRequest
from retainflow.values import Money

__all__ = ["LedgerBackend", "MemoryLedger", "SQLiteLedger", "grant_from_wire", "grant_to_wire"]


def grant_to_wire(grant: Grant) -> dict[str, Any]:
    return {
        "at": grant.at.astimezone(dt.UTC).isoformat(),
        "client": grant.client,
        "kind": grant.kind,
        "amount": str(grant.amount),
        "case": grant.case,
        "workflow": grant.workflow,
        "label": grant.label,
        "instance": grant.instance,
    }


def grant_from_wire(item: dict[str, Any]) -> Grant:
    instance = item.get("instance")
    return Grant(
        dt.datetime.fromisoformat(str(item["at"])),
        None if item.get("client") is None else str(item["client"]),
        str(item["kind"]),
        Money.parse(str(item["amount"])),
        item.get("case"),
        item.get("workflow"),
        item.get("label"),
        None if instance is None else int(instance),
    )


def _key(client: str | None) -> str:
    return client or ""


class LedgerBackend(Protocol):
    """What the ledger activity needs: an atomic check-and-append, and reads."""

    def sync(self, request: LedgerRequest) -> LedgerReply: ...

    def grants(self, client: str) -> list[Grant]:
        """Every grant of `client`, oldest first."""

    def seed(self, grants: Iterable[Grant]) -> None:
        """Add earlier grants (like `retainflow run --ledger`)."""


class MemoryLedger:
    """The ledger in one process's memory, behind a lock."""

    def __init__(self, grants: Iterable[Grant] = ()) -> None:
        self._lock = threading.Lock()
        self._grants: dict[str, list[Grant]] = {}
        self._replies: dict[str, LedgerReply] = {}  # request key -> the reply it got
        self.seed(grants)

    def seed(self, grants: Iterable[Grant]) -> None:
        with self._lock:
            for grant in grants:
                self._add(grant)

    def _add(self, grant: Grant) -> None:
        items = self._grants.setdefault(_key(grant.client), [])
        items.append(grant)
        items.sort(key=lambda g: g.at)  # stable: equal times keep their commit order

    def grants(self, client: str) -> list[Grant]:
        with self._lock:
            return list(self._grants.get(client, ()))

    def sync(self, request: LedgerRequest) -> LedgerReply:
        with self._lock:
            seen = self._replies.get(request.key)
            if seen is not None:
                return LedgerReply(seen.ok, json.loads(json.dumps(seen.ledgers)))
            ok = all(
                len(self._grants.get(client, ())) == version
                for client, version in request.expected.items()
            )
            if ok:
                for item in request.grants:
                    self._add(grant_from_wire(item))
            reply = LedgerReply(ok, self._view(request.expected))
            self._replies[request.key] = LedgerReply(ok, json.loads(json.dumps(reply.ledgers)))
            return reply

    def _view(self, clients: Iterable[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for client in clients:
            items = self._grants.get(client, [])
            out[client] = {"version": len(items), "grants": [grant_to_wire(g) for g in items]}
        return out


_SCHEMA = """
CREATE TABLE IF NOT EXISTS grants (
  n INTEGER PRIMARY KEY AUTOINCREMENT,
  client TEXT NOT NULL,
  at TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS grants_by_client ON grants (client, at, n);
CREATE TABLE IF NOT EXISTS commits (key TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, ok INTEGER NOT NULL, body TEXT NOT NULL);
"""


_BUSY_SECONDS = 30.0  # how long a worker waits for another one holding the file's lock


class SQLiteLedger:
    """The ledger in a SQLite file: every worker process of a host may share it.

    Each `sync` is one `BEGIN IMMEDIATE` transaction, so concurrent commits of one
    client serialize on the file lock. (Workers on several hosts need a ledger on a
    database they all reach: implement `LedgerBackend` on it the same way.)
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        db = self._connect()
        retry_while_busy(lambda: db.executescript(_SCHEMA), _BUSY_SECONDS)

    def _connect(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            opened = sqlite3.connect(self.path, timeout=_BUSY_SECONDS, isolation_level=None)
            # fails at once, busy timeout or not, while another connection opens the file
            retry_while_busy(
                lambda: opened.execute("PRAGMA journal_mode=WAL").fetchone(), _BUSY_SECONDS
            )
            self._local.db = db = opened
        return db

    def _read(self, db: sqlite3.Connection, client: str) -> list[Grant]:
        rows = db.execute(
            "SELECT body FROM grants WHERE client = ? ORDER BY at, n", (client,)
        ).fetchall()
        return [grant_from_wire(json.loads(body)) for (body,) in rows]

    def _insert(self, db: sqlite3.Connection, grants: Sequence[Grant]) -> None:
        db.executemany(
            "INSERT INTO grants (client, at, body) VALUES (?, ?, ?)",
            [
                (
                    _key(g.client),
                    g.at.astimezone(dt.UTC).isoformat(),
                    json.dumps(grant_to_wire(g)),
                )
                for g in grants
            ],
        )

    def grants(self, client: str) -> list[Grant]:
        return self._read(self._connect(), client)

    def seed(self, grants: Iterable[Grant]) -> None:
        db = self._connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            self._insert(db, list(grants))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def sync(self, request: LedgerRequest) -> LedgerReply:
        db = self._connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            seen = db.execute(
                "SELECT ok, body FROM replies WHERE key = ?", (request.key,)
            ).fetchone()
            if seen is not None:  # asked before: the same answer
                db.execute("COMMIT")
                return LedgerReply(bool(seen[0]), json.loads(seen[1]))
            # a commit recorded by a ledger file of before the replies table
            done = db.execute("SELECT 1 FROM commits WHERE key = ?", (request.key,)).fetchone()
            current = {client: self._read(db, client) for client in request.expected}
            ok = done is not None or all(
                len(current[client]) == version for client, version in request.expected.items()
            )
            if ok and done is None:
                db.execute("INSERT INTO commits (key) VALUES (?)", (request.key,))
                self._insert(db, [grant_from_wire(item) for item in request.grants])
                current = {client: self._read(db, client) for client in request.expected}
            ledgers = {
                client: {"version": len(items), "grants": [grant_to_wire(g) for g in items]}
                for client, items in current.items()
            }
            db.execute(
                "INSERT INTO replies (key, ok, body) VALUES (?, ?, ?)",
                (request.key, int(ok), json.dumps(ledgers)),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return LedgerReply(ok, ledgers)
