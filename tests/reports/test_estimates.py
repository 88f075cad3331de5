"""How right the printed waits were, from a real SQLite day: `motcua report` (per service and
day: mean absolute error, bias, share within 5 minutes; CSV and chart) and `motcua simulate
--replay` (each estimator at every issue, the printed one recomputed)."""

from __future__ import annotations

import csv
import shutil
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest

import simulate as sim
from dispatcher.store import Store
from motcua.config import OfficeConfig
from motcua.errors import run_main
from reports import estimates, report
from simulate import replay
from tests.conftest import ROOT, at
from tests.reports.test_report import DayScript

FIXTURE = ROOT / "tests" / "fixtures" / "release-0.1.0.sqlite3"


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def _busy_morning(office: OfficeConfig, make_token) -> tuple[DayScript, dict, dict]:  # type: ignore[no-untyped-def]
    """Walk-ins and bookings in front of three counters: what each kiosk reply printed, and
    when each ticket was first called (from the counters' replies)."""
    desk = DayScript(office)
    printed: dict[str, tuple[str, int, datetime]] = {}
    called: dict[str, datetime] = {}

    def issue(hhmm: str, **fields: object) -> None:
        kind = "check_in" if "token" in fields else "walk_in"
        t = desk.send(hhmm, "kiosk", "k1", kind, **fields)["ticket"]
        printed[t["number"]] = (t["service"], t["est_wait_min"], at(hhmm))

    def call(hhmm: str, counter: str) -> None:
        t = desk.send(hhmm, "counter", counter, "next")["ticket"]
        if t is not None:
            called.setdefault(t["number"], at(hhmm))

    script = [("07:31", "A"), ("07:32", "B"), ("07:33", "A"), ("07:34", "A"), ("07:35", "1"),
              ("07:36", "C"), ("07:37", "2"), ("07:38", "3"), ("07:40", "B"), ("07:41", "A"),
              ("07:45", "BK-1"), ("07:52", "1"), ("07:58", "3"), ("08:03", "2"),
              ("08:10", "1"), ("08:12", "B"), ("08:14", "A"), ("08:20", "3"), ("08:26", "2"),
              ("08:31", "1"), ("08:47", "3")]
    for hhmm, what in script:                            # in the order of the clock
        if what.isdigit():
            call(hhmm, what)
        elif what.startswith("BK-"):
            issue(hhmm, token=make_token(what, at("08:00")))
        else:
            issue(hhmm, service=what)
    issue("08:50", service="C")                          # never called
    return desk, printed, called


def _by_hand(printed: dict, called: dict, service: str | None) -> dict[str, str]:
    errs = [est - (called[n] - when).total_seconds() / 60
            for n, (s, est, when) in printed.items()
            if n in called and (service is None or s == service)]
    never = sum(1 for n, (s, _, _) in printed.items()
                if n not in called and (service is None or s == service))
    return {"day": "2026-11-25", "service": service or "*", "n": str(len(errs)),
            "mae": str(round(sum(map(abs, errs)) / len(errs), 2)),
            "bias": str(round(sum(errs) / len(errs), 2)),
            "pct_within_5": str(round(100 * sum(abs(e) <= 5 for e in errs) / len(errs), 2)),
            "not_called": str(never)}


def test_the_report_measures_the_printed_waits(office: OfficeConfig, office_file: Path,
                                               make_token, tmp_path: Path, artifacts: Path,
                                               capsys) -> None:  # type: ignore[no-untyped-def]
    desk, printed, called = _busy_morning(office, make_token)
    assert len({est for _, est, _ in printed.values()}) > 3    # waits of many lengths
    out = tmp_path / "report"
    assert report.main(["--config", str(office_file), "--date", "2026-11-25",
                        "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "printed wait estimate against the wait to the first call" in text
    rows = {r["service"]: r for r in _csv(out / "estimates.csv")}
    assert set(rows) == {"A", "B", "C", "*"}            # a booking counts under its service
    for service in {s for s, _, _ in printed.values()} | {None}:
        assert rows[service or "*"] == _by_hand(printed, called, service), service
    png = out / "estimates.png"
    assert png.stat().st_size > 20_000
    (artifacts / "reports").mkdir(exist_ok=True)
    shutil.copy(png, artifacts / "reports" / "estimates-busy-morning.png")
    desk.send("09:00", "counter", "2", "next")          # the report only read

    # The same day replayed: the hall rebuilt from the events gives back every printed figure.
    db = replay.open_readonly(office.storage)
    issues = replay.replay(db, office, date(2026, 11, 25), replay.ESTIMATORS)
    db.close()
    assert [i.number for i in issues] == list(printed)
    assert all(round(i.estimates["tickets"]) == i.printed == printed[i.number][1]
               for i in issues)
    assert {i.number: i.called for i in issues if i.called} == called
    e = replay.errors(issues, "printed")
    assert (e.n, round(e.mae, 2)) == (int(rows["*"]["n"]), float(rows["*"]["mae"]))


def test_a_range_of_days_and_an_unreadable_event(office: OfficeConfig, office_file: Path,
                                                 make_token, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    desk, printed, called = _busy_morning(office, make_token)
    desk.d.store.close()
    store = Store(office.storage)          # a damaged event body, and one from another day
    with store.transaction():
        store.db.execute("INSERT INTO events (day, at, change, ticket, counter, body) VALUES "
                         "('2026-11-25', ?, 'issued', 'A099', NULL, '{not json')",
                         (at("09:00").isoformat(),))
        store.db.execute("INSERT INTO events (day, at, change, ticket, counter, body) VALUES "
                         "('2026-11-26', ?, 'issued', 'A001', NULL, ?)",
                         (at("08:00").isoformat().replace("25T", "26T"),
                          '{"v":1,"ticket":{"number":"A001","service":"A","est_wait_min":4}}'))
    store.close()
    assert report.main(["--config", str(office_file), "--date", "2026-11-25", "--to",
                        "2026-11-26", "--out", str(tmp_path / "r")]) == 0
    rows = {(r["day"], r["service"]): r for r in _csv(tmp_path / "r" / "estimates.csv")}
    assert rows[("2026-11-25", "*")] == _by_hand(printed, called, None)   # A099 skipped
    assert rows[("2026-11-26", "A")]["n"] == "0" and rows[("2026-11-26", "A")]["not_called"] == "1"
    assert rows[("*", "*")]["n"] == rows[("2026-11-25", "*")]["n"]
    assert rows[("*", "*")]["not_called"] == str(int(rows[("2026-11-25", "*")]["not_called"]) + 1)


def test_a_day_without_tickets_has_no_estimates(office_file: Path, office: OfficeConfig,
                                                tmp_path: Path) -> None:
    Store(office.storage).close()
    assert report.main(["--config", str(office_file), "--date", "2026-10-01", "--out",
                        str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "estimates.csv").read_text(encoding="utf-8-sig").strip() == \
        ",".join(estimates.COLUMNS)
    assert (tmp_path / "r" / "estimates.png").stat().st_size > 10_000   # "no data" drawn


def test_replaying_a_day_of_release_0_1_0(office: OfficeConfig, tmp_path: Path,
                                          capsys) -> None:  # type: ignore[no-untyped-def]
    """0.1.0 printed the queue formula: the replay recomputes it for every ticket, and the
    forward play beside it."""
    copy = tmp_path / "release.sqlite3"    # even a reader leaves -shm beside a WAL database
    shutil.copy(FIXTURE, copy)
    assert sim.main(["--config", str(office.path), "--replay", str(copy), "--start",
                     "2026-11-25"]) == 0
    out = capsys.readouterr().out
    assert "formula gives the printed figure for 10 of 10 tickets" in out
    assert "forward " in out and "tickets " in out


def test_replay_mistakes_in_two_languages(office: OfficeConfig, tmp_path: Path,
                                          capsys) -> None:  # type: ignore[no-untyped-def]
    base = ["--config", str(office.path)]
    day = tmp_path / "release.sqlite3"
    shutil.copy(FIXTURE, day)
    cases = [
        (["--replay", str(tmp_path / "none.sqlite3"), "--start", "2026-11-25"],
         "không có cơ sở dữ liệu", "no database"),
        (["--replay", str(day)], "--replay cần --start", "--replay needs --start"),
        (["--replay", str(day), "--start", "2026-11-26"], "không có phiếu nào",
         "holds no tickets on 2026-11-26"),
    ]
    junk = tmp_path / "junk.sqlite3"
    junk.write_text("not a database")
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    cases += [(["--replay", str(junk), "--start", "2026-11-25"], "không đọc được",
               "cannot read"),
              (["--replay", str(empty), "--start", "2026-11-25"], "không đọc được",
               "as a motcua database")]
    for args, vi, en in cases:
        assert run_main(sim.main, "motcua simulate", base + args) == 2, args
        err = capsys.readouterr().err
        assert vi in err and en in err, (args, err)


@pytest.mark.parametrize("counters", [6, 8])
def test_a_simulated_day_replayed_from_its_database(office: OfficeConfig,
                                                    counters: int) -> None:
    """A simulated peak day through the real dispatcher into SQLite, then replayed: the
    replay gives back each printed estimate, and the forward play's error is the one the
    simulator measured for the tickets (no figure fixed here: bench_simulate.py reports)."""
    import dataclasses

    from tests.reports.replay import replay_in_process, seed_bookings

    o = sim.sim_office(office, counters, 2)
    day = sim.START["peak"]
    people = sim.citizens(o, dataclasses.replace(sim.load_profile("peak"), visits=120), day, 0,
                          seed=5)
    simulated = sim.DaySim(o, day, people, "motcua").run()
    seed_bookings(o.storage, o, simulated, [p.booking for p in people if p.booking])
    _, d = replay_in_process(o, simulated.steps)
    d.store.close()
    db = replay.open_readonly(o.storage)
    issues = replay.replay(db, o, day, replay.ESTIMATORS)
    db.close()
    assert [(i.number, i.printed) for i in issues] == [(v.number, v.est)
                                                       for v in simulated.visits]
    assert all(round(i.estimates["tickets"]) == i.printed for i in issues)
    by_number = {v.number: v for v in simulated.visits}
    assert all(i.called == by_number[i.number].called for i in issues)
