"""The dispatcher's SQLite file: tickets, counters, the event log and every command's reply."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import fields
from datetime import date, datetime
from pathlib import Path
from typing import Any, assert_never

from motcua.config import OfficeConfig
from motcua.errors import MotcuaError
from motcua.facts import (
    BookingAdded,
    BookingCancelled,
    BookingMoved,
    Called,
    Checked,
    Closed,
    CounterSet,
    DayClosed,
    Fact,
    Issued,
    Overdue,
    SignedIn,
    SignedOut,
    SignInFailed,
    Transferred,
    apply,
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

log = logging.getLogger(__name__)

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
# The schema has a version (PRAGMA user_version) and an ordered list of migrations. Version
# 1 is SCHEMA above, as motcua 0.1.0 made it (it wrote meta.schema = '1' and left
# user_version at 0). A newer motcua migrates an older database in one transaction at start,
# a copy of it taken first; an older motcua refuses a newer database.
BASELINE = 1
# (version, why, statements): append, never edit one that shipped.
MIGRATIONS: list[tuple[int, str, tuple[str, ...]]] = [
    (2, "replies pruned by time use an index; the version lives in user_version",
     ("CREATE INDEX IF NOT EXISTS commands_at ON commands (at)",
      "DELETE FROM meta WHERE key = 'schema'")),
    (3, "officers: who is signed in at a counter, who called a ticket",
     ("ALTER TABLE counters ADD COLUMN officer TEXT",
      "ALTER TABLE tickets ADD COLUMN officer TEXT")),
]
SCHEMA_VERSION = MIGRATIONS[-1][0] if MIGRATIONS else BASELINE
# A ticket is kept twice, on purpose, in one statement from one Ticket: `body` (JSON, every
# field) is what the dispatcher rebuilds its hall from, so a field added to Ticket needs no
# migration (ticket_from_json fills what an older body lacks and leaves out what it does not
# know); the columns are what reports and people query with SQL, so they change only by a
# migration. Neither is derived from the other after the write.
TICKET_FIELDS = tuple(f.name for f in fields(Ticket))
TICKET_COLUMNS = ("seq, service, kind, status, priority, issued_at, entry_at, called_at, "
                  "closed_at, counter, booking_id, booking_start, arrival, reason, officer, body")


class StoreError(MotcuaError):
    """The database cannot be opened or written: said plainly, never half-applied."""


class StorageUnavailable(StoreError):
    """The storage itself failed (disk full, I/O error, file deleted or replaced): no
    command can be taken until it is back. Other SQLite errors are one command's fault."""


class AlreadyRunning(StoreError):
    """Another dispatcher holds this database."""


# SQLite primary result codes that say the storage, not the command, is at fault.
STORAGE_CODES = {"SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN",
                 "SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_BUSY", "SQLITE_LOCKED",
                 "SQLITE_PROTOCOL", "SQLITE_NOLFS", "SQLITE_PERM"}


def storage_fault(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""  # e.g. SQLITE_IOERR_SHORT_READ
    return "_".join(name.split("_")[:2]) in STORAGE_CODES


def _cannot_open(path: Path, exc: Exception) -> StoreError:
    return StoreError(f"không mở được cơ sở dữ liệu {path}: {exc}",
                      f"cannot open the database {path}: {exc}")


def _cannot_write(path: Path, exc: Exception) -> StorageUnavailable:
    return StorageUnavailable(f"không ghi được {path}: {exc}", f"cannot write {path}: {exc}")


def damaged(path: Path, what: str) -> StoreError:
    return StoreError(
        f"Cơ sở dữ liệu {path} bị hỏng ({what}). Hãy dừng bộ điều phối, khôi phục bản sao "
        f"lưu gần nhất vào {path} rồi khởi động lại.",
        f"The database {path} is damaged ({what}). Stop the dispatcher, restore the last "
        f"backup to {path}, then start again.")


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
    """A stored ticket. Fields this release does not know (written by a newer one, or
    dropped since) are left out, and fields it added since take their defaults: a body
    never stops a dispatcher from starting."""
    raw: dict[str, Any] = json.loads(text)
    b = {k: v for k, v in raw.items() if k in TICKET_FIELDS}
    if len(b) < len(raw):
        log.warning("ticket %s: fields this release does not know, left out: %s",
                    raw.get("number"), ", ".join(sorted(set(raw) - set(b)))[:200])
    booking = b.pop("booking", None)
    for k in ("issued_at", "entry_at", "called_at", "closed_at", "overdue_at", "checked_at"):
        if k in b:
            b[k] = _dt(b[k])
    b["kind"], b["status"] = Kind(b["kind"]), Status(b["status"])
    b["arrival"] = Arrival(b["arrival"]) if b.get("arrival") else None
    if booking:
        booking = Booking(booking["id"], booking["service"],
                          datetime.fromisoformat(booking["start"]),
                          datetime.fromisoformat(booking["end"]), booking.get("name"))
    return Ticket(booking=booking, **b)


def backup_to(db: sqlite3.Connection, target: Path) -> None:
    """A consistent copy of `db` at `target` (SQLite's online backup: safe while the
    dispatcher writes), written beside it first and renamed, so `target` is whole or absent."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        copy = sqlite3.connect(partial)
        try:
            db.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, nothing beside it
        finally:
            copy.close()
        put_in_place(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)  # no half copy left (a full disk, an I/O error)
        raise


def put_in_place(partial: Path, target: Path) -> None:
    """A file written whole at `partial` becomes `target` at once: flushed to disk, the
    database's mode (0640), then renamed over it."""
    with open(partial, "rb") as f:
        os.fsync(f.fileno())
    os.chmod(partial, 0o640)
    os.replace(partial, target)


class Store:
    """One office's database, held by one dispatcher: an OS lock on `<db>.lock` keeps a
    second one out, and the file is watched so a deleted or replaced database stops the
    dispatcher instead of being written blind."""

    def __init__(self, path: Path, lock: bool = True):
        self.path = path
        self._depth = 0
        self._lock_fd: int | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if lock:
                self._lock_fd = take_lock(path)
            self.created = not path.exists()
            # Citizens' names live here: owner read-write, group read, others nothing
            # (SQLite gives the -wal and -shm files the same mode).
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o640))
            os.chmod(path, stat.S_IMODE(os.stat(path).st_mode) & 0o750)
            _check_sidecars(path)
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            if not self.created:
                rows = self.db.execute("PRAGMA quick_check").fetchall()
                if rows != [("ok",)]:
                    raise damaged(path, "; ".join(str(r[0]) for r in rows[:3]))
            self.db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before its reply leaves (0.3 ms here, measured).
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA busy_timeout=5000")
            self.migrated_from = self._migrate()
            self._identity = _identity(path)
        except StoreError:
            self._release_lock()
            raise
        except sqlite3.DatabaseError as exc:
            self._release_lock()
            if getattr(exc, "sqlite_errorname", "") in ("SQLITE_CORRUPT", "SQLITE_NOTADB"):
                raise damaged(path, str(exc)) from exc
            raise _cannot_open(path, exc) from exc
        except (sqlite3.Error, OSError) as exc:
            self._release_lock()
            raise _cannot_open(path, exc) from exc

    def version(self) -> int:
        """The schema version of this database; 0.1.0's (user_version 0, tables made) is 1."""
        v = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        if v == 0 and self.db.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='tickets'").fetchone():
            return BASELINE
        return v

    def _migrate(self) -> int | None:
        """Bring the database to SCHEMA_VERSION; the version it had when it needed that."""
        version = self.version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"Cơ sở dữ liệu {self.path} do phiên bản motcua mới hơn tạo (lược đồ "
                f"{version}; bản này chỉ biết đến {SCHEMA_VERSION}). Hãy cài phiên bản đó "
                f"hoặc mới hơn; không được dùng bản cũ với dữ liệu mới.",
                f"The database {self.path} was made by a newer motcua (schema {version}; "
                f"this one knows up to {SCHEMA_VERSION}). Install that version or newer: "
                f"an older one must not write newer data.")
        if version == SCHEMA_VERSION:
            return None
        if version == 0:  # a new database: the baseline, then every migration
            self.db.executescript(SCHEMA)
        else:
            copy = self.path.with_name(f"{self.path.name}.v{version}-"
                                       f"{datetime.now():%Y%m%d-%H%M%S}.bak")
            backup_to(self.db, copy)
            log.info("database %s at schema %d: copied to %s before migrating", self.path,
                     version, copy)
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for number, why, statements in MIGRATIONS:
                if number > max(version, BASELINE):
                    for statement in statements:
                        self.db.execute(statement)
                    log.info("database %s: schema %d (%s)", self.path, number, why)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            self.db.execute("ROLLBACK")
            raise StoreError(
                f"Không nâng cấp được cơ sở dữ liệu {self.path} từ lược đồ {version}: {exc}. "
                f"Dữ liệu chưa bị thay đổi.",
                f"Could not upgrade the database {self.path} from schema {version}: {exc}. "
                f"Nothing was changed.") from exc
        return version or None

    def claim(self, office_id: str) -> None:
        """Mark this database as office `office_id`'s; refuse one of another office."""
        row = self.db.execute("SELECT value FROM meta WHERE key='office'").fetchone()
        if row is None:
            self.db.execute("INSERT INTO meta (key, value) VALUES ('office', ?)", (office_id,))
        elif row[0] != office_id:
            raise StoreError(
                f"Cơ sở dữ liệu {self.path} là của đơn vị {row[0]}, không phải {office_id}.",
                f"The database {self.path} belongs to office {row[0]}, not {office_id}.")

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def check_file(self) -> None:
        """Raise StorageUnavailable when the database file is gone or another file now
        stands at its path (the open connection would write on into the deleted file)."""
        try:
            now = _identity(self.path)
        except OSError as exc:
            raise StorageUnavailable(f"cơ sở dữ liệu {self.path} không còn: {exc.strerror}",
                                     f"the database {self.path} is gone: {exc.strerror}"
                                     ) from exc
        if now != self._identity:
            raise StorageUnavailable(f"cơ sở dữ liệu {self.path} đã bị thay bằng tệp khác",
                                     f"the database {self.path} was replaced by another file")

    def prune_commands(self, before: datetime) -> int:
        """Forget replies older than `before` (ids are unique per device per day)."""
        cur = self.db.execute("DELETE FROM commands WHERE at < ?", (before.isoformat(),))
        return cur.rowcount

    def close(self) -> None:
        self.db.close()
        self._release_lock()

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
            raise _cannot_write(self.path, exc) from exc
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
            if isinstance(exc, sqlite3.Error) and storage_fault(exc):
                raise _cannot_write(self.path, exc) from exc
            raise  # a constraint or a value: this command's fault, not the storage's
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
        self.db.execute("INSERT OR IGNORE INTO commands (role, device, id, at, type, reply) "
                        "VALUES (?,?,?,?,?,?)",
                        (role, device, cmd_id, at.isoformat(), ctype, reply.decode("utf-8")))

    # -- facts --------------------------------------------------------------------------
    def save_ticket(self, day: date, t: Ticket, new: bool = False) -> None:
        """A new ticket is inserted (a number already given fails loudly, never overwrites);
        a changed one is updated in place."""
        values = (t.seq, t.service, str(t.kind), str(t.status), int(t.priority),
                  _iso(t.issued_at), _iso(t.entry_at), _iso(t.called_at), _iso(t.closed_at),
                  t.counter, t.booking.id if t.booking else None,
                  _iso(t.booking.start) if t.booking else None,
                  str(t.arrival) if t.arrival else None, t.reason, t.officer,
                  ticket_to_json(t))
        if new:
            self.db.execute(
                f"INSERT INTO tickets (day, number, {TICKET_COLUMNS}) "
                f"VALUES (?,?,{','.join('?' * len(values))})",
                (day.isoformat(), t.number, *values))
            return
        cur = self.db.execute(
            f"UPDATE tickets SET {', '.join(c + '=?' for c in TICKET_COLUMNS.split(', '))} "
            "WHERE day=? AND number=?", (*values, day.isoformat(), t.number))
        if cur.rowcount != 1:
            raise sqlite3.IntegrityError(f"ticket {t.number} of {day} is not stored")

    def save_counter(self, day: date, c: CounterState) -> None:
        self.db.execute("INSERT OR REPLACE INTO counters (day, id, status, current, since, "
                        "officer) VALUES (?,?,?,?,?,?)",
                        (day.isoformat(), c.id, str(c.status), c.current, _iso(c.since),
                         c.officer))

    def append_event(self, day: date, at: datetime, change: str, ticket: str | None,
                     counter: str | None, body: bytes) -> None:
        self.db.execute("INSERT INTO events (day, at, change, ticket, counter, body) "
                        "VALUES (?,?,?,?,?,?)",
                        (day.isoformat(), at.isoformat(), change, ticket, counter,
                         body.decode("utf-8")))

    def record(self, hall: Hall, fact: Fact, ticket: Ticket | None) -> None:
        """Make the tables match the hall after `fact` (counters: see save_counters)."""
        if ticket is not None:
            self.save_ticket(hall.day, ticket, new=isinstance(fact, Issued))
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
                self.db.execute("INSERT OR REPLACE INTO days (day, closed_at) VALUES (?,?)",
                                (hall.day.isoformat(), at.isoformat()))
            case (Issued() | Called() | Closed() | Transferred() | CounterSet() | SignedIn()
                  | SignedOut() | SignInFailed() | Overdue() | Checked()):
                pass  # the ticket (above), the counters (save_counters) or the events hold them
            case _:
                assert_never(fact)

    def save_counters(self, hall: Hall) -> None:
        for c in hall.counters.values():
            self.save_counter(hall.day, c)

    # -- rebuild ------------------------------------------------------------------------
    def load_hall(self, office: OfficeConfig, day: date) -> Hall:
        d = day.isoformat()
        counters = {cid: CounterState(cid) for cid in office.counters}
        for cid, status, current, since, officer in self.db.execute(
                "SELECT id, status, current, since, officer FROM counters WHERE day=?", (d,)):
            if cid in counters:
                counters[cid] = CounterState(cid, CounterStatus(status), current, _dt(since),
                                             officer if officer in office.officers else None)
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
        for counter, at, body in self.db.execute(
                "SELECT counter, at, body FROM events WHERE day=? AND change='sign_in_failed' "
                "ORDER BY n", (d,)):
            apply(hall, SignInFailed(counter, json.loads(body).get("officer", ""),
                                     datetime.fromisoformat(at)))
        for bid, service, start, end, name in self.db.execute(
                'SELECT id, service, start, "end", name FROM bookings '
                "WHERE day >= ? AND status = 'booked'", (d,)):
            hall.bookings[bid] = Booking(bid, service, datetime.fromisoformat(start),
                                         datetime.fromisoformat(end), name)
        hall.cancelled = {bid for (bid,) in self.db.execute(
            "SELECT id FROM bookings WHERE day = ? AND status = 'cancelled'", (d,))}
        hall.moved_away = {bid: date.fromisoformat(day) for bid, day in self.db.execute(
            "SELECT id, day FROM bookings WHERE moved_from = ? AND day != ?", (d, d))}
        hall.booking_ids = {bid for (bid,) in self.db.execute("SELECT id FROM bookings")}
        hall.closed = self.db.execute("SELECT 1 FROM days WHERE day=? AND closed_at IS NOT NULL",
                                      (d,)).fetchone() is not None
        return hall


def _identity(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _check_sidecars(path: Path) -> None:
    """The -wal and -shm files SQLite maps into memory: a broken one would kill the process
    with SIGBUS later, so say so now."""
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        try:
            st = os.lstat(side)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(st.st_mode):
            raise StoreError(f"{side} không phải là tệp thường; hãy chuyển nó đi (cơ sở dữ "
                             "liệu có thể cần bản sao lưu gần nhất)",
                             f"{side} is not a regular file; move it away (the database "
                             "may need its last backup)")
        try:
            with open(side, "r+b"):
                pass
        except OSError as exc:
            raise StoreError(
                f"không ghi được {side} ({exc.strerror}): cho người dùng của bộ điều phối "
                f"quyền ghi tệp này và thư mục {path.parent}",
                f"cannot write {side} ({exc.strerror}): give the dispatcher's user write "
                f"access to it and to {path.parent}") from exc


def take_lock(path: Path) -> int:
    """An OS lock beside the database, released by the kernel when the process dies."""
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "unknown"
        finally:
            os.close(fd)
        raise AlreadyRunning(
            f"Một bộ điều phối khác đang dùng cơ sở dữ liệu {path} ({holder}). Mỗi đơn vị "
            f"chỉ chạy một bộ điều phối.",
            f"Another dispatcher is using the database {path} ({holder}). An office runs "
            f"one dispatcher only: stop the other one first.") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
    return fd
