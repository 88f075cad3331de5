"""examples/office-officers.toml, the demo office with officers and rating screens: it loads,
its published demo PINs are the ones its header lists, and a day runs through it; while
examples/office.toml, which `make demo` runs, stays without sign-in."""

from __future__ import annotations

import re
from pathlib import Path

from broker_config.accounts import Account, office_devices
from motcua import config, officers
from motcua.clock import ManualClock
from tests.conftest import ROOT, at, with_storage
from tests.dispatcher.local import LocalDispatcher

EXAMPLE = ROOT / "examples" / "office-officers.toml"


def header_pins() -> dict[str, str]:
    head = EXAMPLE.read_text(encoding="utf-8").split("[office]")[0]
    listed = head.split("officers):")[1].split("#   motcua")[0]  # the list of PINs only
    return dict(re.findall(r"(\b[a-z]+\d*) [^·\n]+? (\d{4,8})\b", listed))


def test_the_demo_office_of_make_demo_signs_nobody_in() -> None:
    assert config.load(ROOT / "examples" / "office.toml").officers == {}


def test_the_officers_example_pins_are_the_ones_it_says() -> None:
    office = config.load(EXAMPLE)
    pins = header_pins()
    assert set(pins) == set(office.officers) == {"cb01", "cb02", "cb03", "lead"}
    for code, pin in pins.items():
        assert officers.verify(office, code, pin) is not None, code
    assert office.officers["lead"].roles == ("head",)
    found = office_devices(EXAMPLE, list(office.counters))
    assert {Account("rating", c) for c in ("1", "2", "3")} <= set(found)


def test_a_day_through_the_officers_example(tmp_path: Path) -> None:
    office = with_storage(config.load(EXAMPLE), tmp_path / "office.sqlite3")
    desk = LocalDispatcher(office, ManualClock(at("09:00")))
    try:
        number = desk.ok("kiosk", "k1", "walk_in", service="A")["ticket"]["number"]
        assert desk.error("counter", "1", "next") == "not_signed_in"
        desk.ok("counter", "1", "sign_in", officer="cb01", pin=header_pins()["cb01"])
        assert desk.ok("counter", "1", "next")["ticket"]["officer"] == "cb01"
        desk.ok("counter", "1", "done")
        desk.ok("rating", "1", "rate", ticket=number, level="very_satisfied")
    finally:
        desk.close()
