"""Benchmark: each app's cold start to its first full screen, and its resident memory.

    .venv/bin/python bench/bench_start.py [--runs 3] [--screen 1920x1080] [--top]
                                          [--apps kiosk,display,counter]

For each app, --runs times: a fresh Xvfb screen with no window manager, then
`python -m bench.bench_start --child APP ...` runs the app's own `motcua APP ... --fullscreen`
(the launch path people use; the broker address answers nothing, so no network wait is
counted). The child notes the moment the first frame showing the app's root widget has been
swapped to the screen (Window on_flip), then, 5 s later, its resident memory.

1. Start: from just before the parent's Popen (interpreter start included) to that first
   full frame. Median of --runs after one unmeasured warm-up run (the page cache is warm,
   as on a kiosk that restarts). With --cold, also --runs starts after evicting the files
   a start reads (the venv, Python's library, Mesa, LLVM; posix_fadvise DONTNEED) from
   the page cache, as on the first start after power-on. Goal: <= 3 s.
2. RSS 5 s after the first frame, by /proc/PID/smaps. Without a GPU, Mesa renders in
   software (llvmpipe): its LLVM, its driver and the X shared-memory image are counted
   apart, since a device with a graphics chip does not carry them (as in bench_display.py).
   Goals: kiosk <= 250 MB, board <= 150 MB (without software GL).
3. What the start imports: the heavy modules present in sys.modules at that moment.
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
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from memory import rss_by_mapping  # noqa: E402

START_GOAL_S = 3.0
RSS_GOALS_MB = {"kiosk": 250.0, "display": 150.0}
SOFTWARE_GL = ("libLLVM", "swrast_dri", "libgallium", "/SYSV")  # not there with a GPU
HEAVY = ("cv2", "numpy", "matplotlib", "zxingcpp", "pyzbar", "PIL", "escpos", "pydantic",
         "cryptography", "jwt", "holidays", "segno", "usb", "serial")
SETTLE_S = 5.0


# -- the child: the app itself, watched from a side thread -----------------------------------
def child(kind: str, report: Path, started: float, argv: list[str]) -> int:
    def watch() -> None:
        while getattr(sys.modules.get("kivy.core.window"), "Window", None) is None:
            time.sleep(0.001)
        window = sys.modules["kivy.core.window"].Window  # type: ignore[attr-defined]
        done = threading.Event()

        def flipped(*_: Any) -> None:
            app_class = getattr(sys.modules.get("kivy.app"), "App", None)
            app = app_class.get_running_app() if app_class else None
            if done.is_set() or app is None or app.root is None \
                    or app.root.get_root_window() is None:
                return
            done.set()
            first = time.time() - started
            window.unbind(on_flip=flipped)
            from kivy.clock import Clock

            def measure(_dt: float) -> None:
                maps = rss_by_mapping(os.getpid())
                report.write_text(json.dumps({
                    "first_frame_s": first, "window": list(window.size),
                    "rss_kb": sum(maps.values()),
                    "software_gl_kb": sum(v for k, v in maps.items()
                                          if any(s in k for s in SOFTWARE_GL)),
                    "top_kb": maps.most_common(15),
                    "heavy": sorted({m.split(".")[0] for m in list(sys.modules)} &
                                    set(HEAVY))}), encoding="utf-8")
                app.stop()
            Clock.schedule_once(measure, SETTLE_S)
        window.bind(on_flip=flipped)

    threading.Thread(target=watch, daemon=True).start()
    from cli.main import main as motcua

    return motcua([kind, *argv])


# -- the parent ------------------------------------------------------------------------------
def app_args(kind: str, office: Path, work: Path) -> list[str]:
    broker = ["--broker", "mqtt://127.0.0.1:1"]  # nothing listens: no network wait either way
    if kind == "kiosk":
        (work / "camera").mkdir(exist_ok=True)
        return ["--config", str(office), "--kiosk", "k1", *broker, "--images",
                str(work / "camera"), "--fullscreen"]
    if kind == "display":
        return ["--config", str(office), *broker, "--sound", "none", "--fullscreen"]
    return ["--config", str(office), "--counter", "1", *broker, "--fullscreen"]


def cold_files() -> list[Path]:
    """What an app's start reads from disk: the venv, Python's own library, Mesa, LLVM."""
    roots = [Path(sys.prefix), Path(sys.base_prefix) / "lib", ROOT]
    roots += [Path("/usr/lib/x86_64-linux-gnu/dri")]
    files = sorted({f for r in roots if r.is_dir() for f in r.rglob("*") if f.is_file()})
    files += list(Path("/usr/lib/x86_64-linux-gnu").glob("libLLVM*"))
    return files


def evict(files: list[Path]) -> int:
    """Drop these files' pages from the page cache (posix_fadvise DONTNEED: clean pages go,
    nothing else on the machine is touched), as after a power-on. Returns how many."""
    n = 0
    for f in files:
        try:
            fd = os.open(f, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            n += 1
        finally:
            os.close(fd)
    return n


def one_run(kind: str, office: Path, work: Path, screen: tuple[int, int],
            cold: list[Path] | None = None) -> dict[str, Any]:
    from tests.kivy_support import kivy_env, xvfb

    report = work / f"{kind}.json"
    report.unlink(missing_ok=True)
    with xvfb(*screen) as display:
        env = {**os.environ, **kivy_env(work / "kivy", display), "PYTHONPATH": str(ROOT)}
        env.pop("SDL_VIDEODRIVER", None)
        if cold:
            evict(cold)
        started = time.time()
        env["BENCH_START_T0"] = repr(started)
        with open(work / f"{kind}.log", "wb") as log:
            proc = subprocess.run([sys.executable, "-m", "bench.bench_start", "--child", kind,
                                   "--report", str(report), "--",
                                   *app_args(kind, office, work)],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  timeout=120)
    if proc.returncode != 0 or not report.exists():
        raise SystemExit(f"bench_start: {kind} failed; see {work / (kind + '.log')}:\n"
                         + (work / f"{kind}.log").read_text(errors="replace")[-2000:])
    result: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--screen", default="1920x1080", help="the Xvfb screen, WxH")
    p.add_argument("--apps", default="kiosk,display,counter")
    p.add_argument("--top", action="store_true", help="print the largest mappings too")
    p.add_argument("--cold", action="store_true",
                   help="also time starts with the app's files evicted from the page cache")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
        return child(args.child, args.report, float(os.environ["BENCH_START_T0"]), rest)

    from tests.conftest import write_office

    w, h = (int(v) for v in args.screen.split("x"))
    work = Path(tempfile.mkdtemp(prefix="bench-start-"))
    ok = True
    try:
        office = write_office(work)
        print(f"each app --fullscreen on a {w}x{h} Xvfb screen, no window manager, Mesa "
              f"llvmpipe; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
              f"median of {args.runs} runs after a warm-up")
        for kind in args.apps.split(","):
            one_run(kind, office, work, (w, h))  # warm-up: page cache, Kivy's config.ini
            runs = [one_run(kind, office, work, (w, h)) for _ in range(args.runs)]
            start = statistics.median(r["first_frame_s"] for r in runs)
            rss = statistics.median(r["rss_kb"] for r in runs) / 1024
            soft = statistics.median(r["software_gl_kb"] for r in runs) / 1024
            goal = RSS_GOALS_MB.get(kind)
            ok &= start <= START_GOAL_S and (goal is None or rss - soft <= goal)
            each = " ".join(f"{r['first_frame_s']:.2f}" for r in runs)
            print(f"{kind:8s} first full frame {start:.2f} s (runs: {each}; goal <= "
                  f"{START_GOAL_S:.0f} s); window {runs[0]['window'][0]}x{runs[0]['window'][1]}")
            print(f"{'':8s} RSS {rss:.0f} MB, of which {soft:.0f} MB software GL: "
                  f"{rss - soft:.0f} MB without it"
                  + (f" (goal <= {goal:.0f} MB)" if goal else ""))
            print(f"{'':8s} imported at start: {', '.join(runs[0]['heavy']) or '-'}")
            if args.cold:
                files = cold_files()
                colds = [one_run(kind, office, work, (w, h), files)["first_frame_s"]
                         for _ in range(args.runs)]
                cold = statistics.median(colds)
                ok &= cold <= START_GOAL_S
                print(f"{'':8s} cold (its {len(files)} files out of the page cache): first "
                      f"full frame {cold:.2f} s (runs: {' '.join(f'{c:.2f}' for c in colds)})")
            if args.top:
                for name, kb in runs[0]["top_kb"]:
                    print(f"{'':10s}{kb / 1024:7.1f} MB  {name}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
