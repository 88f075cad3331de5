"""Benchmark: the display board under Xvfb against a real broker and dispatcher.

    .venv/bin/python bench/bench_display.py [--calls 300] [--hour-calls 3600] [--rate 20]
                                            [--offscreen] [--sound kivy|none]

1. `event/call` received by the board -> the frame showing it drawn (Window on_flip):
   median, p95, max over --calls calls made one every 0.2 s. Goal: <= 50 ms.
2. Memory (RSS) of the board after an hour of calls: --hour-calls calls (3,600 is one a
   second for an hour, far busier than a real hall) pushed at --rate per second, each with
   its walk-in ticket, board update, chime and voice (Kivy's SDL mixer, dummy audio
   driver). Goal: <= 150 MB. Without a GPU, Mesa renders in software (llvmpipe): its
   LLVM, its driver and the X shared-memory image are counted apart, since a board with a
   graphics chip does not carry them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from memory import rss_by_mapping  # noqa: E402

from broker_config.dev import DevBroker  # noqa: E402
from tests.conftest import write_office  # noqa: E402
from tests.integration.devices import Device, DispatcherProcess  # noqa: E402
from tests.kivy_support import kivy_env, xvfb  # noqa: E402

LATENCY_GOAL_MS = 50.0
RSS_GOAL_MB = 150.0
SOFTWARE_GL = ("libLLVM", "swrast_dri", "libgallium", "/SYSV")  # not there with a GPU


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def metrics(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def wait_for(path: Path, pred: Any, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records = metrics(path)
        if pred(records):
            return records
        time.sleep(0.2)
    raise SystemExit(f"bench_display: the board did not report in {timeout:.0f} s; see {path}")


def calls(kiosk: Device, counters: list[Device], n: int, rate: float) -> float:
    """n calls round the counters, each after issuing the walk-in it calls; returns seconds."""
    started = time.monotonic()
    for i in range(n):
        assert kiosk.send("walk_in", service="AB"[i % 2])["ok"]
        reply = counters[i % len(counters)].send("next")
        assert reply["ok"] and reply["ticket"], reply
        pause = started + (i + 1) / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    return time.monotonic() - started


def run(args: argparse.Namespace, work: Path, screen: str | None) -> dict[str, Any]:
    office = write_office(work)
    metrics_file = work / "metrics.jsonl"
    out: dict[str, Any] = {}
    with DevBroker(work / "broker") as broker:
        dispatcher = DispatcherProcess(office, broker.url, work / "dispatcher.log").start()
        env = {**os.environ, **kivy_env(work / "kivy", screen), "PYTHONPATH": str(ROOT),
               "SDL_AUDIODRIVER": "dummy"}
        if screen is None:
            env["SDL_VIDEODRIVER"] = "offscreen"
        with open(work / "board.log", "wb") as log:
            board = subprocess.Popen(
                [sys.executable, "-m", "display", "--config", str(office), "--broker",
                 broker.url, "--size", "1920x1080", "--start-at", "2026-11-25T08:00:00+07:00",
                 "--cache", str(work / "voice"), "--metrics", str(metrics_file),
                 "--sound", args.sound], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                stderr=log)
        kiosk = Device(broker.url, "kiosk", "bench")
        counters = [Device(broker.url, "counter", c) for c in ("1", "2", "3")]
        try:
            wait_for(metrics_file, lambda r: any("rss_mb" in x for x in r), 60)
            calls(kiosk, counters, args.calls, rate=5.0)
            records = wait_for(metrics_file, lambda r: sum("drawn_ms" in x for x in r)
                               >= args.calls, 30)
            out["drawn"] = [x["drawn_ms"] for x in records if "drawn_ms" in x]
            out["taken"] = [x["taken_ms"] for x in records if "taken_ms" in x]
            out["draw"] = [x["draw_ms"] for x in records if "draw_ms" in x]
            out["rss_warm"] = sum(rss_by_mapping(board.pid).values()) / 1024
            out["seconds"] = calls(kiosk, counters, args.hour_calls, rate=args.rate)
            time.sleep(12)  # the announcements still queued, and two memory samples
            records = metrics(metrics_file)
            out["rss_series"] = [x["rss_mb"] for x in records if "rss_mb" in x]
            out["loaded"] = [x["drawn_ms"] for x in records if "drawn_ms" in x][args.calls:]
            out["played"] = sum(1 for x in records if x.get("played"))
            out["mappings"] = rss_by_mapping(board.pid)
        finally:
            board.terminate()
            try:
                board.wait(15)
            except subprocess.TimeoutExpired:
                board.kill()
            kiosk.close()
            for c in counters:
                c.close()
            dispatcher.stop()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--hour-calls", type=int, default=3600)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--offscreen", action="store_true",
                        help="SDL's offscreen driver (EGL) instead of a window on Xvfb")
    parser.add_argument("--sound", choices=("kivy", "none"), default="kivy")
    args = parser.parse_args()
    for binary in ("mosquitto", "espeak-ng", *(() if args.offscreen else ("Xvfb",))):
        if not shutil.which(binary):
            print(f"bench_display: {binary} is not installed (make bench installs it)")
            return 1
    work = Path(tempfile.mkdtemp(prefix="bench-display-"))
    try:
        if args.offscreen:
            r = run(args, work, None)
        else:
            with xvfb(1920, 1080) as screen:
                r = run(args, work, screen)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    drawn, taken, draw, rss = r["drawn"], r["taken"], r["draw"], r["rss_series"]
    maps = r["mappings"]
    total = sum(maps.values()) / 1024
    software = sum(v for k, v in maps.items() if any(s in k for s in SOFTWARE_GL)) / 1024
    where = "offscreen (EGL)" if args.offscreen else "a window on Xvfb"
    print(f"board at 1920x1080 in {where}, Mesa llvmpipe, real Mosquitto and dispatcher; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"1. event/call received -> drawn, {len(drawn)} calls at 5/s: "
          f"median {statistics.median(drawn):.1f} ms, p95 {percentile(drawn, 0.95):.1f} ms, "
          f"max {max(drawn):.1f} ms (goal <= {LATENCY_GOAL_MS:.0f} ms)")
    print(f"   received -> on the UI thread: median {statistics.median(taken):.1f} ms, "
          f"p95 {percentile(taken, 0.95):.1f} ms; drawing its frame: median "
          f"{statistics.median(draw):.1f} ms, p95 {percentile(draw, 0.95):.1f} ms")
    if r["loaded"]:
        print(f"   during the hour of calls ({args.rate:g}/s): median "
              f"{statistics.median(r['loaded']):.1f} ms, "
              f"p95 {percentile(r['loaded'], 0.95):.1f} ms")
    print(f"2. RSS after {args.hour_calls} calls in {r['seconds']:.0f} s: {total:.0f} MB "
          f"(after the first {args.calls}: {r['rss_warm']:.0f} MB), of which {software:.0f} MB "
          f"software rendering: {total - software:.0f} MB without it "
          f"(goal <= {RSS_GOAL_MB:.0f} MB); peak sample {max(rss):.0f} MB")
    print(f"   RSS every 5 s: {' '.join(f'{x:.0f}' for x in rss)}")
    print(f"   {r['played']} announcements played to the end; the others were dropped as "
          f"stale (calls came faster than a voice can say them)")
    ok = percentile(drawn, 0.95) <= LATENCY_GOAL_MS and total - software <= RSS_GOAL_MB
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
