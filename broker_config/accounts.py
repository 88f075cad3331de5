"""Who may use an office's broker: one account per device, its least-privilege ACL, and the
hashed Mosquitto password file."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from motcua import topics
from motcua.errors import MotcuaError

ID_RE = re.compile(r"^[a-z0-9-]{1,32}$")
# The roles that hold an account; "dispatcher" is the office's one writer.
ROLES = ("dispatcher", "admin", "counter", "kiosk", "display", "rating", "web")
DEVICE_LISTS = {"kiosks": "kiosk", "displays": "display", "admins": "admin",
                "ratings": "rating"}
DEFAULT_ADMINS = ("cli",)  # `motcua close-day --device cli`
DISPATCHER_DEVICE = "main"  # dispatcher/run.py serve(device="main")


class SetupError(MotcuaError):
    """A mistake the person running setup can fix, said in Vietnamese and English."""

    exit_code = 2


@dataclass(frozen=True, order=True)
class Account:
    role: str
    device: str

    @property
    def username(self) -> str:
        # Roles hold no hyphen, so "kiosk-k-2" still reads back as kiosk "k-2".
        return f"{self.role}-{self.device}"

    @classmethod
    def parse(cls, text: str) -> Account:
        """`kiosk-k1` or `kiosk/k1` (what `--remove` takes)."""
        role, sep, device = text.replace("/", "-", 1).partition("-")
        if not sep or role not in ROLES or not ID_RE.match(device):
            raise SetupError(
                f"{text!r} không phải tên thiết bị (ví dụ kiosk-k1, counter-3, display-sanh)",
                f"{text!r} is not a device name (e.g. kiosk-k1, counter-3, display-hall)")
        return cls(role, device)


def office_devices(office_file: Path, counters: list[str]) -> list[Account]:
    """Every account the office file implies: its counters, the optional
    `[devices] kiosks / displays / admins` lists, admin `cli` and the dispatcher."""
    try:
        data = tomllib.loads(office_file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SetupError(f"không đọc được {office_file}", f"cannot read {office_file}",
                         detail=str(exc)) from exc
    table = data.get("devices", {})
    if not isinstance(table, dict):
        raise SetupError(f"{office_file}: [devices] phải là một bảng",
                         f"{office_file}: [devices] must be a table")
    unknown = sorted(set(table) - set(DEVICE_LISTS))
    if unknown:
        raise SetupError(
            f"{office_file}: [devices] có khóa lạ {unknown}; dùng {sorted(DEVICE_LISTS)}",
            f"{office_file}: [devices] has unknown keys {unknown}; use {sorted(DEVICE_LISTS)}")
    found = [Account("dispatcher", DISPATCHER_DEVICE)]
    found += [Account("counter", c) for c in counters]
    web = data.get("web")
    if isinstance(web, dict):  # `motcua web`: one account, web-<device> (config checks it)
        found.append(Account("web", str(web.get("device", "web"))))
    for key, role in DEVICE_LISTS.items():
        ids = table.get(key, list(DEFAULT_ADMINS) if role == "admin" else [])
        if not isinstance(ids, list):
            raise SetupError(f"{office_file}: devices.{key} phải là danh sách mã thiết bị",
                             f"{office_file}: devices.{key} must be a list of device ids")
        for d in ids:
            if not isinstance(d, str) or not ID_RE.match(d):
                raise SetupError(
                    f"{office_file}: devices.{key}: {d!r} phải gồm 1-32 ký tự a-z, 0-9, -",
                    f"{office_file}: devices.{key}: {d!r} must be 1-32 of a-z, 0-9, -")
            if role == "rating" and d not in counters:
                raise SetupError(
                    f"{office_file}: devices.ratings: {d!r} không phải mã quầy "
                    f"(có: {', '.join(counters)})",
                    f"{office_file}: devices.ratings: {d!r} is not a counter id "
                    f"(known: {', '.join(counters)})")
            found.append(Account(role, d))
    seen: set[Account] = set()
    for a in found:
        if a in seen:
            raise SetupError(f"{office_file}: thiết bị {a.username} bị khai báo hai lần",
                             f"{office_file}: device {a.username} is listed twice")
        seen.add(a)
    return found


def _under(topic: str, levels: int) -> str:
    """The filter for everything below the first `levels` levels of a topics.py topic."""
    return "/".join([*topic.split("/")[:levels], "#"])


def grants(office: str, a: Account, counters: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(access, topic filter) pairs: what this account may read and write, nothing more.
    `counters`: the office's counters, for whom the web server relays (its counter page)."""
    state = _under(topics.state_config(office), 3)
    events = _under(topics.event_call(office), 3)
    own_presence = ("readwrite", topics.presence(office, a.role, a.device))
    # Every device may see whether the dispatcher is up, to say "out of service".
    dispatcher_up = ("read", topics.presence(office, "dispatcher", "+"))
    if a.role == "dispatcher":
        return [("readwrite", _under(topics.state_config(office), 2))]
    if a.role == "display":
        return [("read", state), ("read", events), own_presence, dispatcher_up]
    if a.role == "web":
        # The pages show everything an office head watches; the counter page sends each
        # counter's commands, counter by counter (never a wildcard to write).
        relay = [g for c in counters for g in (("write", topics.cmd(office, "counter", c)),
                                               ("read", topics.reply(office, "counter", c)))]
        # A phone page's rating goes as the web service itself (cmd/web/<device>).
        rate = [("write", topics.cmd(office, "web", a.device)),
                ("read", topics.reply(office, "web", a.device))]
        return [("read", state), ("read", events),
                ("read", _under(topics.presence(office, "web", a.device), 3)), own_presence,
                *relay, *rate]
    mine = [("write", topics.cmd(office, a.role, a.device)),
            ("read", topics.reply(office, a.role, a.device)), own_presence, dispatcher_up]
    if a.role == "kiosk":
        # The board is public (it hangs on the wall); the kiosk shows waiting counts from it.
        return [*mine, ("read", topics.state_config(office)),
                ("read", topics.state_board(office))]
    if a.role == "counter":
        # The counter terminal shows calls as they are announced (counter/remote.py).
        return [*mine, ("read", state), ("read", topics.event_call(office))]
    if a.role == "rating":
        # Its counter's state (who serves, who is signed in) and the ticket events (a
        # service ended: time to ask), nothing of the other counters' commands.
        return [*mine, ("read", topics.state_config(office)),
                ("read", topics.state_counter(office, a.device)),
                ("read", topics.event_ticket(office))]
    # admin tools: their own commands, and everything an office manager may watch
    presence = _under(topics.presence(office, "admin", a.device), 3)
    return [*mine, ("read", state), ("read", events), ("read", presence)]


def render_acl(office: str, accounts: list[Account]) -> str:
    lines = [f"# Mosquitto ACL of motcua office {office}, written by `motcua broker setup`.",
             "# Least privilege: an account may use only the topics listed under it; a",
             "# device speaks only for itself. Anything not listed is denied. Re-run setup",
             "# rather than editing this file, then reload the broker (SIGHUP).", ""]
    counters = tuple(a.device for a in accounts if a.role == "counter")
    for a in sorted(accounts, key=lambda a: (ROLES.index(a.role), a.device)):
        lines.append(f"user {a.username}")
        lines += [f"topic {access} {t}" for access, t in grants(office, a, counters)]
        lines.append("")
    return "\n".join(lines)


def mosquitto_passwd() -> str:
    found = shutil.which("mosquitto_passwd") or (
        "/usr/bin/mosquitto_passwd" if os.access("/usr/bin/mosquitto_passwd", os.X_OK) else None)
    if not found:
        raise SetupError("chưa cài mosquitto_passwd: apt-get install -y mosquitto",
                         "mosquitto_passwd is not installed: apt-get install -y mosquitto")
    return found


def read_password_file(path: Path) -> dict[str, str]:
    """username -> hash line, as Mosquitto keeps them."""
    if not path.exists():
        return {}
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        user, sep, _ = line.partition(":")
        if sep and user and not line.startswith("#"):
            found[user] = line
    return found


def hash_passwords(plain: dict[str, str]) -> dict[str, str]:
    """Hash new passwords with mosquitto_passwd -U on a private temporary file, so no
    password ever shows on a command line."""
    if not plain:
        return {}
    with tempfile.TemporaryDirectory(prefix="motcua-pw-") as tmp:
        path = Path(tmp) / "passwd"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.writelines(f"{user}:{pw}\n" for user, pw in plain.items())
        done = subprocess.run([mosquitto_passwd(), "-U", str(path)], capture_output=True,
                              text=True, timeout=60)
        if done.returncode != 0:
            raise SetupError("mosquitto_passwd lỗi", "mosquitto_passwd failed",
                             detail=done.stderr.strip())
        hashed = read_password_file(path)
    if set(hashed) != set(plain) or any(
            hashed[u] == f"{u}:{plain[u]}" for u in plain):  # never keep a plain password
        raise SetupError("mosquitto_passwd không băm mật khẩu",
                         "mosquitto_passwd did not hash the passwords")
    return hashed


def share_with_broker(out: Path, user: str) -> None:
    """Let the broker's user read what it needs (it drops root); nobody else reads secrets."""
    if os.geteuid() != 0 or user == "root":
        return
    try:
        gid = pwd.getpwnam(user).pw_gid
    except KeyError:
        return
    for path in (out, out / "ca", out / "server", out / "conf.d", out / "passwd", out / "acl",
                 out / "ca" / "ca.crt", out / "ca" / "crl.pem", out / "server" / "server.crt",
                 out / "server" / "server.key", *sorted((out / "conf.d").glob("*.conf"))):
        if path.exists():
            os.chown(path, 0, gid)
            os.chmod(path, 0o750 if path.is_dir() else 0o640)
