"""Draw a queue ticket as a 1-bit Pillow image for a thermal printer, Vietnamese first."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import segno
from PIL import Image, ImageDraw, ImageFont

from motcua.config import OfficeConfig

FONT_DIR = Path(__file__).parent / "fonts"
REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
# Antialiased grey below this level prints as a dot: a little bolder than 50 %, because
# thin hairlines of small diacritics vanish on thermal paper first.
INK_THRESHOLD = 170
# The probe covers the tallest stacked marks and the deepest descenders, so lines of
# any Vietnamese text get the same box and never touch each other.
LINE_PROBE = "ẪỖẴỮẤỰẶgjpqyỵ|"

Color = int  # in "L" mode: 0 is ink, 255 is paper
INK: Color = 0
PAPER: Color = 255


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    # BASIC layout: precomposed NFC letters need no shaping and it is the same everywhere.
    return ImageFont.truetype(str(BOLD if bold else REGULAR), size,
                              layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=64)
def _line_box(f: ImageFont.FreeTypeFont) -> tuple[int, int]:
    """Top and bottom of any line of text relative to the ascender line."""
    left, top, right, bottom = f.getbbox(LINE_PROBE, anchor="la")
    return min(0, top), bottom


def nfc(text: str) -> str:
    # Decomposed marks (NFD, common from some keyboards) stack wrongly: compose first.
    return unicodedata.normalize("NFC", text)


def wrap(text: str, f: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Break text into lines no wider than width, by words, splitting over-long words."""
    lines: list[str] = []
    for paragraph in nfc(text).split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if f.getlength(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            while f.getlength(word) > width:  # a word wider than the paper: cut it
                cut = max(1, next(i for i in range(len(word), 0, -1)
                                  if f.getlength(word[:i]) <= width or i == 1))
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


class Sheet:
    """A tall strip of paper that text and rules are laid onto from the top down."""

    def __init__(self, width: int, scale: float):
        self.width = width
        self.scale = scale
        self.margin = round(14 * scale)
        self.inner = width - 2 * self.margin
        self.im = Image.new("L", (width, 4000), PAPER)
        self.draw = ImageDraw.Draw(self.im)
        self.y = self.margin

    def px(self, value: float) -> int:
        return max(1, round(value * self.scale))

    def font(self, size: float, bold: bool = False) -> ImageFont.FreeTypeFont:
        return font(self.px(size), bold)

    def space(self, value: float) -> None:
        self.y += self.px(value)

    def text(self, text: str, size: float, bold: bool = False, align: str = "center",
             left: int | None = None, width: int | None = None, fill: Color = INK,
             gap: float = 4) -> int:
        """Wrap and draw text; return the height it took."""
        f = self.font(size, bold)
        x0 = self.margin if left is None else left
        w = self.inner if width is None else width
        top, bottom = _line_box(f)
        start = self.y
        for line in wrap(text, f, w):
            length = f.getlength(line)
            x = x0 + {"center": (w - length) / 2, "right": w - length}.get(align, 0)
            self.draw.text((x, self.y - top), line, font=f, fill=fill, anchor="la")
            self.y += bottom - top + self.px(gap)
        self.y -= self.px(gap)
        return self.y - start

    def rule(self, dashed: bool = False, before: float = 10, after: float = 10) -> None:
        self.space(before)
        thick = self.px(2)
        if dashed:
            dash = self.px(8)
            for x in range(self.margin, self.width - self.margin, 2 * dash):
                self.draw.rectangle((x, self.y, min(x + dash, self.width - self.margin) - 1,
                                     self.y + thick - 1), fill=INK)
        else:
            self.draw.rectangle((self.margin, self.y, self.width - self.margin - 1,
                                 self.y + thick - 1), fill=INK)
        self.y += thick
        self.space(after)

    def band(self, draw_inside: Callable[[], None], pad: float = 8) -> None:
        """A black band with white text: seen from across the hall at a glance."""
        top = self.y
        self.space(pad)
        probe = self.im.copy()
        draw_inside()
        self.space(pad)
        bottom = self.y
        # Draw the text once to know its height, then paint the band and draw it again
        # in white on top: simpler than measuring every wrapped line beforehand.
        self.im.paste(probe.crop((0, top, self.width, bottom)), (0, top))
        self.draw.rectangle((self.margin, top, self.width - self.margin - 1, bottom - 1),
                            fill=INK)
        self.y = top + self.px(pad)
        draw_inside()
        self.y = bottom

    def paste(self, im: Image.Image, x: int, y: int | None = None) -> None:
        self.im.paste(im, (x, self.y if y is None else y))

    def finish(self) -> Image.Image:
        self.y += self.margin
        cropped = self.im.crop((0, 0, self.width, self.y))
        return cropped.point(lambda v: 255 if v >= INK_THRESHOLD else 0, mode="1")


def qr_image(content: str, module_px: int) -> Image.Image:
    """The QR code as an "L" image, with its 4-module quiet zone so scanners find it."""
    code = segno.make_qr(content, error="m")
    rows = [bytes(PAPER if not dark else INK for dark in row)
            for row in code.matrix_iter(scale=1, border=4)]
    im = Image.frombytes("L", (len(rows[0]), len(rows)), b"".join(rows))
    return im.resize((im.width * module_px, im.height * module_px), Image.Resampling.NEAREST)


def issued_at(ticket: dict[str, Any], office: OfficeConfig) -> datetime:
    return datetime.fromisoformat(ticket["issued_at"]).astimezone(office.tz)


def qr_content(ticket: dict[str, Any], office: OfficeConfig) -> str:
    """What staff scan: enough to find the ticket of the day without any personal data."""
    return f"motcua:{office.id}:{issued_at(ticket, office):%Y-%m-%d}:{ticket['number']}"


def ticket_name(ticket: dict[str, Any], office: OfficeConfig) -> str:
    """A file-safe name for one printed ticket: its day and number."""
    return f"{issued_at(ticket, office):%Y-%m-%d}_{ticket['number']}"


def _hhmm(stamp: str | None, office: OfficeConfig) -> str:
    return datetime.fromisoformat(stamp).astimezone(office.tz).strftime("%H:%M") if stamp else ""


def _wait_lines(ahead: int, minutes: int) -> tuple[str, str]:
    if ahead <= 0:
        return "Bạn là người tiếp theo", "You are next"
    minutes = max(1, minutes)  # "about 0 min" reads as a promise nobody can keep
    people = "person" if ahead == 1 else "people"
    return (f"Trước bạn còn {ahead} người — khoảng {minutes} phút",
            f"{ahead} {people} ahead of you — about {minutes} min")


def _arrival_lines(booking: dict[str, Any], office: OfficeConfig) -> tuple[str, str]:
    arrival = booking.get("arrival")
    if arrival == "late":
        # Late bookings join the general queue (DESIGN.md): say so, not only "late".
        return "Đến muộn — xếp hàng chung", "Late — general queue"
    if arrival == "early":
        start = datetime.fromisoformat(booking["start"]).astimezone(office.tz)
        opens = start.timestamp() - 60 * office.booking.call_ahead_minutes
        at = datetime.fromtimestamp(opens, office.tz).strftime("%H:%M")
        return f"Đến sớm — ưu tiên từ {at}", f"Early — priority from {at}"
    return "Đúng giờ — ưu tiên theo giờ hẹn", "On time — called by appointment time"


def render_ticket(ticket: dict[str, Any], office: OfficeConfig, width_px: int) -> Image.Image:
    """The ticket of PROTOCOL.md as a 1-bit image width_px wide (576: 80 mm, 384: 58 mm)."""
    # Text shrinks less than the paper: on 58 mm it wraps rather than becoming too small
    # for the elderly to read.
    s = Sheet(width_px, 0.55 + 0.45 * width_px / 576)
    service = office.services.get(ticket["service"])
    when = issued_at(ticket, office)

    s.text(office.name.upper(), 26, bold=True)
    s.rule(before=10, after=12)

    s.text("SỐ THỨ TỰ · YOUR NUMBER", 20)
    s.space(2)
    number = nfc(str(ticket["number"]))
    size = s.px(170)
    while font(size, True).getlength(number) > s.inner and size > 24:
        size -= 4
    big = font(size, True)
    left, top, right, bottom = big.getbbox(number, anchor="la")
    s.draw.text(((s.width - (right - left)) / 2 - left, s.y - top), number, font=big,
                fill=INK, anchor="la")
    s.y += bottom - top
    s.space(12)

    if ticket.get("priority"):
        s.band(lambda: s.text("★ ƯU TIÊN · PRIORITY ★", 26, bold=True, fill=PAPER))
        s.space(12)

    s.text(service.name if service else ticket["service"], 32, bold=True)
    s.space(4)
    s.text(service.name_en if service else "", 24)

    booking = ticket.get("booking")
    if booking:
        s.rule(dashed=True, before=14, after=12)
        slot = f"{_hhmm(booking.get('start'), office)}–{_hhmm(booking.get('end'), office)}"
        s.text(f"Lịch hẹn · Appointment {slot}", 24, bold=True)
        s.space(6)
        vi, en = _arrival_lines(booking, office)
        s.text(vi, 22, bold=True)
        s.text(en, 20)
        if booking.get("id"):
            s.space(6)
            s.text(f"Mã lịch hẹn · Booking: {booking['id']}", 18)

    if ticket.get("status", "waiting") == "waiting":
        s.rule(before=14, after=12)
        vi, en = _wait_lines(int(ticket.get("ahead") or 0), int(ticket.get("est_wait_min") or 0))
        s.text(vi, 25, bold=True)
        s.space(2)
        s.text(en, 21)

    s.rule(dashed=True, before=14, after=14)
    code = qr_image(qr_content(ticket, office), 5 if width_px >= 512 else 4)
    top = s.y
    s.paste(code, s.margin - 4 * 5 + s.px(12), top)  # the quiet zone may eat the margin
    text_left = s.margin + code.width - 4 * 5 + s.px(12)
    column = s.width - s.margin - text_left
    s.y = top + s.px(22)
    s.text(when.strftime("%H:%M"), 40, bold=True, align="left", left=text_left, width=column)
    s.space(6)
    s.text(f"{WEEKDAYS_VI[when.weekday()]}, {when:%d/%m/%Y}", 21, align="left",
           left=text_left, width=column)
    s.space(4)
    s.text(f"Issued {when:%a %d %b %Y}", 18, align="left", left=text_left, width=column)
    s.y = max(s.y, top + code.height)

    s.rule(before=4, after=12)
    s.text("Vui lòng chờ gọi số", 24, bold=True)
    s.space(2)
    s.text("Please wait for your number", 20)
    return s.finish()
