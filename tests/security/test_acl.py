"""Against a real Mosquitto with the generated config and the real dispatcher: every device
works through its own account, and nobody speaks for another or forges what the board shows."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from motcua import topics
from tests.conftest import ROOT, motcua_command
from tests.integration.devices import START
from tests.security.conftest import SecuredHall
from tests.security.harness import NOT_AUTHORIZED, Probe
from tests.waiting import wait_until

OFFICE = "demo"
OK = (0, 16)  # success, "no matching subscribers"


def command(cmd_id: str, ctype: str = "walk_in", **fields: object) -> bytes:
    return json.dumps({"v": 1, "id": cmd_id, "type": ctype, **fields}).encode()


def seen_by_dispatcher(hall: SecuredHall, cmd_id: str) -> list[tuple[str, str]]:
    db = sqlite3.connect(hall.db)
    try:
        return db.execute("SELECT role, device FROM commands WHERE id=?", (cmd_id,)).fetchall()
    finally:
        db.close()


def sentinel(p: Probe, username: str) -> None:
    """Publish on the probe's own presence topic and wait for it to come back. The broker
    delivers to one client in order, so whatever it routed to `p` before has arrived."""
    role, device = username.split("-", 1)
    mark = f"sentinel-{secrets.token_hex(6)}"
    body = json.dumps({"v": 1, "status": "online", "sentinel": mark}).encode()
    assert p.publish(topics.presence(OFFICE, role, device), body) in OK
    wait_until(lambda: any(mark.encode() in m for _, m, _ in list(p.received)),
               what=f"{username}'s sentinel back from the broker")


def probe(hall: SecuredHall, username: str, client_id: str = "") -> Probe:
    p = Probe(hall.s.tls_port, username, hall.s.password(username), hall.s.ca, client_id)
    assert p.connect() == 0
    return p


def test_each_device_works_through_its_own_account(hall: SecuredHall) -> None:
    watch = Probe(hall.s.tls_port, "display-hall", hall.s.password("display-hall"), hall.s.ca)
    assert watch.connect() == 0
    watch.subscribe("#")
    c2, k2 = probe(hall, "counter-2"), probe(hall, "kiosk-k2")
    c2.subscribe("#")
    k2.subscribe("#")
    kiosk, counter = hall.device("kiosk", "k1"), hall.device("counter", "1")
    admin = hall.device("admin", "cli")
    ticket = kiosk.send("walk_in", service="A")["ticket"]
    assert counter.send("next")["ticket"]["number"] == ticket["number"]
    assert admin.send("no_such_command")["error"]["code"] == "bad_request"
    wait_until(lambda: any(t == topics.event_call(OFFICE) for t, _, _ in watch.received),
               what="the event/call seen by the display")
    got = {t for t, _, _ in watch.received}
    assert topics.event_call(OFFICE) in got and topics.state_board(OFFICE) in got
    # A display reads state and events, and nothing of anybody's commands or replies.
    assert not [t for t in got if "/cmd/" in t or "/reply/" in t]
    # What the rooms subscribe to (counter/remote.py, kiosk/desk.py) reaches them.
    dispatcher_up = topics.presence(OFFICE, "dispatcher", "main")
    assert {topics.state_config(OFFICE), topics.state_order(OFFICE),
            topics.state_counter(OFFICE, "2"), topics.event_call(OFFICE),
            dispatcher_up} <= {t for t, _, _ in c2.received}
    assert {t for t, _, _ in k2.received} == {topics.state_config(OFFICE),
                                              topics.state_board(OFFICE), dispatcher_up}
    for p in (watch, c2, k2):
        p.close()


@pytest.mark.parametrize("target", [("kiosk", "k2"), ("counter", "1"), ("admin", "cli")])
def test_a_kiosk_cannot_speak_for_another_device(hall: SecuredHall, target: tuple) -> None:
    k1 = probe(hall, "kiosk-k1")
    cmd_id = f"forged-{target[0]}-{target[1]}"
    ctype = "walk_in" if target[0] == "kiosk" else "next" if target[0] == "counter" \
        else "close_day"
    assert k1.publish(topics.cmd(OFFICE, *target), command(cmd_id, ctype, service="A")) \
        == NOT_AUTHORIZED
    # Its own topic goes through; once the dispatcher answered that, the forged one (sent
    # before it on the same connection) would have been handled already if it had arrived.
    own = command(f"own-{cmd_id}", service="A")
    assert k1.publish(topics.cmd(OFFICE, "kiosk", "k1"), own) in OK
    wait_until(lambda: seen_by_dispatcher(hall, f"own-{cmd_id}"),
               what=f"the dispatcher to log own-{cmd_id}")
    assert seen_by_dispatcher(hall, f"own-{cmd_id}") == [("kiosk", "k1")]
    assert seen_by_dispatcher(hall, cmd_id) == []
    k1.close()


def test_a_display_writes_nothing_but_its_presence(hall: SecuredHall) -> None:
    display = probe(hall, "display-hall")
    forged = json.dumps({"v": 1, "forged": True, "ticket": "A999", "counter": "1"}).encode()
    for topic in (topics.state_board(OFFICE), topics.state_order(OFFICE),
                  topics.state_counter(OFFICE, "1"), topics.state_config(OFFICE),
                  topics.event_call(OFFICE), topics.event_ticket(OFFICE),
                  topics.cmd(OFFICE, "kiosk", "k1"), topics.cmd(OFFICE, "counter", "1"),
                  topics.cmd(OFFICE, "admin", "cli"), topics.reply(OFFICE, "kiosk", "k1"),
                  topics.presence(OFFICE, "display", "other"),
                  topics.presence(OFFICE, "dispatcher", "main"), "motcua/other/state/board",
                  "$SYS/broker/uptime", "anything"):
        assert display.publish(topic, forged, retain=True) == NOT_AUTHORIZED, topic
    assert display.publish(topics.presence(OFFICE, "display", "hall"), json.dumps(
        {"v": 1, "status": "online"}).encode(), retain=True) in OK
    display.close()
    # A board that boots now sees the dispatcher's retained state, never the forgery.
    admin = probe(hall, "admin-cli")
    admin.subscribe("#")
    sentinel(admin, "admin-cli")  # every retained message is in before it
    assert not [t for t, p, _ in admin.received if b"forged" in p]
    assert any(t == topics.state_board(OFFICE) for t, _, _ in admin.received)
    admin.close()


def test_nobody_reads_another_devices_commands_or_replies(hall: SecuredHall,
                                                          make_token) -> None:  # type: ignore[no-untyped-def]
    spies = [probe(hall, u) for u in ("kiosk-k2", "counter-2", "display-hall")]
    for spy in spies:
        spy.subscribe("#")
    k1 = hall.device("kiosk", "k1")
    from tests.conftest import at
    token = make_token("BK-SPY-1", at("09:00"), name="Nguyễn Văn A")
    reply = k1.send("check_in", token=token)
    assert reply["ok"] and reply["ticket"]["kind"] == "booking"
    # The reply was routed before k1 had it: a leak to a spy would be queued before a
    # sentinel the spy publishes now.
    for spy, username in zip(spies, ("kiosk-k2", "counter-2", "display-hall"), strict=True):
        sentinel(spy, username)
    for spy in spies:
        leaked = [t for t, p, _ in spy.received
                  if "/cmd/" in t or "/reply/" in t or token.encode() in p]
        assert leaked == [], leaked
        spy.close()


def test_strangers_are_refused(hall: SecuredHall) -> None:
    s = hall.s
    assert Probe(s.tls_port, None, None, s.ca).connect() == NOT_AUTHORIZED  # anonymous
    assert Probe(s.tls_port, "kiosk-k1", "guessed", s.ca).connect() == NOT_AUTHORIZED
    assert Probe(s.tls_port, "kiosk-k9", s.password("kiosk-k1"), s.ca).connect() \
        == NOT_AUTHORIZED
    assert Probe(s.port, None, None).connect() == NOT_AUTHORIZED  # loopback too
    assert Probe(s.port, "dispatcher-main", "guessed").connect() == NOT_AUTHORIZED
    # Plain MQTT to the TLS port gets no MQTT session at all.
    plain = Probe(s.tls_port, "kiosk-k1", s.password("kiosk-k1"))
    try:
        code = plain.connect(timeout=2)
    except OSError:
        code = None
    assert code is None


def test_a_device_cannot_knock_another_off_by_borrowing_its_client_id(
        hall: SecuredHall) -> None:
    k1 = hall.device("kiosk", "k1")
    assert k1.link.connected.wait(10)
    # The client id motcua.mqtt.Link gives kiosk k1; the broker replaces it by the username.
    thief = probe(hall, "kiosk-k2", client_id=k1.link.client._client_id.decode())
    time.sleep(0.5)
    assert k1.link.connected.is_set()
    assert k1.send("walk_in", service="B")["ok"]
    thief.close()


def test_browser_boards_read_state_over_secure_websockets(hall: SecuredHall) -> None:
    board = Probe(hall.s.ws_port, "display-hall", hall.s.password("display-hall"), hall.s.ca,
                  transport="websockets")
    assert board.connect() == 0
    board.subscribe(topics.state_board(OFFICE))
    wait_until(lambda: board.received, timeout=5, what="the retained board over websockets")
    assert board.received and board.received[0][2]  # the retained board, at once
    assert board.publish(topics.state_board(OFFICE), b"{}") == NOT_AUTHORIZED
    board.close()


@pytest.mark.process
def test_a_second_dispatcher_on_the_secured_broker_is_refused(
        hall: SecuredHall, tmp_path: Path) -> None:
    """On the production config too: the second one looks under a client id of its own,
    sees the first one alive and refuses; the first one is not knocked off meanwhile."""
    office = hall.s.device_office("dispatcher-main")
    text = office.read_text(encoding="utf-8")
    second = tmp_path / "second.toml"
    second.write_text(text.replace(str(hall.db), str(tmp_path / "second.sqlite3")),
                      encoding="utf-8")
    assert str(tmp_path / "second.sqlite3") in second.read_text(encoding="utf-8")
    done = subprocess.run(
        [*motcua_command(), "dispatcher", "--config", str(second), "--broker",
         f"mqtt://127.0.0.1:{hall.s.port}", "--start-at", START], cwd=ROOT,
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1, done.stderr
    assert "Another dispatcher of office" in done.stderr
    k1 = hall.device("kiosk", "k1")
    assert k1.send("walk_in", service="A")["ok"]
