"""The simulator: seeded and deterministic, the real core's calls, FIFO beside it, the planner."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import simulate as sim
from motcua.config import OfficeConfig
from motcua.errors import run_main
from motcua.model import Booking, Status
from motcua.waits import TARGET_MIN, counted_wait
from tests.conftest import at
from tests.core.harness import Hallway


@pytest.fixture
def small() -> sim.Profile:
    return dataclasses.replace(sim.load_profile("normal"), visits=70)


def _days(office: OfficeConfig, k: int = 1) -> list:
    return sim.working_days(office, sim.START["peak"], k)


def test_same_seed_same_day_other_seed_other_day(office: OfficeConfig, small) -> None:  # type: ignore[no-untyped-def]
    o = sim.sim_office(office, 4, 2)
    a, b = (sim.simulate(o, small, _days(o, 2), seed=7) for _ in range(2))
    assert [d.steps for d in a.days] == [d.steps for d in b.days]
    assert [d.calls for d in a.days] == [d.calls for d in b.days]
    other = sim.simulate(o, small, _days(o, 2), seed=8)
    assert [d.calls for d in other.days] != [d.calls for d in a.days]


def test_every_ticket_is_closed_and_called_once(office: OfficeConfig, small) -> None:  # type: ignore[no-untyped-def]
    o = sim.sim_office(office, 3, 2)
    day = _days(o)[0]
    people = sim.citizens(o, small, day, 0, 5)
    s = sim.DaySim(o, day, people, "motcua")
    result = s.run()
    assert s.hall.closed and not s.hall.waiting()
    numbers = [n for n, _, _ in result.calls]
    assert len(numbers) == len(set(numbers)) == len(s.hall.tickets)
    statuses = {t.status for t in s.hall.tickets.values()}
    assert statuses <= {Status.DONE, Status.NO_SHOW, Status.REFUSED}
    assert [c.at for c in result.steps] == sorted(c.at for c in result.steps)
    booked = {p.booking.id for p in people if p.booking}
    came = {p.booking.id for p in people if p.booking and p.arrive}
    assert result.cancelled == len(booked - came) > 0   # close_day cancelled the no-shows


def test_both_policies_meet_the_same_citizens(office: OfficeConfig) -> None:
    """Same seed, same people; the motcua policy keeps on-time bookings within 5 minutes
    of their slot where plain FIFO makes them queue with everyone."""
    peak = sim.load_profile("peak")
    o = sim.sim_office(office, 8, 2)
    days = _days(o)
    motcua, fifo = (sim.simulate(o, peak, days, 1, policy) for policy in ("motcua", "fifo"))
    issued = [sorted(v.issued for d in r.days for v in d.visits) for r in (motcua, fifo)]
    assert issued[0] == issued[1]
    assert motcua.stats("on_time").p95 <= sim.BOOKING_TARGET_MIN < fifo.stats("on_time").p95
    # Bookings go first: walk-ins pay for it, a little.
    assert motcua.stats("walk_in").mean >= fifo.stats("walk_in").mean
    assert all(0 < u < 1 for u in motcua.utilisation().values())


def test_counted_wait_starts_at_the_slot_for_on_time_bookings() -> None:
    slot = at("09:00")
    assert counted_wait("booking", "early", at("08:40"), at("09:03"), slot) == 3
    assert counted_wait("booking", "on_time", at("09:05"), at("09:06"), slot) == 1
    assert counted_wait("booking", "on_time", at("08:55"), at("08:52"), slot) == 0
    assert counted_wait("booking", "late", at("09:30"), at("09:50"), slot) == 20
    assert counted_wait("walk_in", None, at("08:40"), at("09:03"), None) == 23


def test_forward_estimate_counts_bookings_still_to_come(office: OfficeConfig,
                                                        make_token) -> None:  # type: ignore[no-untyped-def]
    hw = Hallway(office, at("08:00"))
    for cid in ("1", "2", "3"):
        hw.walk_in("A")
        hw.next(cid)                                     # every counter busy since 08:00
    hw.walk_in("A")
    mine = hw.walk_in("A")                               # second in line
    before = sim.forward_estimate(hw.hall, office, hw.clock(), mine.number)
    # 08:00 + half a service / 3 counters frees the first counter, A004 goes; the next
    # counter frees up half a mean service later: (1 + 0.5) * 15 / 3 = 7.5 minutes.
    assert before == pytest.approx(7.5)
    slot = at("08:10")
    hw.hall.bookings["BK-X"] = Booking("BK-X", "A", slot, slot + timedelta(minutes=30))
    after = sim.forward_estimate(hw.hall, office, hw.clock(), mine.number)
    assert after > before      # the booking due at 08:00 (window opens 10 min ahead) goes first


def test_plan_finds_the_fewest_counters(office: OfficeConfig, small) -> None:  # type: ignore[no-untyped-def]
    result = sim.plan(office, small, _days(office, 3), seed=2)
    assert result.counters is not None and result.booking_counters == 2
    chosen = [t for t in result.tried if t[:2] == (result.counters, result.booking_counters)]
    assert chosen[0][2] <= TARGET_MIN and chosen[0][3] <= sim.BOOKING_TARGET_MIN
    fewer = [t for t in result.tried if t[0] == result.counters - 1]
    assert all(t[2] > TARGET_MIN or t[3] > sim.BOOKING_TARGET_MIN for t in fewer)
    assert result.erlang >= 2


def test_profile_file_and_its_mistakes(tmp_path: Path) -> None:
    good = tmp_path / "tet.toml"
    good.write_text('[profile]\nbase = "peak"\nvisits = 300\nbooking_share = 0.4\n'
                    '[profile.hourly]\n7 = 3\n8 = 1\n', encoding="utf-8")
    p = sim.load_profile(str(good))
    assert (p.name, p.visits, p.booking_share, p.hourly) == ("tet", 300.0, 0.4, {7: 3.0, 8: 1.0})
    assert p.day_factors == sim.PROFILES["peak"].day_factors
    for body, field in (("booking_share = 1.5", "booking_share"), ("visitors = 3", "visitors"),
                        ('distribution = "normal"', "distribution"),
                        ("[profile.hourly]\n25 = 1", "hourly")):
        bad = tmp_path / "bad.toml"
        bad.write_text(f"[profile]\n{body}\n", encoding="utf-8")
        with pytest.raises(sim.SimulationError) as err:
            sim.load_profile(str(bad))
        assert f"profile.{field}" in err.value.message
        assert f"profile.{field}" in err.value.message_en
    with pytest.raises(sim.SimulationError, match="cannot read profile"):
        sim.load_profile(str(tmp_path / "none.toml"))


def test_command_line(office_file: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert sim.main(["--config", str(office_file), "--profile", "normal", "--visits", "60",
                     "--counters", "4", "--days", "2", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "motcua policy" in out and "fifo policy" in out and "Erlang C" in out
    assert "Hẹn đúng giờ" in out and "printed on tickets" in out and "queue_minutes" in out
    assert run_main(sim.main, "motcua simulate", ["--config", str(office_file), "--counters",
                                                  "3", "--booking-counters", "4"]) == 2
    err = capsys.readouterr().err
    assert "quầy nhận lịch hẹn" in err and "booking counters" in err
    with pytest.raises(SystemExit) as exit_:
        sim.main(["--config", str(office_file), "--days", "many"])
    assert exit_.value.code == 2 and "tham số không hợp lệ / invalid" in capsys.readouterr().err


def test_fifo_equals_an_independent_multi_server_queue(office: OfficeConfig) -> None:
    """Under plain FIFO with nobody leaving, every citizen waits exactly what a ten-line
    first-come-first-served c-server queue gives the same arrivals and service times."""
    flat = dataclasses.replace(sim.load_profile("normal"), visits=150, booking_share=0.0,
                               leave_share=0.0, refuse_share=0.0, priority_share=0.0,
                               hourly=dict.fromkeys(range(24), 1.0))
    o = sim.sim_office(office, 4, 2)
    day = _days(o)[0]
    people = sim.citizens(o, flat, day, 0, seed=4)
    result = sim.DaySim(o, day, people, "fifo").run()

    def arrived(p: sim.Citizen) -> datetime:
        assert p.arrive is not None, p  # no bookings in this profile: everyone comes
        return p.arrive
    free = [arrived(people[0]).replace(hour=0)] * 4
    expected = []
    for p in sorted(people, key=arrived):
        k = min(range(4), key=lambda j: free[j])
        start = max(arrived(p), free[k])
        free[k] = start + timedelta(minutes=p.minutes)
        expected.append((start - arrived(p)).total_seconds() / 60)
    waits = [v.wait for v in sorted(result.visits, key=lambda v: v.issued)]
    assert waits == pytest.approx(expected, abs=1e-6)
    assert max(expected) > 15     # a day with a real queue, not an empty hall
