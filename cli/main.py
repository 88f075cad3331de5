"""The `motcua` command. Each subcommand imports its room only when it runs, so a headless
dispatcher never loads Kivy, OpenCV or escpos."""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from motcua import config as office_config
from motcua import logs
from motcua.clock import Clock, ShiftedClock, SystemClock
from motcua.errors import MotcuaError, UsageError, fail


def _clock(args: argparse.Namespace, office: office_config.OfficeConfig) -> Clock:
    if getattr(args, "start_at", None):
        try:
            start = datetime.fromisoformat(args.start_at)
        except ValueError as exc:
            raise UsageError(f"--start-at {args.start_at!r}: thời điểm không hợp lệ ({exc})",
                             f"--start-at {args.start_at!r}: not a time ({exc})") from exc
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

    office = office_config.load(args.config)
    faulthandler.enable()  # a SIGBUS from a broken database mapping leaves a trace
    stop = _on_signal()
    service = serve(office, _broker_url(args, office), _clock(args, office),
                    accept_database=args.accept_database)  # a StoreError: not started
    try:
        _wait(stop)
    finally:
        service.stop()
    return 0


def cmd_broker(args: argparse.Namespace) -> int:
    from broker_config.dev import DevBroker

    stop = _on_signal()
    broker = DevBroker(Path(args.data), args.port).start()
    print(f"Mosquitto (development config) listening on {broker.url}; Ctrl-C stops it.")
    try:
        _wait(stop)
    finally:
        broker.stop()
    return 0


def cmd_close_day(args: argparse.Namespace) -> int:
    from motcua.mqtt import Link, NoReply, Requester
    from motcua.protocol import CloseDay

    office = office_config.load(args.config)
    link = Link.for_office(office, _broker_url(args, office), "admin", args.device,
                           persistent=False).start()
    try:
        reply = Requester(link).send(CloseDay(), timeout=args.timeout)
    except NoReply as exc:
        raise MotcuaError("bộ điều phối không trả lời", "the dispatcher did not answer") from exc
    finally:
        link.stop()
    if reply.error is not None:
        raise MotcuaError(reply.error.message, reply.error.message_en)
    print(f"Day {reply.day} closed / đã kết thúc ngày làm việc.")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from dispatcher.backup import backup

    office = office_config.load(args.config)
    for path in backup(office, Path(args.to) if args.to else None):
        print(f"Đã sao lưu / backed up: {path}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from dispatcher.backup import restore

    office = office_config.load(args.config)
    kept = restore(office, Path(args.file), force=args.force)
    print(f"Đã khôi phục / restored {office.storage} from {args.file}.")
    if kept:
        print(f"Cơ sở dữ liệu cũ được giữ ở / the replaced database is kept at {kept}")
    print("Khởi động lại bộ điều phối. Nếu hôm nay máy chủ MQTT đã thấy nhiều số hơn bản sao "
          "này có, bộ điều phối sẽ từ chối: khi đã chắc chắn, chạy với --accept-database.\n"
          "Start the dispatcher again. If the broker saw more of today's tickets than this "
          "copy holds, it refuses: once you are sure, start it with --accept-database.")
    return 0


def cmd_ticket(args: argparse.Namespace) -> int:
    from printer.testprint import main as test_print

    return test_print(args.config, args.service)


def cmd_booking(args: argparse.Namespace) -> int:
    from cli import booking as cli_booking

    if args.action == "keygen":
        return cli_booking.run(args, None, None)
    office = office_config.load(args.config)
    return cli_booking.run(args, office, _broker_url(args, office))


def cmd_officer(args: argparse.Namespace) -> int:
    """`motcua officer pin`: the hash line of a PIN, for an [[officers]] row of office.toml.
    The PIN is asked twice on a terminal (never shown), or read from standard input."""
    import getpass

    from motcua.errors import UsageError
    from motcua.officers import PIN_RE, hash_pin

    if sys.stdin.isatty():
        pin = getpass.getpass("PIN (4-8 chữ số / digits): ")
        if getpass.getpass("PIN lần nữa / again: ") != pin:
            raise UsageError("hai lần nhập PIN không giống nhau", "the two PINs differ")
    else:
        pin = sys.stdin.readline().strip()
    if not PIN_RE.fullmatch(pin):
        raise UsageError("PIN phải gồm 4 đến 8 chữ số", "a PIN is 4 to 8 digits")
    print(f'pin = "{hash_pin(pin)}"')
    return 0


def officer_options(o: argparse.ArgumentParser) -> None:
    o.add_argument("action", choices=["pin"], help="pin: the hash of a PIN for office.toml")


def cmd_demo(args: argparse.Namespace) -> int:
    from cli.demo import run_demo

    return run_demo(office_config.load(args.config), speed=args.speed,
                    duration=args.duration, seed=args.seed, view=not args.quiet)


def with_config(sp: argparse.ArgumentParser) -> argparse.ArgumentParser:
    sp.add_argument("--config", required=True, help="the office file (office.toml)")
    sp.add_argument("--broker", help="broker URL; overrides [broker].url")
    return sp


def dispatcher_options(d: argparse.ArgumentParser) -> None:
    with_config(d)
    d.add_argument("--start-at", help="run the office clock from this time (demos, tests)")
    d.add_argument("--speed", type=float, default=1.0, help="clock speed with --start-at")
    d.add_argument("--accept-database", action="store_true",
                   help="start even though the broker saw more of today's tickets than "
                        "the database holds (after restoring an older backup on purpose)")


def broker_options(b: argparse.ArgumentParser) -> None:
    b.add_argument("--port", type=int, default=1883)
    b.add_argument("--data", default="var/broker", help="persistence directory")


def close_day_options(c: argparse.ArgumentParser) -> None:
    with_config(c)
    c.add_argument("--device", default="cli", help="admin device id")
    c.add_argument("--timeout", type=float, default=10.0)


def backup_options(b: argparse.ArgumentParser) -> None:
    b.add_argument("--config", required=True, help="the office file (office.toml)")
    b.add_argument("--to", help="the folder (default: [storage] backup_dir, and "
                                "backup_copy_dir when set)")


def restore_options(r: argparse.ArgumentParser) -> None:
    r.add_argument("file", help="a copy made by `motcua backup`")
    r.add_argument("--config", required=True, help="the office file (office.toml)")
    r.add_argument("--force", action="store_true",
                   help="restore a copy that does not say which office it is (an old one)")


def ticket_options(t: argparse.ArgumentParser) -> None:
    t.add_argument("--config", required=True)
    t.add_argument("--service", required=True)


def booking_options(b: argparse.ArgumentParser) -> None:
    from cli.booking import add_arguments

    add_arguments(b)


def demo_options(m: argparse.ArgumentParser) -> None:
    m.add_argument("--config", default="examples/office.toml")
    m.add_argument("--speed", type=float, default=30.0, help="simulated minutes per minute")
    m.add_argument("--duration", type=float, default=0, help="stop after N seconds (0: Ctrl-C)")
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--quiet", action="store_true", help="no live terminal view")


@dataclass(frozen=True)
class Command:
    """One subcommand. Built in: `run(args)` with the options `options` adds. A room:
    `module.main(argv)` parses the rest of the command line itself (and its --help)."""

    help: str
    run: Callable[[argparse.Namespace], int] | None = None
    options: Callable[[argparse.ArgumentParser], None] | None = None
    module: str = ""
    # Services log their life; tools print their answer and only problems. None: the room
    # sets up its own logging (-v still turns on DEBUG for it).
    log_level: int | None = logging.WARNING
    tools: dict[str, Command] = field(default_factory=dict)  # `motcua broker setup`

    def __call__(self, args: argparse.Namespace, rest: list[str]) -> int:
        if self.module:
            return int(importlib.import_module(self.module).main(rest) or 0)
        assert self.run is not None
        return int(self.run(args) or 0)


def room(module: str, text: str, log_level: int | None = None) -> Command:
    return Command(text, module=module, log_level=log_level)


# Every subcommand, in the order `motcua --help` lists them.
COMMANDS: dict[str, Command] = {
    "dispatcher": Command("run the office's dispatcher", cmd_dispatcher, dispatcher_options,
                          log_level=logging.INFO),
    "broker": Command("run Mosquitto with the development config; `broker setup` / "
                      "`broker bridge`: the production broker", cmd_broker, broker_options,
                      log_level=logging.INFO, tools={
                          "setup": room("broker_config.setup", "the production broker's "
                                        "accounts, ACL, certificates and config",
                                        logging.WARNING),
                          "bridge": room("broker_config.bridge", "bridge the office broker "
                                         "to a central one", logging.WARNING)}),
    "close-day": Command("end the working day", cmd_close_day, close_day_options),
    "backup": Command("a checked copy of the database, safe while the dispatcher runs",
                      cmd_backup, backup_options),
    "restore": Command("put a backup in place of the database (the dispatcher stopped)",
                       cmd_restore, restore_options),
    "ticket": Command("print a test ticket with the configured printer", cmd_ticket,
                      ticket_options),
    "booking": Command("bookings: keygen, issue, cancel, move, import", cmd_booking,
                       booking_options),
    "officer": Command("officers: `officer pin` makes the PIN hash for office.toml",
                       cmd_officer, officer_options),
    "kiosk": room("kiosk.app", "a kiosk: QR check-in and walk-in tickets (Kivy)"),
    "scan": room("kiosk.scan", "decode the QR codes in images: a field check for cameras"),
    "counter": room("counter.app", "a counter terminal for staff (Kivy)"),
    "rating": room("rating.app", "a rating screen facing the citizen at one counter (Kivy)"),
    "display": room("display.app", "the wall display board, with chime and voice (Kivy)"),
    "web": room("web.app", "the browser pages: board, counter, citizen's ticket, hall"),
    "report": room("reports.report", "daily statistics from the dispatcher's database"),
    "simulate": room("simulate", "simulate peak days; --plan: how many counters"),
    "install": room("cli.install", "install a role (server, kiosk, display, counter, "
                   "rating) with systemd"),
    "demo": Command("a whole office on this machine", cmd_demo, demo_options),
    "doctor": room("cli.doctor", "is this device ready? broker, dispatcher, printer, clock..."),
}


def _add(sub: Any, name: str, cmd: Command, prog: str, options: bool = True) -> None:
    # A room's parser takes no options of its own: what follows its name is the room's.
    sp = sub.add_parser(name, help=cmd.help, description=cmd.help, add_help=not cmd.module)
    if cmd.options and options:
        cmd.options(sp)
    sp.set_defaults(cmd=cmd, prog=prog)
    if cmd.tools:
        tools = sp.add_subparsers(title="tools", metavar="[TOOL]")
        for tool, tool_cmd in cmd.tools.items():
            _add(tools, tool, tool_cmd, f"{prog} {tool}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every subcommand; with `command`, only that one gets its options (the others are
    never parsed): `booking`'s import its tool, JWT and all, which a window need not
    load before it opens (bench/bench_start.py)."""
    p = argparse.ArgumentParser(prog="motcua", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="log more (every subcommand)")
    sub = p.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for name, cmd in COMMANDS.items():
        _add(sub, name, cmd, f"motcua {name}", options=command in (None, name))
    return p


def main(argv: list[str] | None = None) -> int:
    """`motcua [-v] COMMAND ...`: the global options, then one subcommand from COMMANDS. A
    MotcuaError from any of them is printed here, the one way, with its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(next((a for a in argv if a in COMMANDS), None))
    args, rest = parser.parse_known_args(argv)
    cmd: Command = args.cmd
    if rest and not cmd.module:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    level = logging.DEBUG if args.verbose else cmd.log_level
    if level is not None:
        logs.setup(level)
    try:
        return cmd(args, rest)
    except MotcuaError as exc:
        return fail(exc, args.prog)


if __name__ == "__main__":
    sys.exit(main())
