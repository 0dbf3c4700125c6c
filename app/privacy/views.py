"""Administrators' view of the personal data access log: per file and per officer."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from app.auth.security import permission_required
from app.db import request_session
from app.i18n import N_
from app.privacy.services import access_log, accesses_by_officer
from app.web.nav import add_admin_page

bp = Blueprint("privacy", __name__)


WHAT_WORDS = {"file_page": N_("halaman berkas"), "task_page": N_("halaman tugas"), "attachment": N_("lampiran"),
              "nik": N_("NIK lengkap"), "search": N_("daftar/pencarian")}

_admin_required = permission_required(lambda user: user.role == "admin")
add_admin_page("privacy.access_log_page", "Akses data pribadi", order=95)


@bp.get("/admin/personal-data")
@_admin_required
def access_log_page() -> ResponseReturnValue:
    file_number = (request.args.get("file") or "").strip()[:40] or None
    actor = (request.args.get("officer") or "").strip()[:100] or None
    db = request_session()
    return render_template("admin/personal_data.html", rows=access_log(db, file_number=file_number, actor=actor),
                           officers=accesses_by_officer(db), file_number=file_number or "", actor=actor or "",
                           what_words=WHAT_WORDS)

