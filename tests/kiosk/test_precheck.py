"""The kiosk's own look at a token: instant answers where it can be sure, the rest sent on."""

from __future__ import annotations

from datetime import date

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.precheck import looks_like_token, precheck
from tests.conftest import at


def test_a_valid_booking_goes_on_to_the_dispatcher(office, make_token) -> None:  # type: ignore[no-untyped-def]
    v = precheck(make_token("BK-1", at("09:00")), office)
    assert v.code is None and v.booking is not None and v.booking.id == "BK-1"


def test_other_codes_are_not_motcua_codes(office) -> None:  # type: ignore[no-untyped-def]
    for text in ("https://baohiemxahoi.gov.vn/", "00020101021138570010A000000727",
                 "a.b.c", "", "x" * 5000, "eyJ.eyJ.sig"):
        assert precheck(text, office).code == "not_motcua", text
        assert not looks_like_token(text)


def test_wrong_office_and_signature_are_told_at_once(office, make_token) -> None:  # type: ignore[no-untyped-def]
    assert precheck(make_token("BK-2", at("09:00"), office="other"), office).code \
        == "wrong_office"
    forged = make_token("BK-4", at("09:00"), key=Ed25519PrivateKey.generate())
    assert precheck(forged, office).code == "invalid_token"


def test_the_day_is_the_dispatchers(office, make_token) -> None:  # type: ignore[no-untyped-def]
    """A booking moved to today keeps its old QR code: only the dispatcher knows it moved,
    so a genuine code for another day goes on to it (issue 16: the kiosk refused it)."""
    other_day = precheck(make_token("BK-3", at("09:00").replace(day=27)), office)
    assert other_day.code is None and other_day.booking is not None
    assert other_day.booking.start.date() == date(2026, 11, 27)


def test_what_the_kiosk_cannot_be_sure_of_is_left_to_the_dispatcher(office, make_token) -> None:  # type: ignore[no-untyped-def]
    # A portal key newer than this kiosk's office file.
    newer = make_token("BK-5", at("09:00"), kid="portal-2027", key=Ed25519PrivateKey.generate())
    assert precheck(newer, office).code is None
