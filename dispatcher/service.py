"""The office's one writer: a command in, the core decides, SQLite commits, then it publishes."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, assert_never

from dispatcher.store import StorageUnavailable, Store
from motcua import handlers, officers, protocol, topics
from motcua.clock import Clock
from motcua.config import OfficeConfig
from motcua.facts import (
    BookingAdded,
    BookingCancelled,
    BookingMoved,
    Called,
    Checked,
    Closed,
    CounterSet,
    DayClosed,
    Fact,
    Issued,
    Overdue,
    Rated,
    SignedIn,
    SignedOut,
    SignInFailed,
    Transferred,
    apply,
)
from motcua.model import Hall, Ticket
from motcua.protocol import Rejected, encode
from motcua.protocol import messages as m
from motcua.views import Snapshot, booking_info, office_info, stamp

log = logging.getLogger(__name__)

# (change, topic or None for the log only, body, ticket number, counter id)
LoggedEvent = tuple[str, str | None, bytes, str | None, str | None]

STATE_REFRESH_S = 5.0  # tiers change with the clock alone (a booking window opens)
STATE_MIN_GAP_S = 0.05  # under a burst, state goes out at most this often
BATCH_MAX = 64  # commands waiting together share one commit (one fsync)
LIMITED_REPLY_GAP_S = 1.0  # a device over its limit is told so at most this often
STATE_SHARE = 5.0  # the gap between state updates: at least 5x the time one takes
OVERDUE_PER_TICK = 200  # overdue waits recorded in one tick (~0.3 ms each, one commit)


@dataclass(frozen=True)
class Outgoing:
    topic: str
    payload: bytes
    retain: bool = False
    qos: int = 1  # 0 for answers to a flood: they must not hold up other devices' replies


class Dispatcher:
    """Commands to replies and events, one at a time; no MQTT in here, so tests call it."""

    def __init__(self, office: OfficeConfig, store: Store, clock: Clock,
                 ticks: Callable[[], float] = time.monotonic):
        self.office, self.store, self.clock = office, store, clock
        store.claim(office.id)  # a database of another office is refused
        self.hall: Hall = store.load_hall(office, self._today(clock()))
        self._published: dict[str, bytes] = {}
        # After a restart, too, time does not go back behind the last ticket issued.
        self._last_now: datetime | None = max(
            (t.entry_at for t in self.hall.tickets.values()), default=None)
        self._clock_held = False
        self.ticks = ticks  # for the per-device limits: seconds that never jump
        self._buckets: dict[tuple[str, str], list[float]] = {}
        self._told_limited: dict[tuple[str, str], float] = {}
        # None while the database works; what is wrong with it otherwise (said in presence).
        self.storage_problem: str | None = None
        self._lost = False  # the file was deleted or replaced: never written again
        self.pins = officers.PinChecks(office)  # sign-ins' PINs, checked off the writer
        self._prune(self.now())

    def _prune(self, now: datetime) -> None:
        """Forget command replies older than `keep_command_days` (a flood of distinct ids
        must not grow the disk without end)."""
        try:
            pruned = self.store.prune_commands(
                now - timedelta(days=self.office.keep_command_days))
        except Exception as exc:  # a read-only disk: said, and tried again tomorrow
            log.warning("could not forget old command replies: %s", exc)
            return
        if pruned:
            log.info("forgot %d command replies older than %d days", pruned,
                     self.office.keep_command_days)

    def now(self) -> datetime:
        """The office clock, never going back: a clock set back would put new tickets
        before older ones. Time stands still until the clock catches up."""
        now = self.clock().astimezone(self.office.tz)
        if self._last_now is not None and now < self._last_now:
            if (self._last_now - now).total_seconds() > 1 and not self._clock_held:
                self._clock_held = True  # said once, not at every reading
                log.warning("the clock went back from %s to %s; holding at %s until it "
                            "catches up", self._last_now, now, self._last_now)
            return self._last_now
        if self._clock_held:
            self._clock_held = False
            log.info("the clock caught up at %s", now)
        self._last_now = now
        return now

    def _today(self, now: datetime):  # type: ignore[no-untyped-def]
        return now.astimezone(self.office.tz).date()

    # -- commands -----------------------------------------------------------------------
    def handle(self, topic: str, payload: bytes) -> list[Outgoing]:
        return self.handle_batch([(topic, payload)])

    def handle_batch(self, items: list[tuple[str, bytes]]) -> list[Outgoing]:
        """Commands in one durable commit (group commit), each in its own savepoint.

        Each command fails alone: whatever goes wrong with one (its body, its handling, its
        reply, its rows) rolls back its savepoint only, and it is answered `bad_request`.
        Nothing goes out before the commit; if the storage itself fails, nothing is kept,
        the hall is rebuilt from the database, and every command is answered
        `storage_unavailable` (not remembered: the device's retry may succeed later).
        """
        day = self.hall.day
        if self._lost or not self._storage_ok():
            return self._unavailable(items)
        out: list[Outgoing] = []
        try:
            with self.store.transaction():
                for topic, payload in items:
                    if not self._flooding(topic):
                        out += self._isolated(topic, payload)
        except StorageUnavailable as exc:
            log.error("%d command(s) not taken: %s", len(items), exc)
            self.storage_problem = str(exc)
            self._rebuild(day)
            return self._unavailable(items)
        self.storage_problem = None
        return out

    def _storage_ok(self) -> bool:
        try:
            self.store.check_file()
        except StorageUnavailable as exc:
            self._lost = True
            self.storage_problem = str(exc)
            log.error("%s: taking no more commands; restore the database from its backup "
                      "and restart the dispatcher", exc)
            return False
        return True

    def _rebuild(self, day: Any) -> None:
        """The hall again from what the database holds (after a rollback)."""
        try:
            self.hall = self.store.load_hall(self.office, day)
        except Exception as exc:  # the database cannot even be read: take nothing more
            log.exception("cannot rebuild the hall from the database")
            self._lost = True
            self.storage_problem = f"cannot read the database: {exc}"

    def _sender(self, topic: str, payload: bytes) -> tuple[str, str, str] | None:
        """(role, device, command id) of a command of this office that can be answered."""
        where = topics.parse_cmd(topic)
        cmd_id = protocol.read_id(payload)
        if where is None or where[0] != self.office.id or cmd_id is None:
            return None
        return where[1], where[2], cmd_id

    def _unavailable(self, items: list[tuple[str, bytes]]) -> list[Outgoing]:
        out = []
        for topic, payload in items:
            if sender := self._sender(topic, payload):
                role, device, cmd_id = sender
                body = encode(m.error_reply(cmd_id, "storage_unavailable"))
                out.append(Outgoing(topics.reply(self.office.id, role, device), body))
        return out

    def _isolated(self, topic: str, payload: bytes) -> list[Outgoing]:
        """One command in its own savepoint; any fault but the storage's stays with it."""
        day = self.hall.day  # as the commands before it left it (a day may have rolled)
        try:
            with self.store.transaction():
                return self._handle_one(topic, payload)
        except StorageUnavailable:
            raise
        except Exception:
            sender = self._sender(topic, payload)
            log.exception("a command on %s failed alone (%s)", topic, sender)
            # Its savepoint is rolled back; memory goes back to what the database holds
            # (this connection sees the batch so far).
            self._rebuild(day)
            if sender is None:
                return []
            role, device, cmd_id = sender
            reply = m.encode(m.error_reply(  # ids are ASCII: always encodable
                cmd_id, "bad_request", "this command could not be processed"))
            try:
                with self.store.transaction():
                    self.store.save_reply(role, device, cmd_id, "invalid", self.now(), reply)
            except StorageUnavailable:
                raise
            except Exception:
                log.exception("could not keep the reply to %s", cmd_id)
            return [Outgoing(topics.reply(self.office.id, role, device), reply)]

    def _flooding(self, topic: str) -> bool:
        """A device told `rate_limited` within the last second, still over its limit: its
        command is dropped before it costs anything (no parsing, no savepoint), so that a
        flood cannot slow the hall. Such a device has sent more new commands than a person
        can; what it needs it resends."""
        where = topics.parse_cmd(topic)
        if where is None:
            return False
        key = (where[1], where[2])
        told = self._told_limited.get(key)
        if told is None or self.ticks() - told >= LIMITED_REPLY_GAP_S:
            return False
        bucket = self._buckets.get(key)
        return bucket is not None and self._tokens(where[1], bucket) < 1

    def _tokens(self, role: str, bucket: list[float]) -> float:
        """What a device's bucket [tokens, when] holds now, refilled at its role's rate."""
        rate, burst = self.office.limits.rate(role)
        return min(float(burst), bucket[0] + (self.ticks() - bucket[1]) * rate)

    def _limited(self, role: str, device: str) -> float:
        """0 when this device may send a command now, else seconds until it may (a token
        bucket per device: `[limits]` of the office file)."""
        rate, burst = self.office.limits.rate(role)
        if rate <= 0 or burst <= 0:
            return 0.0
        bucket = self._buckets.setdefault((role, device), [float(burst), self.ticks()])
        bucket[:] = [self._tokens(role, bucket), self.ticks()]
        if bucket[0] >= 1:
            bucket[0] -= 1
            return 0.0
        return (1 - bucket[0]) / rate

    def _handle_one(self, topic: str, payload: bytes) -> list[Outgoing]:
        where = topics.parse_cmd(topic)
        if where is None or where[0] != self.office.id:
            log.warning("ignored a message on %s", topic)
            return []
        _, role, device = where
        reply_topic = topics.reply(self.office.id, role, device)
        try:
            envelope = protocol.parse(role, payload)
            cmd_id, rejected = envelope.id, None
        except protocol.Unreadable as exc:
            log.warning("dropped a command from %s/%s: %s", role, device, exc)
            return []
        except Rejected as exc:
            cmd_id, rejected = exc.extra.pop("id"), exc
        stored = self.store.stored_reply(role, device, cmd_id)
        if stored is not None:  # an id used before: its first reply, whatever came now
            return [Outgoing(reply_topic, stored)]
        wait = self._limited(role, device)
        if wait:
            # One answer a second to a device over its limit, sent without acknowledgement:
            # thousands of answers to a flood would queue ahead of the counters' replies.
            last = self._told_limited.get((role, device), -1e9)
            if self.ticks() - last < LIMITED_REPLY_GAP_S:
                return []
            self._told_limited[(role, device)] = self.ticks()
            return [Outgoing(reply_topic, encode(m.error_reply(
                cmd_id, "rate_limited", retry_after=round(wait, 1))), qos=0)]
        if rejected is not None:
            return self._answer_only(role, device, cmd_id, "invalid", reply_topic,
                                     m.error_reply(cmd_id, rejected.code,
                                                          rejected.detail))
        now = self.now()
        out = self.roll_day(now)
        ctx = handlers.Context(self.office, now, role, device, pins=self.pins.verify)
        try:
            decision = handlers.decide(self.hall, envelope.command, ctx)
        except Rejected as exc:
            return out + self._answer_only(
                role, device, envelope.id, envelope.type, reply_topic,
                m.error_reply(envelope.id, exc.code, exc.detail, **exc.extra))
        snap, events = self._record(decision.facts, now)
        # Encoded before the commit: nothing that cannot be sent is stored.
        reply = encode(self._reply(envelope.id, decision, snap))
        self.store.save_reply(role, device, envelope.id, envelope.type, now, reply)
        out.append(Outgoing(reply_topic, reply))
        out += [Outgoing(t, body) for _, t, body, _, _ in events if t]
        return out

    def _answer_only(self, role: str, device: str, cmd_id: str, ctype: str, reply_topic: str,
                     reply: m.Reply) -> list[Outgoing]:
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
        quiet = (Issued | BookingAdded | BookingCancelled | BookingMoved | DayClosed | Overdue
                 | Checked)
        if any(not isinstance(f, quiet) for f in facts):
            self.store.save_counters(self.hall)  # only facts about calls move counters
        return touched

    def _reply(self, cmd_id: str, decision: handlers.Decision, snap: Snapshot) -> m.Reply:
        ticket = (snap.ticket(self.hall.tickets[decision.ticket]) if decision.ticket else None)
        if decision.error:
            return m.error_reply(cmd_id, decision.error, ticket=ticket)
        fields = dict(decision.extra)
        if decision.show_ticket:
            fields["ticket"] = ticket
        return m.ok_reply(cmd_id, **fields)

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
                    call = m.CallEvent(ticket=fact.number, counter=cid,
                                       counter_name=o.counters[cid].name,
                                       kind="recall" if recall else "call", at=at)
                    out.append(("recalled" if recall else "call", topics.event_call(o.id),
                                encode(call), fact.number, cid))
                    if recall:
                        continue
                    change = "called"
                case Closed() | Transferred() | Overdue() | Checked():
                    change = ticket_change(fact)
                case BookingCancelled(booking=b) | BookingAdded(booking=b) | BookingMoved(
                        booking=b):
                    change = {BookingCancelled: "cancelled", BookingAdded: "booked",
                              BookingMoved: "moved"}[type(fact)]
                    event = m.TicketEvent(ticket=None, change=change, at=at,
                                          booking=booking_info(b, o))
                    if isinstance(fact, BookingCancelled):  # `reason` only where there is one
                        event = event.model_copy(update={"reason": fact.reason})
                    out.append((change, topics.event_ticket(o.id), encode(event), None, None))
                    continue
                case CounterSet(status=status, counter=cid):
                    out.append((f"counter_{status}", None, encode(m.Logged(at=at)), None, cid))
                    continue
                case SignedIn(counter=cid, officer=officer):
                    out.append(("signed_in", None, encode(m.Logged(at=at, officer=officer)),
                                None, cid))
                    continue
                case SignedOut(counter=cid, officer=officer, reason=reason):
                    out.append(("signed_out", None, encode(m.Logged(
                        at=at, officer=officer, reason=reason)), None, cid))
                    continue
                case SignInFailed(counter=cid, officer=officer):
                    out.append(("sign_in_failed", None,
                                encode(m.Logged(at=at, officer=officer)), None, cid))
                    continue
                case Rated(counter=cid, officer=officer, level=level, ticket=number):
                    out.append(("rated", None, encode(m.Logged(at=at, officer=officer,
                                                               level=level)), number, cid))
                    continue
                case DayClosed():
                    out.append(("day_closed", None, encode(m.Logged(at=at)), None, None))
                    continue
                case _:
                    assert_never(fact)
            assert ticket is not None
            # Many waits at once (a tick after a restart): places from one ordering.
            event = m.TicketEvent(ticket=snap.ticket(ticket, many=len(facts) > 16),
                                  change=change, at=at)
            out.append((change, topics.event_ticket(o.id), encode(event), ticket.number,
                        ticket.counter))
        return out

    # -- the clock ----------------------------------------------------------------------
    def tick(self) -> list[Outgoing]:
        """What the clock alone changes, with no command: a new day, and waits passing the
        target (`overdue`, once per ticket: it is stored with the ticket, so a restarted
        dispatcher does not say it again). The service calls this every TICK_S."""
        if self._lost or not self._storage_ok():
            return []
        now = self.now()
        out = self.roll_day(now)
        # The longest waits first, a few hundred a tick: after a long stop thousands may be
        # due, and commands must not wait behind them (the rest go out a second later).
        facts = handlers.overdue(self.hall, self.office, now)[:OVERDUE_PER_TICK]
        if not facts:
            return out
        day = self.hall.day
        try:
            with self.store.transaction():
                _, events = self._record(facts, now)
        except Exception as exc:  # nothing of it kept: memory as the database has it
            log.error("overdue waits not recorded (tried again next tick): %s", exc)
            if isinstance(exc, StorageUnavailable):
                self.storage_problem = str(exc)
            self._rebuild(day)
            return out
        self.storage_problem = None  # it wrote: the storage works again
        return out + [Outgoing(t, body) for _, t, body, _, _ in events if t]

    # -- the day ------------------------------------------------------------------------
    def roll_day(self, now: datetime) -> list[Outgoing]:
        """A new day: close what yesterday left open, start numbering again."""
        today = self._today(now)
        if today == self.hall.day:
            return []
        facts: list[Fact] = handlers.end_of_day(self.hall, now)  # closes what was served too
        out: list[Outgoing] = []
        if facts:
            try:
                with self.store.transaction():
                    _, events = self._record(facts, now)
            except Exception:
                self._rebuild(self.hall.day)  # memory as the database has it: yesterday
                raise
            out = [Outgoing(t, body) for _, t, body, _, _ in events if t]
        log.info("day %s closed, day %s begins", self.hall.day, today)
        self.hall = self.store.load_hall(self.office, today)
        self._prune(now)
        return out

    # -- retained state -----------------------------------------------------------------
    def state(self, force: bool = False) -> list[Outgoing]:
        """Retained state that changed since last time (all of it when forced)."""
        now = self.now()
        snap = Snapshot(self.hall, self.office, now)
        o = self.office.id
        messages: dict[str, m.Versioned] = {
            topics.state_config(o): office_info(self.office),
            topics.state_board(o): snap.board(), topics.state_order(o): snap.order()}
        for cid in self.office.counters:
            messages[topics.state_counter(o, cid)] = snap.counter(cid)
        out = []
        for topic, message in messages.items():
            body = message.model_dump(mode="json")
            stable = json.dumps({k: v for k, v in body.items() if k != "at"},
                                sort_keys=True).encode()
            if force or self._published.get(topic) != stable:
                self._published[topic] = stable
                out.append(Outgoing(topic, encode(body), retain=True))
        return out


def ticket_change(fact: Closed | Transferred | Overdue | Checked) -> str:
    """The `change` of event/ticket for a fact about one ticket that is not a call."""
    if isinstance(fact, Closed):
        return str(fact.status)
    if isinstance(fact, Checked):
        return "verified" if fact.verified else "not_verified"
    return "transferred" if isinstance(fact, Transferred) else "overdue"


class FairInbox:
    """Commands waiting, one line per device, taken round-robin: a device's burst never
    delays another device by more than one command; a line longer than `per_device`
    loses its oldest commands (their devices retry)."""

    def __init__(self, per_device: int):
        self.per_device = per_device
        self._lines: OrderedDict[str, deque[tuple[str, bytes]]] = OrderedDict()
        self._cond = threading.Condition()
        self._wake = False
        self.dropped = 0

    def put(self, topic: str, payload: bytes) -> None:
        with self._cond:
            line = self._lines.get(topic)
            if line is None:
                line = self._lines[topic] = deque()
            if len(line) >= self.per_device:
                line.popleft()
                self.dropped += 1
                if self.dropped % 100 == 1:
                    log.warning("%s sends faster than it is served; %d command(s) dropped "
                                "so far", topic, self.dropped)
            line.append((topic, payload))
            self._cond.notify()

    def wake(self) -> None:
        with self._cond:
            self._wake = True
            self._cond.notify()

    def __len__(self) -> int:
        with self._cond:
            return sum(len(line) for line in self._lines.values())

    def take(self, most: int, timeout: float) -> list[tuple[str, bytes]]:
        """Up to `most` commands, one per device in turn; [] after `timeout` or a wake."""
        with self._cond:
            if not self._lines and not self._wake:
                self._cond.wait(timeout)
            self._wake = False
            batch: list[tuple[str, bytes]] = []
            while self._lines and len(batch) < most:
                topic, line = next(iter(self._lines.items()))
                batch.append(line.popleft())
                del self._lines[topic]
                if line:  # to the back of the ring
                    self._lines[topic] = line
            return batch


HEARTBEAT_S = 2.0  # presence republished this often: a second dispatcher sees we are alive
TICK_S = 1.0  # the clock's own changes (overdue waits) are looked for this often


class DispatcherService:
    """The dispatcher on MQTT: one worker thread owns the hall; paho's thread only enqueues."""

    def __init__(self, dispatcher: Dispatcher, link_factory: Any,
                 identity: dict[str, Any] | None = None):
        self.dispatcher = dispatcher
        self.identity = identity or {}
        self.inbox = FairInbox(dispatcher.office.limits.queued_per_device)
        self._republish = threading.Event()
        self._stop = threading.Event()
        o = dispatcher.office.id
        self.link = link_factory(on_connect=self._on_connect, presence_detail=self._presence)
        self.link.subscribe(topics.cmd_filter(o), self._command, on_retained=self._retained)
        self.worker = threading.Thread(target=self._run, name="dispatcher", daemon=True)

    def _command(self, topic: str, payload: bytes) -> None:
        """paho's thread: a command into the inbox; a sign-in only once its PIN is checked,
        on a helper thread (past 8 waiting from one device, or 32 in all, it is dropped: a
        counter sends its own again)."""
        who = officers.sign_in_of(payload)
        if who is None:
            self.inbox.put(topic, payload)
        elif not self.dispatcher.pins.ahead(topic, *who,
                                            then=lambda: self.inbox.put(topic, payload)):
            log.warning("a sign-in on %s dropped: too many PINs being checked", topic)

    def _presence(self) -> dict[str, Any]:
        d = self.dispatcher
        # The fields of protocol.DispatcherDetail, which a starting dispatcher reads.
        return {**self.identity, "day": d.hall.day.isoformat(), "seq": d.hall.seq,
                "storage": "ok" if d.storage_problem is None else "unavailable",
                **({"problem": d.storage_problem[:300]} if d.storage_problem else {})}

    def _retained(self, topic: str, payload: bytes) -> None:
        """A command kept by the broker would come back at every reconnect: never run it,
        clear it (an empty retained message removes it)."""
        if payload:
            log.warning("cleared a retained command on %s (commands are never retained)", topic)
            self.link.publish(topic, b"", retain=True)

    def _on_connect(self) -> None:
        self._republish.set()
        self.inbox.wake()  # the worker republishes everything

    def start(self) -> DispatcherService:
        self.worker.start()
        self.link.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.inbox.wake()
        self.worker.join(5)
        self.link.stop()

    def _publish(self, messages: list[Outgoing]) -> None:
        for out in messages:
            self.link.publish(out.topic, out.payload, retain=out.retain, qos=out.qos)

    def _run(self) -> None:
        d = self.dispatcher
        last_state, pending, beat, ticked = 0.0, False, time.monotonic(), 0.0
        gap = STATE_MIN_GAP_S
        presence = self._presence()
        while not self._stop.is_set():
            wait = gap - (time.monotonic() - last_state) if pending else 1.0
            batch = self.inbox.take(BATCH_MAX, max(min(wait, HEARTBEAT_S), 0.001))
            try:
                if batch:
                    self._publish(d.handle_batch(batch))
                    pending = True
                if time.monotonic() - ticked >= TICK_S:
                    ticked = time.monotonic()
                    if ticks := d.tick():
                        self._publish(ticks)
                        pending = True
                since = time.monotonic() - last_state
                force = self._republish.is_set()
                if force or (pending and since >= gap) or since > STATE_REFRESH_S:
                    # A burst of commands is coalesced into one state update; with a long
                    # queue the state costs more, so it goes out less often: at most a
                    # fifth of the worker's time, whatever the queue (commands first).
                    self._republish.clear()
                    t0 = time.monotonic()
                    self._publish((d.roll_day(d.now()) if not force else []) + d.state(force))
                    last_state, pending = time.monotonic(), False
                    gap = max(STATE_MIN_GAP_S, STATE_SHARE * (last_state - t0))
                now_presence = self._presence()
                if now_presence != presence or time.monotonic() - beat >= HEARTBEAT_S:
                    presence, beat = now_presence, time.monotonic()
                    if self.link.connected.is_set():
                        self.link.publish_presence()
            except Exception:
                log.exception("the dispatcher failed on a command; going on")
