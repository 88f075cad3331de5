"""Drive the pure core by hand: handlers decide, facts apply, a manual clock."""

from __future__ import annotations

from datetime import datetime

from motcua import handlers, protocol
from motcua.clock import ManualClock
from motcua.config import OfficeConfig
from motcua.facts import Called, apply
from motcua.model import CounterState, Hall, Ticket


class Hallway:
    def __init__(self, office: OfficeConfig, now: datetime):
        self.office = office
        self.clock = ManualClock(now)
        self.hall = Hall(day=now.date(), counters={c: CounterState(c) for c in office.counters})
        self.calls: list[tuple[str, str]] = []  # (ticket, counter), in order

    def send(self, role: str, device: str, command: protocol.Command) -> handlers.Decision:
        ctx = handlers.Context(self.office, self.clock(), role, device)
        decision = handlers.decide(self.hall, command, ctx)
        for fact in decision.facts:
            apply(self.hall, fact)
            if isinstance(fact, Called) and not fact.recall:
                self.calls.append((fact.number, fact.counter))
        return decision

    def walk_in(self, service: str = "A", priority: bool = False) -> Ticket:
        d = self.send("kiosk", "k1", protocol.WalkIn(service, priority))
        assert d.ticket
        return self.hall.tickets[d.ticket]

    def check_in(self, token: str) -> Ticket:
        d = self.send("kiosk", "k1", protocol.CheckIn(token))
        assert d.ticket and not d.error
        return self.hall.tickets[d.ticket]

    def next(self, counter: str) -> str | None:
        return self.send("counter", counter, protocol.Next()).ticket

    def at(self, when: datetime) -> None:
        self.clock.now = when
