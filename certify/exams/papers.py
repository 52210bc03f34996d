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
from certify.banks.models import ExamBlueprint, Question, QuestionStatus, QuestionVersion
from certify.banks.types import QuestionType
from certify.catalog.models import KnowledgeArea
from certify.core.errors import DomainError
from certify.extensions import db


@dataclass(frozen=True)
class PaperItem:
    version_id: int
    question_id: int
    points_hundredths: int
    option_order: tuple[str, ...]  # option keys in the order shown; empty for true/false


@dataclass(frozen=True)
class _Candidate:
    """What drawing needs of a question version: plain values, not an ORM object.

    A start draws from the whole bank; building 300+ ORM objects (with their JSON options)
    and walking the area tree by lazy loads cost most of a start's 150 ms on an exam morning.
    """

    version_id: int
    question_id: int
    difficulty: int
    option_keys: tuple[str, ...]
    exam_only: bool = False  # 仅用于考试: never drawn for a mock exam


class BankTooSmall(DomainError):
    code = "bank_too_small"
    status = 409


@dataclass(frozen=True)
class _Pool:
    signature: tuple
    cells: dict[tuple[QuestionType, int], list[_Candidate]]
    subtrees: dict[int, list[int]]
    texts: dict[int, tuple[QuestionType, str, list[dict]]]  # version id: type, stem, options


# The last pool read per (database, trade), per process. A start draws from the whole bank,
# and an exam morning starts thousands of papers from a bank that does not change meanwhile.
_pools: dict[tuple[str, int], _Pool] = {}


# PostgreSQL digests what drawing depends on itself: one short row instead of hundreds.
_PG_SIGNATURE = sa.text(
    """
    SELECT
      (SELECT md5(string_agg(
                concat_ws(':', v.id, v.fingerprint, v.difficulty, v.area_id, q.updated_at),
                ',' ORDER BY v.id))
         FROM question_versions v
         JOIN questions q ON q.id = v.question_id AND v.number = q.version
        WHERE q.trade_id = :trade AND q.status = :active),
      (SELECT md5(string_agg(concat_ws(':', a.id, a.parent_id, a.position), ',' ORDER BY a.id))
         FROM knowledge_areas a
        WHERE a.trade_id = :trade)
    """
)


def _signature(trade_id: int) -> tuple:
    """What drawing depends on, without the options' JSON: any edit, retirement, import or
    area change alters it (an edit always moves Question.updated_at, a retirement the
    membership, an import the ids; the fingerprint covers the texts, so that another
    database with the same ids and times does not pass for this one)."""
    if db.engine.dialect.name == "postgresql":
        params = {"trade": trade_id, "active": QuestionStatus.ACTIVE.value}
        return tuple(db.session.execute(_PG_SIGNATURE, params).one())
    questions = _active_versions(
        trade_id,
        QuestionVersion.fingerprint,
        QuestionVersion.difficulty,
        QuestionVersion.area_id,
        Question.updated_at,
    ).all()
    return tuple(map(tuple, questions)), tuple(map(tuple, _areas(trade_id)))


def _areas(trade_id: int) -> list:
    return db.session.execute(
        sa.select(KnowledgeArea.id, KnowledgeArea.parent_id, KnowledgeArea.position)
        .where(KnowledgeArea.trade_id == trade_id)
        .order_by(KnowledgeArea.position, KnowledgeArea.id)
    ).all()


def _active_versions(trade_id: int, *columns):
    """The version id and `columns` of each active question's current version, by id."""
    current = sa.and_(
        QuestionVersion.question_id == Question.id, QuestionVersion.number == Question.version
    )
    return db.session.execute(
        sa.select(QuestionVersion.id, *columns)
        .join(Question, current)
        .where(Question.trade_id == trade_id, Question.status == QuestionStatus.ACTIVE)
        .order_by(QuestionVersion.id)
    )


def _pool(trade_id: int) -> _Pool:
    signature = _signature(trade_id)
    key = (db.engine.url.render_as_string(hide_password=True), trade_id)
    cached = _pools.get(key)
    if cached is not None and cached.signature == signature:
        return cached
    rows = _active_versions(
        trade_id,
        QuestionVersion.question_id,
        QuestionVersion.type,
        QuestionVersion.area_id,
        QuestionVersion.difficulty,
        QuestionVersion.options,
        QuestionVersion.stem,
        Question.exam_only,
    )
    cells: dict[tuple[QuestionType, int], list[_Candidate]] = defaultdict(list)
    texts: dict[int, tuple[QuestionType, str, list[dict]]] = {}
    for version_id, question_id, q_type, area_id, difficulty, options, stem, exam_only in rows:
        keys = tuple(o["key"] for o in options or [])
        candidate = _Candidate(version_id, question_id, difficulty, keys, bool(exam_only))
        cells[(q_type, area_id)].append(candidate)
        texts[version_id] = (q_type, stem, options or [])
    pool = _Pool(signature, dict(cells), _subtrees(_areas(trade_id)), texts)
    _pools[key] = pool  # one assignment: threads see the old pool or the new one
    return pool


def pool_texts(trade_id: int) -> dict[int, tuple[QuestionType, str, list[dict]]]:
    """The current versions' texts of the trade's active questions, from the checked pool."""
    return _pool(trade_id).texts


def _subtrees(areas: list) -> dict[int, list[int]]:
    """Each area's id followed by its descendants', children by (position, id)."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for area_id, parent_id, _position in areas:  # already in (position, id) order
        children[parent_id].append(area_id)
    subtrees: dict[int, list[int]] = {}
    for area_id, _parent, _position in areas:
        ids, stack = [], [area_id]
        while stack:  # the same depth-first order as banks.services.subtree_ids
            node = stack.pop()
            ids.append(node)
            stack.extend(children[node])
        subtrees[area_id] = ids
    return subtrees


def _weighted_sample(
    rng: random.Random, items: list[_Candidate], k: int, mix: dict[int, int]
) -> list[_Candidate]:
    """k distinct items; with a mix, each pick favours the difficulties still under target.

    An item's weight depends only on its difficulty, so each pick chooses a difficulty
    (weight × items left of it) and then an item of it uniformly: the same odds as
    weighing every item, in a few steps per pick instead of one per item.
    """
    if not mix:
        return rng.sample(items, k)
    buckets: dict[int, list[_Candidate]] = defaultdict(list)
    for item in items:
        buckets[item.difficulty].append(item)
    chosen: list[_Candidate] = []
    counts: dict[int, int] = defaultdict(int)
    for _ in range(k):
        weights = {
            d: max(0.05, mix.get(d, 0) / 100 - counts[d] / max(1, len(chosen)) + 0.05) * len(left)
            for d, left in buckets.items()
            if left
        }
        point = rng.random() * sum(weights.values())
        for difficulty, weight in weights.items():
            picked = difficulty  # the last one if rounding leaves the point at the end
            point -= weight
            if point < 0:
                break
        left = buckets[picked]
        chosen.append(left.pop(rng.randrange(len(left))))
        counts[picked] += 1
    return chosen


def draw_paper(blueprint: ExamBlueprint, seed: int, *, mock: bool = False) -> list[PaperItem]:
    """A paper for an exam, or (`mock`) for a mock exam, which never draws 仅用于考试 ones."""
    rng = random.Random(seed)
    pool = _pool(blueprint.trade_id)
    subtrees = pool.subtrees
    everywhere = sorted(subtrees)
    mix = {int(k): v for k, v in (blueprint.difficulty_mix or {}).items()}
    points = {s.question_type: s.points_hundredths for s in blueprint.sections}
    counts = needed_counts(blueprint)  # the same for every section: allocate it once
    items: list[PaperItem] = []
    for section in blueprint.sections:
        for (q_type, area_id), needed in counts.items():
            if q_type is not section.question_type or needed == 0:
                continue
            ids = subtrees.get(area_id, []) if area_id is not None else everywhere
            candidates = [
                v
                for i in ids
                for v in pool.cells.get((q_type, i), [])
                if not (mock and v.exam_only)
            ]
            if len(candidates) < needed:
                raise BankTooSmall(f"{q_type}: {len(candidates)} < {needed}", code="bank_too_small")
            for version in _weighted_sample(rng, candidates, needed, mix):
                order: tuple[str, ...] = ()
                if q_type is not QuestionType.TRUE_FALSE:
                    keys = list(version.option_keys)
                    rng.shuffle(keys)
                    order = tuple(keys)
                items.append(
                    PaperItem(version.version_id, version.question_id, points[q_type], order)
                )
    return items


def new_seed() -> int:
    return random.SystemRandom().randrange(1, 2**31)
