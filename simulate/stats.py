"""Runs of simulated days and their figures: waits per wait group, utilisation, estimate error."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from motcua import erlang, estimate
from motcua.config import OfficeConfig
from motcua.erlang import Stats
from motcua.waits import ALL, GROUP_NAMES, GROUPS, TARGET_MIN
from simulate.arrivals import booking_capacity, busiest_hour, citizens, sim_office
from simulate.day import DayResult, DaySim, Estimator, Visit
from simulate.profiles import Profile


@dataclass
class Run:
    """Some working days under one policy and staffing."""

    policy: str
    office: OfficeConfig
    days: list[DayResult]

    def visits(self, group: str | None = None, hour: int | None = None) -> list[Visit]:
        return [v for d in self.days for v in d.visits if not v.left and v.wait is not None
                and (group is None or v.group == group) and (hour is None or v.issued.hour == hour)]

    def stats(self, group: str | None = None, hour: int | None = None) -> Stats:
        return Stats.of([v.wait for v in self.visits(group, hour) if v.wait is not None])

    def utilisation(self) -> dict[str, float]:
        return {cid: sum(d.busy[cid] for d in self.days) / sum(d.open_minutes for d in self.days)
                for cid in self.office.counters}

    def est_error(self, group: str | None = None, alt: bool = False) -> tuple[float, float]:
        """Mean absolute error and mean bias (estimate - real) of the printed wait, minutes."""
        errs = []
        for v in self.visits(group):
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



def _row(label: str, stats: list[Stats]) -> str:
    cells = " |".join(f"{st.n:5d} {st.mean:6.1f} {st.p95:6.1f} {st.max:6.1f} {st.over:6.0%}"
                      if st.n else f"{'-':>5} {'':27}" for st in stats)
    return f"{label:<34}{cells}"


def describe(runs: list[Run], profile: Profile, alt_name: str = "another estimator") -> str:
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
             f"{'group':<34}" + " |".join(f"{'n':>5} {'mean':>6} {'p95':>6} {'max':>6} {'>15m':>6}"
                                         for _ in runs)]
    for group in (*GROUPS, None):
        lines.append(_row(GROUP_NAMES[group or ALL], [r.stats(group) for r in runs]))
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
    for alt, name in ((False, "printed on tickets (estimate.ticket_minutes: the forward play "
                              f"up to {estimate.FORWARD_MAX_WAITING} waiting)"),
                      (True, alt_name)):
        if mine is None or (alt and not any(v.est_alt is not None for v in mine.visits())):
            continue
        mae, bias = mine.est_error(alt=alt)
        per = ", ".join(f"{t} {mine.est_error(t, alt)[0]:.1f}" for t in GROUPS)
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
