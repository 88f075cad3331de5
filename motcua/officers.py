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
import re
import secrets
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


def locked(failures: list[datetime], now: datetime) -> datetime | None:
    """When a lock made by these wrong tries ends, or None if they lock nothing."""
    recent = [at for at in failures if now - at < LOCK_WINDOW]
    if len(recent) < MAX_TRIES:
        return None
    return recent[-MAX_TRIES] + LOCK_WINDOW


@functools.cache
def _decoy() -> str:
    return hash_pin("0000")
