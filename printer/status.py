"""Ask an ESC/POS printer how it is (DLE EOT real-time status), never waiting long."""

from __future__ import annotations

import socket
from typing import Any

from escpos.constants import (
    RT_MASK_LOWPAPER,
    RT_MASK_NOPAPER,
    RT_MASK_ONLINE,
    RT_STATUS_ONLINE,
    RT_STATUS_PAPER,
)
from escpos.escpos import Escpos
from escpos.printer import Serial, Usb

# The printer health a kiosk shows and publishes in its presence (PROTOCOL.md).
OK, PAPER_LOW, PAPER_OUT, OFFLINE = "ok", "paper_low", "paper_out", "offline"

# Every DLE EOT answer has bits 1 and 4 set and bits 0 and 7 clear: anything else is
# not a status byte (noise, or a printer that echoes).
STATUS_FIXED_MASK, STATUS_FIXED_BITS = 0x93, 0x12


def set_timeout(p: Escpos, seconds: float) -> None:
    """Bound every read and write, whatever the transport, so nothing ever hangs."""
    dev: Any = p.device
    if isinstance(dev, socket.socket):
        dev.settimeout(seconds)
    elif isinstance(p, Serial):
        dev.timeout = dev.write_timeout = seconds
    elif isinstance(p, Usb):
        dev.default_timeout = int(seconds * 1000)  # pyusb reads in milliseconds
        p.timeout = int(seconds * 1000)


def _query(p: Escpos, request: bytes) -> int | None:
    try:
        answer = p.query_status(request)
    except TimeoutError:
        return None
    except OSError as exc:
        if "timeout" in type(exc).__name__.lower() or "timed out" in str(exc).lower():
            return None  # pyusb and pyserial name their timeouts their own way
        raise
    if not answer:  # closed by the peer, or a serial read that timed out
        return None
    byte = answer[-1]  # a late answer to an earlier question may come first
    return byte if byte & STATUS_FIXED_MASK == STATUS_FIXED_BITS else None


def read_status(p: Escpos, seconds: float) -> str | None:
    """DLE EOT 1 and 4: ok, paper_low, paper_out or offline; None if it does not answer."""
    set_timeout(p, seconds)
    online = _query(p, RT_STATUS_ONLINE)
    if online is None:
        return None
    paper = _query(p, RT_STATUS_PAPER)
    if paper is None:
        return None
    if paper & RT_MASK_NOPAPER == RT_MASK_NOPAPER:
        return PAPER_OUT
    if online & RT_MASK_ONLINE:
        return OFFLINE
    if paper & RT_MASK_LOWPAPER == RT_MASK_LOWPAPER:
        return PAPER_LOW
    return OK
