"""The survey form (public, by its one-time link), the handover sheet that prints the link,
and the public page that publishes the index (the regulation requires publication)."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from app.auth.security import permission_required
from app.container import container
from app.db import request_session
from app.files.models import ApplicationFile
from app.files.services import may_read_files
from app.i18n import N_, current_language, gettext
from app.permits.services import qr_svg
from app.skm.models import ELEMENT_LABELS, ELEMENTS
from app.skm.services import (
    SurveyInvalid,
    format_score,
    index_by_permit_type,
    invitation,
    latest_quarter_with_answers,
    period_index,
    record_response,
    survey_open_for,
    survey_token,
)
from app.skm.webforms import SurveyForm
from app.web.nav import add_nav

bp = Blueprint("skm", __name__)


@bp.app_template_filter("score")
def _score(value: object) -> str:
    """IKM and NRR with a decimal comma in Indonesian, a point in English (app.skm.services.format_score)."""
    return format_score(value, "id_ID" if current_language() == "id" else "en_GB")  # type: ignore[arg-type]

# The question asked for each element, and the four answers.
ELEMENT_QUESTIONS = {
    "requirements": N_("Bagaimana kesesuaian persyaratan pelayanan dengan jenis pelayanannya?"),
    "procedure": N_("Bagaimana kemudahan prosedur pelayanan di kantor ini?"),
    "time": N_("Bagaimana kecepatan waktu dalam memberikan pelayanan?"),
    "cost": N_("Bagaimana kewajaran biaya/tarif dalam pelayanan?"),
    "product": N_("Bagaimana kesesuaian produk pelayanan yang tercantum dalam standar pelayanan dengan hasil yang diberikan?"),
    "competence": N_("Bagaimana kompetensi/kemampuan petugas dalam pelayanan?"),
    "behaviour": N_("Bagaimana perilaku petugas dalam pelayanan terkait kesopanan dan keramahan?"),
    "complaints": N_("Bagaimana penanganan pengaduan pengguna layanan?"),
    "facilities": N_("Bagaimana kualitas sarana dan prasarana?"),
}
SCORE_LABELS = {1: N_("Tidak baik"), 2: N_("Kurang baik"), 3: N_("Baik"), 4: N_("Sangat baik")}


add_nav("skm.public_index", N_("Survei kepuasan"), lambda user: user is None, order=97)


def element_label(name: str) -> str:
    return gettext(ELEMENT_LABELS[name])


def survey_url(file: ApplicationFile) -> str:
    """The public link of ``file``'s survey (its QR code is printed on the handover sheet)."""
    return url_for("skm.survey", token=survey_token(file, container().settings.secret_key), _external=True)


@bp.route("/survey/<token>", methods=["GET", "POST"])
def survey(token: str) -> ResponseReturnValue:
    c = container()
    db = request_session()
    token = token[:40]
    found = invitation(db, token, c.settings.secret_key)
    headers = {"Cache-Control": "no-store"}
    if found.status != "open":
        status = {"invalid": 404, "answered": 200, "not_yet": 200}[found.status]
        return render_template("skm/survey.html", state=found.status, token=token, form={}, errors={},
                               **_form_texts()), status, headers
    if request.method == "GET":
        return render_template("skm/survey.html", state="open", token=token, form={}, errors={},
                               **_form_texts()), 200, headers
    form = SurveyForm(request.form)
    if not form.validate():
        errors = {name: gettext(str(messages[0])) for name, messages in form.errors.items()}
        return render_template("skm/survey.html", state="open", token=token, form=request.form, errors=errors,
                               **_form_texts()), 422, headers
    try:
        record_response(db, token, c.settings.secret_key, form.data, c.calendar.local_date(c.clock.now()))
    except SurveyInvalid as refused:
        db.rollback()
        if "token" in refused.errors:  # answered (or closed) meanwhile
            return render_template("skm/survey.html", state=refused.errors["token"], token=token, form={}, errors={},
                                   **_form_texts()), 409, headers
        messages = {"choose": gettext("Pilih salah satu jawaban."),
                    "too_long": gettext("Saran paling banyak 2000 karakter.")}
        errors = {k: messages.get(v, v) for k, v in refused.errors.items()}
        return render_template("skm/survey.html", state="open", token=token, form=request.form, errors=errors,
                               **_form_texts()), 422, headers
    return render_template("skm/survey.html", state="thanks", token=token, form={}, errors={},
                           **_form_texts()), 201, headers


def _form_texts() -> dict[str, object]:
    return {"elements": ELEMENTS, "labels": ELEMENT_LABELS, "questions": ELEMENT_QUESTIONS, "scores": SCORE_LABELS}


@bp.get("/skm")
def public_index() -> ResponseReturnValue:
    c = container()
    db = request_session()
    today = c.calendar.local_date(c.clock.now())
    period = latest_quarter_with_answers(db, today)
    index = period_index(db, *period) if period else None
    per_type = index_by_permit_type(db, *period) if period else {}
    names = {key: e.name for key, e in c.catalogue.entries.items()}
    return render_template("skm/public.html", period=period, index=index, per_type=per_type, names=names,
                           element_label=element_label)


def survey_invitation(file: ApplicationFile) -> dict[str, object]:
    """What the handover sheet prints for the survey: its link and QR code, once the file is handed over."""
    url = survey_url(file) if survey_open_for(file) else None
    return {"survey_url": url, "qr": Markup(qr_svg(url)) if url else None}  # noqa: S704 (our own SVG)


@bp.get("/files/<file_number>/handover")
@permission_required(may_read_files)
def handover_sheet(file_number: str) -> ResponseReturnValue:
    """The old address of the handover sheet: there is one sheet now (permits.handover_sheet)."""
    return redirect(url_for("permits.handover_sheet", file_number=file_number), 301)
