"""Camera frames for the kiosk tests: a QR code held up in a 1280x720 grey view."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import segno


def qr_frame(text: str, size: int = 360, angle: float = 6.0, damaged: bool = False,
             seed: int = 0) -> np.ndarray:
    """A grey 1280x720 frame with the code near the middle, slightly turned.

    damaged: a smear across the middle of the code, so that it is seen but cannot be read.
    """
    rng = np.random.default_rng(seed)
    modules = np.array([[0 if m else 255 for m in row]
                        for row in segno.make(text, error="m", micro=False,
                                              boost_error=False).matrix_iter(border=4)],
                       dtype=np.uint8)
    code = cv2.resize(modules, (size, size), interpolation=cv2.INTER_NEAREST)
    if damaged:
        n = modules.shape[0]
        cell = size / n
        a, b = int(10 * cell), int(size - 10 * cell)
        code[a:b, a:b] = rng.integers(0, 2, (b - a, b - a)).astype(np.uint8) * 255
    frame: np.ndarray = np.full((720, 1280), 120, np.uint8)
    frame[:, :400] = 90
    x, y = (1280 - size) // 2, (720 - size) // 2
    frame[y:y + size, x:x + size] = code
    m = cv2.getRotationMatrix2D((640, 360), angle, 1.0)
    frame = cv2.warpAffine(frame, m, (1280, 720), flags=cv2.INTER_LINEAR, borderValue=120)
    frame = cv2.GaussianBlur(frame, (0, 0), 0.7)
    noise = rng.normal(0, 3, frame.shape)
    return np.clip(frame + noise, 0, 255).astype(np.uint8)


def save(frame: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), frame)
    return path
