"""retainflow: client retention playbooks as code.

The public API: `load` a workflow, run it in an `Engine`, keep state in a store.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Imported on first use, so that `retainflow lint` does not load the engine.
_EXPORTS = {
    "load": "retainflow.api",
    "CompileError": "retainflow.api",
    "UnknownCase": "retainflow.api",
    "EventRejected": "retainflow.api",
    "Engine": "retainflow.engine",
    "Result": "retainflow.engine",
    "MemoryStore": "retainflow.stores.memory",
    "SQLiteStore": "retainflow.stores.sqlite",
    "StoreError": "retainflow.stores.sqlite",
    "VersionConflict": "retainflow.stores.sqlite",
    "Money": "retainflow.values",
}

if TYPE_CHECKING:
    from retainflow.api import CompileError, EventRejected, UnknownCase, load
    from retainflow.engine import Engine, Result
    from retainflow.stores.memory import MemoryStore
    from retainflow.stores.sqlite import SQLiteStore, StoreError, VersionConflict
    from retainflow.values import Money

__all__ = [
    "CompileError",
    "Engine",
    "EventRejected",
    "MemoryStore",
    "Money",
    "Result",
    "SQLiteStore",
    "StoreError",
    "UnknownCase",
    "VersionConflict",
    "__version__",
    "load",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'retainflow' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
