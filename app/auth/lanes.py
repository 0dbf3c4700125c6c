"""The lanes of the office's diagrams: each names a role officers are members of."""
from __future__ import annotations

LANES: dict[str, dict[str, str]] = {
    "front_office": {"id": "Loket Pelayanan", "en": "Front desk"},
    "verifier": {"id": "Verifikator Berkas", "en": "Document verifier"},
    "technical_team": {"id": "Tim Teknis", "en": "Technical team"},
    "cashier": {"id": "Kasir", "en": "Cashier"},
    "head": {"id": "Kepala Dinas", "en": "Head of office"},
}


def _register_labels() -> None:
    from app.i18n import register

    register({lane["id"]: lane["en"] for lane in LANES.values()})


_register_labels()
