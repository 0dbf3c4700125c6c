"""Finding files by number, NIK or name, the filtered list of every file, and the manager's
read-only worklist."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.clock import FixedClock
from app.container import Container
from app.engine.models import ProcessInstance
from app.files.models import ApplicationFile, FileSearchTerm
from app.files.search import name_terms
from tests.files.intake_helpers import register, registration
from tests.walking import open_new
from tests.web import signed_in


def listed(page: str) -> list[str]:
    body = page.split('class="striped files-list"', 1)[1] if "files-list" in page else ""
    return re.findall(r'<a href="/files/([A-Z]+-\d{4}-\d{6})">', body)


def test_name_terms_fold_case_accents_and_punctuation() -> None:
    assert name_terms("Siti Rahmawati") == ["siti", "rahmawati"]
    assert name_terms("Ir. H. Désirée  O'Neil, S.T.") == ["ir", "desiree", "neil"]
    assert name_terms("A") == []


def test_a_file_is_found_by_any_words_of_the_applicants_name(web_app: Flask, deployed: Container) -> None:
    siti, joko, siti_am = [open_new(deployed, applicant=name) for name in ["Siti Rahmawati", "Joko Susilo", "Siti Aminah"]]
    client = signed_in(web_app, "verifikator")

    page = client.get("/files?q=siti").get_data(as_text=True)
    assert sorted(listed(page)) == sorted([siti, siti_am])
    assert "Ditemukan menurut nama pemohon." in page
    assert listed(client.get("/files?q=SITI amin").get_data(as_text=True)) == [siti_am]  # prefixes, any case
    assert listed(client.get("/files?q=rahmawati siti").get_data(as_text=True)) == [siti]  # any order
    page = client.get("/files?q=budi").get_data(as_text=True)
    assert listed(page) == [] and "Tidak ada berkas yang cocok." in page
    assert joko not in client.get("/files?q=si").get_data(as_text=True)


def test_a_file_is_found_by_its_number_as_typed(web_app: Flask, deployed: Container) -> None:
    _first, second = [open_new(deployed, applicant=name) for name in ["Siti Rahmawati", "Joko Susilo"]]
    client = signed_in(web_app, "manajer")
    page = client.get(f"/files?q={second.lower()}").get_data(as_text=True)
    assert listed(page) == [second] and "Ditemukan menurut nomor berkas." in page


def test_a_file_is_found_by_nik_and_the_nik_is_shown_masked(web_app: Flask, deployed: Container) -> None:
    nik = "3314014507850002"
    number, _, _ = register(signed_in(web_app, "loket"), data=registration(applicant__nik=nik))
    open_new(deployed, applicant="Joko Susilo")
    page = signed_in(web_app, "admin").get(f"/files?q={nik}").get_data(as_text=True)
    assert listed(page) == [number] and "Ditemukan menurut NIK." in page
    assert nik not in page.replace(f"q={nik}", "").replace(f'value="{nik}"', "")  # only where it was typed
    assert "************0002" in page
    with deployed.db.unit_of_work() as session:  # the search result is in the personal data access log
        from app.privacy.models import PersonalDataAccess

        logged = session.scalars(select(PersonalDataAccess).where(PersonalDataAccess.what == "search")).all()
        assert [(a.actor, a.file_id) for a in logged] == [("admin", session.scalars(
            select(ApplicationFile.id).where(ApplicationFile.file_number == number)).one())]


def test_a_query_that_cannot_match_is_explained_beside_the_search_box(web_app: Flask, deployed: Container) -> None:
    client = signed_in(web_app, "verifikator")
    response = client.get("/files?q=a")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'aria-invalid="true"' in page and "paling sedikit 2 huruf" in page
    response = client.get("/files?q=a&lang=en")
    assert "at least 2 letters" in response.get_data(as_text=True)
    for bad in ("state=flying", "sla_state=late", "from=31-12-2026", "from=2026-02-01&to=2026-01-01", "page=x"):
        assert client.get(f"/files?{bad}").status_code == 400, bad


def test_the_list_filters_by_permit_type_state_deadline_and_dates(web_app: Flask, deployed: Container,
                                                                  clock: FixedClock) -> None:
    pbg_old = open_new(deployed, applicant="Siti Rahmawati")
    clock.advance(days=10)
    pbg_new = open_new(deployed, applicant="Joko Susilo")
    ho = open_new(deployed, "nuisance_permit", "Ani Wijaya")
    with deployed.db.unit_of_work() as session:
        late = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == pbg_old)).one()
        late.sla_state, late.sla_due_at = "breached", clock.now() - timedelta(days=1)
        done = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == ho)).one()
        session.execute(update(ProcessInstance).where(ProcessInstance.id == done.instance_id)
                        .values(status="completed"))
    client = signed_in(web_app, "manajer")

    assert listed(client.get("/files").get_data(as_text=True)) == [ho, pbg_new, pbg_old]  # newest first
    assert listed(client.get("/files?permit_type=building_permit").get_data(as_text=True)) == [pbg_new, pbg_old]
    assert listed(client.get("/files?state=completed").get_data(as_text=True)) == [ho]
    assert listed(client.get("/files?sla_state=breached").get_data(as_text=True)) == [pbg_old]
    assert listed(client.get("/files?overdue=1").get_data(as_text=True)) == [pbg_old]
    assert listed(client.get("/files?from=2026-01-10").get_data(as_text=True)) == [ho, pbg_new]
    assert listed(client.get("/files?to=2026-01-05").get_data(as_text=True)) == [pbg_old]
    assert listed(client.get("/files?q=joko&permit_type=nuisance_permit").get_data(as_text=True)) == []


def test_the_list_pages_newest_first(web_app: Flask, deployed: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.files.search.PAGE_SIZE", 2)
    numbers = [open_new(deployed, applicant=name) for name in ["Siti A", "Siti B", "Siti C"]]
    with deployed.db.unit_of_work() as session:
        assert session.scalar(select(FileSearchTerm.term).where(FileSearchTerm.term == "siti").limit(1)) == "siti"
    client = signed_in(web_app, "verifikator")
    first = client.get("/files?q=siti").get_data(as_text=True)
    assert listed(first) == numbers[::-1][:2] and 'rel="next"' in first
    second = client.get("/files?q=siti&page=2").get_data(as_text=True)
    assert listed(second) == [numbers[0]] and 'rel="prev"' in second and 'rel="next"' not in second


def test_a_manager_reads_every_lanes_worklist_without_working_it(web_app: Flask, deployed: Container) -> None:
    number, _, _ = register(signed_in(web_app, "loket"))
    response = signed_in(web_app, "manajer").get("/worklist")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="worklist-read-only"' in page and number in page
    assert f'href="/files/{number}"' in page  # to the file page, not the task form
    assert "/claim" not in page and "/release" not in page
    officer = signed_in(web_app, "teknis").get("/worklist").get_data(as_text=True)
    assert 'id="worklist-read-only"' not in officer
    assert signed_in(web_app, "perancang").get("/worklist").status_code == 403
