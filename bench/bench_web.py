"""Benchmark: the web pages (web/) against a real broker, dispatcher and `motcua web`.

    .venv/bin/python bench/bench_web.py [--calls 300] [--phones 500] [--chromium-phones 4]
                                         [--restart] [--workdir DIR]

1. Counter `next` sent -> the called number drawn in a real Chromium /board page (the
   frame after the DOM change, requestAnimationFrame): p50, p99, max over --calls calls,
   one after another. Goal: p99 <= 50 ms.
2. --phones citizen ticket pages open at once on one server (WebSocket clients from Python,
   each with its own ticket and key, plus --chromium-phones real Chromium phone pages):
   memory (RSS) and CPU of the web server process while they are open and while every one
   of them is called; every phone must be told of its own call (no missed call) and of
   nobody else's. --restart: the broker restarted while they are open (the web server's
   broker connection made again past 1,024 open files): seconds until all say "online".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from broker_config.dev import DevBroker  # noqa: E402
from motcua.mqtt import Link  # noqa: E402
from tests.conftest import write_office  # noqa: E402
from tests.web.support import SIZES, WebOffice, chromium  # noqa: E402

OBSERVER = """() => {
  window.__drawn = {};
  new MutationObserver(() => {
    const n = document.querySelector('#newest .num');
    if (!n) return;
    const t = n.dataset.ticket;
    if (t && !(t in window.__drawn)) {
      window.__drawn[t] = -1;
      requestAnimationFrame(() => {
        window.__drawn[t] = performance.timeOrigin + performance.now(); });
    }
  }).observe(document.getElementById('newest'), {childList: true, subtree: true});
}"""


REDUCED_MOTION = "--reduced-motion" in sys.argv
MUTE_PAGE = "--mute-page" in sys.argv


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def proc_stats(pid: int) -> tuple[float, float]:
    """(RSS MB, CPU seconds user+system) of a process, from /proc."""
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return rss, (int(fields[11]) + int(fields[12])) / ticks


def bench_calls(live: WebOffice, browser: Any, calls: int, every: float) -> dict[str, Any]:
    tickets = [live.walk_in("A") for _ in range(calls)]
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    if REDUCED_MOTION:
        page.emulate_media(reduced_motion="reduce")
    page.goto(live.base + "/board")
    page.wait_for_selector("body[data-ready='1'][data-connection='online']", timeout=15000)
    page.evaluate(OBSERVER)
    if MUTE_PAGE:
        page.evaluate("() => { Motcua.play = () => {}; }")
    heard: dict[str, float] = {}  # event/call as a client of the broker hears it
    ear = Link(live.broker.url, "demo", "display", "bench-ear", persistent=False)

    def on_call(topic: str, payload: bytes) -> None:
        heard.setdefault(json.loads(payload)["ticket"], time.time() * 1000)

    ear.subscribe("motcua/demo/event/call", on_call)
    ear.start()
    latencies, dispatcher_part, sent_times = [], [], []
    for i, number in enumerate(tickets):
        counter = "123"[i % 3]
        if i >= 3:
            live.counter(counter, "done")
        time.sleep(every)
        sent = time.time() * 1000
        reply = live.counter(counter, "next")
        assert reply["ticket"]["number"] == number, reply
        # Waited for in the page, frame by frame: polling it from here (a round trip
        # through Playwright every few ms) would load the very machine being measured.
        try:
            page.wait_for_function("n => window.__drawn[n] > 0", arg=number, polling="raf",
                                   timeout=5000)
        except Exception as exc:
            raise SystemExit(f"{number} was never drawn") from exc
        drawn = page.evaluate("n => window.__drawn[n]", number)
        latencies.append(drawn - sent)
        sent_times.append(sent)
        if number in heard:
            dispatcher_part.append(heard[number] - sent)
    arrived = {c["ticket"]: c["at"] for c in page.evaluate("window.__calls || []")}
    page.close()
    ear.stop()
    server_part = [arrived[n] - heard[n] for n in tickets if n in arrived and n in heard]
    page_part = [d + sent_at - arrived[n] for n, d, sent_at in zip(
        tickets, latencies, sent_times, strict=True) if n in arrived]
    web_part = [lat - dp for lat, dp in zip(latencies, dispatcher_part, strict=False)]
    return {"calls": len(latencies), "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": round(pct(latencies, 99), 1), "max_ms": round(max(latencies), 1),
            "goal_p99_ms": 50,
            "next_to_event_call_p50_ms": round(statistics.median(dispatcher_part), 1),
            "next_to_event_call_p99_ms": round(pct(dispatcher_part, 99), 1),
            "event_call_to_drawn_p50_ms": round(statistics.median(web_part), 1),
            "event_call_to_drawn_p99_ms": round(pct(web_part, 99), 1),
            # of which: event/call -> the page's socket (ms clock), and -> the next frame
            "event_call_to_page_p50_ms": round(statistics.median(server_part), 1),
            "event_call_to_page_p99_ms": round(pct(server_part, 99), 1),
            "page_to_frame_p50_ms": round(statistics.median(page_part), 1),
            "page_to_frame_p99_ms": round(pct(page_part, 99), 1)}


async def phone(base: str, path: str, number: str, told: dict[str, list[str]],
                opened: asyncio.Event, ready: list[str], back: dict[str, float]) -> None:
    import websockets

    ws_path = path.replace("/t/", "/ws/t/", 1)
    lost = False
    async with websockets.connect(base.replace("http://", "ws://") + ws_path,
                                  max_size=2**20, open_timeout=60) as ws:
        async for text in ws:
            m = json.loads(text)
            if m.get("online") is False:
                lost = True
            elif lost and m.get("online") is True:  # back after the broker's restart
                lost = False
                back[number] = time.monotonic()
            if m.get("type") == "ticket" and number not in ready and m.get("status") == "waiting":
                ready.append(number)
            if m.get("type") == "call" or (m.get("type") == "ticket"
                                           and m.get("status") == "called"):
                who = m.get("ticket") or m.get("number")
                told.setdefault(number, []).append(str(who))
            if opened.is_set() and m.get("type") == "ticket" and m.get("status") == "done":
                return


def bench_phones(live: WebOffice, phones: int, browser: Any,
                 in_chromium: int, restart: bool) -> dict[str, Any]:
    """The phones' sockets live on an asyncio loop of their own thread (Playwright's sync
    API holds the main thread's)."""
    numbers = [live.walk_in("A" if i % 2 else "B") for i in range(phones + in_chromium)]
    pid = live.web.proc.pid if live.web.proc else 0
    rss0, cpu0 = proc_stats(pid)
    told: dict[str, list[str]] = {}
    ready: list[str] = []
    back: dict[str, float] = {}
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    stop = asyncio.Event()
    t_open = time.monotonic()

    async def all_phones() -> None:
        await asyncio.gather(*(phone(live.base, live.ticket_path(n), n, told, stop, ready, back)
                               for n in numbers[:phones]), return_exceptions=True)

    done = asyncio.run_coroutine_threadsafe(all_phones(), loop)
    while len(ready) < phones and time.monotonic() - t_open < 120:
        time.sleep(0.2)
    opened_s = time.monotonic() - t_open
    pages = []
    for n in numbers[phones:]:
        w, h = SIZES["phone"]
        ctx = browser.new_context(viewport={"width": w, "height": h}, is_mobile=True)
        pg = ctx.new_page()
        pg.goto(live.base + live.ticket_path(n))
        pg.wait_for_selector("body[data-status='waiting']", timeout=30000)
        pages.append((n, pg))
    time.sleep(2)
    rss_open, cpu_open = proc_stats(pid)
    restarted: dict[str, Any] = {}
    if restart:  # the broker restarted under them: every phone must say "online" again
        t_restart = time.monotonic()
        live.broker.restart()
        while len(back) < phones and time.monotonic() - t_restart < 120:
            time.sleep(0.2)
        restarted = {"restart_all_back_s": round(max(back.values(), default=t_restart)
                                                 - t_restart, 1),
                     "restart_back": len(back)}
        time.sleep(2)
        rss_open, cpu_open = proc_stats(pid)
    loop.call_soon_threadsafe(stop.set)
    t_call = time.monotonic()
    called = 0
    for i, _ in enumerate(numbers):
        counter = "123"[i % 3]
        if i >= 3:
            live.counter(counter, "done")
        reply = live.counter(counter, "next")
        called += reply["ticket"] is not None
    for c in "123":
        live.counter(c, "done")
    calls_s = time.monotonic() - t_call
    with contextlib.suppress(TimeoutError):
        done.result(timeout=60)
    rss_end, cpu_end = proc_stats(pid)
    missed = [n for n in numbers[:phones] if n not in told.get(n, [])]
    wrong = [n for n in numbers[:phones] if set(told.get(n, [])) - {n}]
    chromium_told = []
    for n, pg in pages:
        pg.wait_for_selector("body[data-status='done']", timeout=30000)
        chromium_told.append(pg.evaluate("(window.__calls || []).map(c => c.ticket)") == [n])
        pg.context.close()
    loop.call_soon_threadsafe(loop.stop)
    return {"phones": phones, "chromium_phones": in_chromium, "opened_s": round(opened_s, 1),
            "rss_mb_idle": round(rss0, 1), "rss_mb_open": round(rss_open, 1),
            "rss_mb_end": round(rss_end, 1), "cpu_s_opening": round(cpu_open - cpu0, 2),
            "calls": called, "calls_s": round(calls_s, 1),
            "cpu_s_calls": round(cpu_end - cpu_open, 2),
            "cpu_pct_during_calls": round(100 * (cpu_end - cpu_open) / calls_s, 1),
            "missed_calls": len(missed), "told_of_another": len(wrong),
            "chromium_told_once_of_own_call": sum(chromium_told), **restarted}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=300)
    p.add_argument("--phones", type=int, default=500)
    p.add_argument("--chromium-phones", type=int, default=4)
    p.add_argument("--skip-calls", action="store_true")
    p.add_argument("--restart", action="store_true", help="restart the broker once the "
                   "phones are open: how long until every one is back online")
    p.add_argument("--skip-phones", action="store_true")
    p.add_argument("--reduced-motion", action="store_true",
                   help="the board page without its animations (a diagnosis)")
    p.add_argument("--mute-page", action="store_true",
                   help="the board page plays no sound; the server still makes it (a diagnosis)")
    p.add_argument("--voice", choices=("espeak-ng", "none"), default="espeak-ng")
    p.add_argument("--every", type=float, default=0.0, help="seconds between calls")
    p.add_argument("--workdir", type=Path, help="keep the logs and databases here (a new "
                   "folder; by default a temporary one, removed)")
    args = p.parse_args()
    results: dict[str, Any] = {}
    with (contextlib.nullcontext(str(args.workdir)) if args.workdir
          else tempfile.TemporaryDirectory()) as tmp, chromium() as browser:
        for part in ("calls", "phones"):
            if getattr(args, f"skip_{part}"):
                continue
            work = Path(tmp) / part
            work.mkdir()
            with DevBroker(work / "broker") as broker:
                office = write_office(work) if args.voice == "espeak-ng" else write_office(
                    work, **{'voice = "espeak-ng"': 'voice = "none"'})
                live = WebOffice(broker, office, work)
                try:
                    if part == "calls":
                        results["next_to_board"] = bench_calls(live, browser, args.calls,
                                                               args.every)
                    else:
                        results["phones"] = bench_phones(live, args.phones, browser,
                                                         args.chromium_phones, args.restart)
                finally:
                    live.close()
            print(json.dumps({part: results.get("next_to_board" if part == "calls"
                                                else "phones")}), flush=True)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
