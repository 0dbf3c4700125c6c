"""Public tracking of a file by its number and PIN, without signing in."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from app.auth.security import client_address
from app.container import container
from app.db import request_session
from app.i18n import gettext
from app.public.services import track_file
from app.public.webforms import TrackForm
from app.ratelimit import Limit
from app.web.nav import add_nav

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

bp = Blueprint("public", __name__)


add_nav("public.track", "Lacak berkas", lambda user: user is None, order=95)

MAX_GUESSES = 10


def tracking_limit() -> Limit:
    """Wrong guesses at a file's number and PIN, per address and per number."""
    return container().rate_limits.limit("track", MAX_GUESSES, timedelta(minutes=15))



@bp.route("/track", methods=["GET", "POST"])
def track() -> ResponseReturnValue:
    form = TrackForm(request.form if request.method == "POST" else request.args)
    number = form.file_number.data or ""
    if request.method == "GET":
        return render_template("public/track.html", number=number, status=None, error=None)
    db = request_session()
    limit = tracking_limit()
    if limit.refused(client_address(), number):
        return render_template("public/track.html", number="", status=None,
                               error=gettext("Terlalu banyak percobaan. Coba lagi dalam 15 menit.")), 429
    c = container()
    # An empty or overlong number or PIN is a failed guess like any other, and reads the same.
    status = track_file(db, number, form.pin.data, c.office_calendar, c.settings, c.clock.now()) if form.validate() else None
    if status is None:
        limit.hit(client_address(), number)
        # The number typed is not echoed, so a wrong PIN and an unknown number read exactly alike.
        return render_template("public/track.html", number="", status=None,
                               error=gettext("Nomor berkas atau PIN salah.")), 200
    response = render_template("public/track.html", number=number, status=status, error=None,
                               survey=_survey(db, status.file_number) if status.finished_at else None)
    return response, 200, {"Cache-Control": "no-store"}


def _survey(db: Session, file_number: str) -> dict[str, object] | None:
    """The satisfaction survey's link and QR code of a file that has been handed over."""
    from markupsafe import Markup

    from app.files.services import get_file
    from app.permits.services import qr_svg
    from app.skm.views import survey_url

    url = survey_url(get_file(db, file_number))
    return {"url": url, "qr": Markup(qr_svg(url))}  # noqa: S704 (our own SVG)
