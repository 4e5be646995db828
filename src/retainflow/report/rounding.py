"""Exact report arithmetic: percentages to one decimal, means, medians and p90, all on
`Decimal` with the language's context and rounded half-even (like money and `round()`).

    >>> percent(5, 9), percent(1, 16), percent(0, 0)
    (Decimal('55.6'), Decimal('6.2'), None)
    >>> median([Decimal(1), Decimal(4)]), p90([Decimal(n) for n in range(1, 11)])
    (Decimal('2.5'), Decimal('9'))
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from decimal import Decimal

from retainflow.values import DECIMAL_CONTEXT

__all__ = ["mean", "median", "p90", "percent", "round_to"]


def round_to(value: Decimal, places: int) -> Decimal:
    """Round half-even to `places` decimals."""
    exponent = Decimal(1).scaleb(-places)
    return value.quantize(exponent, rounding=decimal.ROUND_HALF_EVEN, context=DECIMAL_CONTEXT)


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """part / whole x 100, rounded half-even to one decimal; None when whole is 0."""
    if not whole:
        return None
    exact = DECIMAL_CONTEXT.divide(DECIMAL_CONTEXT.multiply(Decimal(part), Decimal(100)), whole)
    return round_to(exact, 1)


def mean(values: Sequence[Decimal]) -> Decimal | None:
    if not values:
        return None
    total = sum(values, Decimal(0))
    return DECIMAL_CONTEXT.divide(total, Decimal(len(values)))


def median(values: Sequence[Decimal]) -> Decimal | None:
    """The middle value; for an even count the mean of the two middle ones."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return DECIMAL_CONTEXT.divide(ordered[middle - 1] + ordered[middle], Decimal(2))


def p90(values: Sequence[Decimal]) -> Decimal | None:
    """The 90th percentile by nearest rank: the smallest value that at least 90% of the
    values do not exceed (always one of the values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = -(-len(ordered) * 9 // 10)  # ceil(n x 0.9), exactly
    return ordered[max(rank, 1) - 1]
