from __future__ import annotations

from datetime import UTC, datetime

import click
import sqlalchemy as sa

from certify.accounts.models import User
from certify.cohorts.services import get_cohort
from certify.core import clock
from certify.core.cli import DomainGroup, fail
from certify.core.errors import ValidationFailed
from certify.core.idcard import normalise_id_number
from certify.exams import services
from certify.extensions import db

exams_cli = DomainGroup("exams", help="Exam sessions and attempts.")


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
    session = services.schedule_session(
        get_cohort(cohort_id),
        _moment(opens, "opens"),
        _moment(closes, "closes"),
        duration_minutes=duration,
        access_code=access_code,
        departure_limit=departure_limit,
    )
    click.echo(session.id)


@exams_cli.command("close")
@click.argument("session_id", type=int)
def close_command(session_id: int):
    """Close the session's window now and hand in every paper still being written."""
    count = services.close_session(services.get_session(session_id))
    db.session.commit()
    click.echo(f"closed; handed in: {count}")


@exams_cli.command("expire-overdue")
def expire_overdue_command():
    """Finalise attempts past their deadline with the answers saved by then."""
    count = services.expire_overdue()
    click.echo(f"finalised: {count}")


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
