"""The applicant is told (issue 9 §6): documents missing, permit ready and refused go to the
address given at registration through the outbox, once each, in Indonesian."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from app.container import Container
from app.notify.models import Delivery, Notice
from app.publisher import RecordingPublisher
from tests import samples
from tests.files.intake_helpers import register, registration
from tests.sla.office import CapturingSender, run_deliveries
from tests.walking import do_step
from tests.web import signed_in

ADDRESS = samples.REGISTRATION["applicant_email"]


def applicant_mail(c: Container, publisher: RecordingPublisher) -> list:  # type: ignore[type-arg]
    sender = CapturingSender()
    outcomes = run_deliveries(c, publisher, sender)
    assert all(o.status == "sent" for o in outcomes), outcomes
    return [m for m in sender.messages if ADDRESS in m["To"]]


def test_missing_documents_then_permit_ready_each_mailed_once_in_indonesian(
        web_app: Flask, deployed: Container, publisher: RecordingPublisher) -> None:
    c = deployed
    number, _, _ = register(signed_in(web_app, "loket"))
    do_step(c, number, "verifikator", samples.CHECK_INCOMPLETE)
    [missing] = applicant_mail(c, publisher)
    assert missing["Subject"] == f"[PTSP] Dokumen permohonan belum lengkap: {number}"
    assert missing["To"] == f"Siti Rahmawati <{ADDRESS}>" and missing["Content-Language"] == "id"
    body = missing.get_content()
    assert "Gambar teknis bangunan (arsitektur, struktur, utilitas)" in body and "Persetujuan tetangga" in body
    assert "paling lambat" in body and "English" not in body

    do_step(c, number, "loket", samples.RESUBMISSION)
    for username, data in [("verifikator", samples.CHECK_COMPLETE), ("teknis", samples.SURVEY),
                           ("kasir", samples.PAYMENT), ("verifikator", samples.DRAFT), ("kepala", samples.SIGN_APPROVE)]:
        do_step(c, number, username, data)
    [ready] = applicant_mail(c, publisher)
    assert ready["Subject"] == f"[PTSP] Izin Anda sudah terbit: {number}"
    do_step(c, number, "loket", samples.HANDOVER)
    assert applicant_mail(c, publisher) == []  # nothing more, and nothing twice
    with c.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Notice).where(Notice.recipient_id.is_(None))) == 2
        assert session.scalar(select(func.count()).select_from(Delivery)
                              .where(Delivery.address == ADDRESS, Delivery.status == "sent")) == 2


def test_documents_returned_twice_are_mailed_twice(web_app: Flask, deployed: Container,
                                                  publisher: RecordingPublisher) -> None:
    c = deployed
    number, _, _ = register(signed_in(web_app, "loket"))
    do_step(c, number, "verifikator", samples.CHECK_INCOMPLETE)
    do_step(c, number, "loket", samples.RESUBMISSION)
    do_step(c, number, "verifikator", samples.CHECK_INCOMPLETE)  # still not complete: returned again
    first, second = applicant_mail(c, publisher)
    assert first["Subject"] == second["Subject"] == f"[PTSP] Dokumen permohonan belum lengkap: {number}"


def test_a_refusal_is_mailed_with_its_reason_and_no_address_means_no_notice(
        web_app: Flask, deployed: Container, publisher: RecordingPublisher) -> None:
    c = deployed
    loket = signed_in(web_app, "loket")
    number, _, _ = register(loket)
    silent, _, _ = register(loket, data=registration(applicant_email=None))
    for file_number in (number, silent):
        for username, data in [("verifikator", samples.CHECK_COMPLETE), ("teknis", samples.SURVEY),
                               ("kasir", samples.PAYMENT), ("verifikator", samples.DRAFT),
                               ("kepala", samples.SIGN_REFUSE)]:
            do_step(c, file_number, username, data)
    [refused] = applicant_mail(c, publisher)
    assert number in refused["Subject"] and "tidak dapat dikabulkan" in refused["Subject"]
    assert samples.SIGN_REFUSE["refusal_reason"] in refused.get_content()
    with c.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Notice).where(Notice.recipient_id.is_(None))) == 1
