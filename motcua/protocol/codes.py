"""The contract's version and error codes, with what each says to a person (docs/protocol.md)."""

from __future__ import annotations

from typing import Any

VERSION = 1

# code -> (Vietnamese, English): what the citizen or the staff should read.
MESSAGES: dict[str, tuple[str, str]] = {
    "bad_request": ("Yêu cầu không hợp lệ.", "Invalid request."),
    "unknown_service": ("Không có dịch vụ này tại đơn vị.", "This office has no such service."),
    "unknown_counter": ("Không có quầy này.", "No such counter."),
    "unknown_ticket": ("Không tìm thấy số thứ tự này trong hàng chờ.",
                       "This ticket number is not waiting."),
    "invalid_token": ("Mã QR không hợp lệ hoặc không đọc được. Vui lòng lấy số thứ tự thường "
                      "hoặc hỏi cán bộ hướng dẫn.",
                      "This QR code is not valid or cannot be read. Please take a regular "
                      "number or ask staff."),
    "wrong_office": ("Lịch hẹn này là của đơn vị BHXH khác. Vui lòng kiểm tra lại nơi hẹn.",
                     "This booking is for another office. Please check where you booked."),
    "wrong_date": ("Lịch hẹn không phải hôm nay.", "This booking is not for today."),
    "already_checked_in": ("Lịch hẹn này đã được lấy số. Có thể in lại phiếu.",
                           "This booking is already checked in. The ticket can be reprinted."),
    "booking_cancelled": ("Lịch hẹn này đã bị hủy.", "This booking was cancelled."),
    "office_closed": ("Ngoài giờ làm việc. Vui lòng quay lại trong giờ làm việc.",
                      "The office is closed. Please come back during opening hours."),
    "no_current_ticket": ("Quầy chưa gọi khách nào.", "This counter is serving nobody."),
    "counter_paused": ("Quầy đang tạm dừng. Bấm Tiếp tục trước.",
                       "This counter is paused. Resume first."),
    "not_serving_ticket": ("Quầy không phục vụ số này; chỉ xác minh được số đang phục vụ.",
                           "This counter is not serving that ticket; only the ticket being "
                           "served can be checked."),
    "check_not_required": ("Dịch vụ của số này không yêu cầu kiểm tra CCCD gắn chíp hay vân "
                           "tay.", "This ticket's service requires no chip ID or fingerprint "
                           "check."),
    "already_checked": ("Số này đã được ghi kết quả xác minh; không ghi lại được.",
                        "This ticket's check is already recorded; it cannot be changed."),
    # Officers (offices with [[officers]] in office.toml).
    "bad_pin": ("Mã cán bộ hoặc mã PIN không đúng.", "Wrong officer code or PIN."),
    "locked": ("Nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút hoặc báo quản trị.",
               "Too many wrong tries. Try again in a few minutes or ask the administrator."),
    "not_signed_in": ("Chưa có cán bộ đăng nhập tại quầy này. Vui lòng đăng nhập trước.",
                      "Nobody is signed in at this counter. Please sign in first."),
    "still_serving": ("Quầy đang phục vụ một số thứ tự. Hãy hoàn thành hoặc chuyển số đó "
                      "trước khi đăng xuất.",
                      "This counter is serving a ticket. Finish or transfer it before "
                      "signing out."),
    # Admin commands for bookings (an extension of PROTOCOL.md version 1).
    "invalid_booking": ("Lịch hẹn không hợp lệ.", "This booking breaks a booking rule."),
    "slot_full": ("Khung giờ đã đủ người.", "This slot is full."),
    "unknown_booking": ("Không tìm thấy lịch hẹn này.", "No such booking."),
    "booking_exists": ("Mã lịch hẹn đã được dùng cho lịch hẹn khác.",
                       "This booking id is already used by another booking."),
    # Transient: not remembered under the command id, so a later retry may succeed.
    "rate_limited": ("Thiết bị gửi quá nhiều yêu cầu. Vui lòng chờ một chút rồi thử lại, "
                     "hoặc hỏi cán bộ tại quầy.",
                     "This device sent too many requests. Please wait a moment and try "
                     "again, or ask at a counter."),
    "storage_unavailable": ("Hệ thống tạm thời không ghi nhận được yêu cầu. Vui lòng hỏi cán "
                            "bộ tại quầy.",
                            "The system cannot record requests right now. Please ask at a "
                            "counter."),
}
TRANSIENT = frozenset({"rate_limited", "storage_unavailable"})


class Rejected(Exception):
    """A command refused with a protocol error code; `extra` goes beside `error`."""

    def __init__(self, code: str, detail: str = "", **extra: Any):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.extra = extra
