"""The public catalogue pages (no sign-in, Indonesian and English, printable, diagram read-only)
and the officers' fee notice (SKRD) with its breakdown."""
from __future__ import annotations

import re

from flask import Flask

from app.container import Container
from tests.catalogue import samples as s
from tests.walking import do, open_new
from tests.web import signed_in

SIX = ["1. Persyaratan", "2. Prosedur", "3. Jangka waktu penyelesaian", "4. Biaya / tarif", "5. Produk layanan",
       "6. Penanganan pengaduan"]
SIX_EN = ["1. Requirements", "2. Procedure", "3. Time to complete", "4. Fee / tariff", "5. Product", "6. Complaint handling"]


def no_inline_scripts(html: str) -> bool:
    return all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))


def test_the_catalogue_is_public_and_in_the_navigation(web_app: Flask) -> None:
    client = web_app.test_client()
    page = client.get("/catalogue")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'href="/catalogue"' in html and "Katalog layanan" in html
    for name in ["Persetujuan Bangunan Gedung (PBG)", "Izin Gangguan (HO)", "Surat Izin Usaha Perdagangan (SIUP)",
                 "Izin Penyelenggaraan Reklame", "Izin Penggunaan Jalan", "Paket Izin Usaha Baru: HO, SIUP dan Reklame"]:
        assert name in html
    assert "10 hari kerja" in html and "3 hari kerja" in html
    english = client.get("/catalogue?lang=en").get_data(as_text=True)
    assert "Permit service catalogue" in english and "Nuisance permit (HO)" in english and "3 working days" in english


def test_a_permit_page_shows_the_six_published_components(web_app: Flask) -> None:
    client = web_app.test_client()
    page = client.get("/catalogue/nuisance_permit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for heading in SIX:
        assert heading in html
    assert 'data-requirement="persetujuan_tetangga"' in html
    assert "Rp367.500" in html and "Rp0" in html  # worked examples, computed by the diagram's script
    assert 'data-exemption="usaha_pemula"' in html
    assert 'data-xml-url="/catalogue/nuisance_permit/diagram.xml"' in html
    assert "/vendor/js/bpmn-viewer.js" in html and "/static/catalogue/catalogue.js" in html and no_inline_scripts(html)
    with client.get("/static/catalogue/catalogue.css") as css:
        assert "@media print" in css.get_data(as_text=True)
    english = client.get("/catalogue/nuisance_permit?lang=en").get_data(as_text=True)
    for heading in SIX_EN:
        assert heading in english
    assert "Micro or small business start-ups" in english and "Nuisance index" in english


def test_the_bundle_page_lists_its_permits_and_the_union_of_requirements(web_app: Flask) -> None:
    html = web_app.test_client().get("/catalogue/bundle_new_shop").get_data(as_text=True)
    assert "Paket ini terdiri atas" in html and 'href="/catalogue/trade_licence"' in html
    for key in ["nib", "pbg_imb", "neraca_perusahaan", "desain_reklame"]:
        assert f'data-requirement="{key}"' in html
    assert "Rp547.500" in html


def test_the_diagram_is_the_latest_deployed_version(web_app: Flask, deployed: Container) -> None:
    client = web_app.test_client()
    xml = client.get("/catalogue/road_use_permit/diagram.xml")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert '<bpmn:process id="road_use_permit"' in xml.get_data(as_text=True)
    assert client.get("/catalogue/no_such_permit").status_code == 404
    assert client.get("/catalogue/no_such_permit/diagram.xml").status_code == 404
    with client.get("/vendor/js/bpmn-viewer.js") as viewer:
        assert viewer.status_code == 200


def test_the_fee_notice_shows_the_breakdown_to_officers_only(web_app: Flask, deployed: Container) -> None:
    number = open_new(deployed, "nuisance_permit")
    anonymous = web_app.test_client()
    assert anonymous.get(f"/files/{number}/skrd").status_code == 302
    cashier = signed_in(web_app, "kasir")
    assert "Retribusi belum ditetapkan" in cashier.get(f"/files/{number}/skrd").get_data(as_text=True)
    do(deployed, number, "register_application", s.HO_REGISTRATION)
    do(deployed, number, "check_documents", s.HO_CHECK)
    do(deployed, number, "survey_nuisance", s.HO_SURVEY)
    html = cashier.get(f"/files/{number}/skrd").get_data(as_text=True)
    assert f"SKRD/{number}" in html and "Indeks gangguan" in html and "2,8" in html
    assert re.search(r'data-testid="fee-total">Rp367\.500<', html)
    assert "belum dibayar" in html and no_inline_scripts(html)
    assert "Total fee" in cashier.get(f"/files/{number}/skrd?lang=en").get_data(as_text=True)


def test_the_technical_team_records_the_survey_in_the_task_page_and_never_an_amount(
        web_app: Flask, deployed: Container) -> None:
    from tests.walking import state
    from tests.web import post_form

    number = open_new(deployed, "nuisance_permit")
    do(deployed, number, "register_application", s.HO_REGISTRATION)
    do(deployed, number, "check_documents", s.HO_CHECK)
    [task] = state(deployed, number).open_tasks
    officer = signed_in(web_app, "teknis")
    page = officer.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'name="nuisance_survey/environment_score"' in page and "Skor gangguan (bobot 50%)" in page
    assert "fee" not in set(re.findall(r'name="([^"]+)"', page)) and not re.search(r'name="[^"]*fee', page)
    form = {"nuisance_survey/survey_date": "2026-01-07", "nuisance_survey/survey_team": "Agus Prasetyo, S.T.\nDewi Lestari",
            "nuisance_survey/bap_number": "BAP/HO/012/I/2026", "nuisance_survey/business_floor_area_m2": "87,5",
            "nuisance_survey/environment_score": "3", "nuisance_survey/location_score": "2",
            "nuisance_survey/disturbance_score": "3", "nuisance_survey/recommendation": "layak",
            "nuisance_survey/fee": "1", "fee": "1"}  # a smuggled amount is not part of the form: ignored
    assert post_form(officer, f"/tasks/{task.id}", form).status_code == 302
    data = state(deployed, number).data
    assert data["fee"] == 367_500 and "fee" not in data["nuisance_survey"]
