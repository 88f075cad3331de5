"""Dispatcher benchmarks on a real Mosquitto with durable SQLite commits.

    .venv/bin/python bench/bench_dispatcher.py [--calls 300] [--commands 5000]

1. counter `next` -> `event/call` received by another client: p50, p99.
2. durable commands per second through MQTT, one dispatcher (kiosks pipelining walk-ins,
   and a mixed load of walk-ins and counter calls).
3. restart to republished state after a 5,000-ticket day.
4. (--estimate) the cost of one command in Dispatcher.handle, durable commit included, with
   50, 500 and 3,000 waiting after a long day, for each wait estimator of motcua.estimate:
   the formula, the forward play, and what tickets use (the play up to FORWARD_MAX_WAITING).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from broker_config.dev import DevBroker  # noqa: E402
from dispatcher.service import Dispatcher  # noqa: E402
from dispatcher.store import Store  # noqa: E402
from motcua import config, estimate, topics  # noqa: E402
from motcua.clock import ManualClock  # noqa: E402
from motcua.mqtt import Link  # noqa: E402
from tests.conftest import DAY, NO_LIMITS, write_office  # noqa: E402
from tests.integration.devices import Device, DispatcherProcess, Watcher  # noqa: E402

START = "2026-11-25T07:30:00+07:00"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def fill(office_file: Path, walk_ins: int) -> None:
    """Write a day into the database directly through the dispatcher core (fast)."""
    office = config.load(office_file)
    clock = ManualClock(DAY.replace(hour=7, minute=30))
    d = Dispatcher(office, Store(office.storage), clock)
    services = list(office.services)
    for i in range(walk_ins):
        body = {"v": 1, "id": f"fill-{i:06d}", "type": "walk_in", "service": services[i % 2]}
        d.handle(topics.cmd(office.id, "kiosk", "k9"), json.dumps(body).encode())
        clock.now += timedelta(seconds=1)
    d.store.close()


def bench_call_latency(broker: DevBroker, office_file: Path, work: Path, n: int) -> dict:
    fill(office_file, n + 20)
    proc = DispatcherProcess(office_file, broker.url, work / "d1.log", START).start()
    watch = Watcher(broker.url, topics.event_call("demo"))
    counters = [Device(broker.url, "counter", c) for c in ("1", "2", "3")]
    try:
        counters[0].send("pause", timeout=20)
        counters[0].send("resume")
        lat = []
        for i in range(n):
            c = counters[i % 3]
            watch.clear()
            t0 = time.monotonic()
            reply = c.send("next")
            number = reply["ticket"]["number"]
            deadline = t0 + 5
            while time.monotonic() < deadline:
                with watch.lock:
                    hit = [t for _, m, t in watch.messages if m["ticket"] == number]
                if hit:
                    lat.append((hit[0] - t0) * 1000)
                    break
                time.sleep(0.0002)
        return {"calls": len(lat), "p50_ms": statistics.median(lat), "p99_ms": pct(lat, 99),
                "max_ms": max(lat)}
    finally:
        for c in counters:
            c.close()
        watch.close()
        proc.stop()


def _sender(url: str, role: str, device: str, ctype: str, fields: dict, n: int,
            go: Any) -> None:
    """One device in its own process: publish n commands (QoS 1) as fast as it can."""
    link = Link(url, "demo", role, device, persistent=False).start()
    topic = topics.cmd("demo", role, device)
    go.wait()
    infos = [link.publish(topic, {"v": 1, "id": secrets.token_hex(8), "type": ctype, **fields})
             for _ in range(n)]
    for info in infos:
        info.wait_for_publish(60)
    link.stop()


def bench_throughput(broker: DevBroker, office_file: Path, work: Path, n: int,
                     mixed: bool) -> dict:
    """Devices in their own processes; replies counted by mosquitto_sub in another."""
    proc = DispatcherProcess(office_file, broker.url, work / "d2.log", START).start()
    watch = Watcher(broker.url, topics.state_config("demo"))
    watch.wait_for("/state/config", timeout=20)
    watch.close()
    senders = [("kiosk", f"k{i}", "walk_in", {"service": "AB"[i % 2]}) for i in range(3)]
    if mixed:
        senders += [("counter", c, "next", {}) for c in ("1", "2", "3")]
    per = n // len(senders)
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    procs = [ctx.Process(target=_sender, args=(broker.url, *s, per, go)) for s in senders]
    for p in procs:
        p.start()
    counter = subprocess.Popen(["mosquitto_sub", "-p", str(broker.port), "-q", "1",
                                "-t", "motcua/demo/reply/#", "-C", str(per * len(senders))],
                               stdout=subprocess.DEVNULL)
    time.sleep(2.0)  # every sender connected and waiting
    t0 = time.monotonic()
    go.set()
    try:
        counter.wait(300)
    except subprocess.TimeoutExpired:
        counter.kill()
    elapsed = time.monotonic() - t0
    for p in procs:
        p.join(30)
    db = sqlite3.connect(work / "office.sqlite3")
    answered = db.execute("SELECT count(*) FROM commands").fetchone()[0]
    proc.stop()
    return {"commands": answered, "seconds": round(elapsed, 2),
            "per_second": round(answered / elapsed)}


def bench_restart(broker: DevBroker, office_file: Path, work: Path) -> dict:
    office = config.load(office_file)
    fill(office_file, 5000)
    t = time.perf_counter()
    d = Dispatcher(office, Store(office.storage), ManualClock(DAY.replace(hour=9)))
    d.state(force=True)
    in_process = (time.perf_counter() - t) * 1000
    d.store.close()
    watch = Watcher(broker.url, topics.state_board("demo"))
    time.sleep(0.3)
    t0 = time.monotonic()
    proc = DispatcherProcess(office_file, broker.url, work / "d3.log", START).start()
    board = watch.wait_for("/state/board", lambda m: m["waiting"]["A"]["count"] >= 2500, 30)
    total = time.monotonic() - t0
    watch.close()
    proc.stop()
    return {"tickets": 5000, "rebuild_and_state_ms": round(in_process, 1),
            "process_start_to_board_s": round(total, 3),
            "waiting_seen": board["waiting"]["A"]["count"] + board["waiting"]["B"]["count"]}


ESTIMATORS = {"formula": -1, "forward": 10**9, "printed": estimate.FORWARD_MAX_WAITING}


def _command(d: Dispatcher, role: str, device: str, ctype: str, n: int,
             **fields: Any) -> dict[str, Any]:
    body = {"v": 1, "id": f"cost-{n:08d}", "type": ctype, **fields}
    out = d.handle(topics.cmd(d.office.id, role, device), json.dumps(body).encode())
    reply: dict[str, Any] = next(json.loads(o.payload) for o in out if "/reply/" in o.topic)
    return reply


def bench_command_cost(work: Path, waiting: int, rounds: int) -> dict:
    """A long day (3,000 tickets served) and then `waiting` waiting, 2 booking counters of
    3, bookings for the rest of the day. Each round: a walk-in (its reply and event carry
    its estimate), a counter's next (no estimate: the called are served), and the board's
    state (an estimate per service). Per estimator, p50/p99 of each, in ms."""
    office = config.load(write_office(work, limits=NO_LIMITS + "queued_per_device = 100000\n"))
    clock = ManualClock(DAY.replace(hour=7, minute=30))
    d = Dispatcher(office, Store(office.storage), clock)
    n = 0
    counters = list(office.counters)
    for i in range(3000 + waiting):  # the day so far, from 07:30: 3,000 served
        _command(d, "kiosk", "k9", "walk_in", n, service="AB"[i % 2])
        n += 1
        clock.now += timedelta(seconds=0.5)
        if len(d.hall.queue) > waiting and i < 3000:  # served as fast as they come
            _command(d, "counter", counters[i % 3], "next", n)
            n += 1
    while len(d.hall.queue) > waiting:
        _command(d, "counter", counters[n % 3], "next", n)
        n += 1
    slot = timedelta(minutes=office.booking.slot_minutes)
    first = DAY.replace(hour=9)
    for k in range(20):  # bookings still to come, 4 a slot from 09:00 to 11:00
        reply = _command(d, "admin", "cli", "booking_add", n, booking={
            "id": f"BK-COST-{k:03d}", "service": "A",
            "start": (first + slot * (k // 4)).isoformat(), "made_on": "2026-11-20"})
        assert reply["ok"], reply
        n += 1
    out: dict[str, Any] = {"waiting": len(d.hall.queue), "tickets": len(d.hall.tickets),
                           "bookings_to_come": len(d.hall.bookings), "at": f"{clock.now:%H:%M}"}
    times: dict[str, dict[str, list[float]]] = {
        name: {"walk_in": [], "next": [], "state": []} for name in ESTIMATORS}
    for r in range(rounds):  # the estimators in turn, each round: the same load around them
        for name, limit in ESTIMATORS.items():
            estimate.FORWARD_MAX_WAITING = limit
            clock.now += timedelta(seconds=1)
            t0 = time.perf_counter()
            assert _command(d, "kiosk", "k9", "walk_in", n, service="AB"[r % 2])["ok"]
            t1 = time.perf_counter()
            assert _command(d, "counter", counters[r % 3], "next", n + 1)["ok"]
            t2 = time.perf_counter()
            d.state(force=True)
            t3 = time.perf_counter()
            n += 2
            times[name]["walk_in"].append((t1 - t0) * 1000)
            times[name]["next"].append((t2 - t1) * 1000)
            times[name]["state"].append((t3 - t2) * 1000)
    for name, kinds in times.items():
        out[name] = {k: f"p50 {statistics.median(v):.2f} p99 {pct(v, 99):.2f}"
                     for k, v in kinds.items()}
    estimate.FORWARD_MAX_WAITING = ESTIMATORS["printed"]
    d.store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--commands", type=int, default=4000)
    ap.add_argument("--estimate", action="store_true",
                    help="only the command cost of each wait estimator (no broker)")
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--tmp", type=Path, help="where the --estimate databases go (/dev/shm: "
                    "the commands' CPU without the disk's fsync)")
    args = ap.parse_args()
    results = {}
    if args.estimate:
        for waiting in (50, 500, 3000):
            with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
                cost = bench_command_cost(Path(tmp), waiting, args.rounds)
                print(f"{'cost':>20}: {json.dumps(cost)}", flush=True)
        return
    for name in ("latency", "throughput_walk_in", "throughput_mixed", "restart"):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            # Senders publish thousands at once, far past an office's flood guard (a device
            # with over queued_per_device waiting loses its oldest): raise it to measure
            # the dispatcher itself.
            office_file = write_office(work, limits=NO_LIMITS + "queued_per_device = 100000\n")
            with DevBroker(work / "broker") as broker:
                if name == "latency":
                    results[name] = bench_call_latency(broker, office_file, work, args.calls)
                elif name == "restart":
                    results[name] = bench_restart(broker, office_file, work)
                else:
                    results[name] = bench_throughput(broker, office_file, work, args.commands,
                                                     mixed=name.endswith("mixed"))
        print(f"{name:>20}: {json.dumps(results[name])}", flush=True)


if __name__ == "__main__":
    main()
