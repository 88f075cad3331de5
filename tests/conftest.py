"""Shared fixtures: the demo office in a temporary folder, signed tokens, a real Mosquitto.

Tiers: a test that needs a real Mosquitto is marked `mqtt`, one that opens a Kivy window
under Xvfb `kivy`, one that starts a child process (the motcua CLI, a dispatcher process,
a tool) `process`. `pytest -m "not mqtt and not kivy and not process"` (make test-fast) runs
the rest. The marks come from the fixtures a test uses (see `needs`) and from explicit
@pytest.mark.mqtt / kivy / process where a test starts things itself; a test with none of
them that starts a child process anyway fails, so nothing slow or system-dependent slips
into the fast tier.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
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
    # Each call said once: a board test waits for every saying (tests of `repeat` set it).
    if not any("repeat" in new for new in replace.values()):
        text = text.replace("\nchime = true\n", "\nchime = true\nrepeat = 1\n", 1)
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


TIERS = ("mqtt", "kivy", "process")
F = TypeVar("F", bound=Callable[..., Any])


def needs(*marks: str) -> Callable[[F], F]:
    """Under @pytest.fixture: every test using the fixture (even through another) gets `marks`."""
    assert set(marks) <= set(TIERS), marks

    def mark(fixture: F) -> F:
        fixture._motcua_needs = marks  # type: ignore[attr-defined]
        return fixture
    return mark


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        wanted = {m for defs in info.name2fixturedefs.values() for d in defs
                  for m in getattr(d.func, "_motcua_needs", ())}
        for name in sorted(wanted - {m.name for m in item.iter_markers()}):
            item.add_marker(getattr(pytest.mark, name))


_SPAWN = subprocess.Popen._execute_child  # type: ignore[attr-defined]
# ctypes.util.find_library runs `ldconfig -p` when a library (libzbar for pyzbar) is first
# loaded: how a library is found, not a process a test starts.
_LIBRARY_LOOKUP = {"ldconfig"}
_SPAWNED = pytest.StashKey[list[str]]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test outside the three tiers must not start a child process (broker, Xvfb, CLI...):
    from its first fixture (module-scoped ones too) to its teardown."""
    if any(item.get_closest_marker(t) for t in TIERS):
        return
    started = item.stash[_SPAWNED] = []

    def refuse(self: subprocess.Popen[Any], args: Any, *rest: Any, **kw: Any) -> None:
        if isinstance(args, list | tuple) and os.path.basename(str(args[0])) in _LIBRARY_LOOKUP:
            return _SPAWN(self, args, *rest, **kw)
        started.append(repr(args))
        raise AssertionError(f"{item.nodeid} started a child process ({args!r}) but is not "
                             f"marked {' / '.join(TIERS)}: mark it, or its fixture (needs)")
    subprocess.Popen._execute_child = refuse  # type: ignore[attr-defined]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    try:
        return (yield)
    finally:
        subprocess.Popen._execute_child = _SPAWN  # type: ignore[attr-defined]
        if started := item.stash.get(_SPAWNED, None):
            raise AssertionError(f"unmarked test started child processes: {started}")


@pytest.fixture
@needs("mqtt")
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
