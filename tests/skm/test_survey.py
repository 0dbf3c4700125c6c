"""The survey after handover: a link (and QR code) on the handover sheet and on /track, one
response per file, nothing personal stored with the answers, and the published index."""
from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import inspect, select
from werkzeug.security import generate_password_hash

from app.clock import FixedClock
from app.container import Container
from app.files.models import ApplicationFile
from app.skm.models import ELEMENTS, SurveyResponse, SurveyTokenUse
from tests.catalogue import samples as s
from tests.walking import do, open_new
from tests.web import post_form, signed_in

PIN = "482913"
_LINK = re.compile(r'href="(?:https?://[^/"]+)?(/survey/[^"]+)" data-testid="survey-link"')


def trade_licence(c: Container, applicant: str = "Siti Rahmawati", finished: bool = True) -> str:
    number = open_new(c, "trade_licence", applicant)
    with c.db.unit_of_work() as session:
        file = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == number)).one()
        file.tracking_pin_hash = generate_password_hash(PIN)
    do(c, number, "register_application", s.SIUP_REGISTRATION)
    do(c, number, "check_documents", s.SIUP_CHECK)
    do(c, number, "verify_business", s.SIUP_VERIFICATION)
    if finished:
        do(c, number, "sign_permit", s.SIGN_APPROVE)
        do(c, number, "hand_over_permit", s.HANDOVER)
    return number


def link_on(page: str) -> str:
    match = _LINK.search(page)
    assert match, "no survey link on the page"
    return match.group(1)


def answer(client, link: str, scores: list[int], suggestion: str = ""):  # type: ignore[no-untyped-def]
    data = dict(zip(ELEMENTS, (str(v) for v in scores), strict=True))
    return post_form(client, link, {**data, "suggestion": suggestion})


def test_after_handover_the_applicant_answers_once_and_the_answer_names_nobody(
        web_app: Flask, deployed: Container, clock: FixedClock) -> None:
    number = trade_licence(deployed)
    # the handover sheet printed at the front desk carries the link and its QR code
    front_desk = signed_in(web_app, "loket")
    sheet = front_desk.get(f"/files/{number}/handover-sheet").get_data(as_text=True)
    assert 'data-testid="handover-sheet"' in sheet  # the one sheet: the handover record with the survey on it
    assert 'data-testid="survey-qr"' in sheet and "<svg" in sheet
    old = front_desk.get(f"/files/{number}/handover")
    assert old.status_code == 301 and old.headers["Location"].endswith(f"/files/{number}/handover-sheet")
    page = front_desk.get(f"/files/{number}").get_data(as_text=True)
    assert f'href="/files/{number}/handover-sheet"' in page and f'href="/files/{number}/handover"' not in page
    link = link_on(sheet)
    # the applicant finds the same link on /track
    public = web_app.test_client()
    tracked = post_form(public, "/track", {"file_number": number, "pin": PIN}).get_data(as_text=True)
    assert link_on(tracked) == link

    form = public.get(link)
    assert form.status_code == 200 and "Perilaku pelaksana" in form.get_data(as_text=True)
    # a missing answer is refused beside its element, nothing stored
    incomplete = post_form(public, link, {name: "3" for name in ELEMENTS[:8]})
    assert incomplete.status_code == 422
    page = incomplete.get_data(as_text=True)
    assert page.count("Pilih salah satu jawaban.") == 1 and 'data-element="facilities"' in page
    # an out-of-range score is refused too
    assert answer(public, link, [4, 4, 4, 4, 4, 4, 4, 4, 5]).status_code == 422
    # and so is a suggestion past 2,000 characters
    too_long = answer(public, link, [4, 4, 4, 4, 4, 4, 4, 4, 4], "kipas " * 400)
    assert too_long.status_code == 422 and "Saran paling banyak 2000 karakter." in too_long.get_data(as_text=True)
    with deployed.db.unit_of_work() as session:
        assert session.scalars(select(SurveyResponse)).all() == []

    sent = answer(public, link, [4, 3, 2, 4, 4, 3, 4, 3, 3], "Ruang tunggu perlu kipas angin.")
    assert sent.status_code == 201 and "Terima kasih" in sent.get_data(as_text=True)
    again = answer(public, link, [1, 1, 1, 1, 1, 1, 1, 1, 1])
    assert "sudah diisi" in again.get_data(as_text=True)
    with deployed.db.unit_of_work() as session:
        [response] = session.scalars(select(SurveyResponse)).all()
        assert [getattr(response, f"u_{n}") for n in ELEMENTS] == [4, 3, 2, 4, 4, 3, 4, 3, 3]
        assert response.suggestion == "Ruang tunggu perlu kipas angin."
        assert (response.process_id, response.answered_on.isoformat()) == ("trade_licence", "2026-01-05")
        file_id = session.scalars(select(ApplicationFile.id).where(ApplicationFile.file_number == number)).one()
        assert session.get(SurveyTokenUse, file_id) is not None
        # nothing personal and nothing that leads back to the file is stored with the answers
        columns = {c.name for c in inspect(SurveyResponse).columns}
        assert columns == {"id", "process_id", "answered_on", "suggestion"} | {f"u_{n}" for n in ELEMENTS}

    # the public page publishes the index: (4+3+2+4+4+3+4+3+3)/9 x 25 = 30/9 x 25 = 83.33, band B
    published = web_app.test_client().get("/skm").get_data(as_text=True)
    # Indonesian with a decimal comma, English with a point
    assert 'data-testid="skm-ikm">83,33<' in published and "<b>B</b>" in published
    assert 'data-testid="skm-respondents">1<' in published
    assert "Waktu penyelesaian (2,00)" in published  # the weakest element first
    english = web_app.test_client().get("/skm?lang=en").get_data(as_text=True)
    assert "Public Satisfaction Index (IKM)" in english and "Time taken (2.00)" in english
    assert 'data-testid="skm-ikm">83.33<' in english
    manager = signed_in(web_app, "manajer")
    board = manager.get("/dashboard?start=2026-01-01&end=2026-01-31").get_data(as_text=True)
    assert 'data-testid="dashboard-ikm"><b>83,33</b>' in board and ">2,00</td>" in board
    board_en = manager.get("/dashboard?start=2026-01-01&end=2026-01-31&lang=en").get_data(as_text=True)
    assert 'data-testid="dashboard-ikm"><b>83.33</b>' in board_en and ">2.00</td>" in board_en


def test_the_survey_opens_only_after_handover_and_only_with_a_genuine_link(
        web_app: Flask, deployed: Container) -> None:
    number = trade_licence(deployed, finished=False)
    officer = signed_in(web_app, "loket")
    sheet = officer.get(f"/files/{number}/handover-sheet").get_data(as_text=True)
    assert 'data-testid="handover-not-finished"' in sheet and "survey-link" not in sheet
    with deployed.db.unit_of_work() as session:
        file_id = session.scalars(select(ApplicationFile.id).where(ApplicationFile.file_number == number)).one()
    from app.skm.services import survey_token

    with deployed.db.unit_of_work() as session:
        token = survey_token(session.get_one(ApplicationFile, file_id), deployed.settings.secret_key)
    public = web_app.test_client()
    assert "Survei dibuka setelah izin diserahkan." in public.get(f"/survey/{token}").get_data(as_text=True)
    assert answer(public, f"/survey/{token}", [4] * 9).status_code == 200  # refused: not handed over yet
    # another file's id with this file's code, or a made-up code: unknown link
    forged = f"{file_id + 1}.{token.split('.')[1]}"
    assert public.get(f"/survey/{forged}").status_code == 404
    assert public.get("/survey/1.AAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    assert public.get("/survey/nonsense").status_code == 404
    with deployed.db.unit_of_work() as session:
        assert session.scalars(select(SurveyResponse)).all() == []


def test_skm_page_without_respondents(web_app: Flask) -> None:
    page = web_app.test_client().get("/skm")
    assert page.status_code == 200 and 'data-testid="skm-empty"' in page.get_data(as_text=True)


def test_two_answers_sent_at_the_same_moment_store_one(web_app: Flask, deployed: Container,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from app.skm import services
    from app.skm.services import Invitation, SurveyInvalid, record_response, survey_token

    number = trade_licence(deployed)
    form = {name: "3" for name in ELEMENTS}
    with deployed.db.unit_of_work() as session:
        file = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == number)).one()
        token = survey_token(file, deployed.settings.secret_key)
        record_response(session, token, deployed.settings.secret_key, form, date(2026, 1, 5))
    with deployed.db.unit_of_work() as session:
        file = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == number)).one()
        # the second request read the link before the first committed: to it the survey still looked open
        monkeypatch.setattr(services, "invitation", lambda *args: Invitation("open", file))
        with pytest.raises(SurveyInvalid) as refused:
            record_response(session, token, deployed.settings.secret_key, form, date(2026, 1, 5))
        assert refused.value.errors == {"token": "answered"}
    with deployed.db.unit_of_work() as session:
        assert len(session.scalars(select(SurveyResponse)).all()) == 1
