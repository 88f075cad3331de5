"""Command handlers: the hall and one command in, facts out. No I/O, the clock passed in.

A handler never changes the hall; it raises Rejected or returns a Decision whose facts the
caller stores, applies and publishes.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from motcua import calendar, officers, protocol, tokens, waits
from motcua.bookings import BookingRefused, check_change, check_new, resolve_service
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
)
from motcua.model import Booking, CounterStatus, Hall, Kind, Status, Ticket
from motcua.policy import arrival_for, callable_at
from motcua.protocol import Rejected
from motcua.views import booking_info


@dataclass(frozen=True)
class Context:
    office: OfficeConfig
    now: datetime  # aware, office time zone
    role: str
    device: str
    # (officer, pin) -> the officer, or None: officers.verify, or the answer checked ahead
    pins: Callable[[str, str], officers.Officer | None] | None = None


@dataclass
class Decision:
    facts: list[Fact] = field(default_factory=list)
    ticket: str | None = None  # the ticket number the reply shows
    show_ticket: bool = False  # whether the reply carries "ticket" (null when ticket is None)
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # an error reply that still shows `ticket` (already_checked_in)


def _new_ticket(hall: Hall, prefix: str, **fields: Any) -> Ticket:
    number = f"{prefix}{hall.last_number.get(prefix, 0) + 1:03d}"
    return Ticket(number=number, seq=hall.seq + 1, **fields)


def _require_open(hall: Hall, ctx: Context) -> None:
    if hall.closed or not calendar.is_open(ctx.office, ctx.now):
        opening = calendar.next_opening(ctx.office, ctx.now) if not hall.closed else None
        extra = {"opens_at": opening.isoformat(timespec="minutes")} if opening else {}
        raise Rejected("office_closed", **extra)


def walk_in(hall: Hall, cmd: protocol.WalkIn, ctx: Context) -> Decision:
    if cmd.service not in ctx.office.services:
        raise Rejected("unknown_service", cmd.service)
    _require_open(hall, ctx)
    prefix = ctx.office.services[cmd.service].prefix
    ticket = _new_ticket(hall, prefix, service=cmd.service, kind=Kind.WALK_IN,
                         issued_at=ctx.now, entry_at=ctx.now,
                         priority=cmd.priority and ctx.office.kiosk.priority_button)
    return Decision([Issued(ticket)], ticket.number, True)


def _wrong_date(day: date) -> Rejected:
    return Rejected("wrong_date", str(day), booking_date=day.isoformat())


def check_in(hall: Hall, cmd: protocol.CheckIn, ctx: Context) -> Decision:
    office = ctx.office
    today = ctx.now.date()
    try:
        booking = tokens.verify(cmd.token, office.booking.keys, office.id, today,
                                office.tz).booking
    except tokens.TokenError as exc:
        known = hall.bookings.get(exc.booking.id) if exc.booking else None
        if exc.code != "wrong_date" or known is None:
            extra = {"booking_date": exc.booking_date.isoformat()} if exc.booking_date else {}
            raise Rejected(exc.code, exc.detail, **extra) from exc
        if known.start.astimezone(office.tz).date() != today:
            raise _wrong_date(known.start.astimezone(office.tz).date()) from exc
        booking = known  # moved to today: the old QR code still identifies it
    if booking.id in hall.moved_away:
        raise _wrong_date(hall.moved_away[booking.id])
    # A booking the office knows is what the office says it is (moved slots included).
    booking = hall.bookings.get(booking.id, booking)
    service = resolve_service(office, booking.service)
    if service is None:
        raise Rejected("unknown_service", booking.service)
    booking = dataclasses.replace(booking, service=service)
    if booking.id in hall.cancelled:
        raise Rejected("booking_cancelled", booking.id)
    if booking.id in hall.checked_in:
        return Decision([], hall.checked_in[booking.id], True, error="already_checked_in")
    _require_open(hall, ctx)
    ticket = _new_ticket(hall, office.booking.ticket_prefix, service=booking.service,
                         kind=Kind.BOOKING, issued_at=ctx.now, entry_at=ctx.now,
                         booking=booking, arrival=arrival_for(booking, ctx.now, office.booking))
    return Decision([Issued(ticket, "checked_in")], ticket.number, True)


def _counter(hall: Hall, ctx: Context) -> str:
    if ctx.device not in ctx.office.counters:
        raise Rejected("unknown_counter", ctx.device)
    return ctx.device


def _current(hall: Hall, ctx: Context) -> str:
    current = hall.counters[_counter(hall, ctx)].current
    if current is None:
        raise Rejected("no_current_ticket")
    return current


def _close_current(hall: Hall, cid: str, ctx: Context) -> list[Fact]:
    current = hall.counters[cid].current
    return [Closed(current, Status.DONE, ctx.now)] if current else []


def _require_not_paused(hall: Hall, cid: str) -> None:
    if hall.counters[cid].status is CounterStatus.PAUSED:
        raise Rejected("counter_paused")


def call_next(hall: Hall, cmd: protocol.Next, ctx: Context) -> Decision:
    cid = _counter(hall, ctx)
    _require_not_paused(hall, cid)
    facts = _close_current(hall, cid, ctx)
    candidates = callable_at(hall, ctx.office, cid, ctx.now, first_only=True)
    if not candidates:
        return Decision(facts, None, True)
    first = candidates[0].number
    return Decision([*facts, Called(first, cid, ctx.now)], first, True)


def recall(hall: Hall, cmd: protocol.Recall, ctx: Context) -> Decision:
    current = _current(hall, ctx)
    return Decision([Called(current, ctx.device, ctx.now, recall=True)], current, True)


def done(hall: Hall, cmd: protocol.Done, ctx: Context) -> Decision:
    current = _current(hall, ctx)
    return Decision([Closed(current, Status.DONE, ctx.now)], current, True)


def no_show(hall: Hall, cmd: protocol.NoShow, ctx: Context) -> Decision:
    current = _current(hall, ctx)
    return Decision([Closed(current, Status.NO_SHOW, ctx.now)], current, True)


def call_number(hall: Hall, cmd: protocol.Call, ctx: Context) -> Decision:
    cid = _counter(hall, ctx)
    _require_not_paused(hall, cid)
    ticket = hall.tickets.get(cmd.ticket)
    if ticket is None or ticket.status not in (Status.WAITING, Status.NO_SHOW):
        raise Rejected("unknown_ticket", cmd.ticket)
    facts = _close_current(hall, cid, ctx)
    return Decision([*facts, Called(ticket.number, cid, ctx.now)], ticket.number, True)


def transfer(hall: Hall, cmd: protocol.Transfer, ctx: Context) -> Decision:
    current = _current(hall, ctx)
    if cmd.service is not None and cmd.service not in ctx.office.services:
        raise Rejected("unknown_service", cmd.service)
    if cmd.counter is not None:
        if cmd.counter not in ctx.office.counters:
            raise Rejected("unknown_counter", cmd.counter)
        if cmd.counter == ctx.device:
            raise Rejected("bad_request", "cannot transfer a ticket to its own counter")
    fact = Transferred(current, ctx.now, service=cmd.service, counter=cmd.counter)
    return Decision([fact], current, True)


def refuse(hall: Hall, cmd: protocol.Refuse, ctx: Context) -> Decision:
    current = _current(hall, ctx)
    fact = Closed(current, Status.REFUSED, ctx.now, reason=cmd.reason, guidance=cmd.guidance)
    return Decision([fact], current, True)


def verify(hall: Hall, cmd: protocol.Verify, ctx: Context) -> Decision:
    """The officer's chip ID / fingerprint check: of the ticket this counter serves, once."""
    current = _current(hall, ctx)
    if cmd.ticket != current:
        raise Rejected("not_serving_ticket", cmd.ticket)
    ticket = hall.tickets[current]
    service = ctx.office.services.get(ticket.service)
    if service is None or not service.requires:
        raise Rejected("check_not_required", ticket.service)
    if ticket.checked is not None:
        raise Rejected("already_checked", current)
    fact = Checked(current, ctx.device, ctx.now, cmd.verified, cmd.reason,
                   officer=hall.counters[ctx.device].officer)
    return Decision([fact], current, True)


def overdue(hall: Hall, office: OfficeConfig, now: datetime) -> list[Fact]:
    """Waiting tickets never called whose wait passed the office's target by `now`, each
    once (a ticket keeps its `overdue_at`), dated when it passed it. The clock alone makes
    these: the dispatcher asks at every tick."""
    if hall.closed:
        return []
    target = timedelta(minutes=office.wait_target_min)
    found = []
    for t in hall.queue.values():
        if t.overdue_at is not None or t.called_at is not None:
            continue  # said already, or seen at a counter (a transfer waits again)
        passed = waits.wait_start(t) + target
        if passed <= now:
            found.append((passed, t.seq, t.number))
    return [Overdue(number, passed) for passed, _, number in sorted(found)]


def pause(hall: Hall, cmd: protocol.Pause, ctx: Context) -> Decision:
    cid = _counter(hall, ctx)
    return Decision([CounterSet(cid, CounterStatus.PAUSED, ctx.now)], hall.counters[cid].current)


def resume(hall: Hall, cmd: protocol.Resume, ctx: Context) -> Decision:
    cid = _counter(hall, ctx)
    return Decision([CounterSet(cid, CounterStatus.OPEN, ctx.now)], hall.counters[cid].current)


def sign_in(hall: Hall, cmd: protocol.SignIn, ctx: Context) -> Decision:
    """An officer takes a counter: signed out of any other counter, and whoever was signed
    in here is signed out. Wrong PINs are facts, so a lock holds across restarts."""
    cid = _counter(hall, ctx)
    if not ctx.office.officers:
        raise Rejected("bad_request", "this office has no officers to sign in")
    for key in (f"officer:{cmd.officer}", f"counter:{cid}"):
        until = officers.locked(hall.failed_sign_ins.get(key, []), ctx.now)
        if until is not None:
            raise Rejected("locked", retry_after=math.ceil((until - ctx.now).total_seconds()),
                           until=until.isoformat(timespec="seconds"))
    officer = (ctx.pins(cmd.officer, cmd.pin) if ctx.pins is not None
               else officers.verify(ctx.office, cmd.officer, cmd.pin))
    if officer is None or "counter" not in officer.roles:
        return Decision([SignInFailed(cid, cmd.officer, ctx.now)], error="bad_pin")
    here = hall.counters[cid]
    if here.officer == officer.code:
        return Decision([], here.current, extra=_officer(ctx, officer.code))
    facts: list[Fact] = [SignedOut(c.id, officer.code, ctx.now, "moved")
                         for c in hall.counters.values() if c.officer == officer.code]
    if here.officer is not None:
        facts.append(SignedOut(cid, here.officer, ctx.now))
    facts.append(SignedIn(cid, officer.code, ctx.now))
    return Decision(facts, here.current, extra=_officer(ctx, officer.code))


def _officer(ctx: Context, code: str) -> dict[str, Any]:
    return {"officer": {"code": code, "name": ctx.office.officers[code].name}}


def sign_out(hall: Hall, cmd: protocol.SignOut, ctx: Context) -> Decision:
    """The officer leaves the counter; a ticket still being served is finished or
    transferred first, so that nobody is left at a counter nobody is behind."""
    cid = _counter(hall, ctx)
    here = hall.counters[cid]
    if here.officer is None:
        return Decision([])
    if here.current is not None:
        raise Rejected("still_serving", here.current)
    return Decision([SignedOut(cid, here.officer, ctx.now)])


def last_served(hall: Hall, cid: str) -> Ticket | None:
    """The ticket whose service ended last at this counter (done, no-show or refused): the
    citizen who just left the counter, even when `next` has called someone already."""
    ended = [t for t in hall.tickets.values() if t.counter == cid and t.closed_at is not None
             and t.status in (Status.DONE, Status.NO_SHOW, Status.REFUSED)]
    return max(ended, key=lambda t: (t.closed_at, t.seq)) if ended else None


def rate(hall: Hall, cmd: protocol.Rate, ctx: Context) -> Decision:
    """A citizen rates a service that ended as done, once, within [rating] window_minutes.
    The rating screen of a counter rates only the ticket whose service ended there last
    (the citizen in front of it just had it); a relay for the ticket's holder (the web
    service) rates the ticket it names, wherever it was served."""
    t = hall.tickets.get(cmd.ticket)
    if ctx.role == "rating":
        cid = _counter(hall, ctx)
        last = last_served(hall, cid)
        if t is None or last is None or last.number != t.number:
            raise Rejected("not_rateable", f"{cmd.ticket} is not the last ticket served at "
                                           f"counter {cid}")
    if t is None or t.status is not Status.DONE or t.closed_at is None or t.counter is None:
        raise Rejected("not_rateable", f"{cmd.ticket} is not a service that ended as done")
    if t.number in hall.ratings:
        raise Rejected("already_rated", t.number)
    if ctx.now - t.closed_at > timedelta(minutes=ctx.office.rating.window_minutes):
        raise Rejected("rating_closed", f"{t.number} ended at {t.closed_at:%H:%M}")
    return Decision([Rated(t.number, t.counter, t.officer, t.service, cmd.level, ctx.now)],
                    t.number, True)


def close_day(hall: Hall, cmd: protocol.CloseDay, ctx: Context) -> Decision:
    return Decision(end_of_day(hall, ctx.now), extra={"day": hall.day.isoformat()})


def _refused(exc: BookingRefused) -> Rejected:
    if exc.reason == "slot_full":
        return Rejected("slot_full", exc.message_en, message=(exc.message, exc.message_en),
                        free_slots=[s.isoformat(timespec="minutes") for s in exc.free_slots])
    return Rejected("invalid_booking", exc.message_en, message=(exc.message, exc.message_en),
                    reason=exc.reason)


def _free_booking_id(hall: Hall, year: int) -> str:
    """The next BK-{year}-{NNNNNN} nobody has used (an admin may have given one by hand)."""
    n = len(hall.booking_ids) + 1
    while f"BK-{year}-{n:06d}" in hall.booking_ids:
        n += 1
    return f"BK-{year}-{n:06d}"


def booking_add(hall: Hall, cmd: protocol.BookingAdd, ctx: Context) -> Decision:
    office = ctx.office
    service = resolve_service(office, cmd.service)
    if service is None:
        raise Rejected("unknown_service", cmd.service)
    start = cmd.start.astimezone(office.tz)
    end = start + timedelta(minutes=office.booking.slot_minutes)
    if cmd.end is not None and cmd.end != end:
        raise Rejected("bad_request", f"'end' must be start + {office.booking.slot_minutes} min")
    booking_id = cmd.id or _free_booking_id(hall, start.year)
    booking = Booking(booking_id, service, start, end, cmd.name)
    # Any id ever recorded is taken: cancelled, past and checked-in bookings included.
    if booking_id in hall.booking_ids or booking_id in hall.bookings or (
            booking_id in hall.checked_in):
        raise Rejected("booking_exists", booking_id)
    if start <= ctx.now:
        raise _refused(BookingRefused("in_the_past"))
    try:
        check_new(office, start, cmd.made_on or ctx.now.date(), hall.bookings.values())
    except BookingRefused as exc:
        raise _refused(exc) from exc
    return Decision([BookingAdded(booking, ctx.now, cmd.made_on or ctx.now.date())],
                    extra={"booking": booking_info(booking, office, with_name=True)})


def _known(hall: Hall, booking_id: str) -> Booking:
    if booking_id not in hall.bookings:
        raise Rejected("unknown_booking", booking_id)
    return hall.bookings[booking_id]


def booking_cancel(hall: Hall, cmd: protocol.BookingCancel, ctx: Context) -> Decision:
    booking = _known(hall, cmd.id)
    try:
        check_change(ctx.office, booking, ctx.now.date())
    except BookingRefused as exc:
        raise _refused(exc) from exc
    return Decision([BookingCancelled(booking, ctx.now, "cancelled")],
                    extra={"booking": booking_info(booking, ctx.office, with_name=True)})


def booking_move(hall: Hall, cmd: protocol.BookingMove, ctx: Context) -> Decision:
    office = ctx.office
    booking = _known(hall, cmd.id)
    start = cmd.start.astimezone(office.tz)
    moved = dataclasses.replace(booking, start=start,
                                end=start + timedelta(minutes=office.booking.slot_minutes))
    others = [b for b in hall.bookings.values() if b.id != booking.id]
    try:
        check_change(office, booking, ctx.now.date())
        if start <= ctx.now:
            raise BookingRefused("in_the_past")
        check_new(office, start, ctx.now.date(), others)
    except BookingRefused as exc:
        raise _refused(exc) from exc
    return Decision([BookingMoved(moved, booking, ctx.now)],
                    extra={"booking": booking_info(moved, office, with_name=True)})


def end_of_day(hall: Hall, at: datetime) -> list[Fact]:
    """Every ticket is closed: those at a counter as done (their service ended with the
    day), waiting ones as unserved; never-checked-in bookings are cancelled."""
    if hall.closed:
        return []
    by_seq = sorted(hall.tickets.values(), key=lambda t: t.seq)
    facts: list[Fact] = [Closed(t.number, Status.DONE, at) for t in by_seq
                         if t.status is Status.SERVING]
    facts += [Closed(t.number, Status.UNSERVED, at) for t in by_seq
              if t.status is Status.WAITING]
    facts += [BookingCancelled(b, at) for b in hall.bookings.values()
              if b.start.date() == hall.day and b.id not in hall.checked_in
              and b.id not in hall.cancelled]
    facts += [SignedOut(c.id, c.officer, at, "day_closed") for c in hall.counters.values()
              if c.officer is not None]
    return [*facts, DayClosed(at)]


HANDLERS: dict[type, Callable[[Hall, Any, Context], Decision]] = {
    protocol.WalkIn: walk_in,
    protocol.CheckIn: check_in,
    protocol.Next: call_next,
    protocol.Recall: recall,
    protocol.Done: done,
    protocol.NoShow: no_show,
    protocol.Call: call_number,
    protocol.Transfer: transfer,
    protocol.Refuse: refuse,
    protocol.Verify: verify,
    protocol.Pause: pause,
    protocol.Resume: resume,
    protocol.SignIn: sign_in,
    protocol.SignOut: sign_out,
    protocol.Rate: rate,
    protocol.CloseDay: close_day,
    protocol.BookingAdd: booking_add,
    protocol.BookingCancel: booking_cancel,
    protocol.BookingMove: booking_move,
}


def decide(hall: Hall, command: protocol.Command, ctx: Context) -> Decision:
    if (ctx.role == "counter" and ctx.office.officers
            and not isinstance(command, protocol.SignIn | protocol.SignOut)
            and ctx.device in hall.counters and hall.counters[ctx.device].officer is None):
        raise Rejected("not_signed_in", ctx.device)
    return HANDLERS[type(command)](hall, command, ctx)
