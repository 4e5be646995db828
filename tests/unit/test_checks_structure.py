"""Workflow shape and compensation rules: RF201, RF207 at the `workflow` header, RF503 at
each per-client limit."""

from __future__ import annotations

from tests.unit.test_checks_support import CASE, assert_clean, at, codes, flow, one, only, where

HEADER = "workflow t version 1"


def test_rf201_no_start() -> None:
    text = flow("step s { -> done }\n")
    diag = one(text, "RF201")
    assert where(diag) == at(text, HEADER)
    assert diag.message == "workflow 't' has no `start`"
    assert diag.label == "say where instances begin, e.g. `start s`"


def test_rf201_no_step() -> None:
    text = flow("")
    diag = one(text, "RF201")
    assert where(diag) == at(text, HEADER)
    assert diag.message == "workflow 't' has no step"


def test_rf207_no_outcome() -> None:
    text = flow("start s\nstep s {\n  due 1d\n  on timeout -> s\n}\n", outcome="")
    diag = one(text, "RF207")
    assert where(diag) == at(text, HEADER)
    assert diag.message == "workflow 't' declares no outcome"


def test_an_empty_workflow_gets_both() -> None:
    assert codes(HEADER + "\n") == ["RF201", "RF207"]


def test_rf503_per_client_limits_need_a_client_field() -> None:
    case = CASE.replace("  client: text\n", "")
    limits = (
        "limit compensation per client 100 USD\n"
        "limit grants per client 2 over 30d\n"
        "limit compensation per case 50 USD\n"
    )
    text = flow(f"{limits}start s\nstep s {{\n  offer credit 5 USD\n  -> done\n}}\n", case=case)
    found = only(text, "RF503")
    assert [where(d) for d in found] == [
        at(text, "limit compensation per client 100 USD"),
        at(text, "limit grants per client 2 over 30d"),
    ]
    assert found[0].message == "a per-client limit needs a `client` field in the case schema"


def test_rf503_silent_with_a_client_field() -> None:
    assert_clean(
        flow(
            "limit compensation per client 100 USD\nstart s\n"
            "step s {\n  offer credit 5 USD\n  -> done\n}\n"
        )
    )
