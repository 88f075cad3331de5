"""A network thermal printer on 127.0.0.1 for tests: records ESC/POS and answers DLE EOT."""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field

from PIL import Image

DLE, EOT, ESC, GS = 0x10, 0x04, 0x1B, 0x1D

# (DLE EOT 1, DLE EOT 4) answers as an Epson-style printer gives them.
ANSWERS = {
    "online": (0x12, 0x12),
    "paper_low": (0x12, 0x1E),     # near-end sensor: bits 2 and 3
    "paper_out": (0x1A, 0x7E),     # paper end (bits 5, 6) stops the printer: offline too
    "offline": (0x1A, 0x12),       # cover open
}
INVERT = bytes(255 - i for i in range(256))


def command_length(buf: bytes | bytearray, i: int) -> int | None:
    """Length of the command starting at buf[i], or None until all of it has arrived."""
    rest = len(buf) - i
    b = buf[i]
    if b == DLE:
        return 3 if rest >= 3 else None
    if b == ESC:
        if rest < 2:
            return None
        return 2 if buf[i + 1] == ord("@") else (3 if rest >= 3 else None)
    if b == GS:
        if rest < 3:
            return None
        if buf[i + 1] == ord("v") and buf[i + 2] == ord("0"):
            if rest < 8:
                return None
            size = (buf[i + 4] + 256 * buf[i + 5]) * (buf[i + 6] + 256 * buf[i + 7])
            return 8 + size if rest >= 8 + size else None
        if buf[i + 1] == ord("V"):
            if buf[i + 2] in (65, 66):  # cut after feeding n: one more byte
                return 4 if rest >= 4 else None
            return 3
        return 3
    return 1  # text and line feeds


def commands(data: bytes) -> list[bytes]:
    out, i = [], 0
    while i < len(data):
        n = command_length(data, i)
        assert n is not None, f"truncated command at byte {i}"
        out.append(data[i:i + n])
        i += n
    return out


def decode_raster(data: bytes) -> Image.Image:
    """The image the printer would print: every GS v 0 band, stacked, as a 1-bit image."""
    bands = [c for c in commands(data) if c[:3] == b"\x1dv0"]
    assert bands, "no GS v 0 raster in the data"
    width = (bands[0][4] + 256 * bands[0][5]) * 8
    rows = sum(c[6] + 256 * c[7] for c in bands)
    assert all((c[4] + 256 * c[5]) * 8 == width for c in bands)
    # ESC/POS sets a bit for a black dot; Pillow's "1" mode reads a set bit as white.
    raw = b"".join(c[8:] for c in bands).translate(INVERT)
    return Image.frombytes("1", (width, rows), raw)


def strip_status_requests(data: bytes) -> bytes:
    return b"".join(c for c in commands(data) if c[0] != DLE)


@dataclass
class LoopbackPrinter:
    """mode: online, paper_low, paper_out, offline, or silent (accepts, never answers).

    run_out_after_raster: paper runs out while the ticket prints.
    """

    mode: str = "online"
    run_out_after_raster: bool = False
    connections: list[bytearray] = field(default_factory=list)
    _threads: list[threading.Thread] = field(default_factory=list)
    _socks: list[socket.socket] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._closed = threading.Event()
        self._spawn(self._accept)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def received(self) -> bytes:
        return b"".join(bytes(c) for c in self.connections)

    def _spawn(self, target, *args) -> None:  # type: ignore[no-untyped-def]
        t = threading.Thread(target=target, args=args, daemon=True)
        t.start()
        self._threads.append(t)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self._socks.append(conn)
            record = bytearray()
            self.connections.append(record)
            self._spawn(self._serve, conn, record)

    def _serve(self, conn: socket.socket, record: bytearray) -> None:
        pending = bytearray()
        while not self._closed.is_set():
            try:
                chunk = conn.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            record.extend(chunk)
            pending.extend(chunk)
            # Commands are taken in order, as a printer's parser does: a DLE EOT inside
            # the raster data is pixels, not a question.
            i = 0
            while i < len(pending) and (n := command_length(pending, i)) is not None:
                self._execute(conn, bytes(pending[i:i + n]))
                i += n
            del pending[:i]

    def _execute(self, conn: socket.socket, command: bytes) -> None:
        if command[:3] == b"\x1dv0" and self.run_out_after_raster:
            self.mode = "paper_out"
        if command[0] != DLE or command[1] != EOT or self.mode == "silent":
            return
        online, paper = ANSWERS[self.mode]
        answer = {1: online, 4: paper}.get(command[2])
        if answer is not None:
            with contextlib.suppress(OSError):
                conn.sendall(bytes([answer]))

    def close(self) -> None:
        self._closed.set()
        for s in [self.server, *self._socks]:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        for t in self._threads:
            t.join(timeout=2)


def refused_address() -> str:
    """An address where nothing listens: the port was free a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"127.0.0.1:{port}"
