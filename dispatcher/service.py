"""The office's one writer: a command in, the core decides, SQLite commits, then it publishes."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dispatcher.store import Store, StoreError
from motcua import handlers, protocol, topics
from motcua.clock import Clock
from motcua.config import OfficeConfig
from motcua.facts import (
    BookingAdded,
    BookingCancelled,
    BookingMoved,
    Called,
    Closed,
    CounterSet,
    DayClosed,
    Fact,
    Issued,
    Transferred,
    apply,
)
from motcua.model import Hall, Status, Ticket
from motcua.protocol import VERSION, Rejected, encode
from motcua.views import Snapshot, config_view, stamp

log = logging.getLogger(__name__)

# (change, topic or None for the log only, body, ticket number, counter id)
LoggedEvent = tuple[str, str | None, bytes, str | None, str | None]

STATE_REFRESH_S = 5.0  # tiers change with the clock alone (a booking window opens)
STATE_MIN_GAP_S = 0.05  # under a burst, state goes out at most this often
BATCH_MAX = 64  # commands waiting together share one commit (one fsync)


@dataclass(frozen=True)
class Outgoing:
    topic: str
    payload: bytes
    retain: bool = False


class Dispatcher:
    """Commands to replies and events, one at a time; no MQTT in here, so tests call it."""

    def __init__(self, office: OfficeConfig, store: Store, clock: Clock):
        self.office, self.store, self.clock = office, store, clock
        self.hall: Hall = store.load_hall(office, self._today(clock()))
        self._published: dict[str, bytes] = {}
        # After a restart, too, time does not go back behind the last ticket issued.
        self._last_now: datetime | None = max(
            (t.entry_at for t in self.hall.tickets.values()), default=None)

    def now(self) -> datetime:
        """The office clock, never going back: a clock set back would put new tickets
        before older ones. Time stands still until the clock catches up."""
        now = self.clock().astimezone(self.office.tz)
        if self._last_now is not None and now < self._last_now:
            if (self._last_now - now).total_seconds() > 1:
                log.warning("the clock went back from %s to %s; holding at %s",
                            self._last_now, now, self._last_now)
            return self._last_now
        self._last_now = now
        return now

    def _today(self, now: datetime):  # type: ignore[no-untyped-def]
        return now.astimezone(self.office.tz).date()

    # -- commands -----------------------------------------------------------------------
    def handle(self, topic: str, payload: bytes) -> list[Outgoing]:
        return self.handle_batch([(topic, payload)])

    def handle_batch(self, items: list[tuple[str, bytes]]) -> list[Outgoing]:
        """Commands in one durable commit (group commit), each in its own savepoint.

        Nothing goes out before the commit: if it fails, the hall is rebuilt from the
        database and no reply is sent, so devices retry the same ids later.
        """
        day = self.hall.day
        out: list[Outgoing] = []
        try:
            with self.store.transaction():
                for topic, payload in items:
                    out += self._handle_one(topic, payload)
        except StoreError as exc:
            log.error("%d command(s) not taken, no reply sent: %s", len(items), exc)
            self.hall = self.store.load_hall(self.office, day)
            return []
        return out

    def _handle_one(self, topic: str, payload: bytes) -> list[Outgoing]:
        where = topics.parse_cmd(topic)
        if where is None or where[0] != self.office.id:
            log.warning("ignored a message on %s", topic)
            return []
        _, role, device = where
        reply_topic = topics.reply(self.office.id, role, device)
        try:
            envelope = protocol.parse(role, payload)
        except protocol.Unreadable as exc:
            log.warning("dropped a command from %s/%s: %s", role, device, exc)
            return []
        except Rejected as exc:
            cmd_id = exc.extra.pop("id")
            stored = self.store.stored_reply(role, device, cmd_id)
            if stored is not None:  # an id used before: its first reply, whatever came now
                return [Outgoing(reply_topic, stored)]
            return self._answer_only(role, device, cmd_id, "invalid", reply_topic,
                                     protocol.error_reply(cmd_id, exc.code, exc.detail))
        stored = self.store.stored_reply(role, device, envelope.id)
        if stored is not None:
            return [Outgoing(reply_topic, stored)]
        now = self.now()
        out = self.roll_day(now)
        ctx = handlers.Context(self.office, now, role, device)
        try:
            decision = handlers.decide(self.hall, envelope.command, ctx)
        except Rejected as exc:
            return out + self._answer_only(
                role, device, envelope.id, envelope.type, reply_topic,
                protocol.error_reply(envelope.id, exc.code, exc.detail, **exc.extra))
        try:
            with self.store.transaction():  # a savepoint: this command, all or nothing
                snap, events = self._record(decision.facts, now)
                reply = encode(self._reply(envelope.id, decision, snap))
                self.store.save_reply(role, device, envelope.id, envelope.type, now, reply)
        except StoreError:
            raise
        except Exception:
            # A fault of ours must not leave half a command in memory: the savepoint is
            # rolled back; rebuild from what the database holds (this connection sees the
            # batch so far). No reply: the device's retry gets the same treatment, logged.
            log.exception("command %s from %s/%s failed", envelope.id, role, device)
            self.hall = self.store.load_hall(self.office, self.hall.day)
            return out
        out.append(Outgoing(reply_topic, reply))
        out += [Outgoing(t, body) for _, t, body, _, _ in events if t]
        return out

    def _answer_only(self, role: str, device: str, cmd_id: str, ctype: str, reply_topic: str,
                     reply: dict[str, Any]) -> list[Outgoing]:
        body = encode(reply)
        self.store.save_reply(role, device, cmd_id, ctype, self.now(), body)
        return [Outgoing(reply_topic, body)]

    def _record(self, facts: list[Fact], now: datetime
                ) -> tuple[Snapshot, list[LoggedEvent]]:
        """Apply facts to the hall and the tables, and log their events (inside a
        transaction); the snapshot after them and the events to publish."""
        touched = self._apply(facts)
        snap = Snapshot(self.hall, self.office, now)
        events = self._events(facts, touched, snap)
        for change, _topic, body, ticket, counter in events:
            self.store.append_event(self.hall.day, now, change, ticket, counter, body)
        return snap, events

    def _apply(self, facts: list[Fact]) -> list[Ticket | None]:
        touched = []
        for fact in facts:
            ticket = apply(self.hall, fact)
            self.store.record(self.hall, fact, ticket)
            touched.append(ticket)
        quiet = Issued | BookingAdded | BookingCancelled | BookingMoved | DayClosed
        if any(not isinstance(f, quiet) for f in facts):
            self.store.save_counters(self.hall)  # only facts about calls move counters
        return touched

    def _reply(self, cmd_id: str, decision: handlers.Decision, snap: Snapshot) -> dict[str, Any]:
        ticket = (snap.ticket(self.hall.tickets[decision.ticket]) if decision.ticket else None)
        if decision.error:
            return protocol.error_reply(cmd_id, decision.error, ticket=ticket)
        fields = dict(decision.extra)
        if decision.show_ticket:
            fields["ticket"] = ticket
        return protocol.ok_reply(cmd_id, **fields)

    def _events(self, facts: list[Fact], touched: list[Ticket | None], snap: Snapshot
                ) -> list[LoggedEvent]:
        """(change, topic or None for the log only, body, ticket, counter) per fact."""
        o = self.office
        out: list[LoggedEvent] = []
        for fact, ticket in zip(facts, touched, strict=True):
            at = stamp(getattr(fact, "at", None) or snap.now, o)
            change: str
            match fact:
                case Issued(change=change):
                    pass
                case Called(recall=recall, counter=cid):
                    call = {"v": VERSION, "ticket": fact.number, "counter": cid,
                            "counter_name": o.counters[cid].name,
                            "kind": "recall" if recall else "call", "at": at}
                    out.append(("recalled" if recall else "call", topics.event_call(o.id),
                                encode(call), fact.number, cid))
                    if recall:
                        continue
                    change = "called"
                case Closed(status=status):
                    change = str(status)
                case Transferred():
                    change = "transferred"
                case BookingCancelled(booking=b) | BookingAdded(booking=b) | BookingMoved(
                        booking=b):
                    change = {BookingCancelled: "cancelled", BookingAdded: "booked",
                              BookingMoved: "moved"}[type(fact)]
                    body = {"v": VERSION, "ticket": None, "change": change, "at": at,
                            "booking": {"id": b.id, "service": b.service,
                                        "start": stamp(b.start, o), "end": stamp(b.end, o)}}
                    if isinstance(fact, BookingCancelled):
                        body["reason"] = fact.reason
                    out.append((change, topics.event_ticket(o.id), encode(body), None, None))
                    continue
                case CounterSet(status=status, counter=cid):
                    out.append((f"counter_{status}", None, encode({"v": VERSION, "at": at}),
                                None, cid))
                    continue
                case DayClosed():
                    out.append(("day_closed", None, encode({"v": VERSION, "at": at}), None, None))
                    continue
            assert ticket is not None
            body = {"v": VERSION, "ticket": snap.ticket(ticket), "change": change, "at": at}
            out.append((change, topics.event_ticket(o.id), encode(body), ticket.number,
                        ticket.counter))
        return out

    # -- the day ------------------------------------------------------------------------
    def roll_day(self, now: datetime) -> list[Outgoing]:
        """A new day: close what yesterday left open, start numbering again."""
        today = self._today(now)
        if today == self.hall.day:
            return []
        facts: list[Fact] = [Closed(t.number, Status.DONE, now)
                             for t in self.hall.tickets.values() if t.status is Status.SERVING]
        facts += handlers.end_of_day(self.hall, now)
        out: list[Outgoing] = []
        if facts:
            with self.store.transaction():
                _, events = self._record(facts, now)
            out = [Outgoing(t, body) for _, t, body, _, _ in events if t]
        log.info("day %s closed, day %s begins", self.hall.day, today)
        self.hall = self.store.load_hall(self.office, today)
        return out

    # -- retained state -----------------------------------------------------------------
    def state(self, force: bool = False) -> list[Outgoing]:
        """Retained state that changed since last time (all of it when forced)."""
        now = self.now()
        snap = Snapshot(self.hall, self.office, now)
        o = self.office.id
        messages = {topics.state_config(o): config_view(self.office),
                    topics.state_board(o): snap.board(), topics.state_order(o): snap.order()}
        for cid in self.office.counters:
            messages[topics.state_counter(o, cid)] = snap.counter(cid)
        out = []
        for topic, message in messages.items():
            stable = json.dumps({k: v for k, v in message.items() if k != "at"},
                                sort_keys=True).encode()
            if force or self._published.get(topic) != stable:
                self._published[topic] = stable
                out.append(Outgoing(topic, encode(message), retain=True))
        return out


class DispatcherService:
    """The dispatcher on MQTT: one worker thread owns the hall; paho's thread only enqueues."""

    def __init__(self, dispatcher: Dispatcher, link_factory: Any):
        self.dispatcher = dispatcher
        self.inbox: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._republish = threading.Event()
        self._stop = threading.Event()
        o = dispatcher.office.id
        self.link = link_factory(on_connect=self._on_connect, presence_detail=self._presence)
        self.link.subscribe(topics.cmd_filter(o), lambda t, p: self.inbox.put((t, p)))
        self.worker = threading.Thread(target=self._run, name="dispatcher", daemon=True)

    def _presence(self) -> dict[str, Any]:
        return {"day": self.dispatcher.hall.day.isoformat()}

    def _on_connect(self) -> None:
        self._republish.set()
        self.inbox.put(None)  # wake the worker: it republishes everything

    def start(self) -> DispatcherService:
        self.worker.start()
        self.link.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.inbox.put(None)
        self.worker.join(5)
        self.link.stop()

    def _publish(self, messages: list[Outgoing]) -> None:
        for m in messages:
            self.link.publish(m.topic, m.payload, retain=m.retain)

    def _run(self) -> None:
        d = self.dispatcher
        last_state, pending = 0.0, False
        while not self._stop.is_set():
            wait = STATE_MIN_GAP_S - (time.monotonic() - last_state) if pending else 1.0
            try:
                item = self.inbox.get(timeout=max(wait, 0.001))
            except queue.Empty:
                item = None
            try:
                if item is not None:
                    batch = [item]
                    while len(batch) < BATCH_MAX:
                        try:
                            more = self.inbox.get_nowait()
                        except queue.Empty:
                            break
                        if more is None:
                            self.inbox.put(None)
                            break
                        batch.append(more)
                    self._publish(d.handle_batch(batch))
                    pending = True
                since = time.monotonic() - last_state
                if self._republish.is_set():
                    self._republish.clear()
                    self._publish(d.state(force=True))
                    last_state, pending = time.monotonic(), False
                elif (pending and since >= STATE_MIN_GAP_S) or since > STATE_REFRESH_S:
                    # A burst of commands is coalesced into one state update.
                    self._publish(d.roll_day(d.now()) + d.state())
                    last_state, pending = time.monotonic(), False
            except Exception:
                log.exception("the dispatcher failed on a command; going on")
