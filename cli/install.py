"""`motcua install ROLE`: set up one machine of an office from the installed package (a
wheel in /opt/motcua, not a checkout): the `motcua` system user, /etc/motcua (the office
file and this device's broker credentials), /var/lib/motcua and the systemd units of the
role. Re-running it gives the same files; `--uninstall` removes them (not the data in
/var/lib/motcua, nor the broker's CA, unless `--purge`).

`--root DIR` writes into a scratch root instead of / (a test, a look at what it would do):
then nothing is run, owners are not set, and the commands it would run are printed."""

from __future__ import annotations

import argparse
import contextlib
import grp
import json
import math
import os
import pwd
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cli import units
from motcua import config, tokens
from motcua.errors import MotcuaError, run_main

ROLES = ("server", "kiosk", "display", "counter", "rating")
USER = units.USER
ETC = PurePosixPath(units.ETC)
VAR = PurePosixPath(units.VAR)
SYSTEMD = PurePosixPath("/etc/systemd/system")
MOSQUITTO_DIR = PurePosixPath(units.MOSQUITTO_DIR)
MANIFEST = ETC / "install.json"
# The device's own account: the bundle `motcua broker setup` made (devices/<account>/).
BUNDLE_FILES = ("broker.toml", "password", "ca.crt", "client.crt", "client.key")
# Who may use what on a device: the camera and GPU (video, render), the touchscreen
# (input), the ticket printer on USB or a serial line (lp, dialout), the board's sound.
GROUPS = {"server": (), "kiosk": ("video", "render", "input", "lp", "dialout"),
          "counter": ("video", "render", "input"),
          "display": ("video", "render", "input", "audio"),
          "rating": ("video", "render", "input")}  # a touchscreen facing the citizen
BROKER_READS = {".", "ca", "server", "conf.d", "passwd", "acl", "ca/ca.crt", "ca/crl.pem",
                "server/server.crt", "server/server.key"}


class InstallError(MotcuaError):
    exit_code = 2


@dataclass(frozen=True)
class Item:
    """A directory (data None) or a file of the target system, its mode and owner."""

    path: PurePosixPath
    data: bytes | None
    mode: int
    owner: str = "root"
    keep: bool = False  # stays on --uninstall (data, the broker's CA) unless --purge
    group: str = ""  # "": the owner's own group


@dataclass
class Plan:
    role: str
    device: str
    items: list[Item] = field(default_factory=list)
    units: list[str] = field(default_factory=list)  # to enable
    groups: tuple[str, ...] = ()
    restart_broker: bool = False
    udev: bool = False

    def add(self, path: PurePosixPath | str, data: bytes | str | None, mode: int,
            owner: str = "root", keep: bool = False, group: str = "") -> None:
        raw = data.encode() if isinstance(data, str) else data
        self.items.append(Item(PurePosixPath(path), raw, mode, owner, keep, group))


# --- the office file as installed ------------------------------------------------------

def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return ("inf" if v > 0 else "-inf") if math.isinf(v) else "nan" if v != v else repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"no TOML for {type(v).__name__}")


def _key(k: str) -> str:
    return k if k and all(c.isalnum() or c in "-_" for c in k) and k.isascii() else json.dumps(k)


def _table(name: str, table: dict[str, Any], out: list[str], header: str | None = None) -> None:
    out.append(header or f"[{name}]")
    subs = []
    for k, v in table.items():
        if isinstance(v, dict):
            subs.append((k, v))
        else:
            out.append(f"{_key(k)} = {_toml_value(v)}")
    out.append("")
    for k, v in subs:
        _table(f"{name}.{_key(k)}", v, out)


def toml_dumps(data: dict[str, Any]) -> str:
    """The office file's tables as TOML (tomllib only reads): checked by reading it back."""
    out: list[str] = []
    for name, value in data.items():
        if isinstance(value, list) and value and all(isinstance(t, dict) for t in value):
            for row in value:
                _table(name, row, out, header=f"[[{_key(name)}]]")
        elif isinstance(value, dict):
            _table(_key(name), value, out)
        else:
            raise TypeError(f"top-level key {name!r} is not a table")
    text = "\n".join(out)
    if tomllib.loads(text) != data:
        raise TypeError("the office file does not read back the same")
    return text


def _demo_key(office: config.OfficeConfig, office_file: Path) -> None:
    if kids := tokens.demo_keys(office.booking.keys):  # its private key is published
        kid = kids[0]
        raise InstallError(
            f"{office_file}: [booking.keys] {kid} là khóa mẫu (examples/keys) đã công bố "
            "khóa bí mật: ai cũng ký được lịch hẹn. Dùng khóa công khai của cổng đặt lịch "
            "(motcua booking keygen) rồi chạy lại.",
            f"{office_file}: [booking.keys] {kid} is the demo key (examples/keys), whose "
            "private key is published: anybody could sign bookings. List the booking "
            "portal's own public key (motcua booking keygen) and run this again.")


def _office_text(office_file: Path, broker: dict[str, str] | None, keys: dict[str, str],
                 web: dict[str, str] | None = None) -> str:
    data = tomllib.loads(office_file.read_text(encoding="utf-8"))
    if web:
        data["web"] = {**data.get("web", {}), **web}
    office_id = data["office"]["id"]
    if broker is not None:
        data["broker"] = broker
    data.setdefault("storage", {})["path"] = f"{VAR}/{office_id}.sqlite3"
    data.setdefault("printer", {})["file"] = f"{VAR}/tickets"
    if keys:
        data.setdefault("booking", {})["keys"] = keys
    head = (f"# The office file of this machine, written by `motcua install` from {office_file}.\n"
            "# Change that file and re-run `motcua install` rather than editing this one.\n\n")
    return head + toml_dumps(data)


# --- bundles ----------------------------------------------------------------------------

def _read_bundle(folder: Path) -> tuple[str, str, dict[str, str]]:
    """(role, device, [broker] table) of a device's credentials folder."""
    path = folder / "broker.toml"
    if (folder / "mosquitto.conf").exists() and not path.exists():
        raise InstallError(
            f"{folder} là thư mục của máy chủ MQTT; thiết bị cần thư mục devices/<tài khoản>/",
            f"{folder} is the broker's folder; a device needs its devices/<account>/ folder")
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))["broker"]
        username = table["username"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise InstallError(f"{path}: không đọc được tài khoản thiết bị ({exc})",
                           f"{path}: cannot read the device's account ({exc})") from exc
    role, _, device = username.partition("-")
    broker = {"url": table["url"], "username": username,
              "password_file": f"{ETC}/broker/password", "ca_file": f"{ETC}/broker/ca.crt"}
    return role, device, broker


def _bundle_items(plan: Plan, folder: Path, into: str = "broker") -> None:
    plan.add(ETC / into, None, 0o700, USER)
    for name in BUNDLE_FILES:
        if (folder / name).exists():
            plan.add(ETC / into / name, (folder / name).read_bytes(), 0o600, USER)


def _web_files(plan: Plan, office_file: Path) -> dict[str, str]:
    """[web]'s link secret and HTTPS files, copied to /etc/motcua/web/: the kiosk prints
    ticket links with the secret, the web server checks them and serves HTTPS."""
    files: dict[str, str] = {}
    raw = tomllib.loads(office_file.read_text(encoding="utf-8")).get("web", {})
    for key in ("secret_file", "cert_file", "key_file"):
        if raw.get(key):
            source = Path(raw[key]) if Path(raw[key]).is_absolute() else (
                office_file.parent / raw[key])
            if not files:
                plan.add(ETC / "web", None, 0o750, USER)
            files[key] = str(ETC / "web" / source.name)
            plan.add(files[key], source.read_bytes(), 0o600, USER)
    return files


def _web(plan: Plan, office: config.OfficeConfig, office_file: Path, bundle: Path,
         keys: dict[str, str], files: dict[str, str], motcua: str) -> list[units.Unit]:
    """The server's web pages (`motcua web`) when the office file has a [web] table: their
    own broker account (devices/web-<device> of the bundle), their own office file."""
    if "web" not in tomllib.loads(office_file.read_text(encoding="utf-8")):
        return []
    folder = bundle / "devices" / f"web-{office.web.device}"
    if not folder.is_dir():
        raise InstallError(
            f"{bundle}: thiếu devices/web-{office.web.device} cho [web]: chạy lại `motcua "
            "broker setup` với tệp cấu hình này",
            f"{bundle}: no devices/web-{office.web.device} for [web]: run `motcua broker "
            "setup` again with this office file")
    _, _, broker = _read_bundle(folder)
    broker = {k: v.replace(f"{ETC}/broker/", f"{ETC}/broker-web/") for k, v in broker.items()}
    plan.add(ETC / "web.toml", _office_text(office_file, broker, keys, files), 0o640, USER)
    _bundle_items(plan, folder, "broker-web")
    return [units.web(motcua, office.id)]


def _check_broker_dir(out: Path) -> None:
    if not (out / "mosquitto.conf").exists() or not (out / "devices/dispatcher-main").is_dir():
        raise InstallError(
            f"{out}: không phải thư mục của `motcua broker setup --out` (thiếu mosquitto.conf "
            "hoặc devices/dispatcher-main)",
            f"{out}: not the folder of `motcua broker setup --out` (no mosquitto.conf or "
            "devices/dispatcher-main)")


def _broker_dir(plan: Plan, out: Path) -> None:
    """The server's copy of `motcua broker setup --out` (CA, accounts, every device's
    bundle: setup needs them on its next run) at /etc/mosquitto/motcua."""
    src = out.resolve()
    for path in [src, *sorted(src.rglob("*"))]:
        rel = path.relative_to(src).as_posix()
        where = MOSQUITTO_DIR / rel if rel != "." else MOSQUITTO_DIR
        # What the broker reads (it drops root for the mosquitto user), as
        # broker_config.accounts.share_with_broker gives it; the rest stays root's.
        shared = rel in BROKER_READS or (rel.startswith("conf.d/") and rel.endswith(".conf"))
        group = "mosquitto" if shared else ""
        if path.is_dir():
            plan.add(where, None, 0o750 if shared else path.stat().st_mode & 0o777,
                     keep=True, group=group)
            continue
        data = path.read_bytes()
        if rel in ("mosquitto.conf", "mosquitto.service.d/motcua.conf"):
            data = data.replace(str(src).encode(), str(MOSQUITTO_DIR).encode())
        plan.add(where, data, 0o640 if shared else path.stat().st_mode & 0o777, keep=True,
                 group=group)
    plan.add(SYSTEMD / "mosquitto.service.d", None, 0o755)
    plan.add(SYSTEMD / "mosquitto.service.d/motcua.conf", units.mosquitto_drop_in(), 0o644)
    plan.restart_broker = True


# --- the plan of a role -----------------------------------------------------------------

def motcua_command() -> str:
    """The `motcua` of the venv this runs from (ExecStart of every unit)."""
    return str(Path(sys.prefix) / "bin" / "motcua")


def build_plan(role: str, office_file: Path, bundle: Path, motcua: str) -> Plan:
    office = config.load(office_file)  # every mistake named with its line, before anything
    _demo_key(office, office_file)
    if role == "server":
        _check_broker_dir(bundle)
    device_folder = bundle / "devices" / "dispatcher-main" if role == "server" else bundle
    got_role, device, broker = _read_bundle(device_folder)
    wanted = "dispatcher" if role == "server" else role
    if got_role != wanted:
        raise InstallError(
            f"{device_folder}: tài khoản {broker['username']} không dành cho vai trò {role}",
            f"{device_folder}: the account {broker['username']} is not one for a {role}")
    plan = Plan(role, device, groups=GROUPS[role])
    plan.add(ETC, None, 0o750, USER)
    plan.add(VAR, None, 0o750, USER, keep=True)
    keys: dict[str, str] = {}
    raw_keys = tomllib.loads(office_file.read_text(encoding="utf-8")).get("booking", {}).get(
        "keys", {})
    if raw_keys:
        plan.add(ETC / "keys", None, 0o750, USER)
    for kid, name in raw_keys.items():
        source = Path(name) if Path(name).is_absolute() else office_file.parent / name
        keys[kid] = str(ETC / "keys" / f"{kid}.pub.pem")
        plan.add(keys[kid], source.read_bytes(), 0o640, USER)
    web_files = _web_files(plan, office_file)
    plan.add(ETC / "office.toml", _office_text(office_file, broker, keys, web_files), 0o640,
             USER)
    _bundle_items(plan, device_folder)
    name = office.id
    if role == "server":
        _broker_dir(plan, bundle)
        made = [units.dispatcher(motcua, name), *units.backup(motcua, name),
                *_web(plan, office, office_file, bundle, keys, web_files, motcua)]
        plan.units = ["motcua-dispatcher.service", "motcua-backup.timer",
                      *(["motcua-web.service"] if len(made) > 3 else [])]
    else:
        args = {"kiosk": f"--kiosk {device}", "counter": f"--counter {device}",
                "display": f"--device {device}", "rating": f"--counter {device}"}[role]
        made = [units.screen(role, motcua, args, name)]
        plan.units = [made[0].name]
        plan.add(PurePosixPath("/etc/pam.d") / units.PAM_NAME, units.PAM, 0o644)
        if role == "kiosk" and office.printer.kind == "usb":
            vendor, _, product = office.printer.usb.partition(":")
            plan.add("/etc/udev/rules.d/60-motcua-printer.rules",
                     "# Written by `motcua install kiosk`: the ticket printer for group lp.\n"
                     f'SUBSYSTEM=="usb", ATTR{{idVendor}}=="{vendor.removeprefix("0x")}", '
                     f'ATTR{{idProduct}}=="{product.removeprefix("0x")}", MODE="0660", '
                     'GROUP="lp"\n', 0o644)
            plan.udev = True
    for unit in made:
        plan.add(SYSTEMD / unit.name, unit.text, 0o644)
    return plan


# --- applying it ------------------------------------------------------------------------

class Target:
    """The machine (root /) or a scratch root: where files go, and what is run or shown."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self.real = root.resolve() == Path("/")
        self.log: list[str] = []

    def at(self, path: PurePosixPath) -> Path:
        return self.root / str(path).lstrip("/")

    def run(self, argv: list[str]) -> None:
        line = shlex.join(argv)
        if not self.real:
            self.log.append(line)
            print(f"would run: {line}")
            return
        print(f"run: {line}")
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode:
            raise InstallError(f"lệnh thất bại: {line}", f"the command failed: {line}",
                               detail=done.stderr.strip())

    def chown(self, path: Path, owner: str, group: str) -> None:
        if self.real:
            entry = pwd.getpwnam(owner)
            gid = grp.getgrnam(group).gr_gid if group else entry.pw_gid
            os.chown(path, entry.pw_uid, gid)


def _write(t: Target, item: Item) -> bool:
    """Make one item so; True when something changed."""
    path = t.at(item.path)
    if item.data is None:
        changed = not path.is_dir()
        path.mkdir(parents=True, exist_ok=True)
    else:
        changed = not path.is_file() or path.read_bytes() != item.data
        if changed:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.motcua-new")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(item.data)
            os.replace(tmp, path)
    if path.stat().st_mode & 0o7777 != item.mode:
        os.chmod(path, item.mode)
        changed = True
    t.chown(path, item.owner, item.group)
    return changed


def _user(t: Target, groups: tuple[str, ...]) -> None:
    exists = _has_user() if t.real else False
    if not exists:
        t.run(["useradd", "--system", "--user-group", "--home-dir", str(VAR),
               "--no-create-home", "--shell", "/usr/sbin/nologin",
               "--comment", "motcua queue system", USER])
    have = [g for g in groups if _has_group(g)] if t.real else list(groups)
    if have:
        t.run(["usermod", "--append", "--groups", ",".join(have), USER])


def _has_user() -> bool:
    try:
        pwd.getpwnam(USER)
        return True
    except KeyError:
        return False


def _has_group(name: str) -> bool:
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def _manifest(t: Target) -> dict[str, Any] | None:
    path = t.at(MANIFEST)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(data, dict)
        return data
    except (OSError, ValueError, AssertionError) as exc:
        raise InstallError(f"{path} bị hỏng", f"{path} is damaged", detail=str(exc)) from exc


NEEDS = {"server": (units.MOSQUITTO, "mosquitto"), "kiosk": (units.CAGE, "cage"),
         "counter": (units.CAGE, "cage"), "display": (units.CAGE, "cage"),
         "rating": (units.CAGE, "cage")}


def install(t: Target, plan: Plan) -> None:
    binary, package = NEEDS[plan.role]
    if t.real and not Path(binary).exists():
        raise InstallError(f"thiếu {binary}: sudo apt-get install {package}",
                           f"{binary} is missing: sudo apt-get install {package}")
    old = _manifest(t)
    if old and old.get("installed", True) and old["role"] != plan.role:
        raise InstallError(
            f"máy này đã cài vai trò {old['role']}: gỡ trước (motcua install {old['role']} "
            "--uninstall)",
            f"this machine has the {old['role']} role: uninstall it first (motcua install "
            f"{old['role']} --uninstall)")
    _user(t, plan.groups)
    changed = [str(i.path) for i in plan.items if _write(t, i)]
    wanted = {str(i.path) for i in plan.items}
    for stale in (old or {}).get("files", []):  # what an earlier run wrote and this one not
        if stale["path"] not in wanted and not stale.get("keep"):
            t.at(PurePosixPath(stale["path"])).unlink(missing_ok=True)
    manifest = {"role": plan.role, "device": plan.device, "units": plan.units,
                "files": [{"path": str(i.path), "mode": oct(i.mode), "owner": i.owner,
                           "dir": i.data is None, "keep": i.keep} for i in plan.items]}
    _write(t, Item(MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode(), 0o640))
    for item in plan.items:
        if str(item.path) in changed:
            print(f"wrote {oct(item.mode)[2:]:>4} {item.owner}:{item.group or item.owner} "
                  f"{item.path}")
    print(f"{len(changed)} written, {len(plan.items) - len(changed)} already so, under "
          f"{t.root}" + ("" if t.real else " (owners not set: not the real root)"))
    check_installed(t)
    if plan.udev:
        t.run(["udevadm", "control", "--reload-rules"])
        t.run(["udevadm", "trigger", "--subsystem-match=usb"])
    t.run(["systemctl", "daemon-reload"])
    t.run(["systemctl", "enable", *plan.units])
    if plan.restart_broker:
        t.run(["systemctl", "restart", "mosquitto.service"])
    t.run(["systemctl", "restart", *plan.units])


def check_installed(t: Target) -> None:
    """The installed office file loads, with its keys and this device's password (in a
    scratch root, read with its /etc/motcua and /var/lib/motcua paths taken there)."""
    path = t.at(ETC / "office.toml")
    if t.real:
        config.load(path)
        return
    text = path.read_text(encoding="utf-8")
    for where in (ETC, VAR):
        text = text.replace(f'"{where}/', f'"{t.at(where)}/')
    probe = path.with_name(".office.toml.check")
    try:
        probe.write_text(text, encoding="utf-8")
        config.load(probe)
    finally:
        probe.unlink(missing_ok=True)


def uninstall(t: Target, role: str, purge: bool) -> None:
    old = _manifest(t)
    if old is None:
        print(f"motcua is not installed under {t.root} (no {MANIFEST}): nothing to do.")
        return
    if old.get("installed", True) and old["role"] != role:
        raise InstallError(f"máy này cài vai trò {old['role']}, không phải {role}",
                           f"this machine has the {old['role']} role, not {role}")
    if old["units"]:
        t.run(["systemctl", "disable", "--now", *old["units"]])
    entries = old["files"] + [{"path": str(MANIFEST), "dir": False, "keep": False}]
    kept: dict[str, Any] = {"files": []}
    if not purge:  # what stays, so that a later --purge knows it (as root's, in /etc)
        kept = {**old, "installed": False, "units": [],
                "files": [e for e in old["files"] if e.get("keep")]}
        entries = [e for e in entries if not e.get("keep")]
    for e in sorted(entries, key=lambda e: e["path"], reverse=True):  # files before dirs
        path = t.at(PurePosixPath(e["path"]))
        if e["dir"]:
            if purge and e.get("keep"):
                shutil.rmtree(path, ignore_errors=True)
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        else:
            path.unlink(missing_ok=True)
    if not purge and kept["files"]:
        _write(t, Item(MANIFEST, (json.dumps(kept, indent=1) + "\n").encode(), 0o640))
    t.run(["systemctl", "daemon-reload"])
    if role == "server" and old.get("installed", True):
        t.run(["systemctl", "restart", "mosquitto.service"])
    if purge:
        with contextlib.suppress(OSError):  # kept's note lived here
            t.at(ETC).rmdir()
        t.run(["userdel", USER])
    else:
        print(f"kept: {VAR} (the data), {MOSQUITTO_DIR if role == 'server' else ''} and the "
              f"{USER} user; --purge removes them too")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="motcua install", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("role", choices=ROLES, help="what this machine is")
    p.add_argument("--root", type=Path, default=Path("/"),
                   help="install under this folder instead of / (nothing is run)")
    p.add_argument("--office", type=Path, help="the office file (office.toml)")
    p.add_argument("--bundle", type=Path,
                   help="server: the folder of `motcua broker setup --out`; a device: its "
                        "devices/<account>/ folder from there")
    p.add_argument("--uninstall", action="store_true", help="remove what install wrote")
    p.add_argument("--purge", action="store_true",
                   help="with --uninstall: also /var/lib/motcua, the broker's CA and the user")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    t = Target(args.root)
    if t.real and os.geteuid() != 0:
        raise InstallError("cần quyền root: sudo motcua install ...",
                           "this needs root: sudo motcua install ...")
    if args.uninstall:
        uninstall(t, args.role, args.purge)
        return 0
    if args.office is None or args.bundle is None:
        raise InstallError("cần --office và --bundle", "--office and --bundle are required")
    motcua = motcua_command()
    if motcua.startswith(("/root/", "/home/")):
        msg = (f"{motcua}: các dịch vụ (ProtectHome) không đọc được /home, /root; cài "
               "motcua vào /opt/motcua", f"{motcua}: the services (ProtectHome) cannot "
               "read /home or /root; install motcua into /opt/motcua")
        if t.real:
            raise InstallError(*msg)
        print(f"warning: {msg[1]}", file=sys.stderr)
    install(t, build_plan(args.role, args.office, args.bundle, motcua))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, "motcua install"))
