"""With a time-stamping authority configured, permits are signed PAdES B-T: the signature carries
an RFC 3161 timestamp that `ptsp sign-check` reports. The TSA is a local HTTP server answering with
pyHanko's own timestamp responder (no public TSA is reachable here), certified by the office CA."""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask import Flask
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from app.container import Container
from app.evidence.keys import demo_dir, office_identity
from app.evidence.pdfsign import check_pdf
from tests.permits.test_verification import granted_trade_licence
from tests.web import signed_in


def _tsa_stamper(c: Container) -> DummyTimeStamper:
    office_identity(c.settings)  # makes the DEMO CA
    folder = demo_dir(c.settings)
    ca_key = serialization.load_pem_private_key((folder / "ca.key").read_bytes(), None)
    ca = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's responder signs with RSA only
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DEMO test TSA")]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(ca_key, hashes.SHA256()))  # type: ignore[arg-type]
    der = serialization.Encoding.DER
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(der)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(der, serialization.PrivateFormat.PKCS8,
                                                                serialization.NoEncryption())))


@pytest.fixture
def tsa_url(deployed: Container) -> Iterator[str]:
    stamper = _tsa_stamper(deployed)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            reply = asyncio.run(stamper.async_request_tsa_response(request)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def test_a_permit_is_signed_b_t_when_a_tsa_is_configured(web_app: Flask, deployed: Container, tsa_url: str) -> None:
    permit = granted_trade_licence(deployed)
    deployed.settings = replace(deployed.settings, tsa_url=tsa_url)
    body = signed_in(web_app, "loket").get(f"/permits/{permit.id}.pdf").get_data()
    result = check_pdf(body, office_identity(deployed.settings).ca_pem())
    assert result.verdict == "valid", result.summary
    assert "PAdES B-T" in result.summary and ", timestamped " in result.summary
