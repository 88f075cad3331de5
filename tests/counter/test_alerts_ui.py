"""The counter terminal shows waits past the target and the identity check, and records the
check with the keypad; the office's own refusal reasons. A real window under Xvfb, a real
Mosquitto, the dispatcher in this process on the manual clock (its tick alone makes a wait
overdue)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from broker_config.dev import DevBroker
from dispatcher.run import serve
from motcua import config
from motcua.clock import ManualClock
from tests.conftest import at, needs, write_office
from tests.counter.harness import Terminal
from tests.dispatcher.test_alerts import REQUIRES_A
from tests.integration.devices import Device, Watcher

REASONS = ('[refusals]\nreasons = [\n'
           '  { reason = "Thiếu tờ khai TK1-TS", guidance = "Khai mẫu TK1-TS rồi quay lại." },\n'
           '  { reason = "Chưa đủ thời gian đóng BHXH" },\n]\n\n[booking]\n')


@pytest.fixture
@needs("kivy", "process")
def desk(broker: DevBroker, tmp_path: Path) -> Iterator[dict]:
    office_file = write_office(tmp_path, **{**REQUIRES_A, "[booking]\n": REASONS})
    office = config.load(office_file)
    clock = ManualClock(at("08:00"))
    service = serve(office, broker.url, clock)
    kiosk = Device(broker.url, "kiosk", "k1")
    watch = Watcher(broker.url)
    terminal = Terminal(office_file, "1", broker.url, tmp_path)
    try:
        yield {"clock": clock, "kiosk": kiosk, "watch": watch, "t": terminal}
    finally:
        terminal.close()
        kiosk.close()
        watch.close()
        service.stop()
        service.dispatcher.store.close()


def test_overdue_waits_and_the_identity_check_at_the_counter(desk: dict) -> None:
    t, kiosk, clock, watch = desk["t"], desk["kiosk"], desk["clock"], desk["watch"]
    t.idle()
    for service in ("A", "A", "B", "C"):  # C: counter 1 does not serve it
        assert kiosk.send("walk_in", service=service)["ok"]
    v = t.wait(lambda v: v["waiting_total"] == "3", "3 waiting")
    assert v["overdue"] == [] and v["overdue_title"] == ""
    clock.now = at("08:23")  # no command: the dispatcher's tick marks them
    v = t.wait(lambda v: len(v["overdue"]) == 3, "three overdue")
    assert v["overdue_title"] == "CHỜ QUÁ 15 PHÚT · WAITING OVER 15 MIN (3)"
    assert v["overdue"] == ["A001   23′", "A002   23′", "B001   23′"]  # C001 is not ours
    assert v["next_here"][0] == "A001   QUÁ HẠN (overdue)"
    assert not v["buttons"]["verify"]
    t.shot("alerts-01-overdue")

    t.key("KP_Enter")  # A001: service A asks for the chip ID card and the fingerprint
    v = t.wait(lambda v: v["number"] == "A001" and v["check_tone"] == "todo"
               and not v["busy"], "serving A001, check to do")
    assert v["check"].startswith("Cần kiểm tra: thẻ CCCD gắn chíp + vân tay")
    assert v["overdue"] == ["A002   23′", "B001   23′"] and v["buttons"]["verify"]
    t.shot("alerts-02-check-to-do")

    t.key("KP_4")
    v = t.ui()
    assert v["dialog"] == "verify" and v["dialog_number"] == "A001"
    t.key("KP_Enter")  # nothing chosen
    v = t.ui()
    assert v["dialog_error"] == ("Chọn 1 (đã xác minh) hoặc 2 (không xác minh được).\n"
                                 "Choose 1 (verified) or 2 (not verified).")
    t.key("KP_2")
    t.key("KP_Enter")  # not verified needs a reason
    v = t.ui()
    assert v["dialog_failed"] and v["dialog_error"].startswith("Gõ lý do không xác minh được")
    t.text("reason", "Chíp không đọc được, vân tay khớp")
    t.shot("alerts-03-verify-dialog")
    t.key("KP_Enter")
    v = t.wait(lambda v: v["dialog"] is None and v["check_tone"] == "bad" and not v["busy"],
               "not verified recorded")
    assert v["check"] == ("Không xác minh được: Chíp không đọc được, vân tay khớp\n"
                          "Not verified: chip ID card + fingerprint")
    assert v["message"].startswith("Đã ghi kết quả xác minh số A001.")
    event = watch.wait_for("/event/ticket", lambda m: m["change"] == "not_verified")
    assert event["ticket"]["check"]["reason"] == "Chíp không đọc được, vân tay khớp"
    assert not v["buttons"]["verify"]
    t.shot("alerts-04-not-verified")
    t.key("KP_4")  # once: the button is off and the key says why
    v = t.ui()
    assert v["dialog"] is None and v["message"].startswith("Xác minh: không dùng được lúc này")
    # A second check sent anyway (a stale screen): the dispatcher's refusal, in both languages.
    t.force("verify", ticket="A001", verified=True)
    v = t.wait(lambda v: v["message_tone"] == "error", "already checked")
    assert v["message"] == ("Số này đã được ghi kết quả xác minh; không ghi lại được.\n"
                            "This ticket's check is already recorded; it cannot be changed.")

    t.settle()
    t.key("KP_8")  # refuse: the office's own reasons, then "Khác"
    v = t.ui()
    assert v["dialog"] == "refuse" and v["dialog_choices"] == [
        "Thiếu tờ khai TK1-TS", "Chưa đủ thời gian đóng BHXH", "Khác"]
    t.key("KP_1")
    v = t.ui()
    assert v["dialog_guidance"] == "Khai mẫu TK1-TS rồi quay lại."
    t.shot("alerts-05-office-reasons")
    t.key("KP_Enter")
    refused = watch.wait_for("/event/ticket", lambda m: m["change"] == "refused")
    assert refused["ticket"]["reason"] == "Thiếu tờ khai TK1-TS"
