"""Send ticket images to an ESC/POS thermal printer (or to files) and read its health."""

from __future__ import annotations

import logging
import os
import socket
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from escpos.capabilities import get_profile
from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy, Network, Serial, Usb
from PIL import Image

from motcua.config import PrinterConfig
from motcua.errors import MotcuaError
from printer.status import OFFLINE, OK, PAPER_OUT, read_status, set_timeout

log = logging.getLogger(__name__)

# Bands of at most this many rows: cheap printers with small receive buffers garble one
# tall GS v 0 image, and the few extra header bytes cost nothing.
FRAGMENT_ROWS = 256


class PrintError(MotcuaError):
    """A ticket that did not print, with what to tell the citizen or staff in both languages.

    code: offline, no_answer, paper_out, io, too_wide, config or no_printer. The messages
    are for people at the kiosk; detail (the underlying error) is for the log.
    """

    def __init__(self, code: str, message: str, message_en: str, detail: str = ""):
        super().__init__(message, message_en, detail=detail)
        self.code = code
        self.exit_code = 2 if code == "config" else 1  # a mistake in [printer], or a failure


class TicketPrinter(ABC):
    """Where tickets go: print_ticket either puts the whole ticket out or raises PrintError."""

    kind: str = ""
    width_px: int = 576  # render tickets this wide: the paper and the print head allow it
    state: str = OFFLINE  # the last health seen, without asking the printer again

    @abstractmethod
    def print_ticket(self, image: Image.Image, name: str) -> None: ...

    @abstractmethod
    def health(self) -> str: ...

    def close(self) -> None:  # noqa: B027 - most printers hold nothing open between tickets
        pass


def write_job(p: Escpos, image: Image.Image) -> None:
    """The ticket as ESC/POS: reset, the image as raster bands (GS v 0), feed and cut."""
    p.hw("INIT")
    # Cut into bands here: escpos would convert the whole image once more before it cuts.
    for top in range(0, image.height, FRAGMENT_ROWS):
        band = image.crop((0, top, image.width, min(top + FRAGMENT_ROWS, image.height)))
        p.image(band, impl="bitImageRaster", fragment_height=FRAGMENT_ROWS)
    p.cut()


def _profile(name: str, width_px: int) -> Any:
    try:
        profile = get_profile(name or "default")
    except KeyError:
        raise PrintError("config", f"Không biết loại máy in {name!r} (printer.profile)",
                         f"Unknown printer profile {name!r} (printer.profile)") from None
    width = profile.profile_data["media"]["width"].get("pixels")
    if not isinstance(width, int):
        # A profile of unknown width would make escpos print a warning on every ticket:
        # give this instance its own copy that knows the configured paper.
        data = dict(profile.profile_data)
        data["media"] = {**data["media"], "width": {**data["media"]["width"],
                                                    "pixels": width_px}}
        profile.profile_data = data
    return profile


def _with_profile(cls: Callable[..., Escpos], profile: Any, *args: Any, **kw: Any) -> Escpos:
    p = cls(*args, **kw)
    p.profile = profile  # escpos takes profiles by name only; ours may know the paper width
    return p


def _printable_width(profile: Any, width_px: int) -> int:
    head = profile.profile_data["media"]["width"]["pixels"]
    if head < width_px:
        log.warning("printer profile %s prints %d dots, less than width_px = %d: tickets "
                    "are drawn %d wide", profile.profile_data.get("name"), head, width_px, head)
        return head
    return width_px


def encode_ticket(image: Image.Image, profile: str = "default") -> bytes:
    """The ESC/POS bytes a printer receives for this ticket image."""
    dummy = _with_profile(Dummy, _profile(profile, image.width))
    write_job(dummy, image)
    return dummy.output


class FilePrinter(TicketPrinter):
    """Writes each ticket as PNG and as its raw ESC/POS bytes: the demo and tests' printer."""

    kind = "file"

    def __init__(self, directory: Path, width_px: int, profile: str):
        self.directory = Path(directory)
        self.profile = _profile(profile, width_px)
        self.width_px = _printable_width(self.profile, width_px)
        self.last_files: tuple[Path, Path] | None = None
        self.state = OK

    def print_ticket(self, image: Image.Image, name: str) -> None:
        _check_width(image, self.width_px)
        dummy = _with_profile(Dummy, self.profile)
        write_job(dummy, image)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            stem, n = name, 1
            while (self.directory / f"{stem}.bin").exists():  # a reprint keeps the first
                n += 1
                stem = f"{name}-{n}"
            png, raw = self.directory / f"{stem}.png", self.directory / f"{stem}.bin"
            _write_atomic(raw, dummy.output)
            tmp = png.with_suffix(".png.tmp")
            image.save(tmp, format="PNG")
            os.replace(tmp, png)
        except OSError as exc:
            self.state = OFFLINE
            raise PrintError("io", f"Không ghi được vé vào {self.directory}",
                             f"Cannot write the ticket to {self.directory}", str(exc)) from exc
        self.last_files = (png, raw)
        self.state = OK

    def health(self) -> str:
        d = self.directory
        while not d.exists() and d != d.parent:  # it will be created: ask its parent
            d = d.parent
        self.state = OK if d.is_dir() and os.access(d, os.W_OK) else OFFLINE
        return self.state


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class NoPrinter(TicketPrinter):
    """kind = "none": the kiosk shows the number on screen; nothing claims it was printed."""

    kind = "none"

    def __init__(self, width_px: int):
        self.width_px = width_px

    def print_ticket(self, image: Image.Image, name: str) -> None:
        raise PrintError("no_printer", "Quầy này không có máy in vé",
                         "This kiosk has no ticket printer")

    def health(self) -> str:
        return OFFLINE


def _check_width(image: Image.Image, width_px: int) -> None:
    if image.width > width_px:
        raise PrintError("too_wide", f"Vé rộng {image.width} điểm, máy in chỉ in {width_px}",
                         f"The ticket is {image.width} dots wide, the printer prints {width_px}")


class EscposPrinter(TicketPrinter):
    """A real printer over USB, TCP or a serial line; one connection per ticket or check.

    A fresh connection each time survives printers that are switched off and on, cables
    pulled and re-plugged, and network printers that accept one client at a time.
    """

    def __init__(self, kind: str, where: str, connect: Callable[[], Escpos], width_px: int,
                 profile: Any, timeout: float, status_timeout: float):
        self.kind, self.where, self._connect = kind, where, connect
        self.profile = profile
        self.width_px = _printable_width(profile, width_px)
        self.timeout, self.status_timeout = timeout, status_timeout
        self._lock = threading.Lock()  # the kiosk checks health while it may be printing

    def health(self) -> str:
        with self._lock:
            try:
                p = self._open()
            except PrintError:
                self.state = OFFLINE
                return self.state
            try:
                self.state = read_status(p, self.status_timeout) or OFFLINE
            except (OSError, EscposError):
                self.state = OFFLINE
            finally:
                p.close()
            return self.state

    def print_ticket(self, image: Image.Image, name: str) -> None:
        _check_width(image, self.width_px)
        with self._lock:
            try:
                p = self._open()
            except PrintError:
                self.state = OFFLINE
                raise
            try:
                self._print(p, image)
            except PrintError as exc:
                self.state = PAPER_OUT if exc.code == PAPER_OUT else OFFLINE
                raise
            except (OSError, EscposError) as exc:
                self.state = OFFLINE
                raise PrintError("io", f"Lỗi khi gửi vé tới máy in {self.where}",
                                 f"Sending the ticket to the printer {self.where} failed",
                                 " ".join(str(exc).split())) from exc
            finally:
                p.close()

    def _print(self, p: Escpos, image: Image.Image) -> None:
        before = read_status(p, self.status_timeout)
        _refuse_on(before, self.where, after=False)
        wire = self.timeout
        if isinstance(p, Serial):
            # A serial line is slower than the paper: a 67 KB ticket takes 6 s at 115200
            # baud, 70 s at 9600. Allow for it rather than fail a ticket that is printing.
            wire += (image.width + 7) // 8 * image.height / (p.baudrate / 10)
        set_timeout(p, wire)
        write_job(p, image)
        # Asked after the job, the printer answers only once it has taken the whole job in
        # (or, on printers that answer at once, still tells of paper run out mid-ticket).
        after = read_status(p, self.timeout)
        _refuse_on(after, self.where, after=True)
        self.state = after or OK

    def _open(self) -> Escpos:
        try:
            p = self._connect()
            p.open()
            sock = getattr(p, "device", None)
            if isinstance(sock, socket.socket):
                # Nagle holds the last raster band ~40 ms waiting for an ACK: a ticket
                # reaches a network printer in 10-17 ms instead of ~50 ms.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return p
        except (OSError, EscposError) as exc:
            raise PrintError("offline", f"Không kết nối được máy in {self.where}",
                             f"Cannot reach the printer {self.where}",
                             " ".join(str(exc).split())) from exc


def _refuse_on(state: str | None, where: str, after: bool) -> None:
    if state is None:
        raise PrintError("no_answer",
                         f"Máy in {where} không trả lời"
                         + (": vé có thể chưa được in" if after else ""),
                         f"The printer {where} does not answer"
                         + (": the ticket may not have printed" if after else ""))
    if state == PAPER_OUT:
        raise PrintError(PAPER_OUT, "Máy in hết giấy" + (": vé có thể bị thiếu" if after else ""),
                         "The printer is out of paper"
                         + (": the ticket may be incomplete" if after else ""))
    if state == OFFLINE:
        raise PrintError("offline", "Máy in đang dừng (nắp mở hoặc lỗi)",
                         "The printer is offline (cover open or an error)")


def _usb_ids(text: str) -> tuple[int, int]:
    try:
        vendor, product = (int(part, 16) for part in text.split(":"))
        return vendor, product
    except ValueError:
        raise PrintError("config", f"printer.usb phải có dạng 0x04b8:0x0e15, không phải {text!r}",
                         f"printer.usb must look like 0x04b8:0x0e15, not {text!r}") from None


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host:
        host, port = text, "9100"  # the raw-printing port every network printer listens on
    if not host or not port.isdigit():
        raise PrintError("config", f"printer.network phải có dạng host:9100, không phải {text!r}",
                         f"printer.network must look like host:9100, not {text!r}")
    return host.strip("[]"), int(port)


def _serial_args(text: str) -> tuple[str, int]:
    device, _, baud = text.partition("@")  # "/dev/ttyUSB0@115200"; 9600 is the usual default
    if not device or (baud and not baud.isdigit()):
        raise PrintError("config", f"printer.serial phải có dạng /dev/ttyUSB0[@115200]: {text!r}",
                         f"printer.serial must look like /dev/ttyUSB0[@115200]: {text!r}")
    return device, int(baud or 9600)


class _AutoUsb(Usb):
    """escpos Usb that finds the printer's bulk endpoints instead of assuming 0x82/0x01."""

    def open(self, raise_not_found: bool = True) -> None:
        try:
            import usb.core
            import usb.util
        except ImportError as exc:
            raise PrintError("config", "Thiếu gói pyusb để in qua USB",
                             "pyusb is missing for USB printing: pip install pyusb",
                             str(exc)) from exc
        try:
            super().open(raise_not_found)
        except usb.core.NoBackendError as exc:
            raise PrintError("config", "Thiếu thư viện libusb để in qua USB",
                             "libusb is missing for USB printing: "
                             "apt-get install libusb-1.0-0", str(exc)) from exc
        try:
            interface = self.device.get_active_configuration()[(0, 0)]  # type: ignore[union-attr]
            for ep in interface:
                if usb.util.endpoint_type(ep.bmAttributes) != usb.util.ENDPOINT_TYPE_BULK:
                    continue
                if usb.util.endpoint_direction(ep.bEndpointAddress) == usb.util.ENDPOINT_IN:
                    self.in_ep = ep.bEndpointAddress
                else:
                    self.out_ep = ep.bEndpointAddress
        except Exception as exc:  # keep the defaults: they fit most printers
            log.debug("USB endpoints not detected: %s", exc)


def open_printer(cfg: PrinterConfig, timeout: float = 5.0,
                 status_timeout: float = 1.0) -> TicketPrinter:
    """The printer [printer].kind names. Raises PrintError for a wrong address or profile.

    timeout bounds connecting and sending one ticket (plus the wire time of a serial line);
    status_timeout bounds one DLE EOT answer.
    """
    if cfg.kind == "file":
        return FilePrinter(cfg.file, cfg.width_px, cfg.profile)
    if cfg.kind == "none":
        return NoPrinter(cfg.width_px)
    profile = _profile(cfg.profile, cfg.width_px)
    connect: Callable[[], Escpos]
    if cfg.kind == "network":
        host, port = _host_port(cfg.network)
        where = f"{host}:{port}"
        connect = partial(_with_profile, Network, profile, host, port, timeout=timeout)
    elif cfg.kind == "serial":
        device, baud = _serial_args(cfg.serial)
        where = cfg.serial
        connect = partial(_with_profile, Serial, profile, device, baudrate=baud, timeout=timeout)
    elif cfg.kind == "usb":
        vendor, product = _usb_ids(cfg.usb)
        where = f"USB {vendor:04x}:{product:04x}"
        connect = partial(_with_profile, _AutoUsb, profile, vendor, product,
                          timeout=int(timeout * 1000))
    else:
        raise PrintError("config", f"Không biết loại máy in {cfg.kind!r}",
                         f"Unknown printer kind {cfg.kind!r}")
    return EscposPrinter(cfg.kind, where, connect, cfg.width_px, profile, timeout,
                         status_timeout)
