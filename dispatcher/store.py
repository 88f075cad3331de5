"""The dispatcher's SQLite file: tickets, counters, the event log and every command's reply."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

from motcua.config import OfficeConfig
from motcua.facts import (
    BookingAdded,
    BookingCancelled,
    BookingMoved,
    DayClosed,
    Fact,
    number_parts,
)
from motcua.model import (
    Arrival,
    Booking,
    CounterState,
    CounterStatus,
    Hall,
    Kind,
    Status,
    Ticket,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
    day TEXT NOT NULL, number TEXT NOT NULL, seq INTEGER NOT NULL,
    service TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL, priority INTEGER NOT NULL,
    issued_at TEXT NOT NULL, entry_at TEXT NOT NULL, called_at TEXT, closed_at TEXT,
    counter TEXT, booking_id TEXT, booking_start TEXT, arrival TEXT, reason TEXT,
    body TEXT NOT NULL,
    PRIMARY KEY (day, number));
CREATE TABLE IF NOT EXISTS counters (
    day TEXT NOT NULL, id TEXT NOT NULL, status TEXT NOT NULL, current TEXT, since TEXT,
    PRIMARY KEY (day, id));
CREATE TABLE IF NOT EXISTS events (
    n INTEGER PRIMARY KEY, day TEXT NOT NULL, at TEXT NOT NULL, change TEXT NOT NULL,
    ticket TEXT, counter TEXT, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS commands (
    role TEXT NOT NULL, device TEXT NOT NULL, id TEXT NOT NULL, at TEXT NOT NULL,
    type TEXT NOT NULL, reply TEXT NOT NULL,
    PRIMARY KEY (role, device, id));
CREATE TABLE IF NOT EXISTS bookings (
    id TEXT PRIMARY KEY, day TEXT NOT NULL, service TEXT NOT NULL, start TEXT NOT NULL,
    "end" TEXT NOT NULL, name TEXT, status TEXT NOT NULL DEFAULT 'booked', changed_at TEXT,
    made_on TEXT, moved_from TEXT, cancel_reason TEXT);
CREATE INDEX IF NOT EXISTS bookings_day ON bookings (day, status);
CREATE TABLE IF NOT EXISTS days (day TEXT PRIMARY KEY, closed_at TEXT);
CREATE INDEX IF NOT EXISTS events_day ON events (day, n);
"""
SCHEMA_VERSION = "1"
TICKET_FIELDS = tuple(f.name for f in fields(Ticket))


class StoreError(Exception):
    """The database cannot be opened or written: said plainly, never half-applied."""


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def ticket_to_json(t: Ticket) -> str:
    body: dict[str, Any] = {}
    for f in TICKET_FIELDS:
        v = getattr(t, f)
        body[f] = v.isoformat() if isinstance(v, datetime) else v
    if t.booking is not None:
        body["booking"] = {"id": t.booking.id, "service": t.booking.service,
                           "start": t.booking.start.isoformat(),
                           "end": t.booking.end.isoformat(), "name": t.booking.name}
    return json.dumps(body, ensure_ascii=False)


def ticket_from_json(text: str) -> Ticket:
    b: dict[str, Any] = json.loads(text)
    booking = b.pop("booking")
    for k in ("issued_at", "entry_at", "called_at", "closed_at"):
        b[k] = _dt(b[k])
    b["kind"], b["status"] = Kind(b["kind"]), Status(b["status"])
    b["arrival"] = Arrival(b["arrival"]) if b["arrival"] else None
    if booking:
        booking = Booking(booking["id"], booking["service"],
                          datetime.fromisoformat(booking["start"]),
                          datetime.fromisoformat(booking["end"]), booking.get("name"))
    return Ticket(booking=booking, **b)


class Store:
    def __init__(self, path: Path):
        self.path = path
        self._depth = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before its reply leaves (0.3 ms here, measured).
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA busy_timeout=5000")
            self.db.executescript(SCHEMA)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the database {path}: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT; inside another transaction, a savepoint."""
        nested = self.db.in_transaction
        self._depth += 1
        name = f"sp{self._depth}"
        try:
            self.db.execute(f"SAVEPOINT {name}" if nested else "BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._depth -= 1
            raise StoreError(f"cannot write {self.path}: {exc}") from exc
        try:
            yield
            self.db.execute(f"RELEASE {name}" if nested else "COMMIT")
        except BaseException as exc:
            with suppress(sqlite3.Error):
                if nested:
                    self.db.execute(f"ROLLBACK TO {name}")
                    self.db.execute(f"RELEASE {name}")
                else:
                    self.db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"cannot write {self.path}: {exc}") from exc
            raise
        finally:
            self._depth -= 1

    # -- commands -----------------------------------------------------------------------
    def stored_reply(self, role: str, device: str, cmd_id: str) -> bytes | None:
        row = self.db.execute("SELECT reply FROM commands WHERE role=? AND device=? AND id=?",
                              (role, device, cmd_id)).fetchone()
        return row[0].encode("utf-8") if row else None

    def save_reply(self, role: str, device: str, cmd_id: str, ctype: str, at: datetime,
                   reply: bytes) -> None:
        # OR IGNORE: an id answered once keeps its first reply (callers check first).
        self.db.execute("INSERT OR IGNORE INTO commands VALUES (?,?,?,?,?,?)",
                        (role, device, cmd_id, at.isoformat(), ctype, reply.decode("utf-8")))

    # -- facts --------------------------------------------------------------------------
    def save_ticket(self, day: date, t: Ticket) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO tickets VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (day.isoformat(), t.number, t.seq, t.service, str(t.kind), str(t.status),
             int(t.priority), _iso(t.issued_at), _iso(t.entry_at), _iso(t.called_at),
             _iso(t.closed_at), t.counter, t.booking.id if t.booking else None,
             _iso(t.booking.start) if t.booking else None,
             str(t.arrival) if t.arrival else None, t.reason, ticket_to_json(t)))

    def save_counter(self, day: date, c: CounterState) -> None:
        self.db.execute("INSERT OR REPLACE INTO counters VALUES (?,?,?,?,?)",
                        (day.isoformat(), c.id, str(c.status), c.current, _iso(c.since)))

    def append_event(self, day: date, at: datetime, change: str, ticket: str | None,
                     counter: str | None, body: bytes) -> None:
        self.db.execute("INSERT INTO events (day, at, change, ticket, counter, body) "
                        "VALUES (?,?,?,?,?,?)",
                        (day.isoformat(), at.isoformat(), change, ticket, counter,
                         body.decode("utf-8")))

    def record(self, hall: Hall, fact: Fact, ticket: Ticket | None) -> None:
        """Make the tables match the hall after `fact` (counters: see save_counters)."""
        if ticket is not None:
            self.save_ticket(hall.day, ticket)
        match fact:
            case BookingCancelled(booking=b, at=at, reason=reason):
                self.db.execute("UPDATE bookings SET status='cancelled', changed_at=?, "
                                "cancel_reason=? WHERE id=?", (at.isoformat(), reason, b.id))
            case BookingAdded(booking=b, at=at, made_on=made_on):
                self.db.execute(
                    'INSERT INTO bookings (id, day, service, start, "end", name, status, '
                    "changed_at, made_on) VALUES (?,?,?,?,?,?,'booked',?,?)",
                    (b.id, b.start.date().isoformat(), b.service, b.start.isoformat(),
                     b.end.isoformat(), b.name, at.isoformat(), made_on.isoformat()))
            case BookingMoved(booking=b, previous=prev, at=at):
                self.db.execute('UPDATE bookings SET day=?, start=?, "end"=?, changed_at=?, '
                                "moved_from=? WHERE id=?",
                                (b.start.date().isoformat(), b.start.isoformat(),
                                 b.end.isoformat(), at.isoformat(),
                                 prev.start.date().isoformat(), b.id))
            case DayClosed(at=at):
                self.db.execute("INSERT OR REPLACE INTO days VALUES (?,?)",
                                (hall.day.isoformat(), at.isoformat()))

    def save_counters(self, hall: Hall) -> None:
        for c in hall.counters.values():
            self.save_counter(hall.day, c)

    # -- rebuild ------------------------------------------------------------------------
    def load_hall(self, office: OfficeConfig, day: date) -> Hall:
        d = day.isoformat()
        counters = {cid: CounterState(cid) for cid in office.counters}
        for cid, status, current, since in self.db.execute(
                "SELECT id, status, current, since FROM counters WHERE day=?", (d,)):
            if cid in counters:
                counters[cid] = CounterState(cid, CounterStatus(status), current, _dt(since))
        hall = Hall(day=day, counters=counters)
        for (body,) in self.db.execute("SELECT body FROM tickets WHERE day=? ORDER BY seq",
                                       (d,)):
            t = ticket_from_json(body)
            hall.tickets[t.number] = t
            hall.track(t)
            hall.seq = t.seq
            prefix, n = number_parts(t.number)
            hall.last_number[prefix] = max(hall.last_number.get(prefix, 0), n)
            if t.booking is not None:
                hall.checked_in[t.booking.id] = t.number
        done = sorted((t for t in hall.tickets.values() if t.status is Status.DONE
                       and t.called_at and t.closed_at), key=lambda t: t.closed_at or t.seq)
        for t in done:
            assert t.called_at and t.closed_at
            hall.record_service_time(t.service, (t.closed_at - t.called_at).total_seconds() / 60)
        for number, counter, at in self.db.execute(
                "SELECT ticket, counter, at FROM events WHERE day=? AND change='called' "
                "ORDER BY n DESC LIMIT 10", (d,)):
            hall.recent_calls.append((number, counter, datetime.fromisoformat(at)))
        for bid, service, start, end, name in self.db.execute(
                'SELECT id, service, start, "end", name FROM bookings '
                "WHERE day >= ? AND status = 'booked'", (d,)):
            hall.bookings[bid] = Booking(bid, service, datetime.fromisoformat(start),
                                         datetime.fromisoformat(end), name)
        hall.cancelled = {bid for (bid,) in self.db.execute(
            "SELECT id FROM bookings WHERE day = ? AND status = 'cancelled'", (d,))}
        hall.moved_away = {bid: date.fromisoformat(day) for bid, day in self.db.execute(
            "SELECT id, day FROM bookings WHERE moved_from = ? AND day != ?", (d, d))}
        hall.booking_seq = self.db.execute("SELECT count(*) FROM bookings").fetchone()[0]
        hall.closed = self.db.execute("SELECT 1 FROM days WHERE day=? AND closed_at IS NOT NULL",
                                      (d,)).fetchone() is not None
        return hall
