"""`motcua report`: a day's or a month's figures from the dispatcher's database, read-only."""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
import sys
from collections import Counter as Tally
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any, NoReturn
from urllib.parse import quote
from zoneinfo import ZoneInfo

from motcua import config
from motcua.erlang import percentile
from motcua.errors import MotcuaError, run_main
from motcua.waits import ALL, GROUP_NAMES, TARGET_MIN, counted_wait, wait_group
from reports import estimates

SAVED_MINUTES = 15.0  # Binh Duong's pilot: each booking saves about 15 minutes of reception
KIND_NAMES = {"walk_in": "vãng lai / walk-in", "booking": "lịch hẹn / booking"}


class ReportError(MotcuaError):
    """Why there is no report, in Vietnamese and English."""

    exit_code = 2


@dataclass
class Row:
    """One ticket as the report needs it (times in the office's zone). Waits count citizens
    seen at a counter: served, refused or transferred; not no-shows, not the never called."""

    day: date
    number: str
    service: str
    kind: str
    status: str
    issued: datetime
    called: datetime | None  # the first call
    closed: datetime | None
    last_called: datetime | None
    counter: str | None
    booking_start: datetime | None
    arrival: str | None
    reason: str | None
    overdue_at: datetime | None = None  # its wait passed the office's target (event/overdue)
    checked: bool | None = None  # the chip ID / fingerprint check: verified or not

    @property
    def over_target(self) -> float | None:
        """Minutes an overdue wait went on past the target: until the first call, or until
        the ticket was closed uncalled (the day's close); None while it still waits."""
        end = self.called or (self.closed if self.status != "waiting" else None)
        if self.overdue_at is None or end is None:
            return None
        return max(0.0, (end - self.overdue_at).total_seconds() / 60)

    @property
    def group(self) -> str:
        return wait_group(self.kind, self.arrival)

    @property
    def wait(self) -> float | None:
        """Counted wait of a citizen who came to the counter (a no-show's is unknown)."""
        if self.called is None or self.status == "no_show":
            return None
        return counted_wait(self.kind, self.arrival, self.issued, self.called, self.booking_start)


def open_readonly(path: Path) -> sqlite3.Connection:
    """The database as a reader only: safe beside a running dispatcher (WAL)."""
    if not path.is_file():
        raise ReportError(f"không có cơ sở dữ liệu {path}", f"no database at {path}")
    try:
        db = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, timeout=5)
        db.execute("SELECT 1 FROM tickets LIMIT 1")
    except sqlite3.Error as exc:
        raise ReportError(f"không đọc được {path}: {exc}",
                          f"cannot read {path} as a motcua database: {exc}") from exc
    return db


def load_rows(db: sqlite3.Connection, first: date, last: date, tz: ZoneInfo) -> list[Row]:
    span = (first.isoformat(), last.isoformat())
    called: dict[tuple[str, str], datetime] = {}
    for day, number, at in db.execute(
            "SELECT day, ticket, at FROM events WHERE change='called' AND day BETWEEN ? AND ? "
            "ORDER BY n", span):
        called.setdefault((day, number), _t(at, tz))  # type: ignore[arg-type]
    overdue: dict[tuple[str, str], datetime] = {}
    checked: dict[tuple[str, str], bool] = {}
    for day, number, change, body in db.execute(
            "SELECT day, ticket, change, body FROM events WHERE change IN "
            "('overdue', 'verified', 'not_verified') AND day BETWEEN ? AND ? ORDER BY n", span):
        if change == "overdue":
            overdue.setdefault((day, number), _t(json.loads(body)["at"], tz))
        else:
            checked.setdefault((day, number), change == "verified")
    rows = []
    for (day, number, service, kind, status, issued, called_at, closed, counter, start, arrival,
         reason) in db.execute(
            "SELECT day, number, service, kind, status, issued_at, called_at, closed_at, "
            "counter, booking_start, arrival, reason FROM tickets WHERE day BETWEEN ? AND ? "
            "ORDER BY day, seq", span):
        last_called = _t(called_at, tz)
        rows.append(Row(date.fromisoformat(day), number, service, kind, status, _t(issued, tz),
                        called.get((day, number), last_called), _t(closed, tz), last_called,
                        counter, _t(start, tz), arrival, reason, overdue.get((day, number)),
                        checked.get((day, number))))
    return rows


def _t(text: str | None, tz: ZoneInfo) -> Any:
    return datetime.fromisoformat(text).astimezone(tz) if text else None


def cancelled_at_close(db: sqlite3.Connection, first: date, last: date) -> dict[date, int]:
    """Bookings cancelled by close_day: the event falls on the booking's own day (a citizen's
    own cancellation is allowed only until the day before)."""
    out: Tally[date] = Tally()
    for day, body in db.execute("SELECT day, body FROM events WHERE change='cancelled' "
                                "AND day BETWEEN ? AND ?", (first.isoformat(), last.isoformat())):
        booking = json.loads(body).get("booking") or {}
        if str(booking.get("start", ""))[:10] == day:
            out[date.fromisoformat(day)] += 1
    return dict(out)


def _summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "mean": None, "median": None, "p90": None, "max": None}
    return {"n": len(values), "mean": sum(values) / len(values), "median": median(values),
            "p90": percentile(values, 0.9), "max": max(values)}


@dataclass
class Report:
    first: date
    last: date
    rows: list[Row]
    cancelled: dict[date, int]
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    totals: dict[str, Any] = field(default_factory=dict)
    target_min: float = TARGET_MIN  # the office's [waits] target_minutes


def opening_hours(office: config.OfficeConfig) -> list[int]:
    """Clock hours the hall is open in, so that every report shows the same hours."""
    return sorted({h for s, e in office.hours
                   for h in range(s.hour, e.hour + (1 if e.minute else 0))})


def overdue_by_hour(rows: list[Row], hours_open: list[int] | None) -> list[dict[str, Any]]:
    """Waits that passed the target, by the hour they passed it, and how long they went on."""
    hours: dict[int, list[Row]] = {h: [] for h in hours_open or ()}
    for t in rows:
        if t.overdue_at is not None:
            hours.setdefault(t.overdue_at.hour, []).append(t)
    out = []
    for h, ts in sorted(hours.items()):
        over = [x for t in ts if (x := t.over_target) is not None]
        out.append({"hour": f"{h:02d}:00", "overdue": len(ts),
                    "called": sum(t.called is not None for t in ts),
                    "uncalled": sum(t.called is None for t in ts),
                    "mean_over_min": sum(over) / len(over) if over else None,
                    "max_over_min": max(over) if over else None})
    return out


def checks_by_service(rows: list[Row], requires: dict[str, tuple[str, ...]]
                      ) -> list[dict[str, Any]]:
    """The chip ID / fingerprint checks per service that requires them: of the citizens
    called, how many were verified, not verified, or never marked."""
    services = sorted({s for s, r in requires.items() if r}
                      | {t.service for t in rows if t.checked is not None})
    out = []
    for s in services:
        seen = [t for t in rows if t.service == s and t.called is not None]
        verified = sum(t.checked is True for t in seen)
        refused = sum(t.checked is False for t in seen)
        out.append({"service": s, "requires": "+".join(requires.get(s, ())) or "-",
                    "called": len(seen), "verified": verified, "not_verified": refused,
                    "unmarked": len(seen) - verified - refused})
    return out


def build(rows: list[Row], cancelled: dict[date, int], first: date, last: date,
          saved_minutes: float = SAVED_MINUTES, hours_open: list[int] | None = None,
          requires: dict[str, tuple[str, ...]] | None = None,
          target_min: float = TARGET_MIN) -> Report:
    """Every figure of the report, as tables of plain rows (what the CSV files hold)."""
    r = Report(first, last, rows, cancelled, target_min=target_min)
    by_sk: dict[tuple[str, str], Tally[str]] = defaultdict(Tally)
    for t in rows:
        by_sk[(t.service, t.kind)][t.status] += 1
    r.tables["tickets"] = [
        {"service": s, "kind": k, "tickets": sum(c.values()), "done": c["done"],
         "no_show": c["no_show"], "refused": c["refused"], "unserved": c["unserved"],
         "open": c["waiting"] + c["serving"]} for (s, k), c in sorted(by_sk.items())]
    waits: dict[tuple[str, str], list[float]] = defaultdict(list)
    for t in rows:
        if t.wait is not None:
            waits[(t.service, t.group)].append(t.wait)
            waits[(ALL, t.group)].append(t.wait)
            waits[(ALL, ALL)].append(t.wait)
    r.tables["waits"] = [{"service": s, "group": k, **_summary(v)}
                         for (s, k), v in sorted(waits.items())]
    hours: dict[int, list[Row]] = {h: [] for h in hours_open or ()}
    for t in rows:
        hours.setdefault(t.issued.hour, [])
        hours[t.issued.hour].append(t)
    r.tables["hours"] = []
    for h, ts in sorted(hours.items()):
        w = [t.wait for t in ts if t.wait is not None]
        r.tables["hours"].append({
            "hour": f"{h:02d}:00", "issued": len(ts),
            "walk_in": sum(t.kind == "walk_in" for t in ts),
            "booking": sum(t.kind == "booking" for t in ts),
            "seen": len(w), "over_15": sum(x > TARGET_MIN for x in w),
            "mean_wait": sum(w) / len(w) if w else None,
            "p90_wait": percentile(w, 0.9) if w else None,
            "called_in_hour": sum(1 for t in rows if t.called and t.called.hour == h)})
    service: dict[str, list[float]] = defaultdict(list)
    for t in rows:
        if t.status in ("done", "refused") and t.last_called and t.closed and t.counter:
            service[t.counter].append((t.closed - t.last_called).total_seconds() / 60)
    r.tables["counters"] = [{"counter": c, **_summary(v), "hours": sum(v) / 60}
                            for c, v in sorted(service.items(), key=lambda kv: _natural(kv[0]))]
    reasons = Tally(t.reason or "-" for t in rows if t.status == "refused")
    r.tables["refusals"] = [{"reason": k, "count": n} for k, n in reasons.most_common()]
    r.tables["overdue"] = overdue_by_hour(rows, hours_open)
    r.tables["checks"] = checks_by_service(rows, requires or {})
    r.tables["days"] = []
    for d in sorted({t.day for t in rows} | set(cancelled)):
        ts = [t for t in rows if t.day == d]
        w = [t.wait for t in ts if t.wait is not None]
        r.tables["days"].append({
            "day": d.isoformat(), "tickets": len(ts),
            "bookings": sum(t.kind == "booking" for t in ts),
            "done": sum(t.status == "done" for t in ts),
            "no_show": sum(t.status == "no_show" for t in ts), "seen": len(w),
            "mean_wait": sum(w) / len(w) if w else None,
            "over_15": sum(x > TARGET_MIN for x in w),
            "cancelled_at_close": cancelled.get(d, 0)})
    w_all = [t.wait for t in rows if t.wait is not None]
    bookings = [t for t in rows if t.kind == "booking"]
    served = sum(t.status == "done" for t in bookings)
    r.totals = {
        "tickets": len(rows), "seen": len(w_all),
        "over_15": sum(x > TARGET_MIN for x in w_all),
        "share_over_15": sum(x > TARGET_MIN for x in w_all) / len(w_all) if w_all else None,
        "no_shows": sum(t.status == "no_show" for t in rows),
        "refused": sum(t.status == "refused" for t in rows),
        "unserved": sum(t.status == "unserved" for t in rows),
        "bookings_checked_in": len(bookings),
        "booking_share": len(bookings) / len(rows) if rows else None,
        "bookings_served": served, "hours_saved": served * saved_minutes / 60,
        "bookings_cancelled_at_close": sum(cancelled.values()),
        "overdue": sum(t.overdue_at is not None for t in rows),
        "verified": sum(t.checked is True for t in rows),
        "not_verified": sum(t.checked is False for t in rows)}
    return r


def _natural(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (1 << 30, text)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.1f}"
    return str(v)


def _table(title: str, rows: list[dict[str, Any]], names: dict[str, str] | None = None) -> str:
    if not rows:
        return f"{title}\n  (không có / none)"
    cols = list(rows[0])
    cells = [[_fmt((names or {}).get(str(row[c]), row[c])) for c in cols] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)]
    line = "  " + "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))
    body = ["  " + "  ".join(v.rjust(w) if v[:1].isdigit() or v == "-" else v.ljust(w)
                             for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([title, line, *body])


def text(r: Report, office_name: str) -> str:
    span = r.first.isoformat() if r.first == r.last else f"{r.first} – {r.last}"
    t = r.totals
    share = "-" if t["share_over_15"] is None else f"{t['share_over_15']:.0%}"
    bshare = "-" if t["booking_share"] is None else f"{t['booking_share']:.0%}"
    names = {**GROUP_NAMES, **KIND_NAMES}
    return "\n\n".join([
        f"Báo cáo Bộ phận Một cửa / Reception report — {office_name}, {span}",
        f"Số phiếu / tickets: {t['tickets']}; được phục vụ / seen at a counter: {t['seen']}; "
        f"chờ quá 15 phút / "
        f"waited over 15 min: {t['over_15']} ({share}); vắng mặt / no-shows: {t['no_shows']}; "
        f"từ chối / refused: {t['refused']}; chưa phục vụ / unserved: {t['unserved']}\n"
        f"Lịch hẹn / bookings: {t['bookings_checked_in']} checked in ({bshare} of tickets), "
        f"{t['bookings_served']} served = {t['hours_saved']:.1f} h of reception saved "
        f"(at {SAVED_MINUTES:g} min each); cancelled at close of day / hủy cuối ngày: "
        f"{t['bookings_cancelled_at_close']}",
        _table("Phiếu theo dịch vụ / tickets by service and kind", r.tables["tickets"], names),
        _table("Thời gian chờ (phút) / waiting, minutes (bookings on time: from slot start)",
               r.tables["waits"], names),
        _table("Theo giờ lấy số / by hour of issue", r.tables["hours"]),
        _table("Thời gian phục vụ theo quầy (phút) / service time by counter, minutes",
               r.tables["counters"]),
        _table("Từ chối tiếp nhận / refusals by reason", r.tables["refusals"]),
        _table(f"Chờ quá {r.target_min:g} phút mà chưa được gọi, theo giờ / waits past the "
               f"{r.target_min:g}-minute target, by hour (over_min: minutes past it until "
               "called or closed)", r.tables["overdue"]),
        _table("Kiểm tra CCCD gắn chíp / vân tay theo dịch vụ / chip ID and fingerprint "
               "checks by service", r.tables["checks"]),
        *([_table("Theo ngày / by day", r.tables["days"])] if len(r.tables["days"]) > 1 else []),
        *([_table("Thời gian chờ dự kiến in trên phiếu so với thực tế (phút) / printed wait "
                  "estimate against the wait to the first call, minutes (bias +: printed "
                  "longer; pct_within_5: % within ±5 min)", r.tables["estimates"])]
          if "estimates" in r.tables else [])])


SUMMARY = list(_summary([]))
# The columns of each table, written even when it has no rows (an empty file with no header
# cannot be told from a broken one).
COLUMNS = {
    "tickets": ["service", "kind", "tickets", "done", "no_show", "refused", "unserved", "open"],
    "waits": ["service", "group", *SUMMARY],
    "hours": ["hour", "issued", "walk_in", "booking", "seen", "over_15", "mean_wait", "p90_wait",
              "called_in_hour"],
    "counters": ["counter", *SUMMARY, "hours"],
    "refusals": ["reason", "count"],
    "overdue": ["hour", "overdue", "called", "uncalled", "mean_over_min", "max_over_min"],
    "checks": ["service", "requires", "called", "verified", "not_verified", "unmarked"],
    "days": ["day", "tickets", "bookings", "done", "no_show", "seen", "mean_wait", "over_15",
             "cancelled_at_close"],
    "summary": ["figure", "value"],
    "estimates": estimates.COLUMNS,
}


def write_csv(r: Report, out: Path) -> list[Path]:
    """One CSV per table, UTF-8 with a BOM so that spreadsheet programs read the diacritics."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    tables = {**r.tables, "summary": [{"figure": k, "value": v} for k, v in r.totals.items()]}
    for name, rows in tables.items():
        path = out / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8-sig") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else COLUMNS[name])
            w.writeheader()
            w.writerows({k: (round(v, 2) if isinstance(v, float) else v)
                         for k, v in row.items()} for row in rows)
        paths.append(path)
    return paths


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"motcua report: tham số không hợp lệ / invalid arguments: {message}\n")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} không phải ngày YYYY-MM-DD / is not a date "
                                         f"YYYY-MM-DD") from exc


def main(argv: list[str] | None = None) -> int:
    p = _Parser(prog="motcua report", description=__doc__)
    p.add_argument("--config", required=True, help="the office file (office.toml)")
    p.add_argument("--date", required=True, type=_day, help="the (first) day, YYYY-MM-DD")
    p.add_argument("--to", type=_day, help="the last day of a range, YYYY-MM-DD")
    p.add_argument("--out", type=Path, help="write CSV files and PNG charts in this folder")
    p.add_argument("--db", type=Path, help="the database (default: [storage] of the office)")
    p.add_argument("--saved-minutes", type=float, default=SAVED_MINUTES,
                   help="reception minutes one booking saves (default 15)")
    args = p.parse_args(argv)
    office = config.load(args.config)
    last = args.to or args.date
    if last < args.date:
        raise ReportError("--to phải sau --date", "--to must not be before --date")
    if (last - args.date) > timedelta(days=400):
        raise ReportError("khoảng ngày quá dài (tối đa 400 ngày)",
                          "the range is too long (400 days at most)")
    db = open_readonly(args.db or office.storage)
    try:
        rows = load_rows(db, args.date, last, office.tz)
        report = build(rows, cancelled_at_close(db, args.date, last), args.date, last,
                       args.saved_minutes, opening_hours(office),
                       {code: s.requires for code, s in office.services.items()},
                       office.wait_target_min)
        printed = estimates.load(db, args.date, last, office.tz)
        report.tables["estimates"] = estimates.table(printed)
    finally:
        db.close()
    print(text(report, office.name))
    if args.out:
        from reports.charts import draw_all  # matplotlib only when charts are asked for

        files = write_csv(report, args.out) + draw_all(report, args.out, office.name)
        files.append(estimates.chart(printed, args.out / "estimates.png", office.name,
                                     report.first.isoformat() if report.first == report.last
                                     else f"{report.first} – {report.last}"))
        print(f"\nĐã ghi / written: {', '.join(str(f) for f in files)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "motcua report"))
