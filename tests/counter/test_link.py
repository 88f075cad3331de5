"""The counter terminal when the dispatcher or the broker goes away: said plainly, and a
press made meanwhile calls exactly one citizen once they are back."""

from __future__ import annotations

from tests.counter.conftest import LiveOffice


def test_dispatcher_down_then_back_calls_once(hall: LiveOffice) -> None:
    t = hall.terminal("1")
    t.idle()
    hall.walk_in("A")
    hall.walk_in("A")
    t.wait(lambda v: len(v["next_here"]) == 2, "two waiting")

    assert hall.dispatcher.stop() == 0
    v = t.wait(lambda v: v["banner"].startswith("Bộ điều phối đang tắt"), "dispatcher down")
    assert v["buttons"]["next"]  # commands wait for it: they are resent until it answers
    t.key("KP_Enter")
    v = t.wait(lambda v: v["message"].startswith("Chưa có trả lời"), "no reply yet", 10)
    assert v["busy"] and not any(v["buttons"].values())
    t.key("KP_Enter")  # pressed again, impatient: ignored while the first waits
    t.shot("link-01-dispatcher-down")

    hall.dispatcher.start()
    v = t.wait(lambda v: v["number"] == "A001" and not v["busy"], "A001 after restart", 30)
    assert v["banner"] == ""
    hall.settled()  # any duplicate would have been called by now
    assert hall.calls("1") == ["A001"]


def test_broker_gone_is_shown_and_locks_the_buttons(hall: LiveOffice) -> None:
    t = hall.terminal("3")
    t.idle()
    hall.walk_in("A")
    t.key("KP_Enter")
    t.wait(lambda v: v["number"] == "A001", "serving A001")

    hall.broker.stop()
    v = t.wait(lambda v: v["banner"].startswith("MẤT KẾT NỐI"), "disconnected", 20)
    assert not any(v["buttons"].values())
    assert v["number"] == "A001"  # the last known ticket stays on screen
    t.shot("link-02-broker-gone")

    hall.broker.start()
    v = t.wait(lambda v: v["banner"] == "" and v["buttons"]["done"], "reconnected", 30)
    t.key("KP_Multiply")
    t.wait(lambda v: v["number"] == "—", "done after reconnect")
