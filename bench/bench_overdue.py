"""The dispatcher's overdue tick on a crowded day, in process with a real SQLite file.

    .venv/bin/python bench/bench_overdue.py [--waiting 2000]

1. a tick with nothing new (what the worker does every second): mean and p99, ms.
2. every waiting ticket past the target at once (a restart after a long stop): the first
   tick (OVERDUE_PER_TICK of them, one commit), ms, and how many ticks it takes.
3. the retained state with all of them listed (board + order + every counter), ms.
"""

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
from tests.conftest import DAY, write_office  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--waiting", type=int, default=2000)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        office = config.load(write_office(Path(tmp)))
        clock = ManualClock(DAY.replace(hour=7, minute=30))
        d = Dispatcher(office, Store(office.storage), clock)
        services = list(office.services)
        for i in range(args.waiting):
            body = {"v": 1, "id": f"fill-{i:06d}", "type": "walk_in",
                    "service": services[i % len(services)]}
            d.handle(topics.cmd(office.id, "kiosk", "k9"), json.dumps(body).encode())
            clock.now += timedelta(milliseconds=200)
        quiet = []
        for _ in range(200):
            t0 = time.perf_counter()
            assert d.tick() == []
            quiet.append((time.perf_counter() - t0) * 1000)
        clock.now += timedelta(minutes=30)
        t0 = time.perf_counter()
        out = d.tick()
        burst = (time.perf_counter() - t0) * 1000
        ticks, said = 1, len(out)
        while said < args.waiting:
            found = d.tick()
            assert found, said
            ticks, said = ticks + 1, said + len(found)
        assert said == args.waiting and d.tick() == []
        t0 = time.perf_counter()
        d.state(force=True)
        state = (time.perf_counter() - t0) * 1000
        d.store.close()
    quiet.sort()
    print(json.dumps({"waiting": args.waiting,
                      "quiet_tick_ms": {"mean": round(statistics.mean(quiet), 3),
                                        "p99": round(quiet[int(0.99 * (len(quiet) - 1))], 3)},
                      "all_overdue_first_tick_ms": round(burst, 1), "ticks_to_say_all": ticks,
                      "state_with_overdue_ms": round(state, 1)}))


if __name__ == "__main__":
    main()
