"""A rating screen on the secured broker (generated config, real Mosquitto, the dispatcher):
it rates through its own account and reads its counter, nothing of the other counters, and
speaks for no counter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from motcua import topics
from tests.conftest import needs
from tests.integration.devices import DispatcherProcess
from tests.security.conftest import SecuredHall
from tests.security.harness import DEVICES, NOT_AUTHORIZED, make_secured, start_broker
from tests.security.test_acl import OFFICE, command, probe, seen_by_dispatcher, sentinel


@pytest.fixture(scope="module")
@needs("mqtt", "process")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredHall]:
    s = make_secured(tmp_path_factory.mktemp("secured-rating"),
                     DEVICES + 'ratings = ["3"]\n')
    broker = start_broker(s)
    dispatcher = DispatcherProcess(s.device_office("dispatcher-main"),
                                   f"mqtt://127.0.0.1:{s.port}", s.folder / "dispatcher.log")
    dispatcher.start()
    h = SecuredHall(s, broker, dispatcher)
    try:
        yield h
    finally:
        for d in h.devices.values():
            d.close()
        code = dispatcher.stop()
        broker.stop()
        assert code == 0, (s.folder / "dispatcher.log").read_text()[-3000:]


def test_a_rating_screen_rates_through_its_own_account(hall: SecuredHall) -> None:
    number = hall.device("kiosk", "k1").send("walk_in", service="A")["ticket"]["number"]
    counter = hall.device("counter", "3")
    assert counter.send("call", ticket=number)["ok"]
    assert counter.send("done")["ok"]
    rated = hall.device("rating", "3").send("rate", ticket=number, level="very_satisfied")
    assert rated["ok"] and rated["ticket"]["number"] == number
    assert seen_by_dispatcher(hall, rated["id"]) == [("rating", "3")]


def test_a_rating_screen_speaks_for_no_counter_and_reads_only_its_own(
        hall: SecuredHall) -> None:
    own = hall.devices.pop(("rating", "3"), None)
    if own is not None:
        own.close()  # one connection per account: the probe takes the screen's place
    spy = probe(hall, "rating-3")
    for target in (("counter", "3"), ("rating", "1"), ("kiosk", "k1"), ("admin", "cli")):
        body = command(f"forged-{target[0]}-{target[1]}", "next")
        assert spy.publish(topics.cmd(OFFICE, *target), body) == NOT_AUTHORIZED, target
    spy.subscribe(f"motcua/{OFFICE}/state/counter/+")
    spy.subscribe(f"motcua/{OFFICE}/reply/#")
    spy.subscribe(f"motcua/{OFFICE}/cmd/#")
    spy.subscribe(topics.presence(OFFICE, "rating", "3"))  # where its sentinel comes back
    assert hall.device("counter", "1").send("next")["ok"]  # a reply it must not see
    sentinel(spy, "rating-3")
    seen = {t for t, _, _ in spy.received}
    assert topics.state_counter(OFFICE, "3") in seen
    assert not [t for t in seen if "/cmd/" in t or "/reply/counter/" in t
                or t.startswith(f"motcua/{OFFICE}/state/counter/") and not t.endswith("/3")]
    spy.close()
