"""Booking tokens: exactly the valid ones pass, every other one gets its protocol code."""

from __future__ import annotations

import base64
import json
from datetime import date

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from motcua import tokens
from motcua.tokens import TokenError, verify
from tests.conftest import TZ, at


def check(office, token: str, today: date = date(2026, 11, 25)):  # type: ignore[no-untyped-def]
    return verify(token, office.booking.keys, office.id, today, TZ)


def code(office, token: str, today: date = date(2026, 11, 25)) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(TokenError) as err:
        check(office, token, today)
    return err.value.code


def test_a_valid_token(office, make_token) -> None:  # type: ignore[no-untyped-def]
    v = check(office, make_token("BK-2026-000123", at("09:00"), name="Nguyễn V. A"))
    assert v.booking.id == "BK-2026-000123" and v.booking.service == "A"
    assert v.booking.start == at("09:00") and v.booking.name == "Nguyễn V. A"
    assert v.kid == "demo-portal"


def test_garbage(office) -> None:  # type: ignore[no-untyped-def]
    for junk in ("", "hello", "a.b.c", "x" * 5000, "eyJ.eyJ.sig", "https://example.com/qr"):
        assert code(office, junk) == "invalid_token"


def test_forged_with_another_key_under_our_kid(office, make_token) -> None:  # type: ignore[no-untyped-def]
    assert code(office, make_token("BK-1", at("09:00"), key=Ed25519PrivateKey.generate())) \
        == "invalid_token"


def test_tampered_payload(office, make_token) -> None:  # type: ignore[no-untyped-def]
    header, payload, sig = make_token("BK-1", at("09:00")).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["svc"] = "B"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert code(office, f"{header}.{forged}.{sig}") == "invalid_token"


def test_unknown_kid_and_other_algorithms(office, make_token) -> None:  # type: ignore[no-untyped-def]
    assert code(office, make_token("BK-1", at("09:00"), kid="portal-1999")) == "invalid_token"
    hs = jwt.encode({"jti": "BK-1", "aud": "demo"}, "secret" * 6, algorithm="HS256",
                    headers={"kid": "demo-portal"})
    assert code(office, hs) == "invalid_token"
    # PyJWT's stubs want a key even for "none", which takes none.
    none = jwt.encode({"jti": "BK-1", "aud": "demo"}, None, algorithm="none",  # type: ignore[arg-type]
                      headers={"kid": "demo-portal"})
    assert code(office, none) == "invalid_token"


def test_other_office_and_other_day(office, make_token) -> None:  # type: ignore[no-untyped-def]
    assert code(office, make_token("BK-1", at("09:00"), office="hcm-q1")) == "wrong_office"
    with pytest.raises(TokenError) as err:
        check(office, make_token("BK-1", at("09:00")), today=date(2026, 11, 26))
    assert err.value.code == "wrong_date" and err.value.booking_date == date(2026, 11, 25)


def test_missing_or_bad_claims(office, portal_key) -> None:  # type: ignore[no-untyped-def]
    base = {"jti": "BK-1", "aud": "demo", "svc": "A", "start": at("09:00").isoformat(),
            "end": at("09:30").isoformat(), "iat": 1}
    for broken in ({k: v for k, v in base.items() if k != "svc"},
                   {**base, "start": "tomorrow"}, {**base, "end": at("08:00").isoformat()},
                   {**base, "start": "2026-11-25T09:00:00"}, {**base, "jti": 7}):
        token = jwt.encode(broken, portal_key, algorithm="EdDSA", headers={"kid": "demo-portal"})
        assert code(office, token) == "invalid_token", broken


def test_a_token_from_another_library_verifies(office, portal_key) -> None:  # type: ignore[no-untyped-def]
    """Build the JWS by hand (RFC 7515 + 8037), as any other JWT library would."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    header = b64(json.dumps({"alg": "EdDSA", "typ": "JWT", "kid": "demo-portal"}).encode())
    payload = b64(json.dumps({"jti": "BK-7", "aud": "demo", "svc": "B", "iat": 1,
                              "start": "2026-11-25T13:00:00+07:00",
                              "end": "2026-11-25T13:30:00+07:00"}).encode())
    sig = b64(portal_key.sign(f"{header}.{payload}".encode()))
    assert check(office, f"{header}.{payload}.{sig}").booking.service == "B"


def test_the_published_demo_key_is_recognised(office) -> None:  # type: ignore[no-untyped-def]
    """The example office trusts the demo portal key: a real office must not (the
    dispatcher says so loudly at every start, and names it in its presence)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from dispatcher.run import _warnings

    assert tokens.demo_keys(office.booking.keys) == ["demo-portal"]
    fresh = {"portal-2026": Ed25519PrivateKey.generate().public_key()}
    assert tokens.demo_keys(fresh) == []
    assert _warnings(office) == ["demo_key"]
