"""`motcua report` on a hand-made day: every figure computed by hand, CSV files, charts."""

from __future__ import annotations

import csv
import json
import secrets
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from dispatcher.service import Dispatcher
from dispatcher.store import Store
from motcua import topics
from motcua.clock import ManualClock
from motcua.config import OfficeConfig
from motcua.errors import run_main
from reports import report
from tests.conftest import at


class DayScript:
    """Devices in front of an in-process dispatcher with a real SQLite file."""

    def __init__(self, office: OfficeConfig):
        self.office, self.clock = office, ManualClock(at("07:30"))
        self.d = Dispatcher(office, Store(office.storage), self.clock)

    def send(self, hhmm: str, role: str, device: str, ctype: str, **fields: Any) -> dict:
        self.clock.now = at(hhmm)
        body = {"v": 1, "id": secrets.token_hex(8), "type": ctype, **fields}
        out = self.d.handle(topics.cmd(self.office.id, role, device), json.dumps(body).encode())
        reply = next(json.loads(o.payload) for o in out if "/reply/" in o.topic)
        assert reply["ok"], reply
        return reply


@pytest.fixture
def day(office: OfficeConfig, make_token) -> DayScript:  # type: ignore[no-untyped-def]
    store = Store(office.storage)   # the portal's booking that nobody comes for
    store.db.execute('INSERT INTO bookings (id, day, service, start, "end") VALUES '
                     "('BK-9', '2026-11-25', 'A', ?, ?)",
                     (at("10:00").isoformat(), at("10:30").isoformat()))
    store.close()
    desk = DayScript(office)
    k, c1, c2, c3 = "k1", "1", "2", "3"
    desk.send("08:00", "kiosk", k, "walk_in", service="A")            # A001
    desk.send("08:00", "counter", c1, "next")                         # A001 waited 0
    desk.send("08:05", "kiosk", k, "walk_in", service="A")            # A002
    desk.send("08:10", "kiosk", k, "walk_in", service="B")            # B001
    desk.send("08:12", "counter", c2, "next")                         # A002 waited 7
    desk.send("08:20", "kiosk", k, "check_in", token=make_token("BK-1", at("08:30")))  # H001
    desk.send("08:25", "counter", c1, "next")       # A001 took 25; H001 0 (before its slot)
    desk.send("08:26", "counter", c3, "next")                         # B001 waited 16
    desk.send("08:40", "kiosk", k, "check_in", token=make_token("BK-2", at("08:00")))  # late
    desk.send("08:45", "counter", c2, "next")       # A002 took 33; H002 waited 5
    desk.send("08:50", "counter", c3, "refuse", reason="Ngoài thẩm quyền",
              guidance="UBND phường")                                 # B001 took 24
    desk.send("09:00", "kiosk", k, "walk_in", service="C")            # C001
    desk.send("09:01", "counter", c3, "next")
    desk.send("09:05", "counter", c3, "no_show")                      # C001 not counted
    desk.send("09:10", "counter", c1, "done")                         # H001 took 45
    desk.send("09:20", "counter", c2, "done")                         # H002 took 35
    desk.send("09:30", "kiosk", k, "walk_in", service="A")            # A003, never called
    return desk


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_hand_made_day(day: DayScript, office: OfficeConfig, office_file: Path, tmp_path: Path,
                       artifacts: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    day.send("16:30", "admin", "cli", "close_day")     # A003 unserved, BK-9 cancelled
    out = tmp_path / "report"
    # The dispatcher still has the database open: the report only reads beside it.
    assert report.main(["--config", str(office_file), "--date", "2026-11-25",
                        "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Ngoài thẩm quyền" in text and "0.5 h of reception saved" in text

    for name, columns in report.COLUMNS.items():  # a full day's headers are the same
        header = (out / f"{name}.csv").read_text(encoding="utf-8-sig").splitlines()[0]
        assert header == ",".join(columns), name
    summary = {r["figure"]: r["value"] for r in _csv(out / "summary.csv")}
    assert summary == {"tickets": "7", "seen": "5", "over_15": "1", "share_over_15": "0.2",
                       "no_shows": "1", "refused": "1", "unserved": "1",
                       "bookings_checked_in": "2", "booking_share": "0.29",
                       "bookings_served": "2", "hours_saved": "0.5",
                       "bookings_cancelled_at_close": "1",
                       "overdue": "0", "verified": "0", "not_verified": "0"}
    tickets = {(r["service"], r["kind"]): r for r in _csv(out / "tickets.csv")}
    assert tickets[("A", "walk_in")] == {"service": "A", "kind": "walk_in", "tickets": "3",
                                        "done": "2", "no_show": "0", "refused": "0",
                                        "unserved": "1", "open": "0"}
    assert tickets[("A", "booking")]["done"] == "2"
    assert tickets[("B", "walk_in")]["refused"] == tickets[("C", "walk_in")]["no_show"] == "1"
    waits = {(r["service"], r["group"]): r for r in _csv(out / "waits.csv")}
    # Waits 0 (A001), 7 (A002), 16 (B001); on time H001 0 (called before its slot); late H002 5.
    assert waits[("*", "*")] == {"service": "*", "group": "*", "n": "5", "mean": "5.6",
                                "median": "5.0", "p90": "12.4", "max": "16.0"}
    assert (waits[("*", "walk_in")]["mean"], waits[("*", "walk_in")]["p90"]) == ("7.67", "14.2")
    assert waits[("*", "on_time")]["max"] == "0.0" and waits[("*", "late")]["mean"] == "5.0"
    hours = {r["hour"]: r for r in _csv(out / "hours.csv")}
    assert (hours["08:00"]["issued"], hours["08:00"]["walk_in"], hours["08:00"]["booking"],
            hours["08:00"]["over_15"]) == ("5", "3", "2", "1")
    assert (hours["09:00"]["issued"], hours["09:00"]["seen"]) == ("2", "0")
    counters = {r["counter"]: r for r in _csv(out / "counters.csv")}
    assert (counters["1"]["n"], counters["1"]["mean"]) == ("2", "35.0")   # 25 and 45
    assert (counters["2"]["mean"], counters["3"]["mean"]) == ("34.0", "24.0")  # 33, 35; 24
    assert _csv(out / "refusals.csv") == [{"reason": "Ngoài thẩm quyền", "count": "1"}]

    shown = artifacts / "reports"
    shown.mkdir(exist_ok=True)
    for png in ("waits_by_hour.png", "wait_distribution.png", "load_by_hour.png"):
        assert (out / png).stat().st_size > 10_000
        shutil.copy(out / png, shown / f"hand-made-{png}")
    # The report never wrote: the dispatcher goes on with its day.
    day.send("16:31", "counter", "1", "next")


def test_bad_input_is_said_in_two_languages(office_file: Path, tmp_path: Path,
                                            capsys) -> None:  # type: ignore[no-untyped-def]
    assert run_main(report.main, "motcua report",
                    ["--config", str(office_file), "--date", "2026-11-25"]) == 2
    err = capsys.readouterr().err
    assert "không có cơ sở dữ liệu" in err and "no database" in err
    (tmp_path / "junk.sqlite3").write_text("not a database")
    assert run_main(report.main, "motcua report",
                    ["--config", str(office_file), "--date", "2026-11-25",
                     "--db", str(tmp_path / "junk.sqlite3")]) == 2
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(report.ReportError) as err:
        report.main(["--config", str(office_file), "--date", "2026-11-25", "--to", "2026-11-01"])
    assert err.value.exit_code == 2 and "--to must not be before" in err.value.message_en
    assert run_main(report.main, "motcua report", ["--config", str(office_file), "--date",
                                                   "2026-11-25", "--to", "2026-11-01"]) == 2
    assert "--to phải sau --date" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        report.main(["--config", str(office_file), "--date", "25/11/2026"])
    assert "không phải ngày" in capsys.readouterr().err


def test_empty_range_and_readonly(day: DayScript, office_file: Path, tmp_path: Path,
                                  capsys) -> None:  # type: ignore[no-untyped-def]
    assert report.main(["--config", str(office_file), "--date", "2026-10-01",
                        "--to", "2026-10-31", "--out", str(tmp_path / "empty")]) == 0
    assert "Số phiếu / tickets: 0" in capsys.readouterr().out
    # An empty month still gives every CSV its header (issue 14: refusals.csv was empty).
    for name, columns in report.COLUMNS.items():
        text = (tmp_path / "empty" / f"{name}.csv").read_text(encoding="utf-8-sig")
        assert text.splitlines()[0] == ",".join(columns), name
    db = report.open_readonly(day.office.storage)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        db.execute("DELETE FROM tickets")
    db.close()
