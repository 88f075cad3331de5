"""Runs the real kiosk app (one Kivy window per process) through a scenario, by touch and camera.

    python -m tests.kiosk.driver --broker URL --work DIR --artifacts DIR --scenario flows|faults

It owns what a kiosk has around it: a dispatcher process, a loopback network printer,
a camera fed with QR frames; it fails (exit 1, traceback on stderr) at the first step
that goes wrong and writes report.json into --work.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from broker_config.dev import DevBroker
from kiosk.app import Setup, make_app
from kiosk.camera import ImageSource
from kiosk.qr import make_decoder
from motcua import tokens
from motcua.config import load
from printer import open_printer
from tests.conftest import ROOT, TZ, write_office
from tests.integration.devices import Device, DispatcherProcess, Watcher
from tests.kiosk.frames import qr_frame

sys.path.insert(0, str(ROOT / "tests" / "printer"))
from loopback_printer import LoopbackPrinter, decode_raster  # noqa: E402

DAY = datetime(2026, 11, 25, tzinfo=TZ)
CANCELLED = "BK-2026-CANCELLED"


def token(booking: str, start: str, office: str = "demo", key: Any = None,
          day: datetime = DAY) -> str:
    h, m = (int(x) for x in start.split(":"))
    begin = day.replace(hour=h, minute=m)
    key = key or load_pem_private_key((ROOT / "examples/keys/demo-portal.key.pem").read_bytes(),
                                      None)
    claims = {"jti": booking, "aud": office, "svc": "A", "start": begin.isoformat(),
              "end": (begin + timedelta(minutes=30)).isoformat(),
              "iat": int(begin.timestamp()) - 3 * 86400, "name": "Nguyễn V. A"}
    return tokens.sign(claims, key, "demo-portal")


class Kiosk:
    """The pieces of one scenario and the steps the scenarios share."""

    def __init__(self, pilot: Any, app: Any, source: ImageSource, loop: LoopbackPrinter,
                 dispatcher: DispatcherProcess, broker: str, shots: Path, scenario: str):
        self.p, self.app, self.source, self.loop = pilot, app, source, loop
        self.dispatcher, self.broker = dispatcher, broker
        self.broker_proc: DevBroker | None = None  # the scenario's own broker, to stop
        self.shots, self.scenario = shots, scenario
        self.report: dict[str, Any] = {"screens": [], "tickets": []}

    def shot(self, name: str) -> None:
        path = self.p.screenshot(self.shots / f"{self.scenario}-{name}.png")
        self.report["screens"].append(path.name)

    def ready(self) -> None:
        self.p.wait_for(lambda: self.app.desk.connected and self.app.desk.board is not None, 20,
                        "the dispatcher's board")
        self.p.wait_screen("home")

    def printed(self) -> int:
        return sum(1 for c in self.loop.connections if b"\x1dv0" in c)

    def result(self, printed: bool | None = True) -> Any:
        """Wait for the result screen with its print finished; return the outcome."""
        want = {True: ("ok",), False: ("fail",), None: ("ok", "fail", "screen")}[printed]
        self.p.wait_for(lambda: self.app.root.current == "result"
                        and self.app.root.get_screen("result").status_kind in want, 15,
                        f"a result, printed={printed}")
        return self.p.do(lambda: self.app.last)

    def notice(self, code: str, timeout: float = 15) -> None:
        self.p.wait_for(lambda: self.app.root.current == "notice"
                        and self.app.root.get_screen("notice").code == code, timeout,
                        f"notice {code}")

    def home(self) -> None:
        self.source.clear()
        self.p.do(self.app.go_home)
        self.p.wait_screen("home")

    def walk_in(self, service: str, times: int = 1, priority: bool = False) -> None:
        self.p.tap(("home", "walkin"))
        self.p.wait_screen("services")
        if priority:
            self.p.tap(("services", "priority"))
        self.p.tap(lambda: next(b for b in self.app.root.get_screen("services").buttons()
                                if b.code == service), times=times)

    def show(self, text: str, **kw: Any) -> None:
        self.source.show(qr_frame(text, **kw), seconds=60)

    def text(self, screen: str, prop: str) -> str:
        return self.p.do(lambda: str(getattr(self.app.root.get_screen(screen), prop)))


def flows(k: Kiosk) -> None:
    app, p = k.app, k.p
    k.ready()
    assert p.do(lambda: app.banner) == "", "no printer warning while it works"
    k.shot("home")
    p.tap(("home", "lang"))
    p.wait_for(lambda: app.lang == "en")
    k.shot("home-en")
    p.tap(("home", "lang"))

    p.tap(("home", "walkin"))
    p.wait_screen("services")
    k.shot("services")
    p.tap(("services", "priority"))
    k.shot("services-priority")
    # Someone else's booking code reaches the camera meanwhile (issue 14): it must not take
    # over this citizen's screen; their choice and their tick stay, their tap works.
    scans = p.do(lambda: app.scanner.frames)
    k.show(token("BK-2026-000199", "09:00"))
    p.wait_for(lambda: app.scanner.frames > scans + 15, 10, "the other code seen a while")
    assert p.do(lambda: app.root.current) == "services"
    assert p.do(lambda: app.root.get_screen("services").priority)
    k.source.clear()
    p.tap(lambda: app.root.get_screen("services").buttons()[0])
    first = k.result()
    assert first.ticket.number == "A001" and first.ticket.priority, first.ticket
    k.shot("result-walkin")
    assert k.printed() == 1
    p.wait_screen("home", timeout=15)  # back by itself

    k.walk_in("B", times=2)  # a double tap
    assert k.result().ticket.number == "B001"
    k.home()
    k.walk_in("B")
    assert k.result().ticket.number == "B002", "the double tap made a second ticket"
    assert k.printed() == 3
    k.home()

    booking = token("BK-2026-000123", "08:10")
    k.show(booking)
    checked = k.result()
    assert checked.ticket.number == "H001", checked.ticket
    assert checked.ticket.booking.arrival == "on_time"
    k.shot("result-booking")
    k.home()
    time.sleep(app.options.repeat_window + 0.3)  # the same code later is a new scan
    k.show(booking)
    k.notice("already_checked_in")
    assert "H001" in k.text("notice", "body")
    k.shot("notice-already-checked-in")
    p.tap(("notice", "action"))
    again = k.result()
    assert again.reprint and again.ticket.number == "H001"
    k.shot("result-reprint")
    assert k.printed() == 5
    k.home()

    k.source.show(qr_frame("x" * 300, damaged=True), seconds=60)
    p.wait_for(lambda: app.root.get_screen("home").unreadable, 10, "the unreadable hint")
    k.shot("home-unreadable")
    k.notice("unreadable")
    k.shot("notice-unreadable")
    k.home()

    notices: tuple[tuple[str, str, dict[str, Any]], ...] = (
            ("not_motcua", "https://baohiemxahoi.gov.vn/", {}),
            ("wrong_office", token("BK-2026-000200", "09:00", office="bhxh-q1"), {}),
            ("wrong_date", token("BK-2026-000201", "09:00", day=DAY + timedelta(days=2)), {}),
            ("invalid_token", token("BK-2026-000202", "09:00",
                                    key=Ed25519PrivateKey.generate()), {}),
            ("booking_cancelled", token(CANCELLED, "09:00"), {}))
    for code, text, kw in notices:
        k.show(text, **kw)
        k.notice(code)
        k.shot(f"notice-{code.replace('_', '-')}")
        outcome = p.do(lambda: app.last)
        k.report.setdefault("local", {})[code] = outcome.local
        if code == "wrong_date":
            assert "27/11/2026" in k.text("notice", "body"), k.text("notice", "body")
        if code == "not_motcua":
            p.tap(("notice", "action"))  # "take a regular number" instead
            p.wait_screen("services")
        k.home()
    # Another day is the dispatcher's to judge (a moved booking keeps its code): same notice.
    assert k.report["local"] == {"not_motcua": True, "wrong_office": True, "wrong_date": False,
                                 "invalid_token": True, "booking_cancelled": False}

    # The same screens on a portrait kiosk.
    p.do(lambda: setattr(__import__("kivy.core.window").core.window.Window, "size",
                         (720, 1280)))
    p.wait_for(lambda: app.portrait, 5, "a portrait window")
    k.shot("portrait-home")
    p.tap(("home", "walkin"))
    p.wait_screen("services")
    k.shot("portrait-services")
    p.tap(lambda: app.root.get_screen("services").buttons()[2])
    assert k.result().ticket.number == "C001"
    k.shot("portrait-result")
    k.home()
    k.show(token("BK-2026-000301", "09:00", day=DAY + timedelta(days=2)))
    k.notice("wrong_date")
    k.shot("portrait-notice")
    k.home()


def faults(k: Kiosk) -> None:
    app, p = k.app, k.p
    k.ready()
    watch = Watcher(k.broker, "motcua/demo/presence/kiosk/#")
    try:
        k.loop.mode = "paper_out"
        p.wait_for(lambda: app.banner, 10, "the printer banner")
        watch.wait_for("/presence/kiosk/k1", lambda m: m["detail"]["printer"] == "paper_out")
        k.shot("home-paper-out")
        p.tap(("home", "walkin"))
        p.wait_screen("services")
        k.shot("services-paper-out")
        p.tap(lambda: app.root.get_screen("services").buttons()[0])
        shown = k.result(printed=False)
        assert shown.ticket.number == "A001" and shown.print_error[0] == "paper_out"
        k.shot("result-paper-out")
        k.loop.mode = "online"
        p.wait_for(lambda: not app.banner, 10, "the banner to go")
        watch.wait_for("/presence/kiosk/k1", lambda m: m["detail"]["printer"] == "ok")
        k.home()

        k.loop.run_out_after_raster = True  # the paper ends while the ticket prints
        k.walk_in("A")
        mid = k.result(printed=False)
        assert mid.ticket.number == "A002" and mid.print_error[0] == "paper_out"
        k.shot("result-paper-ran-out")
        # What the citizen reads names the trouble, never the printer's address.
        said = k.text("result", "status")
        assert "hết giấy" in said and "127.0.0.1" not in said and ":9" not in said, said

        def heading_inside() -> bool:  # issue 14: it was pushed off the top
            from kivy.core.window import Window

            label = app.root.get_screen("result").ids.heading
            top = label.to_window(label.x, label.top)[1]
            return bool(label.texture_size[1] > 0 and top <= Window.height)

        assert p.do(heading_inside), "the result heading is cut off"
        k.loop.run_out_after_raster, k.loop.mode = False, "online"
        p.wait_for(lambda: not app.banner, 10, "the banner to go")
        k.home()
    finally:
        watch.close()

    # A dispatcher that hangs (stopped, not ended: its presence stays online, unrenewed):
    # a citizen who touches before the kiosk notices gets "no reply", then "try again".
    presence = Watcher(k.broker, "motcua/demo/presence/dispatcher/#")
    assert k.dispatcher.proc is not None
    os.kill(k.dispatcher.proc.pid, signal.SIGSTOP)
    try:
        k.walk_in("B")
        p.wait_for(lambda: app.root.current == "busy" and app.root.get_screen("busy").slow,
                   10, "the slow notice")
        k.shot("busy-slow")
        k.notice("no_reply")
        k.shot("notice-no-reply")
        first_id = p.do(lambda: app.last.action.id)
        # no heartbeat for a while: the kiosk now says so by itself
        p.wait_for(lambda: app.desk.service.state == "unavailable", 15, "the silence noticed")
        presence.clear()
    finally:
        os.kill(k.dispatcher.proc.pid, signal.SIGCONT)
    try:
        presence.wait_for("/presence/dispatcher/main", lambda m: m["status"] == "online", 30)
    finally:
        presence.close()
    p.wait_for(lambda: app.desk.service.state == "ok", 10, "the dispatcher back")
    p.tap(("notice", "action"))  # try again: the same command id
    retried = k.result()
    assert retried.action.id == first_id and retried.ticket.number == "B001", retried
    k.home()
    k.walk_in("B")
    assert k.result().ticket.number == "B002", "a retry made a second ticket"
    k.home()

    # The day closed while a citizen chooses: their touch is refused plainly, locally.
    p.tap(("home", "walkin"))
    p.wait_screen("services")
    admin = Device(k.broker, "admin", "tests")
    try:
        assert admin.send("close_day")["ok"]
    finally:
        admin.close()
    p.wait_for(lambda: app.desk.service.state == "closed", 15, "the day closed")
    p.tap(lambda: app.root.get_screen("services").buttons()[0])
    k.notice("office_closed")
    k.shot("notice-office-closed")
    k.home()


def checks(k: Kiosk) -> None:
    """Service A asks for the chip ID card and the fingerprint (office.toml `requires`)."""
    app, p = k.app, k.p
    k.ready()
    p.tap(("home", "walkin"))
    p.wait_screen("services")
    button = p.do(lambda: next(b for b in app.root.get_screen("services").buttons()
                               if b.code == "A"))
    assert "Vui lòng chuẩn bị thẻ CCCD gắn chíp" in p.do(lambda: button.info)
    k.shot("services-requires")
    k.home()
    k.walk_in("B")  # asks for nothing: issued at once
    assert k.result().ticket.number == "B001"
    assert k.text("result", "prepare") == ""
    k.home()
    k.walk_in("A")
    k.notice("prepare")
    assert k.text("notice", "title") == "Vui lòng chuẩn bị thẻ CCCD gắn chíp"
    assert "cần kiểm tra thẻ CCCD gắn chíp và vân tay tại quầy" in k.text("notice", "body")
    assert p.do(lambda: app.last.ticket.number) == "B001", "no number before it is read"
    k.shot("notice-prepare")
    p.tap(("notice", "home"))  # changed their mind: no number
    p.wait_screen("home")
    k.walk_in("A")
    k.notice("prepare")
    p.tap(("notice", "action"))
    issued = k.result()
    assert issued.ticket.number == "A001" and issued.ticket.requires == ["chip_id",
                                                                         "fingerprint"]
    assert k.text("result", "prepare").startswith("Vui lòng chuẩn bị thẻ CCCD gắn chíp\n")
    k.shot("result-prepare")

    def heading_inside() -> bool:  # the lines added must not push the heading off
        from kivy.core.window import Window

        label = app.root.get_screen("result").ids.heading
        return bool(label.to_window(label.x, label.top)[1] <= Window.height)

    assert p.do(heading_inside), "the result heading is cut off"
    k.home()
    p.tap(("home", "lang"))  # the same in English
    p.wait_for(lambda: app.lang == "en")
    k.walk_in("A")
    k.notice("prepare")
    assert k.text("notice", "title") == "Please have your chip ID card (CCCD) ready"
    k.shot("notice-prepare-en")
    p.tap(("notice", "action"))
    assert k.result().ticket.number == "A002"
    k.home()
    k.show(token("BK-2026-000301", "09:00"))  # a booking for A: checked in, then told
    booked = k.result()
    k.source.clear()
    assert booked.ticket.number == "H001"
    assert k.text("result", "prepare").startswith("Vui lòng chuẩn bị thẻ CCCD gắn chíp")
    k.home()
    k.report["tickets"] = ["B001", "A001", "A002", "H001"]



TECHNICAL = ("127.0.0.1", "mqtt", "broker", "dispatcher", "presence", "heartbeat", "server",
             "máy chủ", "kết nối", "connect", "error", "lỗi")


def home_says(k: Kiosk, mode: str, shot: str, *words: str) -> str:
    """Wait for the home screen to say `mode`; check its words and that the choices are out
    of reach; a screenshot in both languages."""
    app, p = k.app, k.p

    def home_text() -> str:
        home = app.root.get_screen("home")
        return " ".join(getattr(home, f"stop_{part}") for part in ("title", "big", "body", "todo")
                        ).replace("\u00a0", " ")

    p.wait_for(lambda: app.root.get_screen("home").mode == mode
               and all(w in home_text() for w in words), 15, f"home says {mode}: {words}")
    p.wait_screen("home")
    said = p.do(home_text)
    assert not [w for w in TECHNICAL if w in said.lower()], said
    assert p.do(lambda: app.banner) == "", "a banner beside the message"
    try:
        p.tap(("home", "walkin"))
    except AssertionError as e:  # disabled: nothing to touch
        assert "not there to touch" in str(e)
    else:
        raise AssertionError("the take-a-number tile could still be touched")
    k.shot(shot)
    p.tap(("home", "lang"))
    p.wait_for(lambda: app.lang == "en")
    english = p.do(lambda: app.root.get_screen("home").stop_title)
    k.shot(f"{shot}-en")
    p.tap(("home", "lang"))
    p.wait_for(lambda: app.lang == "vi")
    return english


def dispatcher_at(k: Kiosk, start_at: str) -> DispatcherProcess:
    """The office's dispatcher started again, its clock at `start_at`."""
    args = k.dispatcher.args
    office_file = Path(args[args.index("--config") + 1])
    return DispatcherProcess(office_file, k.broker, k.dispatcher.log, start_at=start_at).start()


def service(k: Kiosk) -> None:
    """Trouble said before anyone acts: the broker stopped and started, the dispatcher
    stopped, started outside opening hours, its day closed; each clears by itself."""
    app, p = k.app, k.p
    assert k.broker_proc is not None
    k.ready()
    p.wait_for(lambda: app.desk.service.state == "ok", 10, "tickets ok")
    watch = Watcher(k.broker, "motcua/demo/presence/kiosk/#")
    try:
        watch.wait_for("/presence/kiosk/k1", lambda m: m["detail"].get("tickets") == "ok")
    finally:
        watch.close()
    k.shot("home-ok")

    k.broker_proc.stop()
    english = home_says(k, "unavailable", "home-no-broker", "Tạm thời chưa lấy được số",
                        "hỏi cán bộ tại quầy")
    assert english == "Numbers cannot be issued right now"
    k.broker_proc.start()
    p.wait_for(lambda: app.root.get_screen("home").mode == "ok", 30, "home clear again")
    k.walk_in("A")
    assert k.result().ticket.number == "A001"
    k.home()

    k.dispatcher.stop()  # its last word: offline
    home_says(k, "unavailable", "home-no-dispatcher", "hỏi cán bộ tại quầy")
    # A citizen already choosing a service when it goes is told plainly, nothing is sent.
    k.dispatcher.start()
    p.wait_for(lambda: app.root.get_screen("home").mode == "ok", 30, "home clear again")
    p.tap(("home", "walkin"))
    p.wait_screen("services")
    k.dispatcher.stop()
    p.wait_for(lambda: app.desk.service.state == "unavailable", 15, "the dispatcher gone")
    p.tap(lambda: app.root.get_screen("services").buttons()[0])
    k.notice("unavailable")
    k.shot("notice-unavailable")
    k.home()

    k.dispatcher = dispatcher_at(k, "2026-11-25T11:45:00+07:00")
    home_says(k, "closed", "home-closed-lunch", "Ngoài giờ làm việc",
              "Mở cửa lại lúc 13:00 hôm nay", "07:30–11:30, 13:00–16:30")
    k.show(token("BK-2026-000555", "13:00"))  # a code held up: refused plainly
    k.notice("office_closed")
    k.shot("notice-closed-scan")
    k.home()
    admin = Device(k.broker, "admin", "tests")
    try:
        assert admin.send("close_day")["ok"]
    finally:
        admin.close()
    english = home_says(k, "closed", "home-closed-day", "Mở cửa lại lúc 07:30 thứ Năm 26/11")
    assert english == "The office is closed"
    from kivy.core.window import Window

    p.do(lambda: setattr(Window, "size", (720, 1280)))  # and on a portrait kiosk
    p.wait_for(lambda: app.portrait, 5, "a portrait window")
    home_says(k, "closed", "portrait-home-closed-day", "Mở cửa lại lúc 07:30 thứ Năm 26/11")
    p.do(lambda: setattr(Window, "size", (1280, 800)))
    p.wait_for(lambda: not app.portrait, 5, "a landscape window")
    k.dispatcher.stop()

    k.dispatcher = dispatcher_at(k, "2026-11-26T07:29:50+07:00")  # 10 s before opening
    home_says(k, "closed", "home-closed-morning", "Mở cửa lại lúc 07:30 hôm nay")
    # opening time comes: the board says so and the home screen clears by itself
    p.wait_for(lambda: app.root.get_screen("home").mode == "ok", 40, "open by itself")
    k.shot("home-open-again")
    k.walk_in("A")
    assert k.result().ticket.number == "A001"  # the new day's first
    k.home()


SCENARIOS = {"flows": flows, "faults": faults, "checks": checks, "service": service}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", help="a broker URL (the service scenario starts its own)")
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--artifacts", type=Path, required=True)
    parser.add_argument("--scenario", choices=SCENARIOS, required=True)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    own = DevBroker(args.work / "broker").start() if args.scenario == "service" else None
    if own is not None:  # a broker of its own, to stop and start
        args.broker = own.url
    elif not args.broker:
        parser.error(f"--broker is needed for the {args.scenario} scenario")
    loop = LoopbackPrinter()
    requires = ({'prefix = "A"\n': 'prefix = "A"\nrequires = ["chip_id", "fingerprint"]\n'}
                if args.scenario == "checks" else {})
    office_file = write_office(args.work, **{'kind = "file"': 'kind = "network"',
                                             '"192.168.1.50:9100"': f'"{loop.address}"',
                                             **requires})
    office = load(office_file)
    from dispatcher.store import Store

    store = Store(office.storage)  # a booking the portal cancelled
    store.db.execute("INSERT INTO bookings (id, day, service, start, \"end\", status) "
                     "VALUES (?, '2026-11-25', 'A', '2026-11-25T09:00:00+07:00', "
                     "'2026-11-25T09:30:00+07:00', 'cancelled')", (CANCELLED,))
    store.db.commit()
    store.close()
    dispatcher = DispatcherProcess(office_file, args.broker, args.work / "dispatcher.log").start()
    source = ImageSource(fps=15)
    app = make_app(Setup(office, args.broker, "k1", source, argparse.Namespace()),
                   make_decoder(), open_printer(office.printer, timeout=2, status_timeout=0.5),
                   size=(1280, 800), result_seconds=2, notice_seconds=30, reply_timeout=3,
                   slow_after=1.0, health_every=0.3, repeat_window=1.5, unreadable_every=0.6,
                   animate=False)
    from kiosk.pilot import Pilot

    pilot = Pilot(app)
    kiosk = Kiosk(pilot, app, source, loop, dispatcher, args.broker, args.artifacts,
                  args.scenario)
    kiosk.broker_proc = own
    try:
        pilot.run(lambda _: SCENARIOS[args.scenario](kiosk))
    finally:
        kiosk.dispatcher.stop()
        if own is not None:
            own.stop()
        for i, record in enumerate(c for c in loop.connections if b"\x1dv0" in c):
            decode_raster(bytes(record)).save(args.work / f"printed-{i:02d}.png")
        loop.close()
        kiosk.report["printed"] = kiosk.printed()
        (args.work / "report.json").write_text(json.dumps(kiosk.report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
