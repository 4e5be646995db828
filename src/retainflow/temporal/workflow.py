"""The case workflow: one Temporal workflow per (retainflow workflow, case id).

Input: a `StartInput` (the case id, the pinned workflow sources, options, and after a
continue-as-new the carried state), then `CaseInput`s as updates (`input`, answered with
what the input did) or signals (`input_signal`, fire and forget). Output: the same case
state, records and actions as the embedded engine: the workflow holds a `CaseEngine`
over a `CaseStore` and feeds it every input, so validation, deduplication, time checks,
timers-before-inputs and the pure core (`retainflow.runtime.core.apply`) are the
embedded engine's own code, replayed by Temporal from the inputs in the history.

- Timers: the earliest pending engine timer is one Temporal timer; when it fires the
  engine advances to exactly that timer's time (so a late wake-up never fires later
  timers early), and the next one is set.
- Host actions: dispatched in order, as `retainflow.action` activities with the key
  `WORKFLOW_ID/RUN/INSTANCE/N` (RUN: the case workflow's first run id).
- The ledger: when an input read a client's grants or made grants, the
  `retainflow.ledger_sync` activity checks the versions read and appends the grants;
  when another case of the client committed first, the input is undone and run again on
  the current grants (see `retainflow.temporal.ledger`).
- Queries: `records` (run-results lines), `instance` (the latest instance's line),
  `status`, `history`.
- Continue-as-new after `max_inputs_per_run` inputs or when Temporal suggests it,
  carrying the case state, clock, timers and counters.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
from collections.abc import Callable
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from retainflow.api import CompileError, EventRejected, UnknownCase
    from retainflow.engine import Result
    from retainflow.stores.base import WorkflowSource
    from retainflow.temporal.ledger import grant_to_wire
    from retainflow.temporal.messages import (
        ACTION_ACTIVITY,
        LEDGER_ACTIVITY,
        WORKFLOW_TYPE,
        ActionRequest,
        CaseInput,
        LedgerReply,
        LedgerRequest,
        SourceInfo,
        StartInput,
    )
    from retainflow.temporal.store import CaseEngine, CaseStore, PinnedSourceError, compiled
    from retainflow.values import format_time, to_json_value

__all__ = ["CaseWorkflow"]

_MAX_LEDGER_ATTEMPTS = 20
_KEPT_REJECTIONS = 50
_ERRORS = (EventRejected, UnknownCase, ValueError, KeyError, CompileError, PinnedSourceError)


def _error(exc: BaseException) -> ApplicationError:
    name = type(exc).__name__
    if isinstance(exc, EventRejected):
        name = "EventRejected"
    elif isinstance(exc, UnknownCase):
        name = "UnknownCase"
    message = str(exc) if not isinstance(exc, KeyError) or not exc.args else str(exc.args[0])
    if isinstance(exc, UnknownCase):
        message = str(exc)
    return ApplicationError(message, type=name, non_retryable=True)


@workflow.defn(name=WORKFLOW_TYPE)
class CaseWorkflow:
    @workflow.init
    def __init__(self, start: StartInput) -> None:
        self.case_id = start.case_id
        self.name = start.workflow
        self.options = start.options
        self.offset = dt.timedelta(microseconds=start.options.clock_offset_us)
        self.sources: list[SourceInfo] = list(start.sources)
        self.store = CaseStore()
        self.lock = asyncio.Lock()
        self.wake = False
        self.outbox: collections.deque[ActionRequest] = collections.deque()
        self.sending = False
        self.failed_actions: list[dict[str, Any]] = []
        self.rejections: list[dict[str, Any]] = []
        self.inputs = 0  # engine calls over the case's life
        self.run_inputs = 0  # engine calls in this run
        self.commits = 0  # ledger commits attempted (their idempotency keys)
        self.sent: dict[str, int] = {}  # "INSTANCE" -> actions dispatched
        self.fatal: str | None = None
        carried = start.carried or {}
        # The case workflow's first run id, kept across continue-as-new: in the keys of
        # actions and ledger commits, so a case started afresh (after its workflow was
        # terminated) never reuses the keys of the one before.
        self.lineage = str(carried.get("lineage") or workflow.info().run_id)
        if carried:
            self.store.take(carried.get("store", {}))
            self.inputs = int(carried.get("inputs", 0))
            self.commits = int(carried.get("commits", 0))
            self.sent = {str(k): int(v) for k, v in carried.get("sent", {}).items()}
            self.failed_actions = list(carried.get("failed_actions", []))
            self.rejections = list(carried.get("rejections", []))
        try:
            for info in self.sources:
                if info.name != self.name:
                    raise ValueError(f"source of {info.name} given to a {self.name} case")
                self.store.save_workflow(_stored(info))
            self.engine = self._engine(self.sources[-1])
        except (*_ERRORS, IndexError) as exc:
            self.fatal = f"cannot load the pinned workflow: {exc}"
            self.engine = None

    def _engine(self, info: SourceInfo) -> CaseEngine | None:
        with _unrestricted():
            return CaseEngine([compiled(info)], store=self.store)

    # ---- the main loop -------------------------------------------------------------

    @workflow.run
    async def run(self, start: StartInput) -> list[dict[str, Any]]:
        if self.fatal is not None:
            raise ApplicationError(self.fatal, type="PinnedSourceError", non_retryable=True)
        if self.options.dispatch_actions:
            asyncio.create_task(self._send_actions())  # noqa: RUF006 (lives with the run)
        while True:
            if self._should_continue():
                await workflow.wait_condition(
                    lambda: (
                        not self.lock.locked()
                        and not self.outbox
                        and not self.sending
                        and workflow.all_handlers_finished()
                    )
                )
                workflow.continue_as_new(self._carry(start))
            self.wake = False
            due = self.store.next_wakeup()
            if due is None:
                await workflow.wait_condition(lambda: self.wake or self._should_continue())
                continue
            delay = (due - self.offset - workflow.now()).total_seconds()
            if delay > 0:
                try:
                    await workflow.wait_condition(
                        lambda: self.wake or self._should_continue(), timeout=delay
                    )
                    continue
                except TimeoutError:
                    pass
            await self._timer(due)
            clock = self.store.clock
            if self.store.next_wakeup() == due and clock is not None and due <= clock:
                # The engine cannot fire a timer at or before its clock: never spin on it.
                workflow.logger.error("timer at %s is not after the clock %s", due, clock)
                self.wake = False
                await workflow.wait_condition(lambda: self.wake or self._should_continue())

    def _should_continue(self) -> bool:
        if self.run_inputs >= self.options.max_inputs_per_run:
            return True
        return bool(workflow.info().is_continue_as_new_suggested())

    def _carry(self, start: StartInput) -> StartInput:
        carried = {
            "lineage": self.lineage,
            "store": self.store.carry(),
            "inputs": self.inputs,
            "commits": self.commits,
            "sent": dict(self.sent),
            "failed_actions": self.failed_actions[-_KEPT_REJECTIONS:],
            "rejections": self.rejections[-_KEPT_REJECTIONS:],
        }
        return StartInput(self.case_id, self.name, list(self.sources), self.options, carried)

    async def _timer(self, due: dt.datetime) -> None:
        engine = self.engine
        assert engine is not None
        try:
            await self._call(lambda: engine.advance(due))
        except ApplicationError as error:  # only a contended ledger gets here
            workflow.logger.error("timer at %s not applied, retrying: %s", due, error)
            await asyncio.sleep(1)

    # ---- applying inputs ------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The case's clock: Temporal's deterministic time plus the clock offset."""
        return workflow.now() + self.offset

    def _op(self, inp: CaseInput) -> Callable[[], Result]:
        engine = self.engine
        if engine is None:
            raise ApplicationError(self.fatal or "no workflow", type="PinnedSourceError")
        at = _time(inp.at) if inp.at is not None else self.now()
        case_id = self.case_id
        if inp.kind == "submit":
            data = dict(inp.data or {})
            if str(data.get("id")) != case_id:
                raise ApplicationError(
                    f"case {data.get('id')}: submitted to the workflow of case {case_id}",
                    type="EventRejected",
                    non_retryable=True,
                )
            return lambda: engine.submit(data, at=at)
        if inp.kind == "event":
            event = dict(inp.data or {})
            for key in ("type", "id"):  # text, whatever scalar type a file gave them
                if event.get(key) is not None:
                    event[key] = str(event[key])
            return lambda: engine.handle(case_id, event, at=at)
        if inp.kind == "move":
            step = inp.step or ""
            return lambda: engine.move(case_id, step, reason=inp.reason, at=at)
        if inp.kind == "cancel":
            return lambda: engine.cancel(case_id, reason=inp.reason, at=at)
        raise ApplicationError(f"unknown input kind {inp.kind!r}", type="ValueError")

    async def _call(self, op: Callable[[], Result]) -> Result:
        """Run one engine call under the case lock; commit its ledger effects."""
        async with self.lock:
            for _ in range(_MAX_LEDGER_ATTEMPTS):
                snapshot = self.store.begin()
                try:
                    with _unrestricted():
                        result = op()
                except _ERRORS as exc:
                    self.store.restore(snapshot)
                    raise _error(exc) from None
                if self.store.needs_ledger and not await self._commit():
                    self.store.restore(snapshot)
                    continue
                break
            else:
                raise ApplicationError(
                    f"case {self.case_id}: the ledger stayed contended", type="LedgerContention"
                )
            self.inputs += 1
            self.run_inputs += 1
            self.wake = True
            self._queue_actions()
            return result

    async def _commit(self) -> bool:
        self.commits += 1
        request = LedgerRequest(
            key=f"{workflow.info().workflow_id}/{self.lineage}/{self.commits}",
            expected=self.store.expected(),
            grants=[grant_to_wire(g) for g in self.store.added],
        )
        timeout = dt.timedelta(milliseconds=self.options.ledger_timeout_ms)
        reply: LedgerReply
        if self.options.ledger_local:
            # In the worker's process, without a round trip through the server: the
            # ledger store is the host's anyway, and the commit key makes a re-run after
            # a crash apply once.
            reply = await workflow.execute_local_activity(
                LEDGER_ACTIVITY, request, result_type=LedgerReply, start_to_close_timeout=timeout
            )
        else:
            reply = await workflow.execute_activity(
                LEDGER_ACTIVITY, request, result_type=LedgerReply, start_to_close_timeout=timeout
            )
        self.store.learn(reply.ledgers)
        return reply.ok

    def _queue_actions(self) -> None:
        state = self.store.case
        flow = state.flows.get(self.name) if state is not None else None
        if flow is None:
            return
        for inst in flow.instances:
            key = str(inst.number)
            done = self.sent.get(key, 0)
            if done >= len(inst.actions):
                continue
            for n, action in enumerate(inst.actions[done:], start=done + 1):
                self.outbox.append(
                    ActionRequest(
                        key=f"{workflow.info().workflow_id}/{self.lineage}/{inst.number}/{n}",
                        case=self.case_id,
                        workflow=inst.workflow,
                        version=inst.version,
                        instance=inst.number,
                        step=action.step,
                        name=action.name,
                        args={k: to_json_value(v) for k, v in action.args.items()},
                        at=format_time(action.at),
                    )
                )
            self.sent[key] = len(inst.actions)
        if not self.options.dispatch_actions:
            self.outbox.clear()

    async def _send_actions(self) -> None:
        retry = RetryPolicy(maximum_attempts=self.options.action_max_attempts)
        timeout = dt.timedelta(milliseconds=self.options.action_timeout_ms)
        while True:
            await workflow.wait_condition(lambda: bool(self.outbox))
            request = self.outbox[0]
            self.sending = True
            try:
                await workflow.execute_activity(
                    ACTION_ACTIVITY, request, start_to_close_timeout=timeout, retry_policy=retry
                )
            except ActivityError as error:
                workflow.logger.error("action %s failed: %s", request.key, error)
                self.failed_actions.append(
                    {"key": request.key, "name": request.name, "error": str(error.cause or error)}
                )
            finally:
                self.outbox.popleft()
                self.sending = False

    # ---- handlers -------------------------------------------------------------------

    @workflow.update(name="input")
    async def apply_input(self, inp: CaseInput) -> dict[str, Any]:
        """Apply one input; the answer says what it did (actions, started, ignored)."""
        return _summary(await self._call(self._op(inp)))

    @workflow.signal(name="input_signal")
    async def signal_input(self, inp: CaseInput) -> None:
        """Apply one input without an answer; a rejection is kept for `status`."""
        try:
            await self._call(self._op(inp))
        except ApplicationError as error:
            self.rejections.append(
                {"kind": inp.kind, "at": inp.at, "type": error.type, "error": error.message}
            )
            del self.rejections[:-_KEPT_REJECTIONS]

    @workflow.update(name="upgrade")
    async def upgrade(self, info: SourceInfo) -> dict[str, Any]:
        """Run new instances of this case on another version; running ones keep theirs."""
        async with self.lock:
            if info.name != self.name:
                raise ApplicationError(
                    f"cannot upgrade a {self.name} case to {info.name}", type="ValueError"
                )
            try:
                engine = self._engine(info)
            except _ERRORS as exc:
                raise _error(exc) from None
            if all(s.content_hash != info.content_hash for s in self.sources):
                self.sources = [s for s in self.sources if s.version != info.version] + [info]
            self.store.save_workflow(_stored(info))
            self.engine = engine
            self.fatal = None
            return {"workflow": info.name, "version": info.version, "hash": info.content_hash}

    @workflow.query(name="records")
    def records(self) -> list[dict[str, Any]]:
        """The case's run-results lines (one per instance, or its not_triggered line)."""
        if self.engine is None or self.store.case is None:
            return []
        with _unrestricted():
            return self.engine.records(self.case_id)

    @workflow.query(name="instance")
    def instance(self) -> dict[str, Any] | None:
        """The latest instance's run-results line (None before any instance)."""
        if self.engine is None or self.store.case is None:
            return None
        with _unrestricted():
            view = self.engine.get(self.case_id)
            return None if view is None else view.to_json()

    @workflow.query(name="history")
    def history(self) -> list[dict[str, Any]]:
        if self.engine is None or self.store.case is None:
            return []
        return self.engine.history(self.case_id)

    @workflow.query(name="status")
    def status(self) -> dict[str, Any]:
        """Where the case is: its latest instance, what it waits for, counters."""
        view = None
        if self.engine is not None and self.store.case is not None:
            view = self.engine.get(self.case_id)
        due = self.store.next_wakeup()
        current = self.sources[-1] if self.sources else None
        return {
            "case": self.case_id,
            "workflow": self.name,
            "version": current.version if current else None,
            "content_hash": current.content_hash if current else None,
            "versions": [s.version for s in self.sources],
            "submitted": self.store.case is not None,
            "status": None if view is None else view.status,
            "instance": None if view is None else view.number,
            "instance_version": None if view is None else view.workflow.version,
            "step": None if view is None else view.step,
            "phase": None if view is None else view.phase,
            "timers": [] if view is None else [_json(t) for t in view.timers],
            "next_wakeup": None if due is None else format_time(due),
            "clock": None if self.store.clock is None else format_time(self.store.clock),
            "inputs": self.inputs,
            "run_inputs": self.run_inputs,
            "pending_actions": len(self.outbox),
            "failed_actions": list(self.failed_actions),
            "rejections": list(self.rejections),
            "error": self.fatal,
        }


def _unrestricted() -> contextlib.AbstractContextManager[None]:
    """The engine is deterministic (no clock, no I/O, no randomness), but its
    dependencies touch what the sandbox guards (the holidays package reads its
    translations through gettext and locale): run it without the sandbox's proxies."""
    return workflow.unsafe.sandbox_unrestricted()


def _stored(info: SourceInfo) -> WorkflowSource:
    return WorkflowSource(info.name, info.version, info.content_hash, info.source, info.path)


def _time(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApplicationError(
            f"expected a time like 2026-03-02T09:15:00+08:00, got {text!r}",
            type="ValueError",
            non_retryable=True,
        ) from None
    if value.utcoffset() is None:
        raise ApplicationError(
            f"at {text} is naive: give it a time zone", type="ValueError", non_retryable=True
        )
    return value


def _json(item: dict[str, Any]) -> dict[str, Any]:
    return {k: to_json_value(v) for k, v in item.items()}


def _summary(result: Result) -> dict[str, Any]:
    return {
        "actions": [
            {
                "at": format_time(a.at),
                "case": a.case,
                "workflow": a.workflow,
                "step": a.step,
                "name": a.name,
                "args": {k: to_json_value(v) for k, v in a.args.items()},
            }
            for a in result.actions
        ],
        "started": [
            {
                "case": s.case,
                "workflow": s.workflow,
                "instance": s.instance,
                "trigger": s.trigger,
                "at": format_time(s.at),
            }
            for s in result.started
        ],
        "ignored": [
            {"at": format_time(i.at), "type": i.type, "id": i.id, "reason": i.reason}
            for i in result.ignored
        ],
        "errors": list(result.errors),
    }
