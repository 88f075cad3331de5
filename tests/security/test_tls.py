"""TLS with the office's own CA: devices refuse a broker from another CA, and a broker that
requires client certificates refuses ones from another CA or revoked ones."""

from __future__ import annotations

import shutil
import ssl
from pathlib import Path

import pytest

from tests.security.harness import Probe, Secured, make_secured, start_broker


def tls_refused(p: Probe) -> bool:
    """No MQTT session: the handshake failed, or the broker closed before any CONNACK."""
    try:
        code = p.connect(timeout=3)
    except (ssl.SSLError, OSError):
        return True
    finally:
        p.close()
    return code is None


def cert_of(s: Secured, username: str) -> tuple[str, str]:
    b = s.bundle(username)
    return str(b / "client.crt"), str(b / "client.key")


@pytest.mark.mqtt
def test_a_device_refuses_a_broker_with_a_certificate_from_another_ca(tmp_path: Path) -> None:
    ours = make_secured(tmp_path / "ours")
    impostor = make_secured(tmp_path / "impostor")
    broker = start_broker(impostor)
    try:
        # The impostor accepts its own devices...
        own = Probe(impostor.tls_port, "kiosk-k1", impostor.password("kiosk-k1"), impostor.ca)
        assert own.connect() == 0
        own.close()
        # ...but our kiosk, trusting only our CA, never sends it a password.
        p = Probe(impostor.tls_port, "kiosk-k1", ours.password("kiosk-k1"), ours.ca)
        try:
            p.connect()
            raise AssertionError("connected to a broker signed by another CA")
        except ssl.SSLCertVerificationError as exc:
            assert "certificate verify failed" in str(exc)
        finally:
            p.close()
    finally:
        broker.stop()


@pytest.mark.mqtt
def test_client_certificates_from_another_ca_or_revoked_are_refused(tmp_path: Path) -> None:
    s = make_secured(tmp_path / "office", "\n[devices]\nkiosks = [\"k1\", \"k2\"]\n",
                     "--client-certs")
    other = make_secured(tmp_path / "other")
    kept = tmp_path / "k2-cert"
    shutil.copytree(s.bundle("kiosk-k2"), kept)
    broker = start_broker(s)
    try:
        k1 = ("kiosk-k1", s.password("kiosk-k1"))
        ok = Probe(s.tls_port, *k1, s.ca, cert=cert_of(s, "kiosk-k1"))
        assert ok.connect() == 0
        ok.close()
        assert tls_refused(Probe(s.tls_port, *k1, s.ca))  # no certificate
        assert tls_refused(Probe(s.tls_port, *k1, s.ca, cert=cert_of(other, "kiosk-k1")))
        # Browser boards cannot show client certificates: websockets keeps passwords only.
        board = Probe(s.ws_port, "admin-cli", s.password("admin-cli"), s.ca,
                      transport="websockets")
        assert board.connect() == 0
        board.close()

        assert s.rerun("--remove", "kiosk-k2") == 0
        broker.stop()
        broker = start_broker(s)  # the revocation list is read when the listener starts
        # kiosk-k2's certificate is on the list: refused even with a valid password.
        revoked = (str(kept / "client.crt"), str(kept / "client.key"))
        assert tls_refused(Probe(s.tls_port, *k1, s.ca, cert=revoked))
        ok = Probe(s.tls_port, *k1, s.ca, cert=cert_of(s, "kiosk-k1"))
        assert ok.connect() == 0
        ok.close()
    finally:
        broker.stop()
