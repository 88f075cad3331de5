"""Officers: who serves at a counter. A code, a name, roles, and a PIN kept only as a hash.

The PIN hash is PBKDF2-HMAC-SHA256 with a random salt, written as one string an office
file can hold: `pbkdf2-sha256$<iterations>$<salt, base64>$<hash, base64>`. `motcua officer
pin` makes it. Wrong PINs are counted in the hall (a fact each), so a counter locks an officer
out after a few tries whatever process restarts in between."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from motcua.config import OfficeConfig

SCHEME = "pbkdf2-sha256"
ITERATIONS = 120_000  # ~60 ms here: slow for a guesser, quick enough for one sign-in
PIN_RE = re.compile(r"^[0-9]{4,8}$")
HASH_RE = re.compile(r"^pbkdf2-sha256\$([0-9]{4,7})\$([A-Za-z0-9+/=]{16,64})"
                     r"\$([A-Za-z0-9+/=]{40,64})$")
ROLES = ("counter", "head")
MAX_TRIES = 5  # wrong PINs for one officer, or at one counter, within LOCK_WINDOW
LOCK_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class Officer:
    code: str
    name: str
    pin_hash: str
    roles: tuple[str, ...] = ("counter",)


def hash_pin(pin: str, iterations: int = ITERATIONS) -> str:
    if not PIN_RE.fullmatch(pin):
        raise ValueError("a PIN is 4 to 8 digits")
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return "$".join((SCHEME, str(iterations), base64.b64encode(salt).decode(),
                     base64.b64encode(digest).decode()))


def check_pin(stored: str, pin: str) -> bool:
    """Whether `pin` is the one `stored` was made from; in constant time once hashed."""
    m = HASH_RE.fullmatch(stored)
    if m is None or not PIN_RE.fullmatch(pin):
        return False
    iterations, salt, digest = int(m.group(1)), base64.b64decode(m.group(2)), m.group(3)
    got = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return hmac.compare_digest(base64.b64encode(got).decode(), digest)


def verify(office: OfficeConfig, code: str, pin: str) -> Officer | None:
    """The officer of `code` if `pin` is theirs, else None (an unknown code costs the same
    time as a wrong PIN, so answers never tell which codes exist)."""
    officer = office.officers.get(code)
    if officer is None:
        check_pin(_decoy(), pin)
        return None
    return officer if check_pin(officer.pin_hash, pin) else None


class PinChecks:
    """PINs checked before their sign-in reaches the one writer: PBKDF2 takes ~60 ms, and the
    dispatcher must not stand still for it (every command of the hall waits behind the one
    being handled). `ahead`, from paho's thread, checks on a helper thread and then queues
    the command; `verify`, on the writer, takes that answer, or checks there and then when
    there is none (a command handled directly, as the tests and the tools do)."""

    READY_KEPT = 64  # answers not taken (their command was dropped) are forgotten past this

    def __init__(self, office: OfficeConfig, per_device: int = 8, most_waiting: int = 32):
        self.office, self.per_device, self.most_waiting = office, per_device, most_waiting
        self._ready: OrderedDict[tuple[str, str], Officer | None] = OrderedDict()
        self._lock = threading.Lock()
        self._waiting: dict[str, int] = {}  # checks waiting, by the device that sent them
        self._pool: ThreadPoolExecutor | None = None

    def ahead(self, device: str, code: str, pin: str, then: Callable[[], None]) -> bool:
        """Check (code, pin) in the background, then call `then`. False when `device` has
        `per_device` checks waiting already (more tries than it may make before it locks),
        or all devices `most_waiting`: the caller drops the command, a counter sends it
        again. Each device's checks go in the order they came."""
        with self._lock:
            if (self._waiting.get(device, 0) >= self.per_device
                    or sum(self._waiting.values()) >= self.most_waiting):
                return False
            self._waiting[device] = self._waiting.get(device, 0) + 1
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="pin-check")
        self._pool.submit(self._check, device, code, pin, then)
        return True

    def _check(self, device: str, code: str, pin: str, then: Callable[[], None]) -> None:
        try:
            found = verify(self.office, code, pin)
            with self._lock:
                self._ready[(code, pin)] = found
                while len(self._ready) > self.READY_KEPT:
                    self._ready.popitem(last=False)
        finally:
            with self._lock:
                self._waiting[device] -= 1
                if not self._waiting[device]:
                    del self._waiting[device]
        then()

    def verify(self, code: str, pin: str) -> Officer | None:
        with self._lock:
            if (code, pin) in self._ready:
                return self._ready.pop((code, pin))
        return verify(self.office, code, pin)


def sign_in_of(payload: bytes) -> tuple[str, str] | None:
    """(officer, pin) of a sign-in command's body; None for any other command or any body
    that is not one (the command then goes its usual way, to be refused there)."""
    if b"sign_in" not in payload:
        return None
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    if not isinstance(body, dict) or body.get("type") != "sign_in":
        return None
    code, pin = body.get("officer"), body.get("pin")
    return (code, pin) if isinstance(code, str) and isinstance(pin, str) else None


def locked(failures: list[datetime], now: datetime) -> datetime | None:
    """When a lock made by these wrong tries ends, or None if they lock nothing."""
    recent = [at for at in failures if now - at < LOCK_WINDOW]
    if len(recent) < MAX_TRIES:
        return None
    return recent[-MAX_TRIES] + LOCK_WINDOW


@functools.cache
def _decoy() -> str:
    return hash_pin("0000")
