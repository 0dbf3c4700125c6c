"""Realistic form payloads for the building permit (PBG), shared by tests and benchmarks."""
from __future__ import annotations

import hashlib


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def attachment(document_type: str, name: str) -> dict:
    return {"document_type": document_type, "reference": f"upl-2026-01-{name}", "sha256": sha(name)}


REGISTRATION = {
    "applicant": {
        "nik": "3314014507850002",
        "full_name": "Siti Rahmawati",
        "sex": "P",
        "birthplace": "Sragen",
        "birth_date": "1985-07-05",
        "occupation": "Wiraswasta",
    },
    "applicant_address": {
        "street": "Jl. Raya Sukowati No. 12",
        "rt": "002",
        "rw": "005",
        "desa_kelurahan": "Sragen Kulon",
        "kecamatan": "Sragen",
        "kabupaten_kota": "Kabupaten Sragen",
        "provinsi": "Jawa Tengah",
        "postcode": "57212",
    },
    "applicant_phone": "081234567890",
    "applicant_email": "siti.rahmawati@example.id",
    "applicant_npwp": "093451234526000",
    "building_location": {
        "address": "Jl. Ahmad Yani Gg. Melati, RT 003/RW 007, Kelurahan Sine, Kecamatan Sragen",
        "land_certificate_number": "SHM No. 1234/Sine",
        "land_area_m2": 200,
    },
    "declared_building_function": "hunian",
    "declared_floors": 1,
    "declared_floor_area_m2": 120,
    "attachments": [
        attachment("ktp", "ktp-siti.pdf"),
        attachment("sertifikat_tanah", "shm-1234.pdf"),
        attachment("gambar_teknis", "gambar-rumah.pdf"),
        attachment("site_plan", "site-plan.pdf"),
        attachment("persetujuan_tetangga", "persetujuan-tetangga.pdf"),
    ],
}

CHECK_COMPLETE = {
    "doc_ktp": True,
    "doc_land_certificate": True,
    "doc_technical_drawings": True,
    "doc_site_plan": True,
    "doc_neighbour_consent": True,
    "documents_complete": True,
    "missing_documents": [],
    "check_notes": "Berkas lengkap dan benar.",
}

CHECK_INCOMPLETE = {
    "doc_ktp": True,
    "doc_land_certificate": True,
    "doc_technical_drawings": False,
    "doc_site_plan": True,
    "doc_neighbour_consent": False,
    "documents_complete": False,
    "missing_documents": ["gambar_teknis", "persetujuan_tetangga"],
    "check_notes": "Gambar struktur belum ada; persetujuan tetangga sisi timur belum ditandatangani.",
}

RESUBMISSION = {
    "resubmitted_documents": [
        attachment("gambar_teknis", "gambar-struktur-rev1.pdf"),
        attachment("persetujuan_tetangga", "persetujuan-tetangga-timur.pdf"),
    ],
    "resubmitted_on": "2026-01-12",
    "resubmission_notes": "Diserahkan langsung oleh pemohon di loket.",
}

SURVEY = {
    "survey_date": "2026-01-14",
    "survey_team": ["Ir. Bambang Sutrisno", "Dewi Lestari, S.T."],
    "bap_number": "BAP/PBG/045/I/2026",
    "measured_floor_area_m2": 120,
    "measured_floors": 1,
    "building_function": "hunian",
    "building_class": "sederhana",
    "location_zone": "pinggiran_kota",
    "findings": "Bangunan sesuai gambar teknis; garis sempadan bangunan 4 m terpenuhi.",
    "survey_photos": [
        {"reference": "upl-2026-01-foto-depan.jpg", "sha256": sha("foto-depan"), "caption": "Tampak depan"},
    ],
    "recommendation": "layak",
}

PAYMENT = {
    "payment_received": True,
    "payment_reference": "KWT/KASIR/2026/00187",
    "payment_date": "2026-01-15",
    "payment_method": "qris",
}

DRAFT = {
    "permit_conditions": [
        "Garis sempadan bangunan minimal 4 meter dari as jalan",
        "Wajib membuat sumur resapan air hujan",
    ],
    "permitted_function": "hunian",
    "permitted_floor_area_m2": 120,
    "validity": "selama_bangunan_berdiri",
    "draft_notes": "Sesuai BAP/PBG/045/I/2026.",
}

SIGN_APPROVE = {"decision": "setuju", "signed_on": "2026-01-16"}
SIGN_REFUSE = {
    "decision": "tolak",
    "refusal_reason": "Lokasi berada di sempadan sungai menurut RDTR; tidak dapat diberikan PBG.",
    "signed_on": "2026-01-16",
}

HANDOVER = {
    "received_by_name": "Agus Prasetyo",
    "received_by_nik": "3314010203800001",
    "received_on": "2026-01-19",
    "relation": "kuasa",
    "power_of_attorney_reference": "upl-2026-01-surat-kuasa.pdf",
}

REFUSAL_HANDOVER = {
    "received_by_name": "Siti Rahmawati",
    "received_on": "2026-01-19",
    "handover_notes": "Pemohon dijelaskan hak untuk mengajukan permohonan baru atau pengaduan.",
}

SAMPLES = {
    "pbg_registration.json": REGISTRATION,
    "pbg_document_check.json": CHECK_INCOMPLETE,
    "pbg_resubmission.json": RESUBMISSION,
    "pbg_field_survey.json": SURVEY,
    "pbg_payment.json": PAYMENT,
    "pbg_permit_draft.json": DRAFT,
    "pbg_signature.json": SIGN_REFUSE,
    "pbg_handover.json": HANDOVER,
    "pbg_refusal_handover.json": REFUSAL_HANDOVER,
}

# The building permit's happy path with one resubmission: (lane, payload) per user task, in order.
BUILDING_PERMIT_WALK: list[tuple[str, dict]] = [
    ("front_office", REGISTRATION),
    ("verifier", CHECK_INCOMPLETE),
    ("front_office", RESUBMISSION),
    ("verifier", CHECK_COMPLETE),
    ("technical_team", SURVEY),
    ("cashier", PAYMENT),
    ("verifier", DRAFT),
    ("head", SIGN_APPROVE),
    ("front_office", HANDOVER),
]
