"""A hall for the counter terminal tests: real Mosquitto, the dispatcher as a process, a kiosk."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker_config.dev import DevBroker
from tests.conftest import needs
from tests.counter.harness import Terminal
from tests.integration.devices import Device, DispatcherProcess, Watcher


class LiveOffice:
    def __init__(self, broker: DevBroker, office_file: Path, workdir: Path):
        self.broker, self.office_file, self.workdir = broker, office_file, workdir
        self.dispatcher = DispatcherProcess(office_file, broker.url,
                                            workdir / "dispatcher.log").start()
        self.watch = Watcher(broker.url)
        self.watch.wait_for("/state/config", timeout=30)
        self.kiosk = Device(broker.url, "kiosk", "k1")
        self.devices: list[Device] = [self.kiosk]
        self.terminals: list[Terminal] = []

    def walk_in(self, service: str = "A", priority: bool = False) -> str:
        reply = self.kiosk.send("walk_in", service=service, priority=priority)
        assert reply["ok"], reply
        return str(reply["ticket"]["number"])

    def check_in(self, token: str) -> dict:
        reply = self.kiosk.send("check_in", token=token)
        assert reply["ok"], reply
        return dict(reply["ticket"])

    def device(self, role: str, name: str) -> Device:
        d = Device(self.broker.url, role, name)
        self.devices.append(d)
        return d

    def terminal(self, counter: str) -> Terminal:
        t = Terminal(self.office_file, counter, self.broker.url, self.workdir)
        self.terminals.append(t)
        return t

    def settled(self) -> None:
        """Every call the dispatcher made so far is in self.watch: a command that changes
        nothing, and its reply, which the watcher sees after all published before it."""
        cmd_id = f"sentinel-{secrets.token_hex(4)}"
        assert self.kiosk.send("nothing", cmd_id=cmd_id)["error"]["code"] == "bad_request"
        self.watch.wait_for("/reply/kiosk/k1", lambda m: m.get("id") == cmd_id)

    def calls(self, counter: str, kind: str = "call") -> list[str]:
        with self.watch.lock:
            return [m["ticket"] for t, m, _ in self.watch.messages
                    if t.endswith("/event/call") and m["counter"] == counter
                    and m["kind"] == kind]

    def close(self) -> None:
        for t in self.terminals:
            t.close()
        for d in self.devices:
            d.close()
        self.watch.close()
        code = self.dispatcher.stop()
        assert code == 0, (self.workdir / "dispatcher.log").read_text()


@pytest.fixture
@needs("process", "kivy")  # the dispatcher process; the terminals are Kivy windows
def hall(broker: DevBroker, office_file: Path, tmp_path: Path) -> Iterator[LiveOffice]:
    h = LiveOffice(broker, office_file, tmp_path)
    yield h
    h.close()

