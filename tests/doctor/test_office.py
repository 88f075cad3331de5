"""`motcua doctor` against a real office: Mosquitto, a dispatcher process, a loopback printer
and a camera. It says all is well when it is, and finds each fault we can provoke."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from broker_config.dev import DevBroker, free_port
from cli import doctor
from cli.doctor import FAIL, OK, SKIP, WARN, Check
from motcua import config, topics
from motcua.mqtt import peek
from motcua.protocol import BadMessage, Presence, read
from tests.conftest import ROOT, motcua_command, needs, write_office
from tests.doctor.support import PLENTY, LoopbackPrinter, office_for, video_camera
from tests.integration.devices import DispatcherProcess
from tests.security.harness import make_secured, start_broker
from tests.waiting import wait_until

WAIT = 3.0  # seconds for a heartbeat (the dispatcher beats every 2 s)
PLENTY_HERE = doctor.Machine(disk_usage=lambda _: PLENTY)


def now_iso(minutes: float = 0) -> str:
    return (datetime.now().astimezone() + timedelta(minutes=minutes)).isoformat(
        timespec="seconds")


def online(office_file: Path, url: str) -> None:
    """Wait until the dispatcher's presence says online (it is up and beating)."""
    office = config.load(office_file)

    def up() -> bool:
        try:
            got = peek(office, url, [topics.presence(office.id, "dispatcher", "+")], 0.3)
        except ConnectionError:
            return False
        for s in got:
            try:
                if s.payload and read(Presence, s.payload).status == "online":
                    return True
            except BadMessage:
                pass
        return False
    wait_until(up, timeout=30, what="the dispatcher online", interval=0.2)


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def statuses(checks: list[Check]) -> dict[str, str]:
    return {c.name: c.status for c in checks}


@dataclass
class Hall:
    folder: Path
    office_file: Path
    broker: DevBroker
    printer: LoopbackPrinter
    dispatcher: DispatcherProcess

    def doctor(self, role: str | None = None, machine: doctor.Machine = PLENTY_HERE,
               url: str | None = None) -> list[Check]:
        return doctor.run(self.office_file, url or self.broker.url, role, WAIT, machine)


def start_hall(folder: Path, start_at: str | None = None) -> Hall:
    printer = LoopbackPrinter()
    office_file = office_for(folder, printer=printer.address, camera=video_camera(folder))
    broker = DevBroker(folder / "broker").start()
    dispatcher = DispatcherProcess(office_file, broker.url, folder / "dispatcher.log",
                                   start_at or now_iso()).start()
    online(office_file, broker.url)
    return Hall(folder, office_file, broker, printer, dispatcher)


def stop_hall(h: Hall) -> None:
    h.dispatcher.stop()
    h.broker.stop()
    h.printer.close()


@pytest.fixture(scope="module")
@needs("mqtt", "process")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    h = start_hall(tmp_path_factory.mktemp("doctor"))
    try:
        yield h
    finally:
        stop_hall(h)


@pytest.fixture
@needs("mqtt", "process")
def own_hall(tmp_path: Path) -> Iterator[Hall]:
    """A hall of the test's own, for faults that break it (its dispatcher is the test's)."""
    h = start_hall(tmp_path)
    try:
        yield h
    finally:
        stop_hall(h)


def test_a_healthy_office_is_all_ok(hall: Hall) -> None:
    checks = hall.doctor()
    got = statuses(checks)
    assert got == {"office": OK, "broker": OK, "certificates": SKIP, "dispatcher": OK,
                   "database": OK, "disk": OK, "printer": OK, "camera": OK, "clock": OK,
                   "voice": OK}, doctor.render(checks, verbose=True)
    assert doctor.exit_code(checks, strict=True) == 0


def test_the_command_line_on_a_healthy_office(hall: Hall) -> None:
    run = subprocess.run([*motcua_command(), "doctor", "--config", str(hall.office_file),
                          "--broker", hall.broker.url, "--device", "kiosk/k1", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    out = json.loads(run.stdout)
    got = {c["name"]: c["status"] for c in out["checks"]}
    # The disk of the machine running the tests may be full enough to warn: not a fault here.
    assert run.returncode == 0 and out["exit"] == 0, run.stdout + run.stderr
    assert {k: v for k, v in got.items() if k in ("office", "broker", "dispatcher", "printer",
                                                   "camera", "clock")} == dict.fromkeys(
        ("office", "broker", "dispatcher", "printer", "camera", "clock"), OK)
    assert got["voice"] == got["database"] == SKIP  # not a kiosk's job


def test_a_printer_out_of_paper(hall: Hall) -> None:
    hall.printer.mode = "paper_out"
    try:
        checks = hall.doctor("kiosk")
    finally:
        hall.printer.mode = "online"
    printer = by_name(checks)["printer"]
    assert printer.status == FAIL and "out of paper" in printer.message_en
    assert "hết giấy" in printer.message_vi
    assert [c.name for c in checks if c.status == FAIL] == ["printer"]
    assert doctor.exit_code(checks) == 1


def test_a_disk_nearly_full(hall: Hall) -> None:
    mib = 1 << 20
    full = doctor.Machine(disk_usage=lambda _: (8 << 30, (8 << 30) - 50 * mib, 50 * mib))
    checks = hall.doctor("dispatcher", full)
    assert statuses(checks)["disk"] == FAIL and statuses(checks)["database"] == OK
    assert "nearly full" in by_name(checks)["disk"].message_en
    assert doctor.exit_code(checks) == 1
    filling = doctor.Machine(disk_usage=lambda _: (8 << 30, (8 << 30) - 500 * mib, 500 * mib))
    checks = hall.doctor("dispatcher", filling)
    assert statuses(checks)["disk"] == WARN
    assert doctor.exit_code(checks) == 0 and doctor.exit_code(checks, strict=True) == 1


def test_no_broker(hall: Hall) -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"
    run = subprocess.run([*motcua_command(), "doctor", "--config", str(hall.office_file),
                          "--broker", url, "--device", "display/hall"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stdout + run.stderr
    assert re.search(r"\[FAIL\] broker +Không có máy chủ MQTT ở 127\.0\.0\.1:\d+", run.stdout)
    assert f"No broker at {url.removeprefix('mqtt://')}" in run.stdout
    checks = hall.doctor(url=url)
    assert statuses(checks)["dispatcher"] == statuses(checks)["clock"] == SKIP


def test_a_bad_office_file(tmp_path: Path) -> None:
    path = write_office(tmp_path, **{'ticket_prefix = "H"': 'ticket_prefix = "A"'})
    checks = doctor.run(path)
    assert checks[0].status == FAIL and "booking.ticket_prefix" in checks[0].detail
    assert "tệp cấu hình" in checks[0].message_vi.lower()


def test_a_dispatcher_hung_then_stopped(own_hall: Hall) -> None:
    proc = own_hall.dispatcher.proc
    assert proc is not None
    proc.send_signal(signal.SIGSTOP)  # hung: connected, its presence "online", no heartbeat
    try:
        check = by_name(own_hall.doctor("counter"))["dispatcher"]
    finally:
        proc.send_signal(signal.SIGCONT)
    assert check.status == FAIL and "does not answer" in check.message_en, check
    assert by_name(own_hall.doctor("counter"))["dispatcher"].status == OK
    assert own_hall.dispatcher.stop() == 0
    checks = own_hall.doctor("counter")
    check = by_name(checks)["dispatcher"]
    assert check.status == FAIL and "offline" in check.message_en
    assert by_name(checks)["clock"].status == SKIP
    assert doctor.exit_code(checks) == 1


@pytest.mark.mqtt
@pytest.mark.process
def test_a_dispatcher_clock_ten_minutes_off(tmp_path: Path) -> None:
    h = start_hall(tmp_path, start_at=now_iso(minutes=10))
    try:
        checks = h.doctor("counter")
    finally:
        stop_hall(h)
    clock = by_name(checks)["clock"]
    assert clock.status == FAIL and "behind the dispatcher's" in clock.message_en
    seconds = int(re.search(r"(\d+) s behind", clock.message_en).group(1))  # type: ignore[union-attr]
    assert 590 <= seconds <= 610
    assert "on-time/late" in clock.message_en
    assert [c.name for c in checks if c.status == FAIL] == ["clock"]


@pytest.mark.mqtt
@pytest.mark.process
def test_a_secured_office_over_tls_and_a_wrong_password(tmp_path: Path) -> None:
    s = make_secured(tmp_path / "office")
    broker = start_broker(s)
    dispatcher_office = s.device_office("dispatcher-main")
    loopback = f"mqtt://127.0.0.1:{s.port}"
    dispatcher = DispatcherProcess(dispatcher_office, loopback, s.folder / "dispatcher.log",
                                   now_iso()).start()
    try:
        online(dispatcher_office, loopback)
        kiosk = s.device_office("kiosk-k1")
        checks = doctor.run(kiosk, None, "counter", WAIT, PLENTY_HERE)  # over TLS, as in the hall
        got = statuses(checks)
        assert {k: got[k] for k in ("broker", "certificates", "clock")} == \
            dict.fromkeys(("broker", "certificates", "clock"), OK), \
            doctor.render(checks, verbose=True)
        # This office (tests/security's) trusts the published demo portal key: said so.
        assert got["dispatcher"] == WARN and "DEMO" in by_name(checks)["dispatcher"].message_en
        assert "mqtts://localhost" in by_name(checks)["broker"].detail
        assert "server localhost" in by_name(checks)["certificates"].detail

        wrong = tmp_path / "wrong-password"
        wrong.write_text("not-the-password\n")
        text = re.sub(r'password_file = ".*"', f'password_file = "{wrong}"',
                      kiosk.read_text(encoding="utf-8"))
        bad = tmp_path / "office-wrong.toml"
        bad.write_text(text, encoding="utf-8")
        checks = doctor.run(bad, None, "counter", WAIT, PLENTY_HERE)
        broker_line = by_name(checks)["broker"]
        assert broker_line.status == FAIL and broker_line.message_en.startswith(
            "Not authorized"), broker_line
        assert "kiosk-k1" in broker_line.message_en and "No broker" not in broker_line.message_en
        assert statuses(checks)["dispatcher"] == SKIP
    finally:
        dispatcher.stop()
        broker.stop()

