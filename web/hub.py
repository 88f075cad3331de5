"""The web service's one MQTT connection: the dispatcher's retained state, events and
presence in, counter commands out; pages get what changed pushed to them.

paho's thread only hands each message to the asyncio loop; everything else — the state,
the pages' queues, the pending commands — lives on the loop's thread, so nothing here
needs a lock."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from motcua import topics
from motcua.config import OfficeConfig
from motcua.mqtt import Link, new_command_id
from motcua.protocol import (
    VERSION,
    BadMessage,
    Board,
    CallEvent,
    CounterState,
    OfficeInfo,
    Order,
    Presence,
    Reply,
    TicketEvent,
    TicketInfo,
    read,
)
from motcua.views import office_info

log = logging.getLogger(__name__)

RETRY_S = 1.0  # a relayed command is sent again with the same id until it is answered
REPLY_TIMEOUT_S = 12.0
TICK_S = 5.0
PAGE_QUEUE = 64  # messages waiting for one slow page before it is dropped (it reconnects)
CLOSE = "\x00close "  # in a page's outbox (never JSON): close the socket with the code after
CLOSE_SLOW = 4000  # a page's close codes: it read too slowly (it reconnects by itself)
CLOSE_REPLACED = 4409  # opened again elsewhere, this was the oldest (it stays closed)
CLOSE_FULL = 4429  # no room for one more page of its kind (it comes back in 10-30 s)


class HubLink(Link):
    """A Link that tells the hub when the broker comes and goes."""

    def __init__(self, *args: Any, on_state: Callable[[bool], None], **kw: Any):
        self._on_state = on_state
        super().__init__(*args, **kw)

    def _connected(self, client: Any, userdata: Any, flags: Any, reason: Any,
                   props: Any) -> None:
        super()._connected(client, userdata, flags, reason, props)
        if not reason.is_failure:
            self._on_state(True)

    def _disconnected(self, client: Any, userdata: Any, flags: Any, reason: Any,
                      props: Any) -> None:
        super()._disconnected(client, userdata, flags, reason, props)
        self._on_state(False)


@dataclass(eq=False)
class Page:
    """One open page: what it shows (`view`, a function of the hub), and its outbox."""

    view: Callable[[Hub], dict[str, Any]]
    kind: str  # board, ticket, counter, hall
    key: str = ""  # the ticket number or the counter id it follows
    group: tuple[str, str] = ("", "")  # what it is one of (web.server.Web.seat)
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(PAGE_QUEUE))
    last: str = ""

    def offer(self, text: str) -> None:
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:  # a page that stopped reading: close it, it reconnects
            self.close(CLOSE_SLOW)

    def close(self, code: int) -> None:
        """Close this page's socket with `code`, after what it was sent (room is made)."""
        text = f"{CLOSE}{code}"
        with contextlib.suppress(asyncio.QueueFull, asyncio.QueueEmpty):
            if self.queue.full():
                self.queue.get_nowait()
            self.queue.put_nowait(text)


class Hub:
    def __init__(self, office: OfficeConfig, url: str, *, presence: bool = True):
        self.office = office
        self.url = url
        self.config: OfficeInfo = office_info(office)
        self.board: Board | None = None
        self.order: Order | None = None
        self.counters: dict[str, CounterState] = {}
        self.presence: dict[tuple[str, str], Presence] = {}
        self.tickets: dict[str, TicketInfo] = {}  # today's, as event/ticket told them
        self.figures: dict[str, int] = {}  # today's changes seen: issued, done, no_show...
        self.broker_up = False
        self.pages: set[Page] = set()
        self.on_call: list[Callable[[CallEvent], None]] = []
        self.on_order: list[Callable[[Order], None]] = []
        self._clock: tuple[datetime, float] | None = None  # the office's last `at`, when
        self._pending: dict[str, asyncio.Future[Reply]] = {}
        self._dirty = False
        # views.positions, computed once per state/order for every ticket page
        self.positions_cache: tuple[Order | None, dict[str, tuple[str, int, int]]] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ticker: asyncio.Task[None] | None = None
        web = office.web
        self.link = HubLink.for_office(office, url, "web", web.device, persistent=False,
                                       on_state=self._from_paho_state,
                                       presence_detail=lambda: {"pages": len(self.pages)})
        o = office.id
        for topic in (topics.state_config(o), topics.state_board(o), topics.state_order(o),
                      topics.state_counter(o, "+"), topics.event_call(o),
                      topics.event_ticket(o), f"{topics.ROOT}/{o}/presence/+/+",
                      topics.reply(o, "counter", "+"), topics.reply(o, "web", web.device)):
            self.link.subscribe(topic, self._from_paho)
        self._presence = presence

    # -- life ---------------------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> Hub:
        self.loop = loop
        self.link.start(wait=None)
        self._ticker = loop.create_task(self._tick_views())
        return self

    async def _tick_views(self) -> None:
        """Views that depend on the time (minutes waited, red past 15) are computed again
        every few seconds; a page gets them only when they changed."""
        while True:
            await asyncio.sleep(TICK_S)
            self.changed()

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        await asyncio.to_thread(self.link.stop)  # presence "offline", then disconnect

    @property
    def online(self) -> bool:
        """The pages' "connection lost": the broker or the dispatcher is gone."""
        return self.broker_up and self.dispatcher_online

    @property
    def dispatcher_online(self) -> bool:
        return any(p.status == "online" for (role, _), p in self.presence.items()
                   if role == "dispatcher")

    def now(self) -> datetime:
        """The office's time: its last state's `at` moved on by the time since (the
        dispatcher's clock, which may run from another moment in a demo)."""
        if self._clock is None:
            return datetime.now(self.office.tz)
        at, mono = self._clock
        return at + timedelta(seconds=time.monotonic() - mono)

    @property
    def day(self) -> str:
        return self.board.day if self.board else self.now().date().isoformat()

    # -- in: paho's thread ----------------------------------------------------------------
    def _from_paho(self, topic: str, payload: bytes) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._message, topic, payload)

    def _from_paho_state(self, up: bool) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._broker, up)

    # -- in: the loop ---------------------------------------------------------------------
    def _broker(self, up: bool) -> None:
        self.broker_up = up
        self.changed()

    def _message(self, topic: str, payload: bytes) -> None:
        parts = topic.split("/")
        what = parts[2:] if len(parts) > 2 else []
        try:
            self._take(what, payload)
        except BadMessage as exc:
            log.warning("ignored a bad message on %s (tin nhắn không hợp lệ): %s", topic, exc)

    def _take(self, what: list[str], payload: bytes) -> None:
        match what:
            case ["reply", "counter" | "web", _]:
                return self._reply(payload)
            case ["presence", role, device]:
                if payload:
                    p = self.presence[(role, device)] = read(Presence, payload)
                    if role == "dispatcher" and p.at:  # its heartbeat: the office's clock
                        self._tick(p.at)
                else:
                    self.presence.pop((role, device), None)
            case _ if not payload:  # a cleared retained message
                return
            case ["state", "config"]:
                self.config = read(OfficeInfo, payload)
            case ["state", "board"]:
                board = read(Board, payload)
                if self.board is not None and self.board.day != board.day:
                    self.tickets.clear()
                    self.figures.clear()
                self.board = board
                self._tick(board.at)
            case ["state", "order"]:
                self.order = read(Order, payload)
                self._tick(self.order.at)
                for order_hook in self.on_order:
                    order_hook(self.order)
            case ["state", "counter", counter]:
                self.counters[counter] = read(CounterState, payload)
            case ["event", "call"]:
                call = read(CallEvent, payload)
                self._tick(call.at)
                for hook in self.on_call:
                    hook(call)
            case ["event", "ticket"]:
                self._ticket(read(TicketEvent, payload))
            case _:
                return
        self.changed()

    def _tick(self, at: str) -> None:
        self._clock = (datetime.fromisoformat(at), time.monotonic())

    def _ticket(self, event: TicketEvent) -> None:
        if event.ticket is None:
            return
        self.tickets[event.ticket.number] = event.ticket
        self.figures[event.change] = self.figures.get(event.change, 0) + 1

    # -- out: pages -------------------------------------------------------------------------
    def add(self, page: Page) -> None:
        self.pages.add(page)
        self.send_view(page)

    def remove(self, page: Page) -> None:
        self.pages.discard(page)

    def changed(self) -> None:
        """Something changed: every page gets its new view once this loop turn ends (so a
        burst of messages makes one update)."""
        if not self._dirty and self.loop is not None:
            self._dirty = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._dirty = False
        for page in list(self.pages):
            self.send_view(page)

    def send_view(self, page: Page) -> None:
        text = json.dumps(page.view(self), ensure_ascii=False, separators=(",", ":"))
        if text != page.last:
            page.last = text
            page.offer(text)

    def push(self, kind: str, message: dict[str, Any], key: str | None = None) -> None:
        """A one-off message (a call to announce) to the pages of `kind` (and `key`)."""
        text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        for page in list(self.pages):
            if page.kind == kind and (key is None or page.key == key):
                page.offer(text)

    # -- out: counter commands ------------------------------------------------------------
    async def command(self, counter: str, ctype: str, cmd_id: str | None = None,
                      **fields: Any) -> Reply | None:
        """Send one command as counter `counter` and wait for its reply, resending with the
        same id every second; None when none came in time (the page resends the same id)."""
        return await self.send("counter", counter, ctype, cmd_id, **fields)

    async def rate(self, number: str, level: str) -> Reply | None:
        """A phone page's rating of its ticket, sent as this service (role web). One id per
        ticket and day: a second tap, or a retry, gets the first one's reply."""
        return await self.send("web", self.office.web.device, "rate",
                               f"rate-{self.day}-{number}", ticket=number, level=level)

    async def send(self, role: str, device: str, ctype: str, cmd_id: str | None = None,
                   **fields: Any) -> Reply | None:
        cmd_id = cmd_id or new_command_id()
        loop = asyncio.get_running_loop()
        future = self._pending.get(cmd_id)
        if future is None or future.done():
            future = self._pending[cmd_id] = loop.create_future()
        body = {"v": VERSION, "id": cmd_id, "type": ctype, **fields}
        deadline = loop.time() + REPLY_TIMEOUT_S
        try:
            while loop.time() < deadline:
                if self.link.connected.is_set():
                    self.link.publish(topics.cmd(self.office.id, role, device), body)
                with contextlib.suppress(TimeoutError):
                    return await asyncio.wait_for(asyncio.shield(future), RETRY_S)
        finally:
            if self._pending.get(cmd_id) is future:
                del self._pending[cmd_id]
        return None

    def _reply(self, payload: bytes) -> None:
        reply = read(Reply, payload)
        future = self._pending.get(reply.id)
        if future is not None and not future.done():
            future.set_result(reply)

