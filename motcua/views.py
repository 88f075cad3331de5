"""The hall as the contract's messages: tickets, board, ordering, counters, office."""

from __future__ import annotations

from collections import Counter as Tally
from datetime import datetime, time, timedelta
from functools import cached_property

from motcua.config import OfficeConfig
from motcua.estimate import board_minutes, ticket_minutes, waiting_counts
from motcua.model import Arrival, Booking, Hall, Status, Ticket
from motcua.policy import Ordering, ahead_of, order
from motcua.protocol import messages as m
from motcua.waits import wait_start

QUEUE_LIMIT = 50
NEXT_LIMIT = 5
OVERDUE_LIMIT = 50  # listed in state/board and state/counter, the longest waits first


def stamp(t: datetime, office: OfficeConfig) -> str:
    return t.astimezone(office.tz).isoformat(timespec="seconds")


def maybe_stamp(t: datetime | None, office: OfficeConfig) -> str | None:
    return stamp(t, office) if t else None


def booking_info(b: Booking, office: OfficeConfig, *, arrival: str | None = None,
                 with_name: bool = False) -> m.BookingInfo:
    """The one JSON shape of a booking. Its name only where asked for (an admin's reply):
    the rest goes to every device of the office."""
    extra: dict[str, str | None] = {}
    if arrival is not None:
        extra["arrival"] = arrival
    if with_name:
        extra["name"] = b.name
    return m.BookingInfo(id=b.id, service=b.service, start=stamp(b.start, office),
                         end=stamp(b.end, office), **extra)


def _queued(t: Ticket, tier: str) -> m.Queued:
    marks = {"priority": True} if t.priority else {}
    if t.arrival is Arrival.LATE:
        marks["late"] = True
    if t.overdue_at is not None and t.called_at is None:
        marks["overdue"] = True
    return m.Queued(ticket=t.number, tier=tier, **marks)


class Snapshot:
    """The ordering and waiting counts of one moment, each computed once, when first needed."""

    def __init__(self, hall: Hall, office: OfficeConfig, now: datetime):
        self.hall, self.office, self.now = hall, office, now

    @cached_property
    def ordering(self) -> Ordering:
        return order(self.hall, self.office, self.now)

    @cached_property
    def counts(self) -> Tally[str]:
        return waiting_counts(self.hall)

    @cached_property
    def places(self) -> dict[str, int]:
        """Each waiting ticket's place in its queue (what ahead_of counts), from the
        ordering at once: for many tickets of one moment (a tick's overdue waits)."""
        return {t.number: i for queue in self.ordering.queues.values()
                for i, (t, _) in enumerate(queue)}

    @cached_property
    def _minutes(self) -> dict[str, int]:
        return {}  # each waiting ticket's estimate, once: the reply and its event share it

    def wait(self, t: Ticket, ahead: int) -> int:
        if t.number not in self._minutes:
            self._minutes[t.number] = ticket_minutes(self.hall, self.office, self.now, t, ahead,
                                                     self.counts)
        return self._minutes[t.number]

    def ticket(self, t: Ticket, many: bool = False) -> m.TicketInfo:
        office = self.office
        waiting = t.status is Status.WAITING
        ahead = 0
        if waiting:
            ahead = (self.places.get(t.number, 0) if many
                     else ahead_of(self.hall, t, self.now, office.booking))
        optional: dict[str, object] = {}
        if t.transferred:
            optional["transferred"] = True
        if t.target_counter:
            optional["target_counter"] = t.target_counter
        if t.closed_at:
            optional["closed_at"] = stamp(t.closed_at, office)
        if t.reason:
            optional["reason"], optional["guidance"] = t.reason, t.guidance
        service = office.services.get(t.service)
        if service is not None and service.requires:
            optional["requires"] = list(service.requires)
        if t.checked is not None and t.checked_at is not None:
            optional["check"] = m.CheckInfo(
                verified=t.checked, at=stamp(t.checked_at, office),
                counter=t.check_counter or t.counter or "",
                **({"reason": t.check_reason} if t.check_reason else {}),
                **({"officer": t.check_officer} if t.check_officer else {}))
        if t.overdue_at is not None:
            optional["overdue_at"] = stamp(t.overdue_at, office)
        if t.officer:
            optional["officer"] = t.officer
        booking = None
        if t.booking is not None:
            booking = booking_info(t.booking, office,
                                   arrival=str(t.arrival) if t.arrival else None)
        info = m.TicketInfo(
            number=t.number, service=t.service, kind=str(t.kind), status=str(t.status),
            issued_at=stamp(t.issued_at, office), priority=t.priority, ahead=ahead,
            est_wait_min=self.wait(t, ahead) if waiting else 0,
            booking=booking, counter=t.counter, called_at=maybe_stamp(t.called_at, office))
        return info.model_copy(update=optional) if optional else info

    @cached_property
    def overdue(self) -> list[tuple[Ticket, m.OverdueInfo]]:
        """Waiting tickets past the target, never called, the longest wait first."""
        late = sorted((t for t in self.hall.queue.values()
                       if t.overdue_at is not None and t.called_at is None),
                      key=lambda t: (wait_start(t), t.seq))
        return [(t, m.OverdueInfo(
            ticket=t.number, service=t.service, since=stamp(wait_start(t), self.office),
            waited_min=max(0, int((self.now - wait_start(t)).total_seconds() // 60))))
            for t in late[:OVERDUE_LIMIT]]

    def board(self) -> m.Board:
        office, hall = self.office, self.hall
        serving = [m.Serving(counter=cid, counter_name=office.counters[cid].name,
                             ticket=c.current, since=maybe_stamp(c.since, office))
                   for cid, c in hall.counters.items() if c.current]
        recent = [m.RecentCall(ticket=n, counter=cid, counter_name=office.counters[cid].name,
                               at=stamp(at, office)) for n, cid, at in hall.recent_calls]
        minutes = board_minutes(hall, office, self.now, self.counts)
        waiting = {code: m.Waiting(count=self.counts[code], est_wait_min=minutes[code])
                   for code in office.services}
        board = m.Board(office=office.id, at=stamp(self.now, office), day=hall.day.isoformat(),
                        seq=hall.seq, closed=hall.closed, serving=serving, recent=recent,
                        waiting=waiting, open=False,
                        counters={cid: self.status(cid) for cid in hall.counters},
                        overdue=[info for _, info in self.overdue])
        return board.model_copy(update=opening(office, hall.closed, self.now))

    def status(self, cid: str) -> str:
        """open or paused; closed when the office signs officers in and nobody is here."""
        c = self.hall.counters[cid]
        if self.hall.closed or (self.office.officers and c.officer is None):
            return "closed"
        return str(c.status)

    def order(self) -> m.Order:
        queues: dict[str, list[m.Queued | m.More]] = {}
        for code, queue in self.ordering.queues.items():
            listed: list[m.Queued | m.More] = [_queued(t, str(k)) for t, k in queue[:QUEUE_LIMIT]]
            if len(queue) > QUEUE_LIMIT:
                listed.append(m.More(more=len(queue) - QUEUE_LIMIT))
            queues[code] = listed
        counters = {cid: m.CounterOrder(
            status=self.status(cid), current=c.current,
            next=[t.number for t in self.ordering.next_at[cid][:NEXT_LIMIT]])
            for cid, c in self.hall.counters.items()}
        return m.Order(at=stamp(self.now, self.office), queues=queues, counters=counters)

    def counter(self, cid: str) -> m.CounterState:
        c = self.hall.counters[cid]
        current = self.ticket(self.hall.tickets[c.current]) if c.current else None
        officer = self.office.officers.get(c.officer) if c.officer else None
        services = self.office.counters[cid].services
        return m.CounterState(counter=cid, status=self.status(cid), current=current,
                              since=maybe_stamp(c.since, self.office),
                              waiting=len(self.ordering.next_at[cid]),
                              next=[t.number for t in self.ordering.next_at[cid][:NEXT_LIMIT]],
                              officer=m.OfficerInfo(code=officer.code, name=officer.name)
                              if officer else None,
                              overdue=[info for t, info in self.overdue
                                       if t.service in services])


def opening(office: OfficeConfig, closed: bool, now: datetime) -> dict[str, object]:
    """The board's `open` and `opens_at`: whether tickets are issued now, else when next
    (a closed day opens again on the next working day)."""
    # Here, not at the top: kiosks import this module for office_info and need no holiday
    # tables (several MB) for that.
    from motcua import calendar

    if not closed and calendar.is_open(office, now):
        return {"open": True}
    after = now
    if closed:
        after = datetime.combine(now.astimezone(office.tz).date() + timedelta(days=1),
                                 time(0), office.tz)
    try:
        return {"open": False, "opens_at": stamp(calendar.next_opening(office, after), office)}
    except ValueError:  # an office that never opens in the coming year
        return {"open": False}


def office_info(office: OfficeConfig) -> m.OfficeInfo:
    return m.OfficeInfo(
        office=office.id, name=office.name, timezone=str(office.tz.key),
        hours=[(s.strftime("%H:%M"), e.strftime("%H:%M")) for s, e in office.hours],
        services=[m.ServiceInfo(code=s.code, name=s.name, name_en=s.name_en, prefix=s.prefix,
                                **({"requires": list(s.requires)} if s.requires else {}))
                  for s in office.services.values()],
        counters=[m.CounterInfo(id=c.id, name=c.name, services=list(c.services),
                                bookings=c.bookings) for c in office.counters.values()],
        booking=m.BookingRulesInfo(ticket_prefix=office.booking.ticket_prefix,
                                   grace_minutes=office.booking.grace_minutes,
                                   call_ahead_minutes=office.booking.call_ahead_minutes),
        kiosk=m.KioskInfo(priority_button=office.kiosk.priority_button,
                          languages=list(office.kiosk.languages)),
        display=m.DisplayInfo(notices=list(office.display.notices)),
        wait_target_min=office.wait_target_min,
        refusals=[m.RefusalInfo(reason=r.reason, guidance=r.guidance) for r in office.refusals],
    )
