"""The board's MQTT side: retained state and calls in, presence out. Runs on paho's thread and
touches no widget: it fills an inbox and pokes the UI, which takes the inbox on its own thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from display.missed import Missed
from display.model import Heard
from motcua import topics
from motcua.config import OfficeConfig
from motcua.mqtt import Link
from motcua.protocol import BadMessage, Board, CallEvent, OfficeInfo, Presence, read

log = logging.getLogger(__name__)

BAD_LOG_EVERY_S = 60.0  # a misbehaving publisher must not flood the log


@dataclass
class Inbox:
    board: Board | None = None
    config: OfficeInfo | None = None
    calls: list[Heard] = field(default_factory=list)
    dispatcher_online: bool | None = None


class Feed:
    """Subscribes to state/board, state/config, event/call and the dispatcher's presence.

    `on_change(urgent)` is called (on paho's thread) whenever the inbox has something new;
    it must only schedule work; `urgent` is true for a call, which should be on screen at
    once. `on_call(call, received)` is also called on paho's thread, for the announcer:
    for each call event it has not announced yet, and after a reconnect for the calls it
    missed meanwhile that are still being served (display/missed.py).
    """

    def __init__(self, url: str, office: OfficeConfig, device: str,
                 on_change: Callable[[bool], None],
                 on_call: Callable[[CallEvent, float], None],
                 presence_detail: Callable[[], dict[str, Any]] | None = None):
        self.office = office
        self.on_change, self.on_call = on_change, on_call
        self._lock = threading.Lock()
        self._inbox = Inbox()
        self._bad_logged: dict[str, float] = {}
        self.missed = Missed()
        self.link = Link.for_office(office, url, "display", device,
                         # a clean session: the retained state tells a reconnected board all it
                         # needs, and calls queued during a long outage would be stale noise;
                         # the ones still being served are caught up from state/board
                         persistent=False, presence_detail=presence_detail,
                         on_connect=self.missed.reconnected)
        o = office.id
        self.link.subscribe(topics.state_board(o), self._board)
        self.link.subscribe(topics.state_config(o), self._config)
        self.link.subscribe(topics.event_call(o), self._call)
        self.link.subscribe(topics.presence(o, "dispatcher", "+"), self._dispatcher)

    def start(self) -> Feed:
        self.link.start(wait=None)  # the window opens at once and says it is connecting
        return self

    def stop(self) -> None:
        self.link.stop()

    @property
    def connected(self) -> bool:
        return self.link.connected.is_set()

    def take(self) -> Inbox:
        """Everything that came since the last take; the UI thread calls this."""
        with self._lock:
            inbox, self._inbox = self._inbox, Inbox()
        return inbox

    def _bad(self, topic: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._bad_logged.get(topic, -BAD_LOG_EVERY_S) >= BAD_LOG_EVERY_S:
            self._bad_logged[topic] = now
            log.warning("ignored a bad message on %s (tin nhắn không hợp lệ): %s", topic, exc)

    def _board(self, topic: str, payload: bytes) -> None:
        if not payload:  # a cleared retained message
            return
        try:
            board = read(Board, payload)
        except BadMessage as exc:
            return self._bad(topic, exc)
        received = time.perf_counter()
        with self._lock:
            self._inbox.board = board
        self.on_change(False)
        for call in self.missed.board(board):
            log.info("said after a reconnect (gọi lại số lỡ khi mất kết nối): %s", call.ticket)
            self.on_call(call, received)

    def _config(self, topic: str, payload: bytes) -> None:
        if not payload:
            return
        try:
            info = read(OfficeInfo, payload)
        except BadMessage as exc:
            return self._bad(topic, exc)
        with self._lock:
            self._inbox.config = info
        self.on_change(False)

    def _call(self, topic: str, payload: bytes) -> None:
        received = time.perf_counter()
        try:
            call = read(CallEvent, payload)
        except BadMessage as exc:
            return self._bad(topic, exc)
        with self._lock:
            self._inbox.calls.append(Heard(call, received))
        if self.missed.heard(call):
            self.on_call(call, received)
        self.on_change(True)

    def _dispatcher(self, topic: str, payload: bytes) -> None:
        try:
            online = read(Presence, payload).status == "online" if payload else False
        except BadMessage as exc:
            return self._bad(topic, exc)
        with self._lock:
            self._inbox.dispatcher_online = online
        self.on_change(False)
