"""Compensation rules: `CheckContext` in, RF105 (unused limits), RF302, RF503 out.

A limit covers the offers of its kind (`compensation` and `grants`: every kind); one
that covers no offer of the workflow never applies. Per-client limits need the case's
`client` field. Offers meet the money limits and approval thresholds that cover them,
so their currencies must agree. RF501/RF502 belong here too.
"""

from __future__ import annotations

from retainflow import nodes as n
from retainflow.checks.context import CheckContext, Scope
from retainflow.checks.typecheck import Typer
from retainflow.diagnostics import Diagnostic, Related


def covers(rule_kind: str, offer_kind: str) -> bool:
    """Whether a limit or approval of `rule_kind` applies to an offer of `offer_kind`."""
    return rule_kind in ("compensation", "grants") or rule_kind == offer_kind


def offers(ctx: CheckContext) -> list[tuple[n.Step, n.Offer]]:
    return [(step, offer) for step in ctx.workflow.steps for offer in step.statements(n.Offer)]


def check_unused_limits(ctx: CheckContext) -> list[Diagnostic]:
    """RF105: a limit that no offer of the workflow falls under."""
    kinds = {offer.kind.text for _, offer in offers(ctx)}
    found: list[Diagnostic] = []
    for limit in ctx.limits:
        if any(covers(limit.kind.text, kind) for kind in kinds):
            continue
        kind = limit.kind.text
        what = "any offer" if kind in ("compensation", "grants") else f"{_a(kind)} {kind} offer"
        found.append(
            Diagnostic(
                "RF105",
                limit.kind.span,
                f"this limit never applies: no step makes {what}",
                label="remove it, or add the offer it is meant to cap",
            )
        )
    return found


def check_client_field(ctx: CheckContext) -> list[Diagnostic]:
    """RF503: a per-client limit while the case schema has no `client` field."""
    if "client" in ctx.case_fields:
        return []
    return [
        Diagnostic(
            "RF503",
            limit.span,
            "a per-client limit needs a `client` field in the case schema",
            label="add `client: text` to `case { ... }`",
        )
        for limit in ctx.limits
        if limit.scope.text == "client"
    ]


def _a(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _currency(ctx: CheckContext, expr: n.Expr, step: n.Step | None = None) -> str | None:
    """The currency an amount is statically known to be in (literals, constants, case
    fields of a declared currency), else None."""
    if id(expr) in ctx.too_complex:
        return None
    type_ = Typer(ctx, Scope("an amount", step=step), []).infer(expr)
    return type_.currency if type_.name == "money" else None


def check_offer_currencies(ctx: CheckContext) -> list[Diagnostic]:
    """RF302: an offer in one currency under a money limit or approval threshold in
    another, where both currencies are known before running."""
    found: list[Diagnostic] = []
    rules: list[tuple[str, str, n.Expr, str]] = [
        (limit.kind.text, "limit", limit.amount, "the limit")
        for limit in ctx.limits
        if not limit.counts_grants
    ]
    rules.extend(
        (a.kind.text, "approval", a.amount, "the approval threshold") for a in ctx.approvals
    )
    for step, offer in offers(ctx):
        currency = _currency(ctx, offer.amount, step)
        if currency is None:
            continue
        clashes = [
            (amount, what, other)
            for kind, _, amount, what in rules
            if (other := _currency(ctx, amount)) is not None
            and other != currency
            and covers(kind, offer.kind.text)
        ]
        if not clashes:
            continue
        _, what, other = clashes[0]
        found.append(
            Diagnostic(
                "RF302",
                offer.amount.span,
                f"this {offer.kind.text} offer is in {currency}, but {what} that covers it "
                f"is in {other}",
                label="money of two currencies never meets: use amounts in one currency",
                related=tuple(Related(a.span, f"{w} in {o}") for a, w, o in clashes),
            )
        )
    return found
