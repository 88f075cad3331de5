"""The terminal's MQTT side: retained state in, one command at a time out, retried by its id.

Nothing here touches a widget: paho's thread only stores the latest messages and calls
`on_change`, which the app turns into one coalesced redraw on Kivy's thread.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from motcua import topics
from motcua.config import OfficeConfig
from motcua.mqtt import Link, NoReply, Requester, new_command_id
from motcua.protocol import VERSION

log = logging.getLogger(__name__)

RETRY_EVERY_S = 1.0
SLOW_AFTER_S = 3.0  # say so on screen when a reply takes longer than this


@dataclass
class Press:
    """One press of a button or key: one command id, however often it is resent."""

    action: str  # what the staff chose: next, recall, ..., pause, resume
    fields: dict[str, Any] = field(default_factory=dict)
    origin: str = "main"  # the screen or dialog that sent it, where its error is shown
    note: dict[str, Any] = field(default_factory=dict)  # for the result line only
    cmd_id: str = field(default_factory=new_command_id)
    started: float = field(default_factory=time.monotonic)


class Remote:
    def __init__(self, office: OfficeConfig, counter: str, broker_url: str,
                 on_change: Callable[[], None],
                 on_reply: Callable[[Press, dict[str, Any]], None],
                 on_slow: Callable[[Press], None]):
        self.office, self.counter = office, counter
        self.on_change, self.on_reply, self.on_slow = on_change, on_reply, on_slow
        self._lock = threading.Lock()
        self._latest: dict[str, Any] = {}
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        o = office.id
        self.link = Link.for_office(office, broker_url, "counter", counter,
                         persistent=True)
        self.requester = Requester(self.link, retry_every=RETRY_EVERY_S)
        self._routes = {
            topics.state_config(o): "config",
            topics.state_counter(o, counter): "counter",
            topics.state_order(o): "order",
            topics.event_call(o): "call",
        }
        for topic in self._routes:
            self.link.subscribe(topic, self._message)
        self.link.subscribe(topics.presence(o, "dispatcher", "+"), self._presence)

    # -- in -----------------------------------------------------------------------------
    @staticmethod
    def _decode(topic: str, payload: bytes) -> dict[str, Any] | None:
        if not payload:
            return None  # a cleared retained message
        try:
            message = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            log.warning("ignored a message on %s that is not JSON", topic)
            return None
        if not isinstance(message, dict) or message.get("v") != VERSION:
            log.warning("ignored a message on %s of another shape or version", topic)
            return None
        return message

    def _message(self, topic: str, payload: bytes) -> None:
        message = self._decode(topic, payload)
        kind = self._routes.get(topic)
        if message is None or kind is None:
            return
        with self._lock:
            if kind == "call":
                # Calls are never retained, so their time is the dispatcher's now: the
                # served timer follows the dispatcher's clock even when it runs shifted.
                try:
                    at = datetime.fromisoformat(str(message.get("at")))
                    self._latest["offset"] = at.timestamp() - time.time()
                except ValueError:
                    return
            else:
                self._latest[kind] = message
        self.on_change()

    def _presence(self, topic: str, payload: bytes) -> None:
        message = self._decode(topic, payload)
        if message is not None:
            with self._lock:
                self._latest["dispatcher"] = message.get("status") == "online"
            self.on_change()

    def latest(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._latest)

    @property
    def connected(self) -> bool:
        return self.link.connected.is_set()

    # -- out ----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def send(self, press: Press) -> None:
        """Send one press in the background; the caller makes sure only one is in flight."""
        if self.busy:
            raise RuntimeError("a command is already waiting for its reply")
        self._worker = threading.Thread(target=self._send, args=(press,), daemon=True,
                                        name=f"counter-{press.action}")
        self._worker.start()

    def _send(self, press: Press) -> None:
        told_slow = False
        # Same id until the reply comes, through lost links and dispatcher restarts: the
        # dispatcher answers a repeated id with its stored reply, so nobody is called twice.
        while not self._stopping.is_set():
            try:
                reply = self.requester.request(press.action, timeout=SLOW_AFTER_S,
                                               cmd_id=press.cmd_id, **press.fields)
            except NoReply:
                if not told_slow:
                    told_slow = True
                    self.on_slow(press)
                continue
            self.on_reply(press, reply)
            return

    def start(self) -> Remote:
        self.link.start(wait=None)
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._worker is not None:
            self._worker.join(SLOW_AFTER_S + 1)
        self.link.stop()
