"""The command line on a store: `run --store`, `status` and `advance` (tools.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from retainflow import Engine, SQLiteStore
from retainflow.cli import main
from retainflow.stores.sqlite import open_engine

ROOT = Path(__file__).resolve().parents[2]

WORKFLOW = """workflow w version 1
case { client: text; arr: money(USD) }
trigger t on open
limit compensation per client 100 USD
start give
step give {
  offer credit 10% of case.arr
  due 1d
  on ok -> done
  on timeout -> remind
}
step remind {
  do ping(client: case.client)
  due 2d
  on ok -> done
  on timeout -> lost
}
outcome done as retained
outcome lost as churned
"""

FIRST = """
- id: A
  at: 2026-03-02T09:00:00Z
  client: acme
  arr: 500 USD
  events:
    - {type: open, at: 2026-03-02T09:00:00Z, id: a1}
- id: B
  at: 2026-03-02T10:00:00Z
  client: globex
  arr: 900 USD
  events:
    - {type: open, at: 2026-03-02T11:00:00Z, id: b1}
"""

# the same cases, with later events: a second run continues the first
SECOND = """
- id: A
  at: 2026-03-02T09:00:00Z
  client: acme
  arr: 500 USD
  events:
    - {type: open, at: 2026-03-02T09:00:00Z, id: a1}
    - {type: ok, at: 2026-03-02T12:00:00Z, id: a2}
- id: B
  at: 2026-03-02T10:00:00Z
  client: globex
  arr: 900 USD
  events:
    - {type: open, at: 2026-03-02T11:00:00Z, id: b1}
"""

LEDGER = """
- {client: acme, kind: credit, amount: 20 USD, at: 2026-01-10T00:00:00Z}
"""


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w.rflow").write_text(WORKFLOW, encoding="utf-8")
    (tmp_path / "first.yaml").write_text(FIRST, encoding="utf-8")
    (tmp_path / "second.yaml").write_text(SECOND, encoding="utf-8")
    (tmp_path / "ledger.yaml").write_text(LEDGER, encoding="utf-8")
    return tmp_path


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_run_store_persists_and_a_second_run_continues(files: Path) -> None:
    code, out, err = cli("run", "w.rflow", "first.yaml", "--store", "s.db")
    assert code == 0, err
    first = {r["case"]: r for r in lines(out)}
    # --until defaults to the latest time in the file: the instances wait in the store
    assert first["A"]["status"] == first["B"]["status"] == "waiting"
    store = SQLiteStore(files / "s.db")
    clock = store.clock()
    assert clock is not None and clock.isoformat() == "2026-03-02T11:00:00+00:00"
    assert store.counts()["active"] == 2
    code, out, err = cli("run", "w.rflow", "second.yaml", "--store", "s.db")
    assert code == 0, err
    second = {r["case"]: r for r in lines(out)}
    assert (second["A"]["status"], second["A"]["outcome"]) == ("ended", "done")
    assert [o["status"] for o in second["A"]["offers"]] == ["granted"]
    assert second["B"]["status"] == "waiting"
    # re-sent events are recognised, not applied twice
    assert [i["reason"] for i in second["A"]["ignored"]] == ["duplicate"]
    assert len(Engine([], store=SQLiteStore(files / "s.db")).ledger("acme")) == 1


def test_run_store_with_until_and_a_ledger_seeded_twice(files: Path) -> None:
    for _ in range(2):
        code, _, err = cli(
            "run",
            "w.rflow",
            "first.yaml",
            "--store",
            "s.db",
            "--ledger",
            "ledger.yaml",
            "--until",
            "2026-03-10T00:00:00Z",
        )
        assert code == 0, err
    store = SQLiteStore(files / "s.db")
    assert [(g.client, g.case) for g in store.all_grants()] == [
        ("acme", None),
        ("acme", "A"),
        ("globex", "B"),
    ]
    assert store.counts()["ended"] == 2


def test_run_store_refuses_a_changed_text_under_the_same_version(files: Path) -> None:
    assert cli("run", "w.rflow", "first.yaml", "--store", "s.db")[0] == 0
    (files / "w.rflow").write_text(WORKFLOW.replace("due 2d", "due 3d"), encoding="utf-8")
    code, _, err = cli("run", "w.rflow", "first.yaml", "--store", "s.db")
    assert code == 2
    assert "workflow w version 1" in err and "bump 'version 1' to 'version 2'" in err


def test_status_lists_instances_what_they_wait_for_and_until_when(files: Path) -> None:
    assert cli("run", "w.rflow", "first.yaml", "--store", "s.db")[0] == 0
    code, out, err = cli("status", "--store", "s.db")
    assert code == 0, err
    head, columns, *rows = out.splitlines()
    assert "2 cases, 2 instances (2 waiting)" in head and "clock 2026-03-02T11:00:00Z" in head
    assert columns.split() == ["CASE", "#", "WORKFLOW", "STATUS", "STEP", "WAITS", "FOR", "UNTIL"]
    assert rows[0].split() == [
        "A",
        "1",
        "w",
        "v1",
        "waiting",
        "give",
        "ok,",
        "timeout",
        "2026-03-03T09:00:00Z",
        "(due)",
    ]
    assert rows[1].split()[:2] == ["B", "1"]
    code, out, _ = cli("status", "--store", "s.db", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["counts"]["active"] == 2
    assert document["instances"][0] == {
        "case": "A",
        "instance": 1,
        "workflow": "w",
        "version": 1,
        "status": "waiting",
        "step": "give",
        "phase": "waiting",
        "outcome": None,
        "started_at": "2026-03-02T09:00:00Z",
        "ended_at": None,
        "waits_for": ["ok", "timeout"],
        "until": "2026-03-03T09:00:00Z",
        "timer": "due",
    }


def test_status_of_one_case_in_detail(files: Path) -> None:
    assert cli("run", "w.rflow", "first.yaml", "--store", "s.db")[0] == 0
    code, out, err = cli("status", "--store", "s.db", "A")
    assert code == 0, err
    assert "instance 1 of w v1 (sha256 " in out
    assert "waits for: ok, timeout" in out
    assert "offers:" in out and "credit requested 50.00 USD, granted 50.00 USD" in out
    assert "pending timers:\n    2026-03-03T09:00:00Z due" in out
    assert "history:" in out and 'event type="open" id="a1"' in out
    code, out, _ = cli("status", "--store", "s.db", "A", "--format", "json")
    document = json.loads(out)
    (instance,) = document["instances"]
    assert instance["timers"] == [{"at": "2026-03-03T09:00:00Z", "kind": "due", "name": None}]
    assert instance["waits_for"] == ["ok", "timeout"]
    assert [h["kind"] for h in document["history"]][:3] == ["submission", "event", "trace"]


def test_status_exit_codes(files: Path) -> None:
    assert cli("run", "w.rflow", "first.yaml", "--store", "s.db")[0] == 0
    code, _, err = cli("status", "--store", "s.db", "nobody")
    assert code == 1 and "no case 'nobody'" in err
    code, _, err = cli("status", "--store", "missing.db")
    assert code == 2 and "no such store" in err
    (files / "junk.db").write_text("not a database" * 200)
    assert cli("status", "--store", "junk.db")[0] == 2
    (files / "empty.db").write_bytes(b"")
    code, _, err = cli("status", "--store", "empty.db")
    assert code == 2 and "empty.db: is empty, not a retainflow store" in err
    assert (files / "empty.db").stat().st_size == 0  # left as it was
    assert cli("status")[0] == 2  # --store is required


def test_advance_fires_due_timers_and_prints_the_actions(files: Path) -> None:
    assert cli("run", "w.rflow", "first.yaml", "--store", "s.db")[0] == 0
    code, out, err = cli("advance", "--store", "s.db", "--now", "2026-03-03T10:00:00Z")
    assert code == 0, err
    assert out.splitlines() == ["2026-03-03T09:00:00Z  A  w  remind  ping(client: acme)"]
    assert "1 timer fired, 1 action" in err
    code, out, err = cli(
        "advance", "--store", "s.db", "--now", "2026-03-10T00:00:00+08:00", "--format", "json"
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["fired"] == 3
    assert document["clock_before"] == "2026-03-03T10:00:00Z"
    assert [(a["case"], a["name"], a["args"]) for a in document["actions"]] == [
        ("B", "ping", {"client": "globex"})
    ]
    # the store went on: both instances ended; advancing again fires nothing
    assert SQLiteStore(files / "s.db").counts()["ended"] == 2
    code, out, err = cli("advance", "--store", "s.db", "--now", "2026-03-05T00:00:00Z")
    assert code == 0 and out == "" and "nothing to fire" in err


def test_status_and_advance_write_to_out(files: Path) -> None:
    assert cli("run", "w.rflow", "first.yaml", "--store", "s.db")[0] == 0
    shown = cli("status", "--store", "s.db", "A")[1]
    code, out, err = cli("status", "--store", "s.db", "A", "--out", "a.txt")
    assert code == 0 and out == "", err
    assert (files / "a.txt").read_text(encoding="utf-8") == shown
    code, out, _ = cli("status", "--store", "s.db", "--format", "json", "--out", "all.json")
    assert code == 0 and out == ""
    assert json.loads((files / "all.json").read_text(encoding="utf-8"))["counts"]["cases"] == 2
    args = ("advance", "--store", "s.db", "--now", "2026-03-03T10:00:00Z", "--out", "fired.txt")
    code, out, err = cli(*args)
    assert code == 0 and out == "" and "1 timer fired" in err
    assert (files / "fired.txt").read_text(encoding="utf-8").splitlines() == [
        "2026-03-03T09:00:00Z  A  w  remind  ping(client: acme)"
    ]


def test_advance_exit_codes(files: Path) -> None:
    assert cli("run", "w.rflow", "first.yaml", "--store", "s.db")[0] == 0
    code, _, err = cli("advance", "--store", "s.db", "--now", "2026-03-03T10:00:00")
    assert code == 2 and "no UTC offset" in err
    assert cli("advance", "--store", "missing.db", "--now", "2026-03-03T10:00:00Z")[0] == 2
    assert cli("advance", "--store", "s.db")[0] == 2


def test_the_reference_example_through_run_store_and_advance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    workflow = str(ROOT / "workflows" / "reactive_retention.rflow")
    cases = str(ROOT / "examples" / "reactive_retention.cases.yaml")
    plain = lines(cli("run", workflow, cases)[1])
    code, out, _ = cli("run", workflow, cases, "--store", "s.db")
    assert code == 1  # RR-09 is rejected on purpose
    stored = {r["case"]: r for r in lines(out)}
    assert stored["RR-11"]["status"] == "waiting"  # still waiting at the last time in the file
    code, _, err = cli("advance", "--store", "s.db", "--now", "2027-07-03T12:15:00Z")
    assert code == 0, err
    engine = open_engine(SQLiteStore(tmp_path / "s.db"))
    # the stored run then equals a plain run to the default horizon
    for want in plain:
        if want["status"] == "error":
            continue
        (got,) = [r for r in engine.records(str(want["case"])) if r["instance"] == want["instance"]]
        assert json.loads(json.dumps(got)) == want


def test_a_damaged_store_or_row_is_a_clear_error_not_a_traceback(files: Path) -> None:
    import sqlite3

    from retainflow.stores.sqlite import StoreError

    assert cli("run", "w.rflow", "first.yaml", "--store", "s.db")[0] == 0
    with sqlite3.connect(files / "s.db") as db:
        db.execute("UPDATE cases SET state = x'8005deadbeef' WHERE case_id = 'A'")
    for args in (
        ("status", "--store", "s.db", "A"),
        ("advance", "--store", "s.db", "--now", "2026-03-10T00:00:00Z"),
    ):
        code, _, err = cli(*args)
        assert code == 2, err
        assert "a row of the cases table cannot be read: it is damaged" in err
        assert "Traceback" not in err
    with pytest.raises(StoreError, match="cannot be read"):
        Engine([], store=SQLiteStore(files / "s.db")).records("A")
    # pages overwritten: every command that opens it says so, with what to check
    with sqlite3.connect(files / "s.db") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the main file
    data = bytearray((files / "s.db").read_bytes())
    data[4096:] = b"\xff" * (len(data) - 4096)  # every page but the first (the schema)
    (files / "broken.db").write_bytes(bytes(data))
    for args in (
        ("status", "--store", "broken.db"),
        ("advance", "--store", "broken.db", "--now", "2026-03-10T00:00:00Z"),
    ):
        code, _, err = cli(*args)
        assert code == 2 and "Traceback" not in err, err
        assert "broken.db" in err
