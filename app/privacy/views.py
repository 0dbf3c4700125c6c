"""Administrators' view of the personal data access log: per file and per officer."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from app.auth.security import permission_required
from app.db import request_session
from app.i18n import register
from app.privacy.services import access_log, accesses_by_officer
from app.web.nav import add_nav

bp = Blueprint("privacy", __name__)

register({
    "Akses data pribadi": "Personal data access",
    "Setiap tampilan data pribadi pemohon dicatat (UU 27/2022): siapa, kapan, berkas mana, dari alamat mana.":
        "Every view of an applicant's personal data is logged (UU 27/2022): who, when, which file, from where.",
    "Nomor berkas": "File number",
    "Petugas": "Officer",
    "Saring": "Filter",
    "Per petugas": "Per officer",
    "Jumlah akses": "Views",
    "Terakhir": "Last",
    "Waktu": "When",
    "Yang dilihat": "What was seen",
    "Alamat IP": "IP address",
    "Keterangan": "Detail",
    "Belum ada akses tercatat.": "No access recorded yet.",
    "halaman berkas": "file page",
    "halaman tugas": "task page",
    "lampiran": "attachment",
    "NIK lengkap": "full NIK",
    "daftar/pencarian": "list/search results",
})

WHAT_WORDS = {"file_page": "halaman berkas", "task_page": "halaman tugas", "attachment": "lampiran",
              "nik": "NIK lengkap", "search": "daftar/pencarian"}

_admin_required = permission_required(lambda user: user.role == "admin")
add_nav("privacy.access_log_page", "Akses data pribadi", lambda user: user is not None and user.role == "admin", order=95)


@bp.get("/admin/personal-data")
@_admin_required
def access_log_page() -> ResponseReturnValue:
    file_number = (request.args.get("file") or "").strip()[:40] or None
    actor = (request.args.get("officer") or "").strip()[:100] or None
    db = request_session()
    return render_template("admin/personal_data.html", rows=access_log(db, file_number=file_number, actor=actor),
                           officers=accesses_by_officer(db), file_number=file_number or "", actor=actor or "",
                           what_words=WHAT_WORDS)

