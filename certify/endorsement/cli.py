from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa

from certify.accounts.models import Role, User
from certify.core.cli import DomainGroup, fail
from certify.endorsement import services
from certify.extensions import db

endorsement_cli = DomainGroup("endorsement", help="Submitting certificates to the HR bureau.")


def _user(username: str, role: Role, option: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None or not user.active:
        fail(f"{option}: there is no active account {username!r}.")
    if user.role is not role:
        fail(f"{option}: {username} is not a {role.value} account.")
    return user


def _first_admin() -> User:
    admin = db.session.scalar(
        sa.select(User).where(User.role == Role.ADMIN, User.active.is_(True)).order_by(User.id)
    )
    if admin is None:
        fail("There is no active admin account to submit as; use --by USERNAME.")
    return admin


@endorsement_cli.command("submit")
@click.argument("numbers", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--by", "username", default=None, help="The admin who submits (default: the first).")
@click.option("--note", default="", help="A note for the reviewers.")
def submit_command(numbers: tuple[str, ...], output: Path, username: str | None, note: str) -> None:
    """Submit certificates to the bureau; write the package and print the batch id."""
    actor = _user(username, Role.ADMIN, "--by") if username else _first_admin()
    batch = services.submit_batch(services.certificates_by_number(numbers), actor, note=note)
    data = services.read_package(batch)
    db.session.commit()
    output.write_bytes(data)
    click.echo(batch.id)


@endorsement_cli.command("decide")
@click.argument("batch_id", type=int)
@click.argument("numbers", nargs=-1)
@click.option("--reviewer", required=True, help="The bureau reviewer's user name (role hr).")
@click.option("--endorse-all", is_flag=True, help="Endorse every certificate not rejected.")
@click.option("--endorse", "endorse_listed", is_flag=True, help="Endorse the NUMBERS given.")
@click.option("--reject", "rejected", multiple=True, metavar="NUMBER", help="Reject NUMBER.")
@click.option("--reason", default="", help="Why the rejected certificates are rejected.")
def decide_command(batch_id, numbers, reviewer, endorse_all, endorse_listed, rejected, reason):
    """Record the bureau's decision on a batch."""
    if not (endorse_all or endorse_listed or rejected):
        fail(
            "Say what to decide: --endorse-all, --endorse NUMBER... or --reject NUMBER --reason R."
        )
    if numbers and not endorse_listed:
        fail("Certificate numbers on their own need --endorse before them.")
    if endorse_listed and not numbers:
        fail("--endorse needs the certificate numbers to endorse.")
    if rejected and not reason.strip():
        fail("--reject needs --reason TEXT.")
    user = _user(reviewer, Role.HR, "--reviewer")
    decisions = services.Decisions(
        endorse={n.strip().upper() for n in numbers},
        endorse_all=endorse_all,
        reject={n.strip().upper(): reason for n in rejected},
    )
    batch = services.get_batch(batch_id)
    decided = services.decide_batch(batch, user, decisions)
    db.session.commit()
    for item in decided:
        click.echo(f"{item.certificate.number}\t{item.decision.value}")
    click.echo(f"batch {batch.reference}: {batch.status.value}", err=True)
