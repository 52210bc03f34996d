from __future__ import annotations

import json
from pathlib import Path

import click
from flask_babel import gettext as _

from certify.catalog.services import get_trade
from certify.cohorts import services
from certify.cohorts.photos import import_photos
from certify.core.cli import DomainGroup, fail
from certify.core.tables import UnusableFile
from certify.extensions import db

cohorts_cli = DomainGroup("cohorts", help="Training classes and their rosters.")


@cohorts_cli.command("create")
@click.option("--trade", "trade_code", required=True)
@click.option("--level", type=int, default=None, help="5..1; leave out for a 专项 trade.")
@click.option("--name", required=True)
@click.option("--capacity", type=int, default=None)
def create_command(trade_code, level, name, capacity):
    """Create a class and print its id."""
    trade = get_trade(trade_code)
    cohort = services.create_cohort(trade, services.CohortData(name, level, capacity))
    click.echo(cohort.id)


@cohorts_cli.command("enroll")
@click.argument("cohort_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check only; enrol nobody.")
def enroll_command(cohort_id: int, path: Path, dry_run: bool):
    """Enrol a roster (xlsx or CSV, UTF-8 or GBK): all rows or none."""
    try:
        cohort = services.get_cohort(cohort_id)
        report = services.enrol_roster(cohort, path.name, path.read_bytes(), dry_run=dry_run)
    except UnusableFile as exc:
        db.session.rollback()
        fail(f"{exc.filename}: {exc.message}")
    click.echo(f"rows: {len(report.rows)}")
    click.echo(f"enrolled: {report.enrolled}")
    click.echo(f"new accounts: {report.new_accounts}")
    click.echo(f"linked accounts: {report.linked_accounts}")
    click.echo(f"already enrolled: {len(report.already)}")
    click.echo(f"problems: {len(report.problems)}")
    for problem in report.problems:
        click.echo(f"  {problem}")
    for warning in report.warnings:
        click.echo(f"  note: {warning}")
    if report.saved:
        db.session.commit()
    else:
        db.session.rollback()
        click.echo(
            "dry run: nobody enrolled" if dry_run and not report.problems else "nobody enrolled"
        )
    if report.problems:
        raise SystemExit(1)


@cohorts_cli.command("slips")
@click.argument("cohort_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def slips_command(cohort_id: int, output: Path):
    """Write the class's login slips as a PDF, one page per worker."""
    from flask import current_app

    from certify.cohorts.slips import render_login_slips

    cohort = services.get_cohort(cohort_id)
    slips = services.cohort_slips(cohort, current_app.config["BASE_URL"] + "/login")
    if not slips:
        fail("the class has nobody enrolled")
    output.write_bytes(render_login_slips(slips, title=cohort.name))
    click.echo(f"{len(slips)} slips written to {output}")


@cohorts_cli.command("photos")
@click.argument("cohort_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check only; store nothing.")
def photos_command(cohort_id: int, path: Path, dry_run: bool):
    """Store the class's photos from a ZIP, each named by its worker's ID number: all or none."""
    cohort = services.get_cohort(cohort_id)
    try:
        report = import_photos(cohort, path.name, path.read_bytes(), dry_run=dry_run)
    except UnusableFile as exc:
        fail(f"{exc.filename}: {exc.message}")
    for problem in report.problems:
        click.echo(problem)
    for name in report.skipped:
        click.echo(_("%(file)s: not a photo, left out.", file=name))
    if report.without_photo:
        click.echo(
            _("Still without a photo: %(names)s", names="、".join(report.without_photo[:50]))
        )
    if report.problems:
        db.session.rollback()
        fail(_("No photo stored: %(n)d problems.", n=len(report.problems)))
    if dry_run:
        click.echo(_("Dry run: %(n)d photos would be stored.", n=report.stored))
        return
    db.session.commit()
    click.echo(_("%(n)d photos stored.", n=report.stored))
    click.echo(json.dumps({"stored": report.stored, "without_photo": len(report.without_photo)}))
