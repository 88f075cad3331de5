"""The command line, `motcua simulate`: simulated days side by side, or with --plan a staffing."""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from datetime import date
from pathlib import Path
from typing import NoReturn

from motcua import config, estimate
from motcua.waits import TARGET_MIN
from simulate import replay
from simulate.arrivals import sim_office, working_days
from simulate.planner import BOOKING_TARGET_MIN, Plan, plan
from simulate.profiles import START, SimulationError, load_profile
from simulate.stats import describe, simulate

# The help text of `motcua simulate`, as it was when the simulator was one module.
DESCRIPTION = ("Peak-day simulator and capacity planner: seeded citizens and staff driving the "
               "real core.")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"motcua simulate: tham số không hợp lệ / invalid arguments: {message}\n")


def _replay(office: config.OfficeConfig, path: Path, day: date | None) -> int:
    if day is None:
        raise SimulationError("--replay cần --start (ngày cần phát lại)",
                              "--replay needs --start (the day to replay)")
    db = replay.open_readonly(path)
    try:
        issues = replay.replay(db, office, day, replay.ESTIMATORS)
    finally:
        db.close()
    if not issues:  # a fresh office, or the wrong day: said plainly, not a failure
        print(f"motcua simulate --replay: {path} chưa có phiếu nào ngày {day.isoformat()}: "
              f"không có gì để so sánh / holds no tickets on {day.isoformat()}: nothing to "
              f"compare yet")
        return 0
    print(f"motcua simulate --replay: {office.name}, {path}, {day.isoformat()}\n"
          + replay.describe(issues, list(replay.ESTIMATORS), list(office.services)))
    return 0


def up(minutes: float) -> str:
    """A wait rounded up to a tenth: 15.0 is shown only for at most 15 minutes, so a row
    reads as meeting the target exactly when it does (15.03 shows as 15.1)."""
    return f"{math.ceil(round(minutes * 10, 6)) / 10:.1f}"


def plan_text(result: Plan, runs: int) -> str:
    """The staffings tried, each with its verdict, and the one chosen."""
    lines = [f"Plan / kế hoạch: the busiest hour is {result.hour:02d}:00, "
             f"{result.rate:.1f} tickets an hour. The target / mục tiêu: 95 of 100 citizens "
             f"who take a number in that hour wait at most {TARGET_MIN:g} min, and 95 of 100 "
             f"on-time bookings at most {BOOKING_TARGET_MIN:g} min after their slot starts "
             f"(the busiest day simulated {runs} times; waits in minutes, rounded up).",
             f"{'counters':>9} {'booking':>9} {'busiest hour:':>14} {'on-time bookings:':>18}",
             f"{'quầy':>9} {'counters':>9} {'95% waited':>14} {'95% waited':>18}  verdict"]
    for n, m, hour_p95, bk in result.tried:
        if hour_p95 > TARGET_MIN:
            verdict = f"no: over {TARGET_MIN:g} min in the busiest hour / không đạt"
        elif bk > BOOKING_TARGET_MIN:
            verdict = f"no: bookings over {BOOKING_TARGET_MIN:g} min / không đạt"
        else:
            verdict = "meets the target / đạt"
        lines.append(f"{n:>9} {m:>9} {up(hour_p95):>14} {up(bk):>18}  {verdict}")
    if result.counters is None:
        lines.append("No staffing up to 60 counters holds the target / không đạt mục tiêu.")
        return "\n".join(lines)
    lines.append(
        f"=> {result.counters} counters, {result.booking_counters} of them for bookings / "
        f"{result.counters} quầy, {result.booking_counters} quầy nhận lịch hẹn: the fewest "
        f"that meet the target. Erlang C, the textbook formula, would ask for "
        f"{result.erlang}: it assumes the busiest hour's {result.rate:.1f} tickets an hour "
        f"go on for ever, where the simulated hall has the quieter hours after the rush to "
        f"catch up in.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = _Parser(prog="motcua simulate", description=DESCRIPTION)
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
    p.add_argument("--replay", type=Path, metavar="DB", help="replay day --start of this "
                   "dispatcher database: each wait estimator at every ticket's issue against "
                   "the wait that came")
    args = p.parse_args(argv)
    office = config.load(args.config)
    if args.replay is not None:
        return _replay(office, args.replay, args.start)
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
        runs = max(args.days, 5)
        result = plan(office, profile, working_days(office, start, runs), args.seed,
                      args.policy)
        print(plan_text(result, runs))
        if result.counters is None:
            return 1
        office = sim_office(office, result.counters, result.booking_counters)
        print(f"\nOne day with {result.counters} counters, seed {args.seed} (the plan's "
              f"{runs} runs differ from it, and from each other):")
    runs = [simulate(office, profile, days, args.seed, policy,
                     estimate.queue_minutes if policy == "motcua" else None)
            for policy in (args.policy, "fifo" if args.policy == "motcua" else "motcua")]
    print(describe(runs, profile, "The formula tickets printed before / cách ước tính cũ"))
    return 0
