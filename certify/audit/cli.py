from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from certify.audit import export, services
from certify.audit.chain import verify_chain
from certify.core.cli import fail
from certify.extensions import db

audit_cli = AppGroup("audit", help="The audit trail: check its hash chain, export it.")


@audit_cli.command("verify")
@click.option(
    "--expect-last",
    metavar="HASH",
    help="A last hash printed by an earlier run: fails if the trail no longer contains it "
    "(the only way to notice that the newest entries were deleted).",
)
def verify_command(expect_last: str | None) -> None:
    """Walk the whole trail; exit 0 when the chain is intact, 1 where it breaks.

    Keep the printed last hash outside the database (a signed minute, an e-mail) and pass it
    back with --expect-last next time.
    """
    report = verify_chain(expect_last=expect_last)
    db.session.rollback()
    if not report.ok:
        fail(report.describe())
    click.echo(report.describe())


@audit_cli.command("export")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="First day (Wenzhou).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Last day, included.")
@click.option("--action", default="", help='An action, or a family such as "certificate".')
@click.option("--subject-type", default="", help="A table name, e.g. certificates.")
@click.option("--subject-id", default="", help="With --subject-type: one subject's history.")
@click.option("--actor", default="", help="A username.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="FILE.csv or FILE.xlsx",
)
def export_command(date_from, date_to, action, subject_type, subject_id, actor, output: Path):
    """Write the matching entries, oldest first, with their hashes."""
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in export.EXPORT_FORMATS:
        fail("The output file must end in .csv or .xlsx.")
    filters = services.TrailFilter(
        action=action.strip(),
        subject_type=subject_type.strip(),
        subject_id=subject_id.strip(),
        actor=actor.strip(),
        date_from=date_from.date() if date_from else None,
        date_to=date_to.date() if date_to else None,
    )
    if fmt == "xlsx" and services.count_events(filters) > export.XLSX_MAX_ROWS:
        fail("Too many entries for one Excel sheet: narrow the filters or write CSV.")
    written = 0

    def counted(events):
        nonlocal written
        for event in events:
            written += 1
            yield event

    events = counted(services.iter_events(filters))
    with output.open("wb") as out:
        if fmt == "csv":
            export.write_csv(events, out)
        else:
            export.write_xlsx(events, out)
    db.session.rollback()
    click.echo(f"{written} entries written to {output}")
