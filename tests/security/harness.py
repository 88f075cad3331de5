"""A secured office for tests: `broker setup` output on free ports, Mosquitto running it,
devices built from their own office files, and a raw MQTT 5 probe that records reason codes."""

from __future__ import annotations

import getpass
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from broker_config import setup
from broker_config.dev import free_port, mosquitto_binary
from motcua import config
from motcua.errors import run_main
from motcua.mqtt import Link, Requester
from tests.conftest import write_office
from tests.waiting import wait_until

NOT_AUTHORIZED = 135  # MQTT 5 reason code, in CONNACK and PUBACK
DEVICES = '\n[devices]\nkiosks = ["k1", "k2"]\ndisplays = ["hall"]\n'


@dataclass
class Secured:
    """An office folder, the setup output in `out`, and the ports it was given."""

    folder: Path
    office_file: Path
    out: Path
    port: int
    tls_port: int
    ws_port: int

    def bundle(self, username: str) -> Path:
        return self.out / "devices" / username

    def password(self, username: str) -> str:
        return (self.bundle(username) / "password").read_text().strip()

    @property
    def ca(self) -> str:
        return str(self.out / "ca" / "ca.crt")

    def device_office(self, username: str) -> Path:
        """The office file a device runs with: the office's, its [broker] table replaced."""
        text = self.office_file.read_text(encoding="utf-8")
        fragment = (self.bundle(username) / "broker.toml").read_text(encoding="utf-8")
        table = fragment[fragment.index("\n[broker]\n") + 1:]
        text = re.sub(r"\[broker\]\n(?:[^\[\n].*\n|\n)*", lambda _: table + "\n", text, count=1)
        path = self.folder / f"office-{username}.toml"
        path.write_text(text, encoding="utf-8")
        return path

    def rerun(self, *extra: str) -> int:
        return run_main(setup.main, "motcua broker setup",
                        ["--config", str(self.office_file), "--out", str(self.out), *extra])


def make_secured(folder: Path, devices: str = DEVICES, *extra: str) -> Secured:
    (folder / "broker-data").mkdir(parents=True, exist_ok=True)
    office_file = write_office(folder)
    office_file.write_text(office_file.read_text(encoding="utf-8") + devices, encoding="utf-8")
    s = Secured(folder, office_file, folder / "broker", free_port(), free_port(), free_port())
    code = setup.main(["--config", str(office_file), "--out", str(s.out), "--port", str(s.port),
                       "--tls-port", str(s.tls_port), "--ws-port", str(s.ws_port), "--bind",
                       "127.0.0.1", "--host", "localhost", "--user", getpass.getuser(),
                       "--data-dir", str(folder / "broker-data"), "--device-dir", "{bundle}",
                       *extra])
    assert code == 0
    return s


class Mosquitto:
    """Mosquitto on a given config file: start, kill -9, reload (SIGHUP). `nofile`: its limit
    of open files (RLIMIT_NOFILE), e.g. the 1024 systemd gives a service by default."""

    def __init__(self, conf: Path, port: int, log: Path, nofile: int | None = None):
        self.conf, self.port, self.log, self.nofile = conf, port, log, nofile
        self.proc: subprocess.Popen[bytes] | None = None

    def open_files(self) -> int:
        assert self.proc
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def start(self, timeout: float = 10.0) -> Mosquitto:
        command = [mosquitto_binary(), "-c", str(self.conf)]
        if self.nofile is not None:  # soft and hard, as a service gets them; exec keeps the pid
            command = ["/bin/sh", "-c", 'ulimit -n "$0" && exec "$@"', str(self.nofile),
                       *command]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        proc = self.proc

        def listening() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"mosquitto exited: {self.log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return False
        wait_until(listening, timeout=timeout, what=f"mosquitto listening on {self.port}")
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()

    def reload(self) -> None:
        assert self.proc
        self.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)  # mosquitto applies a reload on its next loop


def start_broker(s: Secured, nofile: int | None = None) -> Mosquitto:
    return Mosquitto(s.out / "mosquitto.conf", s.tls_port, s.folder / "mosquitto.log",
                     nofile).start()


class SecureDevice:
    """A device that connects exactly as it would in the field: from its own office file."""

    def __init__(self, s: Secured, role: str, device: str, url: str | None = None):
        office = config.load(s.device_office(f"{role}-{device}"))
        b = office.broker
        self.link = Link(url or b.url, office.id, role, device, username=b.username,
                         password=b.password, ca_file=str(b.ca_file) if b.ca_file else None)
        self.req = Requester(self.link, retry_every=0.5)
        self.link.start()

    def send(self, ctype: str, timeout: float = 10.0, cmd_id: str | None = None,
             **fields: Any) -> dict[str, Any]:
        # The reply as every client reads it (motcua.protocol.Reply), in its JSON form.
        reply = self.req.request(ctype, timeout=timeout, cmd_id=cmd_id, **fields)
        return reply.model_dump(mode="json")

    def close(self) -> None:
        self.link.stop()


class Probe:
    """A raw MQTT 5 client: what the broker answers (CONNACK, PUBACK) and what it delivers."""

    def __init__(self, port: int, username: str | None = None, password: str | None = None,
                 ca: str | None = None, client_id: str = "", cert: tuple[str, str] | None = None,
                 transport: Literal["tcp", "websockets"] = "tcp"):
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=paho.MQTTv5, transport=transport)
        if username is not None:
            self.client.username_pw_set(username, password)
        if ca:
            self.client.tls_set(ca_certs=ca, certfile=cert[0] if cert else None,
                                keyfile=cert[1] if cert else None,
                                tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.port = port
        self.connack: int | None = None
        self.disconnected = threading.Event()
        self.acks: dict[int, int] = {}
        self.subacks: set[int] = set()
        self.received: list[tuple[str, bytes, bool]] = []
        self._acked = threading.Condition()
        self._connected = threading.Event()
        c = self.client
        c.on_connect = self._on_connect
        c.on_publish = self._on_publish
        c.on_subscribe = self._on_subscribe
        c.on_message = lambda _c, _u, m: self.received.append((m.topic, bytes(m.payload),
                                                                       m.retain))
        c.on_disconnect = lambda *_: self.disconnected.set()

    def _on_connect(self, c: Any, u: Any, flags: Any, rc: Any, props: Any) -> None:
        self.connack = rc.value
        self._connected.set()

    def _on_publish(self, c: Any, u: Any, mid: int, rc: Any, props: Any) -> None:
        with self._acked:
            self.acks[mid] = rc.value
            self._acked.notify_all()

    def _on_subscribe(self, c: Any, u: Any, mid: int, codes: Any, props: Any) -> None:
        with self._acked:
            self.subacks.add(mid)
            self._acked.notify_all()

    def connect(self, timeout: float = 5.0) -> int | None:
        """The CONNACK reason code (0 = accepted); raises what TLS raises."""
        self.client.connect("127.0.0.1", self.port, keepalive=15)
        self.client.loop_start()
        deadline = time.monotonic() + timeout
        while not self._connected.wait(0.02) and time.monotonic() < deadline:
            if self.disconnected.is_set():  # a TLS alert after the handshake looked done
                break
        return self.connack

    def publish(self, topic: str, payload: bytes = b"{}", retain: bool = False) -> int:
        """The PUBACK reason code of a QoS 1 publish (135: not authorised)."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        with self._acked:
            self._acked.wait_for(lambda: info.mid in self.acks, timeout=5)
            return self.acks[info.mid]

    def subscribe(self, topic_filter: str) -> None:
        """Subscribe and wait for the SUBACK: from then on the broker delivers (retained
        messages first)."""
        _, mid = self.client.subscribe(topic_filter, qos=1)
        with self._acked:
            assert self._acked.wait_for(lambda: mid in self.subacks, timeout=5), \
                f"no SUBACK for {topic_filter}"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
