"""Expected waits: position in the queue, counters open for the service, recent service times."""

from __future__ import annotations

from collections import Counter as Tally

from motcua.config import OfficeConfig
from motcua.model import CounterStatus, Hall

PRIOR_WEIGHT = 5  # the configured mean counts as this many observed services


def mean_service_minutes(hall: Hall, office: OfficeConfig, service: str) -> float:
    """A moving mean of the last services, pulled towards the configured prior."""
    recent = hall.service_minutes.get(service, ())
    prior = office.booking.mean_service_minutes
    return (prior * PRIOR_WEIGHT + sum(recent)) / (PRIOR_WEIGHT + len(recent))


def waiting_counts(hall: Hall) -> Tally[str]:
    return Tally(hall.waiting_by_service)


def _share(services: tuple[str, ...], service: str, counts: Tally[str]) -> float:
    """The part of a shared counter's time that goes to `service`: in proportion to what
    waits for each of its services, counting one more for the citizen being estimated."""
    total = sum(counts[s] for s in services) + 1
    return (counts[service] + 1) / total


def wait_minutes(hall: Hall, office: OfficeConfig, service: str, ahead: int,
                 counts: Tally[str] | None = None) -> int:
    """Minutes until a citizen with `ahead` people before them is called, rounded."""
    counts = waiting_counts(hall) if counts is None else counts
    serving = [c for c in office.counters.values() if service in c.services]
    open_ = [c for c in serving if hall.counters[c.id].status is CounterStatus.OPEN]
    capacity = sum(_share(c.services, service, counts) for c in (open_ or serving))
    busy = all(hall.counters[c.id].current is not None for c in open_)
    mean = mean_service_minutes(hall, office, service)
    # With every counter busy, the first in line still waits about half a service.
    return round((ahead + (0.5 if busy else 0.0)) * mean / capacity)
