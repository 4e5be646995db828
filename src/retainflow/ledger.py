"""The compensation ledger and limit arithmetic: grants and limits in, a decision out.

Input: the grants that count for an offer (this instance's, and every grant of the
case's client across all cases and workflows sharing the ledger), the workflow's limits
evaluated for the offering case, the requested amount and the time. Output: a
`LimitDecision` (granted amount, or refused with the first reason of language.md's order
`missing_amount`, `missing_client`, `currency`, `grant_count`, `limit`), and `Budget`
rows for `Engine.budget`.

    >>> from retainflow.values import Money
    >>> limit = EvaluatedLimit("compensation", "case", False, Money(5000, "USD"), None, None)
    >>> check_limits("discount", Money(12000, "USD"), "acme", (), (), [limit], None)
    LimitDecision(amount=Money(amount=Decimal('5000.00'), currency='USD'), reason=None)

Rolling windows count a grant when its `at` > t - DUR: a grant exactly DUR old no longer
counts. Nothing here reads a clock or a store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs

from retainflow.values import Money

_NO_TIME = dt.datetime.min.replace(tzinfo=dt.UTC)
REASONS = ("missing_amount", "missing_client", "currency", "grant_count", "limit")


@attrs.frozen
class Grant:
    """One granted offer (or a seeded earlier grant): what counts against limits."""

    at: dt.datetime
    client: str | None
    kind: str
    amount: Money
    case: str | None = None
    workflow: str | None = None
    label: str | None = None
    instance: int | None = None


@attrs.frozen
class EvaluatedLimit:
    """A `limit` with its AMOUNT evaluated for one case at one time.

    `amount` is Money for a money limit (None when AMOUNT evaluated to none), an int for a
    `grants` limit; `over` is the rolling window (None: forever).
    """

    kind: str  # "compensation", an offer kind, or "grants"
    scope: str  # "case" or "client"
    counts_grants: bool
    amount: Money | int | None
    over: dt.timedelta | None
    text: str | None = None


@attrs.frozen
class LimitDecision:
    """`amount` is what limits allow (None when refused); `reason` is set when refused."""

    amount: Money | None
    reason: str | None


def exact_money(amount: Decimal, currency: str) -> Money:
    """Money from an amount already at the currency's minor unit (sums and differences of
    rounded amounts): skips the constructor's validation and rounding."""
    money = object.__new__(Money)
    object.__setattr__(money, "amount", amount)
    object.__setattr__(money, "currency", currency)
    return money


def applies(limit_kind: str, counts_grants: bool, offer_kind: str) -> bool:
    """Whether a limit of `limit_kind` covers an offer of `offer_kind`."""
    return counts_grants or limit_kind == "compensation" or limit_kind == offer_kind


def in_window(grants: Iterable[Grant], over: dt.timedelta | None, t: dt.datetime) -> list[Grant]:
    """The grants a window `over` counts at time t (`at` > t - over); all without one."""
    if over is None:
        return list(grants)
    start = t - over
    return [g for g in grants if g.at > start]


def remainder(
    limit: EvaluatedLimit, grants: Iterable[Grant], t: dt.datetime
) -> tuple[str | None, Money | int | None]:
    """What one limit still allows at t: (problem reason or None, remaining amount/count).

    A money limit counts grants of its KIND in its currency; a grant of another currency
    in its window is the problem `currency`.
    """
    window = in_window(grants, limit.over, t)
    if limit.counts_grants:
        count = limit.amount if isinstance(limit.amount, int) else 0
        left = count - len(window)
        return ("grant_count" if left <= 0 else None), left
    cap = limit.amount
    if not isinstance(cap, Money):
        return "limit", None
    total = Decimal(0)
    for grant in window:
        if limit.kind != "compensation" and grant.kind != limit.kind:
            continue
        if grant.amount.currency != cap.currency:
            return "currency", None
        total += grant.amount.amount
    rest = exact_money(cap.amount - total, cap.currency)
    return ("limit" if rest.amount <= 0 else None), rest


def check_limits(
    offer_kind: str,
    amount: Money | None,
    client: str | None,
    instance_grants: Sequence[Grant],
    client_grants: Sequence[Grant],
    limits: Sequence[EvaluatedLimit],
    t: dt.datetime | None,
) -> LimitDecision:
    """Apply every limit covering `offer_kind` to `amount` at time t (language.md, "Offers").

    Refused when AMOUNT is none (or not positive), when a per-client limit applies and the
    client is none, or when any applicable limit has nothing left; else the amount capped
    to the smallest remainder. `t` may be None only when no limit has a window.
    """
    granted, reason = decide_limits(
        offer_kind, amount, client, instance_grants, client_grants, limits, t
    )
    return LimitDecision(granted, reason)


def decide_limits(
    offer_kind: str,
    amount: Money | None,
    client: str | None,
    instance_grants: Sequence[Grant],
    client_grants: Sequence[Grant],
    limits: Sequence[EvaluatedLimit],
    t: dt.datetime | None,
) -> tuple[Money | None, str | None]:
    """`check_limits` as a pair (amount, reason), without the result object (the engine
    core calls this once per offer and approval)."""
    if amount is None or amount.amount <= 0:
        return None, "missing_amount"
    applicable = [
        lim
        for lim in limits
        if lim.counts_grants or lim.kind == "compensation" or lim.kind == offer_kind
    ]
    if client is None:
        for lim in applicable:
            if lim.scope == "client":
                return None, "missing_client"
    problems: set[str] = set()
    capped = amount.amount
    currency = amount.currency
    for lim in applicable:
        grants = instance_grants if lim.scope == "case" else client_grants
        if lim.over is not None and t is None:
            raise ValueError("a windowed limit needs the time of the offer")
        problem, left = remainder(lim, grants, t if t is not None else _NO_TIME)
        cap = lim.amount
        if isinstance(cap, Money) and cap.currency != currency:
            problems.add("currency")
        elif problem is not None:
            problems.add(problem)
        elif isinstance(left, Money) and left.amount < capped:
            capped = left.amount
    if problems:
        for reason in REASONS:
            if reason in problems:
                return None, reason
    if capped == amount.amount:
        return amount, None
    return exact_money(capped, currency), None


@attrs.frozen
class Budget:
    """What one per-client limit of one workflow still allows a client at a time."""

    workflow: str
    limit: str  # the limit as written, e.g. "compensation per client 15% of case.arr over 365d"
    kind: str
    amount: Money | int | None  # the limit's evaluated AMOUNT (or count)
    used: Money | int | None
    remaining: Money | int | None
    problem: str | None  # "currency" or "limit"/"grant_count" when nothing is left


def budget_row(
    workflow: str, limit: EvaluatedLimit, grants: Sequence[Grant], t: dt.datetime
) -> Budget:
    problem, left = remainder(limit, grants, t)
    used: Money | int | None
    if limit.counts_grants:
        used = len(in_window(grants, limit.over, t))
    elif isinstance(limit.amount, Money) and isinstance(left, Money):
        used = Money(limit.amount.amount - left.amount, limit.amount.currency)
    else:
        used = None
    if isinstance(left, int):
        left = max(left, 0)
    return Budget(workflow, limit.text or limit.kind, limit.kind, limit.amount, used, left, problem)
