"""The production broker's costs and recovery times (not run by the tests).

    .venv/bin/python bench/bench_faults.py [--requests 300] [--kills 10] [--devices 200]

1. `broker setup` for an office of N devices, and a re-run that changes nothing.
2. A kiosk's walk-in round trip through the generated config: over TLS on the device
   listener, and in plain MQTT on the loopback listener (the TLS and ACL cost).
3. kill -9 of the dispatcher: until the command in flight is answered (median, max).
4. kill -9 of Mosquitto: until every device is connected again.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from broker_config import setup  # noqa: E402
from motcua.mqtt import Link, Requester  # noqa: E402
from tests.conftest import write_office  # noqa: E402
from tests.integration.devices import DispatcherProcess  # noqa: E402
from tests.security.harness import SecureDevice, make_secured, start_broker  # noqa: E402


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def bench_setup(folder: Path, devices: int) -> None:
    folder.mkdir(parents=True)
    office = write_office(folder)
    kiosks = ", ".join(f'"k{i}"' for i in range(devices // 2))
    displays = ", ".join(f'"d{i}"' for i in range(devices - devices // 2))
    office.write_text(office.read_text() + f"\n[devices]\nkiosks = [{kiosks}]\n"
                      f"displays = [{displays}]\n")
    out = folder / "out"

    def run() -> setup.Result:  # the function, not main(): no list of names on the terminal
        return setup.setup(office, out, user="root", data_dir=str(folder))
    t0 = time.perf_counter()
    assert len(run().added) == devices + 5
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert not run().added
    again = time.perf_counter() - t0
    print(f"setup, {devices + 5} accounts: first run {first:.2f} s, re-run {again:.2f} s")


def round_trips(send, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        reply = send("walk_in", cmd_id=f"bench-{time.time_ns()}-{i}", service="A")
        times.append((time.perf_counter() - t0) * 1000)
        assert reply["ok"], reply
    return times


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--kills", type=int, default=10)
    p.add_argument("--devices", type=int, default=200)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="motcua-bench-faults-") as tmp:
        folder = Path(tmp)
        bench_setup(folder / "setup", args.devices)
        s = make_secured(folder / "office")
        broker = start_broker(s)
        proc = DispatcherProcess(s.device_office("dispatcher-main"),
                                 f"mqtt://127.0.0.1:{s.port}", folder / "d.log").start()
        try:
            tls = SecureDevice(s, "kiosk", "k1")
            plain = SecureDevice(s, "kiosk", "k2", url=f"mqtt://127.0.0.1:{s.port}")
            tls.send("walk_in", timeout=30, service="A")
            round_trips(tls.send, 20)  # warm-up
            round_trips(plain.send, 20)
            t_tls: list[float] = []
            t_plain: list[float] = []
            for _ in range(args.requests // 10):  # interleaved: both see the same load
                t_tls += round_trips(tls.send, 10)
                t_plain += round_trips(plain.send, 10)
            for name, t in (("TLS device listener", t_tls), ("plain loopback", t_plain)):
                print(f"walk-in round trip, {name}: median {statistics.median(t):.2f} ms, "
                      f"p95 {pct(t, 0.95):.2f} ms, p99 {pct(t, 0.99):.2f} ms")
            recover = []
            for i in range(args.kills):
                proc.kill()
                proc = DispatcherProcess(s.device_office("dispatcher-main"),
                                         f"mqtt://127.0.0.1:{s.port}", folder / "d.log").start()
                t0 = time.perf_counter()
                tls.send("walk_in", timeout=60, cmd_id=f"after-kill-{i:04d}", service="B")
                recover.append(time.perf_counter() - t0)
            print(f"kill -9 dispatcher -> next reply: median {statistics.median(recover):.2f} s,"
                  f" max {max(recover):.2f} s ({args.kills} kills)")
            links: list[Link] = [tls.link, plain.link]
            extra = [SecureDevice(s, "counter", c) for c in ("1", "2", "3")]
            links += [d.link for d in extra]
            back = []
            for _ in range(3):
                broker.kill()
                broker = start_broker(s)
                t0 = time.perf_counter()
                for link in links:
                    link.connected.wait(30)
                back.append(time.perf_counter() - t0)
                Requester(tls.link).request("walk_in", timeout=30, service="A")
            print(f"kill -9 Mosquitto -> all {len(links)} devices connected: "
                  f"{', '.join(f'{b:.2f}' for b in back)} s")
            for d in (tls, plain, *extra):
                d.close()
        finally:
            proc.stop()
            broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
