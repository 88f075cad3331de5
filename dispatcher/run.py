"""Start a dispatcher on MQTT for one office: store, core, link, worker."""

from __future__ import annotations

import logging
from typing import Any

from dispatcher.service import Dispatcher, DispatcherService
from dispatcher.store import Store
from motcua.clock import Clock, GuardedClock, SystemClock
from motcua.config import OfficeConfig
from motcua.mqtt import Link

log = logging.getLogger(__name__)


def serve(office: OfficeConfig, broker_url: str, clock: Clock,
          device: str = "main") -> DispatcherService:
    if isinstance(clock, SystemClock):
        clock = GuardedClock(clock, on_jump=lambda expected, wall: log.error(
            "the system clock jumped to %s (expected %s); going on from the expected time "
            "unless the new time holds for 10 minutes", wall, expected))
    store = Store(office.storage)
    dispatcher = Dispatcher(office, store, clock)

    def link(**hooks: Any) -> Link:
        return Link.for_office(office, broker_url, "dispatcher", device,
                    clock=clock, **hooks)

    service = DispatcherService(dispatcher, link).start()
    log.info("dispatcher for %s on %s, database %s, day %s", office.id, broker_url,
             office.storage, dispatcher.hall.day)
    return service
