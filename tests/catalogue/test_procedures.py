"""Each new procedure walked from registration to handover through the services, on SQLite and
PostgreSQL: the fee comes only from the published formula and what officers recorded, exempt and
free files skip the cashier, and a granted file issues its permit."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.container import Container
from app.files.services import promised_working_days
from app.permits.models import Permit
from tests.catalogue import samples as s
from tests.catalogue.walk import add_officers
from tests.walking import do, open_new, open_steps, serial, state


@pytest.fixture
def office(deployed: Container) -> Container:
    add_officers(deployed)
    return deployed


def permits(c: Container, number: str) -> list[Permit]:
    with c.db.unit_of_work() as session:
        file_id = state(c, number).file.id
        rows = list(session.scalars(select(Permit).where(Permit.file_id == file_id).order_by(Permit.id)))
        for row in rows:
            session.expunge(row)
        return rows


def finish(c: Container, number: str) -> None:
    do(c, number, "sign_permit", s.SIGN_APPROVE)
    assert open_steps(c, number) == [("hand_over_permit", "front_office")]
    do(c, number, "hand_over_permit", s.HANDOVER)
    final = state(c, number)
    assert (final.status, final.data["outcome"], final.open_tasks) == ("completed", "granted", [])


def test_nuisance_permit_is_charged_by_the_weighted_formula_and_issued(office: Container) -> None:
    number = open_new(office, "nuisance_permit")
    assert number.startswith("HO-2026-")
    do(office, number, "register_application", s.HO_REGISTRATION)
    assert state(office, number).data["registered_on"] == "2026-01-05"
    do(office, number, "check_documents", s.HO_CHECK)
    assert open_steps(office, number) == [("survey_nuisance", "technical_team")]
    do(office, number, "survey_nuisance", s.HO_SURVEY)
    data = state(office, number).data
    assert (data["nuisance_fee"], data["fee"], data["skrd_number"]) == (367_500, 367_500, f"SKRD/{number}")
    assert data["nuisance_fee_breakdown"]["index_percent"] == 280 and data["nuisance_fee_breakdown"]["exemption"] is None
    assert open_steps(office, number) == [("confirm_payment", "cashier")]
    do(office, number, "confirm_payment", s.PAYMENT)
    do(office, number, "draft_nuisance_permit", s.HO_DRAFT)
    finish(office, number)
    [permit] = permits(office, number)
    assert (permit.process_id, permit.permit_number) == ("nuisance_permit", f"503/HO/{serial(number)}")
    assert permit.business_name == "Toko Bangunan Sumber Rejeki" and permit.holder_name == "Siti Rahmawati"
    assert permit.conditions == s.HO_DRAFT["nuisance_draft"]["conditions"]
    assert permit.valid_until is not None and permit.valid_until.isoformat() == "2031-01-09"


def test_a_micro_start_up_pays_nothing_and_skips_the_cashier(office: Container) -> None:
    number = open_new(office, "nuisance_permit", "Sri Wahyuni")
    do(office, number, "register_application", {**s.HO_REGISTRATION, "business": s.STARTUP_BUSINESS})
    do(office, number, "check_documents", s.HO_CHECK)
    do(office, number, "survey_nuisance", s.HO_SURVEY)
    data = state(office, number).data
    assert data["nuisance_fee"] == 0 and data["nuisance_fee_breakdown"]["exemption"] == "usaha_pemula"
    assert data["skrd_number"] is None
    assert open_steps(office, number) == [("draft_nuisance_permit", "verifier")]


def test_trade_licence_is_free_takes_three_working_days_and_has_no_payment(office: Container) -> None:
    assert promised_working_days("trade_licence", office.settings) == 3
    number = open_new(office, "trade_licence")
    assert number.startswith("SIUP-2026-")
    do(office, number, "register_application", s.SIUP_REGISTRATION)
    do(office, number, "check_documents", s.SIUP_CHECK)
    assert open_steps(office, number) == [("verify_business", "verifier")]
    do(office, number, "verify_business", s.SIUP_VERIFICATION)
    data = state(office, number).data
    assert (data["trade_fee"], data["fee"], data["siup_class"]) == (0, 0, "kecil")
    assert open_steps(office, number) == [("sign_permit", "head")]
    finish(office, number)
    [permit] = permits(office, number)
    assert permit.permit_number == f"510/SIUP/{serial(number)}" and permit.valid_until is None
    assert permit.conditions == s.SIUP_VERIFICATION["trade_verification"]["conditions"]


def test_advertisement_permit_sums_its_itemised_tariffs(office: Container) -> None:
    number = open_new(office, "advertisement_permit")
    assert number.startswith("RKL-2026-")
    do(office, number, "register_application", s.REKLAME_REGISTRATION)
    do(office, number, "check_documents", s.REKLAME_CHECK)
    two_items = {"advertisement_survey": {**s.REKLAME_SURVEY["advertisement_survey"], "items": [
        *s.REKLAME_SURVEY["advertisement_survey"]["items"],
        {"kind": "spanduk", "text": "Pembukaan toko", "width_m": 5, "height_m": 1, "quantity": 3, "duration": "1_bulan"}]}}
    do(office, number, "survey_advertisement", two_items)
    data = state(office, number).data
    assert [(line["size_class"], line["amount"]) for line in data["advertisement_fee_breakdown"]["lines"]] == [
        ("kecil", 180_000), ("sedang", 225_000)]
    assert data["fee"] == 405_000
    do(office, number, "confirm_payment", s.PAYMENT)
    do(office, number, "draft_advertisement_permit", s.REKLAME_DRAFT)
    finish(office, number)
    [permit] = permits(office, number)
    assert permit.permit_number == f"503/RKL/{serial(number)}"
    assert (permit.valid_from.isoformat(), permit.valid_until and permit.valid_until.isoformat()) == ("2026-01-20", "2027-01-19")


def test_road_use_permit_is_length_times_width_times_500(office: Container) -> None:
    number = open_new(office, "road_use_permit", "Bambang Sutrisno")
    assert number.startswith("IPJ-2026-")
    do(office, number, "register_application", s.ROAD_USE_REGISTRATION)
    do(office, number, "check_documents", s.ROAD_USE_CHECK)
    do(office, number, "survey_road_use", s.ROAD_USE_SURVEY)
    data = state(office, number).data
    assert data["road_use_fee"] == 23_437  # 12.5 m x 3.75 m x Rp500 = 23,437.5, rounded down
    do(office, number, "confirm_payment", s.PAYMENT)
    do(office, number, "draft_road_use_permit", s.ROAD_USE_DRAFT)
    finish(office, number)
    [permit] = permits(office, number)
    assert permit.permit_number == f"551/IPJ/{serial(number)}" and permit.location == "Kelurahan Sine, Kecamatan Sragen"


def test_a_refused_file_issues_no_permit(office: Container) -> None:
    number = open_new(office, "trade_licence")
    do(office, number, "register_application", s.SIUP_REGISTRATION)
    do(office, number, "check_documents", s.SIUP_CHECK)
    do(office, number, "verify_business", s.SIUP_VERIFICATION)
    do(office, number, "sign_permit", {"decision": "tolak", "signed_on": "2026-01-09",
                                       "refusal_reason": "Tempat usaha berada di jalur hijau menurut RDTR."})
    do(office, number, "hand_over_refusal", s.SAMPLES["permit_refusal_handover.json"])
    assert state(office, number).data["outcome"] == "refused"
    assert permits(office, number) == []
