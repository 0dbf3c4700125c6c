"""The inbox in the browser: a manager reads a notice, acknowledges it and hands the
step to another officer; administrators keep the calendar, the managers'
responsibilities and the failed deliveries."""
from __future__ import annotations

import html
import re
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select

from app.auth.models import User
from app.engine.models import HumanTask, InstanceEvent
from app.files.services import open_file
from app.notify.models import Delivery, Notice
from app.notify.services import create_notices
from tests.web import post_form, signed_in


def notice_for(app: Flask, username: str, level: str = "critical",
               due_in: timedelta = timedelta(hours=4)) -> tuple[int, int, str]:
    """A file with its first step open, and a notice about that step to ``username``."""
    c = app.extensions["ptsp"]
    with c.db.unit_of_work() as session:
        file = open_file(session, c.runtime, c.settings, "building_permit", "Siti Rahmawati", "loket")
        task = session.scalars(select(HumanTask).where(HumanTask.instance_id == file.instance_id)).one()
        recipient = session.scalars(select(User).where(User.username == username)).one()
        recipient.email = f"{username}@ptsp.example"
        [notice] = create_notices(session, file_id=file.id, task_id=task.id, level=level, recipients=[recipient],
                                  detail={"file_number": file.file_number, "permit_type": "PBG",
                                          "step": task.title, "officer": "Sri Wahyuni", "scope": "task",
                                          "due_at": (c.clock.now() + due_in).isoformat(),
                                          "working_days_left": 0.5},
                                  now=c.clock.now(), email=True, requeue_after=timedelta(minutes=2))
        return notice.id, task.id, str(file.file_number)


def test_manager_reads_acknowledges_and_reassigns(web_app: Flask) -> None:
    notice_id, task_id, number = notice_for(web_app, "manajer")
    manager = signed_in(web_app, "manajer")
    page = manager.get("/inbox").get_data(as_text=True)
    assert number in page and "Kritis" in page and "Registrasi permohonan" in page and "Sri Wahyuni" in page
    assert "sisa 4 jam kerja" in page  # under a day: in hours

    assert post_form(manager, f"/inbox/tasks/{task_id}/reassign", {"username": "loket"},
                     token_from="/inbox").status_code == 302
    acknowledged = post_form(manager, f"/inbox/{notice_id}/acknowledge", {}, token_from="/inbox")
    assert acknowledged.status_code == 302
    # The notice stays in view with its reassign control at hand.
    assert acknowledged.headers["Location"].endswith(f"/inbox?all=1#notice-{notice_id}")
    kept = manager.get(acknowledged.headers["Location"]).get_data(as_text=True)
    notice_html = kept[kept.index(f'id="notice-{notice_id}"'):]
    assert f'action="/inbox/tasks/{task_id}/reassign"' in notice_html.split("</article>")[0]
    assert number not in manager.get("/inbox").get_data(as_text=True)
    assert "Ditindaklanjuti oleh manajer" in manager.get("/inbox?all=1").get_data(as_text=True)
    with web_app.extensions["ptsp"].db.unit_of_work() as session:
        assert session.get(HumanTask, task_id).claimed_by == "loket"  # type: ignore[union-attr]
        event = session.scalars(select(InstanceEvent).where(InstanceEvent.kind == "reassigned")).one()
        assert (event.actor, event.detail["to"]) == ("manajer", "loket")


def test_reassigning_to_someone_outside_the_lane_is_refused_and_changes_nothing(web_app: Flask) -> None:
    _, task_id, _ = notice_for(web_app, "manajer")
    manager = signed_in(web_app, "manajer")
    response = post_form(manager, f"/inbox/tasks/{task_id}/reassign", {"username": "kasir"}, token_from="/inbox",
                         follow_redirects=True)
    assert "not an active officer of lane 'front_office'" in html.unescape(response.get_data(as_text=True))
    with web_app.extensions["ptsp"].db.unit_of_work() as session:
        assert session.get(HumanTask, task_id).claimed_by is None  # type: ignore[union-attr]


def test_officers_cannot_reassign_nor_acknowledge_someone_elses_notice(web_app: Flask) -> None:
    notice_id, task_id, _ = notice_for(web_app, "manajer")
    officer = signed_in(web_app, "loket")
    assert post_form(officer, f"/inbox/tasks/{task_id}/reassign", {"username": "loket"},
                     token_from="/inbox").status_code == 403
    assert post_form(officer, f"/inbox/{notice_id}/acknowledge", {}, token_from="/inbox").status_code == 403
    with web_app.extensions["ptsp"].db.unit_of_work() as session:
        assert session.get(Notice, notice_id).acknowledged_at is None  # type: ignore[union-attr]


def test_administrator_declares_a_holiday_and_the_working_calendar_follows(web_app: Flask) -> None:
    c = web_app.extensions["ptsp"]
    day = date(2026, 6, 10)  # a Wednesday
    assert c.calendar.is_working_day(day)
    admin = signed_in(web_app, "admin")
    response = post_form(admin, "/admin/calendar", {"day": day.isoformat(), "reason": "Hari jadi Kabupaten",
                                                    "action": "add"})
    assert response.status_code == 302
    assert "Hari jadi Kabupaten" in admin.get("/admin/calendar?year=2026").get_data(as_text=True)
    assert not c.calendar.is_working_day(day)
    assert post_form(admin, "/admin/calendar", {"day": "bukan-tanggal", "reason": "x", "action": "add"},
                     ).status_code == 400
    for form, says in [({"day": "2026-02-30", "reason": "x"}, "Isi tanggal seperti 2026-03-20."),
                       ({"day": "", "reason": "x"}, "Isi tanggal seperti 2026-03-20."),
                       ({"day": "2026-06-11", "reason": "x" * 301}, "Alasan paling panjang 300 karakter.")]:
        refused = post_form(admin, "/admin/calendar", {**form, "action": "add"})
        assert refused.status_code == 400 and says in refused.get_data(as_text=True), form
    assert c.calendar.is_working_day(date(2026, 6, 11))
    assert post_form(admin, "/admin/calendar", {"day": "2026-06-11", "reason": "x", "action": "hapus-semua"}
                     ).status_code == 400
    assert signed_in(web_app, "manajer").get("/admin/calendar").status_code == 403


def test_failed_delivery_is_listed_and_can_be_sent_again(web_app: Flask) -> None:
    notice_for(web_app, "manajer")
    c = web_app.extensions["ptsp"]
    with c.db.unit_of_work() as session:
        delivery = session.scalars(select(Delivery)).one()
        delivery.status, delivery.attempts, delivery.last_error = "failed", 5, "550 mailbox unavailable"
        delivery_id = delivery.id
    admin = signed_in(web_app, "admin")
    page = admin.get("/admin/deliveries").get_data(as_text=True)
    assert "550 mailbox unavailable" in page and "manajer@ptsp.example" in page
    assert post_form(admin, f"/admin/deliveries/{delivery_id}/retry", {}, token_from="/admin/deliveries"
                     ).status_code == 302
    with c.db.unit_of_work() as session:
        assert session.get(Delivery, delivery_id).status == "pending"  # type: ignore[union-attr]


def test_administrator_makes_a_manager_responsible_for_a_permit_type(web_app: Flask) -> None:
    admin = signed_in(web_app, "admin")
    unknown_lane = post_form(admin, "/admin/responsibilities", {"username": "manajer", "process_id": "",
                                                                "lane": "kantin", "action": "assign"})
    assert unknown_lane.status_code == 400 and "Pilih manajer dan jalur tugas" in unknown_lane.get_data(as_text=True)
    response = post_form(admin, "/admin/responsibilities", {"username": "manajer", "process_id": "building_permit",
                                                            "lane": "", "action": "assign"})
    assert response.status_code == 302
    page = admin.get("/admin/responsibilities").get_data(as_text=True)
    assert "manajer" in page and "building_permit" in page


def test_time_left_never_reads_minus_zero(web_app: Flask) -> None:
    manager = signed_in(web_app, "manajer")
    notice_for(web_app, "manajer", due_in=timedelta(minutes=-10))  # Monday 07:50: before opening time
    notice_for(web_app, "manajer", due_in=timedelta(days=2))
    notice_for(web_app, "manajer", due_in=timedelta(hours=6, minutes=30))
    page = manager.get("/inbox").get_data(as_text=True)
    shown = re.findall(r'data-testid="time-left">([^<]+)<', page)
    assert sorted(shown) == ["lewat batas waktu", "sisa 2 hari kerja", "sisa 7 jam kerja"]
    assert not any("-" in text for text in shown)
