"""SQLite lock contention: an action retried, with backoff, while another connection holds
the database lock.

Input: a callable doing one SQLite operation, and how long to keep trying. Output: its
result, or the last `sqlite3.OperationalError` once the time is up. SQLite's busy timeout
does not cover every case: changing the journal mode (`PRAGMA journal_mode = WAL`) while
another connection opens the file, for one, fails at once with "database is locked". The
SQLite store and the Temporal runtime's SQLite ledger both open files other processes
use, so both go through here.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["is_busy", "retry_while_busy"]

_T = TypeVar("_T")


def is_busy(error: sqlite3.OperationalError) -> bool:
    """Whether the error is another connection holding the lock (SQLITE_BUSY/LOCKED)."""
    text = str(error)
    return "locked" in text or "busy" in text


def retry_while_busy(
    action: Callable[[], _T], seconds: float, on_retry: Callable[[], None] | None = None
) -> _T:
    """`action()`, retried while the database is busy, for up to `seconds`; `on_retry` is
    called before each retry (for statistics)."""
    deadline = time.monotonic() + seconds
    pause = 0.001
    while True:
        try:
            return action()
        except sqlite3.OperationalError as error:
            if not is_busy(error) or time.monotonic() >= deadline:
                raise
            if on_retry is not None:
                on_retry()
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
