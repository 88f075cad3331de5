"""Everything the kiosk says, in Vietnamese and English, in plain words with what to do next."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from motcua import checks
from motcua.protocol import MESSAGES

LANGS = ("vi", "en")
WEEKDAYS = {"vi": ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"),
            "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                   "Sunday")}
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")


def nfc(text: str) -> str:
    # Decomposed marks (NFD) stack and overlap in Kivy's text renderer: compose them.
    return unicodedata.normalize("NFC", text)


# key -> (Vietnamese, English)
UI: dict[str, tuple[str, str]] = {
    "switch": ("English", "Tiếng Việt"),
    "booking.title": ("Tôi có lịch hẹn", "I have a booking"),
    "booking.hint": ("Đưa mã QR vào camera", "Show the QR code to the camera"),
    "booking.help": ("Giữ mã QR cách camera khoảng 20 cm, thẳng và yên",
                     "Hold the QR code about 20 cm from the camera, flat and still"),
    "walkin.title": ("Lấy số thứ tự", "Take a number"),
    "walkin.hint": ("Chưa có lịch hẹn?\nChọn dịch vụ để lấy số",
                    "No booking?\nChoose a service to get a number"),
    "unreadable": ("Chưa đọc được mã QR. Giữ mã yên, gần hơn một chút, tránh lóa sáng.",
                   "The QR code does not read yet. Hold it still, a little closer, "
                   "away from glare."),
    "camera.offline": ("Camera chưa hoạt động. Vui lòng lấy số thứ tự thường hoặc hỏi cán bộ.",
                       "The camera is not working. Please take a regular number or ask staff."),
    "offline": ("Đang kết nối hệ thống…", "Connecting to the system…"),
    "services.title": ("Chọn dịch vụ", "Choose a service"),
    "services.waiting": ("{count} người đang chờ · khoảng {minutes} phút",
                         "{count} waiting · about {minutes} min"),
    "priority": ("Ưu tiên: người cao tuổi, người khuyết tật, phụ nữ mang thai",
                 "Priority: elderly, disabled, pregnant"),
    "priority.on": ("ĐÃ CHỌN ƯU TIÊN — chạm để bỏ", "PRIORITY CHOSEN — touch to undo"),
    "back": ("Quay lại", "Back"),
    "home": ("Về màn hình chính", "Back to start"),
    "busy": ("Đang xử lý, vui lòng chờ…", "One moment, please…"),
    "busy.slow": ("Hệ thống đang trả lời chậm. Vui lòng chờ thêm, hoặc hỏi cán bộ hướng dẫn.",
                  "The system is slow to answer. Please wait a little, or ask staff."),
    "result.number": ("Số thứ tự của bạn", "Your number"),
    "result.printing": ("Đang in phiếu…", "Printing your ticket…"),
    "result.take": ("Mời bạn lấy phiếu bên dưới", "Please take your ticket below"),
    "result.reprinted": ("Đã in lại phiếu. Mời bạn lấy phiếu bên dưới",
                         "Your ticket was printed again. Please take it below"),
    "result.noprint": ("Không in được phiếu: {reason} Hãy nhớ số này hoặc chụp ảnh màn hình, "
                       "và báo cán bộ.",
                       "The ticket could not be printed: {reason} Remember this number or "
                       "take a photo of the screen, and tell staff."),
    "result.screen_only": ("Hãy nhớ số này hoặc chụp ảnh màn hình.",
                           "Remember this number or take a photo of the screen."),
    "result.next": ("Bạn là người tiếp theo", "You are next"),
    "result.ahead": ("Trước bạn còn {ahead} người — khoảng {minutes} phút",
                     "{ahead} ahead of you — about {minutes} min"),
    "result.priority": ("Ưu tiên", "Priority"),
    "result.slot": ("Lịch hẹn {slot}", "Appointment {slot}"),
    "arrival.on_time": ("Đúng giờ — được gọi theo giờ hẹn", "On time — called by your time"),
    "arrival.early": ("Đến sớm — được ưu tiên từ {at}", "Early — priority from {at}"),
    "arrival.late": ("Đến muộn — xếp hàng chung", "Late — general queue"),
    "printer.paper_out": ("Máy in hết giấy.", "The printer is out of paper."),
    "printer.paper_low": ("Máy in sắp hết giấy.", "The printer is low on paper."),
    "printer.offline": ("Máy in không hoạt động.", "The printer is not working."),
    "printer.banner": ("{state} Số thứ tự sẽ hiện trên màn hình; hãy ghi nhớ hoặc chụp ảnh.",
                       "{state} Your number will be shown on screen: remember it or take a "
                       "photo."),
    "reprint": ("In lại phiếu", "Print it again"),
    "retry": ("Thử lại", "Try again"),
    "walkin.instead": ("Lấy số thứ tự thường", "Take a regular number"),
    "prepare.continue": ("Đã hiểu, lấy số", "I understand, take a number"),
    "prepare.body": ("Dịch vụ «{service}» cần kiểm tra {checks} tại quầy.",
                     "The service “{service}” checks your {checks} at the counter."),
    "prepare.todo": ("Chuẩn bị sẵn trước khi được gọi để không phải chờ lại.",
                     "Have it ready before you are called, so you need not wait again."),
}


def prepare_lines(requires: list[str] | None, lang: str) -> list[str]:
    """What to have ready at the counter, one line per check, in the kiosk's language."""
    i = 1 if lang == "en" else 0
    return [nfc(pair[i]) for pair in checks.prepare(requires or [])]


def check_names(requires: list[str], lang: str) -> str:
    return nfc(checks.names(requires, prose=True)[1 if lang == "en" else 0])


@dataclass(frozen=True)
class Notice:
    """An error screen: what happened and what to do, each as (Vietnamese, English)."""

    title: tuple[str, str]
    body: tuple[str, str]
    todo: tuple[str, str]


NOTICES: dict[str, Notice] = {
    "unreadable": Notice(
        ("Không đọc được mã QR", "The QR code cannot be read"),
        ("Camera thấy mã nhưng không đọc được.", "The camera sees a code but cannot read it."),
        ("Giữ mã yên, cách camera khoảng 20 cm, tránh lóa sáng; tăng độ sáng màn hình "
         "điện thoại. Nếu vẫn không được, hãy lấy số thứ tự thường.",
         "Hold it still about 20 cm away, out of glare; turn up your phone's brightness. "
         "If it still fails, take a regular number.")),
    "not_motcua": Notice(
        ("Đây không phải mã lịch hẹn", "This is not a booking code"),
        ("Mã QR này không phải mã lịch hẹn của BHXH.",
         "This QR code is not a social insurance booking code."),
        ("Hãy mở mã QR trong thư xác nhận lịch hẹn, hoặc lấy số thứ tự thường.",
         "Open the QR code from your booking confirmation, or take a regular number.")),
    "invalid_token": Notice(
        ("Mã lịch hẹn không hợp lệ", "This booking code is not valid"),
        ("Mã này không đúng hoặc đã bị thay đổi.", "The code is wrong or has been altered."),
        ("Vui lòng hỏi cán bộ hướng dẫn, hoặc lấy số thứ tự thường.",
         "Please ask staff, or take a regular number.")),
    "wrong_office": Notice(
        ("Lịch hẹn tại đơn vị khác", "Booked at another office"),
        ("Lịch hẹn này là của một cơ quan BHXH khác.",
         "This booking is for another social insurance office."),
        ("Vui lòng kiểm tra nơi hẹn trong thư xác nhận, hoặc lấy số thứ tự thường.",
         "Check the office in your booking confirmation, or take a regular number here.")),
    "wrong_date": Notice(
        ("Lịch hẹn không phải hôm nay", "Your booking is not for today"),
        ("Lịch hẹn của bạn là {day}.", "Your booking is for {day}."),
        ("Vui lòng quay lại đúng ngày hẹn, hoặc lấy số thứ tự thường hôm nay.",
         "Please come back on that day, or take a regular number today.")),
    "booking_cancelled": Notice(
        ("Lịch hẹn đã bị hủy", "This booking was cancelled"),
        ("Lịch hẹn này đã được hủy nên không thể lấy số.",
         "This booking was cancelled, so it cannot be checked in."),
        ("Bạn có thể lấy số thứ tự thường, hoặc đặt lịch hẹn mới.",
         "You can take a regular number, or make a new booking.")),
    "already_checked_in": Notice(
        ("Lịch hẹn đã được lấy số", "Already checked in"),
        ("Lịch hẹn này đã có số thứ tự {number}.", "This booking already has number {number}."),
        ("Nếu bạn chưa có phiếu, hãy chạm \"In lại phiếu\".",
         "If you have no ticket, touch \"Print it again\".")),
    "office_closed": Notice(
        ("Ngoài giờ làm việc", "The office is closed"),
        ("Hiện không cấp số thứ tự. Giờ làm việc: {hours}.",
         "No numbers are issued now. Opening hours: {hours}."),
        ("Vui lòng quay lại trong giờ làm việc{opens}.",
         "Please come back during opening hours{opens}.")),
    "no_reply": Notice(
        ("Hệ thống chưa trả lời", "The system is not answering"),
        ("Chưa lấy được số. Yêu cầu của bạn được giữ nguyên: thử lại sẽ không tạo số mới.",
         "No number yet. Your request is kept: trying again never makes a second number."),
        ("Chạm \"Thử lại\", hoặc hỏi cán bộ hướng dẫn.", "Touch \"Try again\", or ask staff.")),
    "rate_limited": Notice(
        ("Vui lòng chờ một chút", "Please wait a moment"),
        ("Máy đang nhận quá nhiều yêu cầu nên chưa cấp số.",
         "This kiosk has had too many requests, so no number was issued."),
        ("Chờ khoảng một phút rồi chạm lại, hoặc hỏi cán bộ tại quầy.",
         "Wait about a minute and touch again, or ask at a counter.")),
    "storage_unavailable": Notice(
        ("Tạm thời chưa cấp được số", "No numbers for the moment"),
        ("Hệ thống đang gặp sự cố và chưa ghi nhận được yêu cầu. Chưa có số nào được cấp.",
         "The system has a problem and could not record your request. No number was "
         "issued."),
        ("Vui lòng hỏi cán bộ tại quầy.", "Please ask at a counter.")),
    "unknown_service": Notice(
        ("Dịch vụ không có tại đây", "This service is not offered here"),
        ("Đơn vị này không nhận dịch vụ của lịch hẹn.",
         "This office does not handle the booked service."),
        ("Vui lòng hỏi cán bộ hướng dẫn.", "Please ask staff.")),
}


def ui(key: str, lang: str, **fields: object) -> str:
    vi, en = UI[key]
    text = en if lang == "en" else vi
    return nfc(text.format(**fields) if fields else text)


def day_text(day: date, lang: str) -> str:
    if lang == "en":
        return f"{WEEKDAYS['en'][day.weekday()]} {day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return f"{WEEKDAYS['vi'][day.weekday()]}, {day:%d/%m/%Y}"


def notice(code: str, lang: str, **fields: str) -> tuple[str, str, str]:
    """(title, body, what to do) for an error code; an unknown code gets the protocol's text."""
    i = 1 if lang == "en" else 0
    n = NOTICES.get(code)
    if n is None:
        message = MESSAGES.get(code, MESSAGES["bad_request"])[i]
        n = Notice(("Chưa lấy được số", "No number issued"), (message, message),
                   ("Vui lòng hỏi cán bộ hướng dẫn.", "Please ask staff."))
    defaults = {"day": "", "number": "", "opens": "", "hours": ""}
    values = {**defaults, **fields}
    return tuple(nfc(part[i].format(**values)) for part in (n.title, n.body, n.todo))  # type: ignore[return-value]


def opens_text(opens_at: str | None, lang: str) -> str:
    if not opens_at:
        return ""
    try:
        t = datetime.fromisoformat(opens_at)
    except ValueError:
        return ""
    return (f" (opens {t:%H:%M}, {day_text(t.date(), 'en')})" if lang == "en"
            else f" (mở cửa lúc {t:%H:%M}, {day_text(t.date(), 'vi')})")
