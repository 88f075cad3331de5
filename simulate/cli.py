"""The command line, `motcua simulate`: simulated days side by side, or with --plan a staffing."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from datetime import date
from pathlib import Path
from typing import NoReturn

from motcua import config, estimate
from motcua.waits import TARGET_MIN
from simulate import replay
from simulate.arrivals import sim_office, working_days
from simulate.planner import BOOKING_TARGET_MIN, plan
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
    print(f"motcua simulate --replay: {office.name}, {path}, {day.isoformat()}\n"
          + replay.describe(issues, list(replay.ESTIMATORS), list(office.services)))
    return 0


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
                     estimate.queue_minutes if policy == "motcua" else None)
            for policy in (args.policy, "fifo" if args.policy == "motcua" else "motcua")]
    print(describe(runs, profile, "estimate.queue_minutes (the formula tickets printed before)"))
    return 0
