"""Registering a building permit through the front desk's browser form."""
from __future__ import annotations

import copy
import io
import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests import samples
from tests.web import post_form

PDF = b"%PDF-1.7\n" + b"dokumen persyaratan " * 50
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
DOCUMENTS = [
    ("ktp", "ktp-siti.png", PNG),
    ("sertifikat_tanah", "shm-1234.pdf", PDF + b"shm"),
    ("gambar_teknis", "gambar-rumah.pdf", PDF + b"gambar"),
]
_PIN = re.compile(r'data-testid="pin">(\d{6})<')
_FILE_NUMBER = re.compile(r'data-testid="file-number">([A-Z]+-\d{4}-\d{6})<')


def registration(**changes: Any) -> dict[str, Any]:
    """The sample registration without its attachments; ``applicant__nik="..."`` changes a nested value
    and ``None`` leaves it out."""
    data = copy.deepcopy(samples.REGISTRATION)
    data.pop("attachments")
    for key, value in changes.items():
        *parents, last = key.split("__")
        node = data
        for parent in parents:
            node = node[parent]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return data


def browser_form(data: dict[str, Any], documents: list[tuple[str, str, bytes]] | None = None) -> dict[str, Any]:
    """What the intake page posts: one input per field, one file input per document."""
    form: dict[str, Any] = {"permit_type": "building_permit"}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}/{key}" if prefix else key, inner)
        else:
            form[prefix] = str(value)

    walk("", data)
    for index, (document_type, name, content) in enumerate(DOCUMENTS if documents is None else documents):
        form[f"attachments/{index}/document_type"] = document_type
        form[f"attachments/{index}"] = (io.BytesIO(content), name)
    return form


def submit(client: FlaskClient, data: dict[str, Any] | None = None,
           documents: list[tuple[str, str, bytes]] | None = None) -> TestResponse:
    return post_form(client, "/intake", browser_form(data or registration(), documents),
                     content_type="multipart/form-data")


def register(client: FlaskClient, **kwargs: Any) -> tuple[str, str, str]:
    """Register through the browser; (file number, PIN, receipt page)."""
    response = submit(client, **kwargs)
    assert response.status_code == 302, response.get_data(as_text=True)
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    number, pin = _FILE_NUMBER.search(receipt), _PIN.search(receipt)
    assert number and pin, receipt
    return number.group(1), pin.group(1), receipt
