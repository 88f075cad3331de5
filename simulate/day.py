"""The simulated working day: citizens and staff sending commands through the real core."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from motcua import handlers, protocol, tokens
from motcua.config import OfficeConfig
from motcua.facts import BookingCancelled, Called, apply
from motcua.model import CounterState, Hall
from motcua.protocol import Rejected
from motcua.views import Snapshot
from motcua.waits import counted_wait, wait_group
from simulate.arrivals import SIM_KEY, SIM_KID, Citizen, open_spans
from simulate.profiles import SimulationError

REASONS = ("Ngoài thẩm quyền: thuộc UBND cấp xã", "Hồ sơ thuộc BHXH tỉnh khác")


@dataclass
class Visit:
    """One ticket's day, as the statistics need it."""

    number: str
    service: str
    group: str  # the wait group (motcua.waits)
    issued: datetime
    est: int  # est_wait_min in the kiosk's reply
    est_alt: float | None = None  # another estimator's, for comparison
    waiting: int = 0  # tickets waiting in the hall when it was issued (itself included)
    called: datetime | None = None
    wait: float | None = None  # counted_wait, once called
    left: bool = False  # gave up before being called


@dataclass(frozen=True)
class Step:
    """One command as a device sends it, for replaying through a real dispatcher."""

    at: datetime
    role: str
    device: str
    type: str
    fields: dict[str, Any]


@dataclass
class DayResult:
    day: date
    visits: list[Visit]
    calls: list[tuple[str, str, datetime]]  # (ticket, counter, at), in order
    steps: list[Step]
    busy: dict[str, float]  # counter -> minutes serving
    open_minutes: float
    last_close: datetime
    turned_away: int  # came when closed and could not come back the same day
    cancelled: int  # bookings cancelled at the end of the day (never checked in)


Estimator = Callable[[Hall, OfficeConfig, datetime, str], float]


class DaySim:
    """A discrete-event working day: citizens at the kiosk, staff at the counters, and the real
    core (handlers.decide, facts.apply, views.Snapshot) deciding every call."""

    def __init__(self, office: OfficeConfig, day: date, people: list[Citizen], policy: str,
                 estimator: Estimator | None = None):
        if policy not in ("motcua", "fifo"):
            raise SimulationError("chính sách phải là motcua hoặc fifo",
                                  "the policy must be motcua or fifo")
        self.office, self.day, self.people, self.policy = office, day, people, policy
        self.estimator = estimator
        self.hall = Hall(day=day, counters={c: CounterState(c) for c in office.counters})
        # What the portal told the office; the dispatcher loads the same from its bookings table.
        self.hall.bookings = {p.booking.id: p.booking for p in people if p.booking}
        opening = open_spans(office, day)[0][0]
        self.idle_since = dict.fromkeys(office.counters, opening)
        self.events: list[tuple[datetime, int, str, Any]] = []
        self.n = 0
        self.by_ticket: dict[str, Citizen] = {}
        self.visits: dict[str, Visit] = {}
        self.calls: list[tuple[str, str, datetime]] = []
        self.steps: list[Step] = []
        self.turned_away = 0

    def push(self, at: datetime, kind: str, data: Any) -> None:
        self.n += 1
        heapq.heappush(self.events, (at, self.n, kind, data))

    def send(self, at: datetime, role: str, device: str, ctype: str,
             **fields: Any) -> handlers.Decision | Rejected:
        """One command through the same parser and handlers the dispatcher uses."""
        self.steps.append(Step(at, role, device, ctype, fields))
        command = protocol.PARSERS[role][ctype](fields)
        try:
            decision = handlers.decide(self.hall, command, handlers.Context(
                self.office, at, role, device))
        except Rejected as exc:
            return exc
        for fact in decision.facts:
            apply(self.hall, fact)
            if isinstance(fact, Called) and not fact.recall:
                self.calls.append((fact.number, fact.counter, at))
                self._called(fact.number, fact.counter, at)
        return decision

    def run(self) -> DayResult:
        for p in self.people:
            if p.arrive is not None:
                self.push(p.arrive, "arrive", p)
        last = open_spans(self.office, self.day)[-1][1]
        while self.events:
            at, _, kind, data = heapq.heappop(self.events)
            last = max(last, at)
            getattr(self, f"_{kind}")(at, data)
        decision = self.send(last, "admin", "sim", "close_day")
        facts = decision.facts if isinstance(decision, handlers.Decision) else []
        cancelled = sum(isinstance(f, BookingCancelled) for f in facts)
        busy = dict.fromkeys(self.office.counters, 0.0)
        for t in self.hall.tickets.values():
            if t.counter and t.called_at and t.closed_at:
                busy[t.counter] += (t.closed_at - t.called_at).total_seconds() / 60
        spans = open_spans(self.office, self.day)
        return DayResult(self.day, list(self.visits.values()), self.calls, self.steps, busy,
                         sum((e - s).total_seconds() / 60 for s, e in spans), last,
                         self.turned_away, cancelled)

    # -- citizens -----------------------------------------------------------------------
    def _arrive(self, at: datetime, p: Citizen) -> None:
        if p.booking is not None:
            token = tokens.sign({"jti": p.booking.id, "aud": self.office.id, "svc": p.service,
                                 "start": p.booking.start.isoformat(),
                                 "end": p.booking.end.isoformat(),
                                 "iat": int(p.booking.start.timestamp()) - 7 * 86400},
                                SIM_KEY, SIM_KID)
            result = self.send(at, "kiosk", "k2", "check_in", token=token)
        else:
            result = self.send(at, "kiosk", "k1", "walk_in", service=p.service,
                               priority=p.priority)
        if isinstance(result, Rejected):
            opens = result.extra.get("opens_at") if result.code == "office_closed" else None
            if opens and datetime.fromisoformat(opens).date() == self.day:
                self.push(datetime.fromisoformat(opens), "arrive", p)  # back after lunch
            else:
                self.turned_away += 1
            return
        assert result.ticket is not None
        t = self.hall.tickets[result.ticket]
        view = Snapshot(self.hall, self.office, at).ticket(t)
        self.by_ticket[t.number] = p
        self.visits[t.number] = Visit(t.number, t.service, wait_group(t.kind, t.arrival), at,
                                      view.est_wait_min, waiting=len(self.hall.queue))
        if self.estimator is not None:
            alt = self.estimator(self.hall, self.office, at, t.number)
            self.visits[t.number].est_alt = None if math.isnan(alt) else round(alt)
        self._dispatch(at, t.service)

    def _dispatch(self, at: datetime, service: str) -> None:
        """Idle counters of the service take a look, the longest idle first."""
        idle = [c.id for c in self.office.counters.values()
                if service in c.services and self.hall.counters[c.id].idle()]
        for cid in sorted(idle, key=lambda c: self.idle_since[c]):
            self._take_next(at, cid)
            if self.hall.counters[cid].current is not None:
                return

    def _called(self, number: str, cid: str, at: datetime) -> None:
        p, visit = self.by_ticket[number], self.visits[number]
        if visit.called is None:
            t = self.hall.tickets[number]
            visit.called = at
            visit.wait = counted_wait(t.kind, t.arrival, t.issued_at, at,
                                      t.booking.start if t.booking else None)
        if p.patience is not None and (at - visit.issued).total_seconds() / 60 > p.patience:
            visit.left = True  # gone: called twice, then marked absent
            self.push(at + timedelta(minutes=1), "recall", cid)
            self.push(at + timedelta(minutes=2), "absent", cid)
        else:
            self.push(at + timedelta(minutes=p.minutes), "finish", cid)

    # -- staff --------------------------------------------------------------------------
    def _take_next(self, at: datetime, cid: str) -> None:
        was_busy = self.hall.counters[cid].current is not None
        if self.policy == "motcua":
            self.send(at, "counter", cid, "next")
        else:  # plain FIFO: the oldest waiting ticket of the counter's services, called by number
            services = self.office.counters[cid].services
            mine = [t for t in self.hall.waiting() if t.service in services]
            if mine:
                first = min(mine, key=lambda t: (t.entry_at, t.seq))
                self.send(at, "counter", cid, "call", ticket=first.number)
            elif self.hall.counters[cid].current is not None:
                self.send(at, "counter", cid, "done")
        if was_busy and self.hall.counters[cid].current is None:
            self.idle_since[cid] = at

    def _finish(self, at: datetime, cid: str) -> None:
        number = self.hall.counters[cid].current
        if number is not None and self.by_ticket[number].refuse:
            reason = REASONS[self.by_ticket[number].id % len(REASONS)]
            self.send(at, "counter", cid, "refuse", reason=reason,
                      guidance="Liên hệ cơ quan có thẩm quyền")
        self._take_next(at, cid)

    def _recall(self, at: datetime, cid: str) -> None:
        self.send(at, "counter", cid, "recall")

    def _absent(self, at: datetime, cid: str) -> None:
        self.send(at, "counter", cid, "no_show")
        self._take_next(at, cid)

