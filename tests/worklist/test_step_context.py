"""What each step needs, on its task page (issue 9 §3): the documents to check against the
catalogue's list, the documents still missing, the fee with its breakdown and SKRD, a preview of
the permit about to be signed, the papers to print at the handover, and the file page."""
from __future__ import annotations

import re

from flask import Flask

from app.container import Container
from app.engine.models import HumanTask
from app.engine.step_kinds import context_kind
from tests import samples
from tests.files.intake_helpers import register
from tests.walking import do_step, open_task, serial
from tests.web import signed_in


def panel(page: str) -> str:
    found = re.search(r'<section class="step-context".*?</section>', page, re.S)
    assert found, page
    return found.group(0)


def test_each_step_shows_what_it_needs_beside_its_form(web_app: Flask, deployed: Container) -> None:
    c = deployed
    number, _, _ = register(signed_in(web_app, "loket"))
    verifier = signed_in(web_app, "verifikator")

    check = panel(verifier.get(f"/tasks/{open_task(c, number).id}").get_data(as_text=True))
    assert 'data-context="documents"' in check and f'href="/files/{number}"' in check
    rows = dict(re.findall(r'data-document-type="(\w+)">(.*?)</tr>', check, re.S))
    assert list(rows) == ["ktp", "sertifikat_tanah", "gambar_teknis", "site_plan", "persetujuan_tetangga"]
    assert "ktp-siti.png" in rows["ktp"] and f"/files/{number}/attachments/" in rows["ktp"]
    assert "belum diserahkan" in rows["site_plan"] and "belum diserahkan" not in rows["gambar_teknis"]
    link = re.search(r'href="(/files/[^"]+/attachments/\d+)"', rows["ktp"])
    assert link
    with verifier.get(link.group(1)) as response:
        assert response.status_code == 200 and response.data.startswith(b"\x89PNG")

    do_step(c, number, "verifikator", samples.CHECK_INCOMPLETE)
    resubmission = panel(signed_in(web_app, "loket").get(f"/tasks/{open_task(c, number).id}").get_data(as_text=True))
    assert re.findall(r"<li>([^<]+)</li>", resubmission) == [
        "Gambar teknis bangunan (arsitektur, struktur, utilitas)", "Persetujuan tetangga"]

    do_step(c, number, "loket", samples.RESUBMISSION)
    do_step(c, number, "verifikator", samples.CHECK_COMPLETE)
    do_step(c, number, "teknis", samples.SURVEY)
    payment = panel(signed_in(web_app, "kasir").get(f"/tasks/{open_task(c, number).id}").get_data(as_text=True))
    assert 'data-context="payment"' in payment
    due = re.search(r'data-testid="fee-due"><strong>([^<]+)<', payment)
    total = re.search(r'data-testid="fee-total">([^<]+)<', payment)
    assert due and total and due.group(1).strip() == total.group(1).strip() and "Rp" in due.group(1)
    assert f'href="/files/{number}/skrd"' in payment

    do_step(c, number, "kasir", samples.PAYMENT)
    do_step(c, number, "verifikator", samples.DRAFT)
    head = signed_in(web_app, "kepala")
    sign = panel(head.get(f"/tasks/{open_task(c, number).id}").get_data(as_text=True))
    assert f'href="/files/{number}/permit-preview"' in sign
    preview = head.get(f"/files/{number}/permit-preview").get_data(as_text=True)
    assert 'data-testid="permit-preview"' in preview and "PRATINJAU" in preview
    assert re.search(r'data-testid="permit-number">([^<]+)<', preview).group(1) == f"640/PBG/{serial(number)}"  # type: ignore[union-attr]
    assert "Siti Rahmawati" in preview and "Garis sempadan bangunan minimal 4 meter dari as jalan" in preview
    assert 'data-testid="permit-qr"' not in preview

    do_step(c, number, "kepala", samples.SIGN_APPROVE)
    handover = panel(signed_in(web_app, "loket").get(f"/tasks/{open_task(c, number).id}").get_data(as_text=True))
    links = re.findall(r'href="([^"]+)"', handover)
    assert any(re.fullmatch(r"/permits/\d+", link) for link in links)
    assert f"/files/{number}/handover-sheet" in links
    sheet = head.get(f"/files/{number}/handover-sheet")
    assert sheet.status_code == 200 and 'data-testid="handover-sheet"' in sheet.get_data(as_text=True)
    # The preview and the issued permit are the same document, apart from the preview mark and the QR code.
    issued_id = next(link for link in links if re.fullmatch(r"/permits/\d+", link))
    issued = head.get(issued_id).get_data(as_text=True)
    assert re.search(r'data-testid="permit-number">([^<]+)<', issued).group(1) == re.search(  # type: ignore[union-attr]
        r'data-testid="permit-number">([^<]+)<', preview).group(1)  # type: ignore[union-attr]


def test_a_refused_file_hands_over_a_printable_refusal_letter(web_app: Flask, deployed: Container) -> None:
    c = deployed
    number, _, _ = register(signed_in(web_app, "loket"))
    for username, data in [("verifikator", samples.CHECK_COMPLETE), ("teknis", samples.SURVEY),
                           ("kasir", samples.PAYMENT), ("verifikator", samples.DRAFT), ("kepala", samples.SIGN_REFUSE)]:
        do_step(c, number, username, data)
    loket = signed_in(web_app, "loket")
    refusal = panel(loket.get(f"/tasks/{open_task(c, number).id}").get_data(as_text=True))
    assert 'data-context="refusal"' in refusal and f"/files/{number}/refusal-letter" in refusal
    letter = loket.get(f"/files/{number}/refusal-letter").get_data(as_text=True)
    assert samples.SIGN_REFUSE["refusal_reason"] in letter
    # A file that was not refused has no refusal letter.
    other, _, _ = register(loket)
    assert loket.get(f"/files/{other}/refusal-letter").status_code == 404


def test_the_panel_comes_from_the_diagram_property_before_the_form_name() -> None:
    task = HumanTask(task_name="collect", form="permit_payment.json")
    assert context_kind({}, task) == "payment"
    assert context_kind({"collect": {"properties": {"taskContext": "documents"}}}, task) == "documents"
    assert context_kind({}, HumanTask(task_name="x", form="pbg_refusal_handover.json")) == "refusal"
    assert context_kind({}, HumanTask(task_name="x", form="pbg_field_survey.json")) is None
