"""Versions in flight: an instance ends on the version (name, version, content hash) it
started with; new instances take the newest; a changed text under an unchanged version
number is refused while the store holds instances of the old text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from test_engine_support import at, flow, record

import retainflow
from retainflow import Engine, MemoryStore, SQLiteStore, VersionConflict
from retainflow.stores.base import Store

V1 = """
case { client: text }
trigger t on open
start a
step a {
  do hello(v: 1)
  due 1h
  on go -> old_end
  on timeout -> old_late
}
outcome old_end as retained
outcome old_late as churned
"""

V2 = """
case { client: text }
trigger t on open
start a
step a {
  do hello(v: 2)
  due 2h
  on go -> new_end
  on timeout -> new_late
}
outcome new_end as retained
outcome new_late as churned
"""

StoreFactory = Callable[[], Store]


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """A factory of store objects on one state: the same MemoryStore, or new SQLiteStore
    objects on one file (as a restarted service would open it)."""
    if request.param == "memory":
        shared = MemoryStore()
        return lambda: shared
    return lambda: SQLiteStore(tmp_path / "store.db", synchronous="NORMAL")


def test_an_instance_ends_on_its_version_when_the_engine_has_only_the_newer(
    make_store: StoreFactory,
) -> None:
    v1, v2 = flow(V1, version=1), flow(V2, version=2)
    first = Engine([v1], store=make_store())
    first.submit({"id": "C", "client": "x"}, at=at())
    first.handle("C", {"type": "open", "id": "o1"}, at=at())
    later = Engine([v2], store=make_store())  # a new deployment: v2 only
    pinned = later.get("C")
    assert pinned is not None and pinned.workflow.version == 1
    assert pinned.workflow.content_hash == v1.content_hash
    # v1's timer (due 1h) fires with v1's meaning
    later.advance(at(1))
    rec = record(later, "C")
    assert (rec["version"], rec["outcome"]) == (1, "old_late")
    # the next instance takes v2
    result = later.handle("C", {"type": "open", "id": "o2"}, at=at(2))
    assert [a.args for a in result.actions] == [{"v": 2}]
    later.handle("C", {"type": "go", "id": "g2"}, at=at(3))
    assert [(r["version"], r["outcome"]) for r in later.records("C")] == [
        (1, "old_late"),
        (2, "new_end"),
    ]


def test_an_engine_given_several_versions_starts_new_instances_on_the_newest(
    make_store: StoreFactory,
) -> None:
    v1, v2 = flow(V1, version=1), flow(V2, version=2)
    Engine([v1], store=make_store()).submit({"id": "A", "client": "x"}, at=at())
    Engine([v1], store=make_store()).handle("A", {"type": "open", "id": "a"}, at=at())
    engine = Engine([v2, v1], store=make_store())  # order does not matter
    assert [wf.version for wf in engine.workflows] == [2]
    engine.submit({"id": "B", "client": "y"}, at=at())
    engine.handle("B", {"type": "open", "id": "b"}, at=at())
    engine.handle("A", {"type": "go", "id": "ga"}, at=at(0.5))
    engine.handle("B", {"type": "go", "id": "gb"}, at=at(0.5))
    assert (record(engine, "A")["version"], record(engine, "A")["outcome"]) == (1, "old_end")
    assert (record(engine, "B")["version"], record(engine, "B")["outcome"]) == (2, "new_end")


def test_one_version_given_twice_with_two_texts_is_refused() -> None:
    with pytest.raises(ValueError, match="version 1 is given twice with different texts"):
        Engine([flow(V1, version=1), flow(V2, version=1)])
    with pytest.raises(ValueError, match="version 1 is given twice"):
        Engine([flow(V1, version=1), flow(V2, version=2), flow(V2, version=1)])
    Engine([flow(V1, version=1), flow(V1, version=1)])  # the same text twice is fine


def test_a_changed_text_under_the_same_version_is_refused_while_instances_exist(
    tmp_path: Path,
) -> None:
    db = tmp_path / "store.db"
    old, changed = flow(V1, version=1), flow(V2, version=1)
    engine = Engine([old], store=SQLiteStore(db))
    engine.submit({"id": "C", "client": "x"}, at=at())
    engine.handle("C", {"type": "open", "id": "o"}, at=at())
    with pytest.raises(VersionConflict) as caught:
        Engine([changed], store=SQLiteStore(db))
    message = str(caught.value)
    assert "workflow w version 1" in message
    assert "holds 1 instance started on another text" in message
    assert "bump 'version 1' to 'version 2'" in message
    assert isinstance(caught.value, ValueError)
    # nothing changed: the old text is still the one kept, and the instance runs on it
    store = SQLiteStore(db)
    source = store.workflow_source("w", 1)
    assert source is not None and source.content_hash == old.content_hash
    # the number it suggests is one the store does not hold yet
    Engine([old, flow(V2, version=2)], store=SQLiteStore(db))
    with pytest.raises(VersionConflict, match="bump 'version 1' to 'version 3'"):
        Engine([changed], store=SQLiteStore(db))
    again = Engine([old], store=store)
    again.handle("C", {"type": "go", "id": "g"}, at=at(0.5))
    assert record(again, "C")["outcome"] == "old_end"
    # even after the instance ended: its record needs the old text
    with pytest.raises(VersionConflict):
        Engine([changed], store=SQLiteStore(db))
    # a new version number is the way
    bumped = flow(V2, version=2)
    Engine([bumped], store=SQLiteStore(db))
    assert [(s.version, s.content_hash) for s in store.workflow_sources()] == [
        (1, old.content_hash),
        (2, bumped.content_hash),
    ]


def test_a_changed_text_replaces_the_stored_one_when_no_instance_used_it(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    old, changed = flow(V1, version=1), flow(V2, version=1)
    engine = Engine([old], store=SQLiteStore(db))
    engine.submit({"id": "C", "client": "x"}, at=at())  # a case, but no instance
    Engine([changed], store=SQLiteStore(db))
    source = SQLiteStore(db).workflow_source("w", 1)
    assert source is not None and source.content_hash == changed.content_hash


def test_the_store_keeps_the_source_and_the_instance_row_names_its_version(
    tmp_path: Path,
) -> None:
    db = tmp_path / "store.db"
    v1 = retainflow.load(Path(__file__).resolve().parents[2] / "workflows" / "sla_recovery.rflow")
    store = SQLiteStore(db)
    Engine([v1], store=store)
    source = store.workflow_source(v1.name, v1.version)
    assert source is not None
    assert (source.source, source.content_hash, source.path) == (
        v1.source,
        v1.content_hash,
        v1.path,
    )
    recompiled = Engine([], store=store).workflow(v1.name, v1.version)
    assert recompiled.content_hash == v1.content_hash and recompiled is not v1


def test_instance_rows_carry_the_version(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    v1, v2 = flow(V1, version=1), flow(V2, version=2)
    store = SQLiteStore(db)
    Engine([v1], store=store).submit({"id": "A", "client": "x"}, at=at())
    Engine([v1], store=store).handle("A", {"type": "open", "id": "a"}, at=at())
    engine = Engine([v2], store=store)
    engine.submit({"id": "B", "client": "x"}, at=at())
    engine.handle("B", {"type": "open", "id": "b"}, at=at())
    assert [(r.case, r.version) for r in store.instances()] == [("A", 1), ("B", 2)]
