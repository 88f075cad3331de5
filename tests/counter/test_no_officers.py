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
