"""The files page: find a file by number, NIK or applicant name, and list every file with filters."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.auth.security import client_address, permission_required
from app.container import container
from app.db import request_session
from app.files.nik import mask_nik
from app.files.search import FILE_STATES, FileQuery, SearchInvalid, search_files
from app.files.services import STATUS_WORDS, may_read_files
from app.i18n import N_, gettext
from app.privacy.services import record_access_by_numbers
from app.sla.policy import STATES
from app.web.nav import add_nav

bp = Blueprint("file_list", __name__)


add_nav("file_list.index", "Daftar berkas", may_read_files, order=12)

SLA_WORDS = {"on_track": N_("sesuai tepat"), "warning": N_("perlu perhatian"), "critical": N_("kritis"),
             "breached": N_("lewat batas")}
MATCHED_WORDS = {"number": N_("Ditemukan menurut nomor berkas."), "nik": N_("Ditemukan menurut NIK."),
                 "name": N_("Ditemukan menurut nama pemohon.")}


@bp.get("/files")
@permission_required(may_read_files)
def index() -> ResponseReturnValue:
    c = container()
    error = None
    db = request_session()
    try:
        query = FileQuery.from_args(request.args)
        page = search_files(db, query, calendar=c.calendar, now=c.clock.now())
        # Applicants' names and masked NIKs were shown: a search-result view of personal data (one INSERT).
        record_access_by_numbers(db, current_user.username, [f.file_number for f in page.rows], "search",
                                 client_address(), c.clock.now())
    except SearchInvalid as exc:
        error = exc
        query = FileQuery(text=(request.args.get("q") or "")[:200])
        page = None
    return render_template("files/list.html", query=query, page=page, error=error,
                           error_text=gettext(error.reason, **error.params) if error else "",
                           file_states=FILE_STATES, sla_states=STATES, sla_words=SLA_WORDS, state_words=STATUS_WORDS,
                           matched_words=MATCHED_WORDS, mask_nik=mask_nik, now=c.clock.now()), 400 if error else 200
