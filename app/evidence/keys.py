"""The office's signing identity: a PKCS#12 file in production, a DEMO CA made under var/ otherwise.

The same key signs the permit PDFs (PAdES) and the daily anchors of the hash chains.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.config import Settings

DEMO_DIR = "signing"


class SigningNotConfigured(RuntimeError):
    """The configured PKCS#12 file cannot be read (missing, or a wrong password)."""


@dataclass(frozen=True)
class OfficeIdentity:
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    certificate: x509.Certificate
    ca_certificates: tuple[x509.Certificate, ...]
    demo: bool

    def sign(self, data: bytes) -> bytes:
        """A detached signature (DER) of ``data`` with SHA-256, checkable with ``openssl dgst -verify``."""
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))

    def verify(self, data: bytes, signature: bytes) -> bool:
        public = self.certificate.public_key()
        try:
            if isinstance(public, rsa.RSAPublicKey):
                public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            elif isinstance(public, ec.EllipticCurvePublicKey):
                public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
            else:
                return False
        except Exception:  # InvalidSignature, or a signature that is not even DER
            return False
        return True

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def ca_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.ca_certificates)


def office_identity(settings: Settings) -> OfficeIdentity:
    """The configured PKCS#12 identity, or the DEMO one under var/signing/ (made on first use)."""
    if settings.signing_pkcs12:
        try:
            data = Path(settings.signing_pkcs12).read_bytes()
            key, cert, extra = pkcs12.load_key_and_certificates(
                data, settings.signing_pkcs12_password.encode("utf-8") or None)
        except (OSError, ValueError) as exc:
            raise SigningNotConfigured(f"cannot read the signing PKCS#12 file {settings.signing_pkcs12}: {exc}") from exc
        if cert is None or not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
            raise SigningNotConfigured(f"{settings.signing_pkcs12} holds no usable key and certificate")
        return OfficeIdentity(key, cert, tuple(extra or ()), demo=False)
    folder = demo_dir(settings)
    if not (folder / "signer.pem").exists():
        _make_demo(folder, settings.office_name)
    key = serialization.load_pem_private_key((folder / "signer.key").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return OfficeIdentity(key, x509.load_pem_x509_certificate((folder / "signer.pem").read_bytes()),
                          (x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes()),), demo=True)


def demo_dir(settings: Settings) -> Path:
    return settings.var_dir / DEMO_DIR


def _key_usage(*allowed: str) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
             "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{name: name in allowed for name in names})


def _demo_name(common_name: str, office_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"DEMO {office_name}"[:64])])


def _make_demo(folder: Path, office_name: str) -> None:
    """A self-signed DEMO office CA and a signing certificate it issued, written atomically
    (two processes starting at once end up with one pair)."""
    now = datetime.now(UTC)

    def issue(subject: x509.Name, issuer: x509.Name, public: ec.EllipticCurvePublicKey,
              signing: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public)
                .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                .not_valid_after(now + timedelta(days=3650)))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _demo_name("DEMO PTSP Office CA - not for legal use", office_name)
    ca = (issue(ca_name, ca_name, ca_key.public_key(), ca_key)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(_key_usage("key_cert_sign", "crl_sign"), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _demo_name("DEMO PTSP permit signing - not for legal use", office_name)
    cert = (issue(subject, ca_name, key.public_key(), ca_key)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage("digital_signature", "content_commitment"), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    private = serialization.PrivateFormat.PKCS8
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".signing-"))
    (staging / "ca.pem").write_bytes(ca.public_bytes(pem))
    (staging / "signer.pem").write_bytes(cert.public_bytes(pem))
    for name, private_key in (("ca.key", ca_key), ("signer.key", key)):
        path = staging / name
        path.write_bytes(private_key.private_bytes(pem, private, serialization.NoEncryption()))
        os.chmod(path, 0o600)
    try:
        staging.rename(folder)
    except OSError:  # another process made it first: keep theirs
        shutil.rmtree(staging, ignore_errors=True)
