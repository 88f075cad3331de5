"""The BHXH wait metric, one definition for the daily report and the simulator: how long a
citizen waited, which wait group they are counted in, and the 15-minute target.

A wait group is how the statistics split citizens (`on_time`, `late`, `walk_in`); it is not
the ordering's tier (`booking`, `general` in state/order), which says who is called first.
"""

from __future__ import annotations

from datetime import datetime

from motcua.model import Arrival, Kind, Ticket

TARGET_MIN = 15.0  # BHXH plan 2402/KH-BHXH: at most 15 minutes of waiting per transaction

GROUPS = ("on_time", "late", "walk_in")
ALL = "*"  # every group (and every service) together
GROUP_NAMES = {"on_time": "Hẹn đúng giờ / booking on time", "late": "Hẹn trễ / booking late",
               "walk_in": "Vãng lai / walk-in", ALL: "Tất cả / all"}


def wait_since(kind: str, arrival: str | None, issued: datetime,
               start: datetime | None) -> datetime:
    """When a wait starts to count: an on-time booking at its slot start (checking in early
    is not waiting for service), everyone else at the ticket's issue."""
    if kind == Kind.BOOKING and arrival != Arrival.LATE and start is not None:
        return max(issued, start)
    return issued


def wait_start(t: Ticket) -> datetime:
    """When a ticket's wait starts to count (`wait_since` of its fields)."""
    return wait_since(t.kind, t.arrival, t.issued_at, t.booking.start if t.booking else None)


def counted_wait(kind: str, arrival: str | None, issued: datetime, called: datetime,
                 start: datetime | None) -> float:
    """Minutes waited as BHXH counts them (from `wait_since`)."""
    since = wait_since(kind, arrival, issued, start)
    return max(0.0, (called - since).total_seconds() / 60)


def wait_group(kind: str, arrival: str | None) -> str:
    """The group a ticket's wait is counted in: on-time booking, late booking or walk-in."""
    if kind != Kind.BOOKING:
        return "walk_in"
    return "late" if arrival == Arrival.LATE else "on_time"
