"""Stores keep the engine's state: case states, timers, the ledger, the clock.

`MemoryStore` (the default) lives in the process; a persistent store implements the
same `Store` Protocol of `retainflow.stores.base`.
"""

from __future__ import annotations

from retainflow.stores.base import DueTimer, Store, StoreTransaction, WorkflowSource
from retainflow.stores.memory import MemoryStore

__all__ = ["DueTimer", "MemoryStore", "Store", "StoreTransaction", "WorkflowSource"]
