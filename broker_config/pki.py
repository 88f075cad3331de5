"""The office's own certificate authority: a CA, the broker's server certificate, device
certificates and the revocation list, made with the `cryptography` package."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from motcua.errors import MotcuaError

CA_DAYS = 3650
# Long enough that an office is not cut off by a forgotten renewal; setup renews what
# expires within RENEW_DAYS whenever it runs.
LEAF_DAYS = 1825
RENEW_DAYS = 60


class PkiError(MotcuaError):
    """A certificate or key that cannot be read or used."""

    exit_code = 2


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _now() -> datetime:
    return datetime.now(UTC)


def write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write a secret so that it is never readable by others, not even for a moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise PkiError(f"không đọc được chứng chỉ {path}",
                       f"cannot read the certificate {path}", detail=str(exc)) from exc


class Authority:
    """A CA kept as `ca.crt` and `ca.key` in one folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.cert_path = folder / "ca.crt"
        self.key_path = folder / "ca.key"
        self.crl_path = folder / "crl.pem"

    def exists(self) -> bool:
        return self.cert_path.exists()

    def create(self, office_id: str, office_name: str) -> None:
        key = _key()
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, office_name[:64]),
                          x509.NameAttribute(NameOID.COMMON_NAME, f"motcua {office_id} CA")])
        now = _now()
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(minutes=5))
                .not_valid_after(now + timedelta(days=CA_DAYS))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False,
                                             key_agreement=False, key_cert_sign=True,
                                             crl_sign=True, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                               critical=False)
                .sign(key, hashes.SHA256()))
        write_private(self.key_path, _pem_key(key))
        self.cert_path.write_bytes(_pem_cert(cert))

    @property
    def cert(self) -> x509.Certificate:
        return load_cert(self.cert_path)

    def _signing_key(self) -> ec.EllipticCurvePrivateKey:
        try:
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), None)
        except (OSError, ValueError, TypeError) as exc:
            raise PkiError(f"không đọc được khóa CA {self.key_path}",
                           f"cannot read the CA key {self.key_path}", detail=str(exc)) from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise PkiError(f"{self.key_path} không phải khóa EC",
                           f"{self.key_path} is not an EC key")
        return key

    def issue(self, cert_path: Path, key_path: Path, common_name: str, *, server: bool,
              hosts: Iterable[str] = (), key_mode: int = 0o600) -> x509.Certificate:
        """A leaf certificate: for the broker (with its host names) or for one device."""
        key = _key()
        ca_cert, ca_key = self.cert, self._signing_key()
        now = _now()
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                               common_name[:64])]))
                   .issuer_name(ca_cert.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(minutes=5))
                   .not_valid_after(now + timedelta(days=LEAF_DAYS))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                  critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       ca_key.public_key()), critical=False))
        names = [_general_name(h) for h in hosts]
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        write_private(key_path, _pem_key(key), key_mode)
        cert_path.write_bytes(_pem_cert(cert))
        return cert

    def signed(self, cert: x509.Certificate) -> bool:
        try:
            cert.verify_directly_issued_by(self.cert)
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True

    def write_crl(self, revoked_serials: Iterable[int]) -> None:
        """The revocation list the TLS listener checks client certificates against."""
        ca_cert, ca_key = self.cert, self._signing_key()
        now = _now()
        builder = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
                   .last_update(now - timedelta(minutes=5))
                   .next_update(now + timedelta(days=CA_DAYS)))
        for serial in sorted(set(revoked_serials)):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial)
                .revocation_date(now - timedelta(minutes=5)).build())
        crl = builder.sign(ca_key, hashes.SHA256())
        self.crl_path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def needs_renewal(path: Path, authority: Authority, hosts: Iterable[str] = ()) -> bool:
    """Whether a leaf is missing, about to expire, from another CA or lacks a host name."""
    if not path.exists():
        return True
    try:
        cert = load_cert(path)
    except PkiError:
        return True
    if cert.not_valid_after_utc - _now() < timedelta(days=RENEW_DAYS):
        return True
    if not authority.signed(cert):
        return True
    wanted = {str(_general_name(h).value) for h in hosts}
    if wanted:
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return True
        have = {str(n.value) for n in san}
        return not wanted <= have
    return False
