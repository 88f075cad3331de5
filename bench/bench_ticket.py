"""Benchmark: draw and encode one ticket at 80 and 58 mm, and how long a printer takes to get it.

Run: .venv/bin/python bench/bench_ticket.py [--runs 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from motcua.config import load  # noqa: E402
from motcua.protocol import TicketInfo  # noqa: E402
from printer.layout import render_ticket  # noqa: E402
from printer.output import encode_ticket  # noqa: E402

GOAL_MS = 50.0
USB_BYTES_S = 1_000_000  # 12 Mbit/s full speed, about 1 MB/s once protocol overhead is paid
SERIAL_BYTES_S = 115_200 / 10  # 8N1: ten bits on the wire per byte
DOTS_PER_MM = 8  # 203 dpi
PAPER_MM_S = 200  # a mid-range thermal printer (TM-T20II: 200 mm/s)

TICKET = TicketInfo.model_validate({
    "number": "H007", "service": "A", "kind": "booking", "status": "waiting",
    "issued_at": "2026-11-24T08:52:40+07:00", "priority": True, "ahead": 3, "est_wait_min": 12,
    "counter": None, "called_at": None,
    "booking": {"id": "BK-2026-000123", "service": "A", "start": "2026-11-24T09:00:00+07:00",
                "end": "2026-11-24T09:30:00+07:00", "arrival": "on_time"}})


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    office = load(ROOT / "tests" / "printer" / "office.toml")
    rows = []
    for width, profile in ((576, "TM-T20II"), (384, "POS-5890")):
        for _ in range(5):  # warm up fonts and caches
            encode_ticket(render_ticket(TICKET, office, width), profile)
        render_ms, encode_ms, total_ms = [], [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            image = render_ticket(TICKET, office, width)
            t1 = time.perf_counter()
            data = encode_ticket(image, profile)
            t2 = time.perf_counter()
            render_ms.append((t1 - t0) * 1000)
            encode_ms.append((t2 - t1) * 1000)
            total_ms.append((t2 - t0) * 1000)
        rows.append((width, image.height, statistics.median(render_ms),
                     statistics.median(encode_ms), statistics.median(total_ms),
                     percentile(total_ms, 0.95), len(data)))

    print(f"ticket render + ESC/POS encode, {args.runs} runs each (booking, priority)\n")
    print(f"{'width':>5} {'height':>6} {'render':>8} {'encode':>8} {'total':>8} {'p95':>8} "
          f"{'bytes':>7} {'USB 1MB/s':>10} {'serial 115k':>12} {'paper':>9}")
    print(f"{'px':>5} {'px':>6} {'med ms':>8} {'med ms':>8} {'med ms':>8} {'ms':>8} "
          f"{'':>7} {'ms':>10} {'s':>12} {'mm / s':>9}")
    ok = True
    for width, height, render, encode, total, p95, size in rows:
        mm = height / DOTS_PER_MM
        print(f"{width:>5} {height:>6} {render:>8.1f} {encode:>8.1f} {total:>8.1f} {p95:>8.1f} "
              f"{size:>7} {size / USB_BYTES_S * 1000:>10.1f} {size / SERIAL_BYTES_S:>12.2f} "
              f"{mm:>4.0f}/{mm / PAPER_MM_S:<4.2f}")
        ok = ok and p95 <= GOAL_MS
    print(f"\ngoal: render + encode <= {GOAL_MS:.0f} ms at p95: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
