"""Stores keep the engine's state: case states, timers, the ledger, the clock.

`MemoryStore` (the default) lives in the process; `SQLiteStore` keeps everything in one
SQLite file that several engines may share (docs/store.md). Both implement the `Store`
Protocol of `retainflow.stores.base`.
"""

from __future__ import annotations

from retainflow.stores.base import DueTimer, Store, StoreTransaction, WorkflowSource
from retainflow.stores.memory import MemoryStore
from retainflow.stores.sqlite import (
    SchemaVersionError,
    SQLiteStore,
    StoreBusy,
    StoreError,
    VersionConflict,
)

__all__ = [
    "DueTimer",
    "MemoryStore",
    "SQLiteStore",
    "SchemaVersionError",
    "Store",
    "StoreBusy",
    "StoreError",
    "StoreTransaction",
    "VersionConflict",
    "WorkflowSource",
]
