"""Booking tokens: the compact JWS (EdDSA) in a booking's QR code, checked offline."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from motcua.model import Booking

REQUIRED_CLAIMS = ("jti", "aud", "svc", "start", "end", "iat")
# SHA-256 of the raw public key of the demo portal (examples/keys): its private half is
# published with the code, so an office that trusts it accepts forged bookings.
DEMO_KEYS = frozenset({"3433f952b0e6855ddc2aa8fda3b6fa2ec9544cdbf043f440dff99e755a52f956"})
MAX_TOKEN_CHARS = 2048


def fingerprint(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()


def demo_keys(keys: dict[str, Ed25519PublicKey]) -> list[str]:
    """The key ids among `keys` that are the published demo key."""
    return sorted(kid for kid, key in keys.items() if fingerprint(key) in DEMO_KEYS)


class TokenError(Exception):
    """A token the kiosk must refuse; `code` is the protocol's error code."""

    def __init__(self, code: str, detail: str, booking_date: date | None = None,
                 booking: Booking | None = None):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.booking_date = booking_date
        self.booking = booking  # for wrong_date: the (genuine) booking the token holds


@dataclass(frozen=True)
class VerifiedToken:
    booking: Booking
    office: str
    kid: str


def verify(token: str, keys: dict[str, Ed25519PublicKey], office_id: str, today: date,
           tz) -> VerifiedToken:  # type: ignore[no-untyped-def]
    """Check signature (by `kid`), office and day; raise TokenError with the protocol code."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise TokenError("invalid_token", "empty or oversized token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise TokenError("invalid_token", f"not a JWS: {exc}") from exc
    if header.get("alg") != "EdDSA":
        raise TokenError("invalid_token", f"algorithm {header.get('alg')!r} is not EdDSA")
    kid = header.get("kid")
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise TokenError("invalid_token", f"unknown signing key {kid!r}")
    try:
        claims = jwt.decode(
            token, key, algorithms=["EdDSA"], audience=office_id,
            # Times are judged against the office clock passed in, not the system clock.
            options={"require": list(REQUIRED_CLAIMS), "verify_exp": False,
                     "verify_iat": False, "verify_nbf": False},
        )
    except jwt.InvalidAudienceError as exc:
        raise TokenError("wrong_office", f"the booking is for another office: {exc}") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenError("invalid_token", f"bad token: {exc}") from exc
    try:
        start = datetime.fromisoformat(claims["start"])
        end = datetime.fromisoformat(claims["end"])
        if start.tzinfo is None or end.tzinfo is None or end <= start:
            raise ValueError("slot times need an offset and end after start")
        jti, svc = claims["jti"], claims["svc"]
        if not (isinstance(jti, str) and 0 < len(jti) <= 64 and isinstance(svc, str) and svc):
            raise ValueError("jti and svc must be non-empty strings")
        name = claims.get("name")
        if name is not None and not isinstance(name, str):
            raise ValueError("name must be a string")
    except (TypeError, ValueError) as exc:
        raise TokenError("invalid_token", f"bad claims: {exc}") from exc
    booking = Booking(jti, svc, start, end, name)
    booking_day = start.astimezone(tz).date()
    if booking_day != today:
        raise TokenError("wrong_date", f"the booking is for {booking_day}", booking_day, booking)
    return VerifiedToken(booking, office_id, str(kid))


def sign(claims: dict, private_key: Ed25519PrivateKey, kid: str) -> str:
    """Issue a token (the portal's side; used by `motcua booking issue`, demos and tests)."""
    return jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": kid, "typ": "JWT"})
