"""The `motcua` command. Each subcommand imports its room only when it runs, so a headless
dispatcher never loads Kivy, OpenCV or escpos."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path

from motcua import config as office_config
from motcua.clock import Clock, ShiftedClock, SystemClock


def _load(args: argparse.Namespace) -> office_config.OfficeConfig:
    try:
        return office_config.load(args.config)
    except office_config.ConfigError as exc:
        print(f"motcua: the office file has mistakes / tệp cấu hình có lỗi:\n{exc}",
              file=sys.stderr)
        raise SystemExit(2) from exc


def _clock(args: argparse.Namespace, office: office_config.OfficeConfig) -> Clock:
    if getattr(args, "start_at", None):
        try:
            start = datetime.fromisoformat(args.start_at)
        except ValueError as exc:
            raise SystemExit(f"motcua: --start-at {args.start_at!r}: {exc}") from exc
        if start.tzinfo is None:
            start = start.replace(tzinfo=office.tz)
        return ShiftedClock(start, args.speed)
    return SystemClock(office.tz)


def _broker_url(args: argparse.Namespace, office: office_config.OfficeConfig) -> str:
    return getattr(args, "broker", None) or office.broker.url


def _on_signal() -> threading.Event:
    """An event set by Ctrl-C or SIGTERM; install it before starting anything."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _wait(stop: threading.Event) -> None:
    while not stop.wait(0.5):
        pass


def cmd_dispatcher(args: argparse.Namespace) -> int:
    import faulthandler

    from dispatcher.run import serve
    from dispatcher.store import StoreError

    faulthandler.enable()  # a SIGBUS from a broken database mapping leaves a trace
    office = _load(args)
    stop = _on_signal()
    try:
        service = serve(office, _broker_url(args, office), _clock(args, office),
                        accept_database=args.accept_database)
    except StoreError as exc:
        print(f"motcua dispatcher: không khởi động / not started:\n{exc}", file=sys.stderr)
        return 1
    try:
        _wait(stop)
    finally:
        service.stop()
    return 0


def cmd_broker(args: argparse.Namespace) -> int:
    from broker_config.dev import BrokerError, DevBroker

    stop = _on_signal()
    try:
        broker = DevBroker(Path(args.data), args.port).start()
    except BrokerError as exc:
        print(f"motcua broker: {exc}", file=sys.stderr)
        return 1
    print(f"Mosquitto (development config) listening on {broker.url}; Ctrl-C stops it.")
    try:
        _wait(stop)
    finally:
        broker.stop()
    return 0


def cmd_close_day(args: argparse.Namespace) -> int:
    from motcua.mqtt import Link, NoReply, Requester
    from motcua.protocol import CloseDay

    office = _load(args)
    link = Link.for_office(office, _broker_url(args, office), "admin", args.device,
                persistent=False).start()
    try:
        reply = Requester(link).send(CloseDay(), timeout=args.timeout)
    except NoReply:
        print("motcua close-day: the dispatcher did not answer / bộ điều phối không trả lời",
              file=sys.stderr)
        return 1
    finally:
        link.stop()
    if reply.error is not None:
        print(f"{reply.error.message}\n{reply.error.message_en}", file=sys.stderr)
        return 1
    print(f"Day {reply.day} closed / đã kết thúc ngày làm việc.")
    return 0


def cmd_ticket(args: argparse.Namespace) -> int:
    from printer.testprint import main as test_print

    return test_print(args.config, args.service)


def cmd_booking(args: argparse.Namespace) -> int:
    from cli import booking as cli_booking

    if args.action == "keygen":
        return cli_booking.run(args, None, None)
    office = _load(args)
    return cli_booking.run(args, office, _broker_url(args, office))


def cmd_demo(args: argparse.Namespace) -> int:
    from cli.demo import run_demo

    return run_demo(_load(args), speed=args.speed, duration=args.duration,
                    seed=args.seed, view=not args.quiet)


# Rooms with their own argument parsers: `motcua ROOM ARGS` runs `module.main(ARGS)`.
ROOMS = {
    "kiosk": ("kiosk.app", "a kiosk: QR check-in and walk-in tickets (Kivy)"),
    "scan": ("kiosk.scan", "decode the QR codes in images: a field check for cameras"),
    "counter": ("counter.app", "a counter terminal for staff (Kivy)"),
    "display": ("display.app", "the wall display board, with chime and voice (Kivy)"),
    "report": ("reports.report", "daily statistics from the dispatcher's database"),
    "simulate": ("simulate", "simulate peak days; --plan: how many counters"),
}
BROKER_TOOLS = {"setup": "broker_config.setup", "bridge": "broker_config.bridge"}


def _room(module: str, argv: list[str]) -> int:
    import importlib

    return int(importlib.import_module(module).main(argv) or 0)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="motcua", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = p.add_subparsers(dest="command", required=True)

    def with_config(sp: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sp.add_argument("--config", required=True, help="the office file (office.toml)")
        sp.add_argument("--broker", help="broker URL; overrides [broker].url")
        return sp

    d = with_config(sub.add_parser("dispatcher", help="run the office's dispatcher"))
    d.add_argument("--start-at", help="run the office clock from this time (demos, tests)")
    d.add_argument("--speed", type=float, default=1.0, help="clock speed with --start-at")
    d.add_argument("--accept-database", action="store_true",
                   help="start even though the broker saw more of today's tickets than "
                        "the database holds (after restoring an older backup on purpose)")
    d.set_defaults(func=cmd_dispatcher)

    b = sub.add_parser("broker", help="run Mosquitto with the development config; "
                       "`broker setup` / `broker bridge`: the production broker")
    b.add_argument("--port", type=int, default=1883)
    b.add_argument("--data", default="var/broker", help="persistence directory")
    b.set_defaults(func=cmd_broker)

    c = with_config(sub.add_parser("close-day", help="end the working day"))
    c.add_argument("--device", default="cli", help="admin device id")
    c.add_argument("--timeout", type=float, default=10.0)
    c.set_defaults(func=cmd_close_day)

    t = sub.add_parser("ticket", help="print a test ticket with the configured printer")
    t.add_argument("--config", required=True)
    t.add_argument("--service", required=True)
    t.set_defaults(func=cmd_ticket)

    from cli.booking import add_parser as add_booking_parser

    add_booking_parser(sub).set_defaults(func=cmd_booking)

    for room, (_module, text) in ROOMS.items():
        sub.add_parser(room, help=text, add_help=False)  # listed here, run by main()

    m = sub.add_parser("demo", help="a whole office on this machine")
    m.add_argument("--config", default="examples/office.toml")
    m.add_argument("--speed", type=float, default=30.0, help="simulated minutes per minute")
    m.add_argument("--duration", type=float, default=0, help="stop after N seconds (0: Ctrl-C)")
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--quiet", action="store_true", help="no live terminal view")
    m.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Rooms parse their own arguments (and --help); they set up their own logging.
    if argv and argv[0] in ROOMS:
        return _room(ROOMS[argv[0]][0], argv[1:])
    if len(argv) >= 2 and argv[0] == "broker" and argv[1] in BROKER_TOOLS:
        logging.basicConfig(level=logging.WARNING)
        return _room(BROKER_TOOLS[argv[1]], argv[2:])
    args = build_parser().parse_args(argv)
    # Services log their life; tools print their answer and only problems.
    quiet = logging.INFO if args.command in ("dispatcher", "broker") else logging.WARNING
    logging.basicConfig(level=logging.DEBUG if args.verbose else quiet,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
