"""An office without [[officers]]: the terminal works as before, no sign-in, key 0 idle."""

from __future__ import annotations

from tests.counter.conftest import LiveOffice


def test_no_officers_no_sign_in(hall: LiveOffice) -> None:
    t = hall.terminal("3")
    v = t.idle()
    assert v["dialog"] is None and v["officer"] == "" and v["enabled"]["next"]
    assert v["status"] == "ĐANG NHẬN KHÁCH · open" and not v["sign_out_shown"]
    before = v["message"]
    t.key("KP_0")
    v = t.ui()
    assert v["dialog"] is None and v["message"] == before
    hall.walk_in("A")
    t.wait(lambda v: v["next_here"] == ["A001"], "A001 waiting")
    t.key("KP_Enter")
    t.wait(lambda v: v["number"] == "A001", "serving A001 with nobody signed in")
    # The day closed: the counter is closed too, and says why (not "sign in").
    assert hall.device("admin", "cli").send("close_day")["ok"]
    v = t.wait(lambda v: v["status"] == "ĐÓNG · closed" and v["number"] == "—", "day closed")
    assert v["dialog"] is None and not v["enabled"]["next"]
    t.key("KP_Enter")
    v = t.wait(lambda v: "ngày làm việc đã kết thúc" in v["message"], "why not said")
    assert "the working day is over" in v["message"] and "đăng nhập" not in v["message"]
