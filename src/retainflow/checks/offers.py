"""Limit analysis: offers and limits in, RF501 (no money limit) and RF502 (always over) out.

RF501: an `offer` whose kind no money limit covers (`compensation` covers every kind;
`grants` limits count offers, they do not cap money). RF502: an offer of constant amount
above a constant per-case money limit that covers it, so it can only ever be capped;
constant amounts are constant expressions (`20 USD + 30 USD`, `10% of cap`), evaluated
by `compile.constant_value` as the engine evaluates them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from retainflow import nodes as n
from retainflow.compile import constant_value, constant_values
from retainflow.diagnostics import Diagnostic
from retainflow.values import Money


def _covers(limit: n.Limit, kind: str) -> bool:
    return not limit.counts_grants and limit.kind.text in ("compensation", kind)


def constant_money(expr: n.Expr, constants: Mapping[str, Any]) -> Money | None:
    """The amount of a constant money expression: a literal, a constant, or arithmetic of
    them (`20 USD + 30 USD`, `10% of cap`), evaluated as the engine does; None for one
    that reads case, event or offer data, or whose currency is unknown."""
    known, value = constant_value(expr, constants)
    if not known or not isinstance(value, Money) or value.currency == "XXX":
        return None
    return value


def check_offers(workflow: n.Workflow) -> list[Diagnostic]:
    limits = workflow.of(n.Limit)
    constants = constant_values(workflow)
    found: list[Diagnostic] = []
    for step in workflow.steps:
        for offer in step.statements(n.Offer):
            kind = offer.kind.text
            covering = [limit for limit in limits if _covers(limit, kind)]
            if not covering:
                found.append(
                    Diagnostic(
                        "RF501",
                        offer.span,
                        f"no money limit caps {kind} offers",
                        label=f"add e.g. `limit {kind} per case AMOUNT` or "
                        "`limit compensation per client AMOUNT over 365d`",
                    )
                )
                continue
            amount = constant_money(offer.amount, constants)
            if amount is None:
                continue
            for limit in covering:
                cap = constant_money(limit.amount, constants)
                if (
                    limit.scope.text == "case"
                    and cap is not None
                    and cap.currency == amount.currency
                    and amount.amount > cap.amount
                ):
                    found.append(
                        Diagnostic(
                            "RF502",
                            offer.span,
                            f"this offer of {amount} is above the per-case limit of {cap} "
                            f"on {limit.kind.text}",
                            label=f"it can never be granted in full: offer at most {cap}",
                        )
                    )
                    break
    return found
