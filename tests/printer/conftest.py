"""Fixtures for the printer tests: an office, sample tickets, a loopback network printer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loopback_printer import LoopbackPrinter

from motcua.config import OfficeConfig, load
from motcua.protocol import BookingInfo, TicketInfo

HERE = Path(__file__).parent
ARTIFACTS = HERE.parent / "artifacts"


@pytest.fixture(scope="session")
def office() -> OfficeConfig:
    return load(HERE / "office.toml")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def walk_in() -> TicketInfo:
    return TicketInfo(number="A012", service="A", kind="walk_in", status="waiting",
                      issued_at="2026-11-24T09:05:12+07:00", priority=False, ahead=3,
                      est_wait_min=12, booking=None, counter=None, called_at=None)


@pytest.fixture
def booking() -> TicketInfo:
    return TicketInfo(number="H007", service="C", kind="booking", status="waiting",
                      issued_at="2026-11-24T08:52:40+07:00", priority=True, ahead=0,
                      est_wait_min=0,
                      booking=BookingInfo(id="BK-2026-000123", service="C",
                                          start="2026-11-24T09:00:00+07:00",
                                          end="2026-11-24T09:30:00+07:00", arrival="early"),
                      counter=None, called_at=None)


@pytest.fixture
def loopback() -> Iterator[Any]:
    """A factory of loopback printers, all closed after the test."""
    made: list[LoopbackPrinter] = []

    def make(mode: str = "online", **kw: Any) -> LoopbackPrinter:
        made.append(LoopbackPrinter(mode=mode, **kw))
        return made[-1]

    yield make
    for p in made:
        p.close()
