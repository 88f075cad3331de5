"""The capacity planner: the fewest counters and booking counters that hold the target."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from motcua import erlang
from motcua.config import OfficeConfig
from motcua.waits import TARGET_MIN
from simulate.arrivals import busiest_hour, sim_office
from simulate.profiles import Profile
from simulate.stats import simulate

BOOKING_TARGET_MIN = 5.0  # issue 8: on-time bookings, p95 after their slot starts


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
