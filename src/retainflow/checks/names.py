"""Names and references: `CheckContext` in, RF101/RF102/RF103/RF105/RF106 out.

Every name a workflow uses must be defined once and be available where it is used:
transition targets (RF101), definitions, fields and parameters (RF102), fields of the
case, of declared events and of offers (RF103), calendars, constants, functions, types,
action parameters and scoped references such as `event.*` and `offer.*` (RF106).
Definitions nothing uses are RF105.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from retainflow import nodes as n
from retainflow.checks.context import (
    BUILTIN_EVENTS,
    ENGINE_ACTIONS,
    ENVELOPE_FIELDS,
    FUNCTIONS,
    OFFER_FIELDS,
    RESERVED_CASE_FIELDS,
    RESERVED_EVENT_FIELDS,
    TYPE_NAMES,
    CheckContext,
    Scope,
    calendar_refs,
    leading,
    similar,
    walk,
)
from retainflow.diagnostics import Diagnostic, Related
from retainflow.source import Span

# ---- RF101 ----------------------------------------------------------------------------


def check_targets(ctx: CheckContext) -> list[Diagnostic]:
    """RF101: transitions, `start` and SLA clauses that name no step (or outcome)."""
    found: list[Diagnostic] = []
    targets = ctx.targets()

    def target(name: n.Name) -> None:
        if name.text not in targets:
            found.append(_undefined_target(name, targets))

    for decl in ctx.workflow.declarations:
        if isinstance(decl, n.On):
            target(decl.target)
        elif isinstance(decl, n.Step):
            for stmt in decl.body:
                if isinstance(stmt, n.When | n.Goto | n.On):
                    target(stmt.target)
        elif isinstance(decl, n.Start):
            found.extend(_step_only(decl.step, ctx, "`start` must name a step"))
        elif isinstance(decl, n.Sla):
            found.extend(_sla_targets(decl, ctx))
    return found


def _undefined_target(name: n.Name, targets: dict[str, str]) -> Diagnostic:
    diag = similar(
        "RF101",
        name.span,
        f"step '{name.text}' is not defined",
        name.text,
        targets,
        otherwise=f"define it with `step {name.text} {{ ... }}` or `outcome {name.text}`",
    )
    if diag.suggestion and targets.get(diag.suggestion) == "outcome":
        diag = Diagnostic(
            "RF101",
            diag.span,
            f"outcome '{name.text}' is not defined",
            label=diag.label,
            suggestion=diag.suggestion,
        )
    return diag


def _step_only(name: n.Name, ctx: CheckContext, what: str) -> list[Diagnostic]:
    if name.text in ctx.steps:
        return []
    if name.text in ctx.outcomes:
        return [
            Diagnostic(
                "RF101",
                name.span,
                f"{what}, but '{name.text}' is an outcome",
                label="name a step here",
            )
        ]
    steps = list(ctx.steps)
    return [
        similar(
            "RF101",
            name.span,
            f"step '{name.text}' is not defined",
            name.text,
            steps,
            otherwise=f"define it with `step {name.text} {{ ... }}`",
        )
    ]


def _sla_targets(sla: n.Sla, ctx: CheckContext) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    label = f"SLA '{sla.name.text}'"
    if sla.start_step is not None:
        found.extend(_step_only(sla.start_step, ctx, f"{label} must start from a step"))
    if not sla.until_any_outcome and sla.until.text not in ctx.targets():
        candidates = {**ctx.targets(), "outcome": "target"}
        found.append(
            similar(
                "RF101",
                sla.until.span,
                f"step '{sla.until.text}' is not defined",
                sla.until.text,
                candidates,
                otherwise="an SLA runs until a step, an outcome, or `outcome` (any outcome)",
            )
        )
    for step in sla.pause:
        found.extend(_step_only(step, ctx, f"{label} can only pause in a step"))
    if sla.breach is not None:
        found.extend(_step_only(sla.breach, ctx, f"{label} can only move to a step on breach"))
    return found


# ---- RF102 ----------------------------------------------------------------------------


def _duplicates(
    names: Iterable[n.Name], what: str, first_note: str = "first defined here"
) -> list[Diagnostic]:
    """One RF102 for every later definition of a name, pointing back at the first."""
    first: dict[str, n.Name] = {}
    found: list[Diagnostic] = []
    for name in names:
        if name.text in first:
            found.append(
                Diagnostic(
                    "RF102",
                    name.span,
                    f"{what} '{name.text}' is defined twice",
                    label="rename or remove one of them",
                    related=(Related(first[name.text].span, first_note),),
                )
            )
        else:
            first[name.text] = name
    return found


def check_duplicates(ctx: CheckContext) -> list[Diagnostic]:
    """RF102: names defined twice, a second wait/due/every, redeclared built-ins."""
    wf = ctx.workflow
    found: list[Diagnostic] = []
    found.extend(_target_duplicates(wf))
    found.extend(_duplicates((d.name for d in wf.of(n.EventDecl)), "event"))
    found.extend(_duplicates((d.name for d in wf.of(n.ActionDecl)), "action"))
    found.extend(_duplicates((d.name for d in wf.of(n.Trigger)), "trigger"))
    found.extend(_duplicates((d.name for d in wf.of(n.Sla)), "SLA"))
    found.extend(_duplicates((d.name for d in wf.of(n.Calendar)), "calendar"))
    found.extend(_duplicates((d.name for d in wf.of(n.Const)), "constant"))
    found.extend(_duplicates((d.name for d in wf.of(n.Measure)), "measure"))
    found.extend(_single(wf.of(n.CaseSchema), "case", "a workflow has one `case` schema"))
    found.extend(_single(wf.of(n.Start), "start", "a workflow has one `start`"))
    found.extend(_single(wf.of(n.Title), "title", "a workflow has one `title`"))
    for schema in wf.of(n.CaseSchema):
        found.extend(_fields(schema.fields, "case field", RESERVED_CASE_FIELDS, _CASE_RESERVED))
    for event in wf.of(n.EventDecl):
        if event.name.text in BUILTIN_EVENTS:
            found.append(
                Diagnostic(
                    "RF102",
                    event.name.span,
                    f"'{event.name.text}' is a built-in event and cannot be redeclared",
                    label=_BUILTIN_EVENT_NOTES[event.name.text],
                )
            )
        found.extend(
            _fields(event.fields, "field", RESERVED_EVENT_FIELDS, _EVENT_RESERVED, event.name.text)
        )
    for action in wf.of(n.ActionDecl):
        if action.name.text in ENGINE_ACTIONS:
            found.append(
                Diagnostic(
                    "RF102",
                    action.name.span,
                    f"'{action.name.text}' is an action the engine emits itself and cannot "
                    "be declared",
                    label="choose another name for the host's action",
                )
            )
        found.extend(_fields(action.params, "parameter", (), {}, action.name.text))
    for calendar in wf.of(n.Calendar):
        zones = [item for item in calendar.items if isinstance(item, n.CalTimezone)]
        for extra in zones[1:]:
            found.append(
                Diagnostic(
                    "RF102",
                    extra.span,
                    f"calendar '{calendar.name.text}' has a second time zone",
                    label="a calendar has one `timezone`",
                    related=(Related(zones[0].span, "first given here"),),
                )
            )
    for step in wf.steps:
        found.extend(_step_duplicates(step))
    return found


def _target_duplicates(wf: n.Workflow) -> list[Diagnostic]:
    first: dict[str, n.Step | n.Outcome] = {}
    found: list[Diagnostic] = []
    for decl in wf.declarations:
        if not isinstance(decl, n.Step | n.Outcome):
            continue
        kind = "step" if isinstance(decl, n.Step) else "outcome"
        earlier = first.get(decl.name.text)
        if earlier is None:
            first[decl.name.text] = decl
            continue
        earlier_kind = "step" if isinstance(earlier, n.Step) else "outcome"
        message = (
            f"{kind} '{decl.name.text}' is defined twice"
            if kind == earlier_kind
            else f"{kind} '{decl.name.text}' has the name of an earlier {earlier_kind}"
        )
        label = (
            "rename or remove one of them"
            if kind == earlier_kind
            else "steps and outcomes share one set of names: rename one of them"
        )
        found.append(
            Diagnostic(
                "RF102",
                decl.name.span,
                message,
                label=label,
                related=(Related(earlier.name.span, "first defined here"),),
            )
        )
    return found


def _single(
    items: Sequence[n.CaseSchema | n.Start | n.Title], keyword: str, why: str
) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for extra in items[1:]:
        span = leading(extra.span, len(keyword)) if keyword == "case" else extra.span
        found.append(
            Diagnostic(
                "RF102",
                span,
                f"a second `{keyword}`",
                label=why,
                related=(Related(leading(items[0].span, len(keyword)), "first given here"),),
            )
        )
    return found


_CASE_RESERVED = {
    "id": "every case has an `id` (text) already: use `case.id`",
    "at": "case files use `at` for the time the case was submitted",
    "events": "case files use `events` for the case's events",
}
_EVENT_RESERVED = {
    "type": "every event has a `type`: its name",
    "at": "every event has an `at`: the time it happened",
    "id": "every event may carry an `id`, used to ignore duplicates",
    "workflow": "`workflow` is reserved for approvals, to name the workflow they decide",
}
_BUILTIN_EVENT_NOTES = {
    "approval": "it carries `approved: bool` and `workflow: text?` already",
    "case_updated": "its fields are the case's fields",
}


def _fields(
    fields: tuple[n.Field, ...],
    what: str,
    reserved: Sequence[str],
    notes: dict[str, str],
    owner: str | None = None,
) -> list[Diagnostic]:
    found = _duplicates((f.name for f in fields), what)
    if owner is not None:
        found = [
            Diagnostic(
                d.code,
                d.span,
                d.message.replace(" is defined twice", f" of '{owner}' is defined twice"),
                label=d.label,
                related=d.related,
            )
            for d in found
        ]
    for field in fields:
        if field.name.text in reserved:
            where = f"a field of event '{owner}'" if owner else "a case field"
            found.append(
                Diagnostic(
                    "RF102",
                    field.name.span,
                    f"'{field.name.text}' cannot be {where}",
                    label=notes.get(field.name.text),
                )
            )
        found.extend(_enum_members(field.name.text, field.type))
    return found


def _enum_members(field: str, ref: n.TypeRef) -> list[Diagnostic]:
    """RF102 for an enum value listed twice, in a field's type or nested in `list(...)`."""
    found: list[Diagnostic] = []
    if ref.name.text == "enum":
        seen: dict[str, n.Name] = {}
        for arg in ref.args:
            if arg.name.text in seen:
                found.append(
                    Diagnostic(
                        "RF102",
                        arg.name.span,
                        f"the enum of '{field}' lists '{arg.name.text}' twice",
                        label="list each value once",
                        related=(Related(seen[arg.name.text].span, "first listed here"),),
                    )
                )
            seen.setdefault(arg.name.text, arg.name)
    else:
        for arg in ref.args:
            found.extend(_enum_members(field, arg))
    return found


def _step_duplicates(step: n.Step) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    groups: tuple[tuple[list[n.Wait] | list[n.Due] | list[n.Every], str], ...] = (
        (step.statements(n.Wait), "wait"),
        (step.statements(n.Due), "due"),
        (step.statements(n.Every), "every"),
    )
    for statements, keyword in groups:
        for extra in statements[1:]:
            found.append(
                Diagnostic(
                    "RF102",
                    leading(extra.span, len(keyword)),
                    f"step '{step.name.text}' has a second `{keyword}`",
                    label=f"a step has at most one `{keyword}`",
                    related=(
                        Related(
                            leading(statements[0].span, len(keyword)), f"the first `{keyword}`"
                        ),
                    ),
                )
            )
    for do in step.statements(n.Do):
        duplicates = _duplicates((arg.name for arg in do.args), "parameter", "first given here")
        for diag in duplicates:
            found.append(
                Diagnostic(
                    "RF102",
                    diag.span,
                    diag.message.replace("is defined twice", "is given twice"),
                    label="pass each parameter once",
                    related=diag.related,
                )
            )
    return found


# ---- RF103 / RF106 in expressions -----------------------------------------------------


def check_references(ctx: CheckContext) -> list[Diagnostic]:
    """RF103/RF106 for the references of every expression, by where it stands."""
    found: list[Diagnostic] = []
    for site in ctx.sites:
        for node in walk(site.expr):
            found.extend(_reference(ctx, site.scope, node))
    return found


def _reference(ctx: CheckContext, scope: Scope, node: n.Expr) -> list[Diagnostic]:
    if scope.constant is not None and isinstance(
        node, n.CaseRef | n.EventRef | n.OfferRef | n.TriggerRef | n.ElapsedRef | n.NowRef
    ):
        return [
            Diagnostic(
                "RF106",
                node.span,
                f"constant '{scope.constant}' cannot use `{ctx.text(node)}`",
                label="constants are fixed when the workflow is compiled: use the expression "
                "where it is needed",
            )
        ]
    if isinstance(node, n.CaseRef):
        if node.field.text not in ctx.case_fields:
            return [_unknown_case_field(ctx, node.field)]
    elif isinstance(node, n.EventRef):
        return _event_reference(ctx, scope, node)
    elif isinstance(node, n.OfferRef):
        return _offer_reference(scope, node)
    elif isinstance(node, n.ConstRef):
        return _const_reference(ctx, node.name)
    elif isinstance(node, n.Call) and node.function.text not in FUNCTIONS:
        return [
            similar(
                "RF106",
                node.function.span,
                f"function '{node.function.text}' is not defined",
                node.function.text,
                FUNCTIONS,
                otherwise="functions are " + ", ".join(FUNCTIONS),
            )
        ]
    return []


def _unknown_case_field(ctx: CheckContext, field: n.Name) -> Diagnostic:
    if ctx.workflow.case_schema is None:
        otherwise = f"declare it: `case {{ {field.text}: TYPE }}`"
    else:
        otherwise = "add it to the `case { ... }` schema"
    return similar(
        "RF103",
        field.span,
        f"the case has no field '{field.text}'",
        field.text,
        dict.fromkeys(ctx.case_fields, "field"),
        otherwise=otherwise,
    )


def _event_reference(ctx: CheckContext, scope: Scope, node: n.EventRef) -> list[Diagnostic]:
    if scope.event is None:
        return [
            Diagnostic(
                "RF106",
                node.span,
                f"`{ctx.text(node)}` is not available in {scope.where}",
                label=scope.no_event,
            )
        ]
    fields = ctx.event_fields(scope.event)
    if fields is None or node.field.text in fields or node.field.text in ENVELOPE_FIELDS:
        return []
    if scope.event == "case_updated":
        otherwise = "a `case_updated` event carries case fields"
    else:
        otherwise = f"add it to `event {scope.event} {{ ... }}`"
    return [
        similar(
            "RF103",
            node.field.span,
            f"event '{scope.event}' has no field '{node.field.text}'",
            node.field.text,
            dict.fromkeys(fields, "field"),
            otherwise=otherwise,
        )
    ]


def _offer_reference(scope: Scope, node: n.OfferRef) -> list[Diagnostic]:
    if scope.step is None:
        return [
            Diagnostic(
                "RF106",
                node.span,
                f"`offer.{node.field.text}` is not available in {scope.where}",
                label="`offer.*` reads the offer of the step it is used in",
            )
        ]
    if not scope.step.has_offer:
        return [
            Diagnostic(
                "RF106",
                node.span,
                f"`offer.{node.field.text}` is used in step '{scope.step.name.text}', "
                "which makes no offer",
                label="`offer.*` is only available in a step with an `offer`",
            )
        ]
    if node.field.text not in OFFER_FIELDS:
        return [
            similar(
                "RF103",
                node.field.span,
                f"an offer has no field '{node.field.text}'",
                node.field.text,
                dict.fromkeys(OFFER_FIELDS, "field"),
                otherwise="an offer has `status` and `amount`",
            )
        ]
    return []


def _const_reference(ctx: CheckContext, name: n.Name) -> list[Diagnostic]:
    if name.text in ctx.consts:
        return []
    if name.text in ctx.case_fields:
        return [
            Diagnostic(
                "RF106",
                name.span,
                f"constant '{name.text}' is not defined",
                label=f"did you mean `case.{name.text}`?",
                suggestion=f"case.{name.text}",
            )
        ]
    return [
        similar(
            "RF106",
            name.span,
            f"constant '{name.text}' is not defined",
            name.text,
            list(ctx.consts),
            otherwise=f"define it with `const {name.text} = ...`",
        )
    ]


# ---- RF106 elsewhere --------------------------------------------------------------------


def check_declared_names(ctx: CheckContext) -> list[Diagnostic]:
    """RF106: unknown calendars, duration constants, action parameters; engine actions in
    `do`; `on timeout` outside steps; constants defined in terms of themselves."""
    found: list[Diagnostic] = []
    calendars = list(ctx.calendars)
    for ref in calendar_refs(ctx.workflow):
        if ref.text not in ctx.calendars:
            found.append(
                similar(
                    "RF106",
                    ref.span,
                    f"calendar '{ref.text}' is not defined",
                    ref.text,
                    calendars,
                    otherwise=f"define it with `calendar {ref.text} {{ timezone ...; hours ... }}`",
                )
            )
    for site in ctx.durations:
        if isinstance(site.ref, n.ConstRef):
            found.extend(_const_reference(ctx, site.ref.name))
    for step in ctx.workflow.steps:
        for do in step.statements(n.Do):
            found.extend(_do_names(ctx, do))
    for handler in ctx.workflow.global_handlers:
        if handler.is_timeout:
            found.append(
                Diagnostic(
                    "RF106",
                    handler.event.span,
                    "`on timeout` cannot stand at the workflow level: timeouts belong in steps",
                    label="move it into the steps that have a `due`",
                )
            )
    for trigger in ctx.workflow.of(n.Trigger):
        if trigger.event is not None and trigger.event.text == "timeout":
            found.append(
                Diagnostic(
                    "RF106",
                    trigger.event.span,
                    "a trigger cannot start on `timeout`: it is not an event",
                    label="timeouts belong in steps with a `due`",
                )
            )
    found.extend(_const_cycles(ctx))
    return found


def _do_names(ctx: CheckContext, do: n.Do) -> list[Diagnostic]:
    name = do.action.text
    if name in ENGINE_ACTIONS:
        return [
            Diagnostic(
                "RF106",
                do.action.span,
                f"'{name}' is an action the engine emits itself: `do` cannot use it",
                label=_ENGINE_ACTION_NOTES[name],
            )
        ]
    info = ctx.actions.get(name)
    if info is None:
        return []
    found: list[Diagnostic] = []
    for arg in do.args:
        if arg.name.text not in info.params:
            found.append(
                similar(
                    "RF106",
                    arg.name.span,
                    f"action '{name}' has no parameter '{arg.name.text}'",
                    arg.name.text,
                    dict.fromkeys(info.params, "parameter"),
                    otherwise=(
                        "its parameters are " + ", ".join(info.params)
                        if info.params
                        else "it takes no parameters"
                    ),
                )
            )
    return found


_ENGINE_ACTION_NOTES = {
    "grant": "compensation is granted by `offer KIND AMOUNT`",
    "request_approval": "approvals are requested by `approve` rules when an offer needs one",
    "sla_warning": "SLA warnings come from `warn DUR before` on an `sla`",
    "sla_breached": "breaches come from `sla` declarations",
}


def _const_cycles(ctx: CheckContext) -> list[Diagnostic]:
    """A constant defined in terms of itself, reported at the reference that closes it."""
    graph: dict[str, list[n.Name]] = {
        name: [node.name for node in walk(const.value) if isinstance(node, n.ConstRef)]
        for name, const in ctx.consts.items()
    }
    found: list[Diagnostic] = []
    done: set[str] = set()
    for root in graph:
        if root in done:
            continue
        # iterative depth-first search with the current path
        path: list[str] = [root]
        stack: list[Iterator[n.Name]] = [iter(graph[root])]
        while stack:
            ref = next(stack[-1], None)
            if ref is None:
                done.add(path.pop())
                stack.pop()
                continue
            if ref.text in path:
                cycle = [*path[path.index(ref.text) :], ref.text]
                found.append(
                    Diagnostic(
                        "RF106",
                        ref.span,
                        f"constant '{ref.text}' is defined in terms of itself: "
                        + " -> ".join(cycle),
                        label="give one of these constants a value of its own",
                    )
                )
            elif ref.text in graph and ref.text not in done:
                path.append(ref.text)
                stack.append(iter(graph[ref.text]))
    return found


# ---- schemas and measures ---------------------------------------------------------------


def check_type_names(ctx: CheckContext) -> list[Diagnostic]:
    """RF106 unknown type names, RF002 unknown currencies and RF301 malformed types in the
    case, event and action schemas."""
    found: list[Diagnostic] = []
    for problem in ctx.type_problems:
        node = problem.node
        span = node.span if node is not None else Span(0, 0)
        if problem.code == "RF106" and node is not None:
            found.append(
                similar(
                    "RF106",
                    node.name.span,
                    f"type '{node.name.text}' is not defined",
                    node.name.text,
                    dict.fromkeys(TYPE_NAMES, "type"),
                    otherwise="types are " + ", ".join(TYPE_NAMES),
                )
            )
        elif problem.code == "RF002" and node is not None:
            found.append(
                Diagnostic(
                    "RF002",
                    node.name.span,
                    problem.message,
                    label="use an ISO 4217 code such as USD, EUR, GBP or PHP",
                    suggestion=node.name.text.upper()
                    if node.name.text.upper() != node.name.text
                    else None,
                )
            )
        else:
            found.append(Diagnostic(problem.code, span, problem.message))
    return found


def check_measures(ctx: CheckContext) -> list[Diagnostic]:
    """RF103 for `measure NAME from EVENT.FIELD` of an undeclared event or an unknown field;
    RF301 for a field that is not a number."""
    found: list[Diagnostic] = []
    for m in ctx.workflow.of(n.Measure):
        fields = ctx.event_fields(m.event.text)
        if fields is None:
            declared = [e for e in ctx.events if e not in BUILTIN_EVENTS]
            found.append(
                similar(
                    "RF103",
                    m.event.span,
                    f"measure '{m.name.text}' reads event '{m.event.text}', which is not declared",
                    m.event.text,
                    dict.fromkeys(declared, "event"),
                    otherwise=f"declare it: `event {m.event.text} {{ {m.field.text}: number }}`",
                )
            )
            continue
        type_ = fields.get(m.field.text)
        if type_ is None:
            found.append(
                similar(
                    "RF103",
                    m.field.span,
                    f"event '{m.event.text}' has no field '{m.field.text}'",
                    m.field.text,
                    dict.fromkeys(fields, "field"),
                    otherwise=f"add `{m.field.text}: number` to `event {m.event.text}`",
                )
            )
        elif type_.name not in ("number", "any"):
            found.append(
                Diagnostic(
                    "RF301",
                    m.field.span,
                    f"measure '{m.name.text}' records numbers, but "
                    f"{m.event.text}.{m.field.text} is {type_}",
                    label="measure a number field",
                )
            )
    return found


# ---- RF105 ------------------------------------------------------------------------------


def check_unused(ctx: CheckContext) -> list[Diagnostic]:
    """RF105: calendars, constants, declared events and actions that nothing uses."""
    wf = ctx.workflow
    found: list[Diagnostic] = []
    used_calendars = {ref.text for ref in calendar_refs(wf)}
    for name, calendar in ctx.calendars.items():
        if name not in used_calendars:
            found.append(
                Diagnostic(
                    "RF105",
                    calendar.name.span,
                    f"calendar '{name}' is never used",
                    label=f"count a duration in it (`due 2d in {name}`) or remove it",
                )
            )
    used_consts: set[str] = set()
    for site in ctx.sites:
        own = site.scope.constant
        used_consts.update(
            node.name.text
            for node in walk(site.expr)
            if isinstance(node, n.ConstRef) and node.name.text != own
        )
    used_consts.update(s.ref.name.text for s in ctx.durations if isinstance(s.ref, n.ConstRef))
    for name, const in ctx.consts.items():
        if name not in used_consts:
            found.append(
                Diagnostic(
                    "RF105",
                    const.name.span,
                    f"constant '{name}' is never used",
                    label="use it or remove it",
                )
            )
    used_events = {t.event.text for t in wf.of(n.Trigger) if t.event is not None}
    used_events.update(m.event.text for m in wf.of(n.Measure))
    used_events.update(h.event.text for h in wf.global_handlers)
    used_actions: set[str] = set()
    for step in wf.steps:
        used_events.update(h.event.text for h in step.handlers)
        used_actions.update(do.action.text for do in step.statements(n.Do))
    for name, info in ctx.events.items():
        if info.decl is not None and name not in used_events:
            found.append(
                Diagnostic(
                    "RF105",
                    info.decl.name.span,
                    f"event '{name}' is declared but no trigger, handler or measure uses it",
                    label=f"handle it with `on {name} -> ...` or remove it",
                )
            )
    for name, action in ctx.actions.items():
        if name not in used_actions and name not in ENGINE_ACTIONS:  # those are RF102
            found.append(
                Diagnostic(
                    "RF105",
                    action.decl.name.span,
                    f"action '{name}' is declared but no step does it",
                    label=f"use it with `do {name}(...)` or remove it",
                )
            )
    return found
