"""The service's side of the Temporal runtime: submit cases, send events, read records.

    client = await RetainflowClient.connect("127.0.0.1:7233", [workflow], task_queue="rf")
    await client.submit({"id": "C-1001", "client": "acme", ...}, at=at)
    await client.handle("C-1001", {"type": "call_logged", "id": "ev-1"}, at=later)
    await client.get("C-1001")       # the latest instance's run-results line
    await client.records("C-1001")   # every line of the case, like `retainflow run`

Input: case data and events as the embedded `Engine` takes them (money "120000 USD",
times with an offset, YAML `Plain` scalars). Output: what each input did (`actions`,
`started`, `ignored`, `errors`, as JSON), records as queries answer them, and the
engine's errors: `retainflow.EventRejected` (bad data, an input older than the case's
last applied time; nothing changed), `retainflow.UnknownCase`, `ValueError`.

Each (retainflow workflow, case id) is one Temporal workflow whose id is
`PREFIX:WORKFLOW:CASE`; a submission starts it (or reaches the running one: a
re-submission), so Temporal's id policies keep one per case. Case data is validated
here before any workflow starts, and again inside with the pinned version. Timers are
Temporal's: there is no `advance`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import temporalio.client
import temporalio.common
import temporalio.exceptions
import temporalio.service

from retainflow.api import EventRejected, UnknownCase
from retainflow.compile import Workflow
from retainflow.ledger import Grant
from retainflow.runtime.data import DataError, case_id_of, validate_case
from retainflow.temporal.converter import DATA_CONVERTER, RetainflowPayloadConverter
from retainflow.temporal.ledger import LedgerBackend
from retainflow.temporal.messages import WORKFLOW_TYPE, CaseInput, RunOptions, StartInput
from retainflow.temporal.store import source_info

__all__ = ["RetainflowClient", "TemporalRuntime", "connect", "with_converter", "workflow_id"]


async def connect(
    address: str, namespace: str = "default", **kwargs: Any
) -> temporalio.client.Client:
    """A Temporal client that speaks retainflow's wire form."""
    kwargs.setdefault("data_converter", DATA_CONVERTER)
    return await temporalio.client.Client.connect(address, namespace=namespace, **kwargs)


def with_converter(client: temporalio.client.Client) -> temporalio.client.Client:
    """`client`, or a client on the same connection with retainflow's data converter."""
    if client.data_converter.payload_converter_class is RetainflowPayloadConverter:
        return client
    return temporalio.client.Client(
        client.service_client, namespace=client.namespace, data_converter=DATA_CONVERTER
    )


def workflow_id(workflow: str, case_id: str, prefix: str = "retainflow") -> str:
    return f"{prefix}:{workflow}:{case_id}"


def _at(at: dt.datetime | str | None) -> str | None:
    if at is None:
        return None
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
    if at.utcoffset() is None:
        raise ValueError(f"at {at.isoformat()} is naive: give it a time zone")
    return at.isoformat()


def _raise(error: BaseException) -> None:
    """Turn a failed update's cause back into the engine's exception."""
    cause = error
    while isinstance(cause, temporalio.client.WorkflowUpdateFailedError):
        cause = cause.cause
    if isinstance(cause, temporalio.exceptions.ApplicationError):
        if cause.type == "EventRejected":
            raise EventRejected(cause.message) from None
        if cause.type == "UnknownCase":
            raise UnknownCase(cause.message.removeprefix("unknown case ").strip("'")) from None
        raise ValueError(cause.message) from None
    raise error


class RetainflowClient:
    """Cases of one or more retainflow workflows, each case workflow on `task_queue`.

    `options` are fixed per case when its workflow starts. `id_reuse_policy`: a case
    workflow never completes by itself, so the id is taken while the case lives; the
    default lets a submission start the case afresh only after its workflow failed or
    was terminated by an operator (its state is then lost: the new run starts empty).
    """

    def __init__(
        self,
        client: temporalio.client.Client,
        workflows: Iterable[Workflow],
        task_queue: str = "retainflow",
        *,
        id_prefix: str = "retainflow",
        options: RunOptions | None = None,
        id_reuse_policy: temporalio.common.WorkflowIDReusePolicy = (
            temporalio.common.WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
        ),
    ) -> None:
        self.client = with_converter(client)
        self.workflows: tuple[Workflow, ...] = tuple(workflows)
        names = [wf.name for wf in self.workflows]
        if not names or len(set(names)) != len(names):
            raise ValueError("a client runs one version of each workflow, at least one")
        self.task_queue = task_queue
        self.id_prefix = id_prefix
        self.options = options or RunOptions()
        self.id_reuse_policy = id_reuse_policy

    @classmethod
    async def connect(
        cls,
        address: str,
        workflows: Iterable[Workflow],
        task_queue: str = "retainflow",
        *,
        namespace: str = "default",
        **kwargs: Any,
    ) -> RetainflowClient:
        return cls(await connect(address, namespace), workflows, task_queue, **kwargs)

    # ---- plumbing -----------------------------------------------------------------

    def workflow_id(self, workflow: str, case_id: str) -> str:
        return workflow_id(workflow, case_id, self.id_prefix)

    def _chosen(self, workflow: str | None) -> tuple[Workflow, ...]:
        if workflow is None:
            return self.workflows
        found = tuple(wf for wf in self.workflows if wf.name == workflow)
        if not found:
            raise KeyError(f"no workflow {workflow!r} in this client")
        return found

    def handle_of(self, workflow: str, case_id: str) -> temporalio.client.WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(self.workflow_id(workflow, case_id))

    async def _update(
        self,
        wf: Workflow,
        case_id: str,
        inp: CaseInput,
        update_id: str | None,
    ) -> dict[str, Any]:
        return await self._call(wf.name, case_id, "input", inp, update_id)

    async def _call(
        self, workflow: str, case_id: str, update: str, arg: Any, update_id: str | None
    ) -> dict[str, Any]:
        """Run update `update` of the case's workflow; Temporal's errors as ours."""
        handle = self.handle_of(workflow, case_id)
        try:
            result: dict[str, Any] = await handle.execute_update(
                update, arg, id=update_id, result_type=dict
            )
        except temporalio.client.WorkflowUpdateFailedError as error:
            _raise(error)
            raise
        except temporalio.service.RPCError as error:
            if error.status == temporalio.service.RPCStatusCode.NOT_FOUND:
                raise UnknownCase(case_id) from None
            raise
        return result

    @staticmethod
    def _merge(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
        if len(parts) == 1:
            return parts[0]
        merged: dict[str, Any] = {"actions": [], "started": [], "ignored": [], "errors": []}
        for part in parts:
            for key in merged:
                merged[key].extend(part.get(key, []))
        merged["actions"].sort(key=lambda a: a["at"])
        return merged

    # ---- inputs -------------------------------------------------------------------

    async def submit(
        self, case_data: Mapping[str, Any], at: dt.datetime | str | None = None
    ) -> dict[str, Any]:
        """Submit (or re-submit) a case: starts its case workflows, applies the data."""
        when = _at(at if at is not None else case_data.get("at"))
        try:
            case_id = case_id_of(case_data)
            validate_case(self.workflows, case_data)
        except DataError as error:
            raise EventRejected(f"case {case_data.get('id', '?')}: {error}") from None
        parts = []
        for wf in self.workflows:
            data = dict(case_data)
            data.pop("at", None)
            if len(self.workflows) > 1:  # each workflow validates against its own schema
                data = {k: v for k, v in data.items() if k == "id" or k in wf.case_fields}
            await self._start(wf, case_id)
            inp = CaseInput("submit", when, data)
            update_id = None if when is None else f"submit@{when}"
            parts.append(await self._update(wf, case_id, inp, update_id))
        return self._merge(parts)

    async def _start(self, wf: Workflow, case_id: str) -> None:
        start = StartInput(case_id, wf.name, [source_info(wf)], self.options)
        # Already started: a re-submission, which the running case workflow takes.
        with contextlib.suppress(temporalio.exceptions.WorkflowAlreadyStartedError):
            await self.client.start_workflow(
                WORKFLOW_TYPE,
                start,
                id=self.workflow_id(wf.name, case_id),
                task_queue=self.task_queue,
                id_reuse_policy=self.id_reuse_policy,
            )

    async def handle(
        self,
        case_id: str,
        event: Mapping[str, Any],
        at: dt.datetime | str | None = None,
        *,
        workflow: str | None = None,
        update_id: str | None = None,
    ) -> dict[str, Any]:
        """Deliver an event (`{"type": ..., "id": ..., **payload}`) and wait for its effect.

        The update id is the event's `id` (with its time, when `at` is given), so a
        retried call is absorbed by Temporal and answered with the first result; a
        re-send with another time reaches the engine, which ignores it as `duplicate`.
        """
        when = _at(at if at is not None else event.get("at"))
        data = {k: v for k, v in event.items() if k != "at"}
        if update_id is None and event.get("id") is not None:
            update_id = f"event:{event['id']}" + ("" if when is None else f"@{when}")
        parts = []
        unknown = 0
        chosen = self._chosen(workflow)
        for wf in chosen:
            payload = data
            if data.get("type") == "case_updated" and len(self.workflows) > 1:
                keep = ("type", "id", *wf.case_fields)
                payload = {k: v for k, v in data.items() if k in keep}
            try:
                parts.append(
                    await self._update(wf, case_id, CaseInput("event", when, payload), update_id)
                )
            except UnknownCase:
                unknown += 1
        if unknown == len(chosen):
            raise UnknownCase(case_id)
        return self._merge(parts)

    async def signal(
        self,
        case_id: str,
        event: Mapping[str, Any],
        at: dt.datetime | str | None = None,
        *,
        workflow: str | None = None,
    ) -> None:
        """Deliver an event as a signal: no answer; a rejection shows in `status`."""
        when = _at(at if at is not None else event.get("at"))
        data = {k: v for k, v in event.items() if k != "at"}
        for wf in self._chosen(workflow):
            try:
                await self.handle_of(wf.name, case_id).signal(
                    "input_signal", CaseInput("event", when, data)
                )
            except temporalio.service.RPCError as error:
                if error.status == temporalio.service.RPCStatusCode.NOT_FOUND:
                    raise UnknownCase(case_id) from None
                raise

    async def move(
        self,
        case_id: str,
        step: str,
        reason: str | None = None,
        at: dt.datetime | str | None = None,
        *,
        workflow: str | None = None,
    ) -> dict[str, Any]:
        """Operator: make the case's active instance enter `step`."""
        inp = CaseInput("move", _at(at), step=step, reason=reason)
        return self._merge(
            [await self._update(wf, case_id, inp, None) for wf in self._chosen(workflow)]
        )

    async def cancel(
        self,
        case_id: str,
        reason: str | None = None,
        at: dt.datetime | str | None = None,
        *,
        workflow: str | None = None,
    ) -> dict[str, Any]:
        """Operator: end the case's active instance(s) as `cancelled`."""
        inp = CaseInput("cancel", _at(at), reason=reason)
        return self._merge(
            [await self._update(wf, case_id, inp, None) for wf in self._chosen(workflow)]
        )

    async def upgrade(self, case_id: str, workflow: Workflow) -> dict[str, Any]:
        """Make new instances of a running case start on `workflow` (a newer version).

        Instances already running keep the version they started on.
        """
        return await self._call(workflow.name, case_id, "upgrade", source_info(workflow), None)

    # ---- reading ------------------------------------------------------------------

    async def _query(self, wf: str, case_id: str, name: str) -> Any:
        try:
            return await self.handle_of(wf, case_id).query(name)
        except temporalio.service.RPCError as error:
            if error.status == temporalio.service.RPCStatusCode.NOT_FOUND:
                raise UnknownCase(case_id) from None
            raise

    async def records(self, case_id: str, workflow: str | None = None) -> list[dict[str, Any]]:
        """The case's run-results lines, for every workflow of the client, in client order."""
        out: list[dict[str, Any]] = []
        for wf in self._chosen(workflow):
            out.extend(await self._query(wf.name, case_id, "records"))
        return out

    async def get(self, case_id: str, workflow: str | None = None) -> dict[str, Any] | None:
        """The run-results line of the case's most recently started instance (or None)."""
        best: dict[str, Any] | None = None
        for wf in self._chosen(workflow):
            line = await self._query(wf.name, case_id, "instance")
            if line is not None and (best is None or line["started_at"] > best["started_at"]):
                best = line
        return best

    async def status(self, case_id: str, workflow: str | None = None) -> dict[str, Any]:
        """The case workflow's status (one workflow: its own; several: by name)."""
        chosen = self._chosen(workflow)
        found = {wf.name: await self._query(wf.name, case_id, "status") for wf in chosen}
        return found[chosen[0].name] if len(chosen) == 1 else found

    async def history(self, case_id: str, workflow: str | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for wf in self._chosen(workflow):
            out.extend(await self._query(wf.name, case_id, "history"))
        return out


class TemporalRuntime(RetainflowClient):
    """`Engine`'s calls on Temporal, with the signature of issue #8:
    `TemporalRuntime(client, task_queue, workflows, ledger=...)`, then `await submit`,
    `handle`, `get`, `ledger` (and every other `RetainflowClient` call).

    The ledger lives in the workers (their `LedgerBackend`: `SQLiteLedger` on a file all
    worker processes share); `ledger(client)` reads the same backend, so give the runtime
    the one the workers use. Without it, `ledger` says so instead of guessing.
    """

    def __init__(
        self,
        client: temporalio.client.Client,
        task_queue: str,
        workflows: Iterable[Workflow],
        *,
        ledger: LedgerBackend | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(client, workflows, task_queue, **kwargs)
        self._ledger = ledger

    async def ledger(
        self, client: str, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[Grant]:
        """The client's grants (every case and workflow), oldest first; with `since` and
        `until`, those granted in that window (`since` <= at < `until`), as `Engine`'s."""
        from retainflow.engine import grants_in_window

        if self._ledger is None:
            raise ValueError(
                "TemporalRuntime.ledger reads the workers' ledger: create the runtime with "
                "ledger=SQLiteLedger(PATH), the file the workers use (--ledger PATH)"
            )
        return grants_in_window(self._ledger.grants(client), since, until)
