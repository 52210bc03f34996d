"""A bank as a reviewer of the bureau reads it, before a worker ever sees it.

A bank can have every key right and still be sent back: when the key is usually the longest
option, or true/false items with 一定/任何/只要 are nearly always false, a test-wise worker
passes without knowing the trade. The lint counts those tells, the pools each blueprint draws
from against the 2× and 3× rules, the 鉴定点 every question should name, and — once workers
have answered — what the answers say: labels that do not match how hard a question really
was, and distractors nobody picks.

It reads plain LintQuestion records, so the same checks run on a trade's bank
(`lint_bank`, `flask --app wsgi banks lint`, the bank page) and on a file before it is
imported (`lint_parsed`, the import preview).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from certify.banks.blueprints import IDEAL_FACTOR, list_blueprints, needed_counts
from certify.banks.formats.common import ParsedQuestion
from certify.banks.models import ExamPoint, Question, QuestionStatus, QuestionVersion
from certify.banks.types import FALSE_KEY, TRUE_KEY, QuestionType
from certify.catalog.models import KnowledgeArea, Trade
from certify.core.tables import quoted
from certify.extensions import db

BLOCKING, WARNING = "blocking", "warning"
# Blocking thresholds (the issue's, and a reviewer's): over these the bank goes back.
MAX_LONGEST_KEY_SHARE = 0.35
MAX_ABSOLUTE_ONE_WAY = 0.70
MIN_POOL_FACTOR = IDEAL_FACTOR  # every blueprint cell ≥ 2× what a paper draws
FINE_POOL_FACTOR = 3  # 精品题库: ≥ 3×
# Advice thresholds.
STRONG_TELL = 1.5  # the key 1.5× as long as the next-longest option gives itself away
MAX_KEY_POSITION_SHARE = 0.40
MIN_KEY_POSITION_SHARE = 0.10
TRUE_SHARE_RANGE = (0.35, 0.65)
NEAR_DUPLICATE = 0.90
MAX_PAIRWISE_GROUP = 800  # above this, only identical stems are compared (time)
MIX_TOLERANCE = 10  # percentage points between the bank's difficulty mix and a blueprint's
MIN_ANSWERS_FOR_FACILITY = 30
MIN_ANSWERS_FOR_DISTRACTORS = 50
UNPICKED_SHARE = 0.02
# Facility (share right) expected of each difficulty label, as Moodle's bands.
FACILITY_BANDS = ((1, 0.85), (2, 0.70), (3, 0.50), (4, 0.30), (5, 0.0))

ABSOLUTE_WORDS = re.compile(
    "一定|任何|只要|所有|一切|完全|绝对|必须|从不|从来不|总是|一律|全部|永远|决不|绝不|凡是|"
    "唯一|只有|越.{1,8}越"
)
ALL_OF_THE_ABOVE = re.compile(
    r"^(以上|上述)(各项|选项|答案|说法)?(都|均|全|皆)(对|正确|是|不对|不正确|错误|不是|非)$|"
    r"^(都对|都不对|全对|全错|全部正确|全部错误)$"
)
_PUNCTUATION = re.compile(r"[\s\W_（）()]+")


@dataclass(frozen=True)
class LintQuestion:
    """A question as the lint reads it: from the bank, or a row of a file to import."""

    ref: str  # how a message names it: 第 12 题 (the bank's id) or 第 12 行 (the file's row)
    question_id: int | None
    type: QuestionType
    stem: str
    options: tuple[tuple[str, str], ...]  # (key, text)
    correct: tuple[str, ...]
    area_path: str | None
    difficulty: int | None
    point_code: str = ""


@dataclass
class AnswerStats:
    """How workers answered one question (exams and mocks): n answers, right, option picks."""

    n: int = 0
    right: int = 0
    picks: Counter = field(default_factory=Counter)


@dataclass(frozen=True)
class Finding:
    check: str  # a stable code: longest_key, key_position, absolute_words, …
    severity: str  # BLOCKING or WARNING
    message: str  # what is wrong and what to do, in the reader's language
    where: str | None = None  # the question it names, if one
    question_id: int | None = None  # that question in the bank (None: a row of a file)


@dataclass
class LintReport:
    questions: int
    findings: list[Finding]
    figures: dict[str, Any]

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == BLOCKING]

    @property
    def passed(self) -> bool:
        return not self.blocking

    def to_json(self) -> dict[str, Any]:
        return {
            **self.figures,
            "questions": self.questions,
            "blocking": sorted({f.check for f in self.blocking}),
            "warnings": len([f for f in self.findings if f.severity == WARNING]),
            "passed": self.passed,
        }


# --- what the lint reads ------------------------------------------------------------------

# Answer statistics come from the exams and mocks, which sit above the banks: they register
# a source here (the app factory does) instead of the banks importing them.
AnswerSource = Callable[[Trade], Iterable[tuple[int, Sequence[str], bool]]]
_answer_sources: list[AnswerSource] = []


def register_answer_source(source: AnswerSource) -> None:
    if source not in _answer_sources:
        _answer_sources.append(source)


def answer_stats(trade: Trade) -> dict[int, AnswerStats]:
    stats: dict[int, AnswerStats] = defaultdict(AnswerStats)
    for source in _answer_sources:
        for question_id, chosen, right in source(trade):
            entry = stats[question_id]
            entry.n += 1
            entry.right += int(right)
            entry.picks.update(chosen)
    return dict(stats)


def bank_questions(trade: Trade) -> list[LintQuestion]:
    rows = db.session.execute(
        sa.select(Question.id, QuestionVersion, KnowledgeArea)
        .join(
            QuestionVersion,
            sa.and_(
                QuestionVersion.question_id == Question.id,
                QuestionVersion.number == Question.version,
            ),
        )
        .join(KnowledgeArea, KnowledgeArea.id == QuestionVersion.area_id)
        .where(Question.trade_id == trade.id, Question.status == QuestionStatus.ACTIVE)
        .order_by(Question.id)
    )
    return [
        LintQuestion(
            ref=_("question %(id)d", id=question_id),
            question_id=question_id,
            type=version.type,
            stem=version.stem,
            options=tuple((o["key"], o["text"]) for o in version.options),
            correct=tuple(version.correct),
            area_path=area.path,
            difficulty=version.difficulty,
            point_code=version.point_code,
        )
        for question_id, version, area in rows
    ]


def parsed_questions(
    questions: Iterable[ParsedQuestion], ref: Callable[[int], str]
) -> list[LintQuestion]:
    """The rows or lines of a file, each named as the preview names it (`ref(number)`)."""
    return [
        LintQuestion(
            ref=ref(q.number),
            question_id=None,
            type=q.type,
            stem=q.stem or "",
            options=tuple((o.key, o.text) for o in q.options),
            correct=tuple(q.correct),
            area_path=q.area_path,
            difficulty=q.difficulty,
            point_code=(q.point_code or "").strip(),
        )
        for q in questions
    ]


def lint_bank(trade: Trade) -> LintReport:
    """The trade's active questions, its blueprints, its 细目表 and its answers."""
    return lint_questions(trade, bank_questions(trade), answer_stats(trade))


def lint_parsed(trade: Trade, questions: list[LintQuestion]) -> LintReport:
    """A file's questions on their own: the tells and the 鉴定点, no pools or answers (a file
    adds to a bank; the bank's lint counts the pools after the import)."""
    return lint_questions(trade, questions, {}, pools=False)


def lint_questions(
    trade: Trade,
    questions: list[LintQuestion],
    stats: dict[int, AnswerStats],
    *,
    pools: bool = True,
) -> LintReport:
    findings: list[Finding] = []
    figures: dict[str, Any] = {"trade": trade.code}
    single = [q for q in questions if q.type is QuestionType.SINGLE and len(q.correct) == 1]
    true_false = [q for q in questions if q.type is QuestionType.TRUE_FALSE]
    figures["by_type"] = {t.value: sum(q.type is t for q in questions) for t in QuestionType}
    _longest_keys(single, findings, figures)
    _key_positions(single, true_false, findings, figures)
    _absolute_words(true_false, findings, figures)
    _all_of_the_above(questions, findings, figures)
    _near_duplicates(questions, findings, figures)
    _points(trade, questions, findings, figures)
    if pools:
        _pools(trade, questions, findings, figures)
        _difficulty_mix(trade, questions, findings, figures)
    _measured(questions, stats, findings, figures)
    order = {BLOCKING: 0, WARNING: 1}
    findings.sort(key=lambda f: order[f.severity])
    return LintReport(len(questions), findings, figures)


# --- the checks ---------------------------------------------------------------------------


def _share(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 0.0


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _longest_keys(single: list[LintQuestion], findings: list[Finding], figures) -> None:
    longest = 0
    for q in single:
        lengths = {key: len(text.strip()) for key, text in q.options}
        key = q.correct[0]
        others = [n for k, n in lengths.items() if k != key]
        if key not in lengths or not others or lengths[key] <= max(others):
            continue
        longest += 1
        if lengths[key] >= STRONG_TELL * max(max(others), 1):
            findings.append(
                Finding(
                    "longest_key",
                    WARNING,
                    _(
                        "The key %(key)s is much the longest option (%(n)d characters against "
                        "%(m)d): write the distractors as specific as the key, or shorten it.",
                        key=key,
                        n=lengths[key],
                        m=max(others),
                    ),
                    q.ref,
                    q.question_id,
                )
            )
    share = _share(longest, len(single))
    figures["longest_key_share"] = share
    if single and share > MAX_LONGEST_KEY_SHARE:
        findings.append(
            Finding(
                "longest_key",
                BLOCKING,
                _(
                    "In %(share)s of single-choice questions the key is the longest option "
                    "(at most %(limit)s; about 25%% is chance): a worker who knows nothing "
                    "picks the longest and passes. Rewrite the questions listed below.",
                    share=_pct(share),
                    limit=_pct(MAX_LONGEST_KEY_SHARE),
                ),
            )
        )


def _key_positions(single, true_false, findings: list[Finding], figures) -> None:
    positions = Counter(q.correct[0] for q in single)
    figures["key_positions"] = {k: _share(n, len(single)) for k, n in sorted(positions.items())}
    if len(single) >= 20:
        keys = sorted({k for q in single for k, _t in q.options if k in "ABCD"})
        for key in keys:
            share = _share(positions[key], len(single))
            if share > MAX_KEY_POSITION_SHARE or share < MIN_KEY_POSITION_SHARE:
                findings.append(
                    Finding(
                        "key_position",
                        WARNING,
                        _(
                            "Option %(key)s is the key of %(share)s of single-choice "
                            "questions: move keys so that each letter is the key of about "
                            "as many questions.",
                            key=key,
                            share=_pct(share),
                        ),
                    )
                )
    trues = sum(q.correct == (TRUE_KEY,) for q in true_false)
    share = _share(trues, len(true_false))
    figures["true_share"] = share
    low, high = TRUE_SHARE_RANGE
    if len(true_false) >= 20 and not low <= share <= high:
        findings.append(
            Finding(
                "key_position",
                WARNING,
                _(
                    "%(share)s of true/false questions are true: keep true and false about "
                    "even, or guessing one way pays.",
                    share=_pct(share),
                ),
            )
        )


def _absolute_words(true_false: list[LintQuestion], findings: list[Finding], figures) -> None:
    absolute = [q for q in true_false if ABSOLUTE_WORDS.search(q.stem)]
    false = sum(q.correct == (FALSE_KEY,) for q in absolute)
    true = len(absolute) - false
    figures["absolute_true_false"] = {"true": true, "false": false}
    if len(absolute) < 5:
        return
    one_way = max(true, false) / len(absolute)
    if one_way > MAX_ABSOLUTE_ONE_WAY:
        way = _("false") if false > true else _("true")
        findings.append(
            Finding(
                "absolute_words",
                BLOCKING,
                _(
                    "%(n)d of %(m)d true/false questions with words such as 一定, 任何, 只要 "
                    "are %(way)s (at most %(limit)s one way): a worker learns the word, not "
                    "the trade. Write true statements that rightly use such words, and false "
                    "ones without them.",
                    n=max(true, false),
                    m=len(absolute),
                    way=way,
                    limit=_pct(MAX_ABSOLUTE_ONE_WAY),
                ),
            )
        )


def _all_of_the_above(questions, findings: list[Finding], figures) -> None:
    count = 0
    for q in questions:
        for key, text in q.options:
            if ALL_OF_THE_ABOVE.match(_PUNCTUATION.sub("", text)):
                count += 1
                findings.append(
                    Finding(
                        "all_of_the_above",
                        WARNING,
                        _(
                            "Option %(key)s says “all/none of the above”: make it a "
                            "multiple-choice question, or give a real option.",
                            key=key,
                        ),
                        q.ref,
                        q.question_id,
                    )
                )
    figures["all_of_the_above"] = count


def _normalised(stem: str) -> str:
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", stem)).lower()


def _near_duplicates(questions, findings: list[Finding], figures) -> None:
    groups: dict[tuple, list[tuple[LintQuestion, str]]] = defaultdict(list)
    for q in questions:
        top = (q.area_path or "").split(KnowledgeArea.PATH_SEPARATOR)[0]
        groups[(q.type, top)].append((q, _normalised(q.stem)))
    pairs = 0
    for members in groups.values():
        pairwise = len(members) <= MAX_PAIRWISE_GROUP
        seen: dict[str, LintQuestion] = {}
        for i, (q, text) in enumerate(members):
            twin = seen.get(text)
            if twin is None and pairwise:
                for other, other_text in members[:i]:
                    matcher = SequenceMatcher(None, text, other_text, autojunk=False)
                    if matcher.real_quick_ratio() >= NEAR_DUPLICATE and (
                        matcher.quick_ratio() >= NEAR_DUPLICATE
                        and matcher.ratio() >= NEAR_DUPLICATE
                    ):
                        twin = other
                        break
            seen.setdefault(text, q)
            if twin is not None:
                pairs += 1
                findings.append(
                    Finding(
                        "near_duplicate",
                        WARNING,
                        _(
                            "Almost the same question as %(other)s: a paper may draw both. "
                            "Keep one, or make them ask different things.",
                            other=twin.ref,
                        ),
                        q.ref,
                        q.question_id,
                    )
                )
    figures["near_duplicates"] = pairs


def _points(trade: Trade, questions, findings: list[Finding], figures) -> None:
    points = {
        p.code: p
        for p in db.session.scalars(sa.select(ExamPoint).where(ExamPoint.trade_id == trade.id))
    }
    without = [q for q in questions if not q.point_code]
    unknown = [q for q in questions if q.point_code and points and q.point_code not in points]
    figures["without_point"] = len(without)
    figures["unknown_point"] = len(unknown)
    figures["points"] = len(points)
    for q in without:
        findings.append(
            Finding(
                "no_point",
                WARNING,
                _("No 鉴定点代码: name the point of the 细目表 this question examines."),
                q.ref,
                q.question_id,
            )
        )
    for q in unknown:
        findings.append(
            Finding(
                "unknown_point",
                WARNING,
                _(
                    "鉴定点代码 %(code)s is not in the trade's 细目表: correct the code, or add "
                    "the point to the table.",
                    code=q.point_code[:20],
                ),
                q.ref,
                q.question_id,
            )
        )
    if not points:
        return
    elsewhere = [
        q
        for q in questions
        if q.point_code in points
        and q.area_path
        and not _path_within(q.area_path, points[q.point_code].area.path)
    ]
    figures["point_elsewhere"] = len(elsewhere)
    for q in elsewhere:
        findings.append(
            Finding(
                "point_elsewhere",
                WARNING,
                _(
                    "鉴定点 %(code)s belongs to “%(point_area)s”, and the question to "
                    "“%(area)s”: correct the code or the 知识点.",
                    code=q.point_code,
                    point_area=points[q.point_code].area.path,
                    area=quoted(q.area_path),
                ),
                q.ref,
                q.question_id,
            )
        )
    per_point = Counter(q.point_code for q in questions if q.point_code in points)
    thin = [p for code, p in sorted(points.items()) if per_point[code] < 2]
    figures["points_under_2"] = len(thin)
    for point in thin:
        findings.append(
            Finding(
                "thin_point",
                WARNING,
                _(
                    "鉴定点 %(code)s %(name)s has %(n)d questions: write at least 2, so papers "
                    "can differ on it.",
                    code=point.code,
                    name=point.name[:60],
                    n=per_point[point.code],
                ),
            )
        )


def _path_within(path: str, ancestor: str) -> bool:
    return path == ancestor or path.startswith(ancestor + KnowledgeArea.PATH_SEPARATOR)


def _in_area(q: LintQuestion, area: KnowledgeArea | None) -> bool:
    return area is None or _path_within(q.area_path or "", area.path)


def _pools(trade: Trade, questions, findings: list[Finding], figures) -> None:
    areas = {a.id: a for a in trade.areas}
    cells = []
    for blueprint in list_blueprints(trade):
        for (q_type, area_id), needed in sorted(
            needed_counts(blueprint).items(), key=lambda item: (item[0][0], item[0][1] or 0)
        ):
            if not needed:
                continue
            area = areas.get(area_id) if area_id is not None else None
            have = sum(q.type is q_type and _in_area(q, area) for q in questions)
            cells.append((blueprint, q_type, area, needed, have))
    under = [c for c in cells if c[4] < MIN_POOL_FACTOR * c[3]]
    thin = [c for c in cells if MIN_POOL_FACTOR * c[3] <= c[4] < FINE_POOL_FACTOR * c[3]]
    figures["pool_cells"] = len(cells)
    figures["cells_under_2x"] = len(under)
    figures["cells_under_3x"] = len(under) + len(thin)
    for blueprint, q_type, area, needed, have in under + thin:
        facts = {
            "blueprint": blueprint.name,
            "needed": needed,
            "type": q_type.label,
            "area": area.path if area else _("the whole bank"),
            "have": have,
        }
        if have < MIN_POOL_FACTOR * needed:
            severity = BLOCKING
            message = _(
                "%(blueprint)s draws %(needed)d %(type)s from %(area)s, and the bank has "
                "%(have)d: write at least %(more)d more (2× the paper), so papers differ.",
                more=MIN_POOL_FACTOR * needed - have,
                **facts,
            )
        else:
            severity = WARNING
            message = _(
                "%(blueprint)s: %(have)d %(type)s in %(area)s for %(needed)d a paper; a "
                "精品题库 holds 3× (%(fine)d).",
                fine=FINE_POOL_FACTOR * needed,
                **facts,
            )
        findings.append(Finding("pool", severity, message))


def _difficulty_mix(trade: Trade, questions, findings: list[Finding], figures) -> None:
    labels = Counter(q.difficulty or 3 for q in questions)
    total = sum(labels.values())
    mix = (
        {str(level): round(100 * n / total) for level, n in sorted(labels.items())} if total else {}
    )
    figures["difficulty_mix"] = mix
    for blueprint in list_blueprints(trade):
        wanted = {int(k): v for k, v in (blueprint.difficulty_mix or {}).items()}
        if not wanted or not total:
            continue
        for level in sorted(set(wanted) | set(labels)):
            have = 100 * labels[level] / total
            if abs(have - wanted.get(level, 0)) > MIX_TOLERANCE:
                findings.append(
                    Finding(
                        "difficulty_mix",
                        WARNING,
                        _(
                            "%(blueprint)s wants %(want)d%% of difficulty %(level)d, and "
                            "%(have)d%% of the bank is labelled so: check the labels, or "
                            "write questions of the level that is short.",
                            blueprint=blueprint.name,
                            want=wanted.get(level, 0),
                            level=level,
                            have=round(have),
                        ),
                    )
                )


def _label_for(facility: float) -> int:
    for level, floor in FACILITY_BANDS:
        if facility >= floor:
            return level
    return 5


def _measured(questions, stats: dict[int, AnswerStats], findings: list[Finding], figures) -> None:
    mislabelled = unpicked = 0
    for q in questions:
        entry = stats.get(q.question_id) if q.question_id is not None else None
        if entry is None:
            continue
        if entry.n >= MIN_ANSWERS_FOR_FACILITY and q.difficulty:
            facility = entry.right / entry.n
            measured = _label_for(facility)
            if abs(measured - q.difficulty) >= 2:
                mislabelled += 1
                findings.append(
                    Finding(
                        "difficulty_label",
                        WARNING,
                        _(
                            "Labelled difficulty %(label)d, but %(share)s of %(n)d answers "
                            "were right: that is difficulty %(measured)d. Change the label.",
                            label=q.difficulty,
                            share=_pct(facility),
                            n=entry.n,
                            measured=measured,
                        ),
                        q.ref,
                        q.question_id,
                    )
                )
        if entry.n >= MIN_ANSWERS_FOR_DISTRACTORS and q.type is not QuestionType.TRUE_FALSE:
            for key, _text in q.options:
                if key in q.correct or entry.picks[key] / entry.n >= UNPICKED_SHARE:
                    continue
                unpicked += 1
                findings.append(
                    Finding(
                        "unpicked_distractor",
                        WARNING,
                        _(
                            "Option %(key)s was picked by %(picked)d of %(n)d workers: replace "
                            "it with a mistake a real worker makes.",
                            key=key,
                            picked=entry.picks[key],
                            n=entry.n,
                        ),
                        q.ref,
                        q.question_id,
                    )
                )
    figures["difficulty_mislabelled"] = mislabelled
    figures["unpicked_distractors"] = unpicked
