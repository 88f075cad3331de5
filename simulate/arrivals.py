"""The simulated office and its citizens: opening spans, booking slots and seeded arrivals."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import random
from collections import Counter as Tally
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from motcua import calendar
from motcua.config import OfficeConfig
from motcua.model import Booking, Counter
from simulate.profiles import Profile, SimulationError

SIM_KID = "motcua-sim"
# A fixed key so that the same seed gives the same tokens; it signs simulated bookings only.
SIM_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"motcua simulated portal").digest())


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

