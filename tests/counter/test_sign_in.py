"""Signing in and out at a real counter terminal (offices with [[officers]]): the keypad,
taps, errors inline in Vietnamese and English, and the office without officers as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from motcua import officers
from tests.conftest import write_office
from tests.counter.conftest import LiveOffice

PINS = {"cb01": "1357", "cb02": "2468"}
NAMES = {"cb01": "Nguyễn Thị Lan", "cb02": "Trần Văn Minh"}


@pytest.fixture
def office_file(tmp_path: Path) -> Path:
    path = write_office(tmp_path)
    rows = "".join(f'\n[[officers]]\ncode = "{code}"\nname = "{NAMES[code]}"\n'
                   f'pin = "{officers.hash_pin(pin, iterations=1000)}"\n'
                   for code, pin in PINS.items())
    path.write_text(path.read_text(encoding="utf-8") + rows, encoding="utf-8")
    return path


def test_sign_in_on_the_keypad_serve_and_sign_out(hall: LiveOffice) -> None:
    t = hall.terminal("1")
    v = t.wait(lambda v: v["dialog"] == "sign_in" and not v["banner"], "the sign-in screen")
    assert v["status"] == "ĐÓNG · closed" and not v["enabled"]["next"]
    assert v["officer"] == "" and not v["sign_out_shown"]
    t.shot("sign-in-empty")

    # + picks the first officer, Enter goes on to the PIN, which shows as dots only.
    t.key("KP_Add")
    assert t.ui()["dialog_code"] == "cb01"
    t.key("KP_Enter")
    t.key("KP_0", "KP_0", "KP_0")
    t.key("KP_0")
    v = t.ui()
    assert v["dialog_step"] == "pin" and v["dialog_dots"] == "●●●●"
    t.shot("sign-in-pin")
    t.key("KP_Enter")
    v = t.wait(lambda v: v["dialog_error"] and not v["busy"], "a wrong PIN said")
    assert "Mã cán bộ hoặc mã PIN không đúng" in v["dialog_error"]
    assert "Wrong officer code or PIN" in v["dialog_error"]
    assert v["dialog_dots"] == "" and v["dialog"] == "sign_in"

    # Someone guessed cb02's PIN at counter 2: cb02 is locked everywhere, minutes left said.
    guesser = hall.device("counter", "2")
    for pin in ("1111", "2222", "3333", "4444", "5555"):
        assert guesser.send("sign_in", officer="cb02", pin=pin)["error"]["code"] == "bad_pin"
    t.key("KP_Decimal")  # Del: back to the officer code, which stays cb01
    assert t.ui()["dialog_step"] == "code"
    t.key("KP_Add")
    assert t.ui()["dialog_code"] == "cb02"
    t.key("KP_Enter")
    t.key("KP_2", "KP_4", "KP_6", "KP_8")
    t.key("KP_Enter")
    v = t.wait(lambda v: "Nhập sai quá nhiều lần" in v["dialog_error"], "locked said")
    assert "Còn 5 phút" in v["dialog_error"] and "5 minutes left" in v["dialog_error"]
    t.shot("sign-in-locked")

    # cb01 by touch: their row, the on-screen pad, the button.
    t.settle()
    t.tap("dialog:row:1")
    for digit in PINS["cb01"]:
        t.tap(f"dialog:pad:{digit}")
    t.tap("dialog:btn_ok")
    v = t.wait(lambda v: v["dialog"] is None and v["officer"], "signed in")
    assert v["officer"] == "Nguyễn Thị Lan" and v["status"] == "ĐANG NHẬN KHÁCH · open"
    assert "Xin chào Nguyễn Thị Lan" in v["message"]
    assert v["sign_out_shown"] and v["enabled"]["next"]
    t.shot("signed-in")

    # Serving: signing out is refused plainly, locally and by the dispatcher.
    hall.walk_in("A")
    t.wait(lambda v: v["next_here"] == ["A001"], "A001 waiting")
    t.key("KP_Enter")
    t.wait(lambda v: v["number"] == "A001", "serving A001")
    t.key("KP_0")
    v = t.wait(lambda v: "Đăng xuất: đang phục vụ số A001" in v["message"], "refused plainly")
    assert v["dialog"] is None and "press Done (*), Transfer (7) or Refuse (8)" in v["message"]
    t.force("sign_out")
    v = t.wait(lambda v: v["message_tone"] == "error" and not v["busy"], "still serving")
    assert "A001" in v["message"] and "Xong (*)" in v["message"]

    t.key("KP_Multiply")
    t.wait(lambda v: v["number"] == "—" and not v["busy"], "A001 done")
    t.key("KP_0")
    t.wait(lambda v: v["dialog"] == "sign_out", "asked once")
    t.shot("sign-out-ask")
    t.key("KP_Enter")
    v = t.wait(lambda v: v["dialog"] == "sign_in" and not v["officer"], "signed out")
    assert v["status"] == "ĐÓNG · closed"
    hall.settled()
    served = hall.watch.wait_for("/event/ticket", lambda m: m["change"] == "done")
    assert served["ticket"]["number"] == "A001" and served["ticket"]["officer"] == "cb01"
