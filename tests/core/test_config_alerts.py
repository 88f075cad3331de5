"""office.toml: the wait target, the checks a service requires, the refusal reasons."""

from __future__ import annotations

from pathlib import Path

from motcua import config
from tests.conftest import write_office
from tests.core.test_config import line_of, problems

BOOKING = "[booking]\n"


def test_defaults_without_the_new_tables(office: config.OfficeConfig) -> None:
    assert office.wait_target_min == 15.0
    assert [s.requires for s in office.services.values()] == [(), (), ()]
    assert [r.reason for r in office.refusals] == [r.reason for r in config.DEFAULT_REFUSALS]
    assert all(r.guidance for r in office.refusals)


def test_an_office_lists_its_own_checks_target_and_reasons(tmp_path: Path) -> None:
    office = config.load(write_office(tmp_path, **{
        'prefix = "B"\n': 'prefix = "B"\nrequires = ["chip_id"]\n',
        BOOKING: '[waits]\ntarget_minutes = 20\n\n[refusals]\nreasons = [\n'
                 '  { reason = "Thiếu tờ khai TK1-TS" },\n'
                 '  { reason = "Chưa đóng đủ BHXH", guidance = "Đóng bù rồi quay lại." },\n'
                 ']\n\n' + BOOKING}))
    assert office.services["B"].requires == ("chip_id",)
    assert office.wait_target_min == 20
    assert office.refusals == (config.RefusalReason("Thiếu tờ khai TK1-TS", ""),
                               config.RefusalReason("Chưa đóng đủ BHXH", "Đóng bù rồi quay lại."))


def test_mistakes_name_their_line(tmp_path: Path) -> None:
    found = problems(tmp_path, **{
        'prefix = "B"\n': 'prefix = "B"\nrequires = ["chip_id", "face", "chip_id"]\n',
        BOOKING: '[waits]\ntarget_minutes = 0\n\n[refusals]\nreasons = [\n'
                 '  { reason = "A" }, { reason = "A" },\n]\n\n' + BOOKING})
    path = tmp_path / "office.toml"
    text = "\n".join(found)
    assert f"{path}:{line_of(path, 'requires =')}: services[1].requires: 'face' is not one " \
           "of chip_id, fingerprint" in text
    assert f"{path}:{line_of(path, 'target_minutes')}: waits.target_minutes: must be " \
           "between 1 and 240 minutes" in text
    assert f"{path}:{line_of(path, 'reasons =')}: refusals.reasons: 'A' given twice" in text


def test_reasons_are_checked(tmp_path: Path) -> None:
    many = ", ".join(f'{{ reason = "R{i}" }}' for i in range(9))
    found = problems(tmp_path, **{BOOKING: f"[refusals]\nreasons = [{many}]\n\n" + BOOKING})
    assert any("at most 8 reasons" in p for p in found)
    found = problems(tmp_path, **{BOOKING: "[refusals]\nreasons = []\n\n" + BOOKING})
    assert any("list at least one reason" in p for p in found)
    found = problems(tmp_path, **{BOOKING: '[refusals]\nreasons = [{ reason = "" }]\n\n' + BOOKING})
    assert any("refusals.reasons.reason: must not be empty" in p for p in found), found
    found = problems(tmp_path, **{
        BOOKING: '[refusals]\nreasons = [{ reason = "x", why = "y" }]\n\n' + BOOKING})
    assert any("unknown key" in p for p in found), found
