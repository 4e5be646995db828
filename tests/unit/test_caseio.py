"""Case files: YAML 1.2 core scalars with source text, JSON, JSON Lines, validation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from test_engine_support import flow

from retainflow.caseio import CaseFileError, core_value, load_cases, load_ledger, read_document
from retainflow.runtime.data import Plain, validate_case, validate_payload
from retainflow.values import Money

WF = flow("""
case { client: text; tier: enum(no, yes, gold); code: text; n: number?; vip: bool? }
event rated { score: number }
trigger t on open
start s
step s { on rated -> done }
outcome done
""")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_plain_scalars_keep_their_source_text(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.yaml",
        """
- id: 0012
  at: 2026-03-02T09:15:00+08:00
  client: 007
  tier: no
  code: 1e3
  n: 5
  vip: yes
""",
    )
    (entry,) = load_cases(path, [WF])
    assert entry.error == "case 0012: field vip: expected true or false, got 'yes'"
    path = write(
        tmp_path,
        "d.yaml",
        """
cases:
  - {id: 0012, at: 2026-03-02T09:15:00+08:00, client: 007, tier: no, code: 1e3, n: 5,
     vip: true}
""",
    )
    (entry,) = load_cases(path, [WF])
    assert entry.error is None and entry.case_id == "0012"
    data = validate_case([WF], entry.data)
    assert data == {
        "client": "007",
        "tier": "no",
        "code": "1e3",
        "n": Decimal(5),
        "vip": True,
        "id": "0012",
    }


def test_null_and_booleans_from_a_yaml_file(tmp_path: Path) -> None:
    """Through the real loader (libyaml's when installed): `null` is none for an optional
    field, and an undeclared event's `true` stays a bool."""
    path = write(
        tmp_path,
        "e.yaml",
        """
- id: C1
  at: 2026-03-02T09:15:00+08:00
  client: acme
  tier: gold
  code: x
  n: null
  vip: ~
  events:
    - {type: flagged, at: 2026-03-02T10:00:00+08:00, flag: true, note: "true", size: 5}
""",
    )
    (entry,) = load_cases(path, [WF])
    assert entry.error is None
    data = validate_case([WF], entry.data)
    assert data["n"] is None and data["vip"] is None
    (event,) = entry.events
    fields = {k: v for k, v in event.raw.items() if k not in ("type", "at", "id")}
    payload = validate_payload([WF], "flagged", fields)
    assert payload == {"flag": True, "note": "true", "size": Decimal(5)}


def test_core_schema_values() -> None:
    assert core_value("true") is True and core_value("False") is False
    assert core_value("yes") == "yes" and core_value("on") == "on"
    assert core_value("~") is None and core_value("null") is None
    assert core_value("0x1F") == Decimal(31) and core_value("0o17") == Decimal(15)
    assert core_value("4.5") == Decimal("4.5") and core_value("2026-03-02") == "2026-03-02"


def test_undeclared_payload_keeps_yaml_types() -> None:
    payload = validate_payload(
        [WF],
        "resolved",
        {
            "accepted": Plain("false", False),
            "score": Plain("5", Decimal(5)),
            "note": Plain("no", "no"),
        },
    )
    assert payload == {"accepted": False, "score": Decimal(5), "note": "no"}
    assert validate_payload([WF], "rated", {"score": Plain("4", Decimal(4))}) == {
        "score": Decimal(4)
    }


def test_bad_cases_get_error_records_naming_the_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        """
- {id: A, at: 2026-03-02T09:00:00, client: x, tier: gold, code: c}
- {id: B, at: 2026-03-02T09:00:00Z, client: x, tier: diamond, code: c}
- {id: C, at: 2026-03-02T09:00:00Z, client: x, tier: gold, code: c, extra: 1}
- {id: D, at: 2026-03-02T09:00:00Z, client: x, tier: gold}
- id: E
  at: 2026-03-02T09:00:00Z
  client: x
  tier: gold
  code: c
  events:
    - {type: rated, at: 2026-03-01T09:00:00Z, score: 4}
- id: F
  at: 2026-03-02T09:00:00Z
  client: x
  tier: gold
  code: c
  events:
    - {type: go, at: 2026-03-03T09:00:00Z}
    - {type: rated, at: 2026-03-03T09:00:00Z, score: many}
- id: G
  at: 2026-03-02T09:00:00Z
  client: x
  tier: gold
  code: c
  events:
    - {type: case_updated, at: 2026-03-03T09:00:00Z, tier: none}
- {id: H, at: 2026-03-02T09:00:00Z, client: x, tier: gold, code: c, events: [{type: open,
   at: 2026-03-02T10:00:00Z}]}
""",
    )
    errors = [e.error for e in load_cases(path, [WF])]
    assert errors[0] is not None and errors[0].startswith("case A: field at: ")
    assert errors[1] == "case B: field tier: 'diamond' is not one of no, yes, gold"
    assert errors[2] is not None and errors[2].startswith("case C: field extra: ")
    assert errors[3] == "case D: field code: is required"
    assert errors[4] is not None and errors[4].startswith("case E: field events[1].at: ")
    assert errors[5] is not None and errors[5].startswith("case F: field events[2].score: ")
    assert errors[6] is not None and errors[6].startswith("case G: field events[1].tier: ")
    assert errors[7] is None


def test_json_and_json_lines(tmp_path: Path) -> None:
    case = (
        '{"id": 12, "at": "2026-03-02T09:00:00Z", "client": "x", "tier": "gold", '
        '"code": "c", "n": 4.5}'
    )
    json_path = write(tmp_path, "c.json", "[" + case + "]")
    jsonl_path = write(tmp_path, "c.jsonl", case + "\n\n" + case.replace("12", "13", 1) + "\n")
    (entry,) = load_cases(json_path, [WF])
    assert entry.case_id == "12"
    assert validate_case([WF], entry.data)["n"] == Decimal("4.5")
    assert [e.case_id for e in load_cases(jsonl_path, [WF])] == ["12", "13"]


def test_unreadable_and_unparsable_files(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError, match="cannot be read"):
        read_document(tmp_path / "missing.yaml")
    with pytest.raises(CaseFileError, match="invalid YAML"):
        read_document(write(tmp_path, "x.yaml", "- {id: [\n"))
    with pytest.raises(CaseFileError, match="invalid JSON"):
        read_document(write(tmp_path, "x.json", "[{]"))
    lines = '{"id": "L1"}\n\n{"id": "L3"}\n{"id": "L4", bad\n'
    with pytest.raises(CaseFileError, match=r"x\.jsonl:4:14: invalid JSON: Expecting"):
        read_document(write(tmp_path, "x.jsonl", lines))  # the file's line, blank ones counted
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(CaseFileError, match="UTF-8"):
        read_document(tmp_path / "bin.yaml")
    with pytest.raises(CaseFileError, match="expected a list"):
        load_cases(write(tmp_path, "m.yaml", "id: 1\n"), [WF])


def test_a_key_given_twice_and_an_unknown_ledger_key_are_errors(tmp_path: Path) -> None:
    twice = write(tmp_path, "twice.yaml", "- id: A\n  client: x\n  id: B\n")
    with pytest.raises(
        CaseFileError,
        match=r"twice\.yaml:3:3: invalid YAML: duplicate key 'id' \(first on line 1\)",
    ):
        read_document(twice)
    nested = "- id: A\n  events:\n    - {type: open, type: close}\n"
    with pytest.raises(CaseFileError, match="duplicate key 'type'"):
        read_document(write(tmp_path, "nested.yaml", nested))
    ledger = write(
        tmp_path,
        "l.yaml",
        "- {client: a, kind: credit, amount: 5 USD, at: 2026-01-01T00:00:00Z, lable: x}\n",
    )
    with pytest.raises(
        CaseFileError, match=r"ledger entry 1: unknown key 'lable' \(did you mean 'label'\?\)"
    ):
        load_ledger(ledger)


def test_ledger_seed_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "l.yaml",
        """
ledger:
  - {client: acme, kind: credit, amount: 1000 USD, at: 2026-01-10T00:00:00Z, label: old}
  - {client: 0042, kind: discount, amount: 5 EUR, at: 2026-01-11T08:00:00+08:00}
""",
    )
    first, second = load_ledger(path)
    assert (first.client, first.kind, first.amount, first.label) == (
        "acme",
        "credit",
        Money(1000, "USD"),
        "old",
    )
    assert second.client == "0042" and second.at == dt.datetime(2026, 1, 11, tzinfo=dt.UTC)
    with pytest.raises(CaseFileError, match="ledger entry 1: missing at"):
        load_ledger(write(tmp_path, "bad.yaml", "- {client: a, kind: credit, amount: 1 USD}\n"))
