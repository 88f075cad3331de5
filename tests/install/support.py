"""What the install tests share: an office with a key of its own, a broker folder shaped
like `motcua broker setup --out` (made here without mosquitto_passwd, so the pure tier can
use it), scratch roots and a snapshot of a tree."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cli import install
from tests.conftest import ROOT, write_office

DEMO_KEY = f'"{ROOT}/examples/keys/demo-portal.pub.pem"'
DEVICES = ("dispatcher-main", "admin-cli", "kiosk-k1", "counter-1", "display-board-1",
           "rating-1")
# What a Debian machine already has: the install creates only what it owns below these.
SYSTEM_DIRS = ("etc/systemd/system", "etc/pam.d", "etc/udev/rules.d", "etc/mosquitto",
               "var/lib", "usr/bin")


def office_file(folder: Path, demo_key: bool = False,
                replace: dict[str, str] | None = None) -> Path:
    """The demo office, trusting a portal key of its own (not the published demo one)."""
    folder.mkdir(parents=True, exist_ok=True)
    replace = replace or {}
    if not demo_key:
        key = folder / "portal-2026.pub.pem"
        key.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
        replace = {DEMO_KEY: f'"{key}"', **replace}
    return write_office(folder, **replace)


def broker_folder(out: Path, office_id: str = "demo") -> Path:
    """A folder as `motcua broker setup --out` leaves it (fake hashes and certificates)."""
    for sub in ("ca", "server", "conf.d", "mosquitto.service.d"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    (out / "mosquitto.conf").write_text(
        f"password_file {out.resolve()}/passwd\nacl_file {out.resolve()}/acl\n"
        f"include_dir {out.resolve()}/conf.d\n", encoding="utf-8")
    (out / "mosquitto.service.d/motcua.conf").write_text("[Service]\nLimitNOFILE=65536\n")
    for name in ("passwd", "acl", "ca/ca.crt", "ca/crl.pem", "server/server.crt"):
        (out / name).write_text(f"fake {name}\n")
    for name in ("ca/ca.key", "server/server.key"):
        (out / name).write_text(f"fake {name}\n")
        os.chmod(out / name, 0o600)
    (out / "setup-state.json").write_text(json.dumps({"office": office_id}) + "\n")
    for account in DEVICES:
        d = out / "devices" / account
        d.mkdir(parents=True, exist_ok=True)
        url = ("mqtt://127.0.0.1:1883" if account.startswith(("dispatcher", "admin"))
               else "mqtts://192.168.1.10:8883")
        (d / "broker.toml").write_text(
            f'[broker]\nurl = "{url}"\nusername = "{account}"\n'
            'password_file = "/etc/motcua/broker/password"\n'
            'ca_file = "/etc/motcua/broker/ca.crt"\n', encoding="utf-8")
        for name in ("password", "ca.crt", "client.crt", "client.key"):
            (d / name).write_text(f"{account} {name}\n")
            os.chmod(d / name, 0o600)
    return out


def bundle_for(role: str, broker: Path) -> Path:
    account = {"server": None, "kiosk": "kiosk-k1", "counter": "counter-1",
               "display": "display-board-1", "rating": "rating-1"}[role]
    return broker if account is None else broker / "devices" / account


def scratch_root(folder: Path) -> Path:
    for d in SYSTEM_DIRS:
        (folder / d).mkdir(parents=True, exist_ok=True)
    return folder


def snapshot(root: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every path under root: its mode and, for a file, its bytes."""
    return {str(p.relative_to(root)): (p.stat().st_mode,
                                       p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


def run(role: str, root: Path, *args: str) -> int:
    return install.main([role, "--root", str(root), *args])
