from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.core.db_types import text_enum
from certify.core.errors import DomainError
from certify.core.labels import LabelledEnum
from certify.extensions import db


class CertificateType(LabelledEnum):
    # 专项职业能力证书: one practical skill, no level
    SPECIAL = "special", _l("Special vocational ability certificate")
    # 职业技能等级证书: levels 五级 .. 一级
    LEVEL = "level", _l("Vocational skill level certificate")


CERTIFICATE_TYPE_LABELS = CertificateType.labels()

# Level 5 is the entry level (五级/初级工); level 1 the highest (一级/高级技师).
LEVEL_LABELS = {
    5: _l("Level 5 / junior worker"),
    4: _l("Level 4 / intermediate worker"),
    3: _l("Level 3 / senior worker"),
    2: _l("Level 2 / technician"),
    1: _l("Level 1 / senior technician"),
}
LEVELS = tuple(sorted(LEVEL_LABELS, reverse=True))


def level_label(level: int | None) -> str:
    return str(LEVEL_LABELS[level]) if level else ""


class TradeLevel(db.Model):
    __tablename__ = "trade_levels"

    trade_id: Mapped[int] = mapped_column(
        sa.ForeignKey("trades.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[int] = mapped_column(primary_key=True)

    __table_args__ = (sa.CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),)


class Trade(db.Model):
    __tablename__ = "trades"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    national_code: Mapped[str | None] = mapped_column(sa.String(20))
    certificate_type: Mapped[CertificateType] = mapped_column(text_enum(CertificateType))
    assesses_theory: Mapped[bool] = mapped_column(default=True)
    assesses_practical: Mapped[bool] = mapped_column(default=True)
    theory_pass_mark: Mapped[int] = mapped_column(default=60)
    practical_pass_mark: Mapped[int] = mapped_column(default=60)
    theory_duration_minutes: Mapped[int] = mapped_column(default=90)
    # 多选题: "exact" (all or nothing) or "partial" (少选得部分分, 错选不得分)
    multiple_scoring: Mapped[str] = mapped_column(
        sa.String(8), default="exact", server_default="exact"
    )
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # None: the national layout for 职业技能等级证书, or ZX… for 专项 (certificates/numbering.py)
    certificate_number_format: Mapped[str | None] = mapped_column(sa.String(80))

    level_rows: Mapped[list[TradeLevel]] = relationship(
        cascade="all, delete-orphan", order_by=TradeLevel.level.desc()
    )
    areas: Mapped[list[KnowledgeArea]] = relationship(
        back_populates="trade", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("theory_pass_mark BETWEEN 0 AND 100", name="theory_pass_mark_range"),
        sa.CheckConstraint(
            "practical_pass_mark BETWEEN 0 AND 100", name="practical_pass_mark_range"
        ),
        sa.CheckConstraint("theory_duration_minutes > 0", name="theory_duration_positive"),
        sa.CheckConstraint("assesses_theory OR assesses_practical", name="assesses_something"),
    )

    def __repr__(self) -> str:
        return f"<Trade {self.code}>"

    @property
    def levels(self) -> list[int]:
        return [row.level for row in self.level_rows]

    @property
    def certificate_label(self) -> str:
        return self.certificate_type.label

    @property
    def root_areas(self) -> list[KnowledgeArea]:
        return sorted(
            (a for a in self.areas if a.parent_id is None and a.parent is None),
            key=lambda a: (a.position, a.id or 0),
        )

    def configure_certificate(self, certificate_type: CertificateType, levels: Iterable[int]):
        """Set the certificate type and its levels together, refusing mixes that cannot exist."""
        wanted = sorted(set(levels), reverse=True)
        if certificate_type is CertificateType.SPECIAL and wanted:
            raise DomainError(
                _l("A special vocational ability certificate has no levels."),
                code="special_has_no_levels",
                field="levels",
            )
        if certificate_type is CertificateType.LEVEL and not wanted:
            raise DomainError(
                _l("Choose at least one level for a skill level certificate."),
                code="level_needed",
                field="levels",
            )
        if any(level not in LEVEL_LABELS for level in wanted):
            raise DomainError(_l("Levels run from 5 to 1."), code="bad_level", field="levels")
        self.certificate_type = certificate_type
        kept = {row.level: row for row in self.level_rows}
        self.level_rows = [kept.get(level) or TradeLevel(level=level) for level in wanted]


class KnowledgeArea(db.Model):
    """A node of the trade's knowledge tree, e.g. 入库作业 › 验收."""

    __tablename__ = "knowledge_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    trade_id: Mapped[int] = mapped_column(sa.ForeignKey("trades.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("knowledge_areas.id"))
    name: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int] = mapped_column(default=0)

    trade: Mapped[Trade] = relationship(back_populates="areas")
    parent: Mapped[KnowledgeArea | None] = relationship(
        remote_side="KnowledgeArea.id", back_populates="children"
    )
    children: Mapped[list[KnowledgeArea]] = relationship(
        back_populates="parent", order_by="(KnowledgeArea.position, KnowledgeArea.id)"
    )

    __table_args__ = (
        sa.UniqueConstraint("trade_id", "parent_id", "name", name="sibling_name"),
        sa.Index("ix_knowledge_areas_trade_parent", "trade_id", "parent_id"),
    )

    PATH_SEPARATOR = "/"

    def __repr__(self) -> str:
        return f"<KnowledgeArea {self.path}>"

    @property
    def ancestors(self) -> list[KnowledgeArea]:
        chain: list[KnowledgeArea] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    @property
    def path(self) -> str:
        return self.PATH_SEPARATOR.join([a.name for a in self.ancestors] + [self.name])

    @property
    def display_path(self) -> str:
        return " › ".join([a.name for a in self.ancestors] + [self.name])

    @property
    def depth(self) -> int:
        return len(self.ancestors)
