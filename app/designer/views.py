"""The designer's pages: processes and versions, the BPMN modeler, forms, migration.

Only users with the designer role may open them (officers get 403; anonymous users
are sent to sign in). Views parse input, call one service and commit once.
"""
from __future__ import annotations

import re
from typing import Any

import click
from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.audit.services import entries_for, recent
from app.auth.lanes import LANES
from app.auth.security import commit, request_session, role_required
from app.container import container
from app.designer import services
from app.designer.bpmn_texts import BPMN_INDONESIAN
from app.designer.validation import ESCALATION_ROLES, validate_diagram
from app.desk.services import may_view_heat
from app.engine.errors import ConcurrentUpdate, NotFound
from app.forms import builder as form_services
from app.forms.builder import FormInvalid
from app.forms.registry import FormNotFound
from app.i18n import current_language, gettext, ngettext, register
from app.web.nav import add_nav

# cli_group=None: `ptsp export-definitions`, not `ptsp designer export-definitions`.
bp = Blueprint("designer", __name__, url_prefix="/designer", cli_group=None)

register({
    "Perancangan proses": "Process design",
    "Proses": "Processes",
    "Versi": "Versions",
    "versi {n}": "version {n}",
    "Dipasang oleh": "Deployed by",
    "Dipasang": "Deployed",
    "Berkas berjalan": "Running files",
    "{n} berkas berjalan": "{n} running files",
    "Belum ada proses yang dipasang.": "No process has been deployed yet.",
    "Buka di pemodel": "Open in the modeler",
    "Rincian": "Details",
    "Draf": "Drafts",
    "Proses baru": "New process",
    "ID proses": "Process id",
    "Nama proses": "Process name",
    "Buat": "Create",
    "ID proses: huruf kecil, angka dan _ (diawali huruf).":
        "Process id: lower-case letters, digits and _ (starting with a letter).",
    "Formulir": "Forms",
    "Catatan perubahan": "Change log",
    "Belum ada catatan.": "Nothing recorded yet.",
    "Waktu": "When",
    "Oleh": "By",
    "Tindakan": "Action",
    "Keterangan": "Detail",
    "Pemodel BPMN": "BPMN modeler",
    "Buka proses": "Open a process",
    "Perpindahan berkas antarversi": "Files moved between versions",
    "Belum ada berkas yang dipindahkan.": "No file has been moved yet.",
    "Dari versi": "From version",
    # the facts of a step that a deploy changed (designer/_audit.html)
    "jalur": "lane", "formulir": "form", "tenggat": "due time", "nama": "name", "properti": "properties",
    "Ini tugas biasa: mesin alur kerja tidak memberikannya kepada petugas mana pun, "
    "jadi tidak ada jalur, formulir atau tenggat untuk diatur.":
        "This is a plain task: the workflow engine gives it to no officer, so there is no lane, form or due time to set.",
    "Jadikan tugas pengguna": "Make it a user task",
    "Simpan draf": "Save draft",
    "Periksa": "Validate",
    "Pasang": "Deploy",
    "Unduh .bpmn": "Download .bpmn",
    "Unggah .bpmn": "Upload .bpmn",
    "Properti langkah": "Step properties",
    "Pilih tugas pengguna pada diagram untuk mengatur jalur, formulir dan tenggatnya.":
        "Select a user task in the diagram to set its lane, form and due time.",
    "Jalur (peran)": "Lane (role)",
    "Tenggat langkah (hari kerja)": "Step due time (working days)",
    "Pemisahan tugas: tidak boleh dikerjakan orang yang sama dengan": "Segregation of duties: not by the same person as",
    "Peran eskalasi": "Escalation role",
    "Menunggu pemohon (jam layanan berhenti)": "Waiting on the applicant (the service clock stops)",
    "manajer": "manager",
    "Diagram belum memiliki kolam (pool); tambahkan dulu untuk membuat jalur.":
        "The diagram has no pool yet; add one to create lanes.",
    "(tidak ada)": "(none)",
    "Hasil pemeriksaan": "Validation result",
    "Diagram siap dipasang.": "The diagram is ready to deploy.",
    "{n} masalah ditemukan; perbaiki yang ditandai pada diagram.": "{n} problems found; fix those marked in the diagram.",
    "Draf disimpan.": "Draft saved.",
    "Versi {n} dipasang.": "Version {n} deployed.",
    "Tidak ada perubahan; versi {n} tetap yang terbaru.": "Nothing changed; version {n} stays the latest.",
    "Diagram tidak dapat dibuka.": "The diagram could not be opened.",
    "Permintaan gagal": "The request failed",
    "berkas": "file",
    "Pindahkan berkas berjalan": "Move running files",
    "Pilih berkas, lalu periksa dulu (uji coba) sebelum memindahkan.": "Choose files, then check (dry run) before moving them.",
    "Ke versi": "To version",
    "Uji coba": "Dry run",
    "Pindahkan yang dapat dipindah": "Move the movable ones",
    "Nomor berkas": "File number",
    "Langkah terbuka": "Open steps",
    "Status": "Status",
    "Dapat dipindah": "Can move",
    "Tetap di versi {n}": "Stays on version {n}",
    "Tidak ada berkas yang berjalan.": "No file is running.",
    "{n} berkas dipindahkan ke versi {v}.": "{n} files moved to version {v}.",
    "{n} berkas tetap di versinya.": "{n} files stay on their version.",
    "Pilih sekurang-kurangnya satu berkas.": "Choose at least one file.",
    "Langkah \"{title}\" ({step}) sedang berjalan tetapi tidak ada di versi {v}.":
        "Step \"{title}\" ({step}) is current but does not exist in version {v}.",
    "Langkah \"{title}\" ({step}) yang sudah selesai tidak ada lagi di diagram versi {v}.":
        "Completed step \"{title}\" ({step}) is no longer in the diagram of version {v}.",
    "Langkah \"{title}\" ({step}) yang dibatalkan tidak ada lagi di diagram versi {v}.":
        "Cancelled step \"{title}\" ({step}) is no longer in the diagram of version {v}.",
    "Langkah \"{title}\" ({step}) yang sedang berjalan berubah jenis di versi {v}.":
        "Current step \"{title}\" ({step}) is of another kind in version {v}.",
    "Peristiwa batas langkah \"{title}\" ({step}) yang sedang berjalan berubah di versi {v}.":
        "The boundary events of current step \"{title}\" ({step}) change in version {v}.",
    "Sub-proses \"{title}\" yang berjalan tidak ada di versi {v}.":
        "Running sub-process \"{title}\" does not exist in version {v}.",
    "Langkah rencana \"{title}\" ({step}) tidak ada di versi {v}.":
        "Planned step \"{title}\" ({step}) does not exist in version {v}.",
    "Berkas tidak sedang berjalan (berhenti karena galat); jalankan ulang dulu.":
        "The file is not running (stopped on an error); retry it first.",
    "Berkas sudah di versi {v}.": "The file is already on version {v}.",
    "Berkas sedang diubah orang lain; tidak ada yang dipindahkan. Muat ulang dan coba lagi.":
        "Someone else changed a file at the same moment; nothing was moved. Reload and try again.",
    # forms
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

add_nav("designer.index", "Perancangan proses", lambda user: user is not None and user.has_role("designer"), order=60)

_PROCESS_ID = re.compile(r"^[a-z][a-z0-9_]{1,99}$")


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def _actor() -> str:
    return str(current_user.username)


# ---------------------------------------------------------------------------
@bp.get("")
@role_required("designer")
def index() -> ResponseReturnValue:
    db = request_session()
    return render_template("designer/index.html", processes=services.process_overview(db),
                           audit=recent(db, 15))


@bp.get("/processes/<process_id>")
@role_required("designer")
def process(process_id: str) -> ResponseReturnValue:
    db = request_session()
    summary = next((s for s in services.process_overview(db) if s.process_id == process_id), None)
    if summary is None:
        abort(404)
    return _process_page(process_id, summary, plan=None, selected=set(), migrated=False)


def _process_page(process_id: str, summary: services.ProcessSummary, plan: services.MigrationPlan | None,
                  selected: set[int], migrated: bool) -> ResponseReturnValue:
    db = request_session()
    checks = {f.instance.id: check for f, check in plan.checks} if plan else {}
    return render_template("designer/process.html", summary=summary, files=services.running_files(db, process_id),
                           drafts=services.drafts_of(db, process_id), plan=plan, checks=checks, selected=selected,
                           migrated=migrated, issue_text=issue_text, audit=entries_for(db, ("process", process_id)),
                           migrations=services.migrations_of(db, process_id))


@bp.post("/processes/<process_id>/migration")
@role_required("designer")
def migration(process_id: str) -> ResponseReturnValue:
    db = request_session()
    c = container()
    summary = next((s for s in services.process_overview(db) if s.process_id == process_id), None)
    if summary is None or not summary.versions:
        abort(404)
    chosen = [int(v) for v in request.form.getlist("instance") if v.isdigit() and len(v) < 10]
    target = _int_or_none(request.form.get("target_version")) or summary.latest.version
    if not chosen:
        flash(gettext("Pilih sekurang-kurangnya satu berkas."), "error")
        return redirect(url_for("designer.process", process_id=process_id))
    try:
        if request.form.get("action") == "migrate":
            plan = services.migrate_files(db, c.runtime, process_id, chosen, target, _actor(), c.clock)
            commit()
            flash(ngettext("{n} berkas dipindahkan ke versi {v}.", "{n} berkas dipindahkan ke versi {v}.",
                           len(plan.movable), v=target), "success")
            if plan.staying:
                flash(ngettext("{n} berkas tetap di versinya.", "{n} berkas tetap di versinya.", len(plan.staying)), "error")
        else:
            plan = services.plan_migration(db, c.runtime, process_id, chosen, target)
            db.rollback()  # a dry run writes nothing
    except (services.DesignerError, NotFound) as exc:
        db.rollback()
        flash(str(exc), "error")
        return redirect(url_for("designer.process", process_id=process_id))
    except ConcurrentUpdate:
        db.rollback()
        flash(gettext("Berkas sedang diubah orang lain; tidak ada yang dipindahkan. Muat ulang dan coba lagi."), "error")
        return redirect(url_for("designer.process", process_id=process_id))
    summary = next(s for s in services.process_overview(db) if s.process_id == process_id)
    return _process_page(process_id, summary, plan, set(chosen), migrated=request.form.get("action") == "migrate")


def issue_text(issue: Any, version: int) -> str:
    """A migration issue in the interface's language."""
    texts = {
        "current_missing": "Langkah \"{title}\" ({step}) sedang berjalan tetapi tidak ada di versi {v}.",
        "completed_missing": "Langkah \"{title}\" ({step}) yang sudah selesai tidak ada lagi di diagram versi {v}.",
        "cancelled_missing": "Langkah \"{title}\" ({step}) yang dibatalkan tidak ada lagi di diagram versi {v}.",
        "current_kind_changed": "Langkah \"{title}\" ({step}) yang sedang berjalan berubah jenis di versi {v}.",
        "boundary_changed": "Peristiwa batas langkah \"{title}\" ({step}) yang sedang berjalan berubah di versi {v}.",
        "subprocess_missing": "Sub-proses \"{title}\" yang berjalan tidak ada di versi {v}.",
        "not_running": "Berkas tidak sedang berjalan (berhenti karena galat); jalankan ulang dulu.",
        "same_version": "Berkas sudah di versi {v}.",
    }
    template = texts.get(issue.kind)
    if template is None or (issue.kind == "planned_missing" and not issue.step):
        return str(issue.message)
    return gettext(template, title=issue.title, step=issue.step, v=version)


# ---------------------------------------------------------------------------
# The modeler
@bp.get("/modeler")
@role_required("designer")
def modeler() -> ResponseReturnValue:
    db = request_session()
    c = container()
    process_id = request.args.get("process", "")
    version = _int_or_none(request.args.get("version"))
    draft_id = _int_or_none(request.args.get("draft"))
    base_version: int | None = None
    title = process_id
    if not process_id and not draft_id and not request.args.get("name"):
        # The bare address (as the README gives it): choose a process to open or start a new one.
        return render_template("designer/modeler_start.html", processes=services.process_overview(db))
    try:
        if draft_id:
            draft = services.get_draft(db, draft_id)
            xml_url = url_for("designer.draft_xml", draft_id=draft.id)
            process_id, base_version = draft.process_id, draft.base_version
            source = gettext("Draf") + f" #{draft.id}"
        elif process_id and (version or not request.args.get("name")):
            definition = (services.get_version(db, process_id, version) if version
                          else services.get_version(db, process_id, _latest_version(process_id)))
            xml_url = url_for("designer.definition_xml", definition_id=definition.id)
            base_version = definition.version
            title = definition.name
            source = gettext("versi {n}", n=definition.version)
        else:
            name = (request.args.get("name") or "").strip()[:200]
            if not _PROCESS_ID.match(process_id) or not name:
                flash(gettext("ID proses: huruf kecil, angka dan _ (diawali huruf)."), "error")
                return redirect(url_for("designer.index"))
            if any(s.process_id == process_id and s.versions for s in services.process_overview(db)):
                return redirect(url_for("designer.modeler", process=process_id))  # it exists: edit it
            xml_url = url_for("designer.blank_xml", process=process_id, name=name)
            title, source = name, gettext("Proses baru")
    except NotFound:
        abort(404)
    lang = current_language()
    config = {
        "xmlUrl": xml_url,
        "draftUrl": url_for("designer.save_draft"),
        "validateUrl": url_for("designer.validate"),
        "deployUrl": url_for("designer.deploy"),
        "processUrl": url_for("designer.process", process_id="__ID__"),
        "baseVersion": base_version,
        "processId": process_id,
        "maxBytes": c.settings.max_bpmn_bytes,
        "lanes": [{"key": key, "label": labels[lang]} for key, labels in LANES.items()],
        "escalationRoles": [{"key": key, "label": labels[lang]} for key, labels in LANES.items()]
        + [{"key": role, "label": gettext("manajer")} for role in ESCALATION_ROLES],
        "forms": sorted(c.forms.names()),
        "bpmnTexts": BPMN_INDONESIAN if lang == "id" else {},  # bpmn-js's palette and context pad
        "texts": {key: gettext(key) for key in (
            "Diagram siap dipasang.", "Draf disimpan.", "Diagram tidak dapat dibuka.", "Permintaan gagal",
            "(tidak ada)", "Pilih tugas pengguna pada diagram untuk mengatur jalur, formulir dan tenggatnya.")},
        "noPool": gettext("Diagram belum memiliki kolam (pool); tambahkan dulu untuk membuat jalur."),
        # The page fills {n}: it gets the English for one problem and for more.
        "problemText": ngettext("{n} masalah ditemukan; perbaiki yang ditandai pada diagram.",
                                "{n} masalah ditemukan; perbaiki yang ditandai pada diagram.", 1, n="{n}"),
        "problemsText": ngettext("{n} masalah ditemukan; perbaiki yang ditandai pada diagram.",
                                 "{n} masalah ditemukan; perbaiki yang ditandai pada diagram.", 2, n="{n}"),
        "deployedText": gettext("Versi {n} dipasang.", n="{n}"),
        "versionText": gettext("versi {n}", n="{n}"),
        "unchangedText": gettext("Tidak ada perubahan; versi {n} tetap yang terbaru.", n="{n}"),
    }
    # The heat map over the diagram: for a deployed procedure, to those who may read the office's figures.
    heat_url = (url_for("desk.heat", process_id=process_id)
                if process_id in c.catalogue.entries and may_view_heat(current_user) else None)
    return render_template("designer/modeler.html", config=config, title=title, source=source,
                           process_id=process_id, heat_url=heat_url)


def _latest_version(process_id: str) -> int:
    summary = next((s for s in services.process_overview(request_session()) if s.process_id == process_id), None)
    if summary is None or not summary.versions:
        raise NotFound(process_id)
    return summary.latest.version


def _xml_response(xml: str, filename: str) -> Response:
    response = Response(xml, mimetype="application/xml")
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/definitions/<int:definition_id>/diagram.bpmn")
@role_required("designer")
def definition_xml(definition_id: int) -> ResponseReturnValue:
    try:
        definition = services.get_definition(request_session(), definition_id)
    except NotFound:
        abort(404)
    stem = definition.source_name.removesuffix(".bpmn") if services.SOURCE_NAME.match(definition.source_name) \
        else definition.process_id
    return _xml_response(definition.bpmn_xml, f"{stem}-v{definition.version}.bpmn")


@bp.get("/drafts/<int:draft_id>/diagram.bpmn")
@role_required("designer")
def draft_xml(draft_id: int) -> ResponseReturnValue:
    try:
        draft = services.get_draft(request_session(), draft_id)
    except NotFound:
        abort(404)
    return _xml_response(draft.xml, f"{draft.process_id}-draft-{draft.id}.bpmn")


@bp.get("/blank.bpmn")
@role_required("designer")
def blank_xml() -> ResponseReturnValue:
    process_id = request.args.get("process", "")
    if not _PROCESS_ID.match(process_id):
        abort(400)
    return _xml_response(services.blank_diagram(process_id, (request.args.get("name") or process_id)[:200]),
                         f"{process_id}.bpmn")


def _posted_xml() -> tuple[bytes, dict[str, Any]]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str):
        abort(400)
    return body["xml"].encode("utf-8"), body


@bp.post("/drafts")
@role_required("designer")
def save_draft() -> ResponseReturnValue:
    xml, body = _posted_xml()
    c = container()
    base = body.get("base_version")
    try:
        draft = services.save_draft(request_session(), xml, _actor(), c.clock,
                                    base_version=base if isinstance(base, int) else None,
                                    max_bytes=c.settings.max_bpmn_bytes)
        commit()
    except services.DesignerError as exc:
        return jsonify(ok=False, error=str(exc)), 422
    return jsonify(ok=True, id=draft.id, process_id=draft.process_id,
                   url=url_for("designer.modeler", draft=draft.id), message=gettext("Draf disimpan."))


@bp.post("/validate")
@role_required("designer")
def validate() -> ResponseReturnValue:
    xml, _ = _posted_xml()
    c = container()
    problems = validate_diagram(xml, "diagram.bpmn", known_forms=c.forms.names(), max_bytes=c.settings.max_bpmn_bytes,
                                broken_forms=c.forms.broken())
    return jsonify(ok=not problems, problems=problems)


@bp.post("/deploy")
@role_required("designer")
def deploy() -> ResponseReturnValue:
    xml, _ = _posted_xml()
    c = container()
    db = request_session()
    result = services.deploy_from_designer(db, xml, _actor(), c.clock, c.forms, c.settings.max_bpmn_bytes)
    if result.problems:
        db.rollback()
        return jsonify(ok=False, problems=result.problems), 422
    commit()
    return jsonify(ok=True, problems=[], outcomes=[
        {"process_id": o.process_id, "version": o.version, "created": o.created, "note": o.note,
         "url": url_for("designer.process", process_id=o.process_id)} for o in result.outcomes])


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
        text = request.form.get("schema", "")
        form_name = (request.form.get("name") or "").strip() if is_new else str(name)
        try:
            row = form_services.save_form(db, c.forms, form_name, text, _actor(), c.clock, new=is_new)
            commit()
        except FormInvalid as exc:
            db.rollback()
            errors = exc.errors
        else:
            _invalidate_saved_forms()
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
    schema, fields, errors = _preview(request.form.get("schema", ""))
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


# ---------------------------------------------------------------------------
@bp.cli.command("export-definitions", help="Write the latest version of each process to processes/ and "
                                            "browser-saved forms to forms/ (atomically).")
def export_definitions_command() -> None:
    c = container()
    with c.db.unit_of_work() as session:
        outcomes = services.export_definitions(session, c.settings.processes_dir, c.settings.forms_dir)
    for o in outcomes:
        click.echo(f"{o.status:<9}  {o.path}  ({o.detail})")
