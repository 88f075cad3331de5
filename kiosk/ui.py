"""The kiosk's Kivy app: screens, the citizen's flow, hand-over from the desk and camera threads."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import FadeTransition, NoTransition, ScreenManager

from kiosk import texts
from kiosk.camera import FrameSource, Scanner
from kiosk.desk import Action, Desk, Outcome
from kiosk.qr import Decoder
from kiosk.screens import (
    BusyScreen,
    HomeScreen,
    NoticeScreen,
    ResultScreen,
    ServicesScreen,
)
from motcua.config import OfficeConfig
from motcua.protocol import CheckIn, ServiceInfo, TicketInfo, WalkIn
from printer import PAPER_LOW, TicketPrinter

log = logging.getLogger(__name__)
KV = Path(__file__).parent / "kv"
KV_FILES = ("widgets.kv", "home.kv", "services.kv", "busy.kv", "result.kv", "notice.kv")
# Screens where a freshly scanned code is taken up. Only home: on any other screen a citizen
# is being served (choosing a service, reading a notice or their ticket), and a code that
# reaches the camera is someone else's, which must not take over their screen (issue 14).
SCAN_SCREENS = ("home",)


@dataclass
class Options:
    result_seconds: float = 10.0  # the result screen, once the ticket has printed
    notice_seconds: float = 20.0
    choose_seconds: float = 30.0  # the services screen without a touch
    busy_after: float = 0.4  # no reply yet: show "please wait"
    slow_after: float = 3.0  # and then say the system is slow
    reply_timeout: float = 10.0
    health_every: float = 5.0
    repeat_window: float = 5.0
    unreadable_every: float = 3.0  # at most one "cannot read" hint this often
    animate: bool = True


class KioskApp(App):
    lang = StringProperty("vi")
    other_lang = StringProperty("en")
    u = NumericProperty(8.0)  # a hundredth of the window's shorter side
    portrait = BooleanProperty(False)
    office_name = StringProperty("")
    banner = StringProperty("")
    camera_ok = BooleanProperty(True)

    def __init__(self, office: OfficeConfig, broker_url: str, kiosk_id: str,
                 source: FrameSource, decoder: Decoder, printer: TicketPrinter,
                 options: Options | None = None, **kw: Any):
        super().__init__(**kw)
        self.title = f"motcua kiosk {kiosk_id}"
        self.office = office
        self.options = options or Options()
        self.source, self.decoder = source, decoder
        self._state_trigger = Clock.create_trigger(self._refresh_state)
        self.desk = Desk(office, broker_url, kiosk_id, printer,
                         reply_timeout=self.options.reply_timeout,
                         health_every=self.options.health_every,
                         on_change=self._state_trigger, on_outcome=self._outcome_from_desk,
                         presence_extra=self._presence)
        self.scanner = Scanner(source, decoder, self._code_from_camera,
                               self._unreadable_from_camera, self.options.repeat_window,
                               self.options.unreadable_every)
        self.pending: Action | None = None
        self._chosen: Action | None = None  # a walk-in waiting for "I understand" (prepare)
        self.last: Outcome | None = None  # the outcome on screen, for tests and reprints
        self._busy_events: list[Any] = []
        self._unreadable_times: list[float] = []
        self._preview_n = -1

    # -- Kivy life cycle ----------------------------------------------------------------
    def build(self) -> ScreenManager:
        for name in KV_FILES:
            Builder.load_file(str(KV / name))
        transition = FadeTransition(duration=0.15) if self.options.animate else NoTransition()
        sm = ScreenManager(transition=transition)
        for screen in (HomeScreen(name="home"), ServicesScreen(name="services"),
                       BusyScreen(name="busy"), ResultScreen(name="result"),
                       NoticeScreen(name="notice")):
            sm.add_widget(screen)
        Window.bind(size=self._resized)
        self._resized(Window, Window.size)
        self.office_name = texts.nfc(self.office.name)
        Clock.schedule_interval(self._update_preview, 1 / 12)
        return sm

    def on_start(self) -> None:
        self.desk.start(wait=None)
        self.scanner.start()
        self._state_trigger()

    def on_stop(self) -> None:
        self.scanner.stop()
        self.desk.stop()

    def _resized(self, window: Any, size: tuple[int, int]) -> None:
        w, h = size
        self.u = min(w, h) / 100
        self.portrait = h > w

    def _presence(self) -> dict[str, Any]:
        return {"camera": "ok" if self.source.healthy else "offline",
                "decoder": self.decoder.name}

    # -- words --------------------------------------------------------------------------
    def tr(self, key: str, lang: str, **fields: Any) -> str:
        return texts.ui(key, lang, **fields)

    def switch_language(self) -> None:
        self.lang, self.other_lang = self.other_lang, self.lang
        self._refresh_state()

    # -- hand-over from other threads: never touch widgets there ------------------------
    def _code_from_camera(self, text: str) -> None:
        Clock.schedule_once(partial(self._scanned, text))

    def _unreadable_from_camera(self) -> None:
        Clock.schedule_once(self._unreadable)

    def _outcome_from_desk(self, outcome: Outcome) -> None:
        Clock.schedule_once(partial(self._show_outcome, outcome))

    # -- state ----------------------------------------------------------------------------
    def _refresh_state(self, *args: Any) -> None:
        desk = self.desk
        name = desk.office_name()
        if name:
            self.office_name = texts.nfc(name)
        if not desk.connected:
            self.banner = self.tr("offline", self.lang)
        elif desk.printer.kind != "none" and not desk.can_print():
            state = self.tr(f"printer.{desk.printer_state}", self.lang)
            self.banner = self.tr("printer.banner", self.lang, state=state)
        elif desk.printer_state == PAPER_LOW:
            self.banner = self.tr("printer.paper_low", self.lang)
        else:
            self.banner = ""
        self._fill_services()

    def _fill_services(self) -> None:
        screen: ServicesScreen = self.root.get_screen("services")
        screen.priority_offered = self.desk.priority_offered()
        rows = []
        for s in self.desk.services():
            code, name, name_en = s.code, s.name, s.name_en
            title, subtitle = (name_en or name, name) if self.lang == "en" else (name, name_en)
            waiting = self.desk.waiting(code)
            if waiting is None or waiting[0] == 0:
                info = ""
            else:
                info = self.tr("services.waiting", self.lang, count=waiting[0],
                               minutes=max(1, waiting[1]))
            ready = texts.prepare_lines(s.requires, self.lang)[:1]  # "chuẩn bị thẻ CCCD..."
            info = "\n".join([*ready, *([info] if info else [])])
            rows.append((code, texts.nfc(title), texts.nfc(subtitle), info))
        screen.fill(rows, self.choose)

    def _update_preview(self, dt: float) -> None:
        if self.source.healthy != self.camera_ok:
            self.camera_ok = self.source.healthy
            if self.desk.connected:  # tell staff dashboards: the camera is out
                self.desk.link.publish_presence()
        if self.root.current != "home":
            return
        n, image = self.scanner.preview()
        if image is not None and n != self._preview_n:
            self._preview_n = n
            self.root.get_screen("home").ids.camera.show(image)

    # -- the citizen's flow ---------------------------------------------------------------
    def go_home(self, *args: Any) -> None:
        for screen in self.root.screens:
            if hasattr(screen, "stop_countdown"):
                screen.stop_countdown()
        self.lang, self.other_lang = "vi", "en"  # the next citizen starts in Vietnamese
        self._chosen = None
        self.root.get_screen("services").reset()
        self._refresh_state()
        self.root.current = "home"

    def take_number(self) -> None:
        self._refresh_state()
        self.root.current = "services"
        self.root.get_screen("services").start_countdown(int(self.options.choose_seconds),
                                                         self.go_home)

    def choose(self, service: str) -> None:
        priority = self.root.get_screen("services").priority
        action = Action(WalkIn(service, priority))
        info = next((s for s in self.desk.services() if s.code == service), None)
        if info is not None and info.requires and self.pending is None:
            self._chosen = action  # issued once the citizen has read what to bring
            self.prepare(info)
        else:
            self.act(action)

    def prepare(self, service: ServiceInfo) -> None:
        """Before issuing a number for a service that checks the chip ID card (and the
        fingerprint): say so, with a button to go on and one to go back."""
        screen: NoticeScreen = self.root.get_screen("notice")
        lang = self.lang
        requires = service.requires or []
        lines = texts.prepare_lines(requires, lang)
        name = (service.name_en or service.name) if lang == "en" else service.name
        screen.code, screen.severe, screen.big = "prepare", False, ""
        screen.title = lines[0]
        screen.body = self.tr("prepare.body", lang, service=texts.nfc(name),
                              checks=texts.check_names(requires, lang))
        screen.todo = self.tr("prepare.todo", lang)
        screen.action, screen.action_text = "issue", self.tr("prepare.continue", lang)
        self.root.current = "notice"
        screen.start_countdown(int(self.options.notice_seconds), self.go_home)

    def _scanned(self, text: str, *args: Any) -> None:
        self._unreadable_times.clear()
        if self.pending is not None or self.root.current not in SCAN_SCREENS:
            return
        self.act(Action(CheckIn(text)))

    def _unreadable(self, *args: Any) -> None:
        if self.pending is not None or self.root.current != "home":
            return
        now = Clock.get_time()
        window = 4 * self.options.unreadable_every
        self._unreadable_times = [t for t in self._unreadable_times if now - t < window] + [now]
        if len(self._unreadable_times) >= 3:  # ten seconds of trying: say what else to do
            self._unreadable_times.clear()
            self.notice("unreadable")
        else:
            self.root.get_screen("home").show_unreadable()

    def act(self, action: Action) -> bool:
        """Send one citizen action; a second tap while one is under way does nothing."""
        if self.pending is not None or not self.desk.submit(action):
            return False
        self.pending = action
        self._busy_events = [Clock.schedule_once(self._show_busy, self.options.busy_after),
                             Clock.schedule_once(self._show_slow, self.options.slow_after)]
        return True

    def _show_busy(self, *args: Any) -> None:
        self.root.current = "busy"

    def _show_slow(self, *args: Any) -> None:
        self.root.get_screen("busy").slow = True
        self.root.current = "busy"

    def _show_outcome(self, outcome: Outcome, *args: Any) -> None:
        if outcome.action is not None and outcome.action is self.pending:
            for event in self._busy_events:
                event.cancel()
            self.pending = None
        self.last = outcome
        if outcome.ok:
            self.show_ticket(outcome)
        elif outcome.code:
            self.notice(outcome.code, outcome)

    def show_ticket(self, o: Outcome) -> None:
        assert o.ticket is not None
        screen: ResultScreen = self.root.get_screen("result")
        t, lang = o.ticket, self.lang
        service = next((s for s in self.desk.services() if s.code == t.service), None)
        name = ((service.name_en if lang == "en" else service.name) if service else "") \
            or t.service
        screen.heading = self.tr("result.number", lang)
        screen.number = texts.nfc(t.number)
        screen.badge = self.tr("result.priority", lang) if t.priority else ""
        screen.service = texts.nfc(name)
        screen.slot = self._slot_text(t, lang)
        screen.prepare = "\n".join(texts.prepare_lines(t.requires, lang))
        ahead, minutes = t.ahead, t.est_wait_min
        screen.wait = (self.tr("result.ahead", lang, ahead=ahead, minutes=max(1, minutes))
                       if ahead > 0 else self.tr("result.next", lang))
        if o.printed is None:
            screen.status_kind, screen.status = "printing", self.tr("result.printing", lang)
        elif o.printed:
            screen.status_kind = "ok"
            screen.status = self.tr("result.reprinted" if o.reprint else "result.take", lang)
        elif self.desk.printer.kind == "none":
            screen.status_kind, screen.status = "screen", self.tr("result.screen_only", lang)
        else:
            # What a citizen can use: paper out, or the printer not working. The printer's
            # own words (an address, a device path) are for the log and the staff.
            out = o.print_error is not None and o.print_error[0] == "paper_out"
            reason = self.tr("printer.paper_out" if out else "printer.offline", lang)
            screen.status_kind = "fail"
            screen.status = self.tr("result.noprint", lang, reason=reason.rstrip(".") + ".")
        screen.ticket_number = screen.number
        self.root.current = "result"
        if o.printed is not None:
            seconds = self.options.result_seconds * (1 if o.printed else 3)
            screen.start_countdown(int(seconds), self.go_home)

    def _slot_text(self, t: TicketInfo, lang: str) -> str:
        booking = t.booking
        if booking is None:
            return ""
        # read() has checked both are RFC 3339 times with an offset
        start = datetime.fromisoformat(booking.start).astimezone(self.office.tz)
        end = datetime.fromisoformat(booking.end).astimezone(self.office.tz)
        line = self.tr("result.slot", lang, slot=f"{start:%H:%M}–{end:%H:%M}")
        arrival = booking.arrival
        if arrival in ("on_time", "early", "late"):
            opens = datetime.fromtimestamp(
                start.timestamp() - 60 * self.office.booking.call_ahead_minutes, self.office.tz)
            line += " · " + self.tr(f"arrival.{arrival}", lang, at=f"{opens:%H:%M}")
        return line

    def notice(self, code: str, outcome: Outcome | None = None) -> None:
        screen: NoticeScreen = self.root.get_screen("notice")
        lang = self.lang
        fields = {}
        if outcome is not None and outcome.booking_date:
            fields["day"] = texts.day_text(outcome.booking_date, lang)
        if outcome is not None and outcome.ticket is not None:
            fields["number"] = outcome.ticket.number
        if outcome is not None:
            fields["opens"] = texts.opens_text(outcome.opens_at, lang)
        fields["hours"] = ", ".join(f"{a}–{b}" for a, b in self.desk.hours())
        screen.code = code
        screen.title, screen.body, screen.todo = texts.notice(code, lang, **fields)
        screen.big = ""
        if code == "already_checked_in":
            screen.big = fields.get("number", "")
        elif code == "wrong_date" and outcome is not None and outcome.booking_date:
            screen.big = f"{outcome.booking_date:%d/%m/%Y}"
        screen.severe = code in ("no_reply", "invalid_token", "booking_cancelled")
        if code == "already_checked_in" and outcome is not None and outcome.ticket is not None:
            screen.action, screen.action_text = "reprint", self.tr("reprint", lang)
        elif code == "no_reply":
            screen.action, screen.action_text = "retry", self.tr("retry", lang)
        elif code in ("office_closed", "unknown_service"):
            screen.action, screen.action_text = "", ""
        else:
            screen.action, screen.action_text = "walkin", self.tr("walkin.instead", lang)
        self.root.current = "notice"
        factor = 3 if code == "no_reply" else 1
        screen.start_countdown(int(self.options.notice_seconds * factor), self.go_home)

    def notice_action(self, action: str) -> None:
        last = self.last
        if action == "reprint" and last is not None and last.ticket is not None:
            if self.pending is None and self.desk.reprint(last.ticket):
                self.pending = None  # reprints carry no command: nothing to wait for
                self._show_busy()
        elif action == "retry" and last is not None and last.action is not None:
            self.act(last.action)  # the same command id: never a second ticket
        elif action == "walkin":
            self.take_number()
        elif action == "issue" and self._chosen is not None:
            chosen, self._chosen = self._chosen, None
            self.act(chosen)
