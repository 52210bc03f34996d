from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from certify.accounts.models import User
from certify.banks.formats.common import BankFileError
from certify.cohorts.services import get_cohort
from certify.core import clock
from certify.core.cli import fail
from certify.core.errors import DomainError, ValidationFailed
from certify.core.idcard import normalise_id_number
from certify.core.masking import mask_id_number
from certify.exams import services
from certify.extensions import db
from certify.results import services as results

exams_cli = AppGroup("exams", help="Exam sessions and attempts.")
results_cli = AppGroup("results", help="Publishing and finalising results.")


def _moment(text: str, name: str) -> datetime:
    """ISO 8601; a time without a zone is Wenzhou time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--{name}: not an ISO 8601 time, e.g. 2026-12-12T09:00+08:00")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.LOCAL_TZ)
    return moment.astimezone(UTC)


@exams_cli.command("schedule")
@click.argument("cohort_id", type=int)
@click.option("--opens", required=True, help="ISO 8601, e.g. 2026-12-12T09:00+08:00")
@click.option("--closes", required=True)
@click.option("--duration", type=int, default=None, help="Minutes; default: the blueprint's.")
@click.option("--access-code", default=None)
@click.option("--departure-limit", type=int, default=None)
def schedule_command(cohort_id, opens, closes, duration, access_code, departure_limit):
    """Schedule the class's exam session and print its id."""
    try:
        session = services.schedule_session(
            get_cohort(cohort_id),
            _moment(opens, "opens"),
            _moment(closes, "closes"),
            duration_minutes=duration,
            access_code=access_code,
            departure_limit=departure_limit,
        )
    except ValidationFailed as exc:
        db.session.rollback()
        fail("\n".join(f"{p.field}: {p.message}" for p in exc.problems))
    except DomainError as exc:
        db.session.rollback()
        fail(exc.message)
    db.session.commit()
    click.echo(session.id)


@exams_cli.command("close")
@click.argument("session_id", type=int)
def close_command(session_id: int):
    """Close the session's window now and hand in every paper still being written."""
    try:
        count = services.close_session(services.get_session(session_id))
    except DomainError as exc:
        db.session.rollback()
        fail(exc.message)
    db.session.commit()
    click.echo(f"closed; handed in: {count}")


@exams_cli.command("expire-overdue")
def expire_overdue_command():
    """Finalise attempts past their deadline with the answers saved by then."""
    count = services.expire_overdue()
    click.echo(f"finalised: {count}")


@exams_cli.command("practical-scores")
@click.argument("session_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def practical_scores_command(session_id: int, path: Path):
    """Import practical scores: columns 证件号码, 考评员 (user name), 分数. All rows or none."""
    try:
        report = results.import_practical_scores(
            services.get_session(session_id), path.name, path.read_bytes()
        )
    except BankFileError as exc:
        db.session.rollback()
        fail(f"{exc.filename}: {exc.message}")
    except DomainError as exc:
        db.session.rollback()
        fail(exc.message)
    for problem in report.problems:
        click.echo(f"  {problem}")
    if report.problems:
        db.session.rollback()
        fail(f"nothing saved: {len(report.problems)} problems in {report.rows} rows")
    db.session.commit()
    click.echo(f"saved: {report.saved}")


@results_cli.command("publish")
@click.argument("session_id", type=int)
@click.option(
    "--publicity-days",
    type=int,
    default=results.DEFAULT_PUBLICITY_DAYS,
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
    session = services.get_session(session_id)
    try:
        ends = results.publish_results(session, publicity_days, confirm_missing=yes)
    except results.PracticalScoresMissing as exc:
        db.session.rollback()
        click.echo(f"{len(exc.workers)} workers sat the theory but have no practical score:")
        for worker in exc.workers:
            click.echo(
                f"  {worker.name or worker.username}  {mask_id_number(worker.id_number or '')}"
            )
        fail("nothing published: enter their practical scores, or publish anyway with --yes")
    except ValidationFailed as exc:
        db.session.rollback()
        fail("\n".join(p.message for p in exc.problems))
    except DomainError as exc:
        db.session.rollback()
        fail(exc.message)
    db.session.commit()
    click.echo(f"published; publicity ends {clock.local(ends):%Y-%m-%d %H:%M}")
    click.echo(results.publicity_url(session))


@results_cli.command("finalize")
@click.argument("session_id", type=int)
def finalize_command(session_id: int):
    """Make published results final (refused before the publicity period ends)."""
    try:
        count = results.finalize_results(services.get_session(session_id))
    except DomainError as exc:
        db.session.rollback()
        fail(exc.message)
    db.session.commit()
    click.echo(f"final: {count}")


@exams_cli.command("override")
@click.argument("session_id", type=int)
@click.option("--worker", "id_number", required=True, help="The worker's ID card number.")
@click.option("--extra-minutes", type=int, default=0)
@click.option("--opens", default=None, help="A later window for a re-sit (补考): opening time.")
@click.option("--closes", default=None, help="… and its closing time.")
@click.option("--reason", default="")
def override_command(session_id, id_number, extra_minutes, opens, closes, reason):
    """Give one worker extra time, or a later window for a re-sit."""
    session = services.get_session(session_id)
    worker = db.session.scalar(
        sa.select(User).where(User.id_number == normalise_id_number(id_number))
    )
    if worker is None or not services.is_enrolled(worker, session):
        fail("nobody with this ID number is in the session's class")
    try:
        services.set_override(
            session,
            worker,
            extra_minutes=extra_minutes,
            opens_at=_moment(opens, "opens") if opens else None,
            closes_at=_moment(closes, "closes") if closes else None,
            reason=reason,
        )
    except ValidationFailed as exc:
        db.session.rollback()
        fail("\n".join(p.message for p in exc.problems))
    db.session.commit()
    opens_at, closes_at, extra = session.window_for(worker.id)
    window = f"{clock.local(opens_at):%Y-%m-%d %H:%M} – {clock.local(closes_at):%Y-%m-%d %H:%M}"
    click.echo(f"{worker.name}: {window}, +{extra} min")
