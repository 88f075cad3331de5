"""Hypothesis: random days of commands never break the policy's promises."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from motcua import protocol
from motcua.model import Status, Tier
from motcua.policy import tier
from motcua.protocol import Rejected
from tests.conftest import at
from tests.core.harness import Hallway

COUNTERS = ("1", "2", "3")
SLOTS = [at("07:30") + timedelta(minutes=30 * i) for i in range(8)]

counter_cmd = st.one_of(
    st.just(protocol.Next()), st.just(protocol.Next()), st.just(protocol.Next()),
    st.just(protocol.Done()), st.just(protocol.NoShow()), st.just(protocol.Recall()),
    st.just(protocol.Pause()), st.just(protocol.Resume()),
    st.sampled_from("ABC").map(lambda s: protocol.Transfer(service=s)),
    st.sampled_from(COUNTERS).map(lambda c: protocol.Transfer(counter=c)),
    st.just(protocol.Refuse("ngoài thẩm quyền")),
    st.integers(1, 12).map(lambda n: protocol.Call(f"A{n:03d}")),
)
step = st.one_of(
    st.tuples(st.just("walk_in"), st.sampled_from("ABC"), st.booleans()),
    st.tuples(st.just("check_in"), st.integers(0, 11), st.sampled_from("AB")),
    st.tuples(st.just("counter"), st.sampled_from(COUNTERS), counter_cmd),
    st.tuples(st.just("counter"), st.sampled_from(COUNTERS), st.just(protocol.Next())),
    st.tuples(st.just("tick"), st.integers(0, 8)),
)


def run(office, make_token, program, check: bool):  # type: ignore[no-untyped-def]
    hw = Hallway(office, at("07:30"))
    issued = 0
    for s in program:
        before = {cid: c.current for cid, c in hw.hall.counters.items()}
        waiting_before = {t.number for t in hw.hall.waiting()}
        device = None
        try:
            if s[0] == "walk_in":
                hw.walk_in(s[1], s[2])
                issued += 1
            elif s[0] == "check_in":
                n = s[1]
                token = make_token(f"BK-{n}", SLOTS[n % len(SLOTS)], service=s[2])
                d = hw.send("kiosk", "k1", protocol.CheckIn(token))
                issued += 0 if d.error else 1
            elif s[0] == "counter":
                device = s[1]
                calls_before = len(hw.calls)
                expected = first_in_line(hw, device) if check else None
                hw.send("counter", device, s[2])
                if check and isinstance(s[2], protocol.Next):
                    called = hw.calls[-1][0] if len(hw.calls) > calls_before else None
                    assert called is None or called in waiting_before, f"{called} not waiting"
                    assert called == expected, f"{device} called {called}, not {expected}"
            else:
                hw.clock.advance(minutes=s[1])
        except Rejected:
            pass
        if check:
            assert_consistent(hw, issued)
            for cid, current in before.items():
                if cid != device:
                    assert hw.hall.counters[cid].current == current, "pre-empted"
    return hw


def assert_consistent(hw: Hallway, issued: int) -> None:
    assert len(hw.hall.tickets) == issued
    for cid, c in hw.hall.counters.items():
        if c.current is not None:
            t = hw.hall.tickets[c.current]
            assert t.status is Status.SERVING and t.counter == cid
    serving = [t for t in hw.hall.tickets.values() if t.status is Status.SERVING]
    assert sorted(t.number for t in serving) == sorted(
        c.current for c in hw.hall.counters.values() if c.current)
    waiting = [t for t in hw.hall.tickets.values() if t.status is Status.WAITING]
    assert sorted(t.number for t in waiting) == sorted(hw.hall.queue)
    assert +hw.hall.waiting_by_service == Counter(t.service for t in waiting)
    seqs = [t.seq for t in hw.hall.tickets.values()]
    assert sorted(seqs) == list(range(1, issued + 1))


def first_in_line(hw: Hallway, cid: str) -> str | None:
    """An independent reading of DESIGN.md: whom counter `cid` must call next, if anyone."""
    office, now = hw.office, hw.clock()
    counter = office.counters[cid]
    if hw.hall.counters[cid].status.value == "paused":
        return None

    def rank(t):  # type: ignore[no-untyped-def]
        target = t.target_counter
        if t.status is not Status.WAITING or (target and target != cid):
            return None
        # DESIGN.md, spelt out again: transferred in, priority, entry, sequence.
        general = (0 if t.transferred else 1, 0 if t.priority else 1, t.entry_at, t.seq)
        if target == cid:
            return (0, general)
        if t.service not in counter.services:
            return None
        if tier(t, now, office.booking) is Tier.BOOKING:
            spill = not any(hw.hall.counters[b.id].idle() and b.id != cid
                            for b in office.booking_counters(t.service))
            if counter.bookings or spill:
                return (1, (t.booking.start, t.entry_at, t.seq))
            return None
        return (2, general)

    ranks = [(r, t.number) for t in hw.hall.tickets.values() if (r := rank(t)) is not None]
    return min(ranks)[1] if ranks else None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(program=st.lists(step, min_size=1, max_size=80))
def test_random_days_keep_every_promise(office, make_token, program) -> None:  # type: ignore[no-untyped-def]
    hw = run(office, make_token, program, check=True)
    # Same commands, same clock: same calls.
    assert run(office, make_token, program, check=False).calls == hw.calls
    # End of day: nothing is left waiting, nothing disappears.
    total = len(hw.hall.tickets)
    hw.send("admin", "cli", protocol.CloseDay())
    assert len(hw.hall.tickets) == total
    assert not hw.hall.waiting()
