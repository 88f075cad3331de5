"""`motcua rating --counter 3`: the rating screen facing the citizen at counter 3."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys

from motcua import config as office_config
from motcua.errors import UsageError, run_main
from motcua.mqtt import BrokerAddress
from motcua.screen import GEOMETRY_RE, window_config

MIN_SIZE = (480, 320)  # a 5-inch touchscreen; the four faces still take a finger each


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="motcua rating",
                                description="Rating screen / Màn hình đánh giá hài lòng")
    p.add_argument("--config", required=True, help="the office file (office.toml)")
    p.add_argument("--counter", required=True, help="the counter it faces, as in office.toml")
    p.add_argument("--broker", help="broker URL; overrides [broker].url")
    p.add_argument("--geometry", default="1024x600",
                   help="window size and place, WIDTHxHEIGHT[+X+Y] (default 1024x600)")
    p.add_argument("--fullscreen", action="store_true", help="fill the screen")
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    return p


def kivy_settings(m: re.Match[str], fullscreen: bool) -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from kivy.config import Config

    window_config(Config, m, fullscreen)  # a citizen's screen: nothing quits it


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    office = office_config.load(args.config)
    if args.counter not in office.counters:
        known = ", ".join(office.counters)
        raise UsageError(f"không có quầy '{args.counter}' trong {args.config} (có: {known}): "
                         "màn hình đánh giá phải đặt tại một quầy.",
                         f"there is no counter '{args.counter}' in {args.config} (known: "
                         f"{known}): a rating screen faces one counter.")
    url = args.broker or office.broker.url
    try:
        BrokerAddress.parse(url)
    except ValueError:
        raise UsageError(f"địa chỉ máy chủ MQTT không hợp lệ: {url!r} "
                         "(ví dụ mqtt://127.0.0.1:1883)",
                         f"invalid broker URL {url!r} (e.g. mqtt://127.0.0.1:1883)") from None
    m = GEOMETRY_RE.match(args.geometry)
    if not m or int(m.group(1)) < MIN_SIZE[0] or int(m.group(2)) < MIN_SIZE[1]:
        raise UsageError(f"--geometry {args.geometry!r}: cần dạng 1024x600 hoặc 1024x600+0+0, "
                         f"nhỏ nhất {MIN_SIZE[0]}x{MIN_SIZE[1]}",
                         f"--geometry {args.geometry!r}: expected 1024x600 or 1024x600+0+0, "
                         f"at least {MIN_SIZE[0]}x{MIN_SIZE[1]}")
    kivy_settings(m, args.fullscreen)
    from rating.ui import RatingApp

    RatingApp(office, args.counter, url).run()
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "motcua rating"))
