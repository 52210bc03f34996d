"""The one importer behind the upload page and `flask banks import`.

Reads any supported file, checks every question against the rules and the trade's
knowledge tree, finds duplicates, and saves either everything or (when asked)
only the valid questions — never half of a file by accident.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import PurePath

import sqlalchemy as sa
from flask_babel import gettext as _

from certify.audit.services import record_event
from certify.banks.formats.common import ParsedQuestion, ParseResult, SkippedItem
from certify.banks.lint import LintReport, lint_parsed, parsed_questions
from certify.banks.models import (
    DEFAULT_DIFFICULTY,
    BankImport,
    Question,
    QuestionVersion,
)
from certify.banks.validation import fingerprint, question_problems
from certify.catalog.models import KnowledgeArea, Trade
from certify.catalog.services import area_path_problem, ensure_area_path, find_area_by_path
from certify.core import clock
from certify.core.tables import (
    MAX_FILE_BYTES,
    ImportProblem,
    Unit,
    UnusableFile,
    decode_text,
    quoted,
)
from certify.extensions import db

FORMATS = ("xlsx", "csv", "gift", "moodle_xml", "aiken")
FORMAT_LABELS = {
    "xlsx": "Excel (.xlsx)",
    "csv": "CSV",
    "gift": "Moodle GIFT",
    "moodle_xml": "Moodle XML",
    "aiken": "Aiken",
}


@dataclass
class ImportOptions:
    valid_only: bool = False  # save the valid questions even if others are wrong
    dry_run: bool = False  # check only
    default_area: str | None = None  # for questions whose file gives no knowledge area
    create_areas: bool = False  # add unknown knowledge areas to the trade's tree


@dataclass
class Duplicate:
    question: ParsedQuestion
    of_existing: int | None  # id of the question already in the bank
    of_number: int | None  # or the earlier row/line in the same file


@dataclass
class ImportReport:
    filename: str
    format: str
    unit: Unit
    valid: list[ParsedQuestion] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)  # imported, not quite as written
    new_areas: list[str] = field(default_factory=list)
    imported: int = 0
    saved: bool = False
    batch_id: int | None = None
    review: LintReport | None = None  # the lint's tells and 鉴定点 findings for the file

    @property
    def invalid_count(self) -> int:
        return len({(p.number, p.unit) for p in self.problems if p.number is not None}) or (
            1 if self.problems else 0
        )

    @property
    def can_save(self) -> bool:
        return not self.problems and bool(self.valid)


def detect_format(filename: str, data: bytes) -> str:
    """From the content first (a renamed file still imports), then the extension."""
    suffix = PurePath(filename or "").suffix.lower()
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<?xml") or head.startswith(b"<quiz"):
        return "moodle_xml"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".xml":
        return "moodle_xml"
    if suffix in (".gift",):
        return "gift"
    if suffix in (".csv", ".tsv"):
        return "csv"
    try:
        text = decode_text(data[:65536], filename)
    except UnusableFile:
        text = ""
    first_line = text.split("\n", 1)[0]
    if "题干" in first_line and ("," in first_line or "\t" in first_line):
        return "csv"
    if "{" in text and "}" in text:
        return "gift"
    upper = text.upper()
    if "ANSWER:" in upper or "ANSWER：" in upper or "答案：" in text or "答案:" in text:
        return "aiken"
    raise UnusableFile(
        filename,
        _(
            "The file type is not recognised. Use the Excel template, CSV, Moodle GIFT, "
            "Moodle XML or Aiken."
        ),
    )


def parse_file(filename: str, data: bytes) -> tuple[str, ParseResult]:
    if len(data) > MAX_FILE_BYTES:
        raise UnusableFile(filename, _("The file is larger than 10 MB."))
    if not data.strip():
        raise UnusableFile(filename, _("The file is empty."))
    fmt = detect_format(filename, data)
    if fmt == "xlsx":
        from certify.banks.formats.tabular import parse_xlsx

        return fmt, parse_xlsx(data, filename)
    if fmt == "csv":
        from certify.banks.formats.tabular import parse_csv

        return fmt, parse_csv(data, filename)
    if fmt == "moodle_xml":
        from certify.banks.formats.moodle_xml import parse_moodle_xml

        return fmt, parse_moodle_xml(data, filename)
    text = decode_text(data, filename)
    if fmt == "gift":
        from certify.banks.formats.gift import parse_gift

        return fmt, parse_gift(text, filename)
    from certify.banks.formats.aiken import parse_aiken

    return fmt, parse_aiken(text, filename)


def _existing_fingerprints(trade: Trade) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(QuestionVersion.fingerprint, Question.id)
        .join(Question, Question.id == QuestionVersion.question_id)
        .where(Question.trade_id == trade.id, QuestionVersion.number == Question.version)
    )
    return {fp: qid for fp, qid in rows}


def _place(unit: Unit):
    if unit is Unit.ROW:
        return lambda n: _("row %(n)d", n=n)
    return lambda n: _("line %(n)d", n=n)


def _missing_area_problem(trade: Trade, path: str, options: ImportOptions) -> str | None:
    """Why a question cannot go into a 知识点 the tree lacks, if it cannot: none given, a path
    the tree cannot hold, or missing areas are not to be created."""
    if not path:
        return _("No knowledge area. Fill in 知识点 (e.g. 入库作业/验收) or pick a default.")
    unusable = area_path_problem(path)
    if unusable or options.create_areas:
        return unusable
    return _(
        "The knowledge area “%(path)s” is not in the tree of %(trade)s. "
        "Correct it, add the area first, or choose to create missing areas.",
        path=quoted(path),
        trade=trade.name,
    )


def check_import(
    trade: Trade, filename: str, data: bytes, options: ImportOptions | None = None
) -> ImportReport:
    """Everything the import would do, without saving. The preview page shows this."""
    options = options or ImportOptions()
    fmt, parsed = parse_file(filename, data)
    unit = Unit.ROW if fmt in ("xlsx", "csv") else Unit.LINE
    report = ImportReport(
        filename=filename,
        format=fmt,
        unit=unit,
        skipped=parsed.skipped,
        warnings=parsed.warnings,
    )
    report.problems.extend(parsed.problems)
    existing = _existing_fingerprints(trade)
    seen: dict[str, int] = {}
    new_areas: set[str] = set()
    for question in parsed.questions:
        problems = [
            ImportProblem(filename, question.number, unit, fld, msg)
            for fld, msg in question_problems(question)
        ]
        path = question.area_path or options.default_area
        known = bool(path) and find_area_by_path(trade, path) is not None
        area_problem = None if known else _missing_area_problem(trade, path, options)
        if area_problem:
            problems.append(ImportProblem(filename, question.number, unit, "知识点", area_problem))
        elif not known:
            new_areas.add(path)
        if problems:
            report.problems.extend(problems)
            continue
        question.area_path = path
        fp = fingerprint(question.type, question.stem, [o.text for o in question.options])
        if fp in existing:
            report.duplicates.append(Duplicate(question, existing[fp], None))
        elif fp in seen:
            report.duplicates.append(Duplicate(question, None, seen[fp]))
        else:
            seen[fp] = question.number
            report.valid.append(question)
    report.new_areas = sorted(new_areas)
    report.problems.sort(key=lambda p: (p.number is not None, p.number or 0))
    report.review = lint_parsed(trade, parsed_questions(report.valid, _place(unit)))
    return report


def import_bank(
    trade: Trade,
    filename: str,
    data: bytes,
    options: ImportOptions | None = None,
    actor=None,
) -> ImportReport:
    """Check and, unless told otherwise or anything is wrong, save. Flushes; the caller commits."""
    options = options or ImportOptions()
    report = check_import(trade, filename, data, options)
    if options.dry_run or (report.problems and not options.valid_only) or not report.valid:
        return report
    batch = BankImport(
        trade=trade,
        filename=PurePath(filename).name[:255],
        format=report.format,
        sha256=hashlib.sha256(data).hexdigest(),
        imported=len(report.valid),
        duplicates=len(report.duplicates),
        skipped=len(report.skipped),
        left_out=report.invalid_count,
        created_at=clock.now(),
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(batch)
    areas: dict[str, KnowledgeArea] = {}
    for path in report.new_areas:
        areas[path] = ensure_area_path(trade, path)
    for parsed in report.valid:
        area = areas.get(parsed.area_path) or find_area_by_path(trade, parsed.area_path or "")
        db.session.add(new_question(trade, parsed, area, batch=batch, actor=actor))
    db.session.flush()
    record_event(
        "bank.imported",
        batch,
        actor=actor,
        after={
            "trade": trade.code,
            "file": batch.filename,
            "sha256": batch.sha256,
            "imported": batch.imported,
            "duplicates": batch.duplicates,
            "skipped": batch.skipped,
            "left_out": batch.left_out,
        },
    )
    report.imported = len(report.valid)
    report.saved = True
    report.batch_id = batch.id
    return report


def new_question(
    trade: Trade,
    parsed: ParsedQuestion,
    area: KnowledgeArea,
    *,
    batch: BankImport | None = None,
    actor=None,
) -> Question:
    now = clock.now()
    question = Question(trade=trade, version=1, created_at=now, updated_at=now, import_batch=batch)
    question.versions.append(
        QuestionVersion(
            number=1,
            type=parsed.type,
            stem=parsed.stem.strip(),
            options=[{"key": o.key, "text": o.text.strip()} for o in parsed.options],
            correct=list(parsed.correct),
            area=area,
            difficulty=parsed.difficulty or DEFAULT_DIFFICULTY,
            explanation=(parsed.explanation or "").strip(),
            source=(parsed.source or "").strip(),
            point_code=(parsed.point_code or "").strip(),
            title=(parsed.title or "")[:255],
            fingerprint=fingerprint(parsed.type, parsed.stem, [o.text for o in parsed.options]),
            created_at=now,
            created_by_id=getattr(actor, "id", None),
        )
    )
    return question
