"""Shared fixtures: the demo office in a temporary folder, signed tokens, a real Mosquitto."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from broker_config.dev import DevBroker
from motcua import config, tokens

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "office.toml"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# A Wednesday with no holiday (24 Nov 2026 is Vietnam Cultural Day, a public holiday).
DAY = datetime(2026, 11, 25, tzinfo=TZ)
ARTIFACTS = ROOT / "tests" / "artifacts"


def at(hhmm: str, day: datetime = DAY) -> datetime:
    h, m = hhmm.split(":")
    return day.replace(hour=int(h), minute=int(m))


# Tests drive devices far faster than people can: no per-device limits, except in the
# tests of the limits themselves (limits=DEFAULT_LIMITS keeps the office defaults).
NO_LIMITS = "[limits]\nkiosk_per_minute = 0\ncounter_per_minute = 0\n"
DEFAULT_LIMITS = ""


def write_office(folder: Path, limits: str = NO_LIMITS, **replace: str) -> Path:
    """The demo office file in `folder`, its paths made absolute and the store inside it."""
    text = EXAMPLE.read_text(encoding="utf-8")
    start, end = text.index("[limits]"), text.index("[booking]\n")
    text = text[:start] + limits + "\n" + text[end:]
    # Tests list their own devices (a TOML table cannot be given twice).
    text = text[:text.index("[devices]")] + text[text.index("[kiosk]"):]
    text = text.replace('"keys/demo-portal.pub.pem"', f'"{ROOT}/examples/keys/demo-portal.pub.pem"')
    text = text.replace('"../var/demo/office.sqlite3"', f'"{folder}/office.sqlite3"')
    text = text.replace('"../var/demo/tickets"', f'"{folder}/tickets"')
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "office.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def office_file(tmp_path: Path) -> Path:
    return write_office(tmp_path)


@pytest.fixture
def office(office_file: Path) -> config.OfficeConfig:
    return config.load(office_file)


@pytest.fixture(scope="session")
def portal_key():  # type: ignore[no-untyped-def]
    return load_pem_private_key((ROOT / "examples/keys/demo-portal.key.pem").read_bytes(), None)


TokenMaker = Callable[..., str]


@pytest.fixture
def make_token(portal_key) -> TokenMaker:  # type: ignore[no-untyped-def]
    def make(booking_id: str, start: datetime, service: str = "A", office: str = "demo",
             minutes: int = 30, kid: str = "demo-portal", key=None, **claims) -> str:  # type: ignore[no-untyped-def]
        body = {"jti": booking_id, "aud": office, "svc": service, "start": start.isoformat(),
                "end": (start + timedelta(minutes=minutes)).isoformat(),
                "iat": int(start.timestamp()) - 86400 * 3, **claims}
        return tokens.sign(body, key or portal_key, kid)
    return make


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[DevBroker]:
    with DevBroker(tmp_path / "broker") as b:
        yield b


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def motcua_command() -> list[str]:
    return [sys.executable, "-m", "cli.main"]


def with_storage(office: config.OfficeConfig, path: Path) -> config.OfficeConfig:
    return dataclasses.replace(office, storage=path)


os.environ.setdefault("PYTHONUNBUFFERED", "1")
