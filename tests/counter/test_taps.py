"""The counter terminal with a mouse or a touch screen: every button, tapped."""

from __future__ import annotations

import unicodedata

from tests.counter.conftest import LiveOffice


def test_every_button_tapped(hall: LiveOffice) -> None:
    t = hall.terminal("2")
    t.idle()
    for service in ("A", "A", "B"):
        hall.walk_in(service)                          # A001 A002 B001
    t.wait(lambda v: v["next_here"] == ["A001", "A002", "B001"], "three waiting")
    assert t.tap("main:btn_recall") == "disabled"    # serving nobody: nothing to recall

    t.tap("main:btn_next")
    t.wait(lambda v: v["number"] == "A001", "serving A001")
    t.tap("main:btn_recall")
    t.wait(lambda v: v["message"].startswith("Đã gọi lại"), "recalled")
    t.tap("main:btn_done")
    t.wait(lambda v: v["number"] == "—", "done")

    # A double tap on Gọi tiếp calls one citizen.
    t.tap("main:btn_next")
    t.tap("main:btn_next")
    t.wait(lambda v: v["number"] == "A002" and not v["busy"], "serving A002")
    t.settle()
    assert hall.calls("2") == ["A001", "A002"]

    t.tap("main:btn_no_show")
    t.tap("dialog:btn_cancel")
    assert t.ui()["dialog"] is None
    t.settle()  # a tap right after a dialog closed is taken as a bounce
    t.tap("main:btn_no_show")
    t.tap("dialog:btn_ok")
    t.wait(lambda v: v["number"] == "—" and v["dialog"] is None, "no-show")

    # Transfer to another counter: it goes first there, and nowhere else.
    t.settle()
    t.tap("main:btn_next")
    t.wait(lambda v: v["number"] == "B001", "serving B001")
    t.tap("main:btn_transfer")
    t.tap("dialog:row:5")                              # A, B, C, Quầy 1, Quầy 3
    assert t.ui()["dialog_selected"] == 4
    t.tap("dialog:btn_ok")
    v = t.wait(lambda v: v["dialog"] is None and v["number"] == "—", "transferred")
    assert "Đã chuyển số B001 đến Quầy 3" in v["message"]
    moved = hall.watch.wait_for("/event/ticket", lambda m: m["change"] == "transferred")
    assert moved["ticket"]["target_counter"] == "3"

    # Call the earlier no-show back with the on-screen pad.
    t.settle()
    t.tap("main:btn_call")
    for target in ("letter:B", "letter:A", "pad:1", "pad:Xoá", "pad:2"):
        t.tap(f"dialog:{target}")
    v = t.ui()
    assert v["dialog_preview"] == "A002" and "không thấy trong hàng chờ" in v["dialog_hint"]
    t.tap("dialog:btn_ok")
    t.wait(lambda v: v["dialog"] is None and v["number"] == "A002", "called A002 back")

    # Refuse with a typed reason ("Khác"); guidance is asked for once.
    t.settle()
    t.tap("main:btn_refuse")
    t.tap("dialog:row:4")
    typed = unicodedata.normalize("NFD", "Cần giấy ủy quyền có công chứng")
    t.text("reason", typed)
    t.text("guidance", "")
    t.shot("taps-01-refuse-typed")
    t.tap("dialog:btn_ok")
    v = t.ui()
    assert v["dialog"] == "refuse" and v["dialog_error"].startswith("Chưa có hướng dẫn")
    t.shot("taps-02-refuse-asks-guidance")
    t.settle()
    t.tap("dialog:btn_ok")
    t.wait(lambda v: v["dialog"] is None and v["message"].startswith("Đã từ chối"), "refused")
    refused = hall.watch.wait_for("/event/ticket", lambda m: m["change"] == "refused")
    assert refused["ticket"]["reason"] == unicodedata.normalize("NFC", typed)
    assert refused["ticket"]["guidance"] is None

    t.settle()
    t.tap("main:btn_pause_resume")
    t.wait(lambda v: v["paused"] and not v["busy"], "paused")
    assert t.tap("main:btn_next") == "disabled"
    t.settle()
    t.tap("main:btn_pause_resume")
    t.wait(lambda v: not v["paused"], "open again")
    assert hall.calls("2") == ["A001", "A002", "B001", "A002"]
