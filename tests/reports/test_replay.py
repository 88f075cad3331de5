"""A simulated day replayed through the real dispatcher over MQTT makes the same calls."""

from __future__ import annotations

import time
from pathlib import Path

import simulate as sim
from broker_config.dev import DevBroker
from dispatcher.run import serve
from motcua.clock import ManualClock
from motcua.config import OfficeConfig
from reports import report
from reports.charts import draw_all
from tests.integration.devices import Device
from tests.reports.replay import replay_in_process, seed_bookings


def test_simulated_day_over_mqtt_gives_the_same_calls(office: OfficeConfig, broker: DevBroker,
                                                      artifacts: Path) -> None:
    o = sim.sim_office(office, 6, 2)    # the simulated portal's key, 6 counters, 2 for bookings
    profile = sim.load_profile("peak")  # a whole peak day: about 190 tickets, 450 commands
    day = sim.START["peak"]
    people = sim.citizens(o, profile, day, 0, seed=11)
    simulated = sim.DaySim(o, day, people, "motcua").run()
    seed_bookings(o.storage, o, simulated, [p.booking for p in people if p.booking])

    clock = ManualClock(simulated.steps[0].at)
    service = serve(o, broker.url, clock)
    devices: dict[tuple[str, str], Device] = {}
    calls, estimates = [], []
    t0 = time.monotonic()
    try:
        for step in simulated.steps:
            clock.now = step.at        # the office's time moves only between commands
            key = (step.role, step.device)
            if key not in devices:
                devices[key] = Device(broker.url, *key)
            reply = devices[key].send(step.type, timeout=20, **step.fields)
            ticket = reply.get("ticket")
            if step.type in ("next", "call") and ticket:
                calls.append((ticket["number"], step.device))
            if step.type in ("walk_in", "check_in") and reply["ok"]:
                assert ticket is not None, reply
                estimates.append((ticket["number"], ticket["est_wait_min"]))
        elapsed = time.monotonic() - t0
        # The report reads the live database beside the running dispatcher.
        rows = report.load_rows(report.open_readonly(o.storage), day, day, o.tz)
    finally:
        for d in devices.values():
            d.close()
        service.stop()

    assert calls == [(n, c) for n, c, _ in simulated.calls]
    assert estimates == [(v.number, v.est) for v in simulated.visits]
    assert len(calls) > 150, (len(calls), elapsed)
    print(f"{len(simulated.steps)} commands over MQTT in {elapsed:.1f} s")
    # The report of that database says what the simulator measured.
    built = report.build(rows, {}, day, day)
    measured = sim.Run("motcua", o, [simulated]).stats()
    figures = next(r for r in built.tables["waits"] if r["service"] == r["group"] == "*")
    assert figures["n"] == measured.n and abs(figures["mean"] - measured.mean) < 1e-9
    assert built.totals["over_15"] == round(measured.over * measured.n)
    pngs = draw_all(built, artifacts / "reports" / "peak-day", o.name)
    assert pngs
    for png in pngs:
        assert png.stat().st_size > 10_000


def test_many_simulated_days_in_process(office: OfficeConfig, office_file: Path,
                                        artifacts: Path) -> None:
    """Three overloaded peak days, 5 counters (3 for bookings), straight into
    Dispatcher.handle: the same calls every day, with yesterday's tickets in the database."""
    o = sim.sim_office(office, 5, 3)
    profile = sim.load_profile("peak")
    days = sim.working_days(o, sim.START["peak"], 3)
    for i, day in enumerate(days):
        people = sim.citizens(o, profile, day, i, 1)
        simulated = sim.DaySim(o, day, people, "motcua").run()
        seed_bookings(o.storage, o, simulated, [p.booking for p in people if p.booking])
        calls, dispatcher = replay_in_process(o, simulated.steps)
        dispatcher.store.close()
        assert [(n, c) for n, c, _ in calls] == [(n, c) for n, c, _ in simulated.calls]
    out = artifacts / "reports" / "three-days"
    assert report.main(["--config", str(office_file), "--db", str(o.storage), "--date",
                        days[0].isoformat(), "--to", days[-1].isoformat(), "--out", str(out)]) == 0
    by_day = {r["day"]: r for r in report.build(
        report.load_rows(report.open_readonly(o.storage), days[0], days[-1], o.tz), {},
        days[0], days[-1]).tables["days"]}
    assert [int(by_day[d.isoformat()]["tickets"]) for d in days] == [
        len(sim.citizens(o, profile, d, i, 1)) - sum(  # every citizen who came got a ticket
            1 for p in sim.citizens(o, profile, d, i, 1) if p.arrive is None)
        for i, d in enumerate(days)]
    assert (out / "days.png").stat().st_size > 10_000
