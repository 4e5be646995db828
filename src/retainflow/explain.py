"""What each check means and how to fix it: the catalog explained, for people and tools.

Input: the check catalog (`diagnostics.CATALOG_ROWS`: code, name, severity, summary) and,
here, one hand-written `Explanation` per code (what it means, why it matters, an rflow
example of the mistake, the same example fixed, and how to fix it).
Output: the terminal text of `retainflow lint --explain CODE` (`explain_text`), the help of
each SARIF rule as plain text and Markdown (`sarif_help`), and the whole catalog as one
Markdown page (`checks_markdown`, written to docs/ by scripts/gen_checks_doc.py).
"""

from __future__ import annotations

import textwrap

import attrs

from retainflow.diagnostics import CATALOG, CATALOG_ROWS, Check

__all__ = [
    "EXPLANATIONS",
    "Explanation",
    "checks_markdown",
    "explain_text",
    "lookup",
    "sarif_help",
]


@attrs.frozen
class Explanation:
    """One check explained; `bad` and `good` are rflow text (a workflow or a fragment)."""

    code: str
    meaning: str  # what the check means, precisely (when it fires)
    why: str  # why it matters to an ops designer, or to a client in production
    bad: str  # a short rflow example of the mistake
    good: str  # the same example fixed
    fix: str  # one sentence: what to do


def _explanation(code: str, meaning: str, why: str, bad: str, good: str, fix: str) -> Explanation:
    def prose(text: str) -> str:
        return " ".join(text.split())

    def example(text: str) -> str:
        return textwrap.dedent(text).strip("\n") + "\n"

    return Explanation(code, prose(meaning), prose(why), example(bad), example(good), prose(fix))


_ROWS = (
    # ---- RF0xx: the text and its literals ------------------------------------------------
    _explanation(
        "RF001",
        """The text does not follow the rflow grammar; the message names what was found and
        what was expected there. It also fires for a fractional duration such as `1.5d`, and
        when a reserved word (`timeout`, `outcome`, `case`, `event`, `offer`, `trigger`,
        `now`, ...) names a step, outcome, event, action, trigger, SLA, calendar or constant.""",
        """A file that does not parse cannot be checked, compiled or run, so it gets this one
        diagnostic, for its first syntax error, and nothing else until it is fixed.""",
        """
        workflow renewal_check_in version 1

        case { client: text }

        start follow_up

        step follow_up {
          wait 1.5d
          do call(client: case.client)
          due 2d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow renewal_check_in version 1

        case { client: text }

        start follow_up

        step follow_up {
          wait 36h
          do call(client: case.client)
          due 2d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Rewrite the text at the caret into what the message expects (here durations take a
        whole number, so a day and a half is `36h`).""",
    ),
    _explanation(
        "RF002",
        """A literal is well formed but names no real value: an unknown currency (ISO 4217),
        time zone (IANA) or country code, an impossible date or time of day, a percent or
        count out of range, or an unknown day name or kind. It also fires for an invalid
        calendar: no `hours`, overlapping intervals, or a `w` duration used with it.""",
        """A misspelt code would put money or deadlines on the wrong footing: `PHL` is the
        Philippines' country code, not its peso (`PHP`), so no limit or ledger could ever
        count such an amount.""",
        """
        workflow manila_goodwill version 1

        case { client: text }

        limit credit per case 2000 PHP

        start compensate

        step compensate {
          offer credit 500 PHL label "goodwill credit"
          when offer.status in ["granted", "capped"] -> retained
          -> escalate
        }

        step escalate {
          do notify(role: "team_lead")
          due 1d
          on client_kept -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow manila_goodwill version 1

        case { client: text }

        limit credit per case 2000 PHP

        start compensate

        step compensate {
          offer credit 500 PHP label "goodwill credit"
          when offer.status in ["granted", "capped"] -> retained
          -> escalate
        }

        step escalate {
          do notify(role: "team_lead")
          due 1d
          on client_kept -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Write the real value: an ISO 4217 currency such as `USD` or `PHP`, an IANA time zone
        such as `"Asia/Manila"`, a country code of the `holidays` package, a valid date or an
        `HH:MM` time of day.""",
    ),
    _explanation(
        "RF003",
        """An expression nests deeper than 32 levels or has more than 1,000 nodes (every
        literal, reference, operator and call is a node). A chain of one operator as written
        (`a or b or c`, `x + y + z`) counts as one level however long, so it is the size that
        stops a very long list of comparisons; the same operator nested with parentheses
        (`x + (y + (z + ...))`) counts a level for each. Parentheses around a single operand
        nest nothing (the formatter removes them).""",
        """Guards this large are usually generated from a spreadsheet and impossible to review,
        and the bound keeps compiling and evaluating a workflow cheap for an engine that runs
        every case through it.""",
        """
        step route {
          # generated from the key-account sheet: one comparison per client, 400 of them
          when case.client == "acme" or case.client == "globex" or ... -> key_account_desk
          -> standard_desk
        }
        """,
        """
        workflow key_account_routing version 1

        case { client: text }

        const key_accounts = ["acme", "globex", "initech", "umbrella", "stark"]

        start route

        step route {
          when case.client in key_accounts -> key_account_desk
          -> standard_desk
        }

        step key_account_desk {
          do assign(role: "key_account_manager")
          due 4h
          on call_logged -> retained
          on timeout -> standard_desk
        }

        step standard_desk {
          do assign(role: "account_manager")
          due 1d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Replace long `or` chains with `in` and a list constant, or move the decision into
        case data (a `bool` or `enum` field that the CRM fills in).""",
    ),
    # ---- RF1xx: names and definitions ----------------------------------------------------
    _explanation(
        "RF101",
        """A transition (`->`, `when ... ->`, `on ... ->`, `on timeout ->`), `start`, or an
        SLA's `until`, `from`, `breach ->` or `pause in` names no step or outcome; `from`,
        `pause in` and `breach ->` also fire when they name an outcome, since they need a
        step. The message suggests a similar name when there is one.""",
        """The case would have nowhere to go at that point. The typo is usually on the path
        taken when something goes wrong (a timeout, an escalation): exactly the path a quick
        manual test does not walk.""",
        """
        workflow complaint_callback version 1

        case { client: text }

        start listen

        step listen {
          do call(client: case.client)
          due 4h
          on call_logged -> retained
          on timeout -> esclate
        }

        step escalate {
          do notify(role: "retention_director")
          due 1d
          on director_called -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow complaint_callback version 1

        case { client: text }

        start listen

        step listen {
          do call(client: case.client)
          due 4h
          on call_logged -> retained
          on timeout -> escalate
        }

        step escalate {
          do notify(role: "retention_director")
          due 1d
          on director_called -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Correct the name to an existing step or outcome (the closest one is suggested), or
        add the step it should go to.""",
    ),
    _explanation(
        "RF102",
        """Two steps, outcomes, events, actions, triggers, SLAs, calendars, constants, fields or
        parameters share a name, or a step has a second `wait`, `due` or `every`; each later
        definition is reported, with the first as a related location. Redeclaring the
        built-in events `approval` and `case_updated`, or declaring the reserved case fields
        `id`, `at`, `events`, is reported too.""",
        """Only the first definition counts: transitions go to it and the later one is
        ignored, so a copied follow-up that kept its name never runs and the first one loops
        into itself.""",
        """
        workflow post_resolution_surveys version 1

        start follow_up

        step follow_up "A week after the fix" {
          wait 7d
          do survey(kind: "csat")
          due 3d
          on survey_answered -> follow_up
          on timeout -> follow_up
        }

        step follow_up "A month after the fix" {
          wait 21d
          do survey(kind: "csat")
          due 3d
          on survey_answered -> retained
          on timeout -> no_response
        }

        outcome retained as retained
        outcome no_response as other
        """,
        """
        workflow post_resolution_surveys version 1

        start week_one_survey

        step week_one_survey "A week after the fix" {
          wait 7d
          do survey(kind: "csat")
          due 3d
          on survey_answered -> month_one_survey
          on timeout -> month_one_survey
        }

        step month_one_survey "A month after the fix" {
          wait 21d
          do survey(kind: "csat")
          due 3d
          on survey_answered -> retained
          on timeout -> no_response
        }

        outcome retained as retained
        outcome no_response as other
        """,
        """Give each definition its own name and point the transitions at the one meant, or
        merge the two into one.""",
    ),
    _explanation(
        "RF103",
        """A `case.X` names a field the `case { ... }` schema does not declare, or an `event.X`
        (also `measure EVENT.FIELD`) names a field the declared event's schema lacks; a
        `measure` of an undeclared event is reported too. Every case has `id` without
        declaring it, and the payload of an undeclared event is not checked.""",
        """No real case or event would carry that field, so the guard could never see a value:
        here no survey answer would ever count as satisfied and every client who answered
        would be escalated.""",
        """
        workflow csat_follow_up version 1

        case { client: text }

        event survey_answered { score: number }

        start follow_up

        step follow_up {
          wait 7d
          do survey(kind: "csat")
          due 10d
          on survey_answered when event.scroe >= 4 -> retained
          on survey_answered -> escalate
          on timeout -> escalate
        }

        step escalate {
          do notify(role: "account_manager")
          due 2d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow csat_follow_up version 1

        case { client: text }

        event survey_answered { score: number }

        start follow_up

        step follow_up {
          wait 7d
          do survey(kind: "csat")
          due 10d
          on survey_answered when event.score >= 4 -> retained
          on survey_answered -> escalate
          on timeout -> escalate
        }

        step escalate {
          do notify(role: "account_manager")
          due 2d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Correct the field name, or declare the field in the `case` or `event` schema.""",
    ),
    _explanation(
        "RF104",
        """A string compared with an `enum` field (by `==`, `!=`, `in` or `not in`) is not one
        of the members the `enum(...)` declares; members are matched exactly, so `"Platinum"`
        is not `platinum`.""",
        """That part of the comparison can never match a real case: here platinum clients,
        the most valuable ones, would never get the manager's call meant for them.""",
        """
        workflow tiered_apology version 1

        case {
          client: text
          tier: enum(bronze, silver, gold, platinum)
        }

        start apologize

        step apologize {
          do send(template: "apology")
          when case.tier in ["gold", "Platinum"] -> manager_call
          -> follow_up
        }

        step manager_call {
          do call(client: case.client)
          due 1d
          on call_logged -> follow_up
          on timeout -> follow_up
        }

        step follow_up {
          wait 7d
          do survey(kind: "csat")
          due 7d
          on survey_answered -> retained
          on timeout -> no_response
        }

        outcome retained as retained
        outcome no_response as other
        """,
        """
        workflow tiered_apology version 1

        case {
          client: text
          tier: enum(bronze, silver, gold, platinum)
        }

        start apologize

        step apologize {
          do send(template: "apology")
          when case.tier in ["gold", "platinum"] -> manager_call
          -> follow_up
        }

        step manager_call {
          do call(client: case.client)
          due 1d
          on call_logged -> follow_up
          on timeout -> follow_up
        }

        step follow_up {
          wait 7d
          do survey(kind: "csat")
          due 7d
          on survey_answered -> retained
          on timeout -> no_response
        }

        outcome retained as retained
        outcome no_response as other
        """,
        """Write the member exactly as the `enum(...)` declares it, or add the value to the
        enum.""",
    ),
    _explanation(
        "RF105",
        """A calendar, constant, declared event or action, or limit is never used. A limit is
        used when an `offer` of a kind it covers exists; case fields are the input schema and
        are never reported.""",
        """An unused definition is usually a forgotten reference: here the support calendar
        exists but the deadlines count plain hours, so a complaint logged on Friday evening
        times out and escalates over the weekend while nobody is at work.""",
        """
        workflow first_response version 1

        calendar support {
          timezone "Europe/London"
          hours mon-fri 09:00-17:30
          holidays "GB"
        }

        case { client: text }

        start acknowledge

        step acknowledge {
          do send(template: "we_are_on_it")
          do call(client: case.client)
          due 4h
          on call_logged -> retained
          on timeout -> escalate
        }

        step escalate {
          do notify(role: "team_lead")
          due 1d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow first_response version 1

        calendar support {
          timezone "Europe/London"
          hours mon-fri 09:00-17:30
          holidays "GB"
        }

        case { client: text }

        start acknowledge

        step acknowledge {
          do send(template: "we_are_on_it")
          do call(client: case.client)
          due 4h in support
          on call_logged -> retained
          on timeout -> escalate
        }

        step escalate {
          do notify(role: "team_lead")
          due 1d in support
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Use the definition where it was meant to apply (here `due 4h in support`), or
        delete it.""",
    ),
    _explanation(
        "RF106",
        """A name is unknown, or used where it is not available: an unknown calendar,
        constant or function; a parameter a declared `action` lacks; `offer.*` in a step
        without an `offer`; `event.*` outside `on` guards and event triggers; a constant that
        uses `case`, `event`, `offer`, `trigger`, `elapsed` or `now`; or `do` with an engine
        action (`grant`, `request_approval`, `sla_warning`, `sla_breached`).""",
        """`offer.status` only exists in the step that made the offer; anywhere else there is
        nothing to read, and a guard deciding a client's compensation on it would decide on
        nothing.""",
        """
        workflow outage_credit version 1

        case { client: text }

        limit credit per case 200 USD

        start compensate

        step compensate {
          offer credit 100 USD label "outage credit"
          -> confirm
        }

        step confirm {
          when offer.status in ["granted", "capped"] -> tell_client
          -> escalate
        }

        step tell_client {
          do send(template: "credit_confirmation")
          -> retained
        }

        step escalate {
          do notify(role: "retention_director")
          due 1d
          on director_called -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow outage_credit version 1

        case { client: text }

        limit credit per case 200 USD

        start compensate

        step compensate {
          offer credit 100 USD label "outage credit"
          when offer.status in ["granted", "capped"] -> tell_client
          -> escalate
        }

        step tell_client {
          do send(template: "credit_confirmation")
          -> retained
        }

        step escalate {
          do notify(role: "retention_director")
          due 1d
          on director_called -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Fix the spelling, declare the missing name, or move the reference to where it is
        available (here the `when offer.status` goes into the step with the `offer`).""",
    ),
    # ---- RF2xx: the graph of steps -------------------------------------------------------
    _explanation(
        "RF201",
        """The workflow has no `start STEP` declaration, or no step at all. It is reported at
        the `workflow` header, and the graph checks are skipped until it is fixed.""",
        """Without a first step no instance can ever start, so every trigger of the playbook
        does nothing and no client is looked after by it.""",
        """
        workflow win_back version 1

        case { client: text }

        step call_client {
          do call(client: case.client)
          due 2d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow win_back version 1

        case { client: text }

        start call_client

        step call_client {
          do call(client: case.client)
          due 2d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Add `start` naming the first step of the playbook.""",
    ),
    _explanation(
        "RF202",
        """No path from `start` reaches this step or outcome. Paths follow every immediate
        transition, `on` handler, `on timeout`, global handler and SLA `breach ->`, ignoring
        guards.""",
        """The step will never run for any client. It is typically a step that lost its
        incoming transition in an edit, so the discount or call it holds silently disappears
        from the playbook.""",
        """
        workflow at_risk_check_in version 1

        case {
          client: text
          arr: money(USD)
        }

        limit discount per case 2000 USD

        start call_client

        step call_client {
          do call(client: case.client)
          due 2d
          on renewal_confirmed -> retained
          on timeout -> churned
        }

        step offer_discount {
          offer discount 5% of case.arr label "renewal discount"
          when offer.status in ["granted", "capped"] -> retained
          -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow at_risk_check_in version 1

        case {
          client: text
          arr: money(USD)
        }

        limit discount per case 2000 USD

        start call_client

        step call_client {
          do call(client: case.client)
          due 2d
          on renewal_confirmed -> retained
          on renewal_hesitant -> offer_discount
          on timeout -> churned
        }

        step offer_discount {
          offer discount 5% of case.arr label "renewal discount"
          when offer.status in ["granted", "capped"] -> retained
          -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Add a transition to it from where it belongs in the playbook, or delete it.""",
    ),
    _explanation(
        "RF203",
        """A step has no outgoing edge at all: no `->`, `when ... ->`, `on ... ->` or
        `on timeout ->`, and no global handler or SLA `breach ->` that could move a case out
        of it.""",
        """A case that enters the step stays there forever: it never reaches an outcome, its
        SLAs are never met, and it shows as waiting in every report.""",
        """
        workflow complaint_handling version 1

        case { client: text }

        start listen

        step listen {
          do call(client: case.client)
          due 4h
          on call_logged -> apologize
          on timeout -> escalate
        }

        step apologize {
          do send(template: "apology")
        }

        step solve {
          do open_ticket(priority: "high")
          due 2d
          on resolved -> retained
          on timeout -> escalate
        }

        step escalate {
          do notify(role: "team_lead")
          due 1d
          on resolved -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow complaint_handling version 1

        case { client: text }

        start listen

        step listen {
          do call(client: case.client)
          due 4h
          on call_logged -> apologize
          on timeout -> escalate
        }

        step apologize {
          do send(template: "apology")
          -> solve
        }

        step solve {
          do open_ticket(priority: "high")
          due 2d
          on resolved -> retained
          on timeout -> escalate
        }

        step escalate {
          do notify(role: "team_lead")
          due 1d
          on resolved -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Add the transition the step should take when its work is done (here `-> solve`).""",
    ),
    _explanation(
        "RF204",
        """A step reachable from `start` has outgoing edges, but no path from it ever reaches
        an outcome (guards ignored), so a case there can only move between steps, such as two
        steps that time out into each other.""",
        """Cases that get there loop for ever: the client keeps receiving reminders, the
        instance never ends, and reports never count it as retained or churned.""",
        """
        workflow renewal_reminders version 1

        case { client: text }

        start remind

        step remind {
          do send(template: "renewal_reminder")
          due 3d
          on timeout -> call_client
        }

        step call_client {
          do call(client: case.client)
          due 2d
          on timeout -> remind
        }

        outcome renewed as retained
        outcome lapsed as churned
        """,
        """
        workflow renewal_reminders version 1

        case { client: text }

        start remind

        step remind {
          do send(template: "renewal_reminder")
          due 3d
          on renewal_signed -> renewed
          on timeout -> call_client
        }

        step call_client {
          do call(client: case.client)
          due 2d
          on renewal_signed -> renewed
          on timeout -> lapsed
        }

        outcome renewed as retained
        outcome lapsed as churned
        """,
        """Give the loop a way out to an outcome: an `on` handler for the event that settles
        the case, or an `on timeout` to a churned outcome.""",
    ),
    _explanation(
        "RF205",
        """A cycle made only of immediate transitions (`->` and `when ... ->`) passes through
        steps none of which has a `wait`, so a case could go round it without time passing.
        It is reported once per cycle, at its first immediate transition in source order,
        naming the cycle's steps.""",
        """When the guards let a case go round, one input causes transitions without end: the
        engine stops the case with a runaway error after 1,000 transitions, having re-run the
        cycle's actions (notifications, offers) on every lap.""",
        """
        workflow discount_escalation version 1

        case {
          client: text
          arr: money(USD)
        }

        limit discount per case 5000 USD

        start compensate

        step compensate {
          offer discount 10% of case.arr label "loyalty discount"
          when offer.status in ["granted", "capped"] -> retained
          -> escalate
        }

        step escalate {
          do notify(role: "retention_director")
          -> compensate
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow discount_escalation version 1

        case {
          client: text
          arr: money(USD)
        }

        event director_decision { keep: bool }

        limit discount per case 5000 USD

        start compensate

        step compensate {
          offer discount 10% of case.arr label "loyalty discount"
          when offer.status in ["granted", "capped"] -> retained
          -> escalate
        }

        step escalate {
          do notify(role: "retention_director")
          due 1d
          on director_decision when event.keep -> compensate
          on director_decision -> churned
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Make one step of the cycle wait for something: an event with `on`, a `due` with
        `on timeout`, or a `wait` before it tries again.""",
    ),
    _explanation(
        "RF206",
        """A transition can never be taken because an earlier one always wins: an
        `on EVENT` handler after one for the same event with no guard, an always-true guard
        or the identical guard, or any transition after an unconditional `->` or an
        always-true `when`. Handlers and immediate transitions are tried in source order and
        the first that matches wins.""",
        """The specific branch you wrote is dead: here satisfied clients get yet another
        check-in call instead of being counted as retained.""",
        """
        workflow csat_survey version 1

        case { client: text }

        event survey_answered { score: number }

        start follow_up

        step follow_up {
          wait 7d
          do survey(kind: "csat")
          due 10d
          on survey_answered -> check_in
          on survey_answered when event.score >= 4 -> retained
          on timeout -> check_in
        }

        step check_in {
          do call(client: case.client)
          due 14d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow csat_survey version 1

        case { client: text }

        event survey_answered { score: number }

        start follow_up

        step follow_up {
          wait 7d
          do survey(kind: "csat")
          due 10d
          on survey_answered when event.score >= 4 -> retained
          on survey_answered -> check_in
          on timeout -> check_in
        }

        step check_in {
          do call(client: case.client)
          due 14d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Put the more specific transition (the one with the guard) before the general one,
        or delete the one that can never run.""",
    ),
    _explanation(
        "RF207",
        """The workflow declares no `outcome`, so it has no terminal state. It is reported at
        the `workflow` header, and the graph checks are skipped until it is fixed.""",
        """No instance can ever end: every case stays active for ever, so the playbook can
        never start again for it, and reports cannot count anyone as retained or
        churned.""",
        """
        workflow loyalty_thank_you version 1

        case { client: text }

        start thank

        step thank {
          do send(template: "thank_you_gift")
          -> check_in
        }

        step check_in {
          wait 30d
          do call(client: case.client)
        }
        """,
        """
        workflow loyalty_thank_you version 1

        case { client: text }

        start thank

        step thank {
          do send(template: "thank_you_gift")
          -> check_in
        }

        step check_in {
          wait 30d
          do call(client: case.client)
          due 7d
          on call_logged -> retained
          on timeout -> no_contact
        }

        outcome retained as retained
        outcome no_contact as other
        """,
        """Declare the outcomes the playbook ends in (`outcome retained as retained`, ...) and
        make its last steps transition to them.""",
    ),
    _explanation(
        "RF208",
        """The step's only ways out are immediate transitions with a guard (`when ... ->`): no
        unconditional `->`, no `on` handler or `on timeout`, and no global handler or SLA
        `breach ->`. If no guard holds on entry the case waits there, and immediate
        transitions are retried only when the case's data is updated, never as time
        passes.""",
        """Cases that match none of the guards (here bronze clients) sit in the step with
        nothing scheduled until someone edits their data, which in practice means they are
        silently dropped.""",
        """
        workflow tier_routing version 1

        case {
          client: text
          tier: enum(bronze, silver, gold, platinum)
        }

        start route

        step route {
          when case.tier == "platinum" -> director_call
          when case.tier in ["gold", "silver"] -> manager_call
        }

        step director_call {
          do assign(role: "retention_director")
          due 4h
          on call_logged -> retained
          on timeout -> manager_call
        }

        step manager_call {
          do assign(role: "account_manager")
          due 1d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow tier_routing version 1

        case {
          client: text
          tier: enum(bronze, silver, gold, platinum)
        }

        start route

        step route {
          when case.tier == "platinum" -> director_call
          when case.tier in ["gold", "silver"] -> manager_call
          -> email_follow_up
        }

        step director_call {
          do assign(role: "retention_director")
          due 4h
          on call_logged -> retained
          on timeout -> manager_call
        }

        step manager_call {
          do assign(role: "account_manager")
          due 1d
          on call_logged -> retained
          on timeout -> churned
        }

        step email_follow_up {
          do send(template: "we_are_listening")
          due 3d
          on client_replied -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Add a last, unconditional `->` for every case the guards do not cover, or
        something the step can wait for (an `on` handler, or `due` with `on timeout`).""",
    ),
    # ---- RF3xx: types --------------------------------------------------------------------
    _explanation(
        "RF301",
        """An operator or function gets operands of the wrong type or number: money compared
        with a plain number, text added to a duration, `len` with two arguments. It also
        fires for an argument of the wrong type for a declared `action` parameter, and for a
        missing required parameter.""",
        """Types are checked before any case runs so that a guard never decides on a
        comparison that has no meaning: `case.arr >= 100000` does not say which currency, so
        it cannot tell who is a VIP.""",
        """
        workflow vip_escalation version 1

        case {
          client: text
          arr: money(USD)
        }

        start triage

        step triage {
          when case.arr >= 100000 -> director_call
          -> manager_call
        }

        step director_call {
          do assign(role: "retention_director")
          due 4h
          on call_logged -> retained
          on timeout -> manager_call
        }

        step manager_call {
          do assign(role: "account_manager")
          due 1d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow vip_escalation version 1

        case {
          client: text
          arr: money(USD)
        }

        start triage

        step triage {
          when case.arr >= 100000 USD -> director_call
          -> manager_call
        }

        step director_call {
          do assign(role: "retention_director")
          due 4h
          on call_logged -> retained
          on timeout -> manager_call
        }

        step manager_call {
          do assign(role: "account_manager")
          due 1d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Make the types agree (for money, write the currency: `100000 USD`), or pass the
        arguments the declared action expects.""",
    ),
    _explanation(
        "RF302",
        """Amounts of two different currencies meet in one expression: compared, added,
        subtracted, or passed together to `min` or `max`. Money only meets money of the same
        currency; there is no conversion.""",
        """Exchange rates are not part of a workflow, so a EUR threshold cannot be held
        against a USD revenue: the guard would pick the VIP path on a meaningless
        comparison.""",
        """
        workflow vip_escalation version 1

        case {
          client: text
          arr: money(USD)
        }

        const vip_arr = 100000 EUR

        start triage

        step triage {
          when case.arr >= vip_arr -> director_call
          -> manager_call
        }

        step director_call {
          do assign(role: "retention_director")
          due 4h
          on call_logged -> retained
          on timeout -> manager_call
        }

        step manager_call {
          do assign(role: "account_manager")
          due 1d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow vip_escalation version 1

        case {
          client: text
          arr: money(USD)
        }

        const vip_arr = 100000 USD

        start triage

        step triage {
          when case.arr >= vip_arr -> director_call
          -> manager_call
        }

        step director_call {
          do assign(role: "retention_director")
          due 4h
          on call_logged -> retained
          on timeout -> manager_call
        }

        step manager_call {
          do assign(role: "account_manager")
          due 1d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Write both amounts in the same currency: the one the case field declares with
        `money(CUR)`.""",
    ),
    # ---- RF4xx: timing and SLAs ----------------------------------------------------------
    _explanation(
        "RF401",
        """A step has `on timeout -> ...` but no `due`, so there is no deadline that could
        ever expire.""",
        """The escalation you wrote never fires: a ticket nobody resolves stays in the step
        for ever instead of reaching the team lead.""",
        """
        workflow complaint_solve version 1

        start solve

        step solve {
          do open_ticket(priority: "high")
          on resolved -> retained
          on timeout -> escalate
        }

        step escalate {
          do notify(role: "team_lead")
          due 1d
          on resolved -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow complaint_solve version 1

        start solve

        step solve {
          do open_ticket(priority: "high")
          due 2d
          on resolved -> retained
          on timeout -> escalate
        }

        step escalate {
          do notify(role: "team_lead")
          due 1d
          on resolved -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Add a `due DUR` (with `in CAL` to count business hours) saying when the step times
        out, or delete the `on timeout`.""",
    ),
    _explanation(
        "RF402",
        """A step has a `due` but no `on timeout`: when the deadline expires it is recorded in
        the trace and nothing else happens.""",
        """A deadline nobody acts on reads like a commitment in the playbook but protects no
        client: the case just keeps waiting past it.""",
        """
        workflow complaint_solve version 1

        start solve

        step solve {
          do open_ticket(priority: "high")
          due 2d
          on resolved -> retained
          on client_gave_up -> escalate
        }

        step escalate {
          do notify(role: "team_lead")
          due 1d
          on resolved -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow complaint_solve version 1

        start solve

        step solve {
          do open_ticket(priority: "high")
          due 2d
          on resolved -> retained
          on client_gave_up -> escalate
          on timeout -> escalate
        }

        step escalate {
          do notify(role: "team_lead")
          due 1d
          on resolved -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Add `on timeout -> STEP` for what should happen when the deadline passes, or drop
        the `due` (an `sla` tracks a target without acting on it).""",
    ),
    _explanation(
        "RF403",
        """No path from the SLA's start (the `start` step, or its `from` step) reaches its
        `until` target, guards ignored; with `until outcome`, no path reaches any
        outcome.""",
        """The SLA can never be met: every case that starts it ends breached or cancelled,
        which makes its attainment in reports meaningless and its breach escalation fire for
        everyone.""",
        """
        workflow complaint_resolution version 1

        case { client: text }

        sla resolution 5d from root_cause until solve

        start listen

        step listen {
          do call(client: case.client)
          due 4h
          on call_logged -> solve
          on timeout -> solve
        }

        step solve {
          do open_ticket(priority: "high")
          due 2d
          on resolved -> root_cause
          on timeout -> escalate
        }

        step root_cause {
          do create_rca(within: 10d)
          -> retained
        }

        step escalate {
          do notify(role: "retention_director")
          due 1d
          on resolved -> root_cause
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow complaint_resolution version 1

        case { client: text }

        sla resolution 5d from solve until root_cause

        start listen

        step listen {
          do call(client: case.client)
          due 4h
          on call_logged -> solve
          on timeout -> solve
        }

        step solve {
          do open_ticket(priority: "high")
          due 2d
          on resolved -> root_cause
          on timeout -> escalate
        }

        step root_cause {
          do create_rca(within: 10d)
          -> retained
        }

        step escalate {
          do notify(role: "retention_director")
          due 1d
          on resolved -> root_cause
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Point `from` and `until` at steps in playbook order (the target must come after the
        start), or add the transition that leads from one to the other.""",
    ),
    _explanation(
        "RF404",
        """Every path from the SLA's start to its target waits longer than the SLA allows.
        Only waits that cannot be cut short are summed: a step's `wait` when no handler
        applies to it, and its `due` when `on timeout` is its only exit, outside `pause in`
        steps and only when they use the SLA's calendar (or, like the SLA, none).""",
        """Every case breaches by design: the playbook promises clients a target its own
        timing makes impossible, and the breach alerts fire for every case.""",
        """
        workflow onboarding version 1

        case { client: text }

        sla kickoff 2d until kickoff_call

        start welcome

        step welcome {
          wait 3d
          do send(template: "kickoff_invitation")
          -> kickoff_call
        }

        step kickoff_call {
          do call(client: case.client)
          due 2d
          on call_logged -> retained
          on timeout -> no_contact
        }

        outcome retained as retained
        outcome no_contact as other
        """,
        """
        workflow onboarding version 1

        case { client: text }

        sla kickoff 2d until kickoff_call

        start welcome

        step welcome {
          wait 1d
          do send(template: "kickoff_invitation")
          -> kickoff_call
        }

        step kickoff_call {
          do call(client: case.client)
          due 2d
          on call_logged -> retained
          on timeout -> no_contact
        }

        outcome retained as retained
        outcome no_contact as other
        """,
        """Shorten the waits on the way to the target, or give the SLA a duration the playbook
        can keep.""",
    ),
    _explanation(
        "RF405",
        """A duration is zero or negative where a duration is expected (`wait`, `due`,
        `every`, `cooldown`, `over`, an SLA or its `warn`): a literal such as `0d`, or a
        constant such as `-1d`. Durations inside expressions (`elapsed > 0d`,
        `case.renewal + -30d`) are values and may be zero or negative.""",
        """A zero `wait` or `due` fires at once and a zero `every` repeats its actions at the
        same instant; what was meant (no wait, no deadline) is better said by leaving the
        statement out.""",
        """
        workflow csat_check version 1

        event survey_answered { score: number }

        start survey

        step survey {
          wait 0d
          do survey(kind: "csat")
          due 7d
          on survey_answered when event.score >= 4 -> retained
          on survey_answered -> unhappy
          on timeout -> no_response
        }

        outcome retained as retained
        outcome unhappy as churned
        outcome no_response as other
        """,
        """
        workflow csat_check version 1

        event survey_answered { score: number }

        start survey

        step survey {
          do survey(kind: "csat")
          due 7d
          on survey_answered when event.score >= 4 -> retained
          on survey_answered -> unhappy
          on timeout -> no_response
        }

        outcome retained as retained
        outcome unhappy as churned
        outcome no_response as other
        """,
        """Give a positive duration, or remove the statement if the step should not
        wait.""",
    ),
    _explanation(
        "RF406",
        """An SLA's `warn DUR before` is not shorter than the SLA itself (compared exactly, so
        `1d` equals `24h`): the warning would be due at or before the moment the SLA
        starts.""",
        """The warning would fire as soon as every case starts, which teaches the team to
        ignore SLA warnings, including the ones that matter.""",
        """
        workflow first_response version 2

        calendar support {
          timezone "Asia/Manila"
          hours mon-fri 09:00-18:00
          holidays "PH"
        }

        case { client: text }

        sla first_response 4h in support until apologize warn 4h before

        start listen

        step listen {
          do call(client: case.client)
          due 4h in support
          on call_logged -> apologize
          on timeout -> apologize
        }

        step apologize {
          do send(template: "apology")
          due 2d in support
          on resolved -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow first_response version 2

        calendar support {
          timezone "Asia/Manila"
          hours mon-fri 09:00-18:00
          holidays "PH"
        }

        case { client: text }

        sla first_response 4h in support until apologize warn 1h before

        start listen

        step listen {
          do call(client: case.client)
          due 4h in support
          on call_logged -> apologize
          on timeout -> apologize
        }

        step apologize {
          do send(template: "apology")
          due 2d in support
          on resolved -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Make `warn` shorter than the SLA: an hour before a four-hour target leaves time to
        act.""",
    ),
    # ---- RF5xx: compensation -------------------------------------------------------------
    _explanation(
        "RF501",
        """An `offer` of a kind (`discount`, `credit`, `service`, `extension`) that no money
        limit covers: there is no `limit compensation ...` and no `limit KIND ...` of its
        kind, per case or per client. A `limit grants` count is not a money limit.""",
        """Nothing caps that kind of compensation: the offer grants whatever its amount
        computes to, in every case, however often the same client comes back.""",
        """
        workflow outage_credit version 2

        case { client: text }

        limit discount per case 500 USD

        start compensate

        step compensate {
          offer credit 100 USD label "outage credit"
          when offer.status in ["granted", "capped"] -> tell_client
          -> retained
        }

        step tell_client {
          do send(template: "credit_confirmation")
          -> retained
        }

        outcome retained as retained
        """,
        """
        workflow outage_credit version 2

        case { client: text }

        limit credit per case 500 USD

        start compensate

        step compensate {
          offer credit 100 USD label "outage credit"
          when offer.status in ["granted", "capped"] -> tell_client
          -> retained
        }

        step tell_client {
          do send(template: "credit_confirmation")
          -> retained
        }

        outcome retained as retained
        """,
        """Add a `limit` for that kind, or for `compensation` (all kinds), per case, per
        client or both.""",
    ),
    _explanation(
        "RF502",
        """An offer of a constant amount is above a constant per-case limit that covers it, so
        it can never be granted in full: at best it is capped to the limit.""",
        """The client is told one amount and receives a smaller one with status `capped`; the
        label and the templates promise what the ledger never grants.""",
        """
        workflow outage_credit version 3

        case { client: text }

        limit credit per case 100 USD

        start compensate

        step compensate {
          offer credit 250 USD label "outage credit"
          when offer.status in ["granted", "capped"] -> tell_client
          -> retained
        }

        step tell_client {
          do send(template: "credit_confirmation")
          -> retained
        }

        outcome retained as retained
        """,
        """
        workflow outage_credit version 3

        case { client: text }

        limit credit per case 100 USD

        start compensate

        step compensate {
          offer credit 100 USD label "outage credit"
          when offer.status in ["granted", "capped"] -> tell_client
          -> retained
        }

        step tell_client {
          do send(template: "credit_confirmation")
          -> retained
        }

        outcome retained as retained
        """,
        """Lower the offer to what the limit allows, or raise the limit if the larger amount
        is intended.""",
    ),
    _explanation(
        "RF503",
        """The workflow has a per-client `limit` (of money or of grants) but the `case`
        schema declares no `client` field; it is reported at each per-client limit.""",
        """Per-client limits count grants by `case.client`; without that field every offer
        such a limit covers is refused (reason `missing_client`), so no client is ever
        compensated.""",
        """
        workflow loyalty_discount version 1

        case {
          account: text
          arr: money(USD)
        }

        limit compensation per client 10% of case.arr over 365d

        start compensate

        step compensate {
          offer discount 5% of case.arr label "loyalty discount"
          when offer.status in ["granted", "capped"] -> retained
          -> call_client
        }

        step call_client {
          do call(client: case.account)
          due 2d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow loyalty_discount version 1

        case {
          client: text
          arr: money(USD)
        }

        limit compensation per client 10% of case.arr over 365d

        start compensate

        step compensate {
          offer discount 5% of case.arr label "loyalty discount"
          when offer.status in ["granted", "capped"] -> retained
          -> call_client
        }

        step call_client {
          do call(client: case.client)
          due 2d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Name the field that identifies the client `client` in the case schema, or make
        the limit per case.""",
    ),
    # ---- RF6xx: conditions ---------------------------------------------------------------
    _explanation(
        "RF601",
        """A guard can never hold, whatever the case or event: `case.csat < 2 and case.csat >
        4`, or one field equal to two values at once. The check reasons about comparisons of
        one reference with literals or constants, literal `in` lists, enums and bools joined
        by `and`, `or` and `not`, and treats anything else as unknown.""",
        """The branch is dead: the clients it was written for (here gold and platinum) never
        get it.""",
        """
        workflow tier_routing version 2

        case {
          client: text
          tier: enum(bronze, silver, gold, platinum)
        }

        start route

        step route {
          when case.tier == "gold" and case.tier == "platinum" -> director_call
          -> manager_call
        }

        step director_call {
          do assign(role: "retention_director")
          due 4h
          on call_logged -> retained
          on timeout -> manager_call
        }

        step manager_call {
          do assign(role: "account_manager")
          due 1d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow tier_routing version 2

        case {
          client: text
          tier: enum(bronze, silver, gold, platinum)
        }

        start route

        step route {
          when case.tier in ["gold", "platinum"] -> director_call
          -> manager_call
        }

        step director_call {
          do assign(role: "retention_director")
          due 4h
          on call_logged -> retained
          on timeout -> manager_call
        }

        step manager_call {
          do assign(role: "account_manager")
          due 1d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Fix the logic: usually `or` was meant instead of `and`, or `in [...]` for one of
        several values.""",
    ),
    _explanation(
        "RF602",
        """A guard always holds, whatever the case or event, so it is the same as no guard:
        `case.tier != "gold" or case.tier != "platinum"`, or `case.csat >= 1 or case.csat < 1`
        on a required field. The reasoning is that of RF601; optional fields may be
        `none`.""",
        """Every case takes the branch, including those it was meant to leave out: here gold
        and platinum clients get an e-mail instead of their manager's call, and the
        transitions after it never run.""",
        """
        workflow tier_routing version 3

        case {
          client: text
          tier: enum(bronze, silver, gold, platinum)
        }

        start route

        step route {
          when case.tier != "gold" or case.tier != "platinum" -> email_follow_up
          -> manager_call
        }

        step email_follow_up {
          do send(template: "we_are_listening")
          due 3d
          on client_replied -> retained
          on timeout -> churned
        }

        step manager_call {
          do assign(role: "account_manager")
          due 1d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow tier_routing version 3

        case {
          client: text
          tier: enum(bronze, silver, gold, platinum)
        }

        start route

        step route {
          when case.tier not in ["gold", "platinum"] -> email_follow_up
          -> manager_call
        }

        step email_follow_up {
          do send(template: "we_are_listening")
          due 3d
          on client_replied -> retained
          on timeout -> churned
        }

        step manager_call {
          do assign(role: "account_manager")
          due 1d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Fix the logic (usually `and` was meant instead of `or`, or `not in [...]`), or drop
        the guard if it really should always hold.""",
    ),
    # ---- RF9xx: suppressions -------------------------------------------------------------
    _explanation(
        "RF901",
        """A `# rflow: ignore[CODE]` or `# rflow: ignore-file[CODE]` comment suppresses
        nothing: no diagnostic of that code starts on its line (on the next line, for a
        comment on a line of its own; anywhere in the file, for `ignore-file`), or CODE is no
        check code. A suppression of a code that configuration deselects is not reported.""",
        """A stale suppression hides the next real problem: once the issue it was written for
        is fixed, the comment would silently swallow a new one on the same line.""",
        """
        workflow survey_follow_up version 1

        case { client: text }

        start follow_up

        step follow_up {
          wait 7d
          do survey(kind: "csat")
          # rflow: ignore[RF402]
          due 10d
          on survey_answered -> retained
          on timeout -> check_in
        }

        step check_in {
          do call(client: case.client)
          due 14d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """
        workflow survey_follow_up version 1

        case { client: text }

        start follow_up

        step follow_up {
          wait 7d
          do survey(kind: "csat")
          due 10d
          on survey_answered -> retained
          on timeout -> check_in
        }

        step check_in {
          do call(client: case.client)
          due 14d
          on call_logged -> retained
          on timeout -> churned
        }

        outcome retained as retained
        outcome churned as churned
        """,
        """Delete the comment, or the code from its list, once the problem it suppressed is
        fixed.""",
    ),
)

EXPLANATIONS: dict[str, Explanation] = {row.code: row for row in _ROWS}


# ---- lookup ------------------------------------------------------------------------------


def lookup(code: str) -> tuple[Check, Explanation]:
    """The catalog row and the explanation of a code, in any case (`rf101`, ` RF101 `).

    An unknown code raises KeyError whose only argument is a message for people: it names
    the closest codes, or lists every code with its name."""
    key = code.strip().upper()
    if key in CATALOG and key in EXPLANATIONS:
        return CATALOG[key], EXPLANATIONS[key]
    raise KeyError(_unknown_message(code))


def _unknown_message(code: str) -> str:
    key = code.strip().upper()
    near = [check for check in CATALOG_ROWS if key and check.code.startswith(key)]
    by_name = [check for check in CATALOG_ROWS if check.name == code.strip().lower()]
    if by_name:
        check = by_name[0]
        return f"'{code}' is the name of check {check.code}: try `--explain {check.code}`"
    if 0 < len(near) < len(CATALOG_ROWS) and key != "RF":
        listed = ", ".join(f"{c.code} {c.name}" for c in near)
        return f"unknown check code '{code}'; codes starting with {key}: {listed}"
    listed = ", ".join(f"{c.code} {c.name}" for c in CATALOG_ROWS)
    return f"unknown check code '{code}'; the check codes are: {listed}"


# ---- terminal text -----------------------------------------------------------------------

_WIDTH = 88
_PROSE_INDENT = "  "
_CODE_INDENT = "    "


def _wrap(text: str) -> str:
    return textwrap.fill(
        text,
        width=_WIDTH,
        initial_indent=_PROSE_INDENT,
        subsequent_indent=_PROSE_INDENT,
        break_on_hyphens=False,
        break_long_words=False,
    )


def _indent_code(text: str) -> str:
    return textwrap.indent(text.rstrip("\n"), _CODE_INDENT, lambda line: bool(line.strip()))


def explain_text(code: str) -> str:
    """The text of `retainflow lint --explain CODE` (no trailing newline).

    Raises KeyError (with a message naming the known codes) for an unknown code."""
    check, explanation = lookup(code)
    sections = [
        f"{check.code} {check.name} ({check.severity})",
        _wrap(f"{check.summary[:1].upper()}{check.summary[1:]}."),
        "What it means\n" + _wrap(explanation.meaning),
        "Why it matters\n" + _wrap(explanation.why),
        "Example\n" + _indent_code(explanation.bad),
        "Fixed\n" + _indent_code(explanation.good),
        "How to fix\n" + _wrap(explanation.fix),
    ]
    return "\n\n".join(sections)


# ---- SARIF rule help ---------------------------------------------------------------------


def sarif_help(code: str) -> tuple[str, str]:
    """(plain text, Markdown) help of the SARIF rule of a code (KeyError if unknown)."""
    check, explanation = lookup(code)
    text = "\n\n".join(
        [
            f"{check.code} {check.name} ({check.severity}): {check.summary}.",
            explanation.meaning,
            f"Why it matters: {explanation.why}",
            f"How to fix: {explanation.fix}",
            "Example:\n" + _indent_code(explanation.bad),
            "Fixed:\n" + _indent_code(explanation.good),
        ]
    )
    markdown = "\n\n".join(
        [
            f"**{check.code} {check.name}** ({check.severity}): {check.summary}.",
            explanation.meaning,
            f"**Why it matters.** {explanation.why}",
            f"**How to fix.** {explanation.fix}",
            "Example:\n\n" + _fence(explanation.bad),
            "Fixed:\n\n" + _fence(explanation.good),
        ]
    )
    return text, markdown


def _fence(text: str) -> str:
    return f"```rflow\n{text.rstrip()}\n```"


# ---- the catalog as Markdown ---------------------------------------------------------------

_GROUPS = (
    ("RF0", "the text and its literals"),
    ("RF1", "names and definitions"),
    ("RF2", "the graph of steps"),
    ("RF3", "types"),
    ("RF4", "timing and SLAs"),
    ("RF5", "compensation"),
    ("RF6", "conditions"),
    ("RF9", "suppressions"),
)


def _anchor(check: Check) -> str:
    """The GitHub anchor of the check's heading `## RF101 undefined-target`."""
    return f"{check.code.lower()}-{check.name}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _intro() -> str:
    groups = "\n".join(f"- {prefix}xx: {what}" for prefix, what in _GROUPS)
    return f"""\
# Check catalog

<!-- Generated by scripts/gen_checks_doc.py from src/retainflow/explain.py: do not edit by
hand; run `python scripts/gen_checks_doc.py` after changing an explanation. -->

`retainflow lint` reports every problem it finds in a `.rflow` file as a diagnostic with a
stable code and name, such as `RF101 undefined-target`. Errors make `lint` exit 1; warnings
do too with `--strict`. The codes are grouped by hundreds:

{groups}

Every check below is explained the same way in the terminal by
`retainflow lint --explain CODE` (the code in any case, e.g. `--explain rf101`), and in the
rule help of `--format sarif`, which GitHub code scanning shows next to each alert."""


def _table() -> str:
    lines = ["| code | name | severity | summary |", "|---|---|---|---|"]
    for check in CATALOG_ROWS:
        lines.append(
            f"| [{check.code}](#{_anchor(check)}) | {check.name} | {check.severity} "
            f"| {_cell(check.summary)} |"
        )
    return "## All checks\n\n" + "\n".join(lines)


_HOW_CHECKS_SEE = """\
## How the checks see a workflow

- Every problem is reported, not only the first; one file's problems never hide another
  file's results. A file with a syntax error gets one RF001, for its first error, and
  nothing else.
- The graph checks (RF202-RF206, RF208, RF403, RF404) work on the compiled graph and ignore
  guards: each step has an edge for each immediate transition, `on` handler and
  `on timeout`, plus one for each global handler and each SLA `breach ->`. They are skipped
  for a workflow with RF201 or RF207, and a transition to an undefined target (RF101) counts
  as reaching an outcome.
- RF601 and RF602 reason only about comparisons of one reference with literals or constants,
  literal `in` lists, enums and bools, joined by `and`, `or` and `not`; anything else is
  unknown, so they never guess. Optional fields may be `none`.
- Each diagnostic points at the part of the text that is wrong: the name for undefined,
  duplicate, unused and unreachable things; the literal for RF002, RF104 and RF405; the whole
  statement for RF206, RF401, RF402 and RF501-RF503; the guard for RF601 and RF602; the
  operator or argument for RF301 and RF302; the `workflow` header for RF201 and RF207."""


def _check_section(check: Check) -> str:
    explanation = EXPLANATIONS[check.code]
    return "\n\n".join(
        [
            f"## {check.code} {check.name}",
            f"Severity: **{check.severity}**. Fires when: {check.summary}.",
            f"**What it means.** {explanation.meaning}",
            f"**Why it matters.** {explanation.why}",
            "**Example:**",
            _fence(explanation.bad),
            "**Fixed:**",
            _fence(explanation.good),
            f"**How to fix.** {explanation.fix}",
        ]
    )


_SUPPRESSIONS = """\
## Suppressing a diagnostic

A comment silences one check where you have decided the finding is acceptable:

```rflow
step follow_up {
  wait 7d
  do survey(kind: "csat")
  due 10d   # rflow: ignore[RF402]   the survey deadline is only reported, on purpose
  on survey_answered -> retained
}
```

- `# rflow: ignore[CODE]` at the end of a line suppresses the diagnostics of that code whose
  span starts on that line.
- Standing alone on a line, `# rflow: ignore[CODE]` suppresses those starting on the next
  line.
- `# rflow: ignore-file[CODE]` anywhere in the file suppresses that code in the whole file.
- Several codes may be listed, separated by commas: `# rflow: ignore[RF202, RF105]`.
- A suppression that suppresses nothing is itself a warning,
  [RF901 unused-suppression](#rf901-unused-suppression), so stale comments do not pile up.
  Suppressing a code that the configuration deselects is not reported.
- RF001 (syntax-error) cannot be suppressed: a file that does not parse is never checked."""


_CONFIGURATION = """\
## Configuration

`lint` reads the `[tool.retainflow.lint]` table of the nearest `pyproject.toml` above each
file (the first one found walking up from the file's folder):

```toml
[tool.retainflow.lint]
select = ["RF1", "RF2", "RF4"]   # only these codes, or codes starting so (default: all)
ignore = ["RF105"]               # leave these out
severity = {RF206 = "error", RF404 = "error"}   # change a check's severity
```

- `select` and `ignore` take codes or code prefixes (`"RF2"` is every graph check); `ignore`
  wins over `select`.
- `severity` maps a code to `"error"` or `"warning"`.
- RF001 (syntax-error) cannot be deselected or demoted: a file that does not parse is always
  an error.

## Command-line options

- `--select CODES` and `--ignore CODES` take comma-separated codes or prefixes
  (`--select RF1,RF205`, `--ignore RF105`); `--select` replaces the configured `select`,
  `--ignore` adds to the configured `ignore`.
- `--strict` makes warnings fail the run too: `lint` exits 1 when any warning is left after
  suppressions and configuration.
- `--explain CODE` prints the explanation of one check, as on this page, and exits.
- `--format text|json|sarif|github` chooses the output; `--out FILE` writes it to a file."""


def checks_markdown() -> str:
    """The whole catalog as one Markdown page, ending with a newline."""
    parts = [_intro(), _table(), _HOW_CHECKS_SEE]
    parts.extend(_check_section(check) for check in CATALOG_ROWS)
    parts.extend([_SUPPRESSIONS, _CONFIGURATION, _DECISIONS])
    return "\n\n".join(parts) + "\n"


_DECISIONS = """## More

How each check is built, and the decisions retainflow made where the language design is
silent, are in [lint-decisions.md](lint-decisions.md); running lint in CI is in
[ci.md](ci.md). This page is generated from `retainflow.explain` by
`scripts/gen_checks_doc.py`: edit the source, not the page."""
