"""The terminal's pure parts: key map, what applies when, how tickets and errors read."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

import pytest

from counter import keymap
from counter.remote import Remote
from counter.texts import NOBODY, duration, error_text, reasons, result_text
from counter.view import (
    DeskState,
    call_prefixes,
    enabled,
    screenful,
    ticket_number,
    transfer_targets,
    waiting_counts,
)
from motcua.config import OfficeConfig
from motcua.protocol import CounterState, Order, RefusalInfo, Reply
from motcua.views import office_info
from tests.conftest import TZ

NOW = datetime(2026, 11, 25, 9, 20, tzinfo=TZ)


def ticket(**over: Any) -> dict[str, Any]:
    t = {"number": "A012", "service": "A", "kind": "walk_in", "status": "serving",
         "issued_at": "2026-11-25T09:01:00+07:00", "priority": False, "ahead": 0,
         "est_wait_min": 0, "booking": None, "counter": "1",
         "called_at": "2026-11-25T09:12:30+07:00"}
    return {**t, **over}


def state(office: OfficeConfig, counter: str = "1", current: dict | None = None,
          status: str = "open", order: dict | None = None, **over: Any) -> DeskState:
    cs = CounterState.model_validate({"v": 1, "counter": counter, "status": status,
                                      "current": current, "since": None, "waiting": 3,
                                      "next": ["H003", "A014"]})
    return DeskState(counter, office_info(office), counter_state=cs,
                     order=Order.model_validate(order) if order else None,
                     **{"connected": True, **over})


def test_every_keypad_key_has_a_name_and_every_button_a_key() -> None:
    numpad = {256 + n: str(n) for n in range(10)}
    numpad.update({266: ".", 267: "/", 268: "*", 269: "-", 270: "+", 271: "enter"})
    for code, name in numpad.items():
        assert keymap.key_name(code) == name
    assert set(keymap.MAIN_KEYS.values()) == {"next", "recall", "done", "no_show",
                                              "pause_resume", "transfer", "refuse", "call",
                                              "verify"}
    assert keymap.key_for("pause") == keymap.key_for("resume") == "/"
    text = keymap.markdown()
    for label in ("Gọi tiếp", "Gọi lại", "Xong", "Vắng mặt", "Chuyển", "Từ chối", "Gọi số",
                  "Tạm dừng / Tiếp tục", "`Enter`", "`Del (.)  Esc`"):
        assert label in text


def test_what_applies_when(office: OfficeConfig) -> None:
    serving = ticket()
    assert enabled(state(office)) == {"next": True, "call": True, "pause_resume": True,
                                      "recall": False, "done": False, "no_show": False,
                                      "transfer": False, "refuse": False, "verify": False}
    assert all(v for k, v in enabled(state(office, current=serving)).items() if k != "verify")
    assert not enabled(state(office, current=serving))["verify"]  # its service asks no check
    checked = ticket(requires=["chip_id"])
    assert enabled(state(office, current=checked))["verify"]
    done = ticket(requires=["chip_id"], check={"verified": True, "counter": "1",
                                               "at": "2026-11-25T09:13:00+07:00"})
    assert not enabled(state(office, current=done))["verify"]  # once
    paused = enabled(state(office, current=serving, status="paused"))
    assert not paused["next"] and not paused["call"] and paused["done"]
    assert paused["pause_resume"]
    assert not any(enabled(state(office, current=serving, connected=False)).values())
    assert not any(enabled(state(office, current=serving, busy="next")).values())
    assert not any(enabled(DeskState("1", office_info(office), connected=True)).values())


def test_a_late_booking_reads_plainly(office: OfficeConfig) -> None:
    late = ticket(number="H004", kind="booking", priority=True, transferred=True,
                  booking={"id": "BK-9", "service": "A", "start": "2026-11-25T09:00:00+07:00",
                           "end": "2026-11-25T09:30:00+07:00", "arrival": "late"})
    s = screenful(state(office, current=late), NOW)
    assert s.number == "H004" and s.service == "A · Nộp hồ sơ  (Submit documents)"
    assert s.kind == "Lịch hẹn 09:00–09:30 · Trễ hẹn  (booking, late)"
    assert s.priority == "Ưu tiên (priority) · Chuyển đến (transferred)"
    assert s.served == "Đã phục vụ 07:30  (serving for)"
    assert s.waiting_total == "3" and s.banner == ""
    # The dispatcher's clock runs 1 h ahead (a demo with --start-at): the timer follows it.
    shifted = state(office, current=late, clock_offset=3600.0)
    assert screenful(shifted, NOW.replace(hour=8)).served.startswith("Đã phục vụ 07:30")
    assert screenful(state(office, current=late), NOW.replace(hour=8)).served.startswith(
        "Đã phục vụ 00:00")  # never negative


def test_names_are_shown_composed(office: OfficeConfig) -> None:
    cfg = office_info(office).model_copy(
        update={"name": unicodedata.normalize("NFD", "BHXH thành phố Thủ Dầu Một")})
    s = screenful(DeskState("1", cfg, connected=True), NOW)
    assert s.title == "Quầy 1 · BHXH thành phố Thủ Dầu Một"
    assert unicodedata.is_normalized("NFC", s.title)
    assert s.banner.startswith("Đang chờ trạng thái quầy")


def test_banners(office: OfficeConfig) -> None:
    assert screenful(state(office, connected=False), NOW).banner.startswith("MẤT KẾT NỐI")
    down = screenful(state(office, dispatcher_online=False), NOW)
    assert down.banner.startswith("Bộ điều phối đang tắt")


def test_waiting_counts_and_next(office: OfficeConfig) -> None:
    order = {"v": 1, "at": "2026-11-25T09:20:00+07:00",
             "queues": {"A": [{"ticket": "H003", "tier": "booking"},
                              {"ticket": "A014", "tier": "general", "priority": True},
                              {"more": 60}],
                        "C": [{"ticket": "C001", "tier": "general"}]},
             "counters": {"1": {"status": "open", "current": None, "next": ["H003", "A014"]}}}
    st = state(office, order=order)
    assert waiting_counts(st) == [("A", "Nộp hồ sơ", 62), ("B", "Nhận kết quả", 0)]
    assert screenful(st, NOW).next_here == ["H003   lịch hẹn (booking)",
                                            "A014   ưu tiên (priority)"]


def test_call_and_transfer_choices(office: OfficeConfig) -> None:
    assert call_prefixes(state(office, "3")) == ["A", "B", "C", "H"]
    assert ticket_number("A", "12") == "A012" and ticket_number("H", "1234") == "H1234"
    assert ticket_number("A", "") is None and ticket_number("A", "000") is None
    targets = transfer_targets(state(office, "2"))
    assert [(t.kind, t.id) for t in targets] == [("service", "A"), ("service", "B"),
                                                  ("service", "C"), ("counter", "1"),
                                                  ("counter", "3")]


def reply(**fields: Any) -> Reply:
    return Reply.model_validate({"v": 1, "id": "cmd-00001", **fields})


def test_replies_read_in_both_languages() -> None:
    assert result_text("next", reply(ok=True, ticket=None), {}) == NOBODY
    assert result_text("call", reply(ok=True, ticket=ticket(number="B001")), {}) == (
        "Đã gọi số B001.", "Called B001.")
    assert result_text("transfer", reply(ok=True, ticket=ticket(number="A001")),
                       {"counter_name": "Quầy 3"})[0] == "Đã chuyển số A001 đến Quầy 3."
    vi, en = result_text("transfer", reply(ok=True, ticket=ticket(number="A001")),
                         {"counter_name": "Dịch vụ B · Nhận kết quả",
                          "counter_name_en": "service B · Collect results"})
    assert vi.endswith("Dịch vụ B · Nhận kết quả.") and en == (
        "Transferred A001 to service B · Collect results.")  # issue 14: it was Vietnamese
    unknown = reply(ok=False, error={"code": "from_the_future", "message": "",
                                     "message_en": ""})
    assert error_text(unknown) == ("Lỗi không xác định.", "Unknown error.")
    assert error_text(reply(ok=False))[1] == "Invalid request."
    assert duration(-5) == "00:00" and duration(3725) == "1:02:05"


@pytest.mark.parametrize("payload", [b"", b"not json", b"[1]", b'{"v": 2}', b"\xff",
                                     b'{"v": 1, "queues": 3}'])
def test_unreadable_state_is_ignored(office: OfficeConfig, payload: bytes) -> None:
    remote = Remote(office, "1", "mqtt://127.0.0.1:9", lambda: None, lambda p, r: None,
                    lambda p: None)  # never started: no broker needed
    remote._message(Order, "order", "motcua/demo/state/order", payload)
    assert remote.latest().order is None


def test_the_check_and_the_overdue_waits_read_plainly(office: OfficeConfig) -> None:
    todo = screenful(state(office, current=ticket(requires=["chip_id", "fingerprint"])), NOW)
    assert (todo.check, todo.check_tone) == (
        "Cần kiểm tra: thẻ CCCD gắn chíp + vân tay — bấm 4\nCheck: chip ID card + "
        "fingerprint (press 4)", "todo")
    bad = ticket(requires=["chip_id"], check={"verified": False, "counter": "1",
                                              "at": "2026-11-25T09:13:00+07:00",
                                              "reason": "Chíp hỏng"})
    s = screenful(state(office, current=bad), NOW)
    assert (s.check, s.check_tone) == ("Không xác minh được: Chíp hỏng\nNot verified: chip "
                                       "ID card", "bad")
    assert screenful(state(office, current=ticket()), NOW).check == ""
    cs = CounterState.model_validate({
        "v": 1, "counter": "1", "status": "open", "current": None, "since": None,
        "waiting": 9, "next": [],
        "overdue": [{"ticket": f"A00{i}", "service": "A", "since": "2026-11-25T08:00:00+07:00",
                     "waited_min": 40 - i} for i in range(1, 9)]})
    st = DeskState("1", office_info(office), counter_state=cs, connected=True)
    s = screenful(st, NOW)
    assert s.overdue_title == "CHỜ QUÁ 15 PHÚT · WAITING OVER 15 MIN (8)"
    assert s.overdue[:2] == ["A001   39′", "A002   38′"] and s.overdue[-1] == "+2 …"
    assert len(s.overdue) == 7
    assert screenful(state(office), NOW).overdue == []


def test_refusal_reasons_come_from_the_office(office: OfficeConfig) -> None:
    default = reasons(office_info(office))
    assert [r.text for r in default] == ["Ngoài thẩm quyền giải quyết", "Hồ sơ chưa đầy đủ",
                                         "Sai đơn vị BHXH", "Khác"]
    own = office_info(office).model_copy(update={"refusals": [
        RefusalInfo(reason="Thiếu tờ khai", guidance="Khai mẫu TK1-TS.")]})
    assert [(r.text, r.guidance, r.typed) for r in reasons(own)] == [
        ("Thiếu tờ khai", "Khai mẫu TK1-TS.", False), ("Khác", "", True)]
    older = office_info(office).model_copy(update={"refusals": None})  # an older dispatcher
    assert [r.text for r in reasons(older)] == [r.text for r in default]
