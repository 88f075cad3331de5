"""The broker cannot be starved: a flood of idle connections (TCP that never starts TLS or
never sends CONNECT) against the real Mosquitto with the generated config, held to the
1024 open files systemd gives a service unless told otherwise, shuts out neither the
dispatcher on the loopback listener nor the office's devices."""

from __future__ import annotations

import re
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.devices import DispatcherProcess
from tests.security.harness import Mosquitto, Secured, SecureDevice, make_secured, start_broker
from tests.waiting import wait_until

STOCK_NOFILE = 1024  # systemd's default soft limit; Debian's mosquitto.service keeps it
FLOOD = 1100

# A child process holds the flood: paho's select() cannot watch sockets numbered past 1023,
# so the test's own devices must not share a process with 1100 sockets. It opens them
# (paced, so that the broker's backlog never overflows into slow SYN retries), says how
# many it holds, and then on every line read says how many the broker has closed.
FLOODER = r"""
import resource, socket, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
port, n = int(sys.argv[1]), int(sys.argv[2])
held, failed = [], 0
for i in range(n):
    if i % 50 == 0:
        time.sleep(0.05)
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect(("127.0.0.1", port))
        held.append(s)
    except OSError:
        failed += 1
        s.close()
for s in held:
    s.setblocking(False)
print(len(held), failed, flush=True)
closed = set()
for _ in sys.stdin:
    for i, s in enumerate(held):
        if i in closed:
            continue
        try:
            if s.recv(1) == b"":
                closed.add(i)
        except BlockingIOError:
            pass
        except OSError:
            closed.add(i)
    print(len(closed), flush=True)
"""


class Flood:
    """`n` idle TCP connections to a port, held by a child process until closed."""

    def __init__(self, port: int, n: int = FLOOD):
        self.proc = subprocess.Popen([sys.executable, "-c", FLOODER, str(port), str(n)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout
        held, failed = (int(x) for x in self.proc.stdout.readline().split())
        self.held, self.failed = held, failed

    def closed_by_broker(self) -> int:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def stop(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin
            self.proc.stdin.close()
            self.proc.wait(10)


@pytest.fixture(autouse=True)
def enough_files() -> None:
    if resource.getrlimit(resource.RLIMIT_NOFILE)[1] < FLOOD + 100:
        pytest.skip(f"this machine lets a process open fewer than {FLOOD + 100} files")


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Secured]:
    yield make_secured(tmp_path)


def listener_limits(conf: str) -> dict[int, int | None]:
    """max_connections of each listener in a Mosquitto config (None: not set)."""
    limits: dict[int, int | None] = {}
    port = None
    for line in conf.splitlines():
        if m := re.match(r"listener (\d+)", line):
            port = int(m[1])
            limits[port] = None
        elif (m := re.match(r"max_connections (-?\d+)", line)) and port is not None:
            limits[port] = int(m[1])
    return limits


@pytest.mark.mqtt
def test_setup_limits_connections_per_listener_and_writes_the_systemd_drop_in(
        office: Secured) -> None:
    conf = (office.out / "mosquitto.conf").read_text()
    limits = listener_limits(conf)
    assert set(limits) == {office.port, office.tls_port, office.ws_port}
    assert all(n is not None and n > 0 for n in limits.values()), limits
    loopback, tls, ws = limits[office.port], limits[office.tls_port], limits[office.ws_port]
    assert loopback and tls and ws
    # Tens of devices fit many times over; the LAN TLS listener and the loopback one, with
    # Mosquitto's own files, stay below even the stock limit.
    assert tls >= 200 and ws >= 50 and loopback >= 20
    assert tls + loopback + 64 <= STOCK_NOFILE
    for line in ("max_keepalive 60", "max_inflight_messages 100", "max_queued_messages 10000",
                 "max_queued_bytes 67108864", "LimitNOFILE=65536",
                 "/etc/systemd/system/mosquitto.service.d/motcua.conf"):
        assert line in conf, line
    drop_in = (office.out / "mosquitto.service.d" / "motcua.conf").read_text()
    assert "\n[Service]\nLimitNOFILE=65536\n" in drop_in
    assert "/etc/systemd/system/mosquitto.service.d/motcua.conf" in drop_in
    assert "systemctl daemon-reload" in drop_in


@pytest.mark.mqtt
@pytest.mark.process
def test_idle_connections_on_the_tls_listener_starve_neither_dispatcher_nor_devices(
        office: Secured) -> None:
    s = office
    broker = start_broker(s, nofile=STOCK_NOFILE)
    kiosk = SecureDevice(s, "kiosk", "k1")  # in the field before the flood
    late: SecureDevice | None = None
    dispatcher = None
    flood = None
    try:
        assert kiosk.link.connected.is_set()
        started = time.monotonic()
        flood = Flood(s.tls_port)
        assert flood.held + flood.failed == FLOOD
        # The broker closes what is over the listener's limit at once, before TLS, and
        # keeps open files for the loopback listener.
        wait_until(lambda: flood.closed_by_broker() >= FLOOD - 600, timeout=10,
                   what=f"the broker to close {FLOOD - 600} of the flood", interval=0.2)
        assert broker.open_files() <= STOCK_NOFILE - 64, broker.open_files()

        # (a) The dispatcher (re)starts during the flood and gets in on loopback; (b) the
        # kiosk takes a ticket through it, over TLS, within seconds.
        office_file = s.device_office("dispatcher-main")
        dispatcher = DispatcherProcess(office_file, f"mqtt://127.0.0.1:{s.port}",
                                       s.folder / "dispatcher.log").start()
        t = time.monotonic()
        reply = kiosk.send("walk_in", timeout=15, service="A")
        assert reply["ok"] and reply["ticket"]["number"], reply
        assert time.monotonic() - t < 15
        log = (s.folder / "mosquitto.log").read_text()
        assert "u'dispatcher-main'" in log  # the dispatcher's account got in on loopback
        assert "max_connections exceeded" in log

        # A device that connects anew while the TLS listener is full waits for a free slot
        # (Mosquitto 2.0 drops a connection that never sends CONNECT only after a fixed
        # 90 s); the moment the flood goes, it is in, and nothing is left stuck.
        late = SecureDevice(s, "kiosk", "k2")  # Link.start waits up to 10 s, then retries
        flood.stop()
        assert late.link.connected.wait(5), "the kiosk did not get in after the flood"
        assert late.send("walk_in", timeout=10, service="A")["ok"]
        assert broker.open_files() < 64
        assert time.monotonic() - started < 45
    finally:
        if flood:
            flood.stop()
        for d in (kiosk, late):
            if d:
                d.close()
        if dispatcher:
            dispatcher.stop()
        broker.stop()


@pytest.mark.mqtt
@pytest.mark.process
def test_idle_connections_on_the_websockets_listener_are_dropped_by_the_broker(
        office: Secured) -> None:
    """libwebsockets, not max_connections (which Mosquitto 2.0 does not apply to a
    websockets listener), closes a connection that has not finished TLS within ~10 s."""
    s = office
    nofile = min(4096, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    if nofile < FLOOD + 200:
        pytest.skip("needs a raised open-file limit for the broker")
    broker: Mosquitto = start_broker(s, nofile=nofile)
    flood = None
    try:
        def ws_listening() -> bool:  # it comes up after the TLS one
            try:
                socket.create_connection(("127.0.0.1", s.ws_port), timeout=0.5).close()
                return True
            except OSError:
                return False
        wait_until(ws_listening, what="the websockets listener", interval=0.1)
        flood = Flood(s.ws_port)
        assert flood.held == FLOOD
        wait_until(lambda: flood.closed_by_broker() == FLOOD, timeout=30,
                   what=f"the broker to close all {FLOOD} unfinished handshakes", interval=1)
        assert broker.open_files() < 64
    finally:
        if flood:
            flood.stop()
        broker.stop()
