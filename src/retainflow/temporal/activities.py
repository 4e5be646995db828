"""The activities of the Temporal runtime: the shared ledger and the host actions.

Input: `LedgerRequest`s and `ActionRequest`s from case workflows. Output: ledger
replies; calls to the handlers the service registers, one per action name:

    async def send_email(action: ActionRequest) -> None: ...
    activities = RetainflowActivities(SQLiteLedger("ledger.db"), {"send": send_email})

A handler may be sync (run in a thread) or async. An action with no handler goes to
`default` (if given), else it is logged and counts as done. A handler that raises is
retried by Temporal (up to the case's `action_max_attempts`): handlers must be
idempotent on `action.key`, which is the same on every attempt, replay and
continue-as-new.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from temporalio import activity

from retainflow.temporal.ledger import LedgerBackend, MemoryLedger
from retainflow.temporal.messages import (
    ACTION_ACTIVITY,
    LEDGER_ACTIVITY,
    ActionRequest,
    LedgerReply,
    LedgerRequest,
)

__all__ = ["ActionHandler", "RetainflowActivities"]

log = logging.getLogger("retainflow.temporal")

ActionHandler = Callable[[ActionRequest], Awaitable[Any] | Any]


class RetainflowActivities:
    """The activity implementations, bound to one ledger and one set of handlers."""

    def __init__(
        self,
        ledger: LedgerBackend | None = None,
        handlers: Mapping[str, ActionHandler] | None = None,
        default: ActionHandler | None = None,
    ) -> None:
        self.ledger: LedgerBackend = ledger if ledger is not None else MemoryLedger()
        self.handlers = dict(handlers or {})
        self.default = default

    @activity.defn(name=LEDGER_ACTIVITY)
    async def ledger_sync(self, request: LedgerRequest) -> LedgerReply:
        return await asyncio.to_thread(self.ledger.sync, request)

    @activity.defn(name=ACTION_ACTIVITY)
    async def action(self, request: ActionRequest) -> None:
        handler = self.handlers.get(request.name, self.default)
        if handler is None:
            log.info("action %s %s(%s): no handler", request.key, request.name, request.args)
            return
        if inspect.iscoroutinefunction(handler):
            await handler(request)
            return
        outcome = await asyncio.to_thread(handler, request)
        if inspect.isawaitable(outcome):
            await outcome

    @property
    def all(self) -> list[Callable[..., Any]]:
        """The activity callables, for `Worker(activities=...)`."""
        return [self.ledger_sync, self.action]
