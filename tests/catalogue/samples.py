"""Realistic form payloads of the catalogue's procedures (HO, SIUP, reklame, road use and the new-shop bundle)."""
from __future__ import annotations

import copy
from typing import Any

from tests.samples import REGISTRATION, attachment

APPLICANT = {k: copy.deepcopy(REGISTRATION[k]) for k in ("applicant", "applicant_address", "applicant_phone",
                                                          "applicant_email", "applicant_npwp")}

BUSINESS = {
    "name": "Toko Bangunan Sumber Rejeki",
    "legal_form": "ud",
    "nib": "9120304150001",
    "nib_issued_on": "2019-04-12",
    "scale": "menengah",
    "npwp": "093451234526000",
    "address": "Jl. Raya Sukowati No. 88, Kelurahan Sragen Wetan, Kecamatan Sragen",
}
STARTUP_BUSINESS = {**BUSINESS, "name": "Warung Bu Sri", "legal_form": "perorangan", "scale": "mikro",
                    "nib_issued_on": "2025-06-02", "address": "Dusun Ngrampal RT 01/RW 03, Desa Kedungupit, Kecamatan Sragen"}

NUISANCE_APPLICATION = {"business_activity": "Toko bahan bangunan dan gudang semen", "declared_floor_area_m2": 90,
                        "employees": 4, "machinery": "Tidak ada mesin; bongkar muat truk siang hari."}
TRADE_APPLICATION = {"kbli_codes": ["46632", "47521"], "trade_goods": "Semen, besi beton, cat dan alat bangunan",
                     "declared_net_assets": 300000000}
ADVERTISEMENT_APPLICATION = {"location_address": "Jl. Raya Sukowati No. 88, Sragen Wetan",
                             "planned_items": "Satu papan nama 1,5 x 1 m di depan toko selama 1 tahun.",
                             "display_start": "2026-01-20"}
ROAD_USE_APPLICATION = {"purpose": "hajatan", "purpose_detail": "Resepsi pernikahan putri pemohon",
                        "road_name": "Jl. Melati", "location_address": "Kelurahan Sine, Kecamatan Sragen",
                        "start_date": "2026-01-24", "end_date": "2026-01-25", "closure": "sebagian"}


def docs(*kinds: str) -> list[dict[str, Any]]:
    return [attachment(k, f"{k}.pdf") for k in kinds]


HO_REGISTRATION = {**APPLICANT, "business": BUSINESS, "nuisance_application": NUISANCE_APPLICATION,
                   "attachments": docs("ktp", "nib", "bukti_hak_tempat_usaha", "pbg_imb", "persetujuan_tetangga", "denah_lokasi")}
SIUP_REGISTRATION = {**APPLICANT, "business": BUSINESS, "trade_application": TRADE_APPLICATION,
                     "attachments": docs("ktp", "nib", "npwp", "bukti_hak_tempat_usaha", "neraca_perusahaan", "pas_foto")}
REKLAME_REGISTRATION = {**APPLICANT, "business": BUSINESS, "advertisement_application": ADVERTISEMENT_APPLICATION,
                        "attachments": docs("ktp", "npwp", "desain_reklame", "foto_lokasi", "persetujuan_pemilik_lokasi")}
ROAD_USE_REGISTRATION = {**APPLICANT, "road_use_application": ROAD_USE_APPLICATION,
                         "attachments": docs("ktp", "denah_ruas_jalan", "rekomendasi_desa", "rekomendasi_kepolisian")}
BUNDLE_REGISTRATION = {**APPLICANT, "business": BUSINESS, "nuisance_application": NUISANCE_APPLICATION,
                       "trade_application": TRADE_APPLICATION, "advertisement_application": ADVERTISEMENT_APPLICATION,
                       "attachments": docs("ktp", "nib", "npwp", "bukti_hak_tempat_usaha", "pbg_imb", "persetujuan_tetangga",
                                           "denah_lokasi", "neraca_perusahaan", "pas_foto", "desain_reklame", "foto_lokasi",
                                           "persetujuan_pemilik_lokasi")}


def check_complete(*keys: str) -> dict[str, Any]:
    return {**{f"doc_{k}": True for k in keys}, "documents_complete": True, "missing_documents": [],
            "check_notes": "Berkas lengkap dan benar."}


HO_CHECK = check_complete("ktp", "nib", "bukti_hak_tempat_usaha", "pbg_imb", "persetujuan_tetangga", "denah_lokasi")
SIUP_CHECK = check_complete("ktp", "nib", "npwp", "bukti_hak_tempat_usaha", "neraca_perusahaan", "pas_foto")
REKLAME_CHECK = check_complete("ktp", "npwp", "desain_reklame", "foto_lokasi", "persetujuan_pemilik_lokasi")
ROAD_USE_CHECK = check_complete("ktp", "denah_ruas_jalan", "rekomendasi_desa", "rekomendasi_kepolisian")
BUNDLE_CHECK = check_complete("ktp", "nib", "npwp", "bukti_hak_tempat_usaha", "pbg_imb", "persetujuan_tetangga", "denah_lokasi",
                              "neraca_perusahaan", "pas_foto", "desain_reklame", "foto_lokasi", "persetujuan_pemilik_lokasi")
BUNDLE_CHECK_INCOMPLETE = {**BUNDLE_CHECK, "doc_neraca_perusahaan": False, "documents_complete": False,
                           "missing_documents": ["neraca_perusahaan"], "check_notes": "Neraca belum ditandatangani."}
RESUBMISSION = {"resubmitted_documents": [attachment("neraca_perusahaan", "neraca-ttd.pdf")], "resubmitted_on": "2026-01-07"}

HO_SURVEY = {"nuisance_survey": {
    "survey_date": "2026-01-07", "survey_team": ["Agus Prasetyo, S.T.", "Dewi Lestari"], "bap_number": "BAP/HO/012/I/2026",
    "business_floor_area_m2": 87.5, "environment_score": 3, "location_score": 2, "disturbance_score": 3,
    "findings": "Gudang semen tertutup; bongkar muat hanya siang hari.", "recommendation": "layak"}}
SIUP_VERIFICATION = {"trade_verification": {
    "verified_on": "2026-01-07", "kbli_codes": ["46632", "47521"], "trade_goods": "Semen, besi beton, cat dan alat bangunan",
    "trade_institution": "pengecer", "net_assets": 300000000, "premises_verified": True, "recommendation": "layak",
    "conditions": ["Wajib melaporkan perubahan data perusahaan", "Wajib memasang papan nama perusahaan"]}}
REKLAME_SURVEY = {"advertisement_survey": {
    "survey_date": "2026-01-07", "survey_team": ["Agus Prasetyo, S.T."], "bap_number": "BAP/RKL/004/I/2026",
    "location_address": "Jl. Raya Sukowati No. 88, Sragen Wetan",
    "items": [{"kind": "papan_nama", "text": "Toko Sumber Rejeki", "width_m": 1.5, "height_m": 1, "quantity": 1,
               "duration": "1_tahun"}],
    "recommendation": "layak"}}
ROAD_USE_SURVEY = {"road_use_survey": {
    "survey_date": "2026-01-07", "survey_team": ["Agus Prasetyo, S.T."], "bap_number": "BAP/IPJ/021/I/2026",
    "road_status": "jalan_lingkungan", "length_m": 12.5, "width_m": 3.75,
    "traffic_arrangement": "Rambu pengalihan arus di kedua ujung jalan; dijaga linmas.", "recommendation": "layak"}}

HO_DRAFT = {"nuisance_draft": {"conditions": ["Bongkar muat hanya pukul 08.00-17.00", "Wajib menyediakan APAR"],
                               "valid_until": "2031-01-09"}}
REKLAME_DRAFT = {"advertisement_draft": {"conditions": ["Reklame tidak boleh menutup rambu lalu lintas"],
                                         "valid_from": "2026-01-20", "valid_until": "2027-01-19"}}
ROAD_USE_DRAFT = {"road_use_draft": {"conditions": ["Jalan dibuka kembali paling lambat pukul 22.00"],
                                     "valid_from": "2026-01-24", "valid_until": "2026-01-25"}}
PAYMENT = {"payment_received": True, "payment_reference": "KWT/KASIR/2026/00211", "payment_date": "2026-01-08",
           "payment_method": "tunai"}
SIGN_APPROVE = {"decision": "setuju", "signed_on": "2026-01-09"}
HANDOVER = {"received_by_name": "Siti Rahmawati", "received_by_nik": "3314014507850002", "received_on": "2026-01-12",
            "relation": "pemohon"}

# form name -> a payload it accepts
SAMPLES = {
    "ho_registration.json": HO_REGISTRATION, "siup_registration.json": SIUP_REGISTRATION,
    "reklame_registration.json": REKLAME_REGISTRATION, "road_use_registration.json": ROAD_USE_REGISTRATION,
    "bundle_new_shop_registration.json": BUNDLE_REGISTRATION,
    "ho_document_check.json": HO_CHECK, "siup_document_check.json": SIUP_CHECK, "reklame_document_check.json": REKLAME_CHECK,
    "road_use_document_check.json": ROAD_USE_CHECK, "bundle_new_shop_document_check.json": BUNDLE_CHECK,
    "permit_resubmission.json": RESUBMISSION, "ho_field_survey.json": HO_SURVEY,
    "siup_business_verification.json": SIUP_VERIFICATION, "reklame_field_survey.json": REKLAME_SURVEY,
    "road_use_field_survey.json": ROAD_USE_SURVEY, "ho_permit_draft.json": HO_DRAFT,
    "reklame_permit_draft.json": REKLAME_DRAFT, "road_use_permit_draft.json": ROAD_USE_DRAFT,
    "permit_payment.json": PAYMENT, "permit_signature.json": SIGN_APPROVE, "permit_handover.json": HANDOVER,
    "permit_refusal_handover.json": {"received_by_name": "Siti Rahmawati", "received_on": "2026-01-12"},
}
