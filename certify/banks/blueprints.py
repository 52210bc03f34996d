"""Blueprints (组卷规则): sections by type, knowledge-area quotas, a difficulty mix,
and the check that the active bank can really supply the papers they describe."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _

from certify.audit.services import record_event
from certify.banks.models import (
    BlueprintQuota,
    BlueprintSection,
    ExamBlueprint,
    Question,
    QuestionStatus,
    QuestionVersion,
)
from certify.banks.services import subtree_ids
from certify.banks.types import QuestionType
from certify.catalog.models import CertificateType, KnowledgeArea, Trade
from certify.catalog.services import find_area_by_path, get_trade
from certify.core import clock
from certify.core.errors import Conflict, NotFound, Problem, ValidationFailed
from certify.core.references import count_references
from certify.extensions import db

BLUEPRINT_PARTS = frozenset({"blueprint_sections", "blueprint_quotas"})

TOTAL_POINTS = Decimal(100)
IDEAL_FACTOR = 2  # at least twice the questions a paper needs, so papers differ


@dataclass
class SectionData:
    type: QuestionType
    count: int
    points: Decimal


@dataclass
class BlueprintData:
    name: str
    level: int | None
    duration_minutes: int
    pass_mark: int
    sections: list[SectionData]
    quotas: dict[str, int] = field(default_factory=dict)  # area path → percent
    difficulty_mix: dict[int, int] = field(default_factory=dict)  # 1..5 → percent


def _check(trade: Trade, data: BlueprintData, existing: ExamBlueprint | None) -> list:
    problems: list[Problem] = []
    data.name = (data.name or "").strip()
    if not data.name or len(data.name) > 100:
        problems.append(Problem("name", _("Give the blueprint a name (at most 100 characters).")))
    if trade.certificate_type is CertificateType.LEVEL:
        if data.level not in trade.levels:
            problems.append(Problem("level", _("Choose one of the trade's levels.")))
    elif data.level is not None:
        problems.append(Problem("level", _("A special vocational ability trade has no levels.")))
    clash = db.session.scalar(
        sa.select(ExamBlueprint).where(
            ExamBlueprint.trade_id == trade.id,
            ExamBlueprint.name == data.name,
            ExamBlueprint.level.is_(None)
            if data.level is None
            else ExamBlueprint.level == data.level,
        )
    )
    if clash is not None and clash is not existing:
        problems.append(
            Problem("name", _("This trade and level already have a blueprint of that name."))
        )
    if not 1 <= data.duration_minutes <= 600:
        problems.append(Problem("duration_minutes", _("The duration is 1 to 600 minutes.")))
    if not 0 <= data.pass_mark <= 100:
        problems.append(Problem("pass_mark", _("A pass mark is a whole number from 0 to 100.")))
    if not data.sections:
        problems.append(Problem("sections", _("Add at least one section.")))
    types = [s.type for s in data.sections]
    if len(set(types)) != len(types):
        problems.append(Problem("sections", _("Use each question type in one section only.")))
    for section in data.sections:
        if not 1 <= section.count <= 500:
            problems.append(Problem("sections", _("A section has 1 to 500 questions.")))
        if section.points <= 0 or section.points != section.points.quantize(Decimal("0.01")):
            problems.append(
                Problem("sections", _("Points per question are positive, e.g. 1 or 0.5."))
            )
    total = sum((s.points * s.count for s in data.sections), Decimal(0))
    if data.sections and total != TOTAL_POINTS:
        problems.append(
            Problem(
                "sections",
                _(
                    "The sections add up to %(total)s points; they must make 100.",
                    total=_fmt(total),
                ),
            )
        )
    problems.extend(_check_quotas(trade, data.quotas))
    if data.difficulty_mix:
        if any(level not in range(1, 6) or pct < 0 for level, pct in data.difficulty_mix.items()):
            problems.append(Problem("difficulty_mix", _("Difficulty levels are 1 to 5.")))
        elif sum(data.difficulty_mix.values()) not in (0, 100):
            problems.append(
                Problem(
                    "difficulty_mix", _("The difficulty mix must add up to 100% (or be empty).")
                )
            )
    return problems


def _check_quotas(trade: Trade, quotas: dict[str, int]) -> list[Problem]:
    if not quotas:
        return []
    problems = []
    areas = []
    for path, weight in quotas.items():
        area = find_area_by_path(trade, path)
        if area is None:
            problems.append(
                Problem("quotas", _("“%(path)s” is not a knowledge area of this trade.", path=path))
            )
        else:
            areas.append(area)
        if not 1 <= weight <= 100:
            problems.append(Problem("quotas", _("A weight is 1 to 100 percent.")))
    if sum(quotas.values()) != 100:
        problems.append(
            Problem(
                "quotas",
                _(
                    "The knowledge-area weights add up to %(n)d%%; they must make 100%%.",
                    n=sum(quotas.values()),
                ),
            )
        )
    for area in areas:
        if any(a in areas for a in area.ancestors):
            problems.append(
                Problem(
                    "quotas",
                    _(
                        "“%(path)s” lies inside another weighted area; weight one or the other.",
                        path=area.path,
                    ),
                )
            )
    return problems


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


def save_blueprint(
    trade: Trade, data: BlueprintData, blueprint: ExamBlueprint | None = None, actor=None
) -> ExamBlueprint:
    problems = _check(trade, data, blueprint)
    if problems:
        raise ValidationFailed(problems)
    before = export_blueprint(blueprint) if blueprint is not None else None
    if blueprint is None:
        blueprint = ExamBlueprint(trade=trade, created_at=clock.now())
        db.session.add(blueprint)
    blueprint.name = data.name
    blueprint.level = data.level
    blueprint.duration_minutes = data.duration_minutes
    blueprint.pass_mark = data.pass_mark
    blueprint.difficulty_mix = {str(k): v for k, v in sorted(data.difficulty_mix.items()) if v}
    blueprint.sections = [
        BlueprintSection(
            position=i,
            question_type=s.type,
            count=s.count,
            points_hundredths=int(s.points * 100),
        )
        for i, s in enumerate(data.sections)
    ]
    blueprint.quotas = [
        BlueprintQuota(area=find_area_by_path(trade, path), weight=weight)
        for path, weight in data.quotas.items()
    ]
    blueprint.updated_at = clock.now()
    db.session.flush()
    after = export_blueprint(blueprint)
    action = "blueprint.created" if before is None else "blueprint.updated"
    if after != before:
        record_event(action, blueprint, before=before, after=after, actor=actor)
    return blueprint


def delete_blueprint(blueprint: ExamBlueprint, actor=None) -> None:
    """Refused while an exam session or a mock exam was drawn from it: they must stay
    reproducible (an appeal re-draws the paper from the blueprint and the seed)."""
    usage = count_references({"exam_blueprints": [blueprint.id]}, skip=BLUEPRINT_PARTS)
    if usage:
        raise Conflict(
            _(
                "This blueprint was used by %(n)d exams or mock exams and cannot be deleted.",
                n=sum(usage.values()),
            ),
            code="blueprint_in_use",
        )
    record_event("blueprint.deleted", blueprint, before=export_blueprint(blueprint), actor=actor)
    db.session.delete(blueprint)


def get_blueprint(blueprint_id: int) -> ExamBlueprint:
    blueprint = db.session.get(ExamBlueprint, blueprint_id)
    if blueprint is None:
        raise NotFound(_("No such blueprint."), code="blueprint_not_found")
    return blueprint


def list_blueprints(trade: Trade | None = None) -> list[ExamBlueprint]:
    stmt = sa.select(ExamBlueprint).order_by(
        ExamBlueprint.trade_id, ExamBlueprint.level.desc(), ExamBlueprint.name
    )
    if trade is not None:
        stmt = stmt.where(ExamBlueprint.trade_id == trade.id)
    return list(db.session.scalars(stmt))


# --- allocation and the check ---------------------------------------------------------


def allocate(count: int, weights: list[tuple[int, int]]) -> dict[int, int]:
    """Split a section's count over areas by weight, largest remainder first, so the
    parts always add up to the count. weights: [(area_id, percent)] in quota order."""
    total = sum(weight for _area, weight in weights)
    if not weights or total <= 0:
        return {}
    exact = [(area_id, count * weight / total) for area_id, weight in weights]
    shares = {area_id: math.floor(value) for area_id, value in exact}
    left = count - sum(shares.values())
    by_remainder = sorted(
        enumerate(exact), key=lambda item: (-(item[1][1] - math.floor(item[1][1])), item[0])
    )
    for _index, (area_id, _value) in by_remainder[:left]:
        shares[area_id] += 1
    return shares


def supply_status(needed: int, available: int) -> str:
    """short: a paper cannot be drawn; thin: it can, but papers will be much alike."""
    if available < needed:
        return "short"
    if available < needed * IDEAL_FACTOR:
        return "thin"
    return "ok"


class _Supply:
    """A row of the check: how many questions a paper needs and how many the bank has."""

    needed: int
    available: int

    @property
    def status(self) -> str:
        return supply_status(self.needed, self.available)


@dataclass
class CheckRow(_Supply):
    section_type: QuestionType
    area: KnowledgeArea | None  # None: the whole bank (no quotas)
    needed: int
    available: int


@dataclass
class DifficultyRow(_Supply):
    difficulty: int
    needed: int
    available: int


@dataclass
class BlueprintCheck:
    rows: list[CheckRow]
    difficulty: list[DifficultyRow]

    @property
    def satisfiable(self) -> bool:
        return all(r.status != "short" for r in self.rows + self.difficulty)  # type: ignore[operator]

    @property
    def ideal(self) -> bool:
        return all(r.status == "ok" for r in self.rows + self.difficulty)  # type: ignore[operator]

    @property
    def types(self) -> list[QuestionType]:
        return list(dict.fromkeys(r.section_type for r in self.rows))

    @property
    def areas(self) -> list[KnowledgeArea | None]:
        return list(dict.fromkeys(r.area for r in self.rows))

    def cell(self, q_type: QuestionType, area: KnowledgeArea | None) -> CheckRow | None:
        for row in self.rows:
            if row.section_type is q_type and row.area is area:
                return row
        return None

    @property
    def shortfalls(self) -> list[CheckRow | DifficultyRow]:
        return [r for r in self.rows + self.difficulty if r.status != "ok"]  # type: ignore[operator]


def needed_counts(blueprint: ExamBlueprint) -> dict[tuple[QuestionType, int | None], int]:
    weights = [(q.area_id, q.weight) for q in blueprint.quotas]
    needed: dict[tuple[QuestionType, int | None], int] = {}
    for section in blueprint.sections:
        if not weights:
            needed[(section.question_type, None)] = section.count
            continue
        for area_id, n in allocate(section.count, weights).items():
            needed[(section.question_type, area_id)] = n
    return needed


def check_blueprint(blueprint: ExamBlueprint) -> BlueprintCheck:
    trade = blueprint.trade
    available = Counter()
    by_difficulty: Counter[int] = Counter()
    rows = db.session.execute(
        sa.select(
            QuestionVersion.area_id,
            QuestionVersion.type,
            QuestionVersion.difficulty,
            sa.func.count(),
        )
        .join(
            Question,
            sa.and_(
                QuestionVersion.question_id == Question.id,
                QuestionVersion.number == Question.version,
            ),
        )
        .where(Question.trade_id == trade.id, Question.status == QuestionStatus.ACTIVE)
        .group_by(QuestionVersion.area_id, QuestionVersion.type, QuestionVersion.difficulty)
    )
    per_area_type: Counter[tuple[int, QuestionType]] = Counter()
    for area_id, q_type, difficulty, n in rows:
        per_area_type[(area_id, q_type)] += n
        by_difficulty[difficulty] += n
        available[(q_type, None)] += n
    areas = {a.id: a for a in trade.areas}
    result = []
    for (q_type, area_id), needed in needed_counts(blueprint).items():
        if area_id is None:
            have = available[(q_type, None)]
            area = None
        else:
            area = areas[area_id]
            have = sum(per_area_type[(i, q_type)] for i in subtree_ids(area))
        result.append(CheckRow(q_type, area, needed, have))
    difficulty_rows = []
    total = blueprint.question_count
    for level, pct in sorted((int(k), v) for k, v in (blueprint.difficulty_mix or {}).items()):
        if pct:
            difficulty_rows.append(
                DifficultyRow(level, round(total * pct / 100), by_difficulty[level])
            )
    return BlueprintCheck(result, difficulty_rows)


# --- export and load ------------------------------------------------------------------


def export_blueprint(blueprint: ExamBlueprint) -> dict[str, object]:
    return {
        "trade": blueprint.trade.code,
        "level": blueprint.level,
        "name": blueprint.name,
        "duration_minutes": blueprint.duration_minutes,
        "pass_mark": blueprint.pass_mark,
        "sections": [
            {"type": str(s.question_type), "count": s.count, "points": _fmt(s.points)}
            for s in blueprint.sections
        ],
        "quotas": [{"area": q.area.path, "weight": q.weight} for q in blueprint.quotas],
        "difficulty_mix": {str(k): v for k, v in sorted((blueprint.difficulty_mix or {}).items())},
    }


def blueprint_from_dict(raw: dict, source: str = "blueprint") -> tuple[Trade, BlueprintData]:
    """Read an exported blueprint; every problem names the field."""
    try:
        trade = get_trade(str(raw["trade"]))
        sections = [
            SectionData(QuestionType(s["type"]), int(s["count"]), Decimal(str(s["points"])))
            for s in raw["sections"]
        ]
        data = BlueprintData(
            name=str(raw["name"]),
            level=None if raw.get("level") in (None, "") else int(raw["level"]),
            duration_minutes=int(raw.get("duration_minutes", 90)),
            pass_mark=int(raw.get("pass_mark", 60)),
            sections=sections,
            quotas={str(q["area"]): int(q["weight"]) for q in raw.get("quotas", [])},
            difficulty_mix={int(k): int(v) for k, v in (raw.get("difficulty_mix") or {}).items()},
        )
    except KeyError as exc:
        raise ValidationFailed(
            [Problem(source, _("The field %(name)s is missing.", name=exc.args[0]))]
        ) from exc
    except (TypeError, ValueError, InvalidOperation) as exc:
        raise ValidationFailed(
            [Problem(source, _("A value has the wrong form: %(why)s", why=exc))]
        ) from exc
    return trade, data


def load_blueprint_json(text: str, source: str, actor=None) -> ExamBlueprint:
    """Create or update (by trade, level and name) the blueprint described in JSON."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            [Problem(source, _("Line %(n)d is not valid JSON: %(why)s", n=exc.lineno, why=exc.msg))]
        ) from exc
    if not isinstance(raw, dict):
        raise ValidationFailed([Problem(source, _("Expected one blueprint object."))])
    trade, data = blueprint_from_dict(raw, source)
    existing = db.session.scalar(
        sa.select(ExamBlueprint).where(
            ExamBlueprint.trade_id == trade.id,
            ExamBlueprint.name == data.name.strip(),
            ExamBlueprint.level.is_(None)
            if data.level is None
            else ExamBlueprint.level == data.level,
        )
    )
    return save_blueprint(trade, data, existing, actor=actor)
