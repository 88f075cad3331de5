"""Upgrades without loss: a database made by motcua 0.1.0 (tests/fixtures, made by
make_release_db.py and never rewritten) opens in this release, is migrated in one
transaction after a copy is taken, and the day goes on with the same queue, numbering and
order. An older motcua refuses a newer database."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from dispatcher import store as store_module
from dispatcher.store import SCHEMA_VERSION, Store, StoreError
from motcua import config
from motcua.clock import ManualClock
from tests.conftest import ROOT, at, write_office
from tests.dispatcher.local import LocalDispatcher

RELEASE_0_1_0 = ROOT / "tests" / "fixtures" / "release-0.1.0.sqlite3"
# What 0.1.0 had at 09:40, read from the fixture once with that release.
WAITING = {"A": ["A005"], "B": ["B003", "B004"]}
SERVING = {"1": "A004", "2": "A003", "3": "B002"}


@pytest.fixture
def old_office(tmp_path: Path) -> config.OfficeConfig:
    db = tmp_path / "office.sqlite3"
    shutil.copy(RELEASE_0_1_0, db)
    return dataclasses.replace(config.load(write_office(tmp_path)), storage=db)


def test_the_release_database_is_migrated_after_a_copy_and_the_day_goes_on(
        old_office: config.OfficeConfig) -> None:
    desk = LocalDispatcher(old_office, ManualClock(at("09:45")))
    try:
        store = desk.d.store
        assert store.migrated_from == 1 and store.version() == SCHEMA_VERSION
        copies = list(old_office.storage.parent.glob("office.sqlite3.v1-*.bak"))
        assert len(copies) == 1
        with sqlite3.connect(copies[0]) as c:  # the copy is 0.1.0's database, untouched
            assert c.execute("PRAGMA user_version").fetchone() == (0,)
            assert c.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == ("1",)
            assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        state = json.loads(desk.d.state(force=True)[2].payload)  # state/order
        queues = {code: [q["ticket"] for q in items] for code, items in state["queues"].items()}
        assert {k: v for k, v in queues.items() if v} == WAITING
        assert {cid: c["current"] for cid, c in state["counters"].items()} == SERVING
        assert state["counters"]["3"]["status"] == "paused"
        # Numbering goes on where 0.1.0 left it, bookings and the no-repeat rule too.
        assert desk.ok("kiosk", "k1", "walk_in", service="A")["ticket"]["number"] == "A006"
        assert desk.ok("kiosk", "k1", "walk_in", service="B")["ticket"]["number"] == "B005"
        assert desk.ok("counter", "1", "next")["ticket"]["number"] == "B003"  # entry order
        assert desk.error("admin", "cli", "booking_add", booking={
            "id": "BK-2026-000202", "service": "A", "start": at("15:00").isoformat()}) \
            == "booking_exists"  # cancelled in 0.1.0: its id stays taken
        desk.restart()  # and the migrated database opens as it is
        assert desk.d.store.migrated_from is None
        assert desk.ok("kiosk", "k2", "walk_in", service="A")["ticket"]["number"] == "A007"
    finally:
        desk.close()
    assert len(list(old_office.storage.parent.glob("office.sqlite3.v1-*.bak"))) == 1


def test_an_older_motcua_refuses_a_newer_database(tmp_path: Path) -> None:
    db = tmp_path / "office.sqlite3"
    Store(db).close()
    with sqlite3.connect(db) as c:
        c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError) as refused:
        Store(db)
    assert f"schema {SCHEMA_VERSION + 1}" in refused.value.message_en
    assert "phiên bản motcua mới hơn" in refused.value.message
    with sqlite3.connect(db) as c:  # nothing was written
        assert c.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION + 1,)


def test_a_failing_migration_changes_nothing(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "office.sqlite3"
    shutil.copy(RELEASE_0_1_0, db)
    broken = [*store_module.MIGRATIONS,
              (SCHEMA_VERSION + 1, "a broken one", ("DELETE FROM tickets",
                                                    "ALTER TABLE nowhere ADD x TEXT"))]
    monkeypatch.setattr(store_module, "MIGRATIONS", broken)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(StoreError) as failed:
        Store(db)
    assert "Nothing was changed" in failed.value.message_en
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA user_version").fetchone() == (0,)
        assert c.execute("SELECT count(*) FROM tickets").fetchone() == (10,)
        assert c.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == ("1",)


def test_a_ticket_body_with_fields_this_release_does_not_know_still_loads(
        old_office: config.OfficeConfig, caplog: pytest.LogCaptureFixture) -> None:
    with sqlite3.connect(old_office.storage) as c:
        (body,) = c.execute("SELECT body FROM tickets WHERE number='A005'").fetchone()
        newer = {**json.loads(body), "colour": "red", "zodiac": "horse"}
        c.execute("UPDATE tickets SET body=? WHERE number='A005'", (json.dumps(newer),))
    desk = LocalDispatcher(old_office, ManualClock(at("09:45")))
    try:
        assert desk.d.hall.tickets["A005"].status.value == "waiting"
        assert "colour, zodiac" in caplog.text
    finally:
        desk.close()


def test_a_database_of_another_office_is_refused(old_office: config.OfficeConfig) -> None:
    LocalDispatcher(old_office, ManualClock(at("09:45"))).close()  # now marked "demo"
    other = dataclasses.replace(old_office, id="other")
    with pytest.raises(StoreError) as refused:
        LocalDispatcher(other, ManualClock(at("09:45")))
    assert "belongs to office demo, not other" in refused.value.message_en
