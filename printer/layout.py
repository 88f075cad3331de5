"""Draw a queue ticket as a 1-bit Pillow image for a thermal printer, Vietnamese first."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from motcua import checks
from motcua.config import OfficeConfig
from motcua.protocol import BookingInfo, TicketInfo
from motcua.ticket_links import ticket_url

FONT_DIR = Path(__file__).parent / "fonts"
REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
# Spelt out rather than strftime("%a %b"), which follows whatever locale the kiosk runs in.
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
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
    return min(0, int(top)), int(bottom)


def nfc(text: str) -> str:
    # Decomposed marks (NFD, common from some keyboards) stack wrongly: compose first.
    return unicodedata.normalize("NFC", text)


def _greedy(paragraph: str, f: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in paragraph.split():
        candidate = f"{line} {word}" if line else word
        if f.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while f.getlength(word) > width:  # a word wider than the paper: cut it
            cut = next((i for i in range(len(word) - 1, 0, -1)
                        if f.getlength(word[:i]) <= width), 1)
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    lines.append(line)
    return lines


def wrap(text: str, f: ImageFont.FreeTypeFont, width: int, balance: bool = True) -> list[str]:
    """Break text into lines no wider than width.

    A phrase " — " that does not fit on one line breaks there, dash dropped ("Trước bạn
    còn 3 người / khoảng 12 phút"), and balanced lines leave no lonely last word.
    """
    lines: list[str] = []
    for paragraph in nfc(text).split("\n"):
        if f.getlength(paragraph) > width and " — " in paragraph:
            lines.extend(wrap(paragraph.replace(" — ", "\n"), f, width, balance))
            continue
        greedy = _greedy(paragraph, f, width)
        if balance and len(greedy) > 1:
            # The narrowest width that still needs no more lines evens them out.
            low, high = 1, width
            while low < high:
                mid = (low + high) // 2
                if len(_greedy(paragraph, f, mid)) <= len(greedy):
                    high = mid
                else:
                    low = mid + 1
            greedy = _greedy(paragraph, f, low)
        lines.extend(greedy)
    return lines


class Sheet:
    """A tall strip of paper that text and rules are laid onto from the top down."""

    def __init__(self, width: int, scale: float):
        self.width = width
        self.scale = scale
        self.margin = round(14 * scale)
        self.inner = width - 2 * self.margin
        self.im = Image.new("L", (width, 1400), PAPER)
        self.draw = ImageDraw.Draw(self.im)
        self.y = self.margin

    def room(self, height: int) -> None:
        """Lengthen the strip when what comes next would run off its end."""
        if self.y + height + self.margin <= self.im.height:
            return
        longer = Image.new("L", (self.width, 2 * (self.y + height + self.margin)), PAPER)
        longer.paste(self.im, (0, 0))
        self.im, self.draw = longer, ImageDraw.Draw(longer)

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
        if not text.strip():
            return 0
        f = self.font(size, bold)
        x0 = self.margin if left is None else left
        w = self.inner if width is None else width
        top, bottom = _line_box(f)
        start = self.y
        for line in wrap(text, f, w):
            self.room(bottom - top)
            length = f.getlength(line)
            x = x0 + {"center": (w - length) / 2, "right": w - length}.get(align, 0)
            self.draw.text((x, self.y - top), line, font=f, fill=fill, anchor="la")
            self.y += bottom - top + self.px(gap)
        self.y -= self.px(gap)
        return self.y - start

    def rule(self, dashed: bool = False, before: float = 10, after: float = 10) -> None:
        self.space(before)
        thick = self.px(2)
        self.room(thick)
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

    def lines_height(self, text: str, size: float, bold: bool = False,
                     width: int | None = None, gap: float = 4) -> int:
        f = self.font(size, bold)
        top, bottom = _line_box(f)
        n = len(wrap(text, f, self.inner if width is None else width))
        return n * (bottom - top) + (n - 1) * self.px(gap)

    def band(self, text: str, size: float, pad: float = 8) -> None:
        """White bold text on a black band: seen from across the hall at a glance."""
        width = self.inner - 2 * self.px(pad)
        height = self.lines_height(text, size, True, width) + 2 * self.px(pad)
        self.room(height)
        self.draw.rectangle((self.margin, self.y, self.width - self.margin - 1,
                             self.y + height - 1), fill=INK)
        self.space(pad)
        self.text(text, size, bold=True, left=self.margin + self.px(pad), width=width,
                  fill=PAPER)
        self.space(pad)

    def paste(self, im: Image.Image, x: int) -> None:
        self.room(im.height)
        self.im.paste(im, (x, self.y))

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


def issued_at(ticket: TicketInfo, office: OfficeConfig) -> datetime:
    return datetime.fromisoformat(ticket.issued_at).astimezone(office.tz)


def qr_content(ticket: TicketInfo, office: OfficeConfig) -> str:
    """What staff scan: enough to find the ticket of the day without any personal data.
    With `[web] public_url` set, the ticket's own page (its day and number are in it), which
    the citizen's phone opens to follow the queue."""
    day = f"{issued_at(ticket, office):%Y-%m-%d}"
    if office.web.public_url and office.web.secret:
        return ticket_url(office.web.public_url, office.web.secret, office.id, day,
                          ticket.number)
    return f"motcua:{office.id}:{day}:{ticket.number}"


def ticket_name(ticket: TicketInfo, office: OfficeConfig) -> str:
    """A file-safe name for one printed ticket: its day and number."""
    number = re.sub(r"[^A-Za-z0-9-]", "-", ticket.number)
    return f"{issued_at(ticket, office):%Y-%m-%d}_{number}"


def _hhmm(stamp: str, office: OfficeConfig) -> str:
    return datetime.fromisoformat(stamp).astimezone(office.tz).strftime("%H:%M")


def _wait_lines(ahead: int, minutes: int) -> tuple[str, str]:
    if ahead <= 0:
        return "Bạn là người tiếp theo", "You are next"
    minutes = max(1, minutes)  # "about 0 min" reads as a promise nobody can keep
    people = "person" if ahead == 1 else "people"
    return (f"Trước bạn còn {ahead} người — khoảng {minutes} phút",
            f"{ahead} {people} ahead of you — about {minutes} min")


def _arrival_lines(booking: BookingInfo, office: OfficeConfig) -> tuple[str, str] | None:
    arrival = booking.arrival
    if arrival == "late":
        # Late bookings join the general queue (DESIGN.md): say so, not only "late".
        return "Đến muộn — xếp hàng chung", "Late — general queue"
    if arrival == "early":
        start = datetime.fromisoformat(booking.start).astimezone(office.tz)
        opens = start.timestamp() - 60 * office.booking.call_ahead_minutes
        at = datetime.fromtimestamp(opens, office.tz).strftime("%H:%M")
        return f"Đến sớm — ưu tiên từ {at}", f"Early — priority from {at}"
    if arrival == "on_time":
        return "Đúng giờ — ưu tiên theo giờ hẹn", "On time — called by appointment time"
    return None


def render_ticket(ticket: TicketInfo, office: OfficeConfig, width_px: int,
                  test_print: bool = False) -> Image.Image:
    """The ticket of docs/protocol.md as a 1-bit image width_px wide (576: 80 mm, 384: 58 mm).
    A test print says so above and below, so it is never taken for a citizen's number."""
    # Text shrinks less than the paper: on 58 mm it wraps rather than becoming too small
    # for the elderly to read.
    s = Sheet(width_px, 0.55 + 0.45 * width_px / 576)
    service = office.services.get(ticket.service)
    when = issued_at(ticket, office)

    if test_print:
        s.band("IN THỬ · TEST PRINT", 26)
        s.space(10)
    s.text(office.name.upper(), 26, bold=True)
    s.rule(before=10, after=12)

    s.text("SỐ THỨ TỰ · YOUR NUMBER", 20)
    s.space(2)
    number = nfc(ticket.number)
    size = s.px(170)
    while font(size, True).getlength(number) > s.inner and size > 24:
        size -= 4
    big = font(size, True)
    left, top, right, bottom = (int(v) for v in big.getbbox(number, anchor="la"))
    s.room(bottom - top)
    s.draw.text(((s.width - (right - left)) / 2 - left, s.y - top), number, font=big,
                fill=INK, anchor="la")
    s.y += bottom - top
    s.space(12)

    if ticket.priority:
        s.band("★ ƯU TIÊN · PRIORITY ★", 26)
        s.space(12)

    s.text(service.name if service else ticket.service, 32, bold=True)
    s.space(4)
    s.text(service.name_en if service else "", 24)

    requires = ticket.requires or (list(service.requires) if service else [])
    if lines := checks.prepare(requires):
        # What to have ready at the counter: the first line as a band, read from afar.
        s.space(14)
        s.band(lines[0][0].upper(), 22)
        s.space(4)
        s.text(lines[0][1], 20, bold=True)
        for vi, en in lines[1:]:
            s.space(6)
            s.text(vi, 21, bold=True)
            s.text(en, 19)

    booking = ticket.booking
    if booking is not None:
        s.rule(dashed=True, before=14, after=12)
        slot = f"{_hhmm(booking.start, office)}–{_hhmm(booking.end, office)}"
        s.text(f"Lịch hẹn · Appointment {slot}", 24, bold=True)
        s.space(6)
        if arrival := _arrival_lines(booking, office):
            s.text(arrival[0], 22, bold=True)
            s.text(arrival[1], 20)
        if booking.id:
            s.space(6)
            s.text(f"Mã lịch hẹn · Booking: {booking.id}", 18)

    if ticket.status == "waiting":
        s.rule(before=14, after=12)
        vi, en = _wait_lines(ticket.ahead, ticket.est_wait_min)
        s.text(vi, 25, bold=True)
        s.space(2)
        s.text(en, 21)

    s.rule(dashed=True, before=14, after=10)
    module = 5 if width_px >= 512 else 4
    code = qr_image(qr_content(ticket, office), module)
    quiet = 4 * module
    top = s.y
    # The code's own quiet zone stands in for the page margin, so the code lines up with
    # the text above; never cut into it, scanners need it.
    x = max(0, s.margin - quiet)
    s.paste(code, x)
    text_left = x + code.width - quiet + s.px(16)
    column = s.width - s.margin - text_left
    s.y = top + quiet
    s.text("Giờ lấy số · Issued", 18, align="left", left=text_left, width=column)
    s.space(4)
    s.text(when.strftime("%H:%M"), 40, bold=True, align="left", left=text_left, width=column)
    s.space(6)
    s.text(f"{WEEKDAYS_VI[when.weekday()]}, {when:%d/%m/%Y}", 21, align="left",
           left=text_left, width=column)
    s.space(4)
    s.text(f"{WEEKDAYS_EN[when.weekday()]} {when.day} {MONTHS_EN[when.month - 1]} {when.year}",
           18, align="left", left=text_left, width=column)
    if office.web.public_url and office.web.secret and not test_print:
        s.space(6)
        s.text("Quét mã để theo dõi lượt · Scan to follow your turn", 17, bold=True,
               align="left", left=text_left, width=column)
    s.y = max(s.y + quiet, top + code.height) - quiet

    s.rule(before=4, after=12)
    if test_print:
        s.band("IN THỬ · KHÔNG PHẢI SỐ THỨ TỰ", 24)
        s.space(4)
        s.text("Test print · not a queue number", 20)
        return s.finish()
    s.text("Vui lòng chờ gọi số", 24, bold=True)
    s.space(2)
    s.text("Please wait for your number", 20)
    return s.finish()
