"""Writes to the trade catalog. Views, the CLI and the demo loader all come through here."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from certify.audit.services import record_event
from certify.catalog.models import CertificateType, KnowledgeArea, Trade
from certify.catalog.number_formats import format_problem
from certify.core.errors import Conflict, DomainError, NotFound, Problem, ValidationFailed
from certify.core.references import count_references
from certify.core.tables import quoted
from certify.extensions import db

CODE_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NATIONAL_CODE_PATTERN = re.compile(r"^\d-\d{2}-\d{2}-\d{2}(?:-\d{2})?$")
# Tables that belong to the trade itself and go with it when it is deleted.
OWNED_TABLES = frozenset({"trade_levels", "knowledge_areas"})
USAGE_LABELS = {
    "staff_trades": _l("accredited trainers and examiners"),
}


@dataclass
class TradeData:
    code: str
    name: str
    certificate_type: CertificateType
    levels: list[int] = field(default_factory=list)
    national_code: str | None = None
    assesses_theory: bool = True
    assesses_practical: bool = True
    theory_pass_mark: int = 60
    practical_pass_mark: int = 60
    theory_duration_minutes: int = 90
    description: str = ""
    multiple_scoring: str = "exact"  # 多选题: "exact" or "partial"
    certificate_number_format: str | None = None  # None: the national layout


def _snapshot(trade: Trade) -> dict[str, object]:
    return {
        "certificate_number_format": trade.certificate_number_format,
        "code": trade.code,
        "name": trade.name,
        "national_code": trade.national_code,
        "certificate_type": str(trade.certificate_type),
        "levels": trade.levels,
        "assesses_theory": trade.assesses_theory,
        "assesses_practical": trade.assesses_practical,
        "theory_pass_mark": trade.theory_pass_mark,
        "practical_pass_mark": trade.practical_pass_mark,
        "theory_duration_minutes": trade.theory_duration_minutes,
        "multiple_scoring": trade.multiple_scoring,
    }


def _check_trade_data(data: TradeData, *, existing: Trade | None = None) -> None:
    problems: list[Problem] = []
    data.code = (data.code or "").strip().lower()
    data.name = (data.name or "").strip()
    data.national_code = (data.national_code or "").strip() or None
    if not CODE_PATTERN.match(data.code) or len(data.code) > 40:
        problems.append(
            Problem(
                "code",
                _("Use lower-case letters, digits and hyphens, e.g. warehouse-keeper."),
            )
        )
    else:
        clash = db.session.scalar(sa.select(Trade).where(Trade.code == data.code))
        if clash is not None and clash is not existing:
            problems.append(Problem("code", _("Another trade already uses this code.")))
    if not data.name or len(data.name) > 64:
        problems.append(Problem("name", _("Enter the trade's name (at most 64 characters).")))
    if data.national_code and not NATIONAL_CODE_PATTERN.match(data.national_code):
        problems.append(
            Problem("national_code", _("Write the classification code like 4-02-06-03."))
        )
    if not (data.assesses_theory or data.assesses_practical):
        problems.append(
            Problem("assesses_theory", _("Assess at least one part: theory or practical."))
        )
    for name in ("theory_pass_mark", "practical_pass_mark"):
        value = getattr(data, name)
        if not isinstance(value, int) or not 0 <= value <= 100:
            problems.append(Problem(name, _("A pass mark is a whole number from 0 to 100.")))
    if not isinstance(data.theory_duration_minutes, int) or not (
        1 <= data.theory_duration_minutes <= 600
    ):
        problems.append(Problem("theory_duration_minutes", _("The duration is 1 to 600 minutes.")))
    if data.multiple_scoring not in ("exact", "partial"):
        problems.append(Problem("multiple_scoring", _("Choose how multiple-choice answers score.")))
    if data.certificate_number_format:
        problem = format_problem(data.certificate_number_format)
        if problem:
            problems.append(Problem("certificate_number_format", problem))
    if problems:
        raise ValidationFailed(problems)


def _apply(trade: Trade, data: TradeData) -> None:
    try:
        trade.configure_certificate(data.certificate_type, data.levels)
    except DomainError as exc:
        raise ValidationFailed([Problem(exc.field or "levels", exc.message)]) from exc
    trade.code = data.code
    trade.name = data.name
    trade.national_code = data.national_code
    trade.assesses_theory = data.assesses_theory
    trade.assesses_practical = data.assesses_practical
    trade.theory_pass_mark = data.theory_pass_mark
    trade.practical_pass_mark = data.practical_pass_mark
    trade.theory_duration_minutes = data.theory_duration_minutes
    trade.description = data.description or ""
    trade.multiple_scoring = data.multiple_scoring
    trade.certificate_number_format = data.certificate_number_format


def create_trade(data: TradeData) -> Trade:
    _check_trade_data(data)
    trade = Trade()
    _apply(trade, data)
    db.session.add(trade)
    record_event("trade.created", trade, after=_snapshot(trade))
    return trade


def update_trade(trade: Trade, data: TradeData) -> Trade:
    _check_trade_data(data, existing=trade)
    if data.certificate_type != trade.certificate_type and trade_usage(trade):
        raise ValidationFailed(
            [
                Problem(
                    "certificate_type",
                    _("The certificate type cannot change while the trade is in use."),
                )
            ]
        )
    before = _snapshot(trade)
    _apply(trade, data)
    after = _snapshot(trade)
    if after != before:
        record_event("trade.updated", trade, before=before, after=after)
    return trade


def trade_usage(trade: Trade) -> Counter[str]:
    """References to the trade or its knowledge areas from outside the trade itself."""
    return count_references(
        {"trades": [trade.id], "knowledge_areas": [area.id for area in trade.areas]},
        skip=OWNED_TABLES,
    )


def describe_usage(usage: Counter[str]) -> str:
    return _("; ").join(
        _("%(what)s: %(count)d", what=USAGE_LABELS.get(name, name), count=n)
        for name, n in sorted(usage.items())
    )


def delete_trade(trade: Trade) -> None:
    usage = trade_usage(trade)
    if usage:
        raise Conflict(
            _(
                "This trade is in use (%(usage)s) and cannot be deleted.",
                usage=describe_usage(usage),
            ),
            code="trade_in_use",
        )
    record_event("trade.deleted", trade, before=_snapshot(trade))
    db.session.delete(trade)


def get_trade(code: str) -> Trade:
    trade = db.session.scalar(sa.select(Trade).where(Trade.code == (code or "").strip().lower()))
    if trade is None:
        raise NotFound(_("No trade with code %(code)s.", code=code), code="trade_not_found")
    return trade


def list_trades() -> list[Trade]:
    return list(db.session.scalars(sa.select(Trade).order_by(Trade.code)))


# --- knowledge areas ----------------------------------------------------------


def _clean_area_name(name: str) -> str:
    name = re.sub(r"\s+", " ", name or "").strip()
    if not name or len(name) > 64:
        raise ValidationFailed([Problem("name", _("Enter a name of at most 64 characters."))])
    if KnowledgeArea.PATH_SEPARATOR in name:
        raise ValidationFailed([Problem("name", _("A knowledge area name cannot contain “/”."))])
    return name


def _sibling(trade: Trade, parent: KnowledgeArea | None, name: str) -> KnowledgeArea | None:
    for area in trade.areas:
        if area.parent is parent and area.name == name:
            return area
    return None


def add_knowledge_area(
    trade: Trade, name: str, parent: KnowledgeArea | None = None
) -> KnowledgeArea:
    name = _clean_area_name(name)
    if parent is not None and parent.trade is not trade:
        raise DomainError(_("That parent area belongs to another trade."), code="wrong_trade")
    if _sibling(trade, parent, name) is not None:
        raise ValidationFailed([Problem("name", _("This level already has an area of that name."))])
    siblings = [a for a in trade.areas if a.parent is parent]
    area = KnowledgeArea(
        trade=trade,
        parent=parent,
        name=name,
        position=max((a.position for a in siblings), default=-1) + 1,
    )
    db.session.add(area)
    record_event("knowledge_area.created", area, after={"trade": trade.code, "path": area.path})
    return area


MAX_AREA_DEPTH = 6  # 知识点一级 … 六级, as real bank spreadsheets lay them out
MAX_AREA_NAME_CHARS = 64


def area_path_problem(path: str) -> str | None:
    """Why a knowledge-area path cannot be created, or None: the same rules as adding the
    areas one by one, so an import's dry run refuses what the real import would."""
    parts = [p.strip() for p in (path or "").split(KnowledgeArea.PATH_SEPARATOR) if p.strip()]
    if not parts:
        return _("The knowledge area path is empty.")
    if len(parts) > MAX_AREA_DEPTH:
        return _(
            "The knowledge area path has %(n)d levels; at most %(max)d (一级 … 六级).",
            n=len(parts),
            max=MAX_AREA_DEPTH,
        )
    for part in parts:
        if len(re.sub(r"\s+", " ", part)) > MAX_AREA_NAME_CHARS:
            return _(
                "The knowledge area name “%(name)s” is longer than %(n)d characters.",
                name=quoted(part),
                n=MAX_AREA_NAME_CHARS,
            )
    return None


def ensure_area_path(trade: Trade, path: str) -> KnowledgeArea:
    """The area at 'a/b/c', creating the missing nodes on the way."""
    parent: KnowledgeArea | None = None
    parts = [p.strip() for p in (path or "").split(KnowledgeArea.PATH_SEPARATOR) if p.strip()]
    problem = area_path_problem(path)
    if problem:
        raise ValidationFailed([Problem("path", problem)])
    for part in parts:
        existing = _sibling(trade, parent, _clean_area_name(part))
        parent = existing or add_knowledge_area(trade, part, parent)
    assert parent is not None
    return parent


def find_area_by_path(trade: Trade, path: str) -> KnowledgeArea | None:
    parts = [p.strip() for p in (path or "").split(KnowledgeArea.PATH_SEPARATOR) if p.strip()]
    node: KnowledgeArea | None = None
    for part in parts:
        node = _sibling(trade, node, re.sub(r"\s+", " ", part))
        if node is None:
            return None
    return node


def rename_knowledge_area(area: KnowledgeArea, name: str) -> KnowledgeArea:
    name = _clean_area_name(name)
    clash = _sibling(area.trade, area.parent, name)
    if clash is not None and clash is not area:
        raise ValidationFailed([Problem("name", _("This level already has an area of that name."))])
    before = {"path": area.path}
    area.name = name
    record_event("knowledge_area.renamed", area, before=before, after={"path": area.path})
    return area


def delete_knowledge_area(area: KnowledgeArea) -> None:
    if area.children:
        raise Conflict(
            _("Delete or move the areas under “%(name)s” first.", name=area.name),
            code="area_has_children",
        )
    usage = count_references({"knowledge_areas": [area.id]}, skip=frozenset({"knowledge_areas"}))
    if usage:
        raise Conflict(
            _(
                "This area is in use (%(usage)s) and cannot be deleted.",
                usage=describe_usage(usage),
            ),
            code="area_in_use",
        )
    record_event("knowledge_area.deleted", area, before={"path": area.path})
    area.trade.areas.remove(area)
    db.session.delete(area)
