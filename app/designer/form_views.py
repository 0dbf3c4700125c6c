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
from app.i18n import gettext, register

register({
    "Formulir isian": "Forms",
    "Formulir baru": "New form",
    "Nama berkas": "File name",
    "Judul": "Title",
    "Sumber": "Source",
    "repositori": "repository",
    "disimpan v{n} oleh {who}": "saved v{n} by {who}",
    "Ubah formulir": "Edit form",
    "Skema JSON": "JSON Schema",
    "Pratinjau (seperti yang dilihat petugas)": "Preview (as officers see it)",
    "Simpan formulir": "Save form",
    "Formulir {name} disimpan (versi {n}).": "Form {name} saved (version {n}).",
    "Formulir disimpan di basis data dan langsung dipakai; jalankan ptsp export-definitions untuk menuliskannya ke forms/.":
        "Saved forms are stored in the database and used at once; run ptsp export-definitions to write them to forms/.",
    "Periksa skema: belum ada yang disimpan.": "Check the schema: nothing has been saved.",
})

# The visual form builder's texts (app/static/designer/form_builder.js asks for them by their Indonesian text).
BUILDER_TEXTS = {
    "Pembuat formulir": "Form builder",
    "Tambah, urutkan dan ubah isian dengan mengeklik; skema JSON di bawah ditulis otomatis dan tetap dapat diubah langsung.":
        "Add, order and edit fields by clicking; the JSON Schema below is written for you and can still be edited directly.",
    "Judul formulir": "Form title",
    "(bebas)": "(free text)",
    "Batas terendah lebih besar dari batas tertinggi.": "The lower limit is above the upper limit.",
    "Belum ada isian.": "No fields yet.",
    "Bentuk isian": "Input format",
    "Dipakai proses dan laporan; ubah hanya bila perlu.": "Used by the process and reports; change it only if needed.",
    "Hanya bilangan bulat": "Whole numbers only",
    "Hapus": "Remove",
    "Isi angka yang sah.": "Enter a valid number.",
    "Isian baru": "New field",
    "Isian ini memakai susunan yang hanya dapat diubah di JSON.":
        "This field uses a construct that can only be edited in the JSON.",
    "Jenis isian baru": "Type of the new field",
    "Jenis isian": "Field type",
    "Keterangan (bantuan di bawah isian)": "Description (help under the field)",
    "Label (seperti yang dibaca petugas)": "Label (as officers read it)",
    "Label pilihan": "Choice label",
    "Naikkan": "Move up",
    "Nama data (kunci)": "Data name (key)",
    "Nama data ini sudah dipakai.": "This data name is already used.",
    "Nama data: huruf kecil, angka dan _ (diawali huruf).":
        "Data name: lower-case letters, digits and _ (starting with a letter).",
    "Nilai terbesar": "Largest value",
    "Nilai terkecil": "Smallest value",
    "Nilai tersimpan pilihan": "Stored value of choice",
    "Panjang paling banyak (karakter)": "Longest (characters)",
    "Panjang paling sedikit (karakter)": "Shortest (characters)",
    "Pembuat formulir menunggu sampai JSON di bawah kembali sah.": "The form builder waits until the JSON below is valid again.",
    "Pilihan 1": "Choice 1",
    "Pilihan": "Choice",
    "Pola (ekspresi reguler)": "Pattern (regular expression)",
    "Pola ini bukan ekspresi reguler yang sah.": "This pattern is not a valid regular expression.",
    "Pola sendiri…": "Own pattern…",
    "Tambah isian ke kelompok": "Add a field to the group",
    "Tambah isian": "Add field",
    "Tambah pilihan": "Add choice",
    "Tulis juga penjelasannya di Keterangan: itulah yang dibaca petugas bila isian tidak cocok.":
        "Also explain it in the description: that is what officers read when a value does not match.",
    "Turunkan": "Move down",
    "Tutup": "Close",
    "Ubah": "Edit",
    "Wajib diisi": "Required",
    "wajib": "required",
    "Teks singkat": "Short text",
    "Teks panjang": "Long text",
    "Angka": "Number",
    "Tanggal": "Date",
    "Surel": "Email",
    "Ya/tidak": "Yes/no",
    "Berkas unggahan": "File upload",
    "Kelompok isian": "Group of fields",
    "Lainnya (ubah di JSON)": "Other (edit in the JSON)",
    "Kode pos: 5 digit angka": "Postcode: 5 digits",
    "NIK: 16 digit angka": "NIK: 16 digits",
    "Nomor telepon: 8 sampai 15 digit": "Phone number: 8 to 15 digits",
    "Angka saja": "Digits only",
    "Nomor polisi kendaraan": "Vehicle registration number",
}
register(BUILDER_TEXTS)


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
