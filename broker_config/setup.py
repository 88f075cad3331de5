"""`motcua broker setup`: an office's production Mosquitto (accounts, ACL, TLS) and every
device's credentials, generated from office.toml; re-runs add and revoke devices."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import socket
import string
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from broker_config import bridge
from broker_config.accounts import (
    Account,
    SetupError,
    hash_passwords,
    office_devices,
    read_password_file,
    render_acl,
    share_with_broker,
)
from broker_config.pki import Authority, PkiError, load_cert, needs_renewal, write_private
from motcua import config

TEMPLATE = Path(__file__).with_name("mosquitto.prod.conf")
STATE_FILE = "setup-state.json"
DEFAULTS: dict[str, Any] = {
    "port": 1883, "tls_port": 8883, "ws_port": 8884, "bind": "", "hosts": [],
    "user": "mosquitto", "data_dir": "/var/lib/mosquitto", "client_certs": False,
    "device_dir": "/etc/motcua/broker",
}
LOOPBACK = ("127.0.0.1", "localhost", "::1")
SERVER_ROLES = ("dispatcher", "admin", "web")  # run on the broker's own machine, over loopback
# max_connections of each listener, and the open-file limit recommended for the broker
# (mosquitto.prod.conf explains them). Loopback and TLS with Mosquitto's own files stay
# below the stock 1024, so a flood of the TLS listener never shuts out the loopback one
# (Mosquitto 2.0 does not enforce the websockets listener's).
MAX_CONNECTIONS = {"loopback": 100, "tls": 500, "ws": 200}
NOFILE = 65536
DROP_IN = Path("mosquitto.service.d") / "motcua.conf"


@dataclass
class Result:
    out: Path
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _load_state(out: Path) -> dict[str, Any]:
    path = out / STATE_FILE
    if not path.exists():
        return {"settings": {}, "accounts": {}, "revoked": []}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(state, dict) and isinstance(state.get("accounts"), dict)
        return state
    except (OSError, ValueError, AssertionError) as exc:
        raise SetupError(f"tệp trạng thái {path} bị hỏng", f"the state file {path} is damaged",
                         detail=str(exc) or type(exc).__name__) from exc


def _settings(stored: dict[str, Any], given: dict[str, Any], office: config.OfficeConfig
              ) -> dict[str, Any]:
    """Given options win, then what the last run used (so a re-run changes nothing that
    devices depend on), then the defaults."""
    s = {**DEFAULTS, **stored, **{k: v for k, v in given.items() if v is not None}}
    if not s["hosts"]:
        office_host = urlparse(office.broker.url).hostname
        s["hosts"] = [h for h in (office_host, socket.gethostname()) if h and h not in LOOPBACK]
    s["hosts"] = list(dict.fromkeys([*s["hosts"], "localhost", "127.0.0.1"]))
    for key in ("port", "tls_port", "ws_port"):
        if not isinstance(s[key], int) or not 0 <= s[key] < 65536 or (s[key] == 0
                                                                      and key != "ws_port"):
            raise SetupError(f"cổng {key} = {s[key]!r} không hợp lệ",
                             f"port {key} = {s[key]!r} is not valid")
    return s


def _device_url(a: Account, s: dict[str, Any]) -> str:
    if a.role in SERVER_ROLES:
        return f"mqtt://127.0.0.1:{s['port']}"
    return f"mqtts://{s['hosts'][0]}:{s['tls_port']}"


def _bundle(out: Path, a: Account) -> Path:
    return out / "devices" / a.username


def _write_bundle(out: Path, a: Account, office: config.OfficeConfig, s: dict[str, Any],
                  authority: Authority, password: str | None) -> int | None:
    """A device's folder: broker.toml (its [broker] table), password, ca.crt and a client
    certificate. Returns the serial of a newly issued certificate."""
    folder = _bundle(out, a)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder.parent, 0o700)
    os.chmod(folder, 0o700)
    if password is not None:
        write_private(folder / "password", password.encode() + b"\n")
    shutil.copyfile(authority.cert_path, folder / "ca.crt")
    serial = None
    if needs_renewal(folder / "client.crt", authority):
        serial = authority.issue(folder / "client.crt", folder / "client.key", a.username,
                                 server=False).serial_number
    where = s["device_dir"].replace("{bundle}", str(folder.resolve())).replace(
        "{username}", a.username)
    (folder / "broker.toml").write_text(
        f"# Broker account of {a.role} {a.device!r} at office {office.id} ({office.name}).\n"
        f"# Written by `motcua broker setup`. Copy this folder's files to {where}/ on the\n"
        "# device (mode 600), and use this [broker] table in the office.toml it runs with.\n"
        "[broker]\n"
        f'url = "{_device_url(a, s)}"\n'
        f'username = "{a.username}"\n'
        f'password_file = "{where}/password"\n'
        f'ca_file = "{where}/ca.crt"\n'
        "# For a listener that requires client certificates (setup --client-certs):\n"
        f'# cert_file = "{where}/client.crt"\n'
        f'# key_file = "{where}/client.key"\n', encoding="utf-8")
    return serial


def _render_conf(office: config.OfficeConfig, out: Path, s: dict[str, Any]) -> str:
    o = out.resolve()
    tls = (f"cafile {o}/ca/ca.crt\ncertfile {o}/server/server.crt\n"
           f"keyfile {o}/server/server.key")
    if s["client_certs"]:
        client = ("# Devices must also show a certificate from this CA; removed devices are "
                  f"in the revocation list.\nrequire_certificate true\ncrlfile {o}/ca/crl.pem")
    else:
        client = ("# Passwords only: client certificates are issued (devices/*/client.crt) "
                  "but not required\n# until the devices present them (setup --client-certs).")
    ws = ""
    if s["ws_port"]:
        ws = ("\n# Browser boards: MQTT over secure websockets (wss://host:port/), the same "
              f"accounts and ACL.\nlistener {s['ws_port']}{' ' + s['bind'] if s['bind'] else ''}"
              f"\nmax_connections {MAX_CONNECTIONS['ws']}\nprotocol websockets\n"
              f"use_username_as_clientid true\n{tls}\n")
    text = string.Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        office=office.id, office_name=office.name, out=o, port=s["port"],
        tls_port=s["tls_port"], bind=f" {s['bind']}" if s["bind"] else "",
        data_dir=Path(s["data_dir"]).resolve(), user=s["user"], client_certs=client,
        websockets=ws, max_loopback=MAX_CONNECTIONS["loopback"], max_tls=MAX_CONNECTIONS["tls"],
        max_ws=(f"{MAX_CONNECTIONS['ws']} (not enforced by Mosquitto 2.0, below)"
                if s["ws_port"] else "none (--ws-port 0)"), nofile=NOFILE)
    return text


def _render_drop_in(office: config.OfficeConfig, out: Path) -> str:
    o = out.resolve()
    return (f"# systemd drop-in for the Mosquitto of motcua office {office.id} ({office.name}).\n"
            "# Written by `motcua broker setup`. Mosquitto needs an open file per connection;\n"
            "# systemd gives services 1024 unless told otherwise. Install it with\n"
            f"#   install -D -m 644 {o / DROP_IN} \\\n"
            f"#       /etc/systemd/system/{DROP_IN}\n"
            "#   systemctl daemon-reload && systemctl restart mosquitto\n"
            "# and check: grep 'open files' /proc/$(pidof mosquitto)/limits\n"
            "[Service]\n"
            f"LimitNOFILE={NOFILE}\n")


def setup(office_file: Path, out: Path, remove: list[str] | None = None,
          **given: Any) -> Result:
    """Bring `out` in line with the office file (or revoke the accounts in `remove`)."""
    office = config.load(office_file)
    listed = office_devices(Path(office_file), list(office.counters))
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o750)
    state = _load_state(out)
    if state.get("office") not in (None, office.id):
        raise SetupError(f"{out} là của đơn vị {state['office']}, không phải {office.id}",
                         f"{out} belongs to office {state['office']}, not {office.id}")
    s = _settings(state.get("settings", {}), given, office)
    result = Result(out)
    accounts: dict[str, dict[str, Any]] = state["accounts"]
    have = {Account(v["role"], v["device"]) for v in accounts.values()}
    if remove:
        gone = {Account.parse(r) for r in remove}
        missing = ", ".join(a.username for a in sorted(gone - have))
        if missing:
            raise SetupError(f"không có tài khoản {missing} để thu hồi",
                             f"there is no account {missing} to revoke")
        wanted = have - gone
        result.warnings += [
            f"{a.username} is still listed in {office_file}: the next plain run issues it new "
            "credentials / vẫn còn trong tệp cấu hình" for a in sorted(gone & set(listed))]
    else:
        wanted = set(listed)

    authority = Authority(out / "ca")
    if not authority.exists():
        authority.create(office.id, office.name)
    elif not authority.key_path.exists():
        raise SetupError(f"thiếu khóa CA {authority.key_path}",
                         f"the CA key {authority.key_path} is missing")
    server = out / "server"
    server.mkdir(exist_ok=True)
    if needs_renewal(server / "server.crt", authority, s["hosts"]):
        authority.issue(server / "server.crt", server / "server.key", s["hosts"][0],
                        server=True, hosts=s["hosts"], key_mode=0o640)

    hashes = read_password_file(out / "passwd")
    revoked: list[dict[str, Any]] = state.get("revoked", [])
    for a in sorted(have - wanted):
        entry = accounts.pop(a.username)
        if entry.get("cert_serial"):
            revoked.append({"username": a.username, "serial": entry["cert_serial"],
                            "at": _now()})
        hashes.pop(a.username, None)
        shutil.rmtree(_bundle(out, a), ignore_errors=True)
        result.revoked.append(a.username)
    new_passwords: dict[str, str] = {}
    for a in sorted(wanted):
        # A password is known only as its hash and in the device's folder: if either is
        # gone, the device needs a new one.
        fresh = (a not in have or a.username not in hashes
                 or not (_bundle(out, a) / "password").exists())
        if a in have and fresh:
            result.warnings.append(f"{a.username}: its password was lost here; issued a new "
                                   "one / đã cấp mật khẩu mới")
        password = secrets.token_urlsafe(24) if fresh else None
        if password is not None:
            new_passwords[a.username] = password
        old = accounts.get(a.username, {}).get("cert_serial")
        serial = _write_bundle(out, a, office, s, authority, password)
        if serial is not None and old and old != serial:
            revoked.append({"username": a.username, "serial": old, "at": _now()})
        accounts[a.username] = {"role": a.role, "device": a.device,
                                "created": accounts.get(a.username, {}).get("created", _now()),
                                "cert_serial": serial or old or _serial(out, a)}
        (result.added if a not in have else result.kept).append(a.username)
    hashes.update(hash_passwords(new_passwords))

    write_private(out / "passwd", "".join(
        f"{hashes[u]}\n" for u in sorted(hashes) if u in accounts).encode(), 0o640)
    write_private(out / "acl", render_acl(office.id, [
        Account(v["role"], v["device"]) for v in accounts.values()]).encode(), 0o640)
    authority.write_crl(r["serial"] for r in revoked)
    (out / "conf.d").mkdir(exist_ok=True)
    (out / "mosquitto.conf").write_text(_render_conf(office, out, s),
                                        encoding="utf-8")
    (out / DROP_IN).parent.mkdir(exist_ok=True)
    (out / DROP_IN).write_text(_render_drop_in(office, out), encoding="utf-8")
    (out / "bridge.conf.example").write_text(bridge.render(
        office.id, "mqtts://central.example.vn:8883", "CENTRAL-PASSWORD",
        "/etc/motcua/central-ca.crt"), encoding="utf-8")
    state.update(office=office.id, settings=s, accounts=accounts, revoked=revoked)
    (out / STATE_FILE).write_text(json.dumps(state, indent=1, sort_keys=True) + "\n",
                                  encoding="utf-8")
    share_with_broker(out, s["user"])
    return result


def _serial(out: Path, a: Account) -> int | None:
    with contextlib.suppress(PkiError):
        return load_cert(_bundle(out, a) / "client.crt").serial_number
    return None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="motcua broker setup", description=__doc__)
    p.add_argument("--config", required=True, help="the office file (office.toml)")
    p.add_argument("--out", help="where to write everything (default var/broker-<office id>, "
                                  "which git ignores: it holds passwords and keys)")
    p.add_argument("--remove", action="append", metavar="DEVICE",
                   help="revoke a device now, e.g. kiosk-k2 (repeatable)")
    p.add_argument("--host", action="append", dest="hosts", metavar="NAME",
                   help="a name or IP devices use to reach the broker (repeatable; the "
                        "first goes into devices' URLs)")
    p.add_argument("--port", type=int, help="loopback listener (default 1883)")
    p.add_argument("--tls-port", type=int, help="TLS listener for devices (default 8883)")
    p.add_argument("--ws-port", type=int, help="secure websockets listener (default 8884; "
                                                 "0: none)")
    p.add_argument("--bind", help="address of the TLS listeners (default: all)")
    p.add_argument("--user", help="the user Mosquitto runs as (default mosquitto)")
    p.add_argument("--data-dir", help="Mosquitto persistence (default /var/lib/mosquitto)")
    p.add_argument("--device-dir", help="where devices keep their files (default "
                                        "/etc/motcua/broker; {bundle} = this machine's copy)")
    p.add_argument("--client-certs", action=argparse.BooleanOptionalAction, default=None,
                   help="require a client certificate on the TLS listeners")
    return p


SHOWN_NAMES = 12  # more accounts than this are counted, not listed (setup-state.json has them)


def listed(names: list[str]) -> str:
    """Account names for the terminal: all of a small office's, the first few of a big one's."""
    if len(names) <= SHOWN_NAMES:
        return ", ".join(names)
    return (f"{len(names)} accounts: {', '.join(names[:SHOWN_NAMES])}, ... "
            f"(all of them in {STATE_FILE})")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Path(args.out or f"var/broker-{config.load(args.config).id}")
    try:
        result = setup(Path(args.config), out, args.remove, hosts=args.hosts, port=args.port,
                       tls_port=args.tls_port, ws_port=args.ws_port, bind=args.bind,
                       user=args.user, data_dir=args.data_dir, device_dir=args.device_dir,
                       client_certs=args.client_certs)
    except OSError as exc:  # --out is a file, not ours to write, a full disk...
        raise SetupError(f"không ghi được vào {out}", f"cannot write into {out}",
                         detail=f"{exc.strerror or exc}: {exc.filename or out}") from exc
    for label, names in (("added", result.added), ("revoked", result.revoked)):
        if names:
            print(f"{label}: {listed(names)}")
    print(f"unchanged: {len(result.kept)} account(s)")
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"\nBroker: mosquitto -c {out}/mosquitto.conf  (after a re-run: kill -HUP <pid>)\n"
          f"Open files: install {out}/{DROP_IN} as /etc/systemd/system/{DROP_IN}\n"
          f"  (LimitNOFILE={NOFILE}), then systemctl daemon-reload.\n"
          f"Devices: copy {out}/devices/<account>/ to each device, as its broker.toml says.\n"
          f"Bridge to a central cluster: see {out}/bridge.conf.example.")
    return 0

