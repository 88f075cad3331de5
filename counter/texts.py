"""What the counter terminal says: labels, refusal reasons, and how tickets and errors read."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from motcua import checks
from motcua.config import DEFAULT_REFUSALS
from motcua.protocol import MESSAGES, OfficeInfo, Reply


def nfc(text: Any) -> str:
    """Composed Vietnamese: decomposed (NFD) marks stack and overlap when Kivy draws them."""
    return unicodedata.normalize("NFC", str(text))


@dataclass(frozen=True)
class Action:
    name: str  # the protocol command type, or a dialog that leads to one
    vi: str
    en: str


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("next", "Gọi tiếp", "Next"),
    Action("recall", "Gọi lại", "Recall"),
    Action("done", "Xong", "Done"),
    Action("no_show", "Vắng mặt", "No-show"),
    Action("transfer", "Chuyển", "Transfer"),
    Action("refuse", "Từ chối", "Refuse"),
    Action("call", "Gọi số", "Call number"),
    Action("verify", "Xác minh", "Verify ID"),
    Action("pause", "Tạm dừng", "Pause"),
    Action("resume", "Tiếp tục", "Resume"),
)}


@dataclass(frozen=True)
class Reason:
    text: str
    guidance: str  # a suggestion the staff can edit: the protocol leaves guidance optional
    typed: bool = False  # the reason itself must be typed ("Khác")


OTHER = Reason("Khác", "", typed=True)


def reasons(office: OfficeInfo) -> tuple[Reason, ...]:
    """The office's refusal reasons ([refusals] in office.toml, sent in state/config), then
    "Khác" to type one; the default list when the dispatcher sends none (an older one)."""
    listed = ([(r.reason, r.guidance) for r in office.refusals] if office.refusals
              else [(r.reason, r.guidance) for r in DEFAULT_REFUSALS])
    return (*(Reason(nfc(text), nfc(guidance)) for text, guidance in listed), OTHER)


def check_names(requires: list[str]) -> tuple[str, str]:
    """(Vietnamese, English) of what a service asks the officer to check."""
    vi, en = checks.names(requires)
    return nfc(vi), nfc(en)

ARRIVAL = {"on_time": ("Đúng giờ", "on time"), "late": ("Trễ hẹn", "late"),
           "early": ("Đến sớm", "early")}

DISCONNECTED = ("MẤT KẾT NỐI với máy chủ — các nút tạm khóa, đang kết nối lại…",
                "Disconnected from the broker — buttons locked, reconnecting…")
DISPATCHER_DOWN = ("Bộ điều phối đang tắt — lệnh sẽ được gửi lại khi có trả lời",
                   "The dispatcher is offline — commands are resent until it answers")
WAITING_STATE = ("Đang chờ trạng thái quầy từ bộ điều phối…",
                 "Waiting for this counter's state from the dispatcher…")
NO_REPLY_YET = ("Chưa có trả lời — đang gửi lại đúng lệnh này (không gọi trùng)",
                "No reply yet — resending this same command (never a second call)")
NOT_NOW = ("không dùng được lúc này", "not available now")
PAUSED_WHY = ("quầy đang tạm dừng — bấm / để tiếp tục nhận khách",
              "this counter is paused — press / to resume")
NOBODY = ("Không còn ai chờ ở quầy này.", "Nobody is waiting for this counter.")


def hhmm(stamp: str | None) -> str:
    if not stamp:
        return "—"
    try:
        return datetime.fromisoformat(stamp).strftime("%H:%M")
    except ValueError:
        return "—"


def duration(seconds: float) -> str:
    """mm:ss, or h:mm:ss past an hour; never negative (clocks of two machines differ)."""
    s = max(0, int(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def error_text(reply: Reply) -> tuple[str, str]:
    """(Vietnamese, English) of an error reply; a code this build does not know still reads."""
    error = reply.error
    code = error.code if error else "bad_request"
    vi, en = MESSAGES.get(code, ("Lỗi không xác định.", "Unknown error."))
    vi = nfc(error.message if error and error.message else vi)
    en = nfc(error.message_en if error and error.message_en else en)
    if code == "unknown_ticket" and error and error.detail:
        vi, en = f"{vi} ({error.detail})", f"{en} ({error.detail})"
    return vi, en


def result_text(action: str, reply: Reply, fields: dict[str, Any]) -> tuple[str, str]:
    """What an ok reply means, in one line each; `fields`: what the terminal noted beside
    the command (where a ticket went)."""
    number = nfc(reply.ticket.number) if reply.ticket else ""
    if action in ("next", "call"):
        if not number:
            return NOBODY
        return f"Đã gọi số {number}.", f"Called {number}."
    if action == "transfer":
        target = fields.get("service") or fields.get("counter_name") or fields.get("counter")
        target_en = fields.get("counter_name_en") or target  # not the Vietnamese name twice
        return f"Đã chuyển số {number} đến {target}.", f"Transferred {number} to {target_en}."
    texts = {
        "recall": ("Đã gọi lại số {n}.", "Recalled {n}."),
        "done": ("Đã xong số {n}.", "{n} done."),
        "no_show": ("Đã ghi số {n} vắng mặt.", "{n} marked no-show."),
        "refuse": ("Đã từ chối số {n}.", "{n} refused."),
        "verify": ("Đã ghi kết quả xác minh số {n}.", "{n}: the check is recorded."),
        "pause": ("Quầy đã tạm dừng nhận khách.", "Counter paused."),
        "resume": ("Quầy tiếp tục nhận khách.", "Counter open again."),
    }
    vi, en = texts.get(action, ("Đã thực hiện.", "Done."))
    return vi.format(n=number), en.format(n=number)
