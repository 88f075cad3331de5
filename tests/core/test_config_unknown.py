"""Issue 13: the office file refuses what it does not know, naming file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from motcua import config
from tests.conftest import write_office


def problems(tmp_path: Path, **replace: str) -> str:
    with pytest.raises(config.ConfigError) as err:
        config.load(write_office(tmp_path, **replace))
    return str(err.value)


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_a_misspelt_key_is_named_with_its_line_and_the_likely_key(tmp_path: Path) -> None:
    text = problems(tmp_path, **{"slot_minutes = 30": "slot_minute = 30"})
    office = tmp_path / "office.toml"
    where = f"{office}:{line_of(office, 'slot_minute = 30')}"
    assert (f"{where}: booking.slot_minute: unknown key (khóa lạ); "
            "did you mean slot_minutes?") in text


def test_an_unknown_table_is_named(tmp_path: Path) -> None:
    text = problems(tmp_path, **{"[printer]": "[printr]"})
    office = tmp_path / "office.toml"
    where = f"{office}:{line_of(office, '[printr]')}"
    assert f"{where}: [printr]: unknown table (bảng lạ); did you mean printer?" in text


def test_unknown_keys_in_arrays_of_tables(tmp_path: Path) -> None:
    text = problems(tmp_path, **{'id = "2"\n': 'id = "2"\nbooking = true\n'})
    assert "counters[1].booking: unknown key (khóa lạ); did you mean bookings?" in text


def test_a_key_with_no_near_match_has_no_guess(tmp_path: Path) -> None:
    text = problems(tmp_path, **{"[kiosk]\n": "[kiosk]\ncolour = \"red\"\n"})
    assert "kiosk.colour: unknown key" in text and "did you mean" not in text.split(
        "kiosk.colour")[1].split("\n")[0]


def test_no_working_days_is_refused_at_load(tmp_path: Path) -> None:
    office = tmp_path / "office.toml"
    text = problems(tmp_path, **{'days = ["mon", "tue", "wed", "thu", "fri"]': "days = []"})
    assert f"{office}:" in text and "office.days: an office is open on at least one day" in text


def test_the_example_office_has_no_unknown_key() -> None:
    config.load(Path(__file__).resolve().parents[2] / "examples" / "office.toml")
