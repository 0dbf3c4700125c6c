"""Paperwork as an office prints it (issue 9 §7): permit numbers say their prefix once, file
numbers count per permit type and year, and a permit cannot be drafted to expire before it starts."""
from __future__ import annotations

import pytest

from app.clock import FixedClock
from app.container import Container
from app.worklist.completion import FormInvalid
from tests.catalogue import samples as s
from tests.catalogue.test_procedures import finish, permits
from tests.catalogue.walk import add_officers
from tests.walking import do, open_new


@pytest.fixture
def office(deployed: Container) -> Container:
    add_officers(deployed)
    return deployed


def test_file_numbers_count_per_permit_type_and_year(office: Container, clock: FixedClock) -> None:
    assert [open_new(office, "road_use_permit", "A"), open_new(office, "building_permit", "B"),
            open_new(office, "road_use_permit", "C")] == ["IPJ-2026-000001", "PBG-2026-000001", "IPJ-2026-000002"]
    clock.advance(days=365)
    assert open_new(office, "road_use_permit", "D") == "IPJ-2027-000001"


def test_permit_number_says_its_prefix_once_and_validity_before_start_is_refused(office: Container) -> None:
    open_new(office, "road_use_permit", "Someone else")  # numbers are per type: this file is the second
    number = open_new(office, "road_use_permit", "Bambang Sutrisno")
    do(office, number, "register_application", s.ROAD_USE_REGISTRATION)
    do(office, number, "check_documents", s.ROAD_USE_CHECK)
    do(office, number, "survey_road_use", s.ROAD_USE_SURVEY)
    do(office, number, "confirm_payment", s.PAYMENT)
    backwards = {"road_use_draft": {**s.ROAD_USE_DRAFT["road_use_draft"], "valid_until": "2026-01-23"}}
    with pytest.raises(FormInvalid) as refused:
        do(office, number, "draft_road_use_permit", backwards)
    [error] = refused.value.errors
    assert error.field == "road_use_draft/valid_until" and "sebelum tanggal berlaku mulai" in error.message
    do(office, number, "draft_road_use_permit", s.ROAD_USE_DRAFT)
    finish(office, number)
    [permit] = permits(office, number)
    assert number == "IPJ-2026-000002" and permit.permit_number == "551/IPJ/2026/000002"
