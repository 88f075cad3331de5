"""Fixtures of the web tests: a live office with `motcua web`, and Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from broker_config.dev import DevBroker
from tests.conftest import needs
from tests.web.support import WebOffice, chromium


@pytest.fixture
@needs("process", "mqtt")
def live(broker: DevBroker, office_file: Path, tmp_path: Path) -> Iterator[WebOffice]:
    office = WebOffice(broker, office_file, tmp_path)
    yield office
    office.close()


@pytest.fixture
@needs("process")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
@needs("process", "mqtt")
def staffed(broker: DevBroker, office_file: Path, tmp_path: Path) -> Iterator[WebOffice]:
    """A live office whose file lists officers: counters take commands once signed in."""
    office = WebOffice(broker, office_file, tmp_path, officers=True)
    yield office
    office.close()
