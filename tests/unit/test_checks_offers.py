"""RF501/RF502: compensation must be capped, and constant offers must fit their caps."""

from __future__ import annotations

from retainflow.analysis import parse_workflow
from retainflow.checks.offers import check_offers
from retainflow.diagnostics import location
from retainflow.source import SourceFile


def diagnose(declarations: str, offer: str) -> list[tuple[str, int, int, str]]:
    text = (
        "workflow w version 1\ncase { client: text\n  arr: money(USD) }\n"
        f"{declarations}\nstart a\nstep a {{\n  {offer}\n  -> done\n}}\noutcome done\n"
    )
    source = SourceFile("w.rflow", text)
    workflow, problems = parse_workflow(source)
    assert workflow is not None, problems
    out = []
    for diag in check_offers(workflow):
        loc = location(source, diag.span)
        out.append((diag.code, loc["line"], loc["column"], diag.message))
    return out


def test_offer_without_any_limit() -> None:
    [(code, line, column, message)] = diagnose("", "offer credit 50 USD")
    assert (code, line, column) == ("RF501", 7, 3)
    assert message == "no money limit caps credit offers"


def test_grant_counts_do_not_cap_money() -> None:
    assert [
        d[0] for d in diagnose("limit grants per client 2 over 90d", "offer credit 50 USD")
    ] == ["RF501"]


def test_a_limit_of_another_kind_does_not_cover() -> None:
    assert [d[0] for d in diagnose("limit discount per case 100 USD", "offer credit 5 USD")] == [
        "RF501"
    ]


def test_compensation_covers_every_kind() -> None:
    assert diagnose("limit compensation per client 10% of case.arr", "offer service 5 USD") == []


def test_constant_offer_above_constant_case_limit() -> None:
    [(code, line, column, message)] = diagnose(
        "const gesture = 600 USD\nlimit credit per case 500 USD", "offer credit gesture"
    )
    assert (code, line, column) == ("RF502", 8, 3)
    assert "600.00 USD is above the per-case limit of 500.00 USD" in message


def test_offer_within_or_depending_on_the_case_is_fine() -> None:
    assert diagnose("limit credit per case 500 USD", "offer credit 500 USD") == []
    assert diagnose("limit credit per case 500 USD", "offer credit 10% of case.arr") == []
    assert diagnose("limit credit per client 50 USD", "offer credit 500 USD") == []


def test_constant_expressions_are_constant_offers_and_limits() -> None:
    [(code, line, column, message)] = diagnose(
        "limit credit per case 20 USD + 30 USD", "offer credit 50 USD + 50 USD"
    )
    assert (code, line, column) == ("RF502", 7, 3)
    assert "100.00 USD is above the per-case limit of 50.00 USD" in message


def test_constants_holding_constant_expressions() -> None:
    found = diagnose(
        "const cap = 20 USD + 30 USD\nconst big = 10% of 1000 USD\nlimit credit per case cap",
        "offer credit big",
    )
    assert [(code, line, column) for code, line, column, _ in found] == [("RF502", 9, 3)]
    assert "100.00 USD is above the per-case limit of 50.00 USD" in found[0][3]


def test_percent_of_a_constant_offer() -> None:
    [(code, _, _, message)] = diagnose(
        "limit credit per case 90 USD", "offer credit 10% of 1000 USD"
    )
    assert code == "RF502"
    assert "100.00 USD is above the per-case limit of 90.00 USD" in message


def test_expressions_reading_case_data_stay_non_constant() -> None:
    assert diagnose("limit credit per case 1 USD", "offer credit 10% of case.arr + 5 USD") == []
    assert diagnose("limit credit per case 5% of case.arr + 1 USD", "offer credit 900 USD") == []
    assert (
        diagnose(
            "const cap = 1 USD\nlimit credit per case cap", "offer credit cap + 10% of case.arr"
        )
        == []
    )


def test_constant_expressions_within_the_limit_are_fine() -> None:
    assert diagnose("limit credit per case 20 USD + 30 USD", "offer credit 25 USD * 2") == []
