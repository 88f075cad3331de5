"""The kiosk without its screen: commands to the dispatcher, tickets to the printer, state."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from kiosk.precheck import precheck
from motcua import protocol, topics
from motcua.clock import Clock, SystemClock
from motcua.config import OfficeConfig
from motcua.mqtt import Link, NoReply, Requester, new_command_id
from motcua.protocol import (
    BadMessage,
    Board,
    CheckIn,
    OfficeInfo,
    Presence,
    ServiceInfo,
    TicketInfo,
    WalkIn,
)
from motcua.views import office_info
from printer import OFFLINE, OK, PAPER_LOW, PrintError, TicketPrinter, render_ticket, ticket_name

log = logging.getLogger(__name__)

STALE_S = 7.0  # no heartbeat from the dispatcher (every 2 s) this long: it is not there
GRACE_S = 3.0  # after the kiosk starts or reconnects: how long it may say "connecting"
WATCH_EVERY_S = 0.5


@dataclass(frozen=True)
class Service:
    """Whether tickets can be issued now, as the home screen and the presence say it.

    state: ok, connecting, closed (outside opening hours, by the dispatcher) or unavailable
    (no broker, no live dispatcher, or one that cannot record)."""

    state: str
    opens_at: datetime | None = None  # closed: the next opening, in the office's time zone
    day: date | None = None  # closed: the dispatcher's day, to say "today"


@dataclass
class Action:
    """One citizen action. Its command id stays the same for every retry, even one the
    citizen asks for after a timeout, so no tap or reconnect ever makes a second ticket."""

    command: WalkIn | CheckIn
    id: str = field(default_factory=new_command_id)


@dataclass
class Outcome:
    """What became of an action, told twice when a ticket prints: issued, then printed."""

    action: Action | None
    ticket: TicketInfo | None = None
    code: str | None = None  # an error code; None when a ticket was issued
    booking_date: date | None = None
    opens_at: str | None = None
    printed: bool | None = None  # None: not printed (yet)
    print_error: tuple[str, str, str] | None = None  # code, Vietnamese, English
    reprint: bool = False
    local: bool = False  # decided by the kiosk's own check, not the dispatcher
    times: dict[str, float] = field(default_factory=dict)  # monotonic marks, for benchmarks

    @property
    def ok(self) -> bool:
        return self.code is None and self.ticket is not None


class Desk:
    """Talks to the dispatcher and the printer on its own threads; never on the UI's.

    on_change() runs when office state, connection or printer health change; on_outcome()
    when an action is decided or its ticket printed. Both run on the desk's threads.
    """

    def __init__(self, office: OfficeConfig, broker_url: str, kiosk_id: str,
                 printer: TicketPrinter, *, clock: Clock | None = None,
                 reply_timeout: float = 10.0, health_every: float = 5.0,
                 on_change: Callable[[], None] | None = None,
                 on_outcome: Callable[[Outcome], None] | None = None,
                 presence_extra: Callable[[], dict[str, Any]] | None = None,
                 stale_s: float = STALE_S, grace_s: float = GRACE_S):
        # stale_s, grace_s: STALE_S and GRACE_S for this desk (tests wait seconds less)
        self.office, self.printer = office, printer
        self.stale_s, self.grace_s = stale_s, grace_s
        self.clock = clock or SystemClock(office.tz)
        self.reply_timeout, self.health_every = reply_timeout, health_every
        self.on_change = on_change or (lambda: None)
        self.on_outcome = on_outcome or (lambda o: None)
        self.presence_extra = presence_extra or dict
        self._lock = threading.Lock()
        self.config: OfficeInfo = office_info(office)  # until the dispatcher's arrives
        self.board: Board | None = None
        self.printer_state = OFFLINE if printer.kind == "none" else OK
        self._health_at = 0.0
        self._jobs: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self._busy = threading.Event()
        self._stop = threading.Event()
        # topic -> (online, can record, monotonic time heard) of each dispatcher presence
        self._dispatchers: dict[str, tuple[bool, bool, float]] = {}
        self._linked_at = time.monotonic()  # the kiosk's start, then each (re)connect
        self._ever_connected = False
        self.service = Service("connecting")
        self.link = Link.for_office(office, broker_url, "kiosk", kiosk_id,
                         presence_detail=self._presence, clock=self.clock,
                         on_connect=self._on_connect)
        self.requester = Requester(self.link, retry_every=1.0)
        self.link.subscribe(topics.state_config(office.id), self._on_config)
        self.link.subscribe(topics.state_board(office.id), self._on_board)
        self.link.subscribe(topics.presence(office.id, "dispatcher", "+"), self._on_dispatcher)
        self._threads = [threading.Thread(target=self._work, name="desk", daemon=True),
                         threading.Thread(target=self._watch_printer, name="printer-health",
                                          daemon=True),
                         threading.Thread(target=self._watch_service, name="service",
                                          daemon=True)]

    # -- life cycle ---------------------------------------------------------------------
    def start(self, wait: float | None = 5.0) -> Desk:
        for t in self._threads:
            t.start()
        self.link.start(wait=wait)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._jobs.put(None)
        for t in self._threads:
            if t.is_alive():
                t.join(timeout=5)
        self.link.stop()
        self.printer.close()

    # -- state from the dispatcher ------------------------------------------------------
    def _on_config(self, topic: str, payload: bytes) -> None:
        try:
            config = protocol.read(OfficeInfo, payload)
        except BadMessage as exc:
            log.warning("ignored state/config, keeping the previous one: %s", exc)
            return
        with self._lock:
            self.config = config
        self.on_change()

    def _on_board(self, topic: str, payload: bytes) -> None:
        try:
            board = protocol.read(Board, payload)
        except BadMessage as exc:
            log.warning("ignored state/board: %s", exc)
            return
        with self._lock:
            self.board = board
        self._update_service()
        self.on_change()

    def _on_dispatcher(self, topic: str, payload: bytes) -> None:
        if not payload:  # a cleared retained presence: that dispatcher is gone
            with self._lock:
                self._dispatchers.pop(topic, None)
            return self._update_service()
        try:
            presence = protocol.read(Presence, payload)
        except BadMessage as exc:
            log.warning("ignored the dispatcher's presence: %s", exc)
            return
        records = (presence.detail or {}).get("storage") != "unavailable"
        with self._lock:
            self._dispatchers[topic] = (presence.status == "online", records, time.monotonic())
        self._update_service()

    def _on_connect(self) -> None:
        with self._lock:
            self._linked_at, self._ever_connected = time.monotonic(), True
        self.on_change()

    @property
    def connected(self) -> bool:
        return self.link.connected.is_set()

    # -- can tickets be issued now? -------------------------------------------------------
    def _judge_service(self, now: float) -> Service:
        with self._lock:
            linked_at, ever, board = self._linked_at, self._ever_connected, self.board
            heard = list(self._dispatchers.values())
        waited = now - linked_at
        if not self.connected:  # a broker that went away: at once; at start, after a grace
            return Service("connecting" if not ever and waited < self.grace_s else "unavailable")
        live = [records for online, records, at in heard if online and now - at < self.stale_s]
        if not live:
            fresh = any(at >= linked_at for _, _, at in heard)
            return Service("connecting" if waited < self.grace_s and not fresh else "unavailable")
        if not all(live):
            return Service("unavailable")
        if board is not None and (board.closed or board.open is False):
            opens = datetime.fromisoformat(board.opens_at).astimezone(self.office.tz) \
                if board.opens_at else None
            try:
                day = date.fromisoformat(board.day)
            except ValueError:
                day = None
            return Service("closed", opens, day)
        return Service("ok")

    def _update_service(self) -> None:
        service = self._judge_service(time.monotonic())
        with self._lock:
            changed, self.service = service != self.service, service
        if changed:
            log.info("tickets: %s", service.state)
            if self.connected:
                self.link.publish_presence()
            self.on_change()

    def _watch_service(self) -> None:
        """Heartbeats that stop and a broker that goes away send nothing: looked for."""
        while not self._stop.wait(WATCH_EVERY_S):
            self._update_service()


    def office_name(self) -> str:
        with self._lock:
            return self.config.name

    def hours(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self.config.hours)

    def services(self) -> list[ServiceInfo]:
        with self._lock:
            return list(self.config.services)

    def priority_offered(self) -> bool:
        with self._lock:
            return self.config.kiosk.priority_button

    def waiting(self, service: str) -> tuple[int, int] | None:
        with self._lock:
            w = self.board.waiting.get(service) if self.board is not None else None
        return (w.count, w.est_wait_min) if w is not None else None

    # -- printer health -----------------------------------------------------------------
    def _presence(self) -> dict[str, Any]:
        return {"printer": self.printer_state, "tickets": self.service.state,
                **self.presence_extra()}

    def _check_printer(self) -> str:
        if self.printer.kind == "none":
            return self.printer_state
        try:
            state = self.printer.health()
        except Exception:  # health must never take the kiosk down
            log.exception("printer health check failed")
            state = OFFLINE
        self._set_printer_state(state)
        return state

    def _set_printer_state(self, state: str) -> None:
        self._health_at = time.monotonic()
        if state != self.printer_state:
            log.info("printer: %s -> %s", self.printer_state, state)
            self.printer_state = state
            if self.connected:
                self.link.publish_presence()
            self.on_change()

    def can_print(self) -> bool:
        return self.printer_state in (OK, PAPER_LOW)

    def _watch_printer(self) -> None:
        self._check_printer()  # may block for a second: never on the UI's thread
        while not self._stop.wait(self.health_every):
            if not self._busy.is_set():  # while printing, the print itself tells
                self._check_printer()

    # -- citizen actions ----------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._busy.is_set()

    def submit(self, action: Action) -> bool:
        """Queue an action; False if one is already under way (a double tap)."""
        return self._queue("action", action)

    def reprint(self, ticket: TicketInfo) -> bool:
        return self._queue("reprint", ticket)

    def _queue(self, kind: str, item: Any) -> bool:
        with self._lock:
            if self._busy.is_set():
                return False
            self._busy.set()
        self._jobs.put((kind, item))
        return True

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            kind, item = job
            try:
                if kind == "action":
                    self.run(item)
                else:
                    self._print(Outcome(None, ticket=item, reprint=True,
                                        times={"start": time.monotonic()}))
            except Exception:  # one bad job must not stop the kiosk taking the next
                log.exception("kiosk job %s failed", kind)
                self._busy.clear()
                self.on_outcome(Outcome(item if kind == "action" else None, code="no_reply"))

    def run(self, action: Action, t_start: float | None = None) -> Outcome:
        """Decide one action, then print its ticket; blocks (the desk's thread calls it)."""
        marks = {"start": t_start or time.monotonic()}
        command = action.command
        if isinstance(command, CheckIn):
            verdict = precheck(command.token, self.office)
            marks["prechecked"] = time.monotonic()
            if verdict.code:
                return self._finish(Outcome(action, code=verdict.code, local=True,
                                            booking_date=verdict.booking_date, times=marks))
        if time.monotonic() - self._health_at > 1.0:
            self._check_printer()  # so the citizen hears of a printer problem before paper
        try:
            reply = self.requester.send(command, timeout=self.reply_timeout, cmd_id=action.id)
        except NoReply:
            log.warning("no reply to %s %s in %.1f s", protocol.wire(command)[0], action.id,
                        self.reply_timeout)
            return self._finish(Outcome(action, code="no_reply", times=marks))
        marks["replied"] = time.monotonic()
        ticket = reply.ticket
        if not reply.ok:
            booking_date = None
            if reply.booking_date is not None:
                try:
                    booking_date = date.fromisoformat(reply.booking_date)
                except ValueError:
                    booking_date = None
            return self._finish(Outcome(action, ticket=ticket, code=reply.code or "bad_request",
                                        booking_date=booking_date, opens_at=reply.opens_at,
                                        times=marks))
        if ticket is None:
            return self._finish(Outcome(action, code="bad_request", times=marks))
        outcome = Outcome(action, ticket=ticket, times=marks)
        self.on_outcome(replace(outcome))  # the number on screen now; the paper follows
        return self._print(outcome)

    def _print(self, outcome: Outcome) -> Outcome:
        assert outcome.ticket is not None
        if self.printer.kind == "none":
            outcome.printed = False
            return self._finish(outcome)
        try:
            image = render_ticket(outcome.ticket, self.office, self.printer.width_px)
            self.printer.print_ticket(image, ticket_name(outcome.ticket, self.office))
        except PrintError as exc:
            log.warning("ticket %s not printed: %s", outcome.ticket.number, exc)
            outcome.printed = False
            outcome.print_error = (exc.code, exc.message, exc.message_en)
        except (KeyError, ValueError, TypeError) as exc:  # a ticket we cannot lay out
            log.exception("ticket %s cannot be drawn", outcome.ticket.number)
            outcome.printed = False
            outcome.print_error = ("io", f"Lỗi dựng phiếu: {exc}", f"Ticket layout error: {exc}")
        else:
            outcome.printed = True
        outcome.times["printed"] = time.monotonic()
        self._set_printer_state(self.printer.state)
        return self._finish(outcome)

    def _finish(self, outcome: Outcome) -> Outcome:
        self._busy.clear()
        self.on_outcome(outcome)
        return outcome

    def now(self) -> datetime:
        return self.clock()
