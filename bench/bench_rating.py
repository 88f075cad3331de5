"""The cost of a `rate` on a busy day, in process with durable SQLite commits.

    .venv/bin/python bench/bench_rating.py [--served 2000] [--ratings 300]

A rating finds the ticket whose service ended last at its counter by looking at every
ticket of the day (motcua.handlers.last_served): this measures that it stays small beside
the commit, with a day of N services behind it. Prints the median and p99 of a `rate`
(handle + commit) and, for scale, of a `done` on the same day."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dispatcher.service import Dispatcher  # noqa: E402
from dispatcher.store import Store  # noqa: E402
from motcua import config, topics  # noqa: E402
from motcua.clock import ManualClock  # noqa: E402
from tests.conftest import DAY, NO_LIMITS, write_office  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--served", type=int, default=2000, help="services done before measuring")
    p.add_argument("--ratings", type=int, default=300, help="ratings measured")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        office = config.load(write_office(Path(tmp), limits=NO_LIMITS))
        clock = ManualClock(DAY.replace(hour=7, minute=30))
        d = Dispatcher(office, Store(office.storage), clock)
        n = 0

        def send(role: str, device: str, ctype: str, **fields: object) -> dict:
            nonlocal n
            n += 1
            body = {"v": 1, "id": f"b-{n:08d}", "type": ctype, **fields}
            out = d.handle(topics.cmd(office.id, role, device), json.dumps(body).encode())
            return next(json.loads(o.payload) for o in out if "/reply/" in o.topic)

        def serve() -> tuple[str, float]:
            number = send("kiosk", "k1", "walk_in", service="A")["ticket"]["number"]
            send("counter", "1", "call", ticket=number)
            clock.now += timedelta(seconds=5)
            t0 = time.perf_counter()
            assert send("counter", "1", "done")["ok"]
            return number, time.perf_counter() - t0

        for _ in range(args.served):
            serve()
        rate_s, done_s = [], []
        for i in range(args.ratings):
            number, took = serve()
            done_s.append(took)
            t0 = time.perf_counter()
            reply = send("rating", "1", "rate", ticket=number,
                         level=("very_satisfied", "satisfied", "neutral", "unsatisfied")[i % 4])
            rate_s.append(time.perf_counter() - t0)
            assert reply["ok"], reply
        d.store.close()
    tickets = args.served + args.ratings
    print(f"rate on a day of {tickets} services: median {statistics.median(rate_s) * 1000:.2f} ms,"
          f" p99 {pct(rate_s, 99) * 1000:.2f} ms (done: median "
          f"{statistics.median(done_s) * 1000:.2f} ms, p99 {pct(done_s, 99) * 1000:.2f} ms)")


if __name__ == "__main__":
    main()
