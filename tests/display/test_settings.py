"""[display] voice settings in office.toml: region, voice name, number reading, repeat and a
second language; their defaults, the demo office's, and each mistake named by file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from motcua import config
from tests.conftest import write_office

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_the_northern_voice_digits_said_twice_vietnamese_only() -> None:
    d = config.DisplayConfig()
    assert (d.region, d.voice_name, d.number_reading, d.repeat, d.second_language) == \
        ("north", "", "digits", 2, "")


def test_the_demo_office_in_thu_dau_mot_is_a_southern_one() -> None:
    office = config.load(ROOT / "examples" / "office.toml")
    assert "Thủ Dầu Một" in office.name  # Bình Dương province, the South
    assert office.display.region == "south"


def test_every_setting_read_from_the_file(tmp_path: Path) -> None:
    path = write_office(tmp_path, **{"rows = 6": 'rows = 6\nvoice_name = "vi-vn-x-central"\n'
                                     'number_reading = "whole"\nrepeat = 3\n'
                                     'second_language = "en"'})
    d = config.load(path).display
    assert (d.voice_name, d.number_reading, d.repeat, d.second_language) == \
        ("vi-vn-x-central", "whole", 3, "en")


BAD = [
    ('region = "south"', 'region = "west"', "region =",
     "display.region: 'west' is not one of north, central, south"),
    ("rows = 6", "rows = 6\nrepeat = 0", "repeat =", "display.repeat: must be between 1 and 3"),
    ("rows = 6", "rows = 6\nrepeat = 4", "repeat =", "display.repeat: must be between 1 and 3"),
    ("rows = 6", 'rows = 6\nrepeat = "2"', "repeat =",
     "display.repeat: must be an integer, not '2'"),
    ("rows = 6", 'rows = 6\nnumber_reading = "words"', "number_reading =",
     "display.number_reading: 'words' is not one of digits, whole"),
    ("rows = 6", 'rows = 6\nsecond_language = "fr"', "second_language =",
     "display.second_language: 'fr' is not one of , en"),
    ("rows = 6", 'rows = 6\nvoice_name = "vi; rm -rf /"', "voice_name =",
     "display.voice_name: 'vi; rm -rf /' is not an espeak-ng voice name"),
    ("rows = 6", 'rows = 6\nlanguage = "en"', "language =",
     "display.language: unknown key (khóa lạ)"),
]


@pytest.mark.parametrize(("old", "new", "line", "says"), BAD, ids=[b[3].split(":")[0] + str(i)
                                                                    for i, b in enumerate(BAD)])
def test_a_mistake_names_its_line(tmp_path: Path, old: str, new: str, line: str,
                                  says: str) -> None:
    with pytest.raises(config.ConfigError) as err:
        config.load(write_office(tmp_path, **{old: new}))
    path = tmp_path / "office.toml"
    n = next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if text.startswith(line))
    assert len(err.value.problems) == 1
    assert err.value.problems[0].startswith(f"{path}:{n}: {says}"), err.value.problems
    assert "tệp cấu hình có lỗi" in err.value.message and "mistakes" in err.value.message_en
