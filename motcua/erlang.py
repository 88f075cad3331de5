"""Queueing figures: Erlang C (the M/M/c reference) and the wait statistics reports share."""

from __future__ import annotations

import math
from dataclasses import dataclass

from motcua.waits import TARGET_MIN


def _check(servers: int, load: float) -> None:
    if servers < 1 or load < 0:
        raise ValueError(f"need servers >= 1 and load >= 0, got {servers} and {load}")


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of `servers` lines offered `load` erlangs (the stable recursion)."""
    _check(servers, load)
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival has to wait; 1.0 when the load is not below `servers`."""
    _check(servers, load)
    if load >= servers:
        return 1.0
    b = erlang_b(servers, load)
    # From Erlang B rather than factorials: no overflow for hundreds of servers.
    return servers * b / (servers - load * (1 - b))


def mean_wait(servers: int, load: float, service_time: float) -> float:
    """Mean wait in the queue (all arrivals, in the unit of `service_time`); inf if overloaded."""
    if load >= servers:
        return math.inf
    return erlang_c(servers, load) * service_time / (servers - load)


def wait_over(servers: int, load: float, service_time: float, t: float) -> float:
    """P(wait > t) for an arrival, t in the unit of `service_time`."""
    if load >= servers:
        return 1.0
    return erlang_c(servers, load) * math.exp(-(servers - load) * t / service_time)


def wait_quantile(servers: int, load: float, service_time: float, q: float) -> float:
    """The wait that a share `q` of arrivals does not exceed (0 when few have to wait)."""
    if load >= servers:
        return math.inf
    c = erlang_c(servers, load)
    if c <= 1 - q:
        return 0.0
    return service_time * math.log(c / (1 - q)) / (servers - load)


def servers_for(load: float, service_time: float, t: float, share: float) -> int:
    """The fewest servers with P(wait > t) <= share."""
    if load < 0 or not 0 < share < 1:
        raise ValueError(f"need load >= 0 and 0 < share < 1, got {load} and {share}")
    servers = max(1, math.floor(load) + 1)
    while wait_over(servers, load, service_time, t) > share:
        servers += 1
    return servers


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    if not values:
        return math.nan
    v = sorted(values)
    pos = q * (len(v) - 1)
    lo = math.floor(pos)
    return v[lo] + (v[min(lo + 1, len(v) - 1)] - v[lo]) * (pos - lo)


@dataclass(frozen=True)
class Stats:
    n: int
    mean: float
    p95: float
    max: float
    over: float  # share over TARGET_MIN

    @classmethod
    def of(cls, values: list[float]) -> Stats:
        if not values:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        return cls(len(values), sum(values) / len(values), percentile(values, 0.95),
                   max(values), sum(v > TARGET_MIN for v in values) / len(values))
