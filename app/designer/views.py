"""The designer's pages: processes and versions, migration of running files, the export command.

Only users with the designer role may open them (officers get 403; anonymous users
are sent to sign in). Views parse input and call one service; the request commits once.
The modeler's pages are in ``modeler_views.py``, the form builder's in ``form_views.py``:
one blueprint (``blueprint.py``), so the endpoints keep their ``designer.*`` names.
"""
from __future__ import annotations

from typing import Any

import click
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.audit.services import entries_for, recent
from app.auth.security import role_required
from app.container import container
from app.db import request_session
from app.designer import form_views, modeler_views, services  # noqa: F401  (form_views, modeler_views: their routes on bp)
from app.designer.blueprint import actor, bp
from app.designer.webforms import MigrationForm
from app.engine.errors import ConcurrentUpdate, NotFound
from app.i18n import N_, gettext, ngettext

__all__ = ["bp"]


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
    form = MigrationForm(request.form)
    if not form.validate():
        abort(400)
    chosen: list[int] = form.instance.data or []
    target = form.target_version.data or summary.latest.version
    migrate = form.action.data == "migrate"
    if not chosen:
        flash(gettext("Pilih sekurang-kurangnya satu berkas."), "error")
        return redirect(url_for("designer.process", process_id=process_id))
    try:
        if migrate:
            plan = services.migrate_files(db, c.runtime, process_id, chosen, target, actor(), c.clock)
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
    return _process_page(process_id, summary, plan, set(chosen), migrated=migrate)


def issue_text(issue: Any, version: int) -> str:
    """A migration issue in the interface's language."""
    texts = {
        "current_missing": N_("Langkah \"{title}\" ({step}) sedang berjalan tetapi tidak ada di versi {v}."),
        "completed_missing": N_("Langkah \"{title}\" ({step}) yang sudah selesai tidak ada lagi di diagram versi {v}."),
        "cancelled_missing": N_("Langkah \"{title}\" ({step}) yang dibatalkan tidak ada lagi di diagram versi {v}."),
        "current_kind_changed": N_("Langkah \"{title}\" ({step}) yang sedang berjalan berubah jenis di versi {v}."),
        "boundary_changed": N_("Peristiwa batas langkah \"{title}\" ({step}) yang sedang berjalan berubah di versi {v}."),
        "subprocess_missing": N_("Sub-proses \"{title}\" yang berjalan tidak ada di versi {v}."),
        "not_running": N_("Berkas tidak sedang berjalan (berhenti karena galat); jalankan ulang dulu."),
        "same_version": N_("Berkas sudah di versi {v}."),
    }
    template = texts.get(issue.kind)
    if template is None or (issue.kind == "planned_missing" and not issue.step):
        return str(issue.message)
    return gettext(template, title=issue.title, step=issue.step, v=version)


# ---------------------------------------------------------------------------
@bp.cli.command("export-definitions", help="Write the latest version of each process to processes/ and "
                                            "browser-saved forms to forms/ (atomically).")
def export_definitions_command() -> None:
    c = container()
    with c.db.unit_of_work() as session:
        outcomes = services.export_definitions(session, c.settings.processes_dir, c.settings.forms_dir)
    for o in outcomes:
        click.echo(f"{o.status:<9}  {o.path}  ({o.detail})")
