"""A bundle of three permits (new shop: HO, SIUP, reklame) as one file: one intake, one document
check of the union of the requirements, the permit-specific steps open at once in their lanes, one
payment of the sum, one deadline and promised date, one handover issuing each permit."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from app.container import Container
from app.engine.models import HumanTask
from app.files.services import promised_date, promised_working_days
from app.permits.models import Permit
from tests.catalogue import samples as s
from tests.catalogue.walk import add_officers, file_row
from tests.walking import do, open_new, open_steps, state


@pytest.fixture
def office(deployed: Container) -> Container:
    add_officers(deployed)
    return deployed


def test_new_shop_bundle_end_to_end(office: Container) -> None:
    c = office
    number = open_new(c, "bundle_new_shop")
    assert number.startswith("PAKET-2026-")
    assert open_steps(c, number) == [("register_application", "front_office")]
    do(c, number, "register_application", s.BUNDLE_REGISTRATION)
    # one check of the union of the requirements; an incomplete file goes back once for all three
    do(c, number, "check_documents", s.BUNDLE_CHECK_INCOMPLETE)
    do(c, number, "receive_resubmission", s.RESUBMISSION)
    do(c, number, "check_documents", s.BUNDLE_CHECK)

    # the permit-specific steps run in parallel, each in its lane
    assert open_steps(c, number) == [("survey_advertisement", "technical_team"), ("survey_nuisance", "technical_team"),
                                     ("verify_business", "verifier")]
    file = file_row(c, number)
    assert file.sla_started_at is not None and file.sla_due_at is not None  # one clock for the whole file
    due = file.sla_due_at
    do(c, number, "verify_business", s.SIUP_VERIFICATION)
    do(c, number, "survey_advertisement", s.REKLAME_SURVEY)
    assert open_steps(c, number) == [("draft_advertisement_permit", "verifier"), ("survey_nuisance", "technical_team")]
    do(c, number, "survey_nuisance", s.HO_SURVEY)
    assert open_steps(c, number) == [("draft_advertisement_permit", "verifier"), ("draft_nuisance_permit", "verifier")]
    do(c, number, "draft_nuisance_permit", s.HO_DRAFT)
    assert open_steps(c, number) == [("draft_advertisement_permit", "verifier")]  # waits for every permit
    do(c, number, "draft_advertisement_permit", s.REKLAME_DRAFT)

    # one payment of the sum, each part by its own formula
    assert open_steps(c, number) == [("confirm_payment", "cashier")]
    data = state(c, number).data
    assert (data["nuisance_fee"], data["trade_fee"], data["advertisement_fee"]) == (367_500, 0, 180_000)
    assert data["fee"] == 547_500 and data["skrd_number"] == f"SKRD/{number}"
    do(c, number, "confirm_payment", s.PAYMENT)
    do(c, number, "sign_permit", s.SIGN_APPROVE)
    assert open_steps(c, number) == [("hand_over_permit", "front_office")]
    do(c, number, "hand_over_permit", s.HANDOVER)

    final = state(c, number)
    assert (final.status, final.data["outcome"]) == ("completed", "granted")
    done = Counter(e.task_name for e in final.history if e.kind == "task_completed")
    assert done["register_application"] == 1 and done["confirm_payment"] == 1 and done["hand_over_permit"] == 1
    assert done["sign_permit"] == 1 and done["check_documents"] == 2  # incomplete, then complete

    file = file_row(c, number)
    assert file.sla_limit_days == 10 and file.sla_stopped_at is not None
    assert file.sla_due_at is not None and file.sla_due_at >= due  # moved only by the time it waited on the applicant
    assert promised_working_days("bundle_new_shop", c.settings) == 10
    # 10 working days from Monday 5 January 2026; Friday 16 January (Isra Mi'raj) is a holiday
    assert promised_date(c.calendar, c.settings, "bundle_new_shop", file.created_at).isoformat() == "2026-01-20"

    with c.db.unit_of_work() as session:
        issued = {p.process_id: p.permit_number for p in session.scalars(select(Permit).where(Permit.file_id == file.id))}
        steps = session.scalars(select(HumanTask.task_name).where(HumanTask.instance_id == file.instance_id)).all()
    assert issued == {"nuisance_permit": f"503/HO/{number}", "trade_licence": f"510/SIUP/{number}",
                      "advertisement_permit": f"503/RKL/{number}"}
    assert Counter(steps)["hand_over_permit"] == 1


def test_an_exempt_start_up_bundle_pays_only_for_its_advertisement(office: Container) -> None:
    c = office
    number = open_new(c, "bundle_new_shop", "Sri Wahyuni")
    do(c, number, "register_application", {**s.BUNDLE_REGISTRATION, "business": s.STARTUP_BUSINESS})
    do(c, number, "check_documents", s.BUNDLE_CHECK)
    do(c, number, "survey_nuisance", s.HO_SURVEY)
    do(c, number, "verify_business", s.SIUP_VERIFICATION)
    do(c, number, "survey_advertisement", s.REKLAME_SURVEY)
    do(c, number, "draft_nuisance_permit", s.HO_DRAFT)
    do(c, number, "draft_advertisement_permit", s.REKLAME_DRAFT)
    data = state(c, number).data
    assert (data["nuisance_fee"], data["fee"]) == (0, 180_000)
    assert open_steps(c, number) == [("confirm_payment", "cashier")]
