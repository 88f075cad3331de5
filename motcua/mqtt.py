"""The one MQTT client every room uses: MQTT 5, TCP_NODELAY, last-will presence, reconnect,
republish on every connect, and requests retried by command id until their reply comes."""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from motcua import topics
from motcua.config import OfficeConfig
from motcua.protocol import VERSION, BadMessage, Command, Presence, Reply, encode, read, wire

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 24 * 3600  # a device's queued commands survive a day of broker outage

Handler = Callable[[str, bytes], None]


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        u = urlparse(url)
        if u.scheme not in ("mqtt", "mqtts") or not u.hostname:
            raise ValueError(f"broker URL {url!r} must look like mqtt://host:1883")
        tls = u.scheme == "mqtts"
        return cls(u.hostname, u.port or (8883 if tls else 1883), tls)


class _Poll:
    """`select` as paho's loop sees it, made with poll. select.select refuses a socket
    numbered 1,024 or more (FD_SETSIZE); the web server holds a socket per open page, so its
    broker connection, made again after a broker restart with 1,000 phones open, got such a
    number and never came back. poll has no such ceiling; the answers are select's."""

    error = OSError

    @staticmethod
    def select(rlist: list[Any], wlist: list[Any], xlist: list[Any],
               timeout: float | None = None) -> tuple[list[Any], list[Any], list[Any]]:
        def fd(obj: Any) -> int:
            try:
                n = obj if isinstance(obj, int) else obj.fileno()
            except AttributeError as exc:  # None: select's TypeError, which paho expects
                raise TypeError(f"not a socket: {obj!r}") from exc
            if n < 0:
                raise ValueError("file descriptor cannot be a negative integer")
            return int(n)

        reads, writes = {fd(o): o for o in rlist}, {fd(o): o for o in wlist}
        poller = select.poll()
        for n in reads.keys() | writes.keys():
            poller.register(n, (select.POLLIN if n in reads else 0)
                            | (select.POLLOUT if n in writes else 0))
        events = poller.poll(None if timeout is None else math.ceil(max(timeout, 0) * 1000))
        if any(ev & select.POLLNVAL for _, ev in events):
            raise ValueError("a closed socket")  # paho: the connection is lost
        gone = select.POLLHUP | select.POLLERR
        return ([reads[n] for n, ev in events if n in reads and ev & (select.POLLIN | gone)],
                [writes[n] for n, ev in events if n in writes and ev & (select.POLLOUT | gone)],
                [])


paho.select = _Poll  # type: ignore[assignment]  # paho's one use of select: its loop


def new_command_id() -> str:
    return secrets.token_urlsafe(12)


def _no_delay(client: paho.Client, userdata: Any, sock: Any) -> None:
    # Nagle's algorithm costs ~40 ms per round trip; the broker sets it off on its side too.
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Link:
    """A device's connection: presence, subscriptions and retained state kept across reconnects.

    `on_connect` runs (on paho's thread) after every (re)connect, once subscriptions are
    asked for: the place to republish retained state.
    """

    def __init__(self, url: str, office: str, role: str, device: str, *,
                 username: str | None = None, password: str | None = None,
                 ca_file: str | None = None, persistent: bool = True,
                 presence_detail: Callable[[], dict[str, Any]] | None = None,
                 on_connect: Callable[[], None] | None = None,
                 clock: Callable[[], datetime] | None = None):
        self.address = BrokerAddress.parse(url)
        self.office, self.role, self.device = office, role, device
        self.presence_topic = topics.presence(office, role, device)
        self.persistent = persistent
        self.presence_detail = presence_detail
        self.on_connect_hook = on_connect
        self.clock = clock or (lambda: datetime.now().astimezone())
        self.connected = threading.Event()
        self._handlers: list[tuple[str, Handler, Handler | None]] = []
        self._lock = threading.Lock()
        self._stopping = False
        self.client = paho.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"motcua-{office}-{role}-{device}",
                                  protocol=paho.MQTTv5, reconnect_on_failure=True)
        if username:
            self.client.username_pw_set(username, password)
        if self.address.tls:
            self.client.tls_set(ca_certs=ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.will_set(self.presence_topic, encode(Presence(status="offline")),
                             qos=1, retain=True)
        self.client.on_socket_open = _no_delay
        self.client.on_connect = self._connected
        self.client.on_disconnect = self._disconnected
        self.client.on_message = self._message

    @classmethod
    def for_office(cls, office: OfficeConfig, url: str, role: str, device: str,
                   **options: Any) -> Link:
        """A link for one of this office's devices, with the office file's broker account."""
        b = office.broker
        return cls(url, office.id, role, device, username=b.username, password=b.password,
                   ca_file=str(b.ca_file) if b.ca_file else None, **options)

    # -- life cycle ---------------------------------------------------------------------
    def start(self, wait: float | None = 10.0) -> Link:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S if self.persistent else 0
        self.client.connect_async(self.address.host, self.address.port, keepalive=15,
                                  clean_start=not self.persistent, properties=props)
        self.client.loop_start()
        if wait and not self.connected.wait(wait):
            log.warning("no broker at %s:%s yet; still trying", self.address.host,
                        self.address.port)
        return self

    def stop(self) -> None:
        self._stopping = True
        if self.connected.is_set():
            info = self.client.publish(self.presence_topic, encode(
                Presence(status="offline", at=self._now())), qos=1, retain=True)
            info.wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()

    def _now(self) -> str:
        return self.clock().isoformat(timespec="seconds")

    def _connected(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                   props: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        with self._lock:
            filters = sorted({(f, r is not None) for f, _, r in self._handlers})
        for f, apart in filters:
            client.subscribe(f, options=_options(apart))
        self.publish_presence()
        if self.on_connect_hook:
            try:
                self.on_connect_hook()
            except Exception:  # a failing hook must not kill paho's network thread
                log.exception("republish after connect failed")
        self.connected.set()
        log.info("connected to %s:%s", self.address.host, self.address.port)

    def _disconnected(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                      props: Any) -> None:
        self.connected.clear()
        if not self._stopping:
            log.warning("lost the broker (%s); reconnecting", reason)

    def publish_presence(self, status: str = "online") -> None:
        detail = self.presence_detail() if self.presence_detail else {}
        self.publish(self.presence_topic,
                     Presence(status=status, at=self._now(), detail=detail), retain=True)

    # -- messages -----------------------------------------------------------------------
    def subscribe(self, topic_filter: str, handler: Handler,
                  on_retained: Handler | None = None) -> None:
        """`handler(topic, payload)` for each message; with `on_retained`, messages the
        broker kept (retained) go there instead, never to `handler`."""
        with self._lock:
            self._handlers.append((topic_filter, handler, on_retained))
        if self.connected.is_set():
            self.client.subscribe(topic_filter, options=_options(on_retained is not None))

    def _message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        with self._lock:
            handlers = [(h, r) for f, h, r in self._handlers
                        if paho.topic_matches_sub(f, msg.topic)]
        for handler, on_retained in handlers:
            try:
                if msg.retain and on_retained is not None:
                    on_retained(msg.topic, bytes(msg.payload))
                else:
                    handler(msg.topic, bytes(msg.payload))
            except Exception:
                log.exception("handler for %s failed", msg.topic)

    def publish(self, topic: str, message: Presence | dict[str, Any] | bytes, retain: bool = False,
                qos: int = 1) -> paho.MQTTMessageInfo:
        payload = message if isinstance(message, bytes) else encode(message)
        return self.client.publish(topic, payload, qos=qos, retain=retain)


def _options(retain_apart: bool) -> SubscribeOptions:
    # retainAsPublished: the retain flag arrives as the sender set it, even live, so a
    # retained command is told apart from a live one.
    return SubscribeOptions(qos=1, retainAsPublished=retain_apart)


@dataclass(frozen=True)
class Seen:
    topic: str
    payload: bytes
    retained: bool
    after_s: float  # seconds after subscribing


class BrokerRefused(ConnectionError):
    """The broker answered, and refused this account: `reason` is its CONNACK reason
    (135 not authorized, 134 bad user name or password, ...)."""

    def __init__(self, message: str, code: int, reason: str):
        super().__init__(message)
        self.code, self.reason = code, reason


class BrokerTLSError(ConnectionError):
    """The TCP connection was made but TLS failed: a certificate, or the CA file."""


def peek(office: OfficeConfig, url: str, topic_filters: list[str], seconds: float,
         until: Callable[[list[Seen]], bool] | None = None,
         connect_timeout: float = 5.0) -> list[Seen]:
    """What the broker holds and sends on `topic_filters` for `seconds` (or until
    `until(seen)`), from a throwaway connection with the office's broker account.

    Raises ConnectionError: BrokerRefused when the broker refuses the account,
    BrokerTLSError when TLS fails, a plain ConnectionError when there is no broker."""
    address = BrokerAddress.parse(url)
    where = f"{address.host}:{address.port}"
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5,
                         client_id=f"motcua-probe-{secrets.token_hex(6)}")
    client.connect_timeout = connect_timeout
    b = office.broker
    if b.username:
        client.username_pw_set(b.username, b.password)
    if address.tls:
        try:
            client.tls_set(ca_certs=str(b.ca_file) if b.ca_file else None,
                           tls_version=ssl.PROTOCOL_TLS_CLIENT)
        except (OSError, ValueError) as exc:  # a missing or unreadable CA file
            raise BrokerTLSError(f"cannot use the CA file {b.ca_file}: {exc}") from exc
    seen: list[Seen] = []
    done, subscribed = threading.Event(), threading.Event()
    refused: list[tuple[int, str]] = []
    started = [0.0]

    def connected(c: paho.Client, u: Any, f: Any, reason: Any, p: Any) -> None:
        if reason.is_failure:
            refused.append((int(reason.value), str(reason)))
            subscribed.set()
        else:
            c.subscribe([(f, _options(True)) for f in topic_filters])

    def suback(c: paho.Client, u: Any, mid: Any, codes: Any, p: Any) -> None:
        started[0] = time.monotonic()
        subscribed.set()

    def message(c: paho.Client, u: Any, msg: paho.MQTTMessage) -> None:
        seen.append(Seen(msg.topic, bytes(msg.payload), bool(msg.retain),
                         time.monotonic() - started[0]))
        if until and until(seen):
            done.set()

    client.on_connect, client.on_subscribe, client.on_message = connected, suback, message
    client.on_socket_open = _no_delay
    try:
        client.connect(address.host, address.port, keepalive=15)
    except ssl.SSLError as exc:  # an OSError too: said apart from "no broker"
        raise BrokerTLSError(f"TLS with the broker at {where} failed: "
                             f"{getattr(exc, 'verify_message', None) or exc}") from exc
    except OSError as exc:
        raise ConnectionError(f"no broker at {where}: {exc}") from exc
    client.loop_start()
    try:
        if not subscribed.wait(connect_timeout):
            raise ConnectionError(f"the broker at {where} did not accept the connection")
        if refused:
            code, reason = refused[0]
            raise BrokerRefused(f"the broker at {where} refused the account "
                                f"{b.username or '(anonymous)'}: {reason} ({code})", code, reason)
        done.wait(seconds)
    finally:
        client.disconnect()
        client.loop_stop()
    return list(seen)


class NoReply(Exception):
    """The dispatcher did not answer in time (after retries with the same command id)."""


class Requester:
    """Send commands as one device and wait for their replies, retrying by id."""

    def __init__(self, link: Link, retry_every: float = 1.0):
        self.link = link
        self.retry_every = retry_every
        self.cmd_topic = topics.cmd(link.office, link.role, link.device)
        self._waiting: dict[str, tuple[threading.Event, list[Reply]]] = {}
        self._lock = threading.Lock()
        link.subscribe(topics.reply(link.office, link.role, link.device), self._reply)

    def _reply(self, topic: str, payload: bytes) -> None:
        try:
            reply = read(Reply, payload)
        except BadMessage as exc:
            log.warning("ignored a reply on %s: %s", topic, exc)
            return
        slot = self._waiting.get(reply.id)
        if slot is not None:
            slot[1].append(reply)
            slot[0].set()

    def send(self, command: Command, timeout: float = 5.0, cmd_id: str | None = None) -> Reply:
        """Send one typed command and return its reply; the same id on every retry."""
        ctype, fields = wire(command)
        return self.request(ctype, timeout, cmd_id, **fields)

    def request(self, ctype: str, timeout: float = 5.0, cmd_id: str | None = None,
                **fields: Any) -> Reply:
        """Send a command of type `ctype` with `fields` as they go on the wire (what `send`
        does for a typed command; tests use it to send what no room would)."""
        cmd_id = cmd_id or new_command_id()
        message = {"v": VERSION, "id": cmd_id, "type": ctype, **fields}
        event = threading.Event()
        box: list[Reply] = []
        with self._lock:
            self._waiting[cmd_id] = (event, box)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self.link.connected.is_set():
                    self.link.publish(self.cmd_topic, message)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise NoReply(f"no reply to {ctype} {cmd_id} in {timeout:.1f} s")
                if event.wait(min(self.retry_every, left)):
                    return box[0]
        finally:
            with self._lock:
                self._waiting.pop(cmd_id, None)
