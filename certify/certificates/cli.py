from __future__ import annotations

from pathlib import Path

import click

from certify.certificates import services
from certify.certificates.models import RevocationReason
from certify.certificates.signing import init_keys, key_dir, rotate_keys
from certify.core.cli import DomainGroup, fail
from certify.exams.models import ExamSession
from certify.extensions import db

certificates_cli = DomainGroup("certificates", help="Issuing, revoking and checking certificates.")
keys_cli = DomainGroup("keys", help="The issuing body's signing keys.")


@certificates_cli.command("issue")
@click.argument("session_id", type=int)
def issue_command(session_id: int) -> None:
    """Issue for every final pass of the session without a certificate: NUMBER<TAB>PDF_PATH."""
    session = db.session.get(ExamSession, session_id)
    if session is None:
        fail(f"There is no exam session {session_id}.")
    count = 0
    for outcome in services.issue_pending_certificates(session):
        if outcome.certificate is None:
            if outcome.code == "already_issued":
                continue  # another issuer got there first
            fail("; ".join(outcome.named_problems))
        db.session.commit()  # each certificate stands on its own
        click.echo(f"{outcome.certificate.number}\t{services.pdf_path(outcome.certificate)}")
        count += 1
    click.echo(f"{count} certificate(s) issued.", err=True)


@certificates_cli.command("revoke")
@click.argument("number")
@click.option("--reason", required=True, help="Why, for the record; never shown publicly.")
@click.option(
    "--code",
    type=click.Choice([r.value for r in RevocationReason]),
    default=RevocationReason.OTHER.value,
    show_default=True,
    help="The reason verification shows: issued_in_error 错误发证, corrected 信息有误已更正, "
    "improperly_obtained 违规取得, other 其他.",
)
def revoke_command(number: str, reason: str, code: str) -> None:
    """Revoke a certificate; verification shows it as revoked, with the public reason and
    date. The --reason text stays internal."""
    certificate = services.revoke_certificate(number, reason, code=code)
    db.session.commit()
    click.echo(f"{certificate.number}\trevoked")


@certificates_cli.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--keys-url",
    default=None,
    help="Where the public keys are published (default: BASE_URL/.well-known/jwks.json).",
)
@click.option("--offline", is_flag=True, help="Use only the keys in this installation's database.")
def verify_command(file: Path, keys_url: str | None, offline: bool) -> None:
    """Check a certificate PDF. Exit 0: valid. 1: not valid (forged, altered, a printed field
    that differs from the signed one, revoked, rejected, unknown). 3: the signature and the
    printed fields hold, but the register could not be asked, so nothing else was checked."""
    from certify.verification.offline import check_pdf_file

    report = check_pdf_file(file, keys_url=keys_url, offline=offline)
    for line in report.lines:
        click.echo(line)
    raise SystemExit(report.exit_code)


@keys_cli.command("init")
def keys_init_command() -> None:
    """Make the signing key pair if there is none (safe to run again)."""
    key, made = init_keys()
    db.session.commit()
    state = "created" if made else "already present"
    click.echo(f"{key.key_id}\t{state}\t{key_dir() / (key.key_id + '.pem')}")


@keys_cli.command("rotate")
def keys_rotate_command() -> None:
    """Start a new signing key; certificates signed with the old one keep verifying."""
    new, old = rotate_keys()
    db.session.commit()
    click.echo(f"{new.key_id}\tactive\t{key_dir() / (new.key_id + '.pem')}")
    if old is not None:
        click.echo(f"{old.key_id}\tretired (still published)")
