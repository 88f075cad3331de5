"""`motcua install ROLE --root tmp`: what each role writes, twice the same, --uninstall
and --purge, and what it refuses. Pure tier: nothing is run (conftest refuses a child
process here), so these also show that a scratch root only prints systemctl and useradd."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

from cli import install, units
from cli.main import COMMANDS, build_parser
from motcua import tokens
from tests.conftest import ROOT
from tests.install.support import (
    broker_folder,
    bundle_for,
    office_file,
    run,
    scratch_root,
    snapshot,
)

ROLES = ("server", "kiosk", "display", "counter", "rating")
UNIT = {"server": "motcua-dispatcher.service", "kiosk": "motcua-kiosk.service",
        "display": "motcua-display.service", "counter": "motcua-counter.service",
        "rating": "motcua-rating.service"}


@pytest.fixture
def office(tmp_path: Path) -> Path:
    return office_file(tmp_path / "src")


@pytest.fixture
def broker(tmp_path: Path) -> Path:
    return broker_folder(tmp_path / "broker")


def _install(role: str, root: Path, office: Path, broker: Path, *extra: str) -> int:
    return run(role, root, "--office", str(office), "--bundle", str(bundle_for(role, broker)),
               *extra)


@pytest.mark.parametrize("role", ROLES)
def test_role_writes_config_credentials_and_units(role: str, tmp_path: Path, office: Path,
                                                  broker: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    root = scratch_root(tmp_path / "root")
    assert _install(role, root, office, broker) == 0
    out = capsys.readouterr().out
    assert "would run: systemctl daemon-reload" in out
    assert f"would run: systemctl enable {UNIT[role]}" in out
    assert "would run: useradd --system" in out

    etc = root / "etc/motcua"
    assert etc.stat().st_mode & 0o777 == 0o750
    assert (etc / "office.toml").stat().st_mode & 0o777 == 0o640
    assert (etc / "broker/password").stat().st_mode & 0o777 == 0o600
    assert (root / "var/lib/motcua").is_dir()
    data = tomllib.loads((etc / "office.toml").read_text(encoding="utf-8"))
    account = bundle_for(role, broker).name if role != "server" else "dispatcher-main"
    assert data["broker"] == {
        "url": "mqtt://127.0.0.1:1883" if role == "server" else "mqtts://192.168.1.10:8883",
        "username": account, "password_file": "/etc/motcua/broker/password",
        "ca_file": "/etc/motcua/broker/ca.crt"}
    assert (etc / "broker/password").read_text() == f"{account} password\n"
    assert data["storage"]["path"] == "/var/lib/motcua/demo.sqlite3"
    assert data["printer"]["file"] == "/var/lib/motcua/tickets"
    (kid, key), = data["booking"]["keys"].items()
    assert key == f"/etc/motcua/keys/{kid}.pub.pem" and (root / key.lstrip("/")).is_file()

    unit = (root / "etc/systemd/system" / UNIT[role]).read_text()
    for line in ("User=motcua", "Restart=on-failure", "RestartSec=5", "StartLimitBurst=10",
                 "WantedBy=multi-user.target", "StandardOutput=journal",
                 "ProtectSystem=strict", "ReadWritePaths=/var/lib/motcua",
                 "NoNewPrivileges=yes", "PrivateTmp=yes"):
        assert f"\n{line}\n" in unit, line
    assert f"--config {units.OFFICE}" in unit
    if role == "server":
        assert "PrivateDevices=yes" in unit
        backup = (root / "etc/systemd/system/motcua-backup.service").read_text()
        assert "backup --config /etc/motcua/office.toml" in backup
        assert "OnCalendar=" in (root / "etc/systemd/system/motcua-backup.timer").read_text()
        conf = (root / "etc/mosquitto/motcua/mosquitto.conf").read_text()
        assert "password_file /etc/mosquitto/motcua/passwd" in conf and str(broker) not in conf
        drop_in = (root / "etc/systemd/system/mosquitto.service.d/motcua.conf").read_text()
        assert "ExecStart=\nExecStart=/usr/sbin/mosquitto -c /etc/mosquitto/motcua/" in drop_in
        assert "LimitNOFILE=65536" in drop_in
    else:
        device = {"kiosk": "--kiosk k1", "counter": "--counter 1",
                  "display": "--device board-1", "rating": "--counter 1"}[role]
        assert "ExecStart=/usr/bin/cage -d -- " in unit and f"{device} --fullscreen" in unit
        assert "PAMName=motcua" in unit and "TTYPath=/dev/tty1" in unit
        assert "Conflicts=getty@tty1.service" in unit
        assert "KCFG_GRAPHICS_SHOW_CURSOR=0" in unit
        assert (root / "etc/pam.d/motcua").is_file()
        assert "usermod --append --groups" in out and "video" in out


@pytest.mark.parametrize("role", ROLES)
def test_twice_is_the_same(role: str, tmp_path: Path, office: Path, broker: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    root = scratch_root(tmp_path / "root")
    _install(role, root, office, broker)
    first = snapshot(root)
    capsys.readouterr()
    _install(role, root, office, broker)
    assert snapshot(root) == first
    assert "\n0 written, " in capsys.readouterr().out


@pytest.mark.parametrize("role", ROLES)
def test_uninstall_keeps_data_purge_leaves_nothing(role: str, tmp_path: Path, office: Path,
                                                   broker: Path) -> None:
    root = scratch_root(tmp_path / "root")
    before = snapshot(root)
    _install(role, root, office, broker)
    (root / "var/lib/motcua/demo.sqlite3").write_bytes(b"the day's tickets")
    assert run(role, root, "--uninstall") == 0
    left = set(snapshot(root)) - set(before)
    assert "var/lib/motcua/demo.sqlite3" in left
    # Only the note of what was kept, so that a later --purge finds it.
    assert [p.name for p in (root / "etc/motcua").iterdir()] == ["install.json"]
    assert not (root / "etc/systemd/system" / UNIT[role]).exists()
    if role == "server":  # the office's CA stays: every device trusts it
        assert (root / "etc/mosquitto/motcua/ca/ca.key").exists()
        assert not (root / "etc/systemd/system/mosquitto.service.d").exists()
    assert all(p.startswith(("var/lib/motcua", "etc/mosquitto/motcua", "etc/motcua"))
               for p in left), left
    assert run(role, root, "--uninstall", "--purge") == 0
    assert snapshot(root) == before


def test_the_demo_key_is_refused(tmp_path: Path, broker: Path) -> None:
    office = office_file(tmp_path / "src", demo_key=True)
    with pytest.raises(install.InstallError) as e:
        _install("kiosk", scratch_root(tmp_path / "root"), office, broker)
    assert "demo-portal" in e.value.message and "khóa mẫu" in e.value.message
    assert "demo key" in e.value.message_en and "published" in e.value.message_en
    assert not (tmp_path / "root/etc/motcua").exists()  # refused before writing anything


def test_the_demo_fingerprint_is_the_shipped_key() -> None:
    key = load_pem_public_key((ROOT / "examples/keys/demo-portal.pub.pem").read_bytes())
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert hashlib.sha256(raw).hexdigest() in tokens.DEMO_KEYS


def test_a_bundle_of_another_role_is_refused(tmp_path: Path, office: Path,
                                             broker: Path) -> None:
    root = scratch_root(tmp_path / "root")
    with pytest.raises(install.InstallError, match="counter-1"):
        run("kiosk", root, "--office", str(office), "--bundle",
            str(broker / "devices/counter-1"))
    with pytest.raises(install.InstallError, match="broker"):
        run("kiosk", root, "--office", str(office), "--bundle", str(broker))
    with pytest.raises(install.InstallError, match="broker setup --out"):
        run("server", root, "--office", str(office), "--bundle",
            str(broker / "devices/dispatcher-main"))


def test_a_second_role_is_refused(tmp_path: Path, office: Path, broker: Path) -> None:
    root = scratch_root(tmp_path / "root")
    _install("kiosk", root, office, broker)
    with pytest.raises(install.InstallError, match="kiosk --uninstall"):
        _install("display", root, office, broker)


def test_usb_printer_gets_a_udev_rule_that_goes_with_it(tmp_path: Path, broker: Path) -> None:
    root = scratch_root(tmp_path / "root")
    usb = office_file(tmp_path / "usb", replace={'kind = "file"': 'kind = "usb"'})
    _install("kiosk", root, usb, broker)
    rule = root / "etc/udev/rules.d/60-motcua-printer.rules"
    assert 'ATTR{idVendor}=="04b8", ATTR{idProduct}=="0e15", MODE="0660", GROUP="lp"' in (
        rule.read_text())
    _install("kiosk", root, office_file(tmp_path / "file"), broker)
    assert not rule.exists()  # the printer is a file now: the rule of the last run goes


@pytest.mark.parametrize("path", ["docs/office.toml", "examples/office.toml"])
def test_office_files_read_back_the_same(path: str) -> None:
    data = tomllib.loads((ROOT / path).read_text(encoding="utf-8"))
    assert tomllib.loads(install.toml_dumps(data)) == data


def test_registered_in_the_cli() -> None:
    assert COMMANDS["install"].module == "cli.install"
    args, rest = build_parser().parse_known_args(["install", "kiosk", "--root", "/tmp/x"])
    assert rest == ["kiosk", "--root", "/tmp/x"]


def test_the_server_with_web_pages_gets_their_own_account_secret_and_unit(
        tmp_path: Path, broker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """[web] in the office file: the server role also runs `motcua web`, with the web
    account of the bundle (devices/web-<device>), the link secret copied beside it."""
    src = office_file(tmp_path / "src")
    (src.parent / "web.secret").write_text("s3cret-of-at-least-16-chars\n")
    src.write_text(src.read_text(encoding="utf-8") + '\n[web]\nlisten = "0.0.0.0:8080"\n'
                   'public_url = "http://bhxh-tdm.local:8080"\nsecret_file = "web.secret"\n',
                   encoding="utf-8")
    root = scratch_root(tmp_path / "root")
    with pytest.raises(install.InstallError) as refused:  # no web account in the bundle yet
        _install("server", root, src, broker)
    assert "devices/web-web" in refused.value.message_en
    assert "broker setup" in refused.value.message
    account = broker / "devices" / "web-web"
    account.mkdir()
    (account / "broker.toml").write_text(
        '[broker]\nurl = "mqtt://127.0.0.1:1883"\nusername = "web-web"\n', encoding="utf-8")
    for name in ("password", "ca.crt"):
        (account / name).write_text(f"web-web {name}\n")
    assert _install("server", root, src, broker) == 0
    out = capsys.readouterr().out
    assert any(line.startswith("would run: systemctl enable ") and "motcua-web.service" in line
               for line in out.splitlines()), out
    web = tomllib.loads((root / "etc/motcua/web.toml").read_text(encoding="utf-8"))
    assert web["broker"]["username"] == "web-web"
    assert web["broker"]["password_file"] == "/etc/motcua/broker-web/password"
    assert web["web"]["secret_file"] == "/etc/motcua/web/web.secret"
    assert (root / "etc/motcua/web/web.secret").read_text() == "s3cret-of-at-least-16-chars\n"
    assert (root / "etc/motcua/broker-web/password").read_text() == "web-web password\n"
    unit = (root / "etc/systemd/system/motcua-web.service").read_text()
    assert "ExecStart=" in unit and "web --config /etc/motcua/web.toml" in unit
    assert "LimitNOFILE=65536" in unit  # a socket per page; [web] phones is 2,000
    main = tomllib.loads((root / "etc/motcua/office.toml").read_text(encoding="utf-8"))
    assert main["broker"]["username"] == "dispatcher-main"  # the dispatcher's own, unchanged
