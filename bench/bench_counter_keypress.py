"""Keypad Enter to the called number on screen, through the real broker and dispatcher.

Not a test (timings do not belong in tests): run it by hand,
`.venv/bin/python bench/bench_counter_keypress.py [N]`, on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from broker_config.dev import DevBroker  # noqa: E402
from counter.keymap import DOUBLE_PRESS_S  # noqa: E402
from tests.conftest import write_office  # noqa: E402
from tests.counter.harness import Terminal  # noqa: E402
from tests.integration.devices import Device, DispatcherProcess  # noqa: E402


def main(n: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="counter-bench-"))
    office = write_office(work)
    with DevBroker(work / "broker") as broker:
        dispatcher = DispatcherProcess(office, broker.url, work / "dispatcher.log").start()
        kiosk = Device(broker.url, "kiosk", "k1")
        t0 = time.perf_counter()
        term = Terminal(office, "1", broker.url, work)
        term.idle()
        startup = time.perf_counter() - t0
        try:
            for _ in range(n):
                kiosk.send("walk_in", service="A")
            term.wait(lambda v: v["waiting_total"] == str(n), f"{n} waiting")
            times = []
            for _ in range(n):
                times.append(term.op("timed_key", key="KP_Enter", field="number") * 1000)
                term.idle()
                time.sleep(DOUBLE_PRESS_S)  # a new press, not a bounce
        finally:
            term.close()
            kiosk.close()
            dispatcher.stop()
    times.sort()
    print(f"window start to state shown: {startup:.1f} s")
    print(f"keypad Enter to the called number on screen, {n} presses: "
          f"median {statistics.median(times):.0f} ms, "
          f"p90 {times[int(0.9 * (n - 1))]:.0f} ms, max {times[-1]:.0f} ms")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", nargs="?", type=int, default=30, help="key presses (30)")
    main(p.parse_args().n)
