from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import click

from certify.audit import export, services
from certify.audit.anchor import Anchor, check_anchor
from certify.audit.chain import verify_chain
from certify.certificates.signing import jwks
from certify.core.cli import DomainGroup, fail
from certify.endorsement.package import PackageError, package_anchor
from certify.extensions import db

audit_cli = DomainGroup("audit", help="The audit trail: check its hash chain, export it.")


@audit_cli.command("verify")
@click.option(
    "--expect-last",
    metavar="HASH",
    help="A last hash printed by an earlier run: fails if the trail no longer contains it "
    "(the only way to notice that the newest entries were deleted).",
)
@click.option(
    "--against",
    "packages",
    multiple=True,
    metavar="PACKAGE.zip",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An endorsement batch package, as the bureau received it: fails if any entry up to "
    "the audit head its signed manifest anchors was changed, removed or inserted, even with "
    "every later hash recomputed. May be given more than once.",
)
@click.option(
    "--jwks",
    "jwks_file",
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check the packages' signatures with this saved copy of /.well-known/jwks.json "
    "instead of the keys in this database.",
)
def verify_command(
    expect_last: str | None, packages: tuple[Path, ...], jwks_file: Path | None
) -> None:
    """Walk the whole trail; exit 0 when the chain is intact, 1 where it breaks.

    Keep the printed last hash outside the database (a signed minute, an e-mail) and pass it
    back with --expect-last next time. With --against, each package's anchor is checked too
    (exit 1 if the trail differs from it, 2 if a package cannot be used as an anchor).
    """
    keys = _key_set(jwks_file) if packages else {}
    anchors = [(path, *_package_anchor(path, keys)) for path in packages]
    report = verify_chain(expect_last=expect_last)
    results = [(path, ref, anchor, check_anchor(anchor)) for path, ref, anchor in anchors]
    db.session.rollback()
    if not anchors:
        if not report.ok:
            fail(report.describe())
        click.echo(report.describe())
        return
    click.echo(report.describe(), err=not report.ok)
    for path, reference, anchor, broken in results:
        where = (
            f"{path.name} (batch {reference}, anchored head: entry {anchor.head.id}, "
            f"hash {anchor.head.hash})"
        )
        if broken is None:
            click.echo(f"OK against {where}: the trail up to that entry is as anchored")
        else:
            click.echo(f"BROKEN against {where}: {broken.describe()}", err=True)
    if not report.ok or any(broken is not None for *_rest, broken in results):
        raise SystemExit(1)


def _key_set(jwks_file: Path | None) -> dict:
    """The public keys to check packages with: a saved JWKS (what the bureau kept), or the
    keys in this database, which is the very thing under suspicion."""
    if jwks_file is None:
        return jwks()
    try:
        return json.loads(jwks_file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        _unusable(f"{jwks_file.name}: not a readable key set ({exc})")


def _package_anchor(path: Path, keys: dict) -> tuple[str, Anchor]:
    """A package's batch and anchor, or exit 2 saying why it cannot serve as one."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        _unusable(f"{path.name}: cannot be read ({exc})")
    try:
        return package_anchor(data, keys)
    except PackageError as exc:
        _unusable(f"{path.name}: {exc}; it cannot vouch for the trail")


def _unusable(message: str) -> NoReturn:
    click.echo(message, err=True)
    raise SystemExit(2)


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
