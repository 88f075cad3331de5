"""The JSON shapes of PROTOCOL.md: tickets, board, ordering, counters, config."""

from __future__ import annotations

from collections import Counter as Tally
from datetime import datetime
from functools import cached_property
from typing import Any

from motcua.config import OfficeConfig
from motcua.estimate import wait_minutes, waiting_counts
from motcua.model import Hall, Status, Ticket
from motcua.policy import Ordering, ahead_of, order
from motcua.protocol import VERSION

QUEUE_LIMIT = 50
NEXT_LIMIT = 5


def stamp(t: datetime | None, office: OfficeConfig) -> str | None:
    return t.astimezone(office.tz).isoformat(timespec="seconds") if t else None


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

    def ticket(self, t: Ticket) -> dict[str, Any]:
        office = self.office
        waiting = t.status is Status.WAITING
        ahead = ahead_of(self.hall, t, self.now, office.booking) if waiting else 0
        view: dict[str, Any] = {
            "number": t.number, "service": t.service, "kind": str(t.kind),
            "status": str(t.status), "issued_at": stamp(t.issued_at, office),
            "priority": t.priority, "ahead": ahead,
            "est_wait_min": (wait_minutes(self.hall, office, t.service, ahead, self.counts)
                             if waiting else 0),
            "booking": None, "counter": t.counter, "called_at": stamp(t.called_at, office),
        }
        if t.booking is not None:
            view["booking"] = {"id": t.booking.id, "start": stamp(t.booking.start, office),
                               "end": stamp(t.booking.end, office),
                               "arrival": str(t.arrival) if t.arrival else None}
        if t.transferred:
            view["transferred"] = True
        if t.target_counter:
            view["target_counter"] = t.target_counter
        if t.closed_at:
            view["closed_at"] = stamp(t.closed_at, office)
        if t.reason:
            view["reason"], view["guidance"] = t.reason, t.guidance
        return view

    def board(self) -> dict[str, Any]:
        office, hall = self.office, self.hall
        serving = [{"counter": cid, "counter_name": office.counters[cid].name,
                    "ticket": c.current, "since": stamp(c.since, office)}
                   for cid, c in hall.counters.items() if c.current]
        recent = [{"ticket": n, "counter": cid, "counter_name": office.counters[cid].name,
                   "at": stamp(at, office)} for n, cid, at in hall.recent_calls]
        waiting = {code: {"count": self.counts[code],
                          "est_wait_min": wait_minutes(hall, office, code, self.counts[code],
                                                       self.counts)}
                   for code in office.services}
        return {"v": VERSION, "office": office.id, "at": stamp(self.now, office),
                "day": hall.day.isoformat(), "seq": hall.seq, "closed": hall.closed,
                "serving": serving, "recent": recent, "waiting": waiting}

    def order(self) -> dict[str, Any]:
        queues: dict[str, Any] = {}
        for code, queue in self.ordering.queues.items():
            queues[code] = [{"ticket": t.number, "tier": str(k)} for t, k in queue[:QUEUE_LIMIT]]
            if len(queue) > QUEUE_LIMIT:
                queues[code].append({"more": len(queue) - QUEUE_LIMIT})
        counters = {cid: {"status": str(c.status), "current": c.current,
                          "next": [t.number for t in self.ordering.next_at[cid][:NEXT_LIMIT]]}
                    for cid, c in self.hall.counters.items()}
        return {"v": VERSION, "at": stamp(self.now, self.office), "queues": queues,
                "counters": counters}

    def counter(self, cid: str) -> dict[str, Any]:
        c = self.hall.counters[cid]
        current = self.ticket(self.hall.tickets[c.current]) if c.current else None
        return {"v": VERSION, "counter": cid, "status": str(c.status), "current": current,
                "since": stamp(c.since, self.office),
                "waiting": len(self.ordering.next_at[cid]),
                "next": [t.number for t in self.ordering.next_at[cid][:NEXT_LIMIT]]}


def config_view(office: OfficeConfig) -> dict[str, Any]:
    return {
        "v": VERSION, "office": office.id, "name": office.name,
        "timezone": str(office.tz.key),
        "hours": [[s.strftime("%H:%M"), e.strftime("%H:%M")] for s, e in office.hours],
        "services": [{"code": s.code, "name": s.name, "name_en": s.name_en, "prefix": s.prefix}
                     for s in office.services.values()],
        "counters": [{"id": c.id, "name": c.name, "services": list(c.services),
                      "bookings": c.bookings} for c in office.counters.values()],
        "booking": {"ticket_prefix": office.booking.ticket_prefix,
                    "grace_minutes": office.booking.grace_minutes,
                    "call_ahead_minutes": office.booking.call_ahead_minutes},
        "kiosk": {"priority_button": office.kiosk.priority_button,
                  "languages": list(office.kiosk.languages)},
        "display": {"notices": list(office.display.notices)},
    }
