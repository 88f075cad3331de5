"""The counter terminal from a numeric keypad alone: every key, through the X server."""

from __future__ import annotations

import time

from counter.keymap import DOUBLE_PRESS_S
from tests.conftest import at
from tests.counter.conftest import LiveOffice


def test_every_key_of_the_keypad(hall: LiveOffice, make_token) -> None:  # type: ignore[no-untyped-def]
    t = hall.terminal("1")
    v = t.idle()
    assert v["title"] == "Quầy 1 · BHXH thành phố Thủ Dầu Một"
    assert v["buttons"] == {"next": True, "call": True, "pause_resume": True, "recall": False,
                            "done": False, "no_show": False, "transfer": False,
                            "refuse": False, "verify": False}
    t.shot("keys-01-empty")

    for service in ("A", "A", "A"):
        hall.walk_in(service)                               # A001 A002 A003
    hall.walk_in("B", priority=True)                        # B001
    hall.check_in(make_token("BK-1", at("08:00")))          # H001, on time
    t.wait(lambda v: v["waiting_total"] == "5", "5 waiting")

    # Enter: next. Counter 1 takes bookings: the on-time booking comes first.
    t.key("KP_Enter")
    # The number shows a frame before its message: wait for the message's tone too.
    v = t.wait(lambda v: v["number"] == "H001" and v["message_tone"] == "ok"
               and not v["busy"], "serving H001 with its message")
    assert "Lịch hẹn 08:00–08:30 · Đúng giờ" in v["kind"]
    assert v["next_here"][0].startswith("B001")            # priority citizen next
    t.shot("keys-02-serving-booking")

    t.key("KP_Add")                                          # + recall
    t.wait(lambda v: v["message"].startswith("Đã gọi lại số H001"), "recalled")
    assert hall.calls("1", "recall") == ["H001"]

    t.key("KP_Multiply")                                     # * done
    v = t.wait(lambda v: v["number"] == "—" and v["message"].startswith("Đã xong")
               and not v["busy"], "done")
    assert not v["buttons"]["recall"] and v["buttons"]["next"]

    # A double press of Enter calls one citizen, never two.
    t.key("KP_Enter", "KP_Enter")
    v = t.wait(lambda v: v["number"] == "B001" and not v["busy"], "serving B001")
    assert "Ưu tiên" in v["priority"]
    hall.settled()  # a second call, had there been one, is in by now
    assert hall.calls("1") == ["H001", "B001"]

    # - no-show asks once: Del cancels, Enter confirms.
    t.key("KP_Subtract")
    assert t.ui()["dialog"] == "confirm"
    t.shot("keys-03-confirm-no-show")
    t.key("KP_Decimal")
    v = t.ui()
    assert v["dialog"] is None and v["number"] == "B001"
    t.key("KP_Subtract")
    t.key("KP_Enter")
    v = t.wait(lambda v: v["number"] == "—" and v["dialog"] is None, "no-show closed")
    assert v["message"].startswith("Đã ghi số B001 vắng mặt")

    # 7 transfer: a digit picks the target, Enter sends.
    time.sleep(DOUBLE_PRESS_S)  # Enter right after Enter would be a double press
    t.key("KP_Enter")
    t.wait(lambda v: v["number"] == "A001", "serving A001")
    t.key("KP_7")
    t.key("KP_3", "KP_Add", "KP_Subtract")                  # Dịch vụ C, down, back up
    v = t.ui()
    assert v["dialog"] == "transfer" and v["dialog_selected"] == 2
    t.shot("keys-04-transfer")
    t.key("KP_Enter")
    v = t.wait(lambda v: v["dialog"] is None and v["number"] == "—", "transferred")
    assert "Đã chuyển số A001 đến Dịch vụ C" in v["message"]

    # 8 refuse: a reason is required, its guidance is prefilled, Enter sends.
    time.sleep(DOUBLE_PRESS_S)
    t.key("KP_Enter")
    t.wait(lambda v: v["number"] == "A002", "serving A002")
    t.key("KP_8", "KP_Enter")
    v = t.ui()
    assert v["dialog"] == "refuse" and v["dialog_error"].startswith("Chọn lý do")
    t.key("KP_1")
    v = t.ui()
    assert v["dialog_guidance"].startswith("Liên hệ cơ quan có thẩm quyền")
    t.shot("keys-05-refuse")
    t.key("KP_Enter")
    v = t.wait(lambda v: v["dialog"] is None and v["message"].startswith("Đã từ chối"),
               "refused")
    refused = hall.watch.wait_for("/event/ticket", lambda m: m["change"] == "refused")
    assert refused["ticket"]["reason"] == "Ngoài thẩm quyền giải quyết"
    assert refused["ticket"]["guidance"].startswith("Liên hệ cơ quan")

    # 9 call a number: digits, Backspace, +/− for the letter; an error shows in the dialog.
    t.key("KP_9", "KP_4", "KP_0", "KP_4")
    assert t.ui()["dialog_preview"] == "A404"
    t.key("KP_Enter")
    v = t.wait(lambda v: v["dialog_error"] != "", "unknown ticket shown")
    assert v["dialog_error"].startswith("Không tìm thấy số thứ tự này")
    assert "This ticket number is not waiting" in v["dialog_error"]
    t.shot("keys-06-call-unknown")
    t.key("BackSpace", "BackSpace", "BackSpace", "KP_Add", "KP_1")
    assert t.ui()["dialog_preview"] == "B001"                # the earlier no-show
    t.key("KP_Enter")
    t.wait(lambda v: v["dialog"] is None and v["number"] == "B001", "called B001")

    # / pause: Next and Call are off; a key for them says so and sends nothing.
    t.key("KP_Divide")
    v = t.wait(lambda v: v["paused"] and not v["busy"], "paused")
    assert v["status"] == "TẠM DỪNG · paused"
    assert not v["buttons"]["next"] and not v["buttons"]["call"] and v["buttons"]["done"]
    time.sleep(DOUBLE_PRESS_S)
    t.key("KP_Enter")
    # It says why, and what to press (issue 14: only "not available now").
    message = t.ui()["message"]
    assert message.startswith("Gọi tiếp: quầy đang tạm dừng — bấm / để tiếp tục"), message
    assert "this counter is paused — press / to resume" in message
    t.shot("keys-07-paused")
    t.key("KP_Divide")
    t.wait(lambda v: not v["paused"] and v["buttons"]["next"], "open again")
    assert hall.calls("1") == ["H001", "B001", "A001", "A002", "B001"]

    # Esc leaves any dialog; the top-row digits and the full keyboard's keys work too.
    t.key("9")
    assert t.ui()["dialog"] == "call"
    t.key("Escape")
    assert t.ui()["dialog"] is None
    t.key("minus")
    assert t.ui()["dialog"] == "confirm"
    t.key("Return")
    t.wait(lambda v: v["number"] == "—" and v["dialog"] is None, "no-show from the keyboard")


def test_error_replies_show_inline(hall: LiveOffice) -> None:
    """A stale screen (a second terminal for this counter, a lost state message) lets a
    command through that the dispatcher refuses: each refusal reads in both languages."""
    t = hall.terminal("3")
    t.idle()
    hall.walk_in("A")
    expected = {}

    def error_after(action: str, **fields: object) -> str:
        t.force(action, **fields)
        v = t.wait(lambda v: not v["busy"] and v["message_tone"] == "error", f"{action} error")
        return v["message"]

    expected["no_current_ticket"] = error_after("done")
    t.key("KP_Divide")
    t.wait(lambda v: v["paused"] and not v["busy"], "paused")
    expected["counter_paused"] = error_after("next")
    time.sleep(DOUBLE_PRESS_S)
    t.key("KP_Divide")
    t.wait(lambda v: not v["paused"] and not v["busy"], "open")
    t.key("KP_Enter")
    t.wait(lambda v: v["number"] == "A001", "serving A001")
    expected["unknown_service"] = error_after("transfer", service="Q")
    expected["unknown_counter"] = error_after("transfer", counter="99")
    expected["bad_request"] = error_after("refuse", reason=" ")
    expected["unknown_ticket"] = error_after("call", ticket="Z999")
    assert expected["no_current_ticket"] == ("Quầy chưa gọi khách nào.\n"
                                             "This counter is serving nobody.")
    assert expected["counter_paused"].startswith("Quầy đang tạm dừng")
    assert expected["unknown_service"].startswith("Không có dịch vụ này")
    assert expected["unknown_counter"] == "Không có quầy này.\nNo such counter."
    assert expected["bad_request"].startswith("Yêu cầu không hợp lệ.\nInvalid request.")
    assert "(Z999)" in expected["unknown_ticket"]
    t.shot("errors-inline")
    assert t.ui()["number"] == "A001"   # nothing changed on the hall
