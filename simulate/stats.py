"""Runs of simulated days and their figures: waits per wait group, utilisation, estimate error."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from motcua import erlang
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


def describe(runs: list[Run], profile: Profile, alt_name: str = "another estimate") -> str:
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
             f"Waiting / thời gian chờ, minutes (on-time bookings from their slot start; "
             f"p95: 95 of 100 waited at most this; >15m: the share over the {TARGET_MIN:g}-"
             f"minute target)\n{'':34}{head}",
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
    if mine is not None:
        lines += estimate_lines(mine, alt_name)
    lines.append(erlang_line(office, profile, rate, hour, first))
    return "\n".join(lines)


# The wait groups' names in a sentence (GROUP_NAMES is for table rows).
IN_WORDS = {"on_time": "on-time bookings", "late": "late bookings", "walk_in": "walk-ins"}


def estimate_lines(run: Run, alt_name: str) -> list[str]:
    """How far the expected wait printed on each ticket was from the wait that followed;
    and the same for another estimate (`alt_name`) when it was computed."""
    lines = []
    for alt, name in ((False, "Wait printed on the tickets / thời gian chờ in trên phiếu"),
                      (True, alt_name)):
        if alt and not any(v.est_alt is not None for v in run.visits()):
            continue
        mae, bias = run.est_error(alt=alt)
        if math.isnan(mae):
            continue
        side = "too long" if bias > 0 else "too short"
        per = ", ".join(f"{IN_WORDS[g]} {run.est_error(g, alt)[0]:.1f}" for g in GROUPS
                        if not math.isnan(run.est_error(g, alt)[0]))
        lines.append(f"{name}: {mae:.1f} min off the real wait on average ({per}); "
                     f"{abs(bias):.1f} min {side} overall")
    return lines


def erlang_line(office: OfficeConfig, profile: Profile, rate: float, hour: int,
                run: Run) -> str:
    """Erlang C beside the simulation, with what each of them assumes."""
    load = rate * profile.service_minutes / 60
    c = len(office.counters)
    minutes = profile.service_minutes
    if load < c:
        says = (f"{erlang.wait_over(c, load, minutes, TARGET_MIN):.0%} would wait over "
                f"{TARGET_MIN:g} min, 95 of 100 at most "
                f"{erlang.wait_quantile(c, load, minutes, 0.95):.1f} min (mean "
                f"{erlang.mean_wait(c, load, minutes):.1f})")
    else:
        says = "the queue would grow without end"
    sim = run.stats(hour=hour)
    simulated = (f"{sim.over:.0%} over {TARGET_MIN:g} min, 95 of 100 at most {sim.p95:.1f} "
                 f"min" if sim.n else "nobody")
    return (f"Erlang C, the textbook formula, for the busiest hour ({rate:.1f} tickets an "
            f"hour, {c} counters, {minutes:g} min a citizen): {says}; it would ask for "
            f"{erlang.servers_for(load, minutes, TARGET_MIN, 0.05)} counters. It assumes "
            f"that hour's rate goes on for ever, walk-ins only, and service times as uneven "
            f"as the exponential law; the simulation ({simulated} that hour) plays the real "
            f"day: bookings at their slots, service times of this profile ({profile.distribution},"
            f" spread {profile.service_cv:g} of the mean), and quieter hours after the rush "
            f"in which the queue drains. For staffing, trust the simulation; Erlang C is a "
            f"cautious check.")
