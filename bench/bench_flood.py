"""A kiosk flooding the dispatcher, a long queue, and the call latency (not run by the tests).

    .venv/bin/python bench/bench_flood.py [--quick] [--samples 200] [--sustained 40]

Real Mosquitto, the dispatcher as its own process (`motcua dispatcher`), every load
generator in its own process (the process that measures latency only measures).

1. A counter's command latency (`recall`, publish -> reply, resent every second with the
   same id like the counter terminal), the office's default `[limits]`: with no other
   load, then while one kiosk account floods walk-ins: rounds of 3,000 (distinct ids,
   QoS 1, as fast as it can), first each round drained (its replies awaited) before the
   next, then rounds back to back (a sustained flood, `--sustained` seconds). A sample
   counts when sent while a round was under way (first publish to last reply). Also what
   the flooding kiosk got: tickets, `rate_limited`, no reply at all; and what was dropped
   (the dispatcher's inbox, from its log; Mosquitto, from $SYS). Three counters take
   turns, each under its own limit (2 a second), so the samples measure the dispatcher,
   not the counters' own limits.  Goal: p99 <= 100 ms.
2. Walk-ins per second through MQTT, no limits, several kiosk processes each keeping a
   window of commands outstanding (a new one per reply): 0 waiting, then (filled with
   walk-ins the same way) 5,000 waiting; `--repeat` runs, each on a fresh database.
   Goal: within 20% of each other.
3. counter `next` -> `event/call` at another client (bench_dispatcher.bench_call_latency).
   Goal: p99 <= 10 ms.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import queue
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from bench_dispatcher import START, bench_call_latency, pct  # noqa: E402

from broker_config.dev import DevBroker  # noqa: E402
from motcua import topics  # noqa: E402
from motcua.mqtt import Link, NoReply  # noqa: E402
from tests.conftest import DEFAULT_LIMITS, write_office  # noqa: E402
from tests.integration.devices import Device, DispatcherProcess, Watcher  # noqa: E402

OFFICE = "demo"
COUNTERS = ("1", "2", "3")
COUNTER_GAP_S = 0.55  # one counter's commands at most this often: under 120 a minute
SPAWN = multiprocessing.get_context("spawn")


def code_of(reply: dict[str, Any]) -> str:
    if reply.get("ok"):
        return "ticket" if reply.get("ticket") else "ok"
    error = reply.get("error")
    return str(error.get("code")) if isinstance(error, dict) else "?"


def summary(ms: list[float]) -> str:
    if not ms:
        return "no samples"
    return (f"n={len(ms)} p50={statistics.median(ms):.1f} p95={pct(ms, 95):.1f} "
            f"p99={pct(ms, 99):.1f} max={max(ms):.1f} ms")


# -- load generators, each in its own process --------------------------------------------
def _flooder(url: str, device: str, per_round: int, drain: bool, max_seconds: float,
             go: Any, stop: Any, out: Any) -> None:
    """One kiosk account: rounds of `per_round` walk-ins published as fast as paho can
    (QoS 1), until `stop` or `max_seconds`. With `drain`, each round waits for its replies
    (all, or none for 1 s: dropped commands never get one) and is reported as it ends;
    without, rounds go back to back (a sustained flood) and are reported at the end."""
    link = Link(url, OFFICE, "kiosk", device, persistent=False)
    lock = threading.Lock()
    round_of: dict[str, int] = {}
    kinds: list[Counter[str]] = []
    last: list[float] = []  # per round: its last reply

    def on_reply(_topic: str, payload: bytes) -> None:
        try:
            reply = json.loads(payload)
        except ValueError:
            return
        with lock:
            r = round_of.pop(str(reply.get("id")), None)
            if r is not None:
                kinds[r][code_of(reply)] += 1
                last[r] = time.monotonic()

    def quiet(rounds: list[dict[str, Any]], first: int) -> None:
        while True:
            with lock:
                pending = sum(1 for r in round_of.values() if r >= first)
                idle = time.monotonic() - max(max(last[first:]), rounds[-1]["t_sent"])
            if not pending or idle > 1.0:
                return
            time.sleep(0.01)

    def report(r: int, info: dict[str, Any]) -> dict[str, Any]:
        with lock:
            counts = dict(kinds[r])
            return {**info, "t_end": max(last[r], info["t_sent"]), "sent": per_round,
                    **counts, "no_reply": per_round - sum(counts.values())}

    link.subscribe(topics.reply(OFFICE, "kiosk", device), on_reply)
    link.start()
    time.sleep(0.5)  # the reply subscription is in place
    topic = topics.cmd(OFFICE, "kiosk", device)
    out.put(("ready", device))
    go.wait()
    t_go = time.monotonic()
    rounds: list[dict[str, Any]] = []
    while not stop.is_set() and time.monotonic() - t_go < max_seconds:
        r = len(rounds)
        ids = [secrets.token_hex(8) for _ in range(per_round)]
        with lock:
            kinds.append(Counter())
            last.append(0.0)
            round_of.update((i, r) for i in ids)
        t0 = time.monotonic()
        infos = [link.publish(topic, {"v": 1, "id": i, "type": "walk_in", "service": "A"})
                 for i in ids]
        for info in infos:
            info.wait_for_publish(60)
        rounds.append({"t_start": t0, "t_sent": time.monotonic()})
        if drain:
            quiet(rounds, r)
            out.put(("round", report(r, rounds[r])))
            time.sleep(0.2)
    if not drain:
        quiet(rounds, 0)
        for r in range(len(rounds)):
            out.put(("round", report(r, rounds[r])))
    out.put(("done", None))
    link.stop()


def _kiosk(url: str, device: str, service: str, jobs: Any, out: Any) -> None:
    """One kiosk account: for each job (n, window, t_go, service), from t_go keep `window`
    walk-ins outstanding, a new one sent as each reply comes, until n are answered."""
    link = Link(url, OFFICE, "kiosk", device, persistent=False)
    topic = topics.cmd(OFFICE, "kiosk", device)
    lock = threading.Lock()
    job: dict[str, Any] = {}

    def send() -> None:  # our lock is not held here: paho has locks of its own
        cmd_id = secrets.token_hex(8)
        with lock:
            if job["sent"] >= job["n"]:
                return
            job["sent"] += 1
            job["out"].add(cmd_id)
            body = {"v": 1, "id": cmd_id, "type": "walk_in", "service": job["service"]}
        link.publish(topic, body)

    def on_reply(_topic: str, payload: bytes) -> None:
        try:
            reply = json.loads(payload)
        except ValueError:
            return
        now = time.monotonic()
        with lock:
            if not job or str(reply.get("id")) not in job["out"]:
                return
            job["out"].discard(str(reply.get("id")))
            job["kinds"][code_of(reply)] += 1
            job["max_gap"] = max(job["max_gap"], now - job["last"])
            job["last"] = now
            more = job["sent"] < job["n"]
            if not more and not job["out"]:
                job["done"].set()
        if more:
            send()

    link.subscribe(topics.reply(OFFICE, "kiosk", device), on_reply)
    link.start()
    time.sleep(0.5)
    out.put(("ready", device))
    while (task := jobs.get()) is not None:
        n, window, t_go, job_service = task
        time.sleep(max(0.0, t_go - time.monotonic()))
        with lock:
            job.clear()
            job.update(n=n, service=job_service or service, sent=0, out=set(),
                       kinds=Counter(), max_gap=0.0, last=time.monotonic(),
                       done=threading.Event(), t0=time.monotonic())
        for _ in range(min(window, n)):
            send()
        finished = job["done"].wait(120)
        with lock:
            out.put(("job", {"device": device, "n": n, "answered": sum(job["kinds"].values()),
                             "kinds": dict(job["kinds"]), "t0": job["t0"], "t_end": job["last"],
                             "max_gap_ms": job["max_gap"] * 1000, "finished": finished}))
    link.stop()


def wait_ready(out: Any, count: int, timeout: float = 30) -> None:
    for _ in range(count):
        kind, _ = out.get(timeout=timeout)
        assert kind == "ready", kind


# -- what the dispatcher and the broker said ----------------------------------------------
LEVELS = re.compile(r"\b(ERROR|CRITICAL|WARNING|Warning|Traceback)\b")


NOT_A_PROBLEM = ("should not be run as root",)
INBOX_DROPS = re.compile(r"(\d+) command\(s\) dropped so far")


def log_problems(log: Path) -> list[str]:
    if not log.exists():
        return []
    return [line for line in log.read_text(errors="replace").splitlines()
            if LEVELS.search(line) and not any(s in line for s in NOT_A_PROBLEM)]


def inbox_drops(log: Path) -> int:
    """The dispatcher's own count of commands its inbox dropped (logged every 100)."""
    found = [int(m.group(1)) for m in INBOX_DROPS.finditer(log.read_text(errors="replace"))]
    return max(found, default=0)


def broker_drops(url: str, since: float) -> int | None:
    """Mosquitto's count of messages it dropped (queues full), at least 11 s after `since`
    ($SYS is published every 10 s, retained)."""
    time.sleep(max(0.0, since + 11 - time.monotonic()))
    watch = Watcher(url, "$SYS/broker/publish/messages/dropped")
    try:
        return int(watch.wait_for("dropped", timeout=5))  # type: ignore[call-overload]
    except AssertionError:
        return None
    finally:
        watch.close()


def report_log(name: str, log: Path) -> list[str]:
    """Prints the log's warnings and errors (one of each kind); returns the errors."""
    lines = log_problems(log)
    kinds = Counter(LEVELS.search(line).group(1) for line in lines)  # type: ignore[union-attr]
    if lines:
        print(f"   {log.name}: {dict(kinds)}; one line of each kind:")
        shown: set[str] = set()
        for line in lines:
            key = re.sub(r"\d+", "#", line.split(": ", 1)[-1])[:60]
            if key not in shown and len(shown) < 6:
                shown.add(key)
                print(f"     {line[:200]}")
    if kinds["ERROR"] or kinds["CRITICAL"] or kinds["Traceback"]:
        return [f"{name}: errors in {log.name} {dict(kinds)}"]
    return []


def start_dispatcher(broker: DevBroker, office_file: Path, log: Path) -> DispatcherProcess:
    proc = DispatcherProcess(office_file, broker.url, log, START).start()
    watch = Watcher(broker.url, topics.state_config(OFFICE))
    try:
        watch.wait_for("/state/config", timeout=30)
    finally:
        watch.close()
    return proc


def stop_dispatcher(name: str, proc: DispatcherProcess) -> list[str]:
    assert proc.proc is not None
    if proc.proc.poll() is not None:
        return [f"{name}: the dispatcher had exited, code {proc.proc.returncode}"]
    rc = proc.stop()
    return [] if rc == 0 else [f"{name}: the dispatcher stopped with code {rc} on SIGTERM"]


# -- 1. a counter while a kiosk floods ------------------------------------------------------
NO_REPLY_MS = 10_000.0  # a command not answered in 10 s (the counter resending it each second)


class CounterSampler:
    """`recall` from the three counters in turn, each at most every COUNTER_GAP_S, resent
    with the same id every second like the counter terminal (counter/remote.py)."""

    def __init__(self, url: str):
        self.counters = [Device(url, "counter", c, retry_every=1.0) for c in COUNTERS]
        self.next_at = [0.0] * len(self.counters)
        self.turn = 0
        self.codes: Counter[str] = Counter()

    def one(self) -> tuple[float, float] | None:
        """(sent at, ms) of one recall answered with its ticket; None for another reply."""
        i = self.turn % len(self.counters)
        self.turn += 1
        time.sleep(max(0.0, self.next_at[i] - time.monotonic()))
        t0 = time.monotonic()
        try:
            reply = self.counters[i].send("recall", timeout=NO_REPLY_MS / 1000)
        except NoReply:
            self.next_at[i] = time.monotonic() + COUNTER_GAP_S
            self.codes["no reply in 10 s"] += 1
            return t0, NO_REPLY_MS
        ms = (time.monotonic() - t0) * 1000
        self.next_at[i] = time.monotonic() + COUNTER_GAP_S
        code = code_of(reply)
        self.codes[code] += 1
        if ms > 1000:
            self.codes["over 1 s (resent)"] += 1
        return (t0, ms) if code == "ticket" else None

    def close(self) -> None:
        for c in self.counters:
            c.close()


def flood_phase(url: str, sampler: CounterSampler, n_samples: int, per_round: int,
                drain: bool, max_seconds: float) -> dict[str, Any]:
    """The flooder in its own process; counter samples taken meanwhile, kept when sent
    while a round was under way (first publish to last reply)."""
    out, go, stop = SPAWN.Queue(), SPAWN.Event(), SPAWN.Event()
    flood = SPAWN.Process(target=_flooder, args=(url, "k1", per_round, drain, max_seconds,
                                                 go, stop, out))
    flood.start()
    wait_ready(out, 1)
    sampler.codes = Counter()
    t_go = time.monotonic()
    go.set()
    samples: list[tuple[float, float]] = []
    rounds: list[dict[str, Any]] = []
    done = False
    while not done:
        if (s := sampler.one()) is not None:
            samples.append(s)
        in_flood = [t0 for t0, _ in samples if t0 >= t_go] if not drain else [
            t0 for t0, _ in samples if any(r["t_start"] <= t0 <= r["t_end"] for r in rounds)]
        if len(in_flood) >= n_samples:
            stop.set()
        while True:
            try:
                kind, info = out.get_nowait()
            except queue.Empty:
                break
            if kind == "done":
                done = True
            else:
                rounds.append(info)
    flood.join(30)
    t_end = max(r["t_end"] for r in rounds)
    during = [ms for t0, ms in samples
              if any(r["t_start"] <= t0 <= r["t_end"] for r in rounds) or
              (not drain and t_go <= t0 <= t_end)]
    total: Counter[str] = Counter()
    for r in rounds:
        total.update({k: v for k, v in r.items() if not k.startswith("t_")})
    return {"during": during, "codes": dict(sampler.codes), "rounds": len(rounds),
            "seconds": t_end - t_go, "total": dict(total),
            "first": {k: v for k, v in rounds[0].items() if not k.startswith("t_")},
            "first_publish_s": rounds[0]["t_sent"] - rounds[0]["t_start"],
            "first_round_s": rounds[0]["t_end"] - rounds[0]["t_start"]}


def bench_flood(n_samples: int, per_round: int, sustained_s: float
                ) -> tuple[dict[str, Any], list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        office_file = write_office(work, limits=DEFAULT_LIMITS)
        log = work / "dispatcher-flood.log"
        res: dict[str, Any] = {}
        with DevBroker(work / "broker") as broker:
            proc = start_dispatcher(broker, office_file, log)
            sampler = CounterSampler(broker.url)
            try:
                setup = Device(broker.url, "kiosk", "k2")
                for svc in ("A", "A", "B"):
                    assert setup.send("walk_in", service=svc)["ok"]
                setup.close()
                for c in sampler.counters:  # each counter serving someone, to recall
                    assert c.send("next", timeout=10)["ticket"], "no ticket to call"
                baseline: list[float] = []
                while len(baseline) < n_samples:
                    if (s := sampler.one()) is not None:
                        baseline.append(s[1])
                res["baseline"], res["baseline_codes"] = baseline, dict(sampler.codes)
                for key, drain, seconds in (("rounds", True, 300.0),
                                            ("sustained", False, sustained_s)):
                    if not seconds:
                        continue
                    res[key] = r = flood_phase(broker.url, sampler, n_samples, per_round,
                                               drain=drain, max_seconds=seconds)
                    r["inbox_drops"] = inbox_drops(log)
                    r["broker_drops"] = broker_drops(broker.url, time.monotonic())
            finally:
                sampler.close()
                problems = stop_dispatcher("the flood", proc)
        problems += report_log("the flood", log)
        problems += report_log("the flood (broker)", work / "broker" / "mosquitto.log")
    return res, problems


# -- 2. walk-ins per second, 0 and 5,000 waiting --------------------------------------------
def waiting(watch: Watcher, settle: float = 1.5) -> int:
    time.sleep(settle)  # the state goes out after the commands (coalesced)
    board = watch.last("/state/board")
    return sum(s["count"] for s in board["waiting"].values()) if board else -1


def run_job(jobs: list[Any], out: Any, per: int, window: int,
            service: str | None = None) -> dict[str, Any]:
    t_go = time.monotonic() + 0.3
    for q in jobs:
        q.put((per, window, t_go, service))
    results = [out.get(timeout=180)[1] for _ in jobs]
    answered = sum(r["answered"] for r in results)
    seconds = max(r["t_end"] for r in results) - t_go
    kinds: Counter[str] = Counter()
    for r in results:
        kinds.update(r["kinds"])
    return {"answered": answered, "seconds": seconds, "per_second": answered / seconds,
            "kinds": dict(kinds), "max_gap_ms": max(r["max_gap_ms"] for r in results),
            "finished": all(r["finished"] for r in results)}


def bench_queue(n: int, queued: int, kiosks: int, window: int) -> tuple[dict, list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        office_file = write_office(work)  # NO_LIMITS
        log = work / "dispatcher-queue.log"
        with DevBroker(work / "broker") as broker:
            proc = start_dispatcher(broker, office_file, log)
            watch = Watcher(broker.url, topics.state_board(OFFICE))
            out = SPAWN.Queue()
            jobs = [SPAWN.Queue() for _ in range(kiosks)]
            procs = [SPAWN.Process(target=_kiosk, args=(broker.url, f"k{i + 1}", "AB"[i % 2],
                                                        jobs[i], out))
                     for i in range(kiosks)]
            for p in procs:
                p.start()
            try:
                wait_ready(out, kiosks)
                per = n // kiosks
                res: dict[str, Any] = {}
                # Warm-up without a ticket: every path but the ticket's (unknown_service).
                res["warm"] = run_job(jobs, out, 200, window, service="Z")
                res["empty_before"] = waiting(watch, 0.5)
                res["empty"] = run_job(jobs, out, per, window)
                res["empty_after"] = waiting(watch)
                fill_per = max(0, queued - res["empty_after"]) // kiosks
                res["fill"] = run_job(jobs, out, fill_per, window)
                res["full_before"] = waiting(watch)
                res["full"] = run_job(jobs, out, per, window)
                res["full_after"] = waiting(watch)
            finally:
                for q in jobs:
                    q.put(None)
                for p in procs:
                    p.join(15)
                watch.close()
                problems = stop_dispatcher("the queue", proc)
        problems += report_log("the queue", log)
        problems += report_log("the queue (broker)", work / "broker" / "mosquitto.log")
    return res, problems


# -- 3. next -> event/call -------------------------------------------------------------
def bench_call(calls: int) -> tuple[dict, list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        office_file = write_office(work)
        with DevBroker(work / "broker") as broker:
            res = bench_call_latency(broker, office_file, work, calls)
        problems = [f"next -> event/call: {line[:200]}" for line in log_problems(work / "d1.log")
                    if "ERROR" in line or "Traceback" in line]
    return res, problems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a short run (fewer samples)")
    ap.add_argument("--samples", type=int, help="counter latency samples (default 200)")
    ap.add_argument("--flood", type=int, default=3000, help="walk-ins per flood round")
    ap.add_argument("--walk-ins", type=int, help="walk-ins per throughput run (default 2000)")
    ap.add_argument("--queued", type=int, default=5000, help="tickets waiting, second run")
    ap.add_argument("--kiosks", type=int, default=3)
    ap.add_argument("--repeat", type=int, help="throughput runs, each on a fresh database "
                    "(default 2, 1 quick)")
    ap.add_argument("--window", type=int, default=32, help="outstanding commands per kiosk")
    ap.add_argument("--calls", type=int, help="next -> event/call samples (default 300)")
    ap.add_argument("--sustained", type=float, help="seconds at most of back-to-back flood "
                    "rounds after the drained ones (default 40, 15 quick; 0: none)")
    args = ap.parse_args()
    samples = args.samples or (60 if args.quick else 200)
    walk_ins = args.walk_ins or (600 if args.quick else 2000)
    calls = args.calls or (60 if args.quick else 300)
    args.repeat = args.repeat or (1 if args.quick else 2)
    if args.sustained is None:
        args.sustained = 15.0 if args.quick else 40.0
    queued = min(args.queued, 1500) if args.quick else args.queued
    command = " ".join(["bench/bench_flood.py", *sys.argv[1:]])
    print(f"$ .venv/bin/python {command}", flush=True)
    problems: list[str] = []

    print("1. counter `recall` latency (publish -> reply), office default [limits]; "
          f"kiosk k1 floods rounds of {args.flood} walk-ins", flush=True)
    f, p = bench_flood(samples, args.flood, args.sustained)
    problems += p
    print(f"   {'no flood':>22}: {summary(f['baseline'])}  replies {f['baseline_codes']}")
    shown = ("sent", "ticket", "rate_limited", "no_reply")
    for key, label in (("rounds", "rounds, each drained"), ("sustained", "rounds back to back")):
        if key not in f:
            continue
        r = f[key]
        print(f"   {label:>22}: {summary(r['during'])}  (all replies in the phase "
              f"{r['codes']})")
        print(f"   {'':>22}  {r['rounds']} round(s) over {r['seconds']:.1f} s; the first "
              f"published in {r['first_publish_s']:.2f} s, its last reply after "
              f"{r['first_round_s']:.2f} s")
        for name, c in (("first round", r["first"]), ("all rounds", r["total"])):
            other = {k: v for k, v in c.items() if k not in shown}
            print(f"   {name:>22}  sent {c['sent']}, tickets {c.get('ticket', 0)}, "
                  f"rate_limited {c.get('rate_limited', 0)}, no reply {c['no_reply']}"
                  f"{f', other {other}' if other else ''}")
        print(f"   {'':>22}  dropped so far: by the dispatcher's inbox (a device's line "
              f"over [limits] queued_per_device) {r['inbox_drops']}, by Mosquitto "
              f"($SYS/broker/publish/messages/dropped) "
              f"{'no value published' if r['broker_drops'] is None else r['broker_drops']}")
        p99 = pct(r["during"], 99) if r["during"] else float("inf")
        print(f"   {'':>22}  goal p99 <= 100 ms: {'met' if p99 <= 100 else 'NOT met'}",
              flush=True)

    print(f"2. walk-ins/s through MQTT, no limits, {args.kiosks} kiosk processes, window "
          f"{args.window} each", flush=True)
    rates: dict[str, list[float]] = {"empty": [], "full": []}
    for run in range(1, args.repeat + 1):
        q, p = bench_queue(walk_ins, queued, args.kiosks, args.window)
        problems += p
        for key, before, after in (("empty", "empty_before", "empty_after"),
                                   ("fill", "empty_after", "full_before"),
                                   ("full", "full_before", "full_after")):
            r = q[key]
            label = {"empty": "from 0 waiting", "fill": "(filling)",
                     "full": f"from {q[before]} waiting"}[key]
            print(f"   run {run} {label:>18}: {r['answered']} in {r['seconds']:.2f} s = "
                  f"{r['per_second']:.0f}/s (waiting {q[before]} -> {q[after]}), replies "
                  f"{r['kinds']}, longest gap {r['max_gap_ms']:.0f} ms"
                  f"{'' if r['finished'] else ', NOT all answered'}", flush=True)
            if key in rates:
                rates[key].append(r["per_second"])
    a, b = statistics.median(rates["empty"]), statistics.median(rates["full"])
    diff = abs(a - b) / max(a, b) * 100
    print(f"   median of {args.repeat}: {a:.0f}/s from 0 waiting, {b:.0f}/s from {queued}; "
          f"difference {diff:.0f}%: goal within 20% {'met' if diff <= 20 else 'NOT met'}",
          flush=True)

    print("3. counter `next` -> `event/call` at another client (bench_dispatcher)", flush=True)
    c, p = bench_call(calls)
    problems += p
    print(f"   calls {c['calls']}: p50 {c['p50_ms']:.1f} ms, p99 {c['p99_ms']:.1f} ms, max "
          f"{c['max_ms']:.1f} ms; goal p99 <= 10 ms "
          f"{'met' if c['p99_ms'] <= 10 else 'NOT met'}")

    print("problems seen: " + ("none" if not problems else ""))
    for line in problems:
        print(f"   {line}")


if __name__ == "__main__":
    main()
