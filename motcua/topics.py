"""Every MQTT topic of PROTOCOL.md, built in one place."""

from __future__ import annotations

import re

ROOT = "motcua"
ROLES = ("kiosk", "counter", "admin", "rating", "web")
ID_RE = re.compile(r"^[a-z0-9-]{1,32}$")


def cmd(office: str, role: str, device: str) -> str:
    return f"{ROOT}/{office}/cmd/{role}/{device}"


def cmd_filter(office: str) -> str:
    return f"{ROOT}/{office}/cmd/+/+"


def reply(office: str, role: str, device: str) -> str:
    return f"{ROOT}/{office}/reply/{role}/{device}"


def state_config(office: str) -> str:
    return f"{ROOT}/{office}/state/config"


def state_board(office: str) -> str:
    return f"{ROOT}/{office}/state/board"


def state_order(office: str) -> str:
    return f"{ROOT}/{office}/state/order"


def state_counter(office: str, counter: str) -> str:
    return f"{ROOT}/{office}/state/counter/{counter}"


def event_call(office: str) -> str:
    return f"{ROOT}/{office}/event/call"


def event_ticket(office: str) -> str:
    return f"{ROOT}/{office}/event/ticket"


def presence(office: str, role: str, device: str) -> str:
    return f"{ROOT}/{office}/presence/{role}/{device}"


def parse_cmd(topic: str) -> tuple[str, str, str] | None:
    """(office, role, device) of a command topic, or None if it is not one."""
    parts = topic.split("/")
    if (len(parts) != 5 or parts[0] != ROOT or parts[2] != "cmd" or parts[3] not in ROLES
            or not ID_RE.fullmatch(parts[1]) or not ID_RE.fullmatch(parts[4])):
        return None
    return parts[1], parts[3], parts[4]
