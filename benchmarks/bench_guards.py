"""Compiled rflow guards against hand-written Python: ns per evaluation and the ratio.

Run from the repository root: `python benchmarks/bench_guards.py` (uses `src/` if the
package is not installed). Each hand-written function does the same none-aware checks
as the language: a missing field makes a comparison false, money compares only within
one currency, `in` matches list members, a non-bool in a condition is an error.
The goal (architecture.md, "Compile expressions once"): compiled at most 2x the time.
"""

from __future__ import annotations

import sys
import timeit
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from retainflow import lower, nodes, parser
from retainflow.exprs import Compiled, Env, ExprError, compile_condition
from retainflow.values import Money

VIP_ARR = Money(100000, "USD")
CONSTS: dict[str, Any] = {"vip_arr": VIP_ARR}
TIERS = frozenset({"gold", "platinum"})
STATUSES = frozenset({"granted", "capped"})
TWO = Decimal(2)
FOUR = Decimal(4)
FIVE_K = Money(5000, "USD")


def guard_ast(text: str) -> nodes.Expr:
    source = f"workflow bench version 1\nconst guard = {text}\n"
    result = parser.parse(source)
    assert result.tree is not None, result.error
    workflow = lower.lower(result.tree, source, result.comments).workflow
    assert workflow is not None
    const = workflow.declarations[0]
    assert isinstance(const, nodes.Const)
    return const.value


def hand_vip(env: Env) -> bool:
    case = env.case
    arr = case.get("arr")
    if arr is None:
        return False
    if type(arr) is not Money or arr.currency != "USD":
        raise ExprError("money in different currencies")
    if not arr.amount >= VIP_ARR.amount:
        return False
    tier = case.get("tier")
    return tier is not None and tier in TIERS


def hand_at_risk(env: Env) -> bool:
    case = env.case
    intent = case.get("intent_to_leave")
    if intent is True:
        return True
    if intent is not None and intent is not False:
        raise ExprError("condition is not true or false: case.intent_to_leave")
    csat = case.get("csat")
    return csat is not None and type(csat) is Decimal and csat <= TWO


def hand_score(env: Env) -> bool:
    event = env.event or {}
    score = event.get("score")
    if score is None:
        return False
    if type(score) is not Decimal:
        raise ExprError("cannot compare")
    return bool(score >= FOUR)


def hand_share(env: Env) -> bool:
    arr = env.case.get("arr")
    if arr is None:
        return False
    if type(arr) is not Money:
        raise ExprError("'of' takes money or a number")
    share = Money(arr.amount * 15 / 100, arr.currency)
    if share.currency != "USD":
        raise ExprError("money in different currencies")
    return share.amount > FIVE_K.amount


def hand_offer(env: Env) -> bool:
    status = env.offer_status
    return status is not None and status in STATUSES


CASE = {
    "client": "acme",
    "tier": "gold",
    "arr": Money(120000, "USD"),
    "csat": Decimal(3),
    "intent_to_leave": False,
}
GUARDS: list[tuple[str, Callable[[Env], bool], Env]] = [
    ('case.arr >= vip_arr and case.tier in ["gold", "platinum"]', hand_vip, Env(CASE)),
    ("case.intent_to_leave or case.csat <= 2", hand_at_risk, Env(CASE)),
    ("event.score >= 4", hand_score, Env(CASE, event={"score": Decimal(5)})),
    ("15% of case.arr > 5000 USD", hand_share, Env(CASE)),
    ('offer.status in ["granted", "capped"]', hand_offer, Env(CASE, offer_status="capped")),
]


def per_call_ns(function: Callable[[Env], Any], env: Env, number: int) -> float:
    timer = timeit.Timer("f(env)", globals={"f": function, "env": env})
    return min(timer.repeat(repeat=7, number=number)) / number * 1e9


def main() -> None:
    number = 200_000
    print(f"python {sys.version.split()[0]}, best of 7 x {number:,} calls, ns per evaluation")
    header = (
        f"{'guard':<58} {'hand':>7} {'compiled':>9} {'ratio':>6} {'.function':>10} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for text, hand, env in GUARDS:
        compiled: Compiled = compile_condition(guard_ast(text), CONSTS)
        assert compiled(env) == hand(env), text
        hand_ns = per_call_ns(hand, env, number)
        compiled_ns = per_call_ns(compiled, env, number)
        function_ns = per_call_ns(compiled.function, env, number)
        print(
            f"{text:<58} {hand_ns:7.0f} {compiled_ns:9.0f} {compiled_ns / hand_ns:6.2f}"
            f" {function_ns:10.0f} {function_ns / hand_ns:6.2f}"
        )


if __name__ == "__main__":
    main()
