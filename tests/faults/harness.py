"""The dispatcher in process for fault tests: send commands as devices do, and check that
what it holds in memory is exactly what its database holds (no partial state)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.dispatcher.local import LocalDispatcher


def rows(db_path: Path, sql: str, *args: Any) -> list[tuple]:
    """Read the database from outside, read-only, as an auditor would."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def memory_matches_disk(desk: LocalDispatcher) -> None:
    """The hall in memory is the hall the database rebuilds: nothing half-applied."""
    hall = desk.d.hall
    on_disk = {n: (s, c) for n, s, c in rows(
        desk.office.storage, "SELECT number, status, counter FROM tickets WHERE day=?",
        hall.day.isoformat())}
    in_memory = {n: (str(t.status), t.counter) for n, t in hall.tickets.items()}
    assert in_memory == on_disk
    counters = {i: (s, c) for i, s, c in rows(
        desk.office.storage, "SELECT id, status, current FROM counters WHERE day=?",
        hall.day.isoformat())}
    for cid, state in hall.counters.items():
        assert counters.get(cid, ("open", None)) == (str(state.status), state.current), cid
    # Every ticket issued has its event, every event its ticket: no half-written command.
    issued = {n for (n,) in rows(desk.office.storage, "SELECT ticket FROM events WHERE day=? "
                                 "AND change IN ('issued', 'checked_in')", hall.day.isoformat())}
    assert issued == set(on_disk)


def json_replies(out: list) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(o.payload) for o in out if "/reply/" in o.topic]
