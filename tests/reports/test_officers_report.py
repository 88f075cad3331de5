"""`motcua report` by officer and with ratings, on a hand-made day of an office with
officers: every figure worked out by hand; and the same report where nobody signs in or
rates, and on a database made before officers and ratings existed."""

from __future__ import annotations

import csv
import shutil
import sqlite3
from pathlib import Path

import pytest

from motcua import config, officers
from reports import report
from tests.conftest import write_office
from tests.reports.test_report import DayScript

PINS = {"cb01": "1111", "cb02": "2222"}


@pytest.fixture
def staffed(tmp_path: Path) -> Path:
    path = write_office(tmp_path)
    rows = "".join(f'\n[[officers]]\ncode = "{code}"\nname = "{name}"\n'
                   f'pin = "{officers.hash_pin(PINS[code], iterations=1000)}"\n'
                   for code, name in (("cb01", "Nguyễn Thị Lan"), ("cb02", "Trần Văn Minh")))
    path.write_text(path.read_text(encoding="utf-8") + rows, encoding="utf-8")
    return path


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def hand_made_day(office: config.OfficeConfig) -> DayScript:
    d = DayScript(office)
    d.send("08:00", "counter", "1", "sign_in", officer="cb01", pin="1111")
    d.send("08:00", "counter", "2", "sign_in", officer="cb02", pin="2222")
    for t in ("08:01", "08:02", "08:03", "08:04", "08:05"):
        d.send(t, "kiosk", "k1", "walk_in", service="A")                  # A001..A005
    d.send("08:10", "counter", "1", "next")                                # A001 cb01
    d.send("08:10", "counter", "2", "next")                                # A002 cb02
    d.send("08:20", "counter", "1", "done")                                # A001 10 min
    d.send("08:21", "rating", "1", "rate", ticket="A001", level="very_satisfied")
    d.send("08:22", "counter", "1", "next")                                # A003 cb01
    d.send("08:30", "counter", "2", "refuse", reason="Hồ sơ chưa đầy đủ",
           guidance="Bổ sung giấy tờ")                                     # A002 refused
    d.send("08:36", "counter", "1", "done")                                # A003 14 min
    d.send("08:37", "rating", "1", "rate", ticket="A003", level="satisfied")
    d.send("08:40", "counter", "2", "next")                                # A004 cb02
    d.send("08:41", "counter", "2", "no_show")                             # A004 no-show
    d.send("08:42", "counter", "2", "next")                                # A005 cb02
    d.send("09:00", "counter", "2", "done")                                # A005 18 min
    d.send("09:02", "rating", "2", "rate", ticket="A005", level="unsatisfied")
    return d


def test_by_officer_and_rating_shares_by_hand(staffed: Path, tmp_path: Path, artifacts: Path,
                                               capsys) -> None:  # type: ignore[no-untyped-def]
    office = config.load(staffed)
    hand_made_day(office)
    out = tmp_path / "report"
    assert report.main(["--config", str(staffed), "--date", "2026-11-25",
                        "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Theo cán bộ" in text and "Nguyễn Thị Lan" in text and "Trần Văn Minh" in text
    assert "Đánh giá hài lòng / ratings: 3 (100% of services done)" in text
    assert "satisfied or better: 67%" in text
    by = {r["officer"]: r for r in _csv(out / "officers.csv")}
    assert by["cb01"] == {"officer": "cb01", "name": "Nguyễn Thị Lan", "served": "2",
                          "mean_service": "12.0", "refused": "0", "no_show": "0",
                          "ratings": "2", "very_satisfied": "1", "satisfied": "1",
                          "neutral": "0", "unsatisfied": "0", "satisfied_share": "1.0",
                          "mean_score": "3.5"}
    assert (by["cb02"]["served"], by["cb02"]["mean_service"], by["cb02"]["refused"],
            by["cb02"]["no_show"], by["cb02"]["ratings"], by["cb02"]["unsatisfied"],
            by["cb02"]["satisfied_share"], by["cb02"]["mean_score"]) == (
        "1", "18.0", "1", "1", "1", "1", "0.0", "1.0")
    assert _csv(out / "officer_refusals.csv") == [
        {"officer": "cb02", "reason": "Hồ sơ chưa đầy đủ", "count": "1"}]
    shares = {(r["group"], r["key"]): r for r in _csv(out / "ratings.csv")}
    assert (shares[("counter", "1")]["ratings"], shares[("counter", "1")]["done"],
            shares[("counter", "1")]["very_satisfied_share"]) == ("2", "2", "0.5")
    assert shares[("officer", "cb02")]["unsatisfied_share"] == "1.0"
    assert (shares[("service", "A")]["ratings"], shares[("service", "A")]["mean_score"]) == (
        "3", "2.67")
    assert shares[("day", "2026-11-25")]["rated_share"] == "1.0"
    summary = {r["figure"]: r["value"] for r in _csv(out / "summary.csv")}
    assert (summary["ratings"], summary["satisfied_share"]) == ("3", "0.67")
    png = out / "ratings.png"
    assert png.stat().st_size > 10_000
    (artifacts / "reports").mkdir(exist_ok=True)
    shutil.copy(png, artifacts / "reports" / "officers-ratings.png")


def test_a_day_without_officers_or_ratings_still_reports(office_file: Path, tmp_path: Path,
                                                        capsys) -> None:  # type: ignore[no-untyped-def]
    office = config.load(office_file)
    d = DayScript(office)
    d.send("08:00", "kiosk", "k1", "walk_in", service="A")
    d.send("08:05", "counter", "1", "next")
    d.send("08:15", "counter", "1", "done")
    out = tmp_path / "plain"
    assert report.main(["--config", str(office_file), "--date", "2026-11-25",
                        "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Đánh giá hài lòng / ratings: 0 (0% of services done)" in text
    assert _csv(out / "officers.csv") == [] and _csv(out / "officer_refusals.csv") == []
    shares = {(r["group"], r["key"]): r for r in _csv(out / "ratings.csv")}
    assert (shares[("counter", "1")]["done"], shares[("counter", "1")]["ratings"],
            shares[("counter", "1")]["mean_score"]) == ("1", "0", "")
    assert ("officer", "-") not in shares
    assert (out / "ratings.png").stat().st_size > 5_000  # says "no data", does not fail
    # An empty day too: every table its header, nothing to divide by zero.
    assert report.main(["--config", str(office_file), "--date", "2026-11-26",
                        "--out", str(tmp_path / "empty")]) == 0
    for name in ("officers", "officer_refusals", "ratings"):
        header = (tmp_path / "empty" / f"{name}.csv").read_text(encoding="utf-8-sig")
        assert header.splitlines()[0] == ",".join(report.COLUMNS[name])


def test_a_database_from_before_officers_and_ratings_still_reports(
        office_file: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    office = config.load(office_file)
    d = DayScript(office)
    d.send("08:00", "kiosk", "k1", "walk_in", service="A")
    d.send("08:05", "counter", "1", "next")
    d.send("08:15", "counter", "1", "done")
    d.d.store.close()
    with sqlite3.connect(office.storage) as c:  # as schema 2 had it
        c.execute("DROP TABLE ratings")
        c.execute("ALTER TABLE tickets DROP COLUMN officer")
    assert report.main(["--config", str(office_file), "--date", "2026-11-25"]) == 0
    assert "ratings: 0" in capsys.readouterr().out
