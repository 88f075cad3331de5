"""QR decoders behind one interface: zxing-cpp (the default), pyzbar and OpenCV."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from motcua.errors import MotcuaError

DEFAULT = "zxing"


@dataclass(frozen=True)
class Sighting:
    """A QR code seen in one frame; text None: a code was there but could not be read."""

    text: str | None


class Decoder(Protocol):
    name: str

    def decode(self, gray: np.ndarray) -> list[Sighting]: ...


class DecoderError(MotcuaError):
    """A decoder that cannot run here, said in both languages."""

    exit_code = 2


def _text(raw: bytes | str) -> str:
    # Tokens are ASCII; anything else is shown as what it is, never a crash.
    return raw if isinstance(raw, str) else raw.decode("utf-8", errors="replace")


class ZxingDecoder:
    """zxing-cpp, QR only. It also reports codes it found but could not read."""

    name = "zxing"

    def __init__(self) -> None:
        import cv2
        import zxingcpp

        self._z, self._cv2 = zxingcpp, cv2
        self._formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)

    def _read(self, gray: np.ndarray) -> list:
        # try_rotate is for 1D codes (a QR reads in any orientation anyway); try_invert
        # reads light-on-dark codes of phones in dark mode.
        return self._z.read_barcodes(gray, formats=self._formats, try_rotate=False,
                                     try_downscale=True, try_invert=True,
                                     text_mode=self._z.TextMode.Plain, return_errors=True)

    def decode(self, gray: np.ndarray) -> list[Sighting]:
        found = self._read(gray)
        if found and not any(b.valid for b in found):
            # Sensor noise breaks up modules for the local binariser; a light blur mends
            # it. Only frames with a code in view pay for the second look.
            again = self._read(self._cv2.GaussianBlur(gray, (3, 3), 0))
            if any(b.valid for b in again):
                found = again
        return [Sighting(_text(b.text) if b.valid else None) for b in found]


class PyzbarDecoder:
    """zbar through pyzbar: the decoder the card names, kept as an option and a fallback."""

    name = "pyzbar"

    def __init__(self) -> None:
        try:
            from pyzbar import pyzbar
        except (ImportError, OSError) as exc:  # the Python package, or libzbar0 missing
            raise DecoderError("Thiếu thư viện zbar: apt-get install libzbar0",
                               "The zbar library is missing: apt-get install libzbar0") from exc
        self._decode = pyzbar.decode
        self._symbols = [pyzbar.ZBarSymbol.QRCODE]

    def decode(self, gray: np.ndarray) -> list[Sighting]:
        return [Sighting(_text(s.data)) for s in self._decode(gray, symbols=self._symbols)]


class OpenCVDecoder:
    """OpenCV's QRCodeDetector, or its Aruco-based variant; measured, not recommended."""

    def __init__(self, aruco: bool = False) -> None:
        import cv2

        self.name = "opencv-aruco" if aruco else "opencv"
        self._detector = cv2.QRCodeDetectorAruco() if aruco else cv2.QRCodeDetector()

    def decode(self, gray: np.ndarray) -> list[Sighting]:
        text, points, _ = self._detector.detectAndDecode(gray)
        if text:
            return [Sighting(text)]
        return [Sighting(None)] if points is not None else []


class FallbackDecoder:
    """The first decoder on every frame; the second only where the first saw a code it could
    not read, so frames with no code (most of a kiosk's day) cost the first decoder alone."""

    def __init__(self, first: Decoder, second: Decoder):
        self.first, self.second = first, second
        self.name = f"{first.name}+{second.name}"

    def decode(self, gray: np.ndarray) -> list[Sighting]:
        seen = self.first.decode(gray)
        if seen and all(s.text is None for s in seen):
            return self.second.decode(gray) or seen
        return seen


DECODERS: dict[str, Callable[[], Decoder]] = {
    "zxing": ZxingDecoder,
    "pyzbar": PyzbarDecoder,
    "opencv": OpenCVDecoder,
    "opencv-aruco": lambda: OpenCVDecoder(aruco=True),
    "zxing+pyzbar": lambda: FallbackDecoder(ZxingDecoder(), PyzbarDecoder()),
}


def make_decoder(name: str = DEFAULT) -> Decoder:
    """The decoder called `name`; DecoderError if unknown or its library is missing."""
    factory = DECODERS.get(name)
    if factory is None:
        raise DecoderError(f"Không có bộ giải mã {name!r}; chọn: {', '.join(DECODERS)}",
                           f"No decoder {name!r}; choose one of: {', '.join(DECODERS)}")
    try:
        return factory()
    except ImportError as exc:
        raise DecoderError(f"Không tải được bộ giải mã {name}: {exc}",
                           f"Cannot load the {name} decoder: {exc}") from exc


def to_gray(frame: np.ndarray) -> np.ndarray:
    """A camera frame (BGR, BGRA or already grey) as one contiguous 8-bit channel."""
    if frame.ndim == 2:
        gray = frame
    else:
        import cv2

        code = cv2.COLOR_BGRA2GRAY if frame.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        gray = cv2.cvtColor(frame, code)
    if gray.dtype != np.uint8:
        gray = np.clip(gray, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(gray)
