"""The overdue tick on a database that cannot be written: nothing said, nothing kept in
memory alone; once the disk is back, each overdue wait is said once."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from motcua import config
from motcua.clock import ManualClock
from tests.conftest import at, write_office
from tests.faults.harness import LocalDispatcher, memory_matches_disk, rows
from tests.faults.test_storage import read_only


def overdue(desk: LocalDispatcher) -> list[str]:
    return [json.loads(o.payload)["ticket"]["number"] for o in desk.d.tick()
            if o.topic.endswith("/event/ticket")]


@pytest.mark.process
def test_an_overdue_tick_on_a_read_only_database(tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    office_file = write_office(tmp_path, **{f'"{tmp_path}/office.sqlite3"':
                                            f'"{folder}/office.sqlite3"'})
    desk = LocalDispatcher(config.load(office_file), ManualClock(at("09:00")))
    assert desk.reply("kiosk", "k1", "walk_in", service="A")["ok"]
    desk.clock.now = at("09:20")
    with read_only(folder / "office.sqlite3", folder / "office.sqlite3-wal"):
        with caplog.at_level(logging.ERROR):
            assert overdue(desk) == []
        assert "overdue waits not recorded" in caplog.text, caplog.text
        assert desk.d.hall.tickets["A001"].overdue_at is None  # memory as the disk has it
        assert desk.d.storage_problem
        memory_matches_disk(desk)
    assert overdue(desk) == ["A001"]  # the disk is back: said, dated when it passed
    assert desk.d.hall.tickets["A001"].overdue_at == at("09:15")
    assert desk.d.storage_problem is None
    assert overdue(desk) == []
    assert rows(desk.office.storage, "SELECT ticket FROM events WHERE change='overdue'") == [
        ("A001",)]
    desk.close()
