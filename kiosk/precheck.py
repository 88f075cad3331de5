"""The kiosk's own look at a scanned code, for instant feedback; the dispatcher stays the judge."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import jwt

from motcua import tokens
from motcua.config import OfficeConfig
from motcua.model import Booking

JWS_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Verdict:
    """code None: send the token to the dispatcher; otherwise the error to show at once.

    code is a protocol error code, or the kiosk's own `not_motcua` for a code that is not a
    booking token at all (a web address, a bank transfer code).
    """

    code: str | None
    booking: Booking | None = None
    booking_date: date | None = None


def looks_like_token(text: str) -> bool:
    if len(text) > tokens.MAX_TOKEN_CHARS or not JWS_RE.match(text):
        return False
    try:
        header = jwt.get_unverified_header(text)
    except jwt.InvalidTokenError:
        return False
    return "alg" in header


def precheck(text: str, office: OfficeConfig) -> Verdict:
    """Check format, signature and office with the office's public keys. Dates are the
    dispatcher's: a booking moved to another day keeps its old QR code, and only the
    dispatcher knows where it went. A key the kiosk does not know is left to the dispatcher
    too: its office file may list a newer portal key than this kiosk's."""
    if not looks_like_token(text):
        return Verdict("not_motcua")
    kid = jwt.get_unverified_header(text).get("kid")
    if not isinstance(kid, str) or kid not in office.booking.keys:
        return Verdict(None)
    try:
        verified = tokens.verify(text, office.booking.keys, office.id, date.min, office.tz)
    except tokens.TokenError as exc:
        if exc.code == "wrong_date":  # genuine, for this office: its day is not ours to judge
            return Verdict(None, exc.booking)
        return Verdict(exc.code, booking_date=exc.booking_date)
    return Verdict(None, verified.booking)
