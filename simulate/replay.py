"""A day of a dispatcher's database played again through the core: the hall at every ticket's
issue, what each wait estimator says then, beside what was printed and the wait that came.

The hall is rebuilt from the event log (issued, called, closed, transferred, paused), the way
the dispatcher changed it, so the estimate printed on each ticket can be recomputed: that
they agree is the replay's own check. Bookings are the day's as the bookings table holds them
at the end of the day (booked, or cancelled at close as no-shows), known from the opening: a
booking added during the day counts from the start.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

from motcua import estimate
from motcua.config import OfficeConfig
from motcua.facts import Called, Closed, CounterSet, Fact, Issued, Transferred, apply
from motcua.model import Booking, CounterState, CounterStatus, Hall, Status, Ticket
from motcua.waits import wait_group
from simulate.profiles import SimulationError

Estimator = Callable[[Hall, OfficeConfig, datetime, str], float]
CLOSING = {"done", "no_show", "refused", "unserved"}
COUNTER = {"counter_paused": CounterStatus.PAUSED, "counter_open": CounterStatus.OPEN}
# The estimators compared: the formula tickets printed before, the forward play, and what
# tickets print now (the play up to estimate.FORWARD_MAX_WAITING waiting, then the formula).
ESTIMATORS: dict[str, Estimator] = {"formula": estimate.queue_minutes,
                                    "forward": estimate.forward_minutes,
                                    "tickets": estimate.printed_minutes}


def open_readonly(path: Path) -> sqlite3.Connection:
    """A dispatcher's database, read only (safe beside a running dispatcher)."""
    if not path.is_file():
        raise SimulationError(f"không có cơ sở dữ liệu {path}", f"no database at {path}")
    try:
        db = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, timeout=5)
        db.execute("SELECT 1 FROM tickets JOIN events LIMIT 1")
    except sqlite3.Error as exc:
        raise SimulationError(f"không đọc được {path}: {exc}",
                              f"cannot read {path} as a motcua database: {exc}") from exc
    return db


@dataclass
class Issue:
    """One ticket at its issue, and its first call."""

    number: str
    service: str
    group: str  # the wait group (motcua.waits)
    issued: datetime
    printed: int | None  # est_wait_min of the issued event: what the kiosk printed
    waiting: int  # waiting in the hall then, itself included
    estimates: dict[str, float] = field(default_factory=dict)  # estimator -> minutes
    called: datetime | None = None

    @property
    def wait(self) -> float | None:
        """Minutes from issue to the first call: what an estimate at issue foretells."""
        return None if self.called is None else (self.called - self.issued).total_seconds() / 60


def _bookings(db: sqlite3.Connection, day: date) -> dict[str, Booking]:
    return {bid: Booking(bid, service, datetime.fromisoformat(start), datetime.fromisoformat(end))
            for bid, service, start, end in db.execute(
                'SELECT id, service, start, "end" FROM bookings WHERE day = ? AND (status = '
                "'booked' OR cancel_reason = 'no_show')", (day.isoformat(),))}


def _fresh(body: str, issued: dict) -> Ticket:
    """The ticket as it was issued: its stored body without what happened to it since."""
    from dispatcher.store import ticket_from_json  # the one reader of a stored ticket

    t = ticket_from_json(body)
    return dataclasses.replace(
        t, service=issued.get("service", t.service), status=Status.WAITING, transferred=False,
        target_counter=None, counter=None, called_at=None, closed_at=None, reason=None,
        guidance=None, officer=None)


def _fact(change: str, number: str | None, counter: str | None, at: datetime,
          body: dict) -> Fact | None:
    if change == "called" and number and counter:
        return Called(number, counter, at)
    if change in CLOSING and number:
        return Closed(number, Status(change), at)
    if change == "transferred" and number:
        t = body.get("ticket") or {}
        if t.get("target_counter"):
            return Transferred(number, at, counter=t["target_counter"])
        return Transferred(number, at, service=t.get("service"))
    if change in COUNTER and counter:
        return CounterSet(counter, COUNTER[change], at)
    return None


def replay(db: sqlite3.Connection, office: OfficeConfig, day: date,
           estimators: dict[str, Estimator]) -> list[Issue]:
    """Every ticket of `day`, in issue order, with each estimator's minutes at its issue."""
    d = day.isoformat()
    stored = {n: b for n, b in db.execute("SELECT number, body FROM tickets WHERE day = ?", (d,))}
    if not stored:
        raise SimulationError(f"cơ sở dữ liệu không có phiếu nào ngày {d}",
                              f"the database holds no tickets on {d}")
    hall = Hall(day=day, counters={c: CounterState(c) for c in office.counters})
    hall.bookings = _bookings(db, day)
    issues: dict[str, Issue] = {}
    for change, number, counter, at_text, text in db.execute(
            "SELECT change, ticket, counter, at, body FROM events WHERE day = ? ORDER BY n",
            (d,)):
        at = datetime.fromisoformat(at_text).astimezone(office.tz)
        body = json.loads(text)
        if change in ("issued", "checked_in") and number in stored:
            shown = body.get("ticket") or {}
            t = _fresh(stored[number], shown)
            apply(hall, Issued(t, change))
            issue = Issue(t.number, t.service, wait_group(str(t.kind), str(t.arrival) if t.arrival
                                                            else None), at,
                          shown.get("est_wait_min"), len(hall.queue))
            for name, estimator in estimators.items():
                issue.estimates[name] = estimator(hall, office, at, t.number)
            issues[t.number] = issue
            continue
        fact = _fact(change, number, counter, at, body)
        if fact is None or (number is not None and number not in hall.tickets) or (
                counter is not None and counter not in hall.counters):
            continue
        apply(hall, fact)
        if isinstance(fact, Called) and number in issues and issues[number].called is None:
            issues[number].called = at
    return list(issues.values())


@dataclass(frozen=True)
class Error:
    """How far estimates fell from the waits that came, minutes."""

    n: int
    mae: float
    bias: float  # mean of estimate - wait: positive, the ticket promised too long a wait
    within_5: float  # share within +-5 minutes

    @classmethod
    def of(cls, pairs: list[tuple[float, float]]) -> Error:
        errs = [e - w for e, w in pairs if not math.isnan(e)]
        if not errs:
            return cls(0, math.nan, math.nan, math.nan)
        return cls(len(errs), sum(map(abs, errs)) / len(errs), sum(errs) / len(errs),
                   sum(abs(x) <= 5 for x in errs) / len(errs))


def errors(issues: list[Issue], name: str, service: str | None = None) -> Error:
    """The error of estimator `name` (or "printed") over the called tickets."""
    pairs = []
    for i in issues:
        if i.wait is None or (service is not None and i.service != service):
            continue
        est = (math.nan if i.printed is None else float(i.printed)) if name == "printed" \
            else i.estimates[name]
        pairs.append((est, i.wait))
    return Error.of(pairs)


def describe(issues: list[Issue], names: list[str], services: list[str]) -> str:
    called = [i for i in issues if i.wait is not None]
    lines = [f"{len(issues)} tickets, {len(called)} called; at most "
             f"{max((i.waiting for i in issues), default=0)} waiting at an issue",
             f"{'estimator':<10} {'service':<8} {'n':>5} {'MAE':>6} {'bias':>6} {'±5 min':>7}"]
    for name in ["printed", *names]:
        for service in [None, *services]:
            e = errors(issues, name, service)
            if e.n:
                lines.append(f"{name:<10} {service or 'all':<8} {e.n:>5} {e.mae:>6.2f} "
                             f"{e.bias:>+6.2f} {e.within_5:>7.0%}")
    for name in names:
        same = sum(1 for i in issues if i.printed is not None
                   and not math.isnan(i.estimates[name]) and round(i.estimates[name]) == i.printed)
        lines.append(f"{name} gives the printed figure for {same} of {len(issues)} tickets")
    return "\n".join(lines)
