"""The key of a ticket's link: an HMAC of office id, day and number with the office's secret.

Nobody without the secret can make the key of another number or day, so a guessed link
shows nothing; the kiosk's printer and the web server compute the same key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

KEY_CHARS = 22  # 128 bits in URL-safe base64
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NUMBER_RE = re.compile(r"^[A-Z]{0,3}\d{1,6}$")


def ticket_key(secret: str, office: str, day: str, number: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"motcua-ticket|{office}|{day}|{number}".encode(),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii")[:KEY_CHARS]


def key_ok(secret: str, office: str, day: str, number: str, key: str) -> bool:
    if not (DAY_RE.match(day) and NUMBER_RE.match(number)) or len(key) != KEY_CHARS:
        return False
    return hmac.compare_digest(ticket_key(secret, office, day, number).encode(),
                               key.encode("ascii", "replace"))


def ticket_url(public_url: str, secret: str, office: str, day: str, number: str) -> str:
    """What the printed ticket's QR code opens."""
    return f"{public_url.rstrip('/')}/t/{day}/{number}?k={ticket_key(secret, office, day, number)}"
