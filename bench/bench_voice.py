"""Benchmark: from a call event to the start of its sound, on the real board.

    .venv/bin/python bench/bench_voice.py [--calls 15] [--every 7] [--sound kivy|file]
                                          [--second-language en] [--offscreen]

A board under Xvfb (Kivy's SDL mixer on SDL's dummy audio driver, or the file speaker)
against a real Mosquitto and dispatcher; a counter calls a new walk-in every --every
seconds, far enough apart that no call waits behind the one before. The board notes, per
call, the time from `event/call` received (paho's thread) to the first sound started (the
chime; `sound.play()` on Kivy's thread). Every call is a new number, so its phrase is made
then (espeak-ng and the sox levelling), while the chime rings. Goal: <= 100 ms at p95.
The audio device's own buffer comes after this and is not counted.
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

from broker_config.dev import DevBroker  # noqa: E402
from tests.conftest import write_office  # noqa: E402
from tests.integration.devices import Device, DispatcherProcess  # noqa: E402
from tests.kivy_support import kivy_env, xvfb  # noqa: E402

GOAL_MS = 100.0


def records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def wait_for(path: Path, pred: Any, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = records(path)
        if pred(found):
            return found
        time.sleep(0.2)
    raise SystemExit(f"bench_voice: the board did not report in {timeout:.0f} s; see {path}")


def run(args: argparse.Namespace, work: Path, screen: str | None) -> list[float]:
    settings = f'rows = 6\nrepeat = 1\nsecond_language = "{args.second_language}"'
    office = write_office(work, **{"rows = 6": settings})
    metrics = work / "metrics.jsonl"
    with DevBroker(work / "broker") as broker:
        dispatcher = DispatcherProcess(office, broker.url, work / "dispatcher.log").start()
        env = {**os.environ, **kivy_env(work / "kivy", screen), "PYTHONPATH": str(ROOT),
               "SDL_AUDIODRIVER": "dummy"}
        if screen is None:
            env["SDL_VIDEODRIVER"] = "offscreen"
        sound = ["--sound", "kivy"] if args.sound == "kivy" else \
            ["--audio-out", str(work / "audio")]
        with open(work / "board.log", "wb") as log:
            board = subprocess.Popen(
                [sys.executable, "-m", "display", "--config", str(office), "--broker",
                 broker.url, "--size", "1920x1080", "--start-at", "2026-11-25T08:00:00+07:00",
                 "--cache", str(work / "voice"), "--metrics", str(metrics), *sound],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
        kiosk, counter = Device(broker.url, "kiosk", "bench"), Device(broker.url, "counter", "1")
        try:
            wait_for(metrics, lambda r: any("rss_mb" in x for x in r), 60)
            for i in range(args.calls):
                assert kiosk.send("walk_in", service="A")["ok"]
                assert counter.send("next")["ok"]
                wait_for(metrics, lambda r, n=i + 1: sum("audio_ms" in x for x in r) >= n, 30)
                time.sleep(args.every)
            return [x["audio_ms"] for x in records(metrics) if "audio_ms" in x]
        finally:
            board.terminate()
            try:
                board.wait(15)
            except subprocess.TimeoutExpired:
                board.kill()
            kiosk.close()
            counter.close()
            dispatcher.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=15)
    parser.add_argument("--every", type=float, default=7.0,
                        help="seconds between calls: longer than one announcement")
    parser.add_argument("--sound", choices=("kivy", "file"), default="kivy")
    parser.add_argument("--second-language", choices=("", "en"), default="")
    parser.add_argument("--offscreen", action="store_true")
    args = parser.parse_args()
    for binary in ("mosquitto", "espeak-ng", "sox", *(() if args.offscreen else ("Xvfb",))):
        if not shutil.which(binary):
            print(f"bench_voice: {binary} is not installed (make bench installs it)")
            return 1
    work = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    try:
        if args.offscreen:
            audio = run(args, work, None)
        else:
            with xvfb(1920, 1080) as screen:
                audio = run(args, work, screen)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ordered = sorted(audio)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"board at 1920x1080, {args.sound} speaker, real Mosquitto and dispatcher; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"event/call received -> first sound started, {len(audio)} calls: median "
          f"{statistics.median(audio):.1f} ms, p95 {p95:.1f} ms, max {max(audio):.1f} ms "
          f"(goal <= {GOAL_MS:.0f} ms)")
    print(f"   each: {' '.join(f'{x:.0f}' for x in audio)}")
    return 0 if p95 <= GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
