"""A counter of an office with many officers (15 here, numeric staff codes): the sign-in
list shows 4 at a time around the one chosen, says which of how many, and narrows to the
codes that start with what is typed. A real counter terminal under Xvfb."""

from __future__ import annotations

from pathlib import Path

import pytest

from motcua import officers
from tests.conftest import write_office
from tests.counter.conftest import LiveOffice

CODES = [str(1000 + n) for n in range(1, 16)]  # 1001 .. 1015
PIN = "1357"


@pytest.fixture
def office_file(tmp_path: Path) -> Path:
    path = write_office(tmp_path)
    hashed = officers.hash_pin(PIN, iterations=1000)
    rows = "".join(f'\n[[officers]]\ncode = "{code}"\nname = "Cán bộ số {code[-2:]}"\n'
                   f'pin = "{hashed}"\n' for code in CODES)
    path.write_text(path.read_text(encoding="utf-8") + rows, encoding="utf-8")
    return path


def listed(v: dict) -> list[str]:
    return [row.split()[0] for row in v["dialog_rows"]]


def test_fifteen_officers_four_listed_around_the_chosen_one(hall: LiveOffice) -> None:
    t = hall.terminal("1")
    v = t.wait(lambda v: v["dialog"] == "sign_in" and not v["banner"], "the sign-in screen")
    assert listed(v) == CODES[:4] and v["dialog_more"].startswith("1–4 / 15")
    for _ in range(9):  # + nine times: 1009, the list follows it
        t.key("KP_Add")
    v = t.ui()
    assert v["dialog_code"] == "1009" and listed(v) == CODES[6:10]
    assert v["dialog_more"].startswith("7–10 / 15")
    t.shot("sign-in-many-officers")
    t.key("KP_Subtract")  # − back to 1008
    assert t.ui()["dialog_code"] == "1008"
    # Typed: only the codes that start with it.
    t.key("KP_Decimal")  # Del: the code cleared
    t.key("KP_1", "KP_0", "KP_1")
    v = t.ui()
    assert v["dialog_code"] == "101" and listed(v) == CODES[9:13]
    assert v["dialog_more"].startswith("1–4 / 6")  # 1010 .. 1015
    t.key("KP_5")  # 1015, a whole code: chosen, among all of them again
    v = t.ui()
    assert v["dialog_code"] == "1015" and listed(v) == CODES[11:]
    assert v["dialog_more"].startswith("12–15 / 15")
    # And it signs in.
    t.key("KP_Enter")
    t.key(*(f"KP_{d}" for d in PIN))
    t.key("KP_Enter")
    v = t.wait(lambda v: v["dialog"] is None and v["officer"], "signed in")
    assert v["officer"] == "Cán bộ số 15"
