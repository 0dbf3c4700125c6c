"""The permit PDF's QR code (ReportLab's QR widget) scans to the permit's verification address:
the page is rendered (pypdfium2) and the code read back by a decoder (zxing-cpp), as a phone would."""
from __future__ import annotations

import pypdfium2
import pytest
import zxingcpp

from app.permits.services import PrintedPermit, permit_pdf


def scanned(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=3).to_pil()
    finally:
        document.close()
    return [code.text for code in zxingcpp.read_barcodes(image) if code.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize("url", [
    "https://ptsp.example.go.id/verify/0123456789abcdef01234567.AbCdEfGhIjKlMnOpQrStUvWx",
    "http://127.0.0.1:5000/verify/" + "x" * 120,  # a long address: a larger QR version, same printed size
])
def test_the_pdf_qr_code_scans_to_the_verification_address(url: str) -> None:
    printed = PrintedPermit("Dinas PMPTSP", "Surat Izin Usaha Perdagangan", "510/SIUP/000001",
                            [("Pemegang izin", "Siti Rahmawati")], "Ketentuan", ["Berlaku lima tahun."],
                            "Pindai untuk memeriksa keaslian izin ini.", url, "Diterbitkan 5 Januari 2026")
    assert scanned(permit_pdf(printed)) == [url]
