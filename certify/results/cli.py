"""`flask results …` (publish, finalize) and `flask exams practical-scores`, as documented."""

from __future__ import annotations

from pathlib import Path

import click

from certify.core import clock
from certify.core.cli import DomainGroup, fail
from certify.core.errors import ValidationFailed
from certify.core.masking import mask_id_number
from certify.core.tables import UnusableFile
from certify.exams.cli import exams_cli
from certify.exams.services import get_session
from certify.results import services

results_cli = DomainGroup("results", help="Publishing and finalising results.")


@exams_cli.command("practical-scores")
@click.argument("session_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def practical_scores_command(session_id: int, path: Path):
    """Import practical scores: columns 证件号码, 考评员 (user name), 分数. All rows or none."""
    try:
        report = services.import_practical_scores(
            get_session(session_id), path.name, path.read_bytes()
        )
    except UnusableFile as exc:
        fail(f"{exc.filename}: {exc.message}")
    for problem in report.problems:
        click.echo(f"  {problem}")
    if report.problems:
        fail(f"nothing saved: {len(report.problems)} problems in {report.rows} rows")
    click.echo(f"saved: {report.saved}")


@results_cli.command("publish")
@click.argument("session_id", type=int)
@click.option(
    "--publicity-days",
    type=int,
    default=services.DEFAULT_PUBLICITY_DAYS,
    help="Working days of publicity (公示); 0 allows finalising at once.",
)
@click.option(
    "--yes",
    is_flag=True,
    help="Publish even though workers who sat the theory have no practical score.",
)
def publish_command(session_id: int, publicity_days: int, yes: bool):
    """Compute the session's results and start their publicity period; the last line is the
    公示 page's public address."""
    session = get_session(session_id)
    try:
        ends = services.publish_results(session, publicity_days, confirm_missing=yes)
    except services.PracticalScoresMissing as exc:
        click.echo(f"{len(exc.workers)} workers sat the theory but have no practical score:")
        for worker in exc.workers:
            click.echo(
                f"  {worker.name or worker.username}  {mask_id_number(worker.id_number or '')}"
            )
        fail("nothing published: enter their practical scores, or publish anyway with --yes")
    except ValidationFailed as exc:
        fail("\n".join(p.message for p in exc.problems))
    click.echo(f"published; publicity ends {clock.local(ends):%Y-%m-%d %H:%M}")
    click.echo(services.publicity_url(session))


@results_cli.command("finalize")
@click.argument("session_id", type=int)
def finalize_command(session_id: int):
    """Make published results final (refused before the publicity period ends)."""
    count = services.finalize_results(get_session(session_id))
    click.echo(f"final: {count}")
