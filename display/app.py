"""`python -m display`: start the wall board for one office (arguments checked before Kivy)."""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
from datetime import datetime
from pathlib import Path

from motcua import config as office_config
from motcua import logs
from motcua.clock import Clock, ShiftedClock, SystemClock
from motcua.errors import UsageError
from motcua.mqtt import BrokerAddress
from motcua.screen import fullscreen_config

SIZE_RE = re.compile(r"^(\d{3,5})x(\d{3,5})$")
DEVICE_RE = re.compile(r"^[a-z0-9-]{1,32}$")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="motcua display",
                                description="The wall display board (bảng gọi số).")
    p.add_argument("--config", required=True, help="the office file (office.toml)")
    p.add_argument("--broker", help="broker URL; overrides [broker].url")
    p.add_argument("--fullscreen", action="store_true", help="fill the screen (a wall TV)")
    p.add_argument("--size", default="1280x720", help="window size WxH (default 1280x720)")
    p.add_argument("--device", default="board-1", help="this board's id, for its presence")
    p.add_argument("--start-at", help="run the board clock from this time (demos, tests)")
    p.add_argument("--speed", type=float, default=1.0, help="clock speed with --start-at")
    p.add_argument("--sound", choices=("kivy", "file", "none"), default="kivy",
                   help="where the chime and voice go (file: --audio-out)")
    p.add_argument("--audio-out", type=Path,
                   help="write what would be played as numbered WAV files here")
    p.add_argument("--audio-pace", type=float, default=1.0,
                   help="with --audio-out: how long a sound takes, times its length")
    p.add_argument("--cache", type=Path, help="voice cache folder (~/.cache/motcua/voice)")
    p.add_argument("--metrics", type=Path, help="append timings and memory as JSON lines")
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    return p


def parse_size(text: str) -> tuple[int, int]:
    m = SIZE_RE.match(text.strip().lower())
    if not m or not (240 <= int(m.group(1)) <= 8192 and 240 <= int(m.group(2)) <= 8192):
        raise UsageError(f"--size {text!r}: kích thước phải có dạng RỘNGxCAO, ví dụ 1920x1080",
                         f"--size {text!r}: the size must look like WIDTHxHEIGHT, "
                         "e.g. 1920x1080")
    return int(m.group(1)), int(m.group(2))


def make_clock(args: argparse.Namespace, office: office_config.OfficeConfig) -> Clock:
    if not args.start_at:
        return SystemClock(office.tz)
    try:
        start = datetime.fromisoformat(args.start_at)
    except ValueError as exc:
        raise UsageError(f"--start-at {args.start_at!r}: thời điểm không hợp lệ (ví dụ "
                         "2026-11-25T08:00+07:00)", f"--start-at {args.start_at!r}: not a "
                         "time like 2026-11-25T08:00+07:00") from exc
    if args.speed <= 0:
        raise UsageError("--speed phải lớn hơn 0", "--speed must be above 0")
    return ShiftedClock(start if start.tzinfo else start.replace(tzinfo=office.tz), args.speed)


def check(args: argparse.Namespace) -> tuple[office_config.OfficeConfig, str, tuple[int, int]]:
    """Everything that can be wrong with the arguments, found before any window opens."""
    size = parse_size(args.size)
    if not DEVICE_RE.match(args.device):
        raise UsageError(f"--device {args.device!r}: chỉ gồm a-z, 0-9, '-' (tối đa 32)",
                         f"--device {args.device!r}: only a-z, 0-9 and '-', at most 32")
    office = office_config.load(args.config)
    url = args.broker or office.broker.url
    try:
        BrokerAddress.parse(url)
    except ValueError as exc:
        raise UsageError(f"--broker {url!r}: địa chỉ máy chủ MQTT không hợp lệ (ví dụ "
                         "mqtt://host:1883)", f"--broker {url!r}: must look like "
                         "mqtt://host:1883") from exc
    if args.sound == "file" and not args.audio_out:
        raise UsageError("--sound file cần --audio-out THƯ_MỤC",
                         "--sound file needs --audio-out FOLDER")
    if args.audio_pace < 0:
        raise UsageError("--audio-pace không được âm", "--audio-pace must not be negative")
    return office, url, size


def prepare_kivy(size: tuple[int, int], fullscreen: bool, verbose: bool) -> None:
    """Settings Kivy reads once, at import: they must come before the first kivy import."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from kivy.config import Config

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "fullscreen", "0")
    if fullscreen:  # the screen's real size, with or without a window manager (issue 15)
        fullscreen_config(Config, size)
    Config.set("graphics", "resizable", "1")
    # no multisampling: text is already smooth, and MSAA buffers cost ~60 MB at 1080p with
    # a software renderer, and time on every frame
    Config.set("graphics", "multisamples", "0")
    # a message from the MQTT thread wakes the UI at once instead of at the next frame slot
    Config.set("kivy", "kivy_clock", "interrupt")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    logs.quiet_kivy(verbose)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.setup(logging.DEBUG if args.verbose else logging.INFO)
    office, url, size = check(args)
    clock = make_clock(args, office)
    prepare_kivy(size, args.fullscreen, args.verbose)
    from display.board_app import BoardApp, Options

    sound = "file" if args.audio_out else args.sound
    options = Options(device=args.device, clock=clock, sound=sound, audio_out=args.audio_out,
                      audio_pace=args.audio_pace, cache=args.cache, metrics=args.metrics)
    app = BoardApp(office, url, options)

    def stop(*_: object) -> None:  # systemd or Ctrl-C: leave cleanly, presence "offline"
        from kivy.clock import Clock

        Clock.schedule_once(lambda _dt: app.stop())

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    app.run()
    return 0
