"""`motcua broker setup`: what it writes, re-runs that add and revoke devices, and clear
errors in Vietnamese and English for a bad office file."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509

from broker_config import setup
from broker_config.accounts import Account, grants
from motcua import config, topics
from motcua.errors import run_main
from tests.conftest import ROOT, write_office
from tests.security.harness import (
    NOT_AUTHORIZED,
    Probe,
    SecureDevice,
    make_secured,
    start_broker,
)
from tests.waiting import wait_until


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.mqtt
def test_one_hashed_account_per_device_and_least_privilege(tmp_path: Path) -> None:
    s = make_secured(tmp_path)
    state = json.loads((s.out / "setup-state.json").read_text())
    assert sorted(state["accounts"]) == [
        "admin-cli", "counter-1", "counter-2", "counter-3", "dispatcher-main", "display-hall",
        "kiosk-k1", "kiosk-k2"]
    passwd = (s.out / "passwd").read_text()
    for user in state["accounts"]:
        assert f"{user}:$7$" in passwd                    # PBKDF2-SHA512, as mosquitto_passwd
        assert s.password(user) not in passwd
        assert mode(s.bundle(user) / "password") == 0o600
        assert mode(s.bundle(user) / "client.key") == 0o600
    assert mode(s.out / "ca" / "ca.key") == 0o600 and mode(s.out / "passwd") & 0o007 == 0
    acl = (s.out / "acl").read_text()
    assert "user kiosk-k1\ntopic write motcua/demo/cmd/kiosk/k1\n" \
           "topic read motcua/demo/reply/kiosk/k1\n" in acl
    assert grants("demo", Account("display", "hall")) == [
        ("read", "motcua/demo/state/#"), ("read", "motcua/demo/event/#"),
        ("readwrite", "motcua/demo/presence/display/hall"),
        ("read", "motcua/demo/presence/dispatcher/+")]
    assert grants("demo", Account("dispatcher", "main")) == [("readwrite", "motcua/demo/#")]
    for user in state["accounts"]:
        if not user.startswith("dispatcher"):
            assert not [g for g in grants("demo", Account.parse(user))
                        if g[0] != "read" and ("#" in g[1] or "+" in g[1])], user
    conf = (s.out / "mosquitto.conf").read_text()
    for line in ("allow_anonymous false", "use_username_as_clientid true",
                 "set_tcp_nodelay true", "persistence true", "autosave_interval 5",
                 "max_packet_size 262144", "max_queued_messages 10000",
                 f"listener {s.port} 127.0.0.1", f"listener {s.tls_port} 127.0.0.1",
                 "protocol websockets"):
        assert line in conf, line
    server = x509.load_pem_x509_certificate((s.out / "server" / "server.crt").read_bytes())
    server.verify_directly_issued_by(
        x509.load_pem_x509_certificate((s.out / "ca" / "ca.crt").read_bytes()))
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)


@pytest.mark.mqtt
def test_a_devices_credentials_load_through_its_office_file(tmp_path: Path) -> None:
    s = make_secured(tmp_path)
    b = config.load(s.device_office("counter-2")).broker
    assert b.url == f"mqtts://localhost:{s.tls_port}" and b.username == "counter-2"
    assert b.password == s.password("counter-2") and b.ca_file == Path(s.ca).parent.parent / \
        "devices" / "counter-2" / "ca.crt"
    d = config.load(s.device_office("dispatcher-main")).broker
    assert d.url == f"mqtt://127.0.0.1:{s.port}" and d.username == "dispatcher-main"


@pytest.mark.mqtt
def test_rerunning_adds_new_devices_and_keeps_the_others(tmp_path: Path) -> None:
    s = make_secured(tmp_path)
    before = {u: s.password(u) for u in ("kiosk-k1", "counter-1", "display-hall")}
    ca, passwd = (s.out / "ca" / "ca.crt").read_bytes(), (s.out / "passwd").read_text()
    server = (s.out / "server" / "server.crt").read_bytes()
    text = s.office_file.read_text().replace('kiosks = ["k1", "k2"]', 'kiosks = ["k1", "k2", "k3"]')
    s.office_file.write_text(text)
    assert s.rerun() == 0
    assert {u: s.password(u) for u in before} == before
    assert (s.out / "ca" / "ca.crt").read_bytes() == ca
    assert (s.out / "server" / "server.crt").read_bytes() == server
    new_passwd = (s.out / "passwd").read_text()
    assert set(passwd.splitlines()) < set(new_passwd.splitlines())
    assert "kiosk-k3:$7$" in new_passwd and (s.bundle("kiosk-k3") / "password").exists()
    assert "user kiosk-k3\n" in (s.out / "acl").read_text()
    # The stored settings survive a re-run without options: ports are unchanged.
    assert f"listener {s.tls_port} 127.0.0.1" in (s.out / "mosquitto.conf").read_text()


@pytest.mark.mqtt
def test_removing_a_device_revokes_it_on_the_live_broker(tmp_path: Path) -> None:
    s = make_secured(tmp_path)
    broker = start_broker(s)
    try:
        k1, k2 = SecureDevice(s, "kiosk", "k1"), SecureDevice(s, "kiosk", "k2")
        assert k1.link.connected.wait(10) and k2.link.connected.wait(10)
        old = s.password("kiosk-k2")
        serial = json.loads((s.out / "setup-state.json").read_text())[
            "accounts"]["kiosk-k2"]["cert_serial"]
        s.office_file.write_text(s.office_file.read_text().replace(
            'kiosks = ["k1", "k2"]', 'kiosks = ["k1"]'))
        assert s.rerun() == 0
        broker.reload()
        assert not s.bundle("kiosk-k2").exists()
        assert "kiosk-k2" not in (s.out / "passwd").read_text()
        assert "kiosk-k2" not in (s.out / "acl").read_text()
        crl = x509.load_pem_x509_crl((s.out / "ca" / "crl.pem").read_bytes())
        assert crl.get_revoked_certificate_by_serial_number(serial) is not None
        # Its open connection speaks no more, and it cannot come back.
        wait_until(lambda: not k2.link.connected.is_set(), timeout=5,
                   what="the revoked kiosk k2 disconnected")
        time.sleep(1.5)  # its reconnect attempts (every 1-2 s) are refused
        assert not k2.link.connected.is_set() and k1.link.connected.is_set()
        assert "kiosk-k2 disconnected" in (s.folder / "mosquitto.log").read_text()
        assert Probe(s.tls_port, "kiosk-k2", old, s.ca).connect() == NOT_AUTHORIZED
        # The others go on as before.
        p = Probe(s.tls_port, "kiosk-k1", s.password("kiosk-k1"), s.ca)
        assert p.connect() == 0
        assert p.publish(topics.cmd("demo", "kiosk", "k1")) in (0, 16)
        p.close()
        k1.close()
        k2.close()
    finally:
        broker.stop()


@pytest.mark.mqtt
def test_remove_now_warns_while_still_listed_and_a_rerun_reissues(tmp_path: Path,
                                                                  capsys) -> None:  # type: ignore[no-untyped-def]
    s = make_secured(tmp_path)
    old = s.password("kiosk-k1")
    assert s.rerun("--remove", "kiosk/k1") == 0
    assert "kiosk-k1 is still listed" in capsys.readouterr().err
    assert "kiosk-k1" not in (s.out / "passwd").read_text()
    assert s.rerun() == 0                                  # a replacement kiosk k1
    assert s.password("kiosk-k1") != old
    assert s.rerun("--remove", "kiosk-k9") == 2
    err = capsys.readouterr().err
    assert "không có tài khoản kiosk-k9" in err and "there is no account kiosk-k9" in err


@pytest.mark.parametrize(("devices", "vi", "en"), [
    ('[devices]\nkiosks = "k1"\n', "phải là danh sách", "must be a list"),
    ('[devices]\nkiosks = ["K 1"]\n', "phải gồm 1-32 ký tự", "must be 1-32 of a-z"),
    ('[devices]\nkiosks = ["k1", "k1"]\n', "khai báo hai lần", "listed twice"),
    ('[devices]\nprinters = ["p1"]\n', "khóa lạ", "unknown key"),
])
def test_a_bad_devices_table_is_refused_in_two_languages(tmp_path: Path, devices: str, vi: str,
                                                          en: str, capsys) -> None:  # type: ignore[no-untyped-def]
    office = write_office(tmp_path)
    office.write_text(office.read_text() + "\n" + devices)
    assert run_main(setup.main, "motcua broker setup",
                    ["--config", str(office), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert vi in err and en in err and "Traceback" not in err


@pytest.mark.mqtt
@pytest.mark.process
def test_bad_office_files_and_folders_get_clear_errors(tmp_path: Path) -> None:
    broken = write_office(tmp_path, **{'slot_minutes = 30': 'slot_minutes = "half"'})
    run = subprocess.run([sys.executable, "-m", "broker_config", "setup", "--config",
                          str(broken), "--out", str(tmp_path / "out")], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "tệp cấu hình có lỗi" in run.stderr
    assert "booking.slot_minutes" in run.stderr and "Traceback" not in run.stderr
    missing = subprocess.run([sys.executable, "-m", "broker_config", "setup", "--config",
                              str(tmp_path / "nope.toml")], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
    assert missing.returncode == 2 and "cannot read the file" in missing.stderr
    s = make_secured(tmp_path / "a")
    (tmp_path / "b").mkdir()
    other = write_office(tmp_path / "b", **{'id = "demo"': 'id = "other"'})
    assert run_main(setup.main, "motcua broker setup",
                    ["--config", str(other), "--out", str(s.out)]) == 2
    (s.out / "setup-state.json").write_text("{not json")
    assert s.rerun() == 2


@pytest.mark.mqtt
def test_a_device_whose_password_file_was_lost_gets_a_new_one(tmp_path: Path,
                                                               capsys) -> None:  # type: ignore[no-untyped-def]
    s = make_secured(tmp_path)
    old_hash = [x for x in (s.out / "passwd").read_text().splitlines()
                if x.startswith("counter-1:")]
    (s.bundle("counter-1") / "password").unlink()
    assert s.rerun() == 0
    assert "counter-1: its password was lost here" in capsys.readouterr().err
    assert (s.bundle("counter-1") / "password").exists()
    assert old_hash[0] not in (s.out / "passwd").read_text()


def test_an_error_is_said_once_in_each_language(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """What went wrong below (the JSON parser's words) is printed once, after both languages,
    not inside each of them."""
    office = write_office(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "setup-state.json").write_text("{not json")
    assert run_main(setup.main, "motcua broker setup",
                    ["--config", str(office), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("setup-state.json") == 2  # the Vietnamese line and the English one
    assert err.count("Expecting property name") == 1, err
    assert "bị hỏng" in err and "is damaged" in err


def test_an_out_folder_that_cannot_be_written_is_said_without_a_traceback(
        tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    office = write_office(tmp_path)
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("")
    assert run_main(setup.main, "motcua broker setup",
                    ["--config", str(office), "--out", str(a_file)]) == 2
    err = capsys.readouterr().err
    assert f"không ghi được vào {a_file}" in err and f"cannot write into {a_file}" in err
    assert err.count("File exists") == 1 and "Traceback" not in err


def test_a_big_office_is_counted_not_listed() -> None:
    names = [f"kiosk-k{i}" for i in range(205)]
    shown = setup.listed(names)
    assert shown.startswith("205 accounts: kiosk-k0, ") and "kiosk-k11, ..." in shown
    assert "kiosk-k12" not in shown and "setup-state.json" in shown
    assert setup.listed(names[:3]) == "kiosk-k0, kiosk-k1, kiosk-k2"
