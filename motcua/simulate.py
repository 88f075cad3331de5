"""Peak-day simulator and capacity planner: seeded citizens and staff driving the real core."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import heapq
import math
import random
import sys
import tomllib
from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from motcua import calendar, config, erlang, estimate, handlers, protocol, tokens
from motcua.config import OfficeConfig
from motcua.erlang import TARGET_MIN, Stats
from motcua.facts import BookingCancelled, Called, apply
from motcua.model import Arrival, Booking, Counter, CounterState, CounterStatus, Hall, Kind
from motcua.policy import booking_key, general_key, window_opens
from motcua.protocol import Rejected
from motcua.views import Snapshot

BOOKING_TARGET_MIN = 5.0  # issue 8: on-time bookings, p95 after their slot starts
SIM_KID = "motcua-sim"
# A fixed key so that the same seed gives the same tokens; it signs simulated bookings only.
SIM_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"motcua simulated portal").digest())
REASONS = ("Ngoài thẩm quyền: thuộc UBND cấp xã", "Hồ sơ thuộc BHXH tỉnh khác")
TIERS = ("on_time", "late", "walk_in")
TIER_NAMES = {"on_time": "booking, on time / hẹn đúng giờ", "late": "booking, late / hẹn trễ",
              "walk_in": "walk-in / vãng lai", "all": "all / tất cả"}


class SimulationError(Exception):
    """Bad input for the simulator, said in Vietnamese and English."""

    def __init__(self, vi: str, en: str):
        super().__init__(f"{vi} / {en}")
        self.vi, self.en = vi, en


@dataclass(frozen=True)
class Profile:
    """Who comes on a day: how many, when, with what, and how long they take."""

    name: str
    visits: float  # citizens on the first day, walk-ins and bookings together
    hourly: dict[int, float]  # clock hour -> relative walk-in arrival rate
    day_factors: tuple[float, ...] = (1.0,)  # visits on later days; the last one repeats
    booking_share: float = 0.3  # Binh Duong's pilot: about 30% of visits were booked
    late_share: float = 0.1  # bookings checked in after slot start + grace
    no_show_share: float = 0.08  # bookings never checked in
    priority_share: float = 0.05
    leave_share: float = 0.05  # walk-ins who give up after 20-60 minutes of waiting
    refuse_share: float = 0.02
    service_minutes: float = 15.0
    service_cv: float = 0.6
    distribution: str = "lognormal"  # lognormal | gamma | exponential | fixed
    services: dict[str, float] = field(default_factory=dict)  # empty: the first weighs most

    def visits_on(self, index: int) -> int:
        return round(self.visits * self.day_factors[min(index, len(self.day_factors) - 1)])


PROFILES = {
    "normal": Profile("normal", 120, {7: 1.0, 8: 1.3, 9: 1.3, 10: 1.1, 11: 0.6, 13: 1.0,
                                      14: 1.0, 15: 0.8, 16: 0.4}),
    # The first working days of a month or quarter: a morning rush of one-time withdrawals.
    "peak": Profile("peak", 200, {7: 1.8, 8: 2.0, 9: 1.6, 10: 1.1, 11: 0.5, 13: 1.0, 14: 0.9,
                                  15: 0.6, 16: 0.3}, day_factors=(1.0, 0.9, 0.8, 0.7, 0.6)),
}
START = {"peak": date(2026, 12, 1), "normal": date(2026, 12, 9)}
DISTRIBUTIONS = ("lognormal", "gamma", "exponential", "fixed")


def load_profile(name: str) -> Profile:
    """A built-in profile by name, or a TOML file whose [profile] table changes a base one."""
    if name in PROFILES:
        return PROFILES[name]
    try:
        data = tomllib.loads(Path(name).read_text(encoding="utf-8")).get("profile")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SimulationError(f"không đọc được hồ sơ tải {name!r} (peak, normal hoặc tệp TOML)",
                              f"cannot read profile {name!r} (peak, normal or a TOML file): "
                              f"{exc}") from exc
    if not isinstance(data, dict):
        raise SimulationError(f"{name}: thiếu bảng [profile]", f"{name}: no [profile] table")
    base = PROFILES.get(str(data.pop("base", "normal")))
    if base is None:
        raise SimulationError(f"{name}: profile.base phải là peak hoặc normal",
                              f"{name}: profile.base must be peak or normal")
    known = {f.name for f in dataclasses.fields(Profile)}
    kw: dict[str, Any] = {"name": Path(name).stem}
    for key, value in data.items():
        hint = _check_field(key, value, known)
        if hint:
            raise SimulationError(f"{name}: profile.{key} {hint[0]}",
                                  f"{name}: profile.{key} {hint[1]}")
        kw[key] = _as_field(key, value)
    return dataclasses.replace(base, **kw)


def _number(v: Any, most: float = math.inf) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= most


def _check_field(key: str, v: Any, known: set[str]) -> tuple[str, str] | None:
    """What is wrong with one profile field (Vietnamese, English), or None."""
    if key not in known:
        return "không phải trường của hồ sơ tải", "is not a profile field"
    if key == "name":
        return None if isinstance(v, str) else ("phải là chuỗi", "must be a string")
    if key == "distribution":
        return None if v in DISTRIBUTIONS else (
            "phải là " + ", ".join(DISTRIBUTIONS), "must be one of " + ", ".join(DISTRIBUTIONS))
    if key.endswith("_share"):
        return None if _number(v, 1) else ("phải là số từ 0 đến 1", "must be a number 0 to 1")
    if key in ("visits", "service_minutes", "service_cv"):
        ok = _number(v) and (v > 0 or key == "service_cv")
        return None if ok else ("phải là số dương", "must be a positive number")
    if key == "day_factors":
        ok = isinstance(v, list) and v and all(_number(x) for x in v)
        return None if ok else ("phải là danh sách số", "must be a list of numbers")
    ok = isinstance(v, dict) and all(_number(x) for x in v.values())  # hourly, services
    if ok and key == "hourly":
        ok = all(str(h).isdigit() and int(h) < 24 for h in v)
    return None if ok else ("phải là bảng khóa = số (giờ 0-23 cho hourly)",
                            "must be a table of key = number (hours 0-23 for hourly)")


def _as_field(key: str, v: Any) -> Any:
    if key == "day_factors":
        return tuple(float(x) for x in v)
    if key in ("hourly", "services"):
        return {int(k) if key == "hourly" else str(k): float(x) for k, x in v.items()}
    return float(v) if _number(v) else v


def sim_office(office: OfficeConfig, counters: int | None = None,
               booking_counters: int | None = None) -> OfficeConfig:
    """The office with the simulated portal's key, and optionally N counters for every service,
    the first M of them taking bookings."""
    keys = {**office.booking.keys, SIM_KID: SIM_KEY.public_key()}
    office = dataclasses.replace(office, booking=dataclasses.replace(office.booking, keys=keys))
    if counters is None and booking_counters is None:
        return office
    n = counters if counters is not None else len(office.counters)
    m = booking_counters if booking_counters is not None else 2
    if not 2 <= m <= n:
        raise SimulationError(f"cần ít nhất 2 quầy nhận lịch hẹn và không quá {n} quầy",
                              f"need 2 to {n} booking counters, got {m}")
    services = tuple(office.services)
    made = {str(i): Counter(str(i), f"Quầy {i}", services, i <= m) for i in range(1, n + 1)}
    return dataclasses.replace(office, counters=made)


def open_spans(office: OfficeConfig, day: date) -> list[tuple[datetime, datetime]]:
    return [(datetime.combine(day, s, office.tz), datetime.combine(day, e, office.tz))
            for s, e in office.hours]


def booking_capacity(office: OfficeConfig) -> int:
    """Bookings a slot holds: booking counters x slot length / mean service (the portal's cap)."""
    n = sum(c.bookings for c in office.counters.values())
    return max(1, int(n * office.booking.slot_minutes // office.booking.mean_service_minutes))


def hour_segments(office: OfficeConfig, day: date) -> list[tuple[datetime, datetime]]:
    """The opening spans cut at every full hour."""
    out = []
    for s, e in open_spans(office, day):
        while s < e:
            cut = min(e, s.replace(minute=0, second=0) + timedelta(hours=1))
            out.append((s, cut))
            s = cut
    return out


def slot_starts(office: OfficeConfig, day: date) -> list[datetime]:
    slot, out = timedelta(minutes=office.booking.slot_minutes), []
    for s, e in open_spans(office, day):
        while s + slot <= e:
            out.append(s)
            s += slot
    return out


def busiest_hour(office: OfficeConfig, profile: Profile, day: date) -> tuple[int, float]:
    """The clock hour with the most tickets expected per open hour, and that rate."""
    minutes: dict[int, float] = {}
    for s, e in hour_segments(office, day):
        minutes[s.hour] = minutes.get(s.hour, 0.0) + (e - s).total_seconds() / 60
    weight = sum(profile.hourly.get(h, 0.0) * m for h, m in minutes.items()) or 1.0
    walk, booked = (profile.visits * (1 - profile.booking_share) / weight,
                    profile.visits * profile.booking_share / sum(minutes.values()))
    # Per minute: walk-ins by the hourly profile, bookings spread over the open day.
    rates = {h: 60 * (walk * profile.hourly.get(h, 0.0) + booked) for h in minutes}
    hour = max(rates, key=lambda h: (rates[h], -h))
    return hour, rates[hour]


@dataclass
class Citizen:
    id: int
    service: str
    arrive: datetime | None  # None: booked and never came
    minutes: float  # how long the counter takes
    priority: bool = False
    patience: float | None = None  # minutes before giving up; None: stays
    refuse: bool = False
    booking: Booking | None = None


def _draw_minutes(rng: random.Random, p: Profile) -> float:
    m, cv = p.service_minutes, p.service_cv
    if p.distribution == "fixed" or cv == 0:
        return m
    if p.distribution == "exponential":
        return rng.expovariate(1 / m)
    if p.distribution == "gamma":
        return rng.gammavariate(1 / cv**2, m * cv**2)
    s2 = math.log(1 + cv**2)
    return rng.lognormvariate(math.log(m) - s2 / 2, math.sqrt(s2))


def _weights(p: Profile, codes: list[str]) -> list[float]:
    if p.services:
        return [p.services.get(c, 0.0) for c in codes]
    return [1 / (i + 1) for i in range(len(codes))]  # "Nộp hồ sơ" first, the commonest


def citizens(office: OfficeConfig, profile: Profile, day: date, index: int,
             seed: int) -> list[Citizen]:
    """The day's citizens. Every random draw is made whatever the counters, so two policies or
    two staffings of one seed meet the same people; bookings over a slot's capacity come as
    walk-ins at the time they meant to arrive."""
    rng = random.Random(f"motcua-sim:{seed}:{day.isoformat()}")
    visits = profile.visits_on(index)
    n_book = round(visits * profile.booking_share)
    codes = list(office.services)
    book_codes = [c for c in codes if office.booking_counters(c)]
    segments = [(a, b, profile.hourly.get(a.hour, 0.0) * (b - a).total_seconds())
                for a, b in hour_segments(office, day)]
    if not sum(_weights(profile, codes)) or not sum(_weights(profile, book_codes)):
        raise SimulationError("hồ sơ tải không có dịch vụ nào của đơn vị nhận lịch hẹn",
                              "the profile names none of the office's booked services")
    if not sum(w for *_, w in segments):
        raise SimulationError("hồ sơ tải không có giờ nào trong giờ làm việc",
                              "the profile's hourly rates are all outside opening hours")
    slot, starts = timedelta(minutes=office.booking.slot_minutes), slot_starts(office, day)
    rules, cap, taken = office.booking, booking_capacity(office), Tally[datetime]()
    out: list[Citizen] = []
    for i in range(n_book):
        start = rng.choice(starts)
        service = rng.choices(book_codes, _weights(profile, book_codes))[0]
        u, minutes, refuse = rng.random(), _draw_minutes(rng, profile), \
            rng.random() < profile.refuse_share
        if u < profile.no_show_share:
            offset = None
        elif u < profile.no_show_share + profile.late_share:
            offset = rng.uniform(rules.grace_minutes + 1, rules.grace_minutes + 40)
        else:  # on time: some before the call-ahead window opens
            offset = rng.uniform(-25, rules.grace_minutes)
        free = [t for t in starts[starts.index(start):] + starts if taken[t] < cap]
        if free:  # a full slot: the portal offers the next free one
            start = free[0]
            taken[start] += 1
            booking = Booking(f"SIM-{day:%Y%m%d}-{i + 1:04d}", service, start, start + slot)
        else:
            booking = None  # every slot is full: they come without one
        if offset is not None or booking is not None:  # a booking that never comes is kept
            arrive = None if offset is None else start + timedelta(minutes=offset)
            out.append(Citizen(len(out), service, arrive, minutes, refuse=refuse,
                               booking=booking))
    for _ in range(visits - n_book):
        a, b, _w = rng.choices(segments, [w for *_, w in segments])[0]
        arrive = a + (b - a) * rng.random()
        service = rng.choices(codes, _weights(profile, codes))[0]
        priority = rng.random() < profile.priority_share
        patience = rng.uniform(20, 60) if rng.random() < profile.leave_share else None
        out.append(Citizen(len(out), service, arrive, _draw_minutes(rng, profile), priority,
                           patience, rng.random() < profile.refuse_share))
    return out


def counted_wait(kind: str, arrival: str | None, issued: datetime, called: datetime,
                 start: datetime | None) -> float:
    """Minutes waited as BHXH counts them: an on-time booking from its slot start (checking in
    early is not waiting for service), everyone else from the ticket's issue."""
    since = issued
    if kind == Kind.BOOKING and arrival != Arrival.LATE and start is not None:
        since = max(issued, start)
    return max(0.0, (called - since).total_seconds() / 60)


def tier_of(kind: str, arrival: str | None) -> str:
    if kind != Kind.BOOKING:
        return "walk_in"
    return "late" if arrival == Arrival.LATE else "on_time"


@dataclass
class Visit:
    """One ticket's day, as the statistics need it."""

    number: str
    service: str
    tier: str
    issued: datetime
    est: int  # est_wait_min in the kiosk's reply
    est_alt: float | None = None  # the forward estimate, for comparison
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
        self.visits[t.number] = Visit(t.number, t.service, tier_of(t.kind, t.arrival), at,
                                      view["est_wait_min"])
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


def working_days(office: OfficeConfig, start: date, k: int) -> list[date]:
    days: list[date] = []
    day = start
    while len(days) < k:
        if calendar.is_working_day(office, day):
            days.append(day)
        day += timedelta(days=1)
        if (day - start).days > 366:
            raise SimulationError("đơn vị không có ngày làm việc", "the office never opens")
    return days


@dataclass
class Run:
    """Some working days under one policy and staffing."""

    policy: str
    office: OfficeConfig
    days: list[DayResult]

    def visits(self, tier: str | None = None, hour: int | None = None) -> list[Visit]:
        return [v for d in self.days for v in d.visits if not v.left and v.wait is not None
                and (tier is None or v.tier == tier) and (hour is None or v.issued.hour == hour)]

    def stats(self, tier: str | None = None, hour: int | None = None) -> Stats:
        return Stats.of([v.wait for v in self.visits(tier, hour) if v.wait is not None])

    def utilisation(self) -> dict[str, float]:
        return {cid: sum(d.busy[cid] for d in self.days) / sum(d.open_minutes for d in self.days)
                for cid in self.office.counters}

    def est_error(self, tier: str | None = None, alt: bool = False) -> tuple[float, float]:
        """Mean absolute error and mean bias (estimate - real) of the printed wait, minutes."""
        errs = []
        for v in self.visits(tier):
            assert v.called is not None
            real = (v.called - v.issued).total_seconds() / 60
            est = v.est_alt if alt else v.est
            if est is not None:
                errs.append(est - real)
        if not errs:
            return math.nan, math.nan
        return sum(map(abs, errs)) / len(errs), sum(errs) / len(errs)


def simulate(office: OfficeConfig, profile: Profile, days: list[date], seed: int,
             policy: str = "motcua", estimator: Estimator | None = None,
             repeat: bool = False) -> Run:
    """Working days in a row, or with `repeat` the first (busiest) day again and again with
    seeds seed, seed + 1, ..."""
    office = sim_office(office)
    draws = [(days[0], 0, seed + i) if repeat else (day, i, seed) for i, day in enumerate(days)]
    return Run(policy, office, [
        DaySim(office, day, citizens(office, profile, day, i, s), policy, estimator).run()
        for day, i, s in draws])


def forward_estimate(hall: Hall, office: OfficeConfig, now: datetime, number: str) -> float:
    """Minutes until ticket `number` is called, the hall played forward under the ordering
    rules with every service taking the recent mean: due bookings go first at whichever
    counter frees up (the spill-over), early ones also wait as general tickets, and bookings
    not yet checked in take their place at the show rate seen so far today. A proposed
    replacement for estimate.wait_minutes; the simulator measures both."""
    rules = office.booking
    means = {s: estimate.mean_service_minutes(hall, office, s) for s in office.services}
    grace = timedelta(minutes=rules.grace_minutes)
    past = [b for b in hall.bookings.values() if b.start + grace < now] + \
        [t.booking for t in hall.tickets.values() if t.booking and t.booking.start + grace < now]
    shown = sum(1 for b in past if b.id in hall.checked_in)
    show = (shown + 4.5) / (len(past) + 5)  # pulled towards 90% until the day tells
    # Per service, two heaps of (order key, due, minutes, ticket number, service).
    booked: dict[str, list[tuple[Any, ...]]] = {s: [] for s in office.services}
    general: dict[str, list[tuple[Any, ...]]] = {s: [] for s in office.services}
    for t in hall.waiting():
        m = means.get(t.service, rules.mean_service_minutes)
        if (t.booking is not None and not t.transferred
                and t.arrival in (Arrival.ON_TIME, Arrival.EARLY)):
            opens = max(now, window_opens(t.booking, rules))
            booked[t.service].append((booking_key(t), opens, m, t.number, t.service))
            if opens > now:  # early: a general ticket until its window opens
                general[t.service].append((general_key(t), now, m, t.number, t.service))
        else:
            general[t.service].append((general_key(t), now, m, t.number, t.service))
    for b in hall.bookings.values():
        if (b.id not in hall.checked_in and b.id not in hall.cancelled
                and b.start + grace >= now and b.service in booked):
            key = (b.start, b.start, math.inf, b.id)
            opens = max(now, window_opens(b, rules))
            booked[b.service].append((key, opens, means[b.service] * show, "", b.service))
    for q in (*booked.values(), *general.values()):
        heapq.heapify(q)
    # Busy counters free up one after another, the longest-serving first, spread over one mean
    # service: the core's "half a service for the first in line", counter by counter. (Using
    # each counter's elapsed time did worse: the first of several random finishes comes sooner
    # than the earliest expected one.)
    busy = sorted((c.since, cid) for cid, c in hall.counters.items()
                  if c.status is CounterStatus.OPEN and cid in office.counters
                  and c.current is not None and c.since is not None)
    free = [(now, cid) for cid, c in hall.counters.items()
            if c.status is CounterStatus.OPEN and cid in office.counters and c.current is None]
    for i, (_, cid) in enumerate(busy):
        current = hall.tickets[hall.counters[cid].current or ""]
        m = means.get(current.service, rules.mean_service_minutes)
        free.append((now + timedelta(minutes=(i + 0.5) * m / len(busy)), cid))
    heapq.heapify(free)
    taken: set[str] = set()
    while free:
        at, cid = heapq.heappop(free)
        services = [s for s in office.counters[cid].services if s in booked]
        for q in (*(booked[s] for s in services), *(general[s] for s in services)):
            while q and q[0][3] in taken:  # an early booking already called from the other heap
                heapq.heappop(q)
        due = [booked[s][0] for s in services if booked[s] and booked[s][0][1] <= at]
        ready = [general[s][0] for s in services if general[s]]
        if not due and not ready:  # nothing now: wait for the next booking window, if any
            later = [booked[s][0][1] for s in services if booked[s]]
            if later:
                heapq.heappush(free, (min(later), cid))
            continue
        pick = min(due) if due else min(ready)
        heapq.heappop(booked[pick[4]] if due else general[pick[4]])
        if pick[3] == number:
            return (at - now).total_seconds() / 60
        if pick[3]:
            taken.add(pick[3])
        heapq.heappush(free, (at + timedelta(minutes=pick[2]), cid))
    return math.nan


@dataclass
class Plan:
    hour: int  # the busiest hour
    rate: float  # tickets per hour then
    erlang: int  # counters Erlang C asks for at that rate
    tried: list[tuple[int, int, float, float]]  # (counters, booking counters, p95 hour, p95 bk)
    counters: int | None = None
    booking_counters: int | None = None


def plan(office: OfficeConfig, profile: Profile, days: list[date], seed: int,
         policy: str = "motcua", most: int = 60) -> Plan:
    """The fewest counters, then the fewest booking counters, for which tickets issued in the
    busiest hour of the profile's busiest day (simulated len(days) times) wait at most 15
    minutes in 95 cases of 100, and (under motcua) on-time bookings at most 5 minutes after
    their slot starts."""
    hour, rate = busiest_hour(office, profile, days[0])
    load = rate * profile.service_minutes / 60
    result = Plan(hour, rate, erlang.servers_for(load, profile.service_minutes, TARGET_MIN, 0.05),
                  [])
    # The hour's load is the floor only when the rest of the day cannot absorb the rush.
    for n in range(max(2, math.floor(load * 0.7)), most + 1):
        for m in range(2, n + 1):
            run = simulate(sim_office(office, n, m), profile, days, seed, policy, repeat=True)
            in_hour, booked = run.stats(hour=hour).p95, run.stats("on_time").p95
            result.tried.append((n, m, in_hour, booked))
            if not in_hour <= TARGET_MIN:
                break  # more booking counters do not help the walk-ins: open one more counter
            if policy == "fifo" or booked <= BOOKING_TARGET_MIN:
                result.counters, result.booking_counters = n, m
                return result
    return result


def _row(label: str, stats: list[Stats]) -> str:
    cells = " |".join(f"{st.n:5d} {st.mean:6.1f} {st.p95:6.1f} {st.max:6.1f} {st.over:6.0%}"
                      if st.n else f"{'-':>5} {'':27}" for st in stats)
    return f"{label:<34}{cells}"


def describe(runs: list[Run], profile: Profile) -> str:
    """The figures of runs over the same citizens, side by side (the policy asked for first);
    the wait estimates are measured under the motcua policy, the one they are made for."""
    first = runs[0]
    office, days = first.office, first.days
    booking = sum(c.bookings for c in office.counters.values())
    head = " |".join(f"{r.policy + ' policy':>34}" for r in runs)
    lines = [f"Counters / quầy: {len(office.counters)}, {booking} take bookings; "
             f"{', '.join(str(len(d.visits)) for d in days)} tickets on "
             f"{', '.join(d.day.isoformat() for d in days)} (profile {profile.name}, slot "
             f"capacity {booking_capacity(office)} bookings)",
             f"Waiting, minutes (on-time bookings from their slot start)\n{'':34}{head}",
             f"{'tier':<34}" + " |".join(f"{'n':>5} {'mean':>6} {'p95':>6} {'max':>6} {'>15m':>6}"
                                         for _ in runs)]
    for tier in (*TIERS, None):
        lines.append(_row(TIER_NAMES[tier or "all"], [r.stats(tier) for r in runs]))
    hour, rate = busiest_hour(office, profile, days[0].day)
    lines.append(_row(f"issued {hour:02d}:00-{hour + 1:02d}:00 (busiest)",
                      [r.stats(hour=hour) for r in runs]))
    for r in runs:
        u = r.utilisation()
        lines.append(f"Utilisation / công suất quầy ({r.policy}, busy time / opening hours): "
                     f"{sum(u.values()) / len(u):.0%} ("
                     + ", ".join(f"{c}: {v:.0%}" for c, v in u.items()) + ")")
    lines.append(f"Hall empty / hết khách: "
                 f"{', '.join(d.last_close.strftime('%H:%M') for d in days)}; bookings "
                 f"cancelled at close: {sum(d.cancelled for d in days)}; turned away (came "
                 f"after hours): {sum(d.turned_away for d in days)}; gave up waiting: "
                 f"{sum(v.left for d in days for v in d.visits)}")
    mine = next((r for r in runs if r.policy == "motcua"), None)
    for alt, name in ((False, "estimate.wait_minutes (on tickets now)"),
                      (True, "simulate.forward_estimate (proposed)")):
        if mine is None or (alt and not any(v.est_alt is not None for v in mine.visits())):
            continue
        mae, bias = mine.est_error(alt=alt)
        per = ", ".join(f"{t} {mine.est_error(t, alt)[0]:.1f}" for t in TIERS)
        lines.append(f"Wait estimate error, {name}: mean abs {mae:.1f} min, bias {bias:+.1f} "
                     f"({per})")
    load = rate * profile.service_minutes / 60
    c = len(office.counters)
    ref = (f"P(wait) {erlang.erlang_c(c, load):.0%}, mean wait "
           f"{erlang.mean_wait(c, load, profile.service_minutes):.1f} min, p95 "
           f"{erlang.wait_quantile(c, load, profile.service_minutes, 0.95):.1f} min, over 15 min "
           f"{erlang.wait_over(c, load, profile.service_minutes, TARGET_MIN):.0%}"
           if load < c else "overloaded: the queue grows without end")
    lines.append(f"Erlang C at the busiest hour ({rate:.1f} tickets/h, {load:.1f} erlang, "
                 f"{c} counters, {profile.service_minutes:g} min mean): {ref}; it asks for "
                 f"{erlang.servers_for(load, profile.service_minutes, TARGET_MIN, 0.05)} "
                 f"counters for 95% within 15 min")
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"motcua simulate: tham số không hợp lệ / invalid arguments: {message}\n")


def main(argv: list[str] | None = None) -> int:
    p = _Parser(prog="motcua simulate", description=__doc__)
    p.add_argument("--config", required=True, help="the office file (office.toml)")
    p.add_argument("--profile", default="peak", help="peak, normal or a TOML file")
    p.add_argument("--counters", type=int, help="N counters serving every service "
                   "(default: the office's own counters)")
    p.add_argument("--booking-counters", type=int, help="how many of them take bookings (2)")
    p.add_argument("--days", type=int, default=1, help="working days in a row (K)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--policy", choices=("motcua", "fifo"), default="motcua",
                   help="the policy to report first and to plan with")
    p.add_argument("--plan", action="store_true", help="find the fewest counters for the target")
    p.add_argument("--start", type=date.fromisoformat, help="first day, YYYY-MM-DD")
    p.add_argument("--visits", type=float, help="citizens on the first day (overrides profile)")
    args = p.parse_args(argv)
    try:
        office = config.load(args.config)
    except config.ConfigError as exc:
        print(f"motcua simulate: tệp cấu hình có lỗi / the office file has mistakes:\n{exc}",
              file=sys.stderr)
        return 2
    try:
        if not 1 <= args.days <= 60:
            raise SimulationError("--days phải từ 1 đến 60", "--days must be 1 to 60")
        if args.counters is not None and not 2 <= args.counters <= 200:
            raise SimulationError("--counters phải từ 2 đến 200", "--counters must be 2 to 200")
        if args.visits is not None and not 0 < args.visits <= 20000:
            raise SimulationError("--visits phải từ 1 đến 20000", "--visits must be 1 to 20000")
        profile = load_profile(args.profile)
        if args.visits is not None:
            profile = dataclasses.replace(profile, visits=args.visits)
        office = sim_office(office, args.counters, args.booking_counters)
        start = args.start or START.get(profile.name, START["peak"])
        days = working_days(office, start, args.days)
        print(f"motcua simulate: {office.name}, profile {profile.name} ({profile.visits:g} "
              f"citizens on the first day), seed {args.seed}")
        if args.plan:
            result = plan(office, profile, working_days(office, start, max(args.days, 5)),
                          args.seed, args.policy)
            print(f"Plan / kế hoạch: busiest hour {result.hour:02d}:00, {result.rate:.1f} "
                  f"tickets/h; the target: p95 wait of that hour <= {TARGET_MIN:g} min, on-time "
                  f"bookings p95 <= {BOOKING_TARGET_MIN:g} min ({max(args.days, 5)} runs of "
                  f"the busiest day)\n{'counters':>9} {'booking':>8} {'p95 hour':>9} "
                  f"{'p95 booking':>12}")
            for n, m, hour_p95, bk in result.tried:
                print(f"{n:>9} {m:>8} {hour_p95:>9.1f} {bk:>12.1f}")
            if result.counters is None:
                print("No staffing up to 60 counters holds the target / không đạt mục tiêu.")
                return 1
            print(f"=> {result.counters} counters, {result.booking_counters} of them for "
                  f"bookings / {result.counters} quầy, {result.booking_counters} quầy nhận "
                  f"lịch hẹn (Erlang C alone would say {result.erlang}).\n")
            office = sim_office(office, result.counters, result.booking_counters)
        runs = [simulate(office, profile, days, args.seed, policy,
                         forward_estimate if policy == "motcua" else None)
                for policy in (args.policy, "fifo" if args.policy == "motcua" else "motcua")]
        print(describe(runs, profile))
    except SimulationError as exc:
        print(f"motcua simulate: {exc.vi}\n{exc.en}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
