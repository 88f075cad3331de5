"""`motcua counter`: read the arguments and the office file, then open the terminal window."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from motcua import config as office_config
from motcua import logs
from motcua.errors import UsageError, run_main
from motcua.mqtt import BrokerAddress
from motcua.screen import GEOMETRY_RE, window_config

MIN_SIZE = (1024, 700)  # below this the ticket number and the dialogs no longer fit


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="motcua counter",
                                description="Counter terminal / Màn hình quầy tiếp nhận")
    p.add_argument("--config", required=True, help="the office file (office.toml)")
    p.add_argument("--counter", required=True, help="this counter's id, as in office.toml")
    p.add_argument("--broker", help="broker URL; overrides [broker].url")
    p.add_argument("--geometry", default="1100x720",
                   help="window size and place, WIDTHxHEIGHT[+X+Y] (default 1100x720)")
    p.add_argument("--fullscreen", action="store_true", help="fill the screen")
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    return p


def kivy_settings(geometry: str, fullscreen: bool) -> None:
    """Window settings must be in place before Kivy creates its window."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # our arguments are not Kivy's
    from kivy.config import Config

    m = GEOMETRY_RE.match(geometry)
    assert m is not None  # checked by main
    window_config(Config, m, fullscreen, MIN_SIZE)  # Esc cancels a dialog, it must not quit


def screen_available() -> bool:
    """Whether a window can open here: an X or Wayland display, or a desktop OS."""
    return sys.platform in ("win32", "darwin") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def prepare_kivy_home() -> None:
    """Kivy makes its home folders at import, without exist_ok: windows starting at once on
    a fresh machine would race (FileExistsError in one of them). Make them first."""
    home = Path(os.environ.get("KIVY_HOME") or Path.home() / ".kivy")
    for sub in ("mods", "extensions/plugins", "logs"):
        (home / sub).mkdir(parents=True, exist_ok=True)


def open_windows(config: str | os.PathLike[str], broker_url: str,
                 counters: tuple[str, ...] = ("1", "3")) -> list[subprocess.Popen[bytes]]:
    """Counter windows as child processes, for `motcua demo`; none without a screen.

    Each window is its own process: Kivy allows one window per process.
    """
    if not screen_available():
        return []
    prepare_kivy_home()
    procs = []
    for i, cid in enumerate(counters):
        if i:
            time.sleep(0.5)  # and the first one writes Kivy's config.ini alone
        procs.append(subprocess.Popen([sys.executable, "-m", "counter", "--config",
                                       str(config), "--counter", cid, "--broker", broker_url,
                                       "--geometry", f"1024x700+{i * 896}+{i * 60}"]))
    return procs


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.setup(logging.DEBUG if args.verbose else logging.INFO)
    office = office_config.load(args.config)
    if args.counter not in office.counters:
        known = ", ".join(office.counters)
        raise UsageError(f"không có quầy '{args.counter}' trong {args.config} (có: {known}).",
                         f"there is no counter '{args.counter}' in {args.config} "
                         f"(known: {known}).")
    url = args.broker or office.broker.url
    try:
        BrokerAddress.parse(url)
    except ValueError:
        raise UsageError(f"địa chỉ máy chủ MQTT không hợp lệ: {url!r} "
                         "(ví dụ mqtt://127.0.0.1:1883)",
                         f"invalid broker URL {url!r} (e.g. mqtt://127.0.0.1:1883)") from None
    m = GEOMETRY_RE.match(args.geometry)
    if not m:
        raise UsageError(f"--geometry {args.geometry!r}: cần dạng 1100x720 hoặc 1100x720+0+0",
                         f"--geometry {args.geometry!r}: expected 1100x720 or 1100x720+0+0")
    if int(m.group(1)) < MIN_SIZE[0] or int(m.group(2)) < MIN_SIZE[1]:
        raise UsageError(f"--geometry {args.geometry!r}: cửa sổ nhỏ nhất "
                         f"{MIN_SIZE[0]}x{MIN_SIZE[1]}",
                         f"--geometry {args.geometry!r}: the smallest window is "
                         f"{MIN_SIZE[0]}x{MIN_SIZE[1]}")
    kivy_settings(args.geometry, args.fullscreen)
    from counter.ui import CounterApp

    CounterApp(office, args.counter, url).run()
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "motcua counter"))
