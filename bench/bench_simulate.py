"""Simulator benchmarks and the figures of issue 8 (not run by the tests).

    .venv/bin/python bench/bench_simulate.py [--runs 5] [--erlang-days 60]

1. speed: simulated peak days per second (real core, both estimators), one forward_estimate
   on a hall with about 200 waiting, and `--plan`.
2. the peak profile for 6 to 12 counters: waits per tier, and the error of the wait estimate
   printed on tickets (estimate.ticket_minutes) beside the formula printed before.
3. peak days through the real dispatcher into SQLite, replayed from the database
   (simulate --replay): each estimator's error, and the printed figure recomputed.
4. the simulator against Erlang C: a 24-hour office, Poisson arrivals, exponential service,
   plain FIFO, the first 8 hours left out (the hall starts empty: at rho 0.6 on 3 counters
   the queue takes about 100 minutes to forget that). Mean waits of a queue are strongly
   correlated within a day: 200 days still leave about +-7% of sampling error. The engine
   itself is checked exactly in tests/reports/test_simulate.py against an independent FIFO
   queue fed the same citizens.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import sys
import tempfile
import time
import timeit
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import simulate as sim  # noqa: E402
from motcua import config, erlang, estimate  # noqa: E402
from motcua.model import Hall  # noqa: E402
from simulate import replay  # noqa: E402


def speed(office: config.OfficeConfig) -> None:
    peak = sim.load_profile("peak")
    o = sim.sim_office(office, 6, 2)
    days = sim.working_days(o, sim.START["peak"], 10)
    for name, est in (("printed estimate only", None),
                      ("and forward_estimate beside it", sim.forward_estimate)):
        t0 = time.perf_counter()
        run = sim.simulate(o, peak, days, 1, "motcua", est)
        dt = time.perf_counter() - t0
        steps = sum(len(d.steps) for d in run.days)
        print(f"  10 peak days, 6 counters, {name}: {dt:.2f} s ({10 / dt:.1f} days/s, "
              f"{steps / dt:,.0f} commands/s through the core)")
    print(f"  {forward_call(office)}")
    t0 = time.perf_counter()
    result = sim.plan(office, peak, sim.working_days(office, sim.START["peak"], 5), 1)
    print(f"  --plan, peak profile, 5 runs per staffing: {time.perf_counter() - t0:.2f} s, "
          f"{len(result.tried)} staffings tried -> {result.counters} counters "
          f"({result.booking_counters} for bookings); Erlang C says {result.erlang}")


def forward_call(office: config.OfficeConfig, waiting: int = 200) -> str:
    """One forward_estimate, timed, on the first hall of an overfull day with `waiting` waiting
    (4 counters, 600 visits), for the ticket just issued."""
    o = sim.sim_office(office, 4, 2)
    day = sim.working_days(o, sim.START["peak"], 1)[0]
    busy = dataclasses.replace(sim.load_profile("peak"), visits=600)
    got: list[tuple[Hall, datetime, str]] = []

    def grab(hall: Hall, _: config.OfficeConfig, now: datetime, number: str) -> float:
        if not got and len(hall.waiting()) >= waiting:
            got.append((copy.deepcopy(hall), now, number))
        return 0.0

    sim.DaySim(o, day, sim.citizens(o, busy, day, 0, 1), "motcua", grab).run()
    hall, now, number = got[0]
    n = 100
    per = min(timeit.repeat(lambda: sim.forward_estimate(hall, o, now, number),
                            number=n, repeat=5)) / n
    return (f"forward_estimate, one call, {len(hall.waiting())} waiting, "
            f"{sum(b.id not in hall.checked_in for b in hall.bookings.values())} bookings to "
            f"come: {per * 1e6:,.0f} us")


def estimator_table(office: config.OfficeConfig, runs: int) -> None:
    """Waits per staffing, and the error of the printed estimate (estimate.ticket_minutes:
    the forward play up to FORWARD_MAX_WAITING waiting) beside the formula printed before."""
    peak = sim.load_profile("peak")
    days = sim.working_days(office, sim.START["peak"], runs)
    print(f"  {'counters':>8} {'util':>5} {'on-time p95':>11} {'walk-in mean':>12} "
          f"{'walk-in p95':>11} {'08h p95':>8} {'most waiting':>12} | {'printed MAE':>11} "
          f"{'bias':>6} | {'formula MAE':>11} {'bias':>6}")
    for n in range(6, 13):
        o = sim.sim_office(office, n, 2)
        run = sim.simulate(o, peak, days, 1, "motcua", estimate.queue_minutes, repeat=True)
        util = sum(run.utilisation().values()) / n
        printed, formula = run.est_error(), run.est_error(alt=True)
        most = max(v.waiting for v in run.visits())
        print(f"  {n:>8} {util:>5.0%} {run.stats('on_time').p95:>11.1f} "
              f"{run.stats('walk_in').mean:>12.1f} {run.stats('walk_in').p95:>11.1f} "
              f"{run.stats(hour=8).p95:>8.1f} {most:>12} | {printed[0]:>11.1f} "
              f"{printed[1]:>+6.1f} | {formula[0]:>11.1f} {formula[1]:>+6.1f}")


def replayed(office: config.OfficeConfig, seeds: int) -> None:
    """Peak days through the real dispatcher into SQLite (Dispatcher.handle, one commit a
    command), then `simulate --replay` of each database: every estimator at every issue."""
    from tests.conftest import write_office
    from tests.reports.replay import replay_in_process, seed_bookings

    peak = sim.load_profile("peak")
    names = list(replay.ESTIMATORS)
    print(f"  {'counters':>8} {'tickets':>7} {'most waiting':>12} | "
          + " | ".join(f"{name + ' MAE':>12} {'bias':>6} {'±5':>4}" for name in names)
          + f" | {'printed = tickets':>17}")
    for n in (6, 8, 10):
        issues: list[replay.Issue] = []
        for seed in range(1, seeds + 1):
            with tempfile.TemporaryDirectory() as tmp:
                base = config.load(write_office(Path(tmp)))
                o = sim.sim_office(base, n, 2)
                day = sim.START["peak"]
                people = sim.citizens(o, peak, day, 0, seed)
                simulated = sim.DaySim(o, day, people, "motcua").run()
                seed_bookings(o.storage, o, simulated, [p.booking for p in people if p.booking])
                _, d = replay_in_process(o, simulated.steps)
                d.store.close()
                db = replay.open_readonly(o.storage)
                issues += replay.replay(db, o, day, replay.ESTIMATORS)
                db.close()
        cells = []
        for name in names:
            e = replay.errors(issues, name)
            cells.append(f"{e.mae:>12.2f} {e.bias:>+6.2f} {e.within_5:>4.0%}")
        same = sum(round(i.estimates["tickets"]) == i.printed for i in issues)
        print(f"  {n:>8} {len(issues):>7} {max(i.waiting for i in issues):>12} | "
              + " | ".join(cells) + f" | {same:>8} of {len(issues)}")


def against_erlang(office: config.OfficeConfig, days: int) -> None:
    allday = dataclasses.replace(office, hours=((clock_time(0, 0), clock_time(23, 59)),))
    print(f"  {'c':>2} {'rho':>4} | {'sim mean':>8} {'Erlang':>7} | {'sim >15':>7} "
          f"{'Erlang':>7} | {'sim P(wait)':>11} {'Erlang':>7}")
    for c, rho in ((3, 0.6), (4, 0.7), (6, 0.8), (10, 0.85)):
        load = rho * c
        rate = load * 60 / 15
        flat = dataclasses.replace(
            sim.load_profile("normal"), name="flat", visits=rate * 23.98, booking_share=0.0,
            leave_share=0.0, refuse_share=0.0, priority_share=0.0, distribution="exponential",
            hourly=dict.fromkeys(range(24), 1.0))
        o = sim.sim_office(allday, c, 2)
        run = sim.simulate(o, flat, sim.working_days(o, sim.START["normal"], 1) * days, 1,
                           "fifo", repeat=True)
        waits = [v.wait for v in run.visits() if v.issued.hour >= 8 and v.wait is not None]
        st = erlang.Stats.of(waits)
        print(f"  {c:>2} {rho:>4.2f} | {st.mean:>8.2f} {erlang.mean_wait(c, load, 15):>7.2f} | "
              f"{st.over:>7.1%} {erlang.wait_over(c, load, 15, 15):>7.1%} | "
              f"{sum(w > 1e-9 for w in waits) / len(waits):>11.1%} "
              f"{erlang.erlang_c(c, load):>7.1%}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=5, help="replications of the peak day")
    p.add_argument("--erlang-days", type=int, default=200)
    p.add_argument("--replay-seeds", type=int, default=3,
                   help="peak days per staffing replayed from a dispatcher's database")
    args = p.parse_args()
    office = config.load(ROOT / "examples" / "office.toml")
    print("1. Speed")
    speed(office)
    print(f"\n2. Peak profile ({args.runs} runs of the busiest day), 2 booking counters")
    estimator_table(office, args.runs)
    print(f"\n3. Peak days replayed from the dispatcher's database ({args.replay_seeds} seeds): "
          f"formula = the estimate printed before, forward = the play always, tickets = what "
          f"tickets print (the play up to {estimate.FORWARD_MAX_WAITING} waiting)")
    replayed(office, args.replay_seeds)
    print(f"\n4. Simulator (FIFO, exponential service 15 min) against Erlang C, "
          f"{args.erlang_days} 24-hour days")
    against_erlang(office, args.erlang_days)


if __name__ == "__main__":
    main()
