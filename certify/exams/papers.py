"""Drawing a paper from a blueprint: reproducible from its seed, different for neighbours.

Each (type, knowledge area) cell of the blueprint draws its count from the active
questions of that area's subtree; the difficulty mix steers which ones, as far as
the bank allows. Option order is shuffled per paper (not for true/false).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from certify.banks.blueprints import needed_counts
from certify.banks.formats.common import QuestionType
from certify.banks.models import ExamBlueprint, Question, QuestionStatus, QuestionVersion
from certify.banks.services import subtree_ids
from certify.core.errors import DomainError
from certify.extensions import db


@dataclass(frozen=True)
class PaperItem:
    version_id: int
    points_hundredths: int
    option_order: tuple[str, ...]  # option keys in the order shown; empty for true/false


class BankTooSmall(DomainError):
    code = "bank_too_small"
    status = 409


def _pool(blueprint: ExamBlueprint) -> dict[tuple[QuestionType, int], list[QuestionVersion]]:
    rows = db.session.scalars(
        sa.select(QuestionVersion)
        .join(
            Question,
            sa.and_(
                QuestionVersion.question_id == Question.id,
                QuestionVersion.number == Question.version,
            ),
        )
        .where(Question.trade_id == blueprint.trade_id, Question.status == QuestionStatus.ACTIVE)
        .order_by(QuestionVersion.id)
    )
    pool: dict[tuple[QuestionType, int], list[QuestionVersion]] = defaultdict(list)
    for version in rows:
        pool[(version.type, version.area_id)].append(version)
    return pool


def _weighted_sample(
    rng: random.Random, items: list[QuestionVersion], k: int, mix: dict[int, int]
) -> list[QuestionVersion]:
    """k distinct items; with a mix, each pick favours the difficulties still under target."""
    if not mix:
        return rng.sample(items, k)
    chosen: list[QuestionVersion] = []
    left = list(items)
    counts: dict[int, int] = defaultdict(int)
    for _ in range(k):

        def weight(v: QuestionVersion) -> float:
            target = mix.get(v.difficulty, 0) / 100
            have = counts[v.difficulty] / max(1, len(chosen))
            return max(0.05, target - have + 0.05)

        pick = rng.choices(left, weights=[weight(v) for v in left], k=1)[0]
        left.remove(pick)
        chosen.append(pick)
        counts[pick.difficulty] += 1
    return chosen


def draw_paper(blueprint: ExamBlueprint, seed: int) -> list[PaperItem]:
    rng = random.Random(seed)
    pool = _pool(blueprint)
    areas = {a.id: a for a in blueprint.trade.areas}
    mix = {int(k): v for k, v in (blueprint.difficulty_mix or {}).items()}
    points = {s.question_type: s.points_hundredths for s in blueprint.sections}
    items: list[PaperItem] = []
    for section in blueprint.sections:
        for (q_type, area_id), needed in needed_counts(blueprint).items():
            if q_type is not section.question_type or needed == 0:
                continue
            ids = subtree_ids(areas[area_id]) if area_id is not None else list(areas)
            candidates = [v for i in ids for v in pool.get((q_type, i), [])]
            if len(candidates) < needed:
                raise BankTooSmall(f"{q_type}: {len(candidates)} < {needed}", code="bank_too_small")
            for version in _weighted_sample(rng, candidates, needed, mix):
                order: tuple[str, ...] = ()
                if q_type is not QuestionType.TRUE_FALSE:
                    keys = [o["key"] for o in version.options]
                    rng.shuffle(keys)
                    order = tuple(keys)
                items.append(PaperItem(version.id, points[q_type], order))
    return items


def new_seed() -> int:
    return random.SystemRandom().randrange(1, 2**31)
