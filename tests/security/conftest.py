"""A secured office shared by a test module: generated config, Mosquitto, the dispatcher."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import needs
from tests.integration.devices import DispatcherProcess
from tests.security.harness import Mosquitto, Secured, SecureDevice, make_secured, start_broker


class SecuredHall:
    def __init__(self, s: Secured, broker: Mosquitto, dispatcher: DispatcherProcess):
        self.s, self.broker, self.dispatcher = s, broker, dispatcher
        self.devices: dict[tuple[str, str], SecureDevice] = {}

    def device(self, role: str, device: str) -> SecureDevice:
        # One connection per account: a second one with the same username takes over.
        if (role, device) not in self.devices:
            self.devices[(role, device)] = SecureDevice(self.s, role, device)
        return self.devices[(role, device)]

    @property
    def db(self) -> Path:
        return self.s.folder / "office.sqlite3"


@pytest.fixture(scope="module")
@needs("mqtt", "process")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredHall]:
    s = make_secured(tmp_path_factory.mktemp("secured"))
    broker = start_broker(s)
    office = s.device_office("dispatcher-main")
    url = f"mqtt://127.0.0.1:{s.port}"
    dispatcher = DispatcherProcess(office, url, s.folder / "dispatcher.log").start()
    h = SecuredHall(s, broker, dispatcher)
    try:
        yield h
    finally:
        for d in h.devices.values():
            d.close()
        code = dispatcher.stop()
        broker.stop()
        assert code == 0, (s.folder / "dispatcher.log").read_text()[-3000:]
