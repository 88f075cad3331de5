"""Run every benchmark in bench/ one after another and print their figures (`make bench`),
then one line per benchmark: how long it took and whether it ran to the end."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    done: list[tuple[str, float, int]] = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n== {script.name}", flush=True)
        t0 = time.monotonic()
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        done.append((script.name, time.monotonic() - t0, code))
    print("\n== summary")
    for name, seconds, code in done:
        print(f"  {name:<28} {seconds:6.0f} s  {'ok' if code == 0 else f'FAILED (exit {code})'}")
    sys.exit(1 if any(code for _, _, code in done) else 0)
