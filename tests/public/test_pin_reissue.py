"""A lost tracking PIN (issue 9 §7): the front desk reissues it, the old one stops working, and
the file page's history records who did it, beside every other event of the file (§9)."""
from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from app.auth.models import User
from app.container import Container
from app.engine.models import HumanTask
from app.files.models import ApplicationFile
from app.notify.services import reassign_task
from tests.files.intake_helpers import _PIN, register
from tests.public.test_track import track
from tests.web import post_form, signed_in


def test_the_front_desk_reissues_a_lost_pin_and_the_history_says_who(web_app: Flask, deployed: Container) -> None:
    loket = signed_in(web_app, "loket")
    number, old_pin, _ = register(loket)
    response = post_form(loket, f"/files/{number}/pin", {}, token_from=f"/files/{number}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/files/{number}/receipt")
    receipt = loket.get(response.headers["Location"]).get_data(as_text=True)
    found = _PIN.search(receipt)
    assert found
    new_pin = found.group(1)
    public = web_app.test_client()
    if new_pin != old_pin:  # one chance in a million that the new PIN is the old one
        assert "Nomor berkas atau PIN salah." in track(public, number, old_pin).get_data(as_text=True)
    assert "Registrasi permohonan" in track(public, number, new_pin).get_data(as_text=True)
    # Shown once: a reprint does not show it.
    assert 'data-testid="pin"' not in loket.get(f"/files/{number}/receipt").get_data(as_text=True)

    # A manager reassigns the document check: that too is in the file's history.
    with deployed.db.unit_of_work() as session:
        file = session.scalars(select(ApplicationFile).where(ApplicationFile.file_number == number)).one()
        task = session.scalars(select(HumanTask).where(HumanTask.instance_id == file.instance_id,
                                                       HumanTask.status == "open")).one()
        users = {u.username: u for u in session.scalars(select(User))}
        reassign_task(session, task.id, users["verifikator"], users["manajer"], deployed.clock)
    page = loket.get(f"/files/{number}").get_data(as_text=True)
    events = {kind: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
              for kind, row in re.findall(r'<tr class="event event-(\w+)">(.*?)</tr>', page, re.S)}
    assert "PIN pelacakan diterbitkan ulang" in events["pin_reissued"]
    assert "Sri Wahyuni" in events["pin_reissued"]
    assert "Langkah dialihkan" in events["reassigned"] and "verifikator" in events["reassigned"]


def test_only_the_front_desk_may_reissue(web_app: Flask) -> None:
    loket = signed_in(web_app, "loket")
    number, _, _ = register(loket)
    teknis = signed_in(web_app, "teknis")
    assert post_form(teknis, f"/files/{number}/pin", {}, token_from=f"/files/{number}").status_code == 403
    assert 'data-testid="reissue-pin"' not in teknis.get(f"/files/{number}").get_data(as_text=True)
