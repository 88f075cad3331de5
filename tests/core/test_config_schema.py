"""The office file's schema: every misspelt key and table, every value that makes no sense,
named with the file, the line and the key. The keys and tables come from the models, so a
new key is covered without a new test."""

from __future__ import annotations

from pathlib import Path

import pytest

from motcua import config
from motcua.errors import MotcuaError
from tests.conftest import write_office


def problems(path: Path) -> list[str]:
    with pytest.raises(config.ConfigError) as err:
        config.load(path)
    return err.value.problems


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [i for i, line in enumerate(lines, 1) if needle in line][nth - 1]


def header(table: str) -> str:
    return f"[[{table}]]" if table in config.ARRAYS else f"[{table}]"


def with_line(tmp_path: Path, table: str, line: str) -> tuple[Path, int]:
    """The test office with `line` first in `table` (its first row for an array); the table
    is added at the end when the test office has none. Returns the file and that line."""
    path = write_office(tmp_path)
    text = path.read_text(encoding="utf-8")
    head = header(table) + "\n"
    if head not in text:
        text += "\n" + head
    at = text.index(head) + len(head)
    path.write_text(text[:at] + line + "\n" + text[at:], encoding="utf-8")
    return path, text[:at].count("\n") + 1


def named(table: str, key: str) -> str:
    return f"{table}[0].{key}" if table in config.ARRAYS else f"{table}.{key}"


SCHEMA = [(table, key) for table, model in config.TABLES.items() for key in model.model_fields]


def test_the_schema_is_what_the_office_file_documents() -> None:
    assert list(config.TABLES) == ["office", "broker", "storage", "limits", "booking",
                                   "services", "counters", "devices", "kiosk", "printer",
                                   "display", "web", "waits", "refusals", "officers",
                                   "rating"]
    assert sorted(config.ARRAYS) == ["counters", "officers", "services"]
    assert len(SCHEMA) > 50


@pytest.mark.parametrize(("table", "key"), SCHEMA, ids=[f"{t}.{k}" for t, k in SCHEMA])
def test_each_misspelt_key_names_file_line_key_and_the_likely_one(
        tmp_path: Path, table: str, key: str) -> None:
    typo = key + key[-1]  # grace_minutess, idd, usbb
    path, line = with_line(tmp_path, table, f"{typo} = 1")
    assert (f"{path}:{line}: {named(table, typo)}: unknown key (khóa lạ); did you mean {key}?"
            in problems(path))


@pytest.mark.parametrize("table", list(config.TABLES))
def test_each_misspelt_table_names_file_line_and_the_likely_one(
        tmp_path: Path, table: str) -> None:
    path = write_office(tmp_path)
    typo = table + table[-1]
    with path.open("a", encoding="utf-8") as f:
        f.write(f"\n{header(typo)}\nx = 1\n")
    line = line_of(path, header(typo))
    assert (f"{path}:{line}: [{typo}]: unknown table (bảng lạ); did you mean {table}?"
            in problems(path))


@pytest.mark.parametrize(("text", "name", "guess"), [
    ("[theme]\nhall = \"red\"", "[theme]", ""),  # nothing near: no guess
    ("[booking.key]\nportal = \"x.pem\"", "booking.key", "; did you mean keys?"),
    ("[office.holidays]\nnew-year = 2026-01-01", "office.holidays", "; did you mean days?"),
])
def test_other_unknown_tables(tmp_path: Path, text: str, name: str, guess: str) -> None:
    path = write_office(tmp_path)
    with path.open("a", encoding="utf-8") as f:
        f.write(f"\n{text}\n")
    what = "unknown table (bảng lạ)" if name.startswith("[") else "unknown key (khóa lạ)"
    assert f"{path}:{line_of(path, text.splitlines()[0])}: {name}: {what}{guess}" in problems(path)


def test_a_key_above_every_table_is_an_unknown_table_on_its_line(tmp_path: Path) -> None:
    path = write_office(tmp_path)
    path.write_text('offce_id = "demo"\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert (f"{path}:1: [offce_id]: unknown table (bảng lạ); did you mean office?"
            in problems(path))


# (what to replace, the replacement, the key named, the text on its line[, which one], what)
MEANINGLESS = [
    ("grace_minutes = 10", "grace_minutes = 40", "booking.grace_minutes", "grace_minutes", 1,
     "must not be longer than a slot (slot_minutes = 30)"),
    ("call_ahead_minutes = 10", "call_ahead_minutes = 31", "booking.call_ahead_minutes",
     "call_ahead_minutes", 1, "must not be longer than a slot"),
    ("grace_minutes = 10", "grace_minutes = -1", "booking.grace_minutes", "grace_minutes", 1,
     "must be at least 0"),
    ("slot_minutes = 30", "slot_minutes = 0", "booking.slot_minutes", "slot_minutes", 1,
     "must be at least 5"),
    ("lead_working_days = 2", "lead_working_days = -2", "booking.lead_working_days",
     "lead_working_days", 1, "must be at least 0"),
    ("mean_service_minutes = 15", "mean_service_minutes = 0", "booking.mean_service_minutes",
     "mean_service_minutes", 1, "must be at least 1"),
    ('ticket_prefix = "H"', 'ticket_prefix = "A"', "booking.ticket_prefix", "ticket_prefix", 1,
     "'A' is also a service prefix"),
    ('ticket_prefix = "H"', 'ticket_prefix = "h1"', "booking.ticket_prefix", "ticket_prefix", 1,
     "'h1' must be one or two capital letters"),
    ('feedback_service = "C"', 'feedback_service = "Z"', "booking.feedback_service",
     "feedback_service", 1, "unknown service 'Z'"),
    ("width_px = 576", "width_px = 500", "printer.width_px", "width_px", 1,
     "500 must be 576 (80 mm), 512 or 384 (58 mm)"),
    ('kind = "file"', 'kind = "laser"', "printer.kind", "kind =", 1,
     "'laser' is not one of usb, network, serial, file, none"),
    ({'kind = "file"': 'kind = "usb"', 'usb = "0x04b8:0x0e15"': 'usb = ""'}, "", "printer.usb",
     'usb = ""', 1, "kind = usb needs it, e.g. '0x04b8:0x0e15'"),
    ({'kind = "file"': 'kind = "network"', 'network = "192.168.1.50:9100"': 'network = ""'}, "",
     "printer.network", 'network = ""', 1, "kind = network needs it"),
    ('\nfile = "', '\nfile = "" # "', "printer.file", 'file = "" #', 1,
     "kind = file needs it"),
    ("rows = 6", "rows = 6\nvolume = 1.5", "display.volume", "volume", 1,
     "must be between 0 and 1"),
    ("rows = 6", "rows = 6\nvolume = -0.5", "display.volume", "volume", 1,
     "must be between 0 and 1"),
    ("rows = 6", "rows = 0", "display.rows", "rows", 1, "must be at least 1"),
    ('voice = "espeak-ng"', 'voice = "festival"', "display.voice", "voice", 1,
     "'festival' is not one of espeak-ng, none"),
    ('code = "B"', 'code = "A"', "services[1].code", 'code = "A"', 2,
     "duplicate service code 'A'"),
    ('prefix = "B"', 'prefix = "A"', "services[1].prefix", 'prefix = "A"', 2,
     "duplicate ticket prefix 'A'"),
    ('code = "B"', 'code = "B-1"', "services[1].code", 'code = "B-1"', 1,
     "'B-1' must be 1-8 letters or digits"),
    ('name = "Nhận kết quả"\n', "", "services[1].name", "[[services]]", 2, "is required"),
    ('id = "2"', 'id = "1"', "counters[1].id", 'id = "1"', 2, "duplicate counter id '1'"),
    ('id = "2"', 'id = "Quầy 2"', "counters[1].id", 'id = "Quầy 2"', 1,
     "'Quầy 2' must match [a-z0-9-]{1,32}"),
    ('services = ["A", "B", "C"]', 'services = ["A", "B", "C", "A"]', "counters[2].services",
     'services = ["A", "B", "C", "A"]', 1, "'A' given twice"),
    ('services = ["A", "B", "C"]', 'services = []', "counters[2].services", "services = []", 1,
     "a counter needs at least one service"),
    ("bookings = true               #", "bookings = false  #", "counters", "[[counters]]", 1,
     "at least two counters must take bookings (bookings = true), found 1"),
    ('id = "demo"', 'id = "Demo office"', "office.id", 'id = "Demo office"', 1,
     "'Demo office' must match [a-z0-9-]{1,32}"),
    ('name = "BHXH thành phố Thủ Dầu Một"', 'name = ""', "office.name", 'name = ""', 1,
     "must not be empty"),
    ('days = ["mon", "tue", "wed", "thu", "fri"]', "days = []", "office.days", "days", 1,
     "an office is open on at least one day"),
    ('days = ["mon", "tue", "wed", "thu", "fri"]', 'days = ["mon", "thurs"]', "office.days",
     "days", 1, "'thurs' is not one of mon, tue, wed, thu, fri, sat, sun"),
    ('hours = [["07:30", "11:30"], ["13:00", "16:30"]]', "hours = []", "office.hours", "hours",
     1, "an office opens at least once a day"),
    ('["13:00", "16:30"]', '["13:00", "12:00"]', "office.hours", "hours", 1,
     "['13:00', '12:00']: the start must be before the end"),
    ('["13:00", "16:30"]', '["11:00", "16:30"]', "office.hours", "hours", 1,
     "opening spans overlap"),
    ('["13:00", "16:30"]', '["13:00"]', "office.hours", "hours", 1,
     "['13:00'] must be a pair like"),
    ('closures = ["2026-12-31"]', 'closures = ["2026-02-30"]', "office.closures", "closures", 1,
     "'2026-02-30' is not a date YYYY-MM-DD"),
    ('closures = ["2026-12-31"]', "closures = [2026-12-31T00:00:00]", "office.closures",
     "closures", 1, "is not a date YYYY-MM-DD"),
    ('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia"', "office.timezone", "timezone", 1,
     "unknown time zone 'Asia'"),
    ('url = "mqtt://127.0.0.1:1883"', 'url = "http://127.0.0.1"', "broker.url", "url =", 1,
     "'http://127.0.0.1' must look like mqtt://host:1883 or mqtts://host:8883"),
    ('ca_file = ""', 'ca_file = ""\npassword_file = "no/such.pass"', "broker.password_file",
     "password_file", 1, "cannot read no/such.pass: No such file or directory"),
    ("keep_command_days = 30", "keep_command_days = 0", "storage.keep_command_days",
     "keep_command_days", 1, "must be between 1 and 3660 days"),
    ("kiosk_per_minute = 0", "kiosk_per_minute = -1", "limits.kiosk_per_minute",
     "kiosk_per_minute", 1, "must be between 0 and 100000"),
    ("counter_per_minute = 0", "counter_per_minute = 0\nqueued_per_device = 0",
     "limits.queued_per_device", "queued_per_device", 1, "must be at least 1"),
    ('languages = ["vi", "en"]', "languages = []", "kiosk.languages", "languages", 1,
     "a kiosk speaks at least one language"),
    ("priority_button = true", "priority_button = true\ncamera = 1.5", "kiosk.camera",
     "camera", 1, "must be an integer or a string, not 1.5"),
    ('id = "2"', 'id = ["2"]', "counters[1].id", 'id = ["2"]', 1,
     "must be a string, not ['2']"),
    ('code = "B"', "code = 2", "services[1].code", "code = 2", 1, "must be a string, not 2"),
    # types: TOML has them, so none is guessed
    ("rows = 6", 'rows = "6"', "display.rows", "rows", 1, "must be an integer, not '6'"),
    ("chime = true", "chime = 1", "display.chime", "chime", 1, "must be true or false, not 1"),
    ("grace_minutes = 10", "grace_minutes = true", "booking.grace_minutes", "grace_minutes", 1,
     "must be an integer, not True"),
    ("slot_minutes = 30", "slot_minutes = 30.5", "booking.slot_minutes", "slot_minutes", 1,
     "must be an integer, not 30.5"),
    ('languages = ["vi", "en"]', 'languages = "vi"', "kiosk.languages", "languages", 1,
     "must be a list, not 'vi'"),
    ('profile = "TM-T20II"', "profile = 88", "printer.profile", "profile", 1,
     "must be a string, not 88"),
]


@pytest.mark.parametrize(("old", "new", "name", "needle", "nth", "what"), MEANINGLESS,
                         ids=[f"{m[2]}:{m[1][:24]}" for m in MEANINGLESS])
def test_each_meaningless_value_names_file_line_and_key(tmp_path: Path, old: str | dict[str, str],
                                                        new: str, name: str, needle: str,
                                                        nth: int, what: str) -> None:
    path = write_office(tmp_path, **(old if isinstance(old, dict) else {old: new}))
    start = f"{path}:{line_of(path, needle, nth)}: {name}: "
    found = problems(path)
    assert any(p.startswith(start) and what in p for p in found), (start, what, found)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write_office(tmp_path, **{
        '["13:00", "16:30"]': '["13:00", "25:30"]',       # [office]
        'prefix = "B"': 'prefix = "A"',                     # across [[services]]
        "grace_minutes = 10": "grace_minutes = 45",         # across [booking]
        "width_px = 576": "width_px = 580",                 # [printer]
        'services = ["A", "B", "C"]': 'services = ["A", "D"]',  # [[counters]] -> [[services]]
        "chime = true": "chimes = true",                   # unknown key
    })
    found = problems(path)
    assert [p.split(": ")[1] for p in found] == [
        "office.hours", "printer.width_px", "display.chimes", "booking.grace_minutes",
        "services[1].prefix", "counters[2].services", "services.C"]
    assert all(p.startswith(f"{path}:") for p in found)


def test_a_table_given_as_a_value(tmp_path: Path) -> None:
    path = write_office(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text("display = 3\n" + text[:text.index("[display]")], encoding="utf-8")
    assert problems(path) == [f"{path}:1: [display]: must be a table, not 3"]


def test_services_as_a_plain_table(tmp_path: Path) -> None:
    path = write_office(tmp_path)
    text = path.read_text(encoding="utf-8")
    first = text.index("[[services]]")
    end = text.index("[[services]]", first + 1)
    body = text[first:end].replace("[[services]]", "[services]")
    path.write_text(text[:first] + body + text[text.index("[[counters]]"):], encoding="utf-8")
    found = problems(path)
    assert f"{path}:{line_of(path, '[services]')}: [[services]]: must be an array" in found[0]


def test_no_services_at_all(tmp_path: Path) -> None:
    path = write_office(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:text.index("[[services]]")] + text[text.index("[[counters]]"):],
                    encoding="utf-8")
    found = problems(path)
    assert f"{path}:1: [[services]]: at least one service is required" in found
    assert f"{path}:{line_of(path, 'services = [')}: counters[0].services: unknown service 'A'" \
        in found


def test_no_office_table(tmp_path: Path) -> None:
    path = write_office(tmp_path, **{"[office]": "[offices]"})
    found = problems(path)
    assert found == [
        f"{path}:{line_of(path, '[offices]')}: [offices]: unknown table (bảng lạ); "
        "did you mean office?",
        f"{path}:1: [office]: is required"]


def test_an_ed25519_key_is_required(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    pem = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "p256.pem").write_bytes(pem)
    text = write_office(tmp_path).read_text(encoding="utf-8")
    key_line = next(line for line in text.splitlines() if line.startswith("demo-portal"))
    path = write_office(tmp_path, **{key_line: 'demo-portal = "p256.pem"'})
    assert problems(path) == [f"{path}:{line_of(path, 'demo-portal')}: booking.keys.demo-portal: "
                              "p256.pem is not an Ed25519 key"]


def test_paths_are_read_beside_the_office_file(tmp_path: Path) -> None:
    (tmp_path / "broker.pass").write_text("s3cret\n", encoding="utf-8")
    office = config.load(write_office(tmp_path, **{
        'ca_file = ""': 'ca_file = "ca.crt"\nusername = "dispatcher"\n'
                        'password_file = "broker.pass"'}))
    assert office.broker == config.BrokerConfig(url="mqtt://127.0.0.1:1883",
                                                username="dispatcher", password="s3cret",
                                                ca_file=tmp_path / "ca.crt")


def test_defaults_where_the_file_says_nothing(tmp_path: Path) -> None:
    path = write_office(tmp_path)
    text = path.read_text(encoding="utf-8")
    cut = text.index("[kiosk]")
    path.write_text(text[:cut], encoding="utf-8")  # no [kiosk], [printer], [display]
    office = config.load(path)
    assert office.kiosk == config.KioskConfig()
    assert office.display == config.DisplayConfig()
    assert office.printer == config.PrinterConfig(file=tmp_path / "var/tickets")


def test_config_error_is_a_motcua_error(tmp_path: Path) -> None:
    with pytest.raises(MotcuaError) as err:
        config.load(write_office(tmp_path, **{"rows = 6": "rows = 0"}))
    assert isinstance(err.value, config.ConfigError) and err.value.exit_code == 2
