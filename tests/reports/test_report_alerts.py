"""`motcua report`: waits past the target by hour, and the identity checks per service, on a
hand-made day whose dispatcher's clock alone made the overdue events."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import simulate as sim
from motcua import config
from motcua.waits import TARGET_MIN, counted_wait
from reports import report
from tests.conftest import at, write_office
from tests.dispatcher.test_alerts import REQUIRES_A
from tests.reports.replay import replay_in_process, seed_bookings
from tests.reports.test_report import DayScript


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_overdue_waits_and_checks_in_the_report(tmp_path: Path, artifacts: Path,
                                                capsys) -> None:  # type: ignore[no-untyped-def]
    office_file = write_office(tmp_path, **REQUIRES_A)
    day = DayScript(config.load(office_file))

    def tick(hhmm: str) -> None:
        day.clock.now = at(hhmm)
        day.d.tick()

    k = "k1"
    day.send("08:00", "kiosk", k, "walk_in", service="A")       # A001
    day.send("08:02", "kiosk", k, "walk_in", service="B")       # B001
    day.send("08:05", "kiosk", k, "walk_in", service="A")       # A002
    tick("08:14")                                               # nobody yet
    tick("08:20")                                               # A001 08:15, B001 08:17, A002 08:20
    day.send("08:25", "counter", "1", "next")                   # A001: 10 min past
    day.send("08:26", "counter", "1", "verify", ticket="A001", verified=True)
    day.send("08:30", "counter", "2", "next")                   # B001: 13 min past
    day.send("09:00", "kiosk", k, "walk_in", service="A")       # A003
    tick("09:20")                                               # A003 09:15
    day.send("09:40", "counter", "1", "next")                   # A002: 80 min past
    day.send("09:41", "counter", "1", "verify", ticket="A002", verified=False,
             reason="Chíp không đọc được")
    day.send("16:30", "admin", "cli", "close_day")              # A003 unserved: 435 past
    out = tmp_path / "report"
    assert report.main(["--config", str(office_file), "--date", "2026-11-25",
                        "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "waits past the 15-minute target" in text and "chip ID and fingerprint" in text
    hours = {r["hour"]: r for r in _csv(out / "overdue.csv")}
    assert hours["08:00"] == {"hour": "08:00", "overdue": "3", "called": "3", "uncalled": "0",
                              "mean_over_min": "34.33", "max_over_min": "80.0"}
    assert hours["09:00"] == {"hour": "09:00", "overdue": "1", "called": "0", "uncalled": "1",
                              "mean_over_min": "435.0", "max_over_min": "435.0"}
    assert hours["07:00"]["overdue"] == hours["13:00"]["overdue"] == "0"  # every opening hour
    assert _csv(out / "checks.csv") == [
        {"service": "A", "requires": "chip_id+fingerprint", "called": "2", "verified": "1",
         "not_verified": "1", "unmarked": "0"}]
    summary = {r["figure"]: r["value"] for r in _csv(out / "summary.csv")}
    assert (summary["overdue"], summary["verified"], summary["not_verified"]) == ("4", "1", "1")
    png = out / "overdue_by_hour.png"
    assert png.stat().st_size > 10_000
    shown = artifacts / "reports"
    shown.mkdir(exist_ok=True)
    shutil.copy(png, shown / "alerts-overdue_by_hour.png")
    day.d.store.close()


def test_a_simulated_peak_day_with_ticks_calls_the_same_and_flags_every_long_wait(
        office: config.OfficeConfig) -> None:
    """The simulator models no ticks; the dispatcher's ticks change no call, and mark every
    citizen whose wait (as the report counts it) reached the target before the call."""
    o = sim.sim_office(office, 6, 2)
    day = sim.START["peak"]
    people = sim.citizens(o, sim.load_profile("peak"), day, 0, seed=11)
    simulated = sim.DaySim(o, day, people, "motcua").run()
    seed_bookings(o.storage, o, simulated, [p.booking for p in people if p.booking])
    calls, dispatcher = replay_in_process(o, simulated.steps, tick=True)
    dispatcher.store.close()
    assert [(n, c) for n, c, _ in calls] == [(n, c) for n, c, _ in simulated.calls]
    rows = report.load_rows(report.open_readonly(o.storage), day, day, o.tz)
    flagged = {r.number for r in rows if r.overdue_at is not None}
    long_waits = {r.number for r in rows if r.called is not None and counted_wait(
        r.kind, r.arrival, r.issued, r.called, r.booking_start) >= TARGET_MIN}
    assert len(long_waits) > 10 and long_waits <= flagged, (len(long_waits), len(flagged))
    # The others flagged were never called (the day closed on them).
    assert all(r.called is None for r in rows if r.number in flagged - long_waits)
    for r in rows:
        if r.overdue_at is not None and r.called is not None:
            assert r.overdue_at <= r.called
