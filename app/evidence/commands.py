"""``ptsp audit verify``, ``ptsp audit anchor``, ``ptsp sign-check`` and ``ptsp retention``."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.container import container


@click.group("audit", help="The hash-chained file histories and audit log.")
def audit() -> None:
    pass


@audit.command("verify", help="Recompute the chains (and check the signed anchors); exit 1 on any break.")
@click.option("--file", "file_number", default=None, help="Only this file's history.")
@with_appcontext
def verify(file_number: str | None) -> None:
    from app.evidence.keys import office_identity
    from app.evidence.services import check_integrity, notify_administrators, record_check

    c = container()
    with c.db.unit_of_work() as session:
        try:
            report = check_integrity(session, c.settings, office_identity(c.settings), file_number)
        except LookupError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        if file_number is None:
            check = record_check(session, report, c.clock.now())
            notify_administrators(session, check, report)
    for broken in report.breaks:
        click.echo(f"BROKEN  {broken}")
    scope = f"file {file_number}" if file_number else "all chains"
    if report.breaks:
        click.echo(f"{scope}: {len(report.breaks)} broken chain(s) after {report.links} link(s)")
        sys.exit(1)
    anchors = f", {report.anchored_heads} anchored head(s)" if file_number is None else ""
    click.echo(f"{scope}: ok, {report.links} link(s){anchors}")


@audit.command("anchor", help="Publish today's signed anchor of the chain heads under var/anchors/.")
@with_appcontext
def anchor() -> None:
    from app.evidence.anchors import write_anchor
    from app.evidence.keys import office_identity

    c = container()
    with c.db.unit_of_work() as session:
        path = write_anchor(session, c.settings, office_identity(c.settings), c.clock.now())
    click.echo(f"anchor written: {path}")


@click.command("sign-check", help="Verify a signed permit PDF: exit 0 valid, 1 invalid, 2 modified after signing, "
                                  "3 not signed.")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust", "trust", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="PEM file of the CA to trust (default: the office's configured CA).")
@with_appcontext
def sign_check(pdf: Path, trust: Path | None) -> None:
    from app.evidence.keys import office_identity
    from app.evidence.pdfsign import check_pdf

    roots = trust.read_bytes() if trust else office_identity(container().settings).ca_pem()
    result = check_pdf(pdf.read_bytes(), roots)
    click.echo(f"{result.verdict.upper()}: {result.summary}")
    sys.exit(result.exit_code)


@click.command("retention", help="Remove the attachments of files closed longer than the retention period.")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@with_appcontext
def retention(dry_run: bool) -> None:
    from app.privacy.retention import apply_retention, delete_removed_bytes

    c = container()
    with c.db.unit_of_work() as session:
        outcome = apply_retention(session, c.settings, c.clock.now(), dry_run=dry_run)
    delete_removed_bytes(outcome)  # after the commit: a failed run never loses a document the rows still name
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {outcome.attachments} attachment(s) of {outcome.files} file(s) closed before "
               f"{outcome.cutoff:%Y-%m-%d}")


COMMANDS = (audit, sign_check, retention)
