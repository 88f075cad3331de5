"""The doctor's checks one by one, without a broker: each fault gives its line and status."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli import doctor
from cli.doctor import FAIL, OK, SKIP, WARN, Check, Observation
from motcua import config
from motcua.config import DisplayConfig, PrinterConfig
from motcua.mqtt import BrokerRefused, BrokerTLSError, Seen
from motcua.protocol import DispatcherDetail, Presence, encode
from tests.conftest import write_office
from tests.doctor.support import (
    LoopbackPrinter,
    certificate,
    der,
    office_for,
    pem,
    video_camera,
)

PRESENCE = "motcua/demo/presence/dispatcher/main"
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


# -- 1. the office file -----------------------------------------------------------------
def test_a_bad_office_file_fails_with_its_line_and_the_rest_is_skipped(tmp_path: Path) -> None:
    path = write_office(tmp_path, **{"slot_minutes = 30": 'slot_minutes = "half an hour"'})
    checks = doctor.run(path)
    assert checks[0].status == FAIL and checks[0].name == "office"
    assert f"{path}:" in checks[0].detail and "booking.slot_minutes" in checks[0].detail
    assert {c.status for c in checks[1:]} == {SKIP} and len(checks) == 10
    assert doctor.exit_code(checks) == 1


def test_a_missing_office_file_fails(tmp_path: Path) -> None:
    check, office = doctor.check_office(tmp_path / "nowhere.toml")
    assert check.status == FAIL and office is None and "cannot read" in check.detail


# -- 2, 4, 8: from what the broker showed -----------------------------------------------
def presence(status: str = "online", at: datetime = NOW, storage: str = "ok",
             problem: str | None = None, warnings: list[str] | None = None) -> bytes:
    detail = DispatcherDetail(instance="abc", pid=42, host="server", since=NOW.isoformat(),
                              day="2026-11-25", seq=7, storage=storage, problem=problem,
                              warnings=warnings)
    return encode(Presence(status=status, at=at.isoformat(timespec="seconds"),
                           detail=detail.model_dump(exclude_none=True)))


def seen(*payloads: bytes, arrived: datetime = NOW) -> Observation:
    """An observation where the first payload was retained and the others came live."""
    obs = Observation("mqtt://127.0.0.1:1883", "kiosk-k1")
    obs.seen = [(Seen(PRESENCE, p, True, i * 2.0), arrived) for i, p in enumerate(payloads)]
    return obs


def test_no_broker_is_said_apart_from_a_wrong_password() -> None:
    down = Observation("mqtt://10.0.0.9:1883", "kiosk-k1",
                       ConnectionError("no broker at 10.0.0.9:1883: refused"))
    refused = Observation("mqtt://10.0.0.9:1883", "kiosk-k1", BrokerRefused(
        "refused", 135, "Not authorized"))
    tls = Observation("mqtts://10.0.0.9:8883", "kiosk-k1", BrokerTLSError("bad cert"))
    assert doctor.check_broker(down).message_en.startswith("No broker at 10.0.0.9:1883")
    wrong = doctor.check_broker(refused)
    assert wrong.status == FAIL and wrong.message_en.startswith("Not authorized")
    assert "kiosk-k1" in wrong.message_en and "password_file" in wrong.message_en
    assert "TLS" in doctor.check_broker(tls).message_en
    for obs in (down, refused, tls):
        assert doctor.check_dispatcher(obs, "demo").status == SKIP
        assert doctor.check_clock(obs, "demo").status == SKIP


def test_a_live_heartbeat_with_storage_ok_is_online() -> None:
    check = doctor.check_dispatcher(seen(presence(), presence()), "demo")
    assert check.status == OK and "pid 42 @ server" in check.detail


def test_a_dispatcher_trusting_the_demo_key_is_warned() -> None:
    check = doctor.check_dispatcher(seen(presence(), presence(warnings=["demo_key"])), "demo")
    assert check.status == WARN and "DEMO portal key" in check.message_en
    assert "motcua booking keygen" in check.message_vi


def test_storage_unavailable_in_the_presence_fails_with_its_problem() -> None:
    obs = seen(presence(), presence(storage="unavailable", problem="database or disk is full"))
    check = doctor.check_dispatcher(obs, "demo")
    assert check.status == FAIL and "database or disk is full" in check.message_en


def test_a_retained_online_without_heartbeat_is_a_dispatcher_that_does_not_answer() -> None:
    check = doctor.check_dispatcher(seen(presence()), "demo", wait=5)
    assert check.status == FAIL and "no heartbeat in 5 s" in check.message_en


def test_offline_and_never_seen_dispatchers_fail() -> None:
    offline = encode(Presence(status="offline"))
    assert "offline" in doctor.check_dispatcher(seen(offline), "demo").message_en
    assert "none ever ran" in doctor.check_dispatcher(seen(), "demo").message_en


@pytest.mark.parametrize(("seconds", "status"), [(0.4, OK), (-25, OK), (45, WARN), (-45, WARN),
                                                 (121, FAIL), (-600, FAIL)])
def test_clock_thresholds(seconds: float, status: str) -> None:
    theirs = NOW - timedelta(seconds=seconds)  # mine - theirs = seconds
    check = doctor.clock_offset(theirs, NOW)
    assert check.status == status, check
    if status != OK:
        assert "on-time/late" in check.message_en
        assert ("ahead of" if seconds > 0 else "behind") in check.message_en


def test_the_clock_is_read_from_a_live_heartbeat_only() -> None:
    ten_off = NOW + timedelta(minutes=10)
    assert doctor.check_clock(seen(presence(at=ten_off)), "demo").status == SKIP  # retained
    check = doctor.check_clock(seen(presence(at=ten_off), presence(at=ten_off)), "demo")
    assert check.status == FAIL and "600 s behind" in check.message_en


# -- 3. certificates --------------------------------------------------------------------
@pytest.mark.parametrize(("days", "status"), [(400, OK), (10, WARN), (-1, FAIL)])
def test_the_ca_certificate_expiry(tmp_path: Path, days: float, status: str) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_bytes(pem(certificate(days)))
    office = config.load(write_office(tmp_path, **{'ca_file = ""': f'ca_file = "{ca}"'}))
    found, problems = doctor.certificates(office, office.broker.url)
    check = doctor.check_certificates(found, problems)
    assert check.status == status, check
    assert str(ca) in check.detail


def test_the_server_certificate_of_an_mqtts_broker_is_checked_too(tmp_path: Path) -> None:
    office = config.load(write_office(tmp_path))
    expired = der(certificate(-3, "localhost"))
    found, problems = doctor.certificates(office, "mqtts://localhost:8883",
                                          lambda host, port: expired)
    check = doctor.check_certificates(found, problems)
    assert check.status == FAIL and "server localhost:8883" in check.message_en
    assert "expired" in check.message_en


def test_no_tls_is_skipped_and_an_unreadable_ca_fails(tmp_path: Path) -> None:
    office = config.load(write_office(tmp_path))
    assert doctor.check_certificates(*doctor.certificates(office, office.broker.url)).status \
        == SKIP
    bad = tmp_path / "ca.crt"
    bad.write_text("not a certificate")
    office = config.load(write_office(tmp_path, **{'ca_file = ""': f'ca_file = "{bad}"'}))
    assert doctor.check_certificates(*doctor.certificates(office, office.broker.url)).status \
        == FAIL


# -- 5. database and disk ---------------------------------------------------------------
def test_a_sound_database_passes_and_a_damaged_one_fails(tmp_path: Path) -> None:
    good = tmp_path / "good.sqlite3"
    with closing(sqlite3.connect(good)) as db:
        db.execute("CREATE TABLE tickets (n INTEGER)")
        db.commit()
    assert doctor.check_database(good).status == OK
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    check = doctor.check_database(bad)
    assert check.status == FAIL and "restore the last backup" in check.message_en


GIB, MIB = 1 << 30, 1 << 20


@pytest.mark.parametrize(("total", "free", "status"), [
    (100 * GIB, 50 * GIB, OK),
    (100 * GIB, 5 * GIB, WARN),  # under 10 %
    (4 * GIB, 900 * MIB, WARN),  # under 1 GiB
    (100 * GIB, 99 * MIB, FAIL),  # under 100 MiB
])
def test_disk_thresholds(tmp_path: Path, total: int, free: int, status: str) -> None:
    check = doctor.check_disk(tmp_path, lambda _: (total, total - free, free))
    assert check.status == status, check


def test_the_database_is_skipped_off_the_server(tmp_path: Path) -> None:
    office = config.load(write_office(tmp_path))  # no database made there yet
    checks = doctor.storage_checks(office, None, doctor.Machine())
    assert [c.status for c in checks] == [SKIP, SKIP]
    checks = doctor.storage_checks(office, "dispatcher", doctor.Machine(
        disk_usage=lambda _: (100 * GIB, 0, 50 * GIB)))
    assert [c.status for c in checks] == [WARN, OK]  # the dispatcher will make it
    assert [c.status for c in doctor.storage_checks(office, "kiosk", doctor.Machine())] \
        == [SKIP, SKIP]


# -- 6. printer -------------------------------------------------------------------------
@pytest.mark.parametrize(("mode", "status", "words"), [
    ("online", OK, "paper ok"), ("paper_low", WARN, "low on paper"),
    ("paper_out", FAIL, "out of paper"), ("offline", FAIL, "offline"),
    ("silent", FAIL, "offline or unreachable")])
def test_printer_health(mode: str, status: str, words: str) -> None:
    printer = LoopbackPrinter(mode=mode)
    try:
        check = doctor.check_printer(PrinterConfig(kind="network", network=printer.address,
                                                   profile="TM-T20II"), timeout=0.5)
    finally:
        printer.close()
    assert check.status == status and words in check.message_en, check


def test_file_and_no_printers_are_skipped_with_a_note(tmp_path: Path) -> None:
    check = doctor.check_printer(PrinterConfig(kind="file", file=tmp_path))
    assert check.status == SKIP and str(tmp_path) in check.message_en
    assert doctor.check_printer(PrinterConfig(kind="none")).status == SKIP


# -- 7. camera --------------------------------------------------------------------------
def test_a_camera_that_gives_a_frame_passes_and_a_missing_one_fails(tmp_path: Path) -> None:
    check = doctor.check_camera(str(video_camera(tmp_path)))
    assert check.status == OK and "64x48" in check.message_en
    assert doctor.check_camera(str(tmp_path / "no-such-camera.avi")).status == FAIL


def test_no_camera_here_is_skipped_unless_this_is_a_kiosk(tmp_path: Path) -> None:
    office = config.load(office_for(tmp_path))  # camera 0
    none_here = doctor.Machine(camera_present=lambda source: False)
    assert doctor.device_checks(office, None, none_here)[1].status == SKIP
    assert doctor.device_checks(office, "display", none_here)[1].status == SKIP


# -- 9. voice ---------------------------------------------------------------------------
def test_no_espeak_fails_and_no_voice_is_skipped() -> None:
    check = doctor.check_voice(DisplayConfig(voice="espeak-ng"), which=lambda name: None)
    assert check.status == FAIL and "apt-get install -y espeak-ng" in check.message_en
    assert doctor.check_voice(DisplayConfig(voice="none")).status == SKIP


@pytest.mark.process
def test_espeak_renders_the_test_phrase_and_sox_missing_warns() -> None:
    assert doctor.check_voice(DisplayConfig()).status == OK
    import shutil
    check = doctor.check_voice(DisplayConfig(),
                               which=lambda name: None if name == "sox" else shutil.which(name))
    assert check.status == WARN and "sox" in check.message_en


@pytest.mark.process
def test_the_office_s_own_voice_is_the_one_checked() -> None:
    south = doctor.check_voice(DisplayConfig(region="south"))
    assert south.status == OK and "vi-vn-x-south" in south.message_en
    missing = doctor.check_voice(DisplayConfig(voice_name="vi-vn-x-nowhere"))
    assert missing.status == FAIL and "vi-vn-x-nowhere" in missing.message_en
    assert "vi-vn-x-nowhere" in missing.message_vi  # and in Vietnamese


# -- the checklist ----------------------------------------------------------------------
def test_warnings_exit_0_unless_strict() -> None:
    checks = [Check("a", OK, "", ""), Check("b", WARN, "", ""), Check("c", SKIP, "", "")]
    assert doctor.exit_code(checks) == 0 and doctor.exit_code(checks, strict=True) == 1
    assert doctor.exit_code([*checks, Check("d", FAIL, "", "")]) == 1


def test_the_checklist_shows_both_languages_and_the_detail_of_problems() -> None:
    checks = [Check("broker", FAIL, "Không có", "No broker", "refused"),
              Check("clock", OK, "Khớp", "Agrees", "here and there")]
    text = doctor.render(checks)
    assert "[FAIL] broker Không có" in text and "No broker" in text and "refused" in text
    assert "here and there" not in text  # an ok line's detail only with -v
    assert "1 failed, 0 warnings, 1 ok, 0 skipped" in text


def test_json_and_device_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_office(tmp_path, **{"slot_minutes = 30": "slot_minutes = 1"})
    assert doctor.main(["--config", str(path), "--json", "--device", "kiosk/k1"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["exit"] == 1 and out["checks"][0]["status"] == FAIL
    with pytest.raises(doctor.UsageError):
        doctor.main(["--config", str(path), "--device", "toaster/1"])
