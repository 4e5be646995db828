"""A durable store as a report's input: a SQLite store in, run records and workflows out.

Every instance of every case in the store becomes the same `RunRecord` a `run --format
jsonl` line gives (through the engine's own record builder), and the store's workflow
sources give the titles, outcome kinds and SLA calendars, so `report --store FILE` needs
no `--workflow`.
"""

from __future__ import annotations

from pathlib import Path

from retainflow.report.records import RunRecord, parse_record
from retainflow.report.workflows import WorkflowInfo, workflow_info_text


class StoreInputError(Exception):
    """The store cannot be read (missing, not a retainflow store, newer schema)."""


def read_store(path: str | Path) -> tuple[list[RunRecord], list[WorkflowInfo]]:
    from retainflow.stores.sqlite import SQLiteStore, StoreError, open_engine

    if not Path(path).is_file():
        raise StoreInputError(f"{path}: no such store file")
    try:
        store = SQLiteStore(str(path))
    except (StoreError, OSError) as error:
        raise StoreInputError(f"{path}: {error}") from None
    engine = open_engine(store)
    records: list[RunRecord] = []
    line = 0
    for case_id, _rows in store.cases_with_instances():
        for record in engine.records(case_id):
            line += 1
            records.append(parse_record(record, str(path), line))
    infos = [
        workflow_info_text(source.source, source.path or f"{source.name}.rflow")
        for source in store.workflow_sources()
    ]
    return records, infos
