"""A bridge between two local brokers: the office's events, state and presence reach the
centre under the office's prefix; commands and replies never cross, in either direction."""

from __future__ import annotations

import getpass
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker_config import bridge
from broker_config.accounts import hash_passwords
from broker_config.dev import free_port
from motcua import topics
from motcua.errors import run_main
from tests.conftest import needs
from tests.security.harness import NOT_AUTHORIZED, Mosquitto, Probe, make_secured, start_broker
from tests.waiting import wait_until

OFFICE = "demo"


def wait_for(probe: Probe, topic: str, timeout: float = 15.0) -> tuple[str, bytes, bool]:
    return wait_until(lambda: next((m for m in list(probe.received) if m[0] == topic), None),
                      timeout=timeout, what=f"{topic} at the centre")


@pytest.fixture(params=[True, False], ids=["mosquitto-centre", "other-centre"])
@needs("mqtt")
def bridged(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dict]:
    s = make_secured(tmp_path / "office")
    central = tmp_path / "central"
    central.mkdir()
    cport = free_port()
    bridge.write(OFFICE, s.out, f"mqtt://127.0.0.1:{cport}", mosquitto_central=request.param)
    hq = hash_passwords({"hq": "hq-password"})["hq"]
    (central / "passwd").write_text(
        (s.out / "central" / "office-demo.passwd").read_text() + hq + "\n")
    (central / "acl").write_text((s.out / "central" / "office-demo.acl").read_text()
                                 + "\nuser hq\ntopic readwrite #\n")
    (central / "mosquitto.conf").write_text(
        f"per_listener_settings false\nallow_anonymous false\npassword_file {central}/passwd\n"
        f"acl_file {central}/acl\nlistener {cport} 127.0.0.1\nuser {getpass.getuser()}\n"
        "log_dest stderr\n")
    centre = Mosquitto(central / "mosquitto.conf", cport, central / "mosquitto.log").start()
    office = start_broker(s)
    yield {"s": s, "cport": cport, "centre": centre, "office": office}
    office.stop()
    centre.stop()


def test_events_state_and_presence_go_up_commands_and_replies_never(bridged: dict) -> None:
    s, cport = bridged["s"], bridged["cport"]
    hq = Probe(cport, "hq", "hq-password")
    assert hq.connect() == 0
    hq.subscribe("#")
    d = Probe(s.port, "dispatcher-main", s.password("dispatcher-main"))
    k1 = Probe(s.port, "kiosk-k1", s.password("kiosk-k1"))
    assert d.connect() == 0 and k1.connect() == 0
    # The bridge connects a moment after the office broker starts: publish until it is up.
    def bridged_up() -> bool:
        d.publish(topics.state_board(OFFICE), b'{"v":1,"board":1}', retain=True)
        return bool(hq.received)
    wait_until(bridged_up, timeout=15, what="the bridge up (a board at the centre)",
               interval=0.2)
    k1.publish(topics.cmd(OFFICE, "kiosk", "k1"), b'{"v":1,"id":"secret-cmd-1","type":"x"}')
    d.publish(topics.reply(OFFICE, "kiosk", "k1"), b'{"v":1,"id":"secret-cmd-1","ok":true}')
    d.publish(topics.event_ticket(OFFICE), b'{"v":1,"change":"issued"}')
    d.publish(topics.event_call(OFFICE), b'{"v":1,"ticket":"A001"}')
    k1.publish(topics.presence(OFFICE, "kiosk", "k1"), b'{"v":1,"status":"online"}',
               retain=True)
    wait_for(hq, topics.event_call(OFFICE))
    wait_for(hq, topics.event_ticket(OFFICE))
    # Sentinels: each sender's later message came, so its cmd and reply before would have.
    wait_for(hq, topics.presence(OFFICE, "kiosk", "k1"))
    crossed = {t for t, _, _ in hq.received}
    assert topics.state_board(OFFICE) in crossed
    assert not [t for t in crossed if "/cmd/" in t or "/reply/" in t], crossed

    # A dashboard that starts later still gets the office's retained state.
    late = Probe(cport, "hq", "hq-password", client_id="late-dashboard")
    assert late.connect() == 0
    late.subscribe(topics.state_board(OFFICE))
    assert wait_for(late, topics.state_board(OFFICE), 5)[2] is True

    # Nothing flows down: a command published at the centre never reaches the office.
    d.subscribe(topics.cmd_filter(OFFICE))
    hq.publish(topics.cmd(OFFICE, "kiosk", "k1"), b'{"v":1,"id":"from-centre-1","type":"x"}')
    time.sleep(0.5)
    assert not [t for t, p, _ in d.received if b"from-centre" in p]
    for p in (hq, late, d, k1):
        p.close()


def test_the_office_account_at_the_centre_writes_only_under_its_own_prefix(
        bridged: dict) -> None:
    s, cport = bridged["s"], bridged["cport"]
    password = (s.out / "central" / "office-demo.password").read_text().strip()
    p = Probe(cport, "office-demo", password, client_id="someone-with-the-bridge-password")
    assert p.connect() == 0
    assert p.publish(topics.state_board("other-office")) == NOT_AUTHORIZED
    assert p.publish(topics.cmd(OFFICE, "kiosk", "k1")) == NOT_AUTHORIZED
    assert p.publish(topics.state_board(OFFICE)) in (0, 16)
    p.close()
    conf = (s.out / "conf.d" / "bridge-central.conf").read_text()
    assert "topic event/# out 1 motcua/demo/ motcua/demo/" in conf
    assert " in " not in conf and " both " not in conf and "cmd/" not in conf


@pytest.mark.process
@pytest.mark.mqtt
def test_a_bad_central_address_is_refused_and_writes_nothing(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    s = make_secured(tmp_path)
    assert run_main(bridge.main, "motcua broker bridge", ["--config", str(s.office_file),
                    "--out", str(s.out), "--central", "http://central:8883"]) == 2
    err = capsys.readouterr().err
    assert "phải có dạng mqtts://" in err and "must look like mqtts://" in err
    assert not (s.out / "central").exists() and not list((s.out / "conf.d").iterdir())
