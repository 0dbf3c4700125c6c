"""Permits and letters as an office prints them (issue 9 §7, §9): the letterhead from the settings,
the signer's name and NIP; the administrators are warned when escalations reach nobody."""
from __future__ import annotations

import dataclasses

from flask import Flask
from sqlalchemy import select

from app.auth.models import User
from app.container import Container
from app.permits.services import office_letterhead
from app.sla.services import assign_manager, responsibility_coverage
from tests import samples
from tests.files.intake_helpers import register
from tests.walking import do_step, open_task
from tests.web import post_form, signed_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_letterhead_reads_name_address_and_logo_from_the_settings(deployed: Container, tmp_path) -> None:  # type: ignore[no-untyped-def]
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    settings = dataclasses.replace(deployed.settings, office_name="DPMPTSP Kabupaten Sragen",
                                   office_address="Jl. Raya Sukowati No. 255, Sragen", office_logo=str(logo))
    head = office_letterhead(settings)
    assert (head.name, head.address) == ("DPMPTSP Kabupaten Sragen", "Jl. Raya Sukowati No. 255, Sragen")
    assert head.logo.startswith("data:image/png;base64,")
    assert office_letterhead(dataclasses.replace(settings, office_logo=str(tmp_path / "missing.png"))).logo == ""


def test_the_permit_names_its_signer_with_nip(web_app: Flask, deployed: Container) -> None:
    c = deployed
    admin = signed_in(web_app, "admin")
    with c.db.unit_of_work() as session:
        kepala_id = session.scalars(select(User.id).where(User.username == "kepala")).one()
    bad = post_form(admin, f"/admin/users/{kepala_id}", {"full_name": "Ir. Hartono", "role": "officer",
                                                         "lanes": ["head", "verifier"], "active": "on",
                                                         "nip": "1234"})
    assert bad.status_code == 400
    saved = post_form(admin, f"/admin/users/{kepala_id}", {"full_name": "Ir. Hartono", "role": "officer",
                                                           "lanes": ["head", "verifier"], "active": "on",
                                                           "nip": "197001012000031001"})
    assert saved.status_code == 302
    number, _, _ = register(signed_in(web_app, "loket"))
    for username, data in [("verifikator", samples.CHECK_COMPLETE), ("teknis", samples.SURVEY),
                           ("kasir", samples.PAYMENT), ("verifikator", samples.DRAFT)]:
        do_step(c, number, username, data)
    head = signed_in(web_app, "kepala")
    preview = head.get(f"/files/{number}/permit-preview").get_data(as_text=True)
    assert 'data-testid="letterhead"' in preview and "NIP 197001012000031001" in preview
    do_step(c, number, "kepala", samples.SIGN_APPROVE)
    task = open_task(c, number)
    page = signed_in(web_app, "loket").get(f"/tasks/{task.id}").get_data(as_text=True)
    permit_link = page[page.index('href="/permits/') + 6:].split('"')[0]
    permit = head.get(permit_link).get_data(as_text=True)
    assert "Ir. Hartono" in permit and "NIP 197001012000031001" in permit and 'data-testid="letterhead"' in permit
    pdf = head.get(permit_link + ".pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_admins_are_warned_when_escalations_reach_nobody(web_app: Flask, deployed: Container) -> None:
    admin = signed_in(web_app, "admin")
    page = admin.get("/admin/responsibilities").get_data(as_text=True)
    assert 'data-testid="coverage-warning"' in page and "Persetujuan Bangunan Gedung" in page
    with deployed.db.unit_of_work() as session:
        manager = session.scalars(select(User).where(User.username == "manajer")).one()
        assign_manager(session, manager, None, None, "admin", deployed.clock)
        coverage = responsibility_coverage(session, ["building_permit"], ["verifier"])
        assert coverage.managers_without_email == ["manajer"] and coverage.process_ids == ["building_permit"]
        manager.email = "retno@ptsp.example"
    with deployed.db.unit_of_work() as session:
        assert responsibility_coverage(session, ["building_permit"], ["verifier"]).process_ids == []
    assert 'data-testid="coverage-warning"' not in admin.get("/admin/responsibilities").get_data(as_text=True)


def test_the_permit_pdf_carries_the_office_logo(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image as PilImage

    from app.permits.services import PrintedPermit, permit_pdf

    logo = tmp_path / "logo.png"
    PilImage.new("RGB", (64, 64), (11, 61, 145)).save(logo)
    printed = PrintedPermit(office_name="DPMPTSP Kabupaten Sragen", title="Izin Gangguan", permit_number="503/HO/2026/1",
                            facts=[("Pemegang izin", "Siti Rahmawati")], conditions_title="Ketentuan", conditions=[],
                            verify_note="Pindai", verify_url="https://ptsp.example/verify/x", issued_line="Diterbitkan",
                            office_address="Jl. Raya Sukowati No. 255, Sragen")
    without = permit_pdf(printed)
    with_logo = permit_pdf(dataclasses.replace(printed, office_logo=str(logo)))
    assert b"/Subtype /Image" not in without
    assert b"/Subtype /Image" in with_logo
    # An SVG logo (shown on the HTML letters) or a missing file leaves the PDF without one, never broken.
    for other in (tmp_path / "logo.svg", tmp_path / "missing.png"):
        assert permit_pdf(dataclasses.replace(printed, office_logo=str(other))).startswith(b"%PDF")
