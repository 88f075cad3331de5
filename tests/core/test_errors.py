"""One way to fail for a person: every user-facing error is a MotcuaError in Vietnamese and
English, every room loads the office file the one way, and `motcua` prints it the one way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import COMMANDS
from cli.main import main as motcua
from motcua.errors import MotcuaError, UsageError, run_main
from tests.conftest import ROOT

BAD_OFFICE = '[office]\nid = "Bad Id"\nname = "x"\n'


def both_texts(exc: BaseException) -> bool:
    return (isinstance(exc, MotcuaError) and bool(exc.message) and bool(exc.message_en)
            and exc.message != exc.message_en)


# -- each converted class, raised where the code raises it -------------------------------

def test_tool_error(tmp_path: Path) -> None:
    from cli.booking import ToolError, read_rows

    with pytest.raises(ToolError) as err:
        read_rows(tmp_path / "none.csv")
    assert both_texts(err.value) and err.value.exit_code == 1


def test_simulation_error(tmp_path: Path) -> None:
    from simulate.profiles import SimulationError, load_profile

    with pytest.raises(SimulationError) as err:
        load_profile(str(tmp_path / "none.toml"))
    assert both_texts(err.value) and err.value.exit_code == 2


def test_report_error(tmp_path: Path) -> None:
    from reports.report import ReportError, open_readonly

    with pytest.raises(ReportError) as err:
        open_readonly(tmp_path / "none.sqlite3")
    assert both_texts(err.value) and err.value.exit_code == 2


def test_voice_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from display import voice

    monkeypatch.setattr(voice.shutil, "which", lambda name: None)
    with pytest.raises(voice.VoiceError) as err:
        voice.make_chime(tmp_path / "chime.wav")
    assert both_texts(err.value) and "sox" in err.value.message_en


def test_camera_error(tmp_path: Path) -> None:
    from kiosk.camera import CameraError, read_image

    with pytest.raises(CameraError) as err:
        read_image(tmp_path / "none.png")
    assert both_texts(err.value) and err.value.exit_code == 2


def test_decoder_error() -> None:
    from kiosk.qr import DecoderError, make_decoder

    with pytest.raises(DecoderError) as err:
        make_decoder("quagga")
    assert both_texts(err.value) and err.value.exit_code == 2


def test_print_error() -> None:
    from motcua.config import PrinterConfig
    from printer.output import PrintError, open_printer

    with pytest.raises(PrintError) as err:
        open_printer(PrinterConfig(kind="bogus"))
    assert both_texts(err.value) and err.value.code == "config" and err.value.exit_code == 2
    failed = PrintError("paper_out", "Máy in hết giấy", "The printer is out of paper", "x")
    assert both_texts(failed) and failed.exit_code == 1 and failed.detail == "x"


def test_broker_setup_error(tmp_path: Path) -> None:
    from broker_config.accounts import SetupError, office_devices

    with pytest.raises(SetupError) as err:
        office_devices(tmp_path / "none.toml", [])
    assert both_texts(err.value) and err.value.exit_code == 2


def test_pki_error(tmp_path: Path) -> None:
    from broker_config.pki import PkiError, load_cert

    with pytest.raises(PkiError) as err:
        load_cert(tmp_path / "none.crt")
    assert both_texts(err.value) and err.value.exit_code == 2


def test_broker_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from broker_config import dev

    monkeypatch.setattr(dev.shutil, "which", lambda name: None)
    monkeypatch.setattr(dev, "MOSQUITTO_PATHS", ())
    with pytest.raises(dev.BrokerError) as err:
        dev.mosquitto_binary()
    assert both_texts(err.value) and "chưa cài mosquitto" in err.value.message


def test_store_errors(tmp_path: Path) -> None:
    from dispatcher.run import DatabaseBehind
    from dispatcher.store import AlreadyRunning, StorageUnavailable, Store, StoreError

    (tmp_path / "a-folder.sqlite3").mkdir()
    with pytest.raises(StoreError) as cannot:
        Store(tmp_path / "a-folder.sqlite3")
    assert both_texts(cannot.value) and cannot.value.exit_code == 1
    store = Store(tmp_path / "office.sqlite3")
    try:
        with pytest.raises(AlreadyRunning) as running:
            Store(tmp_path / "office.sqlite3")
        assert both_texts(running.value)
        (tmp_path / "office.sqlite3").unlink()
        with pytest.raises(StorageUnavailable) as gone:
            store.check_file()
        assert both_texts(gone.value) and "is gone" in gone.value.message_en
    finally:
        store.close()
    assert both_texts(DatabaseBehind("cơ sở dữ liệu cũ", "the database is behind"))


def test_run_main_prints_one_way(capsys: pytest.CaptureFixture[str]) -> None:
    def room(argv: list[str] | None) -> int:
        raise UsageError("--x sai", "--x is wrong", detail="for the log")

    assert run_main(room, "motcua room") == 2
    assert capsys.readouterr().err == ("motcua room: --x sai\nmotcua room: --x is wrong\n"
                                       "  (for the log)\n")


# -- one office-file loader, one place that prints it ----------------------------------

@pytest.mark.parametrize("command", [
    ["dispatcher"], ["report", "--date", "2026-11-25"], ["simulate"], ["kiosk", "--kiosk", "k1"],
    ["counter", "--counter", "1"], ["display"], ["scan", "image.png"], ["ticket", "--service", "A"],
    ["broker", "setup", "--out", "{tmp}/broker"], ["booking", "cancel", "--id", "BK-1"],
    ["booking", "import", "rows.csv"],
])
def test_a_bad_office_file_is_said_the_same_way_everywhere(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    bad = tmp_path / "office.toml"
    bad.write_text(BAD_OFFICE, encoding="utf-8")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in command] + ["--config", str(bad)]
    assert motcua(argv) == 2
    err = capsys.readouterr().err
    prog = "motcua " + " ".join(command[:2] if command[0] == "broker" else command[:1])
    assert err == (f"{prog}: tệp cấu hình có lỗi:\n"
                   f"{bad}:2: office.id: 'Bad Id' must match [a-z0-9-]{{1,32}}\n"
                   f"{bad}:1: [[services]]: at least one service is required\n"
                   f"{bad}:1: counters: at least two counters must take bookings "
                   f"(bookings = true), found 0\n"
                   f"{prog}: the office file has mistakes (listed above).\n")


@pytest.mark.process
def test_a_room_run_as_a_module_says_it_the_same_way(tmp_path: Path) -> None:
    bad = tmp_path / "office.toml"
    bad.write_text(BAD_OFFICE, encoding="utf-8")
    for args in (["simulate"], ["reports.report", "--date", "2026-11-25"]):
        run = subprocess.run([sys.executable, "-m", *args, "--config", str(bad)], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 2, run.stderr
        assert f"{bad}:2: office.id" in run.stderr and "tệp cấu hình có lỗi" in run.stderr
        assert "the office file has mistakes" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.process
def test_the_dispatcher_process_says_it_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "office.toml"
    bad.write_text(BAD_OFFICE, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "cli.main", "-v", "dispatcher", "--config",
                          str(bad)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"{bad}:2: office.id" in run.stderr and "the office file has mistakes" in run.stderr


# -- one command-line path ---------------------------------------------------------------

@pytest.mark.process
def test_global_options_come_first_for_a_room(office_file: Path, tmp_path: Path) -> None:
    from dispatcher.store import Store
    from motcua import config

    Store(config.load(office_file).storage).close()  # an empty day's database
    run = subprocess.run([sys.executable, "-m", "cli.main", "-v", "report", "--config",
                          str(office_file), "--date", "2026-11-25"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "Số phiếu / tickets: 0" in run.stdout


def test_verbose_is_honoured_for_every_subcommand(monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    levels: list[int] = []
    monkeypatch.setattr(logging, "basicConfig", lambda **kw: levels.append(kw["level"]))
    from kiosk import scan

    monkeypatch.setattr(scan, "main", lambda argv: 0)
    assert motcua(["-v", "scan", "x.png"]) == 0 and levels == [logging.DEBUG]
    assert motcua(["scan", "x.png"]) == 0 and levels == [logging.DEBUG]  # the room's own


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        motcua(["--help"])
    assert done.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for name, cmd in COMMANDS.items():
        assert f"{name} {' '.join(cmd.help.split()[:3])}" in out, name
    with pytest.raises(SystemExit):
        motcua(["broker", "--help"])
    out = capsys.readouterr().out
    assert "setup" in out and "bridge" in out


@pytest.mark.parametrize("room, own", [("report", "--saved-minutes"), ("simulate", "--plan"),
                                       ("scan", "--all-decoders"), ("counter", "--geometry"),
                                       ("broker setup", "--remove")])
def test_a_room_shows_its_own_help(capsys: pytest.CaptureFixture[str], room: str,
                                   own: str) -> None:
    with pytest.raises(SystemExit) as done:
        motcua([*room.split(), "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: motcua {room}" in out and own in out


def test_a_built_in_subcommand_refuses_unknown_options(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        motcua(["close-day", "--config", "x.toml", "--bogus"])
    assert done.value.code == 2 and "unrecognized arguments: --bogus" in capsys.readouterr().err
