"""What the doctor tests make: certificates of a chosen expiry, a camera that is a video
file, an office file pointing at them, a loopback printer."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from tests.conftest import ROOT, write_office

sys.path.insert(0, str(ROOT / "tests" / "printer"))
from loopback_printer import LoopbackPrinter  # noqa: E402

__all__ = ["LoopbackPrinter", "certificate", "video_camera", "office_for"]

PLENTY = (500 << 30, 100 << 30, 400 << 30)  # total, used, free: a disk with room


def certificate(days_left: float, name: str = "motcua test CA") -> x509.Certificate:
    """A self-signed certificate that expires `days_left` days from now (< 0: expired)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    end = now + timedelta(days=days_left)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(min(now, end) - timedelta(days=365)).not_valid_after(end)
            .sign(key, hashes.SHA256()))


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def video_camera(folder: Path) -> Path:
    """A few frames in a video file: a camera source OpenCV opens like a device."""
    path = folder / "camera.avi"
    fourcc = cv2.VideoWriter_fourcc(*"MJPG")  # type: ignore[attr-defined]  # not in the stubs
    out = cv2.VideoWriter(str(path), fourcc, 10, (64, 48))
    for i in range(5):
        out.write(np.full((48, 64, 3), i * 40, np.uint8))
    out.release()
    return path


def office_for(folder: Path, printer: str | None = None, camera: Path | None = None,
               **replace: str) -> Path:
    """The test office with a network printer at `printer` and the camera `camera`."""
    if printer:
        replace |= {'kind = "file"': 'kind = "network"',
                    'network = "192.168.1.50:9100"': f'network = "{printer}"'}
    if camera:
        replace |= {'languages = ["vi", "en"]': f'languages = ["vi", "en"]\ncamera = "{camera}"'}
    # A healthy office trusts its own portal key, not the published demo one.
    public = folder / "portal.pub.pem"
    public.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    replace |= {f'"{ROOT}/examples/keys/demo-portal.pub.pem"': f'"{public}"'}
    return write_office(folder, **replace)
