"""The designer's form builder: the list of task forms, editing a form's JSON Schema, the preview."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.auth.security import role_required
from app.container import container
from app.db import after_commit, request_session
from app.designer.blueprint import actor, bp
from app.designer.webforms import FormEditForm
from app.forms import builder as form_services
from app.forms.builder import FormInvalid
from app.forms.registry import FormNotFound
from app.i18n import N_, gettext

# The visual form builder's texts (app/static/designer/form_builder.js asks for them by their Indonesian text).
BUILDER_TEXTS = (
    N_("Pembuat formulir"),
    N_("Tambah, urutkan dan ubah isian dengan mengeklik; skema JSON di bawah ditulis otomatis dan tetap dapat diubah langsung."),
    N_("Judul formulir"),
    N_("(bebas)"),
    N_("Batas terendah lebih besar dari batas tertinggi."),
    N_("Belum ada isian."),
    N_("Bentuk isian"),
    N_("Dipakai proses dan laporan; ubah hanya bila perlu."),
    N_("Hanya bilangan bulat"),
    N_("Hapus"),
    N_("Isi angka yang sah."),
    N_("Isian baru"),
    N_("Isian ini memakai susunan yang hanya dapat diubah di JSON."),
    N_("Jenis isian baru"),
    N_("Jenis isian"),
    N_("Keterangan (bantuan di bawah isian)"),
    N_("Label (seperti yang dibaca petugas)"),
    N_("Label pilihan"),
    N_("Naikkan"),
    N_("Nama data (kunci)"),
    N_("Nama data ini sudah dipakai."),
    N_("Nama data: huruf kecil, angka dan _ (diawali huruf)."),
    N_("Nilai terbesar"),
    N_("Nilai terkecil"),
    N_("Nilai tersimpan pilihan"),
    N_("Panjang paling banyak (karakter)"),
    N_("Panjang paling sedikit (karakter)"),
    N_("Pembuat formulir menunggu sampai JSON di bawah kembali sah."),
    N_("Pilihan 1"),
    N_("Pilihan"),
    N_("Pola (ekspresi reguler)"),
    N_("Pola ini bukan ekspresi reguler yang sah."),
    N_("Pola sendiri…"),
    N_("Tambah isian ke kelompok"),
    N_("Tambah isian"),
    N_("Tambah pilihan"),
    N_("Tulis juga penjelasannya di Keterangan: itulah yang dibaca petugas bila isian tidak cocok."),
    N_("Turunkan"),
    N_("Tutup"),
    N_("Ubah"),
    N_("Wajib diisi"),
    N_("wajib"),
    N_("Teks singkat"),
    N_("Teks panjang"),
    N_("Angka"),
    N_("Tanggal"),
    N_("Surel"),
    N_("Ya/tidak"),
    N_("Berkas unggahan"),
    N_("Kelompok isian"),
    N_("Lainnya (ubah di JSON)"),
    N_("Kode pos: 5 digit angka"),
    N_("NIK: 16 digit angka"),
    N_("Nomor telepon: 8 sampai 15 digit"),
    N_("Angka saja"),
    N_("Nomor polisi kendaraan"),
)


# ---------------------------------------------------------------------------
# Forms
@bp.get("/forms")
@role_required("designer")
def forms() -> ResponseReturnValue:
    return render_template("designer/forms.html", forms=form_services.list_forms(request_session(), container().forms))


@bp.route("/forms/new", methods=["GET", "POST"])
@bp.route("/forms/<name>", methods=["GET", "POST"])
@role_required("designer")
def edit_form(name: str | None = None) -> ResponseReturnValue:
    db = request_session()
    c = container()
    errors: list[str] = []
    is_new = name is None
    if request.method == "POST":
        form = FormEditForm(request.form)
        text = form.schema.data or ""
        form_name = form.name.data if is_new else str(name)
        try:
            row = form_services.save_form(db, c.forms, form_name, text, actor(), c.clock, new=is_new)
        except FormInvalid as exc:
            db.rollback()
            errors = exc.errors
        else:
            after_commit(db, _invalidate_saved_forms)
            flash(gettext("Formulir {name} disimpan (versi {n}).", name=row.name, n=row.version), "success")
            return redirect(url_for("designer.edit_form", name=row.name))
    else:
        form_name = name or ""
        if is_new:
            text = _NEW_FORM
        else:
            try:
                text = form_services.form_text(db, c.forms, form_name)
            except FormNotFound:
                abort(404)
    schema, fields, preview_errors = _preview(text)
    return render_template("designer/form_edit.html", name=form_name, is_new=is_new, text=text, errors=errors,
                           schema=schema, fields=fields, preview_errors=preview_errors,
                           builder_texts={key: gettext(key) for key in BUILDER_TEXTS}), (422 if errors else 200)


@bp.post("/forms/preview")
@role_required("designer")
def form_preview() -> ResponseReturnValue:
    schema, fields, errors = _preview(FormEditForm(request.form).schema.data or "")
    return render_template("designer/_form_preview.html", schema=schema, fields=fields, preview_errors=errors)


def _preview(text: str) -> tuple[dict[str, Any], list[Any], list[str]]:
    try:
        schema, fields = form_services.checked_form(text)
    except FormInvalid as exc:
        return {}, [], exc.errors
    return schema, fields, []


def _invalidate_saved_forms() -> None:
    source = container().forms.overrides
    if isinstance(source, form_services.DatabaseForms):
        source.invalidate()


_NEW_FORM = """{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Judul formulir",
  "type": "object",
  "additionalProperties": false,
  "required": ["catatan"],
  "properties": {
    "catatan": {"title": "Catatan", "type": "string", "maxLength": 2000}
  }
}
"""
