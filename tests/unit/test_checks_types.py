"""The type checker: RF003, RF104, RF301 and RF302 at the operator or argument, with
helpful messages, and silence on well-typed expressions in every position."""

from __future__ import annotations

import pytest

from tests.unit.test_checks_support import (
    assert_clean,
    at,
    codes,
    inside,
    lint,
    one,
    only,
    step,
    where,
)


def guard(expr: str, extra: str = "") -> str:
    return step(f"when {expr} -> done", extra=extra)


# ---- RF003 expression-too-complex -------------------------------------------------------


def test_rf003_nesting_deeper_than_32() -> None:
    expr = "-(" * 32 + "1" + ")" * 32  # 33 levels under the comparison
    text = guard(f"case.csat > {expr}")
    diag = one(text, "RF003")
    assert (diag.line, diag.column) == at(text, "case.csat")[:2]
    assert "nested 34 levels deep; the limit is 32" in diag.message


def test_rf003_silent_at_32_levels() -> None:
    expr = "-(" * 29 + "1" + ")" * 29  # 30 levels, 31 with the comparison
    assert "RF003" not in codes(guard(f"case.csat > {expr}"))


def test_rf003_a_long_chain_of_one_operator_is_one_level() -> None:
    chain = " or ".join(f"case.csat == {n}" for n in range(60))
    assert "RF003" not in codes(guard(chain))


@pytest.mark.parametrize("op", ["+", "*", "and", "or"])
def test_rf003_one_operator_nested_with_parentheses_counts_each_level(op: str) -> None:
    operand = "case.csat" if op in ("+", "*") else "case.csat > 1"
    nested = "".join(f"({operand} {op} " for _ in range(33)) + operand + ")" * 33
    text = guard(f"{nested} > 1" if op in ("+", "*") else nested)
    assert "nested 3" in one(text, "RF003").message
    flat = f" {op} ".join([operand] * 34)  # the same length written as a chain
    assert "RF003" not in codes(guard(f"({flat}) > 1" if op in ("+", "*") else flat))


def test_rf003_more_than_1000_nodes() -> None:
    def balanced(depth: int) -> str:
        return "1" if depth == 0 else f"({balanced(depth - 1)} + {balanced(depth - 1)})"

    text = step(
        "",
        extra=f"const big = {balanced(9)}\nconst small = {balanced(8)}\n"
        "trigger t when case.csat > big + small\n",
    )
    diag = one(text, "RF003")
    # the outermost parentheses are not part of the expression
    line, column, _ = at(text, "const big = ((")
    assert (diag.line, diag.column) == (line, column + len("const big = ("))
    assert diag.message == "this expression has 1,023 parts; the limit is 1,000"


# ---- RF104 unknown-enum-value ----------------------------------------------------------


@pytest.mark.parametrize(
    "expr",
    [
        'case.tier == "platnum"',
        'case.tier != "platnum"',
        '"platnum" == case.tier',
        'case.tier in ["gold", "platnum"]',
        'case.tier not in ["platnum"]',
    ],
)
def test_rf104_a_string_that_is_not_a_member(expr: str) -> None:
    text = guard(expr)
    diag = one(text, "RF104")
    assert where(diag) == at(text, '"platnum"')
    assert diag.message == '"platnum" is not a value of `case.tier`'
    assert diag.label == "did you mean 'platinum'?"
    assert diag.suggestion == "platinum"


def test_rf104_through_constants() -> None:
    text = guard(
        "case.tier in premium or case.tier == top",
        extra='const premium = ["gold", "platnum"]\nconst top = "diamond"\n',
    )
    found = only(text, "RF104")
    # at the literal in the declaration, with the use as related location
    assert [(where(d), d.related) for d in found] == [
        (at(text, '"platnum"'), (inside(text, "premium or", "premium")[:2],)),
        (at(text, '"diamond"'), (inside(text, "top -> done", "top")[:2],)),
    ]
    assert found[0].message == (
        "\"platnum\" (an item of constant 'premium') is not a value of `case.tier`, which the "
        "constant is compared with"
    )
    assert found[1].message == (
        "\"diamond\" (the value of constant 'top') is not a value of `case.tier`, which the "
        "constant is compared with"
    )


def test_rf104_a_constant_is_reported_at_its_literal_once_per_comparison() -> None:
    text = step(
        "when case.tier == t -> done\n  when case.tier != alias -> done",
        extra='const t = "gld"\nconst alias = t\n',
    )
    found = only(text, "RF104")
    assert [where(d) for d in found] == [at(text, '"gld"')] * 2
    # each comparison has its own use as related location: never a bare duplicate
    assert [d.related for d in found] == [
        (inside(text, "== t", "t")[:2],),
        (inside(text, "!= alias", "alias")[:2],),
    ]
    assert [d.suggestion for d in found] == ["gold", "gold"]
    assert "constant 'alias'" in found[1].message


def test_rf104_a_constant_passed_to_an_enum_parameter() -> None:
    text = step(
        "do page(level: lvl)",
        extra='action page { level: enum(low, high) }\nconst lvl = "hgh"\n',
    )
    diag = one(text, "RF104")
    assert where(diag) == at(text, '"hgh"')
    assert diag.related == (inside(text, "level: lvl", "lvl")[:2],)
    assert diag.message.endswith("which the constant is passed to")


def test_rf104_offer_status_and_action_parameters() -> None:
    text = step(
        'offer discount 10 USD\n  do page(level: "hgh")\n  when offer.status == "grantd" -> done',
        extra="action page { level: enum(low, high) }\nlimit compensation per case 9 USD\n",
    )
    found = only(text, "RF104")
    assert [(where(d), d.suggestion) for d in found] == [
        (at(text, '"hgh"'), "high"),
        (at(text, '"grantd"'), "granted"),
    ]


def test_rf104_silent_on_members() -> None:
    assert_clean(guard('case.tier == "gold" or case.tier in ["silver", "platinum"]'))


# ---- RF301 type-mismatch: positions ------------------------------------------------------


def test_rf301_guards_must_be_bool() -> None:
    text = guard("case.csat")
    diag = one(text, "RF301")
    assert where(diag) == at(text, "case.csat")
    assert diag.message == "a guard needs true or false, but `case.csat` is number?"
    assert diag.label == "compare it to get true or false, like `case.csat <= 2`"


def test_rf301_optional_bools_are_fine_as_conditions() -> None:
    assert_clean(guard("case.vip and not case.vip or (if case.vip then true else false)"))


def test_rf301_trigger_when_and_at() -> None:
    text = step(
        "",
        extra="trigger a when case.tier\ntrigger b at case.arr when case.vip\n"
        "trigger c at case.renewal - 30d\n",
    )
    found = only(text, "RF301")
    assert [where(d) for d in found] == [
        (*at(text, "case.tier\n")[:2], at(text, "case.tier\n")[1] + 9),
        at(text, "case.arr"),
    ]
    assert "the time of an `at` trigger must be a time" in found[1].message


@pytest.mark.parametrize(
    ("decl", "bad"),
    [
        ("limit compensation per case 5000\n", "5000"),
        ("limit discount per client 15% over 30d\n", "15%"),
        ('approve compensation above 2000 by "boss"\n', "2000"),
    ],
)
def test_rf301_limit_and_approval_amounts_are_money(decl: str, bad: str) -> None:
    text = step("offer discount 10 USD", extra=decl)
    diag = one(text, "RF301")
    assert where(diag) == at(text, bad)


def test_rf301_offer_amounts_are_money() -> None:
    text = step("offer credit 10%", extra="limit compensation per case 5 USD\n")
    diag = one(text, "RF301")
    assert where(diag) == at(text, "10%")
    assert diag.message == "an offer's amount must be money, but `10%` is percent"


def test_rf301_action_arguments_against_declared_parameters() -> None:
    text = step(
        "do call(client: case.arr, urgent: 1)\n  do call()\n  do call(client: none)",
        extra="action call { client: text; urgent: bool? }\n",
    )
    found = only(text, "RF301")
    assert [where(d) for d in found] == [
        at(text, "case.arr"),
        inside(text, "1)", "1"),
        (*at(text, "do call()")[:2], at(text, "do call()")[2]),
        at(text, "none"),
    ]
    assert found[0].message == (
        "parameter 'client' of action 'call' is text, but `case.arr` is money(USD)"
    )
    assert found[2].message == "action 'call' needs the parameter 'client'"


def test_rf301_action_arguments_that_fit() -> None:
    assert_clean(
        step(
            'do call(client: case.client, urgent: case.vip, tier: case.tier, note: "x")\n'
            "  do call(client: lower(case.tier))\n  do undeclared(x: 1, y: case.arr)",
            extra="action call { client: text; urgent: bool?; tier: text?; note: text? }\n",
        )
    )


def test_rf301_if_branches_must_fit() -> None:
    text = step('do send(p: if case.vip then "high" else 3)')
    diag = one(text, "RF301")
    assert where(diag) == inside(text, "else 3", "3")


# ---- RF301 type-mismatch: operators and functions -----------------------------------------


@pytest.mark.parametrize(
    ("expr", "operator", "message"),
    [
        ("case.arr + 5 > 1 USD", "+", "cannot add money(USD) and number"),
        ("case.arr * case.arr > 1 USD", "*", "cannot multiply money(USD) by money(USD)"),
        ("case.renewal + case.renewal > now", "+", "cannot add time and time"),
        ("case.client - 1 > 0", "-", "cannot subtract number from text"),
        (
            "case.csat > 1 USD",
            ">",
            "cannot compare `case.csat` (number?) with `1 USD` (money(USD))",
        ),
        ('case.tier >= "gold"', ">=", "`case.tier` is an enum, and enum values have no order"),
        (
            "case.vip < true",
            "<",
            "`<` orders numbers, money, durations, times, percents or text, "
            "but `case.vip` is bool?",
        ),
        ("case.csat < none", "<", "`<` with none is always false"),
        ("case.client == 3", "==", "cannot compare `case.client` (text) with `3` (number)"),
    ],
)
def test_rf301_operators(expr: str, operator: str, message: str) -> None:
    text = guard(expr)
    diag = one(text, "RF301")
    assert where(diag) == inside(text, expr, operator)
    assert diag.message == message


@pytest.mark.parametrize(
    ("expr", "keyword", "message"),
    [
        ('"x" in case.client', "in", "`in` needs a list on its right, but `case.client` is text"),
        ("3 not in case.tags", "not in", "cannot look for `3` (number) in a list of text"),
        ("15 of case.arr > 1 USD", "of", "`of` takes a percent on its left, but `15` is number"),
        ("case.csat and true", "and", "`and` needs true or false, but `case.csat` is number?"),
    ],
)
def test_rf301_keyword_operators_point_at_the_keyword(
    expr: str, keyword: str, message: str
) -> None:
    text = guard(expr)
    diag = one(text, "RF301")
    assert where(diag) == inside(text, expr, keyword)
    assert diag.message == message


@pytest.mark.parametrize(
    ("expr", "argument", "message"),
    [
        ("len(3) > 1", "3", "len() needs text or a list, but `3` is number"),
        ("days(3) > 1", "3", "days() needs a duration, but `3` is number"),
        (
            "abs(case.client) > 1",
            "case.client",
            "abs() needs a number, money, a duration or a percent, but `case.client` is text",
        ),
        (
            "min(1, 2 USD) > 1",
            "2 USD",
            "min() needs values of one type, but `2 USD` is money(USD) and the values before it "
            "are number",
        ),
        (
            "starts_with(case.client, 1)",
            "1",
            "starts_with() needs a text prefix, but `1` is number",
        ),
        (
            "contains(case.tags, 1)",
            "1",
            "contains() looks for an item of `case.tags` (text), but `1` is number",
        ),
    ],
)
def test_rf301_function_arguments(expr: str, argument: str, message: str) -> None:
    text = guard(expr)
    diag = one(text, "RF301")
    assert where(diag) == inside(text, expr, argument)
    assert diag.message == message


def test_rf301_function_arity() -> None:
    text = guard('round(1, 2, 3) > 1 and lower() == "x"')
    found = only(text, "RF301")
    assert [where(d) for d in found] == [inside(text, "round(1, 2, 3)", "3"), at(text, "lower()")]
    assert found[0].message == "round() takes 1 or 2 arguments, but 3 arguments are given"
    assert found[1].message == "lower() takes 1 argument, but 0 arguments are given"


def test_rf301_silent_on_the_typing_rules_of_the_language() -> None:
    assert_clean(
        guard(
            "15% of case.arr > 100 USD and 15% of case.csat > 1 and 2 * case.arr > case.arr "
            "and case.arr / 2 < case.arr and case.arr / case.arr > 1 "
            "and now - case.renewal > 1d and case.renewal + 2h > now and case.renewal - 1w < now "
            "and 1h + 2h < 1d and elapsed / 2 < 3d and 10% + 5% < 20% "
            "and case.csat is none and case.arr is not none and case.tags == [] "
            "and max(1, case.csat) >= min(2, 3) and abs(-case.csat) > 0 "
            "and round(case.csat, 1) > 1 "
            "and len(case.tags) > len(case.client) and upper(case.client) != lower(case.client) "
            'and contains(case.client, "a") and contains(case.tags, "a") '
            'and starts_with(case.client, "a") and days(elapsed) + hours(1d) > 0 '
            'and "a" in case.tags and case.client not in ["x", "y"] '
            'and (if case.vip then 1 USD else case.arr) > 0 USD and trigger == "t"'
        )
    )


def test_rf301_undeclared_event_payloads_fit_everything() -> None:
    assert_clean(
        step(
            "on ping when event.x > 1 USD and event.x + 1 > 2 and event.y "
            "and event.z in [1] -> done"
        )
    )


# ---- RF302 currency-mismatch ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "at_text", "message"),
    [
        ("case.arr + 5 EUR > 1 USD", "+", "cannot add USD and EUR money"),
        ("case.arr > 5 EUR", ">", "cannot compare USD money with EUR money"),
        ("max(case.arr, 5 EUR) > 1 USD", "5 EUR", "max() of USD and EUR money"),
        ("case.arr in [1 EUR]", "in", "cannot look for USD money in a list of EUR money"),
    ],
)
def test_rf302_two_currencies_meet(expr: str, at_text: str, message: str) -> None:
    text = guard(expr)
    diag = one(text, "RF302")
    assert where(diag) == inside(text, expr, at_text)
    assert diag.message == message


def test_rf302_offer_against_a_limit_in_another_currency() -> None:
    text = step("offer discount 100 EUR", extra="limit compensation per case 5000 USD\n")
    diag = one(text, "RF302")
    assert where(diag) == at(text, "100 EUR")
    assert diag.related == (at(text, "5000 USD")[:2],)


def test_rf302_constants_carry_their_currency() -> None:
    text = guard("case.arr >= vip", extra="const vip = 100000 EUR\n")
    assert codes(text) == ["RF302"]


def test_rf302_money_of_unknown_currency_fits_any() -> None:
    text = step(
        "when case.budget > 5 EUR and case.budget < case.arr -> done",
        extra="",
    ).replace("vip: bool?\n", "vip: bool?\n  budget: money\n")
    assert_clean(text)


def test_everything_is_reported_not_only_the_first() -> None:
    text = guard('case.arr + 1 > 2 and case.tier == "x" and case.csat and case.arr > 1 EUR')
    assert codes(text) == ["RF301", "RF104", "RF301", "RF302"]
    assert len(lint(text)) == 4
