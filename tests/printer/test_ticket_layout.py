"""Ticket images: both paper widths, readable QR code, long text wraps inside the paper."""

from __future__ import annotations

import dataclasses
import unicodedata
from pathlib import Path

import pytest
from PIL import Image
from pyzbar import pyzbar

from motcua.config import OfficeConfig
from motcua.model import Service
from motcua.protocol import TicketInfo
from printer.layout import font, qr_content, render_ticket, ticket_name, wrap

WIDTHS = [576, 384]


def read_qr(image: Image.Image) -> list[str]:
    return [c.data.decode() for c in pyzbar.decode(image.convert("L"))]


def ink_columns(image: Image.Image, x0: int, x1: int) -> int:
    """How many dots are black between columns x0 and x1."""
    return image.crop((x0, 0, x1, image.height)).convert("L").histogram()[0]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("which", ["walk_in", "booking"])
def test_ticket_renders_at_both_widths(width: int, which: str, office: OfficeConfig,
                                       request: pytest.FixtureRequest, artifacts: Path) -> None:
    ticket: TicketInfo = request.getfixturevalue(which)
    im = render_ticket(ticket, office, width)
    im.save(artifacts / f"ticket-{which}-{width}.png")
    assert im.mode == "1" and im.width == width
    assert 500 < im.height < 1100, "a ticket, not a scroll"
    assert read_qr(im) == [f"motcua:bd-tdm:2026-11-24:{ticket.number}"]


def test_qr_content_and_file_name_use_the_office_day(office: OfficeConfig,
                                                    walk_in: TicketInfo) -> None:
    # 23:30 UTC on the 23rd is already the 24th in Viet Nam.
    walk_in = walk_in.model_copy(update={"issued_at": "2026-11-23T23:30:00+00:00"})
    assert qr_content(walk_in, office) == "motcua:bd-tdm:2026-11-24:A012"
    assert ticket_name(walk_in, office) == "2026-11-24_A012"


def test_priority_and_booking_make_the_ticket_longer(office: OfficeConfig,
                                                     walk_in: TicketInfo,
                                                     booking: TicketInfo) -> None:
    plain = render_ticket(walk_in, office, 576)
    priority = walk_in.model_copy(update={"priority": True})
    assert render_ticket(priority, office, 576).height > plain.height
    assert render_ticket(booking, office, 576).height > plain.height


@pytest.mark.parametrize("width", WIDTHS)
def test_long_text_wraps_inside_the_margins(width: int, office: OfficeConfig,
                                           booking: TicketInfo, artifacts: Path) -> None:
    long_name = unicodedata.normalize(  # NFD, as some keyboards type it
        "NFD", "Giải quyết hưởng bảo hiểm xã hội một lần cho người lao động")
    services = {**office.services, "W": Service(
        "W", long_name, "One-time social insurance withdrawal for workers", "WX")}
    wide = dataclasses.replace(
        office, services=services,
        name="Bảo hiểm xã hội thành phố Hồ Chí Minh — Bộ phận tiếp nhận và trả kết quả")
    assert booking.booking is not None
    slot = booking.booking.model_copy(update={"id": "BK-2026-000123456789-ABCDEFGHIJKLMNOP",
                                              "service": "W", "arrival": "late"})
    booking = booking.model_copy(update={"number": "WX1234", "service": "W", "ahead": 123,
                                         "est_wait_min": 245, "booking": slot})
    im = render_ticket(booking, wide, width)
    im.save(artifacts / f"ticket-long-{width}.png")
    margin = round(14 * (0.55 + 0.45 * width / 576))
    assert ink_columns(im, 0, margin) == 0
    assert ink_columns(im, width - margin, width) == 0
    assert read_qr(im) == ["motcua:bd-tdm:2026-11-24:WX1234"]


def test_wrap_fits_every_line_and_composes_marks() -> None:
    f = font(24, True)
    text = unicodedata.normalize("NFD", "Trước bạn còn 12 người — khoảng 45 phút")
    lines = wrap(text, f, 320)
    assert lines == ["Trước bạn còn 12 người", "khoảng 45 phút"]
    assert all(f.getlength(line) <= 320 for line in lines)
    assert all(unicodedata.is_normalized("NFC", line) for line in lines)
    one_word = wrap("BK-2026-000123456789-ABCDEFGHIJKLMNOP", f, 200)
    assert len(one_word) > 1 and all(f.getlength(line) <= 200 for line in one_word)


def test_a_called_ticket_shows_no_wait(office: OfficeConfig, walk_in: TicketInfo) -> None:
    waiting = render_ticket(walk_in, office, 576)
    # a reprint after the call: "3 people ahead" would be false
    called = walk_in.model_copy(update={"status": "serving"})
    assert render_ticket(called, office, 576).height < waiting.height


def test_a_very_long_ticket_is_not_cut_off(office: OfficeConfig,
                                           walk_in: TicketInfo) -> None:
    wordy = dataclasses.replace(office, name=" ".join(["Bảo hiểm xã hội Việt Nam"] * 60))
    im = render_ticket(walk_in, wordy, 384)
    assert im.height > 2000
    footer = im.crop((0, im.height - 60, im.width, im.height)).convert("L")
    assert footer.histogram()[0] > 0, "the footer is still printed at the end"
    assert read_qr(im) == ["motcua:bd-tdm:2026-11-24:A012"]


@pytest.mark.parametrize("width", [576, 384])
def test_a_test_print_says_so_above_and_below(width: int, office: OfficeConfig,
                                              walk_in: TicketInfo, artifacts: Path) -> None:
    """Issue 14: `motcua ticket` printed what looked exactly like a citizen's A001."""
    real = render_ticket(walk_in, office, width).convert("L")
    test = render_ticket(walk_in, office, width, test_print=True).convert("L")
    assert test.height > real.height

    def dark(img: Image.Image, y: int) -> float:  # the share of black in a row
        row = img.crop((0, y, img.width, y + 1)).tobytes()  # mode L: one byte a pixel
        return sum(1 for p in row if p < 128) / img.width

    def band(img: Image.Image, rows: range) -> bool:  # a black band, not a rule's line
        return sum(dark(img, y) > 0.5 for y in rows) >= 15

    assert band(test, range(0, 70)) and not band(real, range(0, 70))  # the band on top
    assert band(test, range(test.height - 90, test.height))  # and the one at the foot
    test.save(artifacts / f"ticket-test-print-{width}.png")


@pytest.mark.parametrize("width", WIDTHS)
def test_with_a_public_url_the_qr_opens_the_tickets_page(width: int, office: OfficeConfig,
                                                        walk_in: TicketInfo,
                                                        artifacts: Path) -> None:
    from motcua.config import WebConfig
    from motcua.ticket_links import key_ok

    web = WebConfig(public_url="https://bhxh-tdm.local:8443", secret="k" * 32)
    office = dataclasses.replace(office, web=web)
    im = render_ticket(walk_in, office, width)
    im.save(artifacts / f"ticket-link-{width}.png")
    [url] = read_qr(im)
    base, _, key = url.partition("?k=")
    assert base == f"https://bhxh-tdm.local:8443/t/2026-11-24/{walk_in.number}"
    assert key_ok(web.secret or "", "bd-tdm", "2026-11-24", walk_in.number, key)
