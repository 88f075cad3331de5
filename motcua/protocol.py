"""Commands and replies of PROTOCOL.md: typed, parsed once at the edge, errors in two languages."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

VERSION = 1
MAX_COMMAND_BYTES = 16 * 1024
CMD_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_TEXT = 500  # refusal reasons and guidance

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
}


class Rejected(Exception):
    """A command refused with a protocol error code; `extra` goes beside `error`."""

    def __init__(self, code: str, detail: str = "", **extra: Any):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.extra = extra


@dataclass(frozen=True)
class WalkIn:
    service: str
    priority: bool = False


@dataclass(frozen=True)
class CheckIn:
    token: str


@dataclass(frozen=True)
class Next:
    pass


@dataclass(frozen=True)
class Recall:
    pass


@dataclass(frozen=True)
class Done:
    pass


@dataclass(frozen=True)
class NoShow:
    pass


@dataclass(frozen=True)
class Call:
    ticket: str


@dataclass(frozen=True)
class Transfer:
    service: str | None = None
    counter: str | None = None


@dataclass(frozen=True)
class Refuse:
    reason: str
    guidance: str | None = None


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class CloseDay:
    pass


Command = (WalkIn | CheckIn | Next | Recall | Done | NoShow | Call | Transfer | Refuse | Pause
           | Resume | CloseDay)


def _text(body: dict, name: str, required: bool = True, limit: int = MAX_TEXT) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise Rejected("bad_request", f"'{name}' must be a string")
    value = value.strip()
    if required and not value:
        raise Rejected("bad_request", f"'{name}' must not be empty")
    if len(value) > limit:
        raise Rejected("bad_request", f"'{name}' is longer than {limit} characters")
    return value or None


PARSERS: dict[str, dict[str, Any]] = {
    "kiosk": {
        "walk_in": lambda b: WalkIn(_text(b, "service", limit=8) or "", _flag(b, "priority")),
        "check_in": lambda b: CheckIn(_text(b, "token", limit=4096) or ""),
    },
    "counter": {
        "next": lambda b: Next(),
        "recall": lambda b: Recall(),
        "done": lambda b: Done(),
        "no_show": lambda b: NoShow(),
        "call": lambda b: Call((_text(b, "ticket", limit=12) or "").upper()),
        "transfer": lambda b: _transfer(b),
        "refuse": lambda b: Refuse(_text(b, "reason") or "", _text(b, "guidance", False)),
        "pause": lambda b: Pause(),
        "resume": lambda b: Resume(),
    },
    "admin": {
        "close_day": lambda b: CloseDay(),
    },
}


def _flag(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise Rejected("bad_request", f"'{name}' must be true or false")
    return value


def _transfer(body: dict) -> Transfer:
    service = _text(body, "service", False, limit=8)
    counter = _text(body, "counter", False, limit=32)
    if (service is None) == (counter is None):
        raise Rejected("bad_request", "give exactly one of 'service' or 'counter'")
    return Transfer(service, counter)


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    command: Command


class Unreadable(Exception):
    """A command whose id cannot be read: dropped and logged, never answered."""


def parse(role: str, payload: bytes) -> Envelope:
    """Parse one command; raise Unreadable (no id) or Rejected with the id attached."""
    if len(payload) > MAX_COMMAND_BYTES:
        raise Unreadable(f"{len(payload)} bytes, over the {MAX_COMMAND_BYTES}-byte limit")
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise Unreadable(f"not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise Unreadable("not a JSON object")
    cmd_id = body.get("id")
    if not isinstance(cmd_id, str) or not CMD_ID_RE.match(cmd_id):
        raise Unreadable(f"no readable id: {str(cmd_id)[:80]!r}")
    try:
        if body.get("v") != VERSION:
            raise Rejected("bad_request", f"'v' must be {VERSION}")
        ctype = body.get("type")
        parser = PARSERS.get(role, {}).get(ctype) if isinstance(ctype, str) else None
        if parser is None:
            raise Rejected("bad_request", f"unknown command type {str(ctype)[:40]!r} for {role}")
        return Envelope(cmd_id, str(ctype), parser(body))
    except Rejected as exc:
        exc.extra.setdefault("id", cmd_id)
        raise


def ok_reply(cmd_id: str, **fields: Any) -> dict[str, Any]:
    return {"v": VERSION, "id": cmd_id, "ok": True, **fields}


def error_reply(cmd_id: str, code: str, detail: str = "", **extra: Any) -> dict[str, Any]:
    vi, en = MESSAGES[code]
    if detail and code == "bad_request":
        en = f"{en} {detail}"
    error = {"code": code, "message": vi, "message_en": en}
    if detail:
        error["detail"] = detail
    reply: dict[str, Any] = {"v": VERSION, "id": cmd_id, "ok": False, "error": error}
    reply.update(extra)
    return reply


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
