"""The rating screen's MQTT side: its counter's state and the ticket events in, one `rate`
out at a time, retried by its id. paho's thread never touches a widget."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from motcua import topics
from motcua.config import OfficeConfig
from motcua.mqtt import Link, NoReply, Requester, new_command_id
from motcua.protocol import BadMessage, CounterState, Presence, Rate, Reply, TicketEvent, read

log = logging.getLogger(__name__)

GIVE_UP_S = 30.0  # a rating not answered by then is said not sent (the citizen has gone)


class Remote:
    def __init__(self, office: OfficeConfig, counter: str, broker_url: str,
                 on_message: Callable[[Any], None], on_reply: Callable[[Reply | None], None]):
        self.office, self.counter = office, counter
        self.on_message, self.on_reply = on_message, on_reply
        self.link = Link.for_office(office, broker_url, "rating", counter, persistent=True)
        self.requester = Requester(self.link, retry_every=1.0)
        o = office.id
        routes: dict[str, type[Any]] = {topics.state_counter(o, counter): CounterState,
                                        topics.event_ticket(o): TicketEvent,
                                        topics.presence(o, "dispatcher", "+"): Presence}
        for topic, kind in routes.items():
            self.link.subscribe(topic, functools.partial(self._message, kind))
        self._worker: threading.Thread | None = None
        self._stopping = threading.Event()

    def _message(self, kind: type[Any], topic: str, payload: bytes) -> None:
        if not payload:
            return  # a cleared retained message
        try:
            self.on_message(read(kind, payload))
        except BadMessage as exc:
            log.warning("ignored a message on %s: %s", topic, exc)

    @property
    def connected(self) -> bool:
        return self.link.connected.is_set()

    def rate(self, ticket: str, level: str) -> None:
        """Send one rating in the background; its reply (None: given up) to on_reply."""
        if self._worker is not None and self._worker.is_alive():
            return
        self._worker = threading.Thread(target=self._send, args=(Rate(ticket, level),),
                                        daemon=True, name="rating-rate")
        self._worker.start()

    def _send(self, command: Rate) -> None:
        cmd_id, deadline = new_command_id(), time.monotonic() + GIVE_UP_S
        while not self._stopping.is_set() and time.monotonic() < deadline:
            try:
                self.on_reply(self.requester.send(command, timeout=3.0, cmd_id=cmd_id))
                return
            except NoReply:
                continue
        self.on_reply(None)

    def start(self) -> Remote:
        self.link.start(wait=None)
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.link.stop()
