"""The seed scenario of the ordering policy, driven from two counter windows at once."""

from __future__ import annotations

from tests.conftest import at
from tests.counter.conftest import LiveOffice


def test_seed_scenario_from_two_windows(hall: LiveOffice, make_token) -> None:  # type: ignore[no-untyped-def]
    """Booking counters 1 and 2 busy with walk-ins; counter 3, which takes no bookings,
    frees up first and takes the due booking (the spill-over). The office clock is 08:00."""
    one, three = hall.terminal("1"), hall.terminal("3")
    two = hall.device("counter", "2")     # the third counter, without a window
    one.idle()
    three.idle()
    for _ in range(3):
        hall.walk_in("A")                                    # A001 A002 A003
    one.key("KP_Enter")
    one.wait(lambda v: v["number"] == "A001", "A001 at 1")
    assert two.send("next")["ticket"]["number"] == "A002"
    three.key("KP_Enter")
    three.wait(lambda v: v["number"] == "A003", "A003 at 3")

    hall.walk_in("A")                                        # A004
    on_time = hall.check_in(make_token("BK-1", at("08:05")))  # window open since 07:55
    late = hall.check_in(make_token("BK-2", at("07:30")))     # grace ended 07:40
    assert (on_time["number"], on_time["booking"]["arrival"]) == ("H001", "on_time")
    assert (late["number"], late["booking"]["arrival"]) == ("H002", "late")
    hall.walk_in("A")                                        # A005

    # Both windows see the due booking first in line; the late one waits like a walk-in,
    # marked late so staff know before calling (issue 14).
    expected = ["H001   lịch hẹn (booking)", "A004", "H002   trễ hẹn (late)", "A005"]
    for t in (one, three):
        t.wait(lambda v: v["next_here"] == expected, "the ordering")
    one.shot("seed-01-counter1-before")

    three.key("KP_Enter")
    v = three.wait(lambda v: v["number"] == "H001", "spill-over to 3")
    assert v["kind"] == "Lịch hẹn 08:05–08:35 · Đúng giờ  (booking, on time)"
    three.shot("seed-02-counter3-spill-over")
    one.key("KP_Enter")
    one.wait(lambda v: v["number"] == "A004", "A004 at 1")
    assert two.send("next")["ticket"]["number"] == "H002"     # the late booking
    three.settle()
    three.key("KP_Enter")
    three.wait(lambda v: v["number"] == "A005", "A005 at 3")
    one.settle()
    one.key("KP_Enter")
    v = one.wait(lambda v: v["number"] == "—" and not v["busy"], "nobody left for 1")
    assert v["message"] == "Không còn ai chờ ở quầy này.\nNobody is waiting for this counter."
    assert v["next_here"] == []
    one.shot("seed-03-counter1-nobody")
    assert hall.calls("1") == ["A001", "A004"] and hall.calls("3") == ["A003", "H001", "A005"]
