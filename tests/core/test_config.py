"""office.toml validation: every mistake names the file, the line and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from motcua import config
from tests.conftest import write_office


def problems(tmp_path: Path, **replace: str) -> list[str]:
    with pytest.raises(config.ConfigError) as err:
        config.load(write_office(tmp_path, **replace))
    return err.value.problems


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_the_demo_office_loads(office: config.OfficeConfig) -> None:
    assert office.id == "demo"
    assert [c.id for c in office.counters.values() if c.bookings] == ["1", "2"]
    assert list(office.booking.keys) == ["demo-portal"]
    assert office.booking.grace_minutes == 10


def test_fewer_than_two_booking_counters(tmp_path: Path) -> None:
    found = problems(tmp_path, **{"bookings = true               #": "bookings = false  #"})
    assert any("at least two counters must take bookings" in p and ", found 1" in p for p in found)


def test_unknown_service_in_a_counter_names_its_line(tmp_path: Path) -> None:
    found = problems(tmp_path, **{'services = ["A", "B", "C"]': 'services = ["A", "B", "D"]'})
    path = tmp_path / "office.toml"
    line = line_of(path, 'services = ["A", "B", "D"]')
    assert found[0] == f"{path}:{line}: counters[2].services: unknown service 'D'"
    services_c = line_of(path, 'code = "C"') - 1  # the [[services]] header of C
    assert found[1] == f"{path}:{services_c}: services.C: no counter serves it"


def test_duplicate_ids_bad_times_and_keys(tmp_path: Path) -> None:
    found = problems(tmp_path, **{
        'id = "2"': 'id = "1"',
        '["13:00", "16:30"]': '["13:00", "25:30"]',
        '/examples/keys/demo-portal.pub.pem"': '/examples/keys/missing.pem"',
    })
    path = tmp_path / "office.toml"
    text = "\n".join(found)
    second = [i for i, ln in enumerate(path.read_text().splitlines(), 1) if ln == 'id = "1"'][1]
    assert f"{path}:{second}: counters[1].id: duplicate counter id '1'" in text
    assert "times are HH:MM" in text
    assert f":{line_of(path, 'hours =')}: office.hours" in text


def test_unreadable_key_file(tmp_path: Path) -> None:
    text = write_office(tmp_path).read_text(encoding="utf-8")
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    key_line = next(line for line in text.splitlines() if line.startswith("demo-portal"))
    found = problems(tmp_path, **{key_line: f'demo-portal = "{bad}"'})
    assert len(found) == 1 and "booking.keys.demo-portal" in found[0]
    assert "is not a PEM public key" in found[0]
    path = tmp_path / "office.toml"
    assert found[0].startswith(f"{path}:{line_of(path, 'demo-portal =')}:")


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    found = problems(tmp_path, **{'slot_minutes = 30': 'slot_minutes = = 30'})
    path = tmp_path / "office.toml"
    assert found[0].startswith(f"{path}:{line_of(path, 'slot_minutes')}: not valid TOML")


def test_wrong_types_and_unknown_values(tmp_path: Path) -> None:
    found = problems(tmp_path, **{'grace_minutes = 10': 'grace_minutes = "ten"',
                                  'kind = "file"': 'kind = "laser"',
                                  'timezone = "Asia/Ho_Chi_Minh"': 'timezone = "Mars/Olympus"',
                                  'days = ["mon"': 'days = ["mon", "funday"'})
    text = "\n".join(found)
    assert "booking.grace_minutes: must be an integer, not 'ten'" in text
    assert "printer.kind: 'laser' is not one of" in text
    assert "office.timezone: unknown time zone 'Mars/Olympus'" in text
    assert "office.days: 'funday'" in text


def test_missing_file() -> None:
    with pytest.raises(config.ConfigError) as err:
        config.load("/nonexistent/office.toml")
    assert "/nonexistent/office.toml:0: cannot read the file" in str(err.value)
