from __future__ import annotations

import json
from pathlib import Path

import click
from flask_babel import gettext as _

from certify.banks import blueprints as bp_services
from certify.banks.export import EXPORT_FORMATS, export_bank, template_xlsx
from certify.banks.importer import FORMAT_LABELS, ImportOptions, ImportReport, import_bank
from certify.banks.lint import BLOCKING, lint_bank
from certify.banks.points import load_exam_points
from certify.banks.services import active_versions
from certify.catalog.services import get_trade
from certify.core.cli import DomainGroup, fail
from certify.core.errors import ValidationFailed
from certify.core.tables import MAX_FILE_BYTES, Unit, UnusableFile
from certify.extensions import db

banks_cli = DomainGroup("banks", help="Question banks: import, export, template.")
blueprints_cli = DomainGroup("blueprints", help="Exam blueprints (组卷规则).")


def _place(unit: Unit, number: int) -> str:
    return _("row %(n)d", n=number) if unit is Unit.ROW else _("line %(n)d", n=number)


def print_report(report: ImportReport, would_import: int | None = None) -> None:
    """The import's counts and every problem, warning, skip and duplicate, each line in the
    reader's language (Chinese unless CERTIFY_LANG says otherwise)."""
    click.echo(
        _("File: %(name)s (%(format)s)", name=report.filename, format=FORMAT_LABELS[report.format])
    )
    if would_import is not None:  # a dry run: what the same command without it would save
        click.echo(_("Would import: %(n)d", n=would_import))
    else:
        click.echo(_("Imported: %(n)d", n=report.imported))
    click.echo(_("Duplicates: %(n)d", n=len(report.duplicates)))
    click.echo(_("Skipped: %(n)d", n=len(report.skipped)))
    click.echo(_("With problems: %(n)d", n=report.invalid_count))
    for problem in report.problems:
        click.echo(f"  {problem}")
    for warning in report.warnings:
        click.echo(f"  {warning}")
    shown = 20
    for dup in report.duplicates[:shown]:
        where = (
            _("duplicate of question %(id)d in the bank", id=dup.of_existing)
            if dup.of_existing
            else _("duplicate of %(place)s of this file", place=_place(report.unit, dup.of_number))
        )
        click.echo(f"  {_place(report.unit, dup.question.number)}: {where}")
    if len(report.duplicates) > shown:
        click.echo("  " + _("… and %(n)d more duplicates", n=len(report.duplicates) - shown))
    for item in report.skipped:
        click.echo(
            "  "
            + _(
                "%(place)s: skipped, %(why)s", place=_place(item.unit, item.number), why=item.reason
            )
        )
    for path in report.new_areas:
        click.echo("  " + _("New knowledge area: %(path)s", path=path))


@banks_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trade", "trade_code", required=True, help="Trade code, e.g. warehouse-keeper.")
@click.option("--valid-only", is_flag=True, help="Save the valid questions even if some are wrong.")
@click.option("--dry-run", is_flag=True, help="Check only; save nothing.")
@click.option(
    "--area", "default_area", default=None, help="Knowledge area for questions without one."
)
@click.option("--create-areas", is_flag=True, help="Add unknown knowledge areas to the trade.")
def import_command(path: Path, trade_code, valid_only, dry_run, default_area, create_areas):
    """Import a question file: xlsx, CSV (UTF-8 or GBK), GIFT, Moodle XML or Aiken."""
    if path.stat().st_size > MAX_FILE_BYTES:  # refuse before reading it into memory
        fail(f"{path.name}: {_('The file is larger than 10 MB.')}")
    try:
        trade = get_trade(trade_code)
        report = import_bank(
            trade,
            path.name,
            path.read_bytes(),
            ImportOptions(
                valid_only=valid_only,
                dry_run=dry_run,
                default_area=default_area,
                create_areas=create_areas,
            ),
        )
    except UnusableFile as exc:
        db.session.rollback()
        fail(f"{exc.filename}: {exc.message}")
    would = len(report.valid) if valid_only or not report.problems else 0
    print_report(report, would if dry_run else None)
    if report.saved:
        db.session.commit()
    else:
        db.session.rollback()
        if dry_run:
            click.echo(_("Dry run: nothing was saved."))
        elif report.problems:
            click.echo(_("Nothing was saved: correct the problems, or use --valid-only."))
    if report.problems and not valid_only:
        raise SystemExit(1)


@banks_cli.command("export")
@click.option("--trade", "trade_code", required=True)
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_command(trade_code, fmt, output: Path):
    """Write the trade's active questions in the template's columns (or GIFT)."""
    trade = get_trade(trade_code)
    versions = active_versions(trade)
    output.write_bytes(export_bank(versions, fmt))
    click.echo(f"{len(versions)} questions written to {output}")


@banks_cli.command("template")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def template_command(output: Path):
    """Write the Excel import template with examples and instructions."""
    output.write_bytes(template_xlsx())
    click.echo(f"template written to {output}")


@blueprints_cli.command("list")
def list_blueprints_command():
    """Each blueprint: id, trade, level, name, and whether the bank can supply it."""
    for blueprint in bp_services.list_blueprints():
        check = bp_services.check_blueprint(blueprint)
        state = "ok" if check.ideal else ("thin" if check.satisfiable else "short")
        level = blueprint.level or "-"
        click.echo(f"{blueprint.id}\t{blueprint.trade.code}\t{level}\t{blueprint.name}\t{state}")


@blueprints_cli.command("check")
@click.argument("blueprint_id", type=int)
def check_blueprint_command(blueprint_id: int):
    """Can the active bank supply this blueprint? Exits 1 when it cannot."""
    blueprint = bp_services.get_blueprint(blueprint_id)
    check = bp_services.check_blueprint(blueprint)
    for row in check.rows:
        area = row.area.path if row.area else "(all)"
        click.echo(
            f"{row.status}\t{row.section_type}\t{area}\tneed {row.needed}\thave {row.available}"
        )
    for row in check.difficulty:
        click.echo(
            f"{row.status}\tdifficulty {row.difficulty}\tneed {row.needed}\thave {row.available}"
        )
    verdict = (
        "ideal" if check.ideal else ("satisfiable" if check.satisfiable else "not satisfiable")
    )
    click.echo(f"verdict: {verdict}")
    if not check.satisfiable:
        raise SystemExit(1)


@blueprints_cli.command("export")
@click.argument("blueprint_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_blueprint_command(blueprint_id: int, output: Path):
    """Write a blueprint as JSON."""
    blueprint = bp_services.get_blueprint(blueprint_id)
    text = json.dumps(bp_services.export_blueprint(blueprint), ensure_ascii=False, indent=2)
    output.write_text(text + "\n", encoding="utf-8")
    click.echo(f"blueprint {blueprint_id} written to {output}")


@blueprints_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load_blueprint_command(path: Path):
    """Create or update a blueprint from JSON (as written by `blueprints export`)."""
    try:
        blueprint = bp_services.load_blueprint_json(path.read_text(encoding="utf-8"), path.name)
    except ValidationFailed as exc:
        fail("\n".join(f"{path.name}: {p.field}: {p.message}" for p in exc.problems))
    click.echo(f"blueprint {blueprint.id} saved: {blueprint.name}")


@banks_cli.command("points")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trade", "trade_code", required=True, help="Trade code, e.g. warehouse-keeper.")
@click.option("--dry-run", is_flag=True, help="Check only; save nothing.")
def points_command(path: Path, trade_code: str, dry_run: bool):
    """Load the trade's 鉴定要素细目表 (xlsx or CSV: 一级, 二级, 点代码, 点名称, 重要程度)."""
    if path.stat().st_size > MAX_FILE_BYTES:
        fail(f"{path.name}: {_('The file is larger than 10 MB.')}")
    trade = get_trade(trade_code)
    try:
        report = load_exam_points(trade, path.name, path.read_bytes(), dry_run=dry_run)
    except UnusableFile as exc:
        fail(f"{exc.filename}: {exc.message}")
    for problem in report.problems:
        click.echo(str(problem), err=True)
    if report.problems:
        fail(_("Nothing was loaded: correct the file and load it again."))
    if dry_run:
        click.echo(_("Dry run: %(n)d points would be loaded.", n=report.points))
    else:
        click.echo(_("%(n)d points loaded for %(trade)s.", n=report.points, trade=trade.name))


@banks_cli.command("lint")
@click.option("--trade", "trade_code", required=True, help="Trade code, e.g. warehouse-keeper.")
def lint_command(trade_code: str):
    """Read the bank as a reviewer would: each finding names the question and what to do;
    the last line is one JSON object; exit 1 when a blocking threshold fails."""
    report = lint_bank(get_trade(trade_code))
    for finding in report.findings:
        severity = _("BLOCKING") if finding.severity == BLOCKING else _("warning")
        where = f"{finding.where}: " if finding.where else ""
        click.echo(f"[{severity}] {where}{finding.message}")
    click.echo(
        _(
            "%(n)d questions; %(b)d blocking findings, %(w)d warnings.",
            n=report.questions,
            b=len(report.blocking),
            w=len(report.findings) - len(report.blocking),
        )
    )
    click.echo(json.dumps(report.to_json(), ensure_ascii=False, sort_keys=True))
    if not report.passed:
        raise SystemExit(1)
