"""The terminal's MQTT side: retained state in, one command at a time out, retried by its id.

Nothing here touches a widget: paho's thread only stores the latest messages and calls
`on_change`, which the app turns into one coalesced redraw on Kivy's thread.
"""

from __future__ import annotations

import dataclasses
import functools
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
from motcua.protocol import (
    TYPE_OF,
    BadMessage,
    CallEvent,
    Command,
    CounterState,
    Done,
    Next,
    NoShow,
    OfficeInfo,
    Order,
    Pause,
    Presence,
    Recall,
    Reply,
    Resume,
    read,
)

log = logging.getLogger(__name__)

RETRY_EVERY_S = 1.0
SLOW_AFTER_S = 3.0  # say so on screen when a reply takes longer than this


# The commands a button sends as they are, without a dialog.
SIMPLE: dict[str, Callable[[], Command]] = {"next": Next, "recall": Recall, "done": Done,
                                    "no_show": NoShow, "pause": Pause, "resume": Resume}


@dataclass
class Press:
    """One press of a button or key: one command id, however often it is resent."""

    command: Command  # what the staff chose: Next(), Call("A012"), Pause(), ...
    origin: str = "main"  # the screen or dialog that sent it, where its error is shown
    note: dict[str, Any] = field(default_factory=dict)  # for the result line only
    cmd_id: str = field(default_factory=new_command_id)
    started: float = field(default_factory=time.monotonic)

    @property
    def action(self) -> str:
        """The command's type on the wire: next, recall, ..., pause, resume."""
        return TYPE_OF[type(self.command)]


@dataclass
class Heard:
    """The latest the terminal heard of each message; None: nothing (usable) yet."""

    config: OfficeInfo | None = None
    counter: CounterState | None = None
    order: Order | None = None
    offset: float = 0.0  # the dispatcher's clock minus this machine's, seconds
    dispatcher: bool | None = None  # its presence: online or not


class Remote:
    def __init__(self, office: OfficeConfig, counter: str, broker_url: str,
                 on_change: Callable[[], None],
                 on_reply: Callable[[Press, Reply], None],
                 on_slow: Callable[[Press], None]):
        self.office, self.counter = office, counter
        self.on_change, self.on_reply, self.on_slow = on_change, on_reply, on_slow
        self._lock = threading.Lock()
        self._latest = Heard()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        o = office.id
        self.link = Link.for_office(office, broker_url, "counter", counter,
                         persistent=True)
        self.requester = Requester(self.link, retry_every=RETRY_EVERY_S)
        # topic -> (message type, where it goes in Heard)
        self._routes: dict[str, tuple[type[Any], str]] = {
            topics.state_config(o): (OfficeInfo, "config"),
            topics.state_counter(o, counter): (CounterState, "counter"),
            topics.state_order(o): (Order, "order"),
            topics.event_call(o): (CallEvent, "offset"),
            topics.presence(o, "dispatcher", "+"): (Presence, "dispatcher"),
        }
        for topic, (kind, slot) in self._routes.items():
            self.link.subscribe(topic, functools.partial(self._message, kind, slot))

    # -- in -----------------------------------------------------------------------------
    def _message(self, kind: type[Any], slot: str, topic: str, payload: bytes) -> None:
        if not payload:
            return  # a cleared retained message
        try:
            message = read(kind, payload)
        except BadMessage as exc:
            log.warning("ignored a message on %s: %s", topic, exc)
            return
        value: Any = message
        if isinstance(message, CallEvent):
            # Calls are never retained, so their time is the dispatcher's now: the served
            # timer follows the dispatcher's clock even when it runs shifted.
            value = datetime.fromisoformat(message.at).timestamp() - time.time()
        elif isinstance(message, Presence):
            value = message.status == "online"
        elif isinstance(message, CounterState) and message.counter != self.counter:
            return
        with self._lock:
            setattr(self._latest, slot, value)
        self.on_change()

    def latest(self) -> Heard:
        with self._lock:
            return dataclasses.replace(self._latest)

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
                reply = self.requester.send(press.command, timeout=SLOW_AFTER_S,
                                            cmd_id=press.cmd_id)
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
