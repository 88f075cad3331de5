"""`motcua kiosk`: start the kiosk on its camera (or images, or a video), printer and broker."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.camera import CameraSource, FrameSource, ImageSource, VideoSource
from kiosk.qr import DECODERS, DEFAULT, make_decoder
from motcua import logs
from motcua.config import OfficeConfig, load
from motcua.errors import UsageError
from motcua.screen import fullscreen_config
from motcua.topics import ID_RE

log = logging.getLogger(__name__)


@dataclass
class Setup:
    office: OfficeConfig
    broker_url: str
    kiosk_id: str
    source: FrameSource
    args: argparse.Namespace
    decoder: Any = None
    size: tuple[int, int] = (1280, 800)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="motcua kiosk", description=__doc__)
    p.add_argument("--config", required=True, help="the office file (office.toml)")
    p.add_argument("--kiosk", required=True, help="this kiosk's device id, e.g. k1")
    p.add_argument("--broker", help="broker URL; overrides [broker].url")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--camera", help="camera index or device path (default: [kiosk].camera)")
    src.add_argument("--images", type=Path, help="a folder of images shown to the scanner")
    src.add_argument("--video", type=Path, help="a video file played to the scanner")
    p.add_argument("--decoder", default=DEFAULT, choices=sorted(DECODERS),
                   help=f"QR decoder (default {DEFAULT}; see README for why)")
    p.add_argument("--fullscreen", action="store_true", help="fill the screen (a real kiosk)")
    p.add_argument("--size", default="1280x800", help="window size WxH when not fullscreen")
    p.add_argument("--reply-timeout", type=float, default=10.0,
                   help="seconds to wait for the dispatcher before saying it does not answer")
    p.add_argument("--result-seconds", type=float, default=10.0,
                   help="seconds the number stays on screen after printing")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UsageError(f"--size phải có dạng 1280x800, không phải {text!r}",
                         f"--size must look like 1280x800, not {text!r}") from None
    if not (320 <= w <= 8000 and 320 <= h <= 8000):
        raise UsageError(f"--size {text} ngoài khoảng cho phép", f"--size {text} is out of range")
    return w, h


def open_source(args: argparse.Namespace, office: OfficeConfig) -> FrameSource:
    if args.images:
        return ImageSource(args.images)
    if args.video:
        return VideoSource(args.video)
    camera: int | str = args.camera if args.camera is not None else office.kiosk.camera
    if isinstance(camera, str) and camera.isdigit():
        camera = int(camera)
    return CameraSource(camera)


def setup(argv: list[str] | None) -> Setup:
    args = build_parser().parse_args(argv)
    if not ID_RE.match(args.kiosk):
        raise UsageError(f"--kiosk {args.kiosk!r} chỉ gồm a-z, 0-9, '-' (tối đa 32)",
                         f"--kiosk {args.kiosk!r} must be a-z, 0-9 and '-' (at most 32)")
    office = load(args.config)
    size = parse_size(args.size)
    decoder = make_decoder(args.decoder)
    source = open_source(args, office)
    return Setup(office, args.broker or office.broker.url, args.kiosk, source, args, decoder,
                 size)


def main(argv: list[str] | None = None) -> int:
    """Run the kiosk until its window closes. A mistake in how it was started (the
    arguments, the office file, the camera, the decoder or the printer) is a MotcuaError."""
    s = setup(argv)
    logs.setup(logging.DEBUG if s.args.verbose else logging.INFO)
    from printer import open_printer

    try:
        printer = open_printer(s.office.printer)
    except Exception:  # a PrintError says what is wrong; the camera is let go first
        s.source.close()
        raise
    app = make_app(s, s.decoder, printer, size=s.size, fullscreen=s.args.fullscreen,
                   reply_timeout=s.args.reply_timeout, result_seconds=s.args.result_seconds)
    from kivy.clock import Clock

    def stop(*args: Any) -> None:  # systemd's SIGTERM: say "offline", release the camera
        Clock.schedule_once(lambda dt: app.stop())

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    app.run()
    return 0


def prepare_kivy(size: tuple[int, int], fullscreen: bool = False) -> None:
    """Settings Kivy reads once, at import: set them before anything imports it."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # our arguments are not Kivy's
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    from kivy.config import Config

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "fullscreen", "0")
    if fullscreen:  # the screen's real size, with or without a window manager (issue 15)
        fullscreen_config(Config, size)
    Config.set("graphics", "resizable", "1")
    Config.set("input", "mouse", "mouse,multitouch_on_demand")  # no red dots on right-click
    Config.set("kivy", "exit_on_escape", "0")  # a citizen's keyboard must not close it


def make_app(s: Setup, decoder: Any, printer: Any, size: tuple[int, int] = (1280, 800),
             fullscreen: bool = False, **options: Any) -> Any:
    prepare_kivy(size, fullscreen)
    from kiosk.ui import KioskApp, Options

    return KioskApp(s.office, s.broker_url, s.kiosk_id, s.source, decoder, printer,
                    Options(**options))


if __name__ == "__main__":
    sys.exit(main())
