"""Printing through python-escpos to a loopback network printer, to files, and the faults."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from loopback_printer import decode_raster, refused_address, strip_status_requests
from PIL import Image, ImageChops
from pyzbar import pyzbar

from motcua.config import ConfigError, OfficeConfig, PrinterConfig
from motcua.errors import UsageError
from motcua.protocol import TicketInfo
from printer import testprint
from printer.layout import render_ticket
from printer.output import PrintError, encode_ticket, open_printer

FAST = {"timeout": 2.0, "status_timeout": 0.5}


def network(address: str, width: int = 576, profile: str = "TM-T20II") -> PrinterConfig:
    return PrinterConfig(kind="network", network=address, width_px=width, profile=profile)


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    if a.size != b.size:
        return False
    return ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


@pytest.mark.parametrize("width,profile", [(576, "TM-T20II"), (384, "POS-5890")])
def test_network_printer_receives_the_ticket_pixel_for_pixel(
        width: int, profile: str, loopback: Any, office: OfficeConfig,
        booking: TicketInfo) -> None:
    lp = loopback()
    printer = open_printer(network(lp.address, width, profile), **FAST)
    image = render_ticket(booking, office, printer.width_px)
    printer.print_ticket(image, "2026-11-24_H007")
    assert printer.state == "ok"
    data = lp.received
    assert data.startswith(b"\x10\x04\x01\x10\x04\x04\x1b@"), "status first, then the job"
    printed = decode_raster(data)
    assert same_pixels(printed, image)
    codes = [c.data.decode() for c in pyzbar.decode(printed.convert("L"))]
    assert codes == ["motcua:bd-tdm:2026-11-24:H007"]
    job = strip_status_requests(data)
    assert job == encode_ticket(image, profile), "the network job is the file job"
    if profile == "TM-T20II":
        assert job.endswith(b"\x1bd\x06\x1dV\x00"), "feed past the cutter and cut, last"
    else:  # a 58 mm printer without a cutter: fed past the tear bar
        assert job.endswith(b"\x1bd\x06")


@pytest.mark.parametrize("mode", ["online", "paper_low", "paper_out", "offline", "silent"])
def test_health_reads_dle_eot(mode: str, loopback: Any) -> None:
    lp = loopback(mode)
    printer = open_printer(network(lp.address), **FAST)
    start = time.monotonic()
    health = printer.health()
    assert time.monotonic() - start < 2
    assert health == {"online": "ok", "silent": "offline"}.get(mode, mode)


def test_health_of_a_printer_that_is_not_there() -> None:
    printer = open_printer(network(refused_address()), **FAST)
    assert printer.health() == "offline"


def test_paper_low_still_prints(loopback: Any, office: OfficeConfig,
                                walk_in: TicketInfo) -> None:
    lp = loopback("paper_low")
    printer = open_printer(network(lp.address), **FAST)
    image = render_ticket(walk_in, office, 576)
    printer.print_ticket(image, "t")
    assert same_pixels(decode_raster(lp.received), image)
    assert printer.state == "paper_low"


@pytest.mark.parametrize("fault,code", [
    ("refused", "offline"), ("silent", "no_answer"), ("paper_out", "paper_out"),
    ("offline", "offline"), ("runs_out", "paper_out")])
def test_a_failed_print_raises_quickly_and_clearly(fault: str, code: str, loopback: Any,
                                                   office: OfficeConfig,
                                                   walk_in: TicketInfo) -> None:
    if fault == "refused":
        address, lp = refused_address(), None
    else:
        lp = loopback("online" if fault == "runs_out" else fault,
                      run_out_after_raster=fault == "runs_out")
        address = lp.address
    printer = open_printer(network(address), **FAST)
    image = render_ticket(walk_in, office, 576)
    start = time.monotonic()
    with pytest.raises(PrintError) as caught:
        printer.print_ticket(image, "t")
    assert time.monotonic() - start < 3, "a fault never hangs the kiosk"
    err = caught.value
    assert err.code == code
    assert err.message and err.message_en and err.message != err.message_en
    assert printer.state in ("offline", "paper_out")
    if lp is not None and fault != "runs_out":
        assert b"\x1dv0" not in lp.received, "no ticket sent to a printer that cannot print"


def test_file_printer_writes_png_and_escpos(tmp_path: Path, office: OfficeConfig,
                                            walk_in: TicketInfo) -> None:
    cfg = PrinterConfig(kind="file", file=tmp_path / "tickets", width_px=576, profile="TM-T20II")
    printer = open_printer(cfg)
    assert printer.health() == "ok"
    image = render_ticket(walk_in, office, printer.width_px)
    printer.print_ticket(image, "2026-11-24_A012")
    printer.print_ticket(image, "2026-11-24_A012")  # a reprint keeps the first
    names = sorted(p.name for p in (tmp_path / "tickets").iterdir())
    assert names == ["2026-11-24_A012-2.bin", "2026-11-24_A012-2.png",
                     "2026-11-24_A012.bin", "2026-11-24_A012.png"]
    raw = (tmp_path / "tickets" / "2026-11-24_A012.bin").read_bytes()
    assert raw == encode_ticket(image, "TM-T20II")
    assert same_pixels(decode_raster(raw), image)
    assert same_pixels(Image.open(tmp_path / "tickets" / "2026-11-24_A012.png"), image)


def test_file_printer_in_an_unwritable_place_fails_clearly(tmp_path: Path,
                                                           office: OfficeConfig,
                                                           walk_in: TicketInfo) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    printer = open_printer(PrinterConfig(kind="file", file=blocker / "tickets"))
    assert printer.health() == "offline"
    with pytest.raises(PrintError) as caught:
        printer.print_ticket(render_ticket(walk_in, office, printer.width_px), "t")
    assert caught.value.code == "io"


def test_no_printer_never_claims_a_ticket(office: OfficeConfig,
                                          walk_in: TicketInfo) -> None:
    printer = open_printer(PrinterConfig(kind="none"))
    assert printer.health() == "offline"
    with pytest.raises(PrintError):
        printer.print_ticket(render_ticket(walk_in, office, 576), "t")


def test_profile_narrower_than_the_paper_sets_the_width(loopback: Any) -> None:
    # TM-T88V prints 512 dots: a 576-dot ticket would be refused by escpos.
    printer = open_printer(network(loopback().address, 576, "TM-T88V"), **FAST)
    assert printer.width_px == 512
    with pytest.raises(PrintError) as caught:
        printer.print_ticket(Image.new("1", (576, 10), 1), "t")
    assert caught.value.code == "too_wide"


@pytest.mark.parametrize("cfg", [
    PrinterConfig(kind="network", network="printer:port"),
    PrinterConfig(kind="usb", usb="04b8"),
    PrinterConfig(kind="serial", serial="/dev/ttyUSB0@fast"),
    PrinterConfig(kind="file", profile="no-such-printer"),
])
def test_a_wrong_printer_setting_is_named(cfg: PrinterConfig) -> None:
    with pytest.raises(PrintError) as caught:
        open_printer(cfg)
    assert caught.value.code == "config"


def test_testprint_prints_a_sample_ticket(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    config = tmp_path / "office.toml"
    config.write_text((Path(__file__).parent / "office.toml").read_text(encoding="utf-8"),
                      encoding="utf-8")
    assert testprint.main(str(config), "C") == 0
    out = capsys.readouterr().out
    assert "C001" in out and "ok" in out
    pngs = list((tmp_path / "tickets").glob("*_C001.png"))
    assert len(pngs) == 1
    assert [c.data.decode().split(":")[-1] for c in pyzbar.decode(Image.open(pngs[0]))] == ["C001"]
    with pytest.raises(UsageError) as wrong:
        testprint.main(str(config), "Z")
    assert "Không có dịch vụ 'Z'" in wrong.value.message
    assert "no service 'Z'" in wrong.value.message_en
    with pytest.raises(ConfigError) as missing:
        testprint.main(str(tmp_path / "missing.toml"), "A")
    assert missing.value.exit_code == 2 and "missing.toml:0" in missing.value.message
