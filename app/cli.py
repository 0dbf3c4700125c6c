"""Command-line operations (``ptsp ...`` or ``flask --app app ...``).

Each command is one unit of work: it calls services and commits once.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from app.auth.lanes import LANES
from app.auth.services import UserError, create_user, get_user
from app.container import Container, container
from app.engine.definitions import deploy_directory, list_definitions
from app.errors import DomainError
from app.files.services import file_state, open_file
from app.forms.check import FormBroken
from app.sla.services import assign_manager
from app.worklist.completion import FormInvalid
from app.worklist.completion import complete_task as complete_task_service
from app.worklist.queries import open_tasks
from app.worklist.rules import get_task_for

DEMO_PASSWORD = "demo-ptsp-2026"  # noqa: S105 (printed on purpose: demo logins of `make run`)
DEMO_MAIL_DOMAIN = "ptsp.example"  # a reserved domain: demo mail goes to var/mail/ unless SMTP is set
DEMO_USERS = [
    ("loket", "Sri Wahyuni", "officer", ["front_office"]),
    ("verifikator", "Bambang Sutrisno", "officer", ["verifier"]),
    ("teknis", "Agus Prasetyo", "officer", ["technical_team"]),
    ("kasir", "Dewi Lestari", "officer", ["cashier"]),
    ("kepala", "Ir. Hartono, M.T.", "officer", ["head"]),
    ("manajer", "Retno Wulandari", "manager", []),
    ("perancang", "Yusuf Hidayat", "designer", []),
    ("admin", "Administrator", "admin", []),
]


def register(app: Flask) -> None:
    for command in (migrate, deploy, definitions, create_user_cmd, create_token, seed_demo, start_file, tasks,
                    task_form, complete_task, show_file, fire_timers, retry, report, desk_rollup, issue_missing_permits_cmd):
        app.cli.add_command(command)
    app.cli.add_command(attachments_group)
    from app.evidence.commands import COMMANDS as EVIDENCE_COMMANDS

    for command in EVIDENCE_COMMANDS:
        app.cli.add_command(command)


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.command("migrate", help="Apply database migrations up to the latest.")
@with_appcontext
def migrate() -> None:
    from app.migrate import upgrade

    upgrade(container().settings.database_url)
    click.echo("database is at the latest migration")


def deploy_processes(c: Container, actor: str) -> list[Any]:
    # The designer's validation: the CLI refuses exactly what the designer's deploy refuses.
    from app.designer.validation import diagram_validator

    with c.db.unit_of_work() as session:
        return deploy_directory(session, c.settings.processes_dir, actor, c.clock, c.forms.names(),
                                validator=diagram_validator(c.forms.names, c.settings.max_bpmn_bytes, c.forms.broken))


@click.command("deploy", help="Deploy every diagram in processes/ as a versioned definition. Broken forms and "
                              "diagrams are reported on stderr and skipped; the good ones are deployed. Exit status: "
                              "0 all deployed, 2 some refused (the rest deployed), 1 nothing could be deployed.")
@click.option("--as", "actor", default="cli", show_default=True)
@with_appcontext
def deploy(actor: str) -> None:
    c = container()
    broken_forms = c.forms.broken()
    for name, reason in broken_forms.items():
        click.echo(f"FORM REFUSED  {name}: {reason}", err=True)
    outcomes = deploy_processes(c, actor)
    failed = [o for o in outcomes if o.error]
    for o in outcomes:
        if o.error:
            click.echo(f"FAILED     {o.error}", err=True)
        else:
            click.echo(f"{'deployed ' if o.created else 'unchanged'}  {o.process_id} v{o.version}  ({o.source_name})"
                       + (f"  note: {o.note}" if o.note else ""))
    if failed or broken_forms:
        good = len(outcomes) - len(failed)
        click.echo(f"WARNING    {len(failed)} diagram(s) and {len(broken_forms)} form(s) refused; {good} deployed or "
                   "unchanged. /healthz reports them until they are fixed.", err=True)
        sys.exit(2 if good else 1)


@click.command("definitions", help="List deployed process definitions.")
@with_appcontext
def definitions() -> None:
    with container().db.unit_of_work() as session:
        for d, versions in list_definitions(session):
            deployed = f"deployed {d.deployed_at:%Y-%m-%d %H:%M} by {d.deployed_by}"
            click.echo(f"{d.process_id}  v{d.version} of {versions}  {d.name}  {deployed}")


@click.command("create-user", help="Create a user and their lanes.")
@click.argument("username")
@click.option("--name", "full_name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", default="officer", show_default=True)
@click.option("--lane", "lanes", multiple=True, help=f"Repeatable. One of: {', '.join(LANES)}")
@click.option("--email", default=None)
@with_appcontext
def create_user_cmd(username: str, full_name: str, password: str, role: str, lanes: tuple[str, ...],
                    email: str | None) -> None:
    try:
        with container().db.unit_of_work() as session:
            create_user(session, username, full_name, password, role, lanes, email)
    except UserError as exc:
        _fail(str(exc))
    click.echo(f"created {username} ({role}) lanes: {', '.join(lanes) or '-'}")


@click.command("create-token", help="Issue an API token for a user (shown once).")
@click.argument("username")
@click.option("--name", "token_name", required=True, help="What the token is for, e.g. the integration's name.")
@with_appcontext
def create_token(username: str, token_name: str) -> None:
    from app.auth.tokens import issue_token

    c = container()
    try:
        with c.db.unit_of_work() as session:
            plain = issue_token(session, get_user(session, username), token_name, c.clock)
    except UserError as exc:
        _fail(str(exc))
    click.echo(plain)


@click.command("seed-demo", help="Create demo users for every lane (skips existing ones).")
@with_appcontext
def seed_demo() -> None:
    with container().db.unit_of_work() as session:
        for username, name, role, lanes in DEMO_USERS:
            try:
                get_user(session, username)
            except UserError:
                create_user(session, username, name, DEMO_PASSWORD, role, lanes, f"{username}@{DEMO_MAIL_DOMAIN}")
        # Escalations need someone to reach: the demo manager answers for every permit type and lane.
        manager = get_user(session, "manajer")
        if manager.email is None:
            manager.email = f"manajer@{DEMO_MAIL_DOMAIN}"
        assign_manager(session, manager, None, None, "seed-demo", container().clock)
    for username, _, role, lanes in DEMO_USERS:
        click.echo(f"  {username:<12} {DEMO_PASSWORD}  {role:<9} {', '.join(lanes)}")


@click.command("start-file", help="Open an application file and start its procedure.")
@click.option("--process", "process_id", default="building_permit", show_default=True)
@click.option("--applicant", required=True)
@click.option("--as", "actor", required=True)
@with_appcontext
def start_file(process_id: str, applicant: str, actor: str) -> None:
    c = container()
    try:
        with c.db.unit_of_work() as session:
            get_user(session, actor)
            file = open_file(session, c.runtime, c.settings, process_id, applicant, actor)
            number = file.file_number
    except (DomainError, UserError) as exc:
        _fail(str(exc))
    click.echo(f"opened {number}")


@click.command("tasks", help="List open tasks of a user's lanes.")
@click.option("--as", "actor", required=True)
@with_appcontext
def tasks(actor: str) -> None:
    c = container()
    with c.db.unit_of_work() as session:
        try:
            user = get_user(session, actor)
        except UserError as exc:
            _fail(str(exc))
        for t in open_tasks(session, user.lane_names):
            file_number = _file_number(session, t.instance_id)
            click.echo(f"{t.id:>6}  {file_number:<18} {t.lane:<15} {t.title}  (since {t.created_at:%Y-%m-%d %H:%M})")


@click.command("task-form", help="Show the form of a task as JSON Schema.")
@click.argument("task_id", type=int)
@click.option("--as", "actor", required=True)
@with_appcontext
def task_form(task_id: int, actor: str) -> None:
    c = container()
    with c.db.unit_of_work() as session:
        try:
            task = get_task_for(session, task_id, get_user(session, actor))
        except (DomainError, UserError) as exc:
            _fail(str(exc))
        try:
            schema = c.forms.schema(task.form) if task.form else {}
        except FormBroken as exc:
            _fail(f"the form of this step cannot be used: {exc}")
    click.echo(json.dumps({"task": task.id, "title": task.title, "form": task.form, "schema": schema},
                          indent=2, ensure_ascii=False))


@click.command("complete-task", help="Complete a task with JSON data (inline, or @path/to/file.json).")
@click.argument("task_id", type=int)
@click.option("--as", "actor", required=True)
@click.option("--data", "raw", required=True)
@with_appcontext
def complete_task(task_id: int, actor: str, raw: str) -> None:
    c = container()
    try:
        text = Path(raw[1:]).read_text("utf-8") if raw.startswith("@") else raw
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        _fail(f"could not read the data: {exc}")
    try:
        with c.db.unit_of_work() as session:
            user = get_user(session, actor)
            task = complete_task_service(session, c.runtime, c.forms, task_id, data, user)
            title = task.title
    except FormInvalid as exc:
        for e in exc.errors:
            click.echo(f"  {e.field or '(form)'}: {e.message}", err=True)
        _fail("the form has errors; nothing was changed")
    except (DomainError, UserError, FormBroken) as exc:
        _fail(str(exc))
    click.echo(f"completed {task_id} {title}")


@click.command("file", help="Show a file's state, open steps and history.")
@click.argument("file_number")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def show_file(file_number: str, as_json: bool) -> None:
    c = container()
    with c.db.unit_of_work() as session:
        try:
            st = file_state(session, c.runtime, file_number)
        except DomainError as exc:
            _fail(str(exc))
        report: dict[str, Any] = {
            "file_number": st.file.file_number, "applicant": st.file.applicant_name, "status": st.status,
            "error": st.error,
            "open_tasks": [{"id": t.id, "title": t.title, "lane": t.lane} for t in st.open_tasks],
            "history": [{"at": e.at.isoformat(), "kind": e.kind, "task": e.task_name, "actor": e.actor}
                        for e in st.history],
            "data": st.data,
        }
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False, default=str))
        return
    click.echo(f"{report['file_number']}  {report['applicant']}  status: {report['status']}")
    if st.error:
        click.echo(f"error: {st.error}")
    for t in report["open_tasks"]:
        click.echo(f"  open: [{t['id']}] {t['title']} ({t['lane']})")
    for e in report["history"]:
        click.echo(f"  {e['at'][:19]}  {e['kind']:<15} {e['task'] or '':<25} {e['actor']}")


@click.command("fire-timers", help="Fire every timer that is due now.")
@with_appcontext
def fire_timers() -> None:
    from app.engine.timers import fire_due_timers

    fired = fire_due_timers(container())
    click.echo(f"{fired} timer(s) fired")


@click.command("retry", help="Retry the failed step of an instance in error.")
@click.argument("instance_id", type=int)
@click.option("--as", "actor", required=True)
@with_appcontext
def retry(instance_id: int, actor: str) -> None:
    c = container()
    try:
        with c.db.unit_of_work() as session:
            instance = c.runtime.retry(session, instance_id, actor)
            status = instance.status
    except DomainError as exc:
        _fail(str(exc))
    click.echo(f"instance {instance_id} is {status}")


@click.group("attachments", help="Uploaded documents under var/attachments/.")
def attachments_group() -> None:
    pass


@attachments_group.command("sweep", help="Remove uploads of transactions that never committed (after a grace period).")
@click.option("--grace-seconds", type=float, default=None,
              help="Leave staged uploads younger than this (default: PTSP_ATTACHMENT_GRACE_SECONDS).")
@with_appcontext
def sweep_attachments_cmd(grace_seconds: float | None) -> None:
    from datetime import timedelta

    from app.files.storage import sweep_attachments

    c = container()
    grace = timedelta(seconds=c.settings.attachment_grace_seconds if grace_seconds is None else grace_seconds)
    with c.db.unit_of_work() as session:
        report = sweep_attachments(session, c.settings.var_dir, grace)
    click.echo(f"removed {report.removed_staged} staged upload(s) never committed, promoted {report.promoted}, "
               f"removed {report.removed_orphans} unrecorded document(s)")


@click.command("report", help="Write the monthly report (PDF, CSV, XLSX) of a month, e.g. --month 2026-11.")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--out", "out_dir", default="", help="Directory to write to (default: var/reports/<month>/).")
@with_appcontext
def report(month: str, out_dir: str) -> None:
    from app.desk.report import ReportInvalid, build_files
    from app.desk.rollup import refresh_rollups

    c = container()
    refresh_rollups(c)  # the figures as of now, not as of the last beat
    out = Path(out_dir) if out_dir else c.settings.var_dir / "reports" / month.strip()
    try:
        with c.db.unit_of_work() as session:
            paths = build_files(c, session, month, out)
    except ReportInvalid as refused:
        _fail(str(refused))
    for kind, path in paths.items():
        click.echo(f"{kind}: {path}")


@click.command("desk-rollup", help="Bring the dashboard's rollup rows up to date (the beat task, once).")
@with_appcontext
def desk_rollup() -> None:
    from app.desk.rollup import refresh_rollups

    count = refresh_rollups(container())
    click.echo(f"files added {count.files_added}, files finished {count.files_finished}, steps added {count.steps_added}")


@click.command("issue-missing-permits", help="Issue the permits of files signed under an earlier version that never got "
                                             "them (once, after an upgrade; running it again issues nothing more).")
@click.option("--dry-run", is_flag=True, help="Only list what would be issued.")
@with_appcontext
def issue_missing_permits_cmd(dry_run: bool) -> None:
    from zoneinfo import ZoneInfo

    from app.permits.repair import issue_missing_permits

    c = container()
    with c.db.unit_of_work() as session:
        found = issue_missing_permits(session, c.runtime, ZoneInfo(c.settings.timezone), dry_run=dry_run)
    for missing in found:
        click.echo(f"{missing.file_number}: {', '.join(missing.permit_numbers)} (signed {missing.signed_at.isoformat()})")
    permits = sum(len(missing.permit_numbers) for missing in found)
    verb = "would be issued" if dry_run else "issued"
    click.echo(f"{permits} permit(s) {verb} for {len(found)} file(s)" if found else "no file is missing its permits")


def _file_number(session: Any, instance_id: int) -> str:
    from sqlalchemy import select

    from app.files.models import ApplicationFile

    return session.scalar(select(ApplicationFile.file_number).where(ApplicationFile.instance_id == instance_id)) or "-"


def main() -> None:
    from flask.cli import shell_command

    from app import create_command_app
    from app.config import Settings, SettingsError

    try:
        Settings.from_env()
    except SettingsError as exc:  # the same check as every other start, without a traceback
        _fail(str(exc))
    # No `run` or `routes`: the command app has no pages (the web is gunicorn app.wsgi, or `make run`).
    group = FlaskGroup(create_app=lambda: create_command_app(), add_default_commands=False)
    group.add_command(shell_command)
    group(prog_name="ptsp")
