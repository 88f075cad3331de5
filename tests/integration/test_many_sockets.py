"""A process holding more than 1,024 open files (the web server, a socket per phone) keeps its
broker connection: paho's loop uses poll (motcua.mqtt._Poll), not select.select, which
refuses descriptors from 1,024 up. A real Mosquitto, restarted while the files are open."""

from __future__ import annotations

import os
import resource
import select
import socket
import threading
from collections.abc import Iterator

import pytest

from broker_config.dev import DevBroker
from motcua import mqtt
from motcua.mqtt import Link
from tests.waiting import wait_until


@pytest.fixture
def crowded() -> Iterator[None]:
    """1,100 more open descriptors: the next socket made gets a number over 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4096:
        pytest.skip(f"the hard limit of open files is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4096), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        yield
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_link_with_a_high_descriptor_connects_and_reconnects(broker: DevBroker,
                                                               crowded: None) -> None:
    heard: list[bytes] = []
    got = threading.Event()

    def on(topic: str, payload: bytes) -> None:
        heard.append(payload)
        got.set()

    link = Link(broker.url, "demo", "display", "crowded", persistent=False)
    link.subscribe("motcua/demo/event/call", on)
    link.start(wait=10)
    try:
        assert link.connected.is_set()
        sock = link.client.socket()
        assert sock is not None and sock.fileno() > 1024  # what select.select would refuse
        link.publish("motcua/demo/event/call", b'{"n": 1}')
        assert got.wait(10)
        broker.restart()  # the connection made again, with another high number
        wait_until(lambda: not link.connected.is_set(), timeout=5, what="the drop seen")
        wait_until(link.connected.is_set, timeout=20, what="reconnected after the restart")
        got.clear()
        link.publish("motcua/demo/event/call", b'{"n": 2}')
        assert got.wait(10) and heard[-1] == b'{"n": 2}'
    finally:
        link.stop()


def test_poll_answers_as_select_does() -> None:
    a, b = socket.socketpair()
    try:
        assert mqtt._Poll.select([a], [a], [], 0) == select.select([a], [a], [], 0) == (
            [], [a], [])
        b.send(b"x")
        assert mqtt._Poll.select([a, b], [], [], 1) == ([a], [], [])
        with pytest.raises(TypeError):
            mqtt._Poll.select([None], [], [], 0)
        closed = socket.socket()
        closed.close()
        with pytest.raises(ValueError):  # fileno() -1: paho takes it as a lost connection
            mqtt._Poll.select([closed], [], [], 0)
    finally:
        a.close()
        b.close()
