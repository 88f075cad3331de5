"""Officers sign in at counters: the dispatcher with a real SQLite file, as counters send.

What a real office meets: a wrong PIN, someone guessing, an officer moving desks, leaving
with a citizen still at the counter, a restart in the middle of all of it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from motcua import config, officers
from motcua.clock import ManualClock
from tests.conftest import at, write_office
from tests.dispatcher.local import LocalDispatcher

PINS = {"cb01": "4321", "cb02": "8765", "lead": "2468"}


def officer_rows() -> str:
    rows = []
    for code, pin in PINS.items():
        roles = '["head"]' if code == "lead" else '["counter"]'
        rows.append(f'[[officers]]\ncode = "{code}"\nname = "Cán bộ {code}"\n'
                    f'pin = "{officers.hash_pin(pin, iterations=1000)}"\nroles = {roles}\n')
    return "\n".join(rows)


@pytest.fixture
def desk(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = write_office(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + "\n" + officer_rows(), encoding="utf-8")
    d = LocalDispatcher(config.load(path), ManualClock(at("09:00")))
    yield d
    d.close()


def counter_state(desk: LocalDispatcher, cid: str) -> dict:
    board(desk)
    return next(m for t, m in reversed(desk.published) if t.endswith(f"/state/counter/{cid}"))


def board(desk: LocalDispatcher) -> dict:
    desk.published += [(o.topic, json.loads(o.payload)) for o in desk.d.state(force=True)]
    return next(m for t, m in reversed(desk.published) if t.endswith("/state/board"))


def test_nobody_signed_in_means_the_counter_is_closed_and_takes_no_calls(desk) -> None:  # type: ignore[no-untyped-def]
    desk.ok("kiosk", "k1", "walk_in", service="A")
    assert desk.error("counter", "1", "next") == "not_signed_in"
    reply = desk.reply("counter", "1", "next")
    assert "đăng nhập" in reply["error"]["message"] and "sign in" in reply["error"]["message_en"]
    assert board(desk)["counters"]["1"] == "closed"
    ok = desk.ok("counter", "1", "sign_in", officer="cb01", pin="4321")
    assert ok["officer"] == {"code": "cb01", "name": "Cán bộ cb01"}
    assert board(desk)["counters"]["1"] == "open"
    assert counter_state(desk, "1")["officer"] == {"code": "cb01", "name": "Cán bộ cb01"}
    called = desk.ok("counter", "1", "next")["ticket"]
    assert called["number"] == "A001" and called["officer"] == "cb01"


def test_a_wrong_pin_and_an_unknown_code_get_the_same_answer(desk) -> None:  # type: ignore[no-untyped-def]
    wrong = desk.reply("counter", "1", "sign_in", officer="cb01", pin="0000")
    unknown = desk.reply("counter", "1", "sign_in", officer="nobody", pin="4321")
    assert wrong["error"] == unknown["error"] and wrong["error"]["code"] == "bad_pin"
    head_only = desk.reply("counter", "1", "sign_in", officer="lead", pin="2468")
    assert head_only["error"]["code"] == "bad_pin"  # the hall page's role, not a counter's
    for bad in ({"officer": "cb01", "pin": 4321}, {"officer": "cb01", "pin": "12"},
                {"officer": "cb01", "pin": "１２３４"}, {"officer": "cb 01", "pin": "4321"},
                {"officer": "cb01"}, {"pin": "4321"}, {"officer": "\ud800", "pin": "4321"}):
        assert desk.error("counter", "1", "sign_in", **bad) == "bad_request", bad
    assert board(desk)["counters"]["1"] == "closed"


def test_guessing_locks_the_officer_and_the_counter_and_a_restart_does_not_lift_it(  # type: ignore[no-untyped-def]
        desk) -> None:
    for pin in ("1111", "2222", "3333", "4444", "5555"):
        assert desk.error("counter", "1", "sign_in", officer="cb01", pin=pin) == "bad_pin"
    locked = desk.reply("counter", "1", "sign_in", officer="cb01", pin="4321")
    assert locked["error"]["code"] == "locked" and 0 < locked["retry_after"] <= 300
    # The same officer elsewhere, and another officer at this counter: locked too.
    assert desk.error("counter", "2", "sign_in", officer="cb01", pin="4321") == "locked"
    assert desk.error("counter", "1", "sign_in", officer="cb02", pin="8765") == "locked"
    assert desk.ok("counter", "2", "sign_in", officer="cb02", pin="8765")
    desk.restart()
    assert desk.error("counter", "1", "sign_in", officer="cb01", pin="4321") == "locked"
    desk.clock.now += timedelta(minutes=5, seconds=1)
    assert desk.ok("counter", "1", "sign_in", officer="cb01", pin="4321")


def test_an_officer_moving_desks_is_signed_out_of_the_first_and_a_restart_keeps_who_is_where(  # type: ignore[no-untyped-def]
        desk) -> None:
    desk.ok("counter", "1", "sign_in", officer="cb01", pin="4321")
    desk.ok("counter", "2", "sign_in", officer="cb01", pin="4321")
    assert counter_state(desk, "1")["officer"] is None
    assert board(desk)["counters"] == {"1": "closed", "2": "open", "3": "closed"}
    desk.ok("counter", "2", "sign_in", officer="cb02", pin="8765")  # takes over counter 2
    desk.restart()
    assert board(desk)["counters"] == {"1": "closed", "2": "open", "3": "closed"}
    assert desk.d.hall.counters["2"].officer == "cb02"
    changes = [r[0] for r in desk.d.store.db.execute(
        "SELECT change || ':' || counter || ':' || json_extract(body, '$.officer') || ':' "
        "|| coalesce(json_extract(body, '$.reason'), '') FROM events "
        "WHERE change LIKE 'sign%' ORDER BY n")]
    assert changes == ["signed_in:1:cb01:", "signed_out:1:cb01:moved", "signed_in:2:cb01:",
                       "signed_out:2:cb01:signed_out", "signed_in:2:cb02:"]


def test_signing_out_with_a_citizen_at_the_counter_is_refused_until_they_are_served(  # type: ignore[no-untyped-def]
        desk) -> None:
    desk.ok("kiosk", "k1", "walk_in", service="A")
    desk.ok("counter", "1", "sign_in", officer="cb01", pin="4321")
    desk.ok("counter", "1", "next")
    refused = desk.reply("counter", "1", "sign_out")
    assert refused["error"]["code"] == "still_serving"
    assert refused["error"]["detail"] == "A001"
    desk.ok("counter", "1", "done")
    desk.ok("counter", "1", "sign_out")
    assert desk.error("counter", "1", "next") == "not_signed_in"
    desk.ok("counter", "1", "sign_out")  # nobody there: nothing to do, not an error
    stored = desk.d.store.db.execute("SELECT officer FROM tickets WHERE number='A001'")
    assert stored.fetchone() == ("cb01",)


def test_close_day_signs_everyone_out(desk) -> None:  # type: ignore[no-untyped-def]
    desk.ok("counter", "1", "sign_in", officer="cb01", pin="4321")
    desk.ok("admin", "cli", "close_day")
    assert desk.d.hall.counters["1"].officer is None
    assert board(desk)["counters"]["1"] == "closed"


def test_an_office_without_officers_signs_nobody_in(tmp_path: Path) -> None:
    d = LocalDispatcher(config.load(write_office(tmp_path)), ManualClock(at("09:00")))
    try:
        assert d.error("counter", "1", "sign_in", officer="cb01", pin="4321") == "bad_request"
        d.ok("kiosk", "k1", "walk_in", service="A")
        assert "officer" not in d.ok("counter", "1", "next")["ticket"]
        assert board(d)["counters"]["1"] == "open"
    finally:
        d.close()


def test_a_pin_hash_is_checked_and_nothing_else_passes() -> None:
    stored = officers.hash_pin("4321", iterations=1000)
    assert officers.check_pin(stored, "4321")
    assert not officers.check_pin(stored, "4322")
    assert not officers.check_pin("4321", "4321")  # a PIN written where its hash belongs
    assert not officers.check_pin(stored.replace("$1000$", "$1001$"), "4321")
    with pytest.raises(ValueError):
        officers.hash_pin("12")


def test_the_office_file_refuses_a_plain_pin_and_a_code_given_twice(tmp_path: Path) -> None:
    path = write_office(tmp_path)
    good = officers.hash_pin("4321", iterations=1000)
    path.write_text(path.read_text(encoding="utf-8") + f"""
[[officers]]
code = "cb01"
name = "A"
pin = "4321"

[[officers]]
code = "cb01"
name = "B"
pin = "{good}"
roles = ["boss"]
""", encoding="utf-8")
    with pytest.raises(config.ConfigError) as found:
        config.load(path)
    text = str(found.value)
    assert "officers[0].pin: must be a PIN hash made by `motcua officer pin`" in text
    assert "officers[1].roles" in text and "duplicate officer code 'cb01'" in text


def test_a_chip_id_check_records_the_officer_who_made_it(tmp_path: Path) -> None:
    path = write_office(tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        'code = "A"\n', 'code = "A"\nrequires = ["chip_id"]\n', 1)
    path.write_text(text + "\n" + officer_rows(), encoding="utf-8")
    desk = LocalDispatcher(config.load(path), ManualClock(at("09:00")))
    try:
        desk.ok("kiosk", "k1", "walk_in", service="A")
        desk.ok("counter", "1", "sign_in", officer="cb01", pin="4321")
        desk.ok("counter", "1", "next")
        check = desk.ok("counter", "1", "verify", ticket="A001", verified=True)["ticket"]["check"]
        assert check["officer"] == "cb01" and check["counter"] == "1"
        desk.restart()
        assert desk.d.hall.tickets["A001"].check_officer == "cb01"
    finally:
        desk.close()


def lan_alone(tmp_path: Path, pin_hash: str) -> config.OfficeConfig:
    """The test office with one officer, cb01 (Lan), whose PIN hash is `pin_hash`."""
    path = write_office(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + '\n[[officers]]\ncode = "cb01"\n'
                    f'name = "Lan"\npin = "{pin_hash}"\n', encoding="utf-8")
    return config.load(path)


def test_a_pin_checked_ahead_is_taken_on_the_writer_without_hashing_again(
        tmp_path: Path) -> None:
    """PinChecks: the check runs on its helper thread, then the command goes on; the writer
    takes the answer in microseconds, not the ~60 ms of PBKDF2 (real iterations here)."""
    import threading
    import time

    checks = officers.PinChecks(lan_alone(tmp_path, officers.hash_pin("4321")))
    queued = threading.Event()
    t0 = time.perf_counter()
    assert checks.verify("cb01", "4321") is not None  # none ready: checked there and then
    inline = time.perf_counter() - t0
    for pin in ("4321", "0000"):
        queued.clear()
        assert checks.ahead("counter/1", "cb01", pin, then=queued.set)
        assert queued.wait(10)
    t0 = time.perf_counter()
    right, wrong = checks.verify("cb01", "4321"), checks.verify("cb01", "0000")
    taken = time.perf_counter() - t0
    assert right is not None and right.code == "cb01" and wrong is None
    assert taken < inline / 10, (taken, inline)


def test_a_flood_of_sign_ins_waits_eight_deep_a_device_32_in_all(tmp_path: Path) -> None:
    import threading

    slow = officers.hash_pin("4321", iterations=1_000_000)  # ~0.5 s: the others wait behind
    checks = officers.PinChecks(lan_alone(tmp_path, slow))
    done = threading.Semaphore(0)
    one = [checks.ahead("counter/9", "cb01" if n == 0 else f"x{n}", f"{n:04d}",
                        then=done.release) for n in range(30)]
    assert one[:8] == [True] * 8 and not any(one[8:])  # past its 8, one device is dropped
    many = [checks.ahead(f"counter/{n + 10}", f"x{n}", f"{n:04d}", then=done.release)
            for n in range(40)]
    assert sum(many) == 32 - 8 and not any(many[24:])  # and past 32, everyone
    assert not checks.ahead("counter/x", "\ud800", "\udfff", then=done.release)
    for _ in range(32):
        assert done.acquire(timeout=30)
    # Room again once they are done; an odd code and PIN are refused there, no crash.
    assert checks.ahead("counter/x", "\ud800", "\udfff", then=done.release)
    assert done.acquire(timeout=10)
    assert checks.verify("\ud800", "\udfff") is None
    assert len(checks._ready) <= checks.READY_KEPT


def test_only_a_sign_in_body_is_checked_ahead() -> None:
    assert officers.sign_in_of(b'{"v":1,"id":"x","type":"sign_in","officer":"cb01",'
                               b'"pin":"4321"}') == ("cb01", "4321")
    for body in (b'{"type":"next"}', b'{"type":"sign_in","officer":1,"pin":"4321"}',
                 b'{"type":"sign_in","officer":"cb01","pin":' + b"9" * 5000 + b"}",
                 b"[" * 100_000 + b"sign_in" + b"]" * 100_000, b"\xff\xfe sign_in",
                 b'["sign_in"]', b"sign_in", b'{"type": "sign_in"}'):
        assert officers.sign_in_of(body) is None, body[:60]
    # A lone surrogate is a string: it is checked (and refused there, no crash).
    assert officers.sign_in_of(b'{"type":"sign_in","officer":"\\ud800","pin":"\\udfff"}') \
        == ("\ud800", "\udfff")
