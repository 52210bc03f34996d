"""The rules every question must meet, whatever file it came from."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from flask_babel import gettext as _

from certify.banks.formats.common import (
    MAX_EXPLANATION_CHARS,
    MAX_OPTION_CHARS,
    MAX_OPTIONS,
    MAX_STEM_CHARS,
    MIN_OPTIONS,
    ParsedQuestion,
)
from certify.banks.types import FALSE_KEY, TRUE_KEY, QuestionType

MAX_SOURCE_CHARS = 200
# 鉴定点代码: two-digit parts joined by hyphens or dots, as 细目表 number them (03-02-01).
POINT_CODE = re.compile(r"[0-9A-Za-z]{1,4}(?:[-.][0-9A-Za-z]{1,4}){0,4}")
MAX_POINT_CODE_CHARS = 20


def question_problems(q: ParsedQuestion) -> list[tuple[str, str]]:
    """(field, message) pairs for what is wrong; empty when the question can be saved."""
    problems: list[tuple[str, str]] = []
    stem = (q.stem or "").strip()
    if not stem:
        problems.append(("题干", _("The question text is empty.")))
    elif len(stem) > MAX_STEM_CHARS:
        problems.append(
            ("题干", _("The question text is longer than %(n)d characters.", n=MAX_STEM_CHARS))
        )
    if q.type is QuestionType.TRUE_FALSE:
        if q.correct not in ([TRUE_KEY], [FALSE_KEY]):
            problems.append(("答案", _("A true/false answer must be 正确 or 错误.")))
    else:
        problems.extend(_choice_problems(q))
    if len(q.explanation or "") > MAX_EXPLANATION_CHARS:
        problems.append(
            ("解析", _("The explanation is longer than %(n)d characters.", n=MAX_EXPLANATION_CHARS))
        )
    if len(q.source or "") > MAX_SOURCE_CHARS:
        problems.append(
            ("出处", _("The source is longer than %(n)d characters.", n=MAX_SOURCE_CHARS))
        )
    code = (q.point_code or "").strip()
    if code and (len(code) > MAX_POINT_CODE_CHARS or not POINT_CODE.fullmatch(code)):
        problems.append(("鉴定点代码", _("Write the 鉴定点代码 as in the 细目表, e.g. 03-02-01.")))
    if q.difficulty is not None and not 1 <= q.difficulty <= 5:
        problems.append(("难度", _("Difficulty is 1 to 5, or 易/较易/中/较难/难.")))
    return problems


def _choice_problems(q: ParsedQuestion) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    keys = [o.key for o in q.options]
    if not MIN_OPTIONS <= len(q.options) <= MAX_OPTIONS:
        problems.append(
            ("选项", _("A choice question needs 2 to 8 options; this one has %(n)d.", n=len(keys)))
        )
    for option in q.options:
        text = (option.text or "").strip()
        if len(text) > MAX_OPTION_CHARS:
            problems.append(
                (
                    f"选项{option.key}",
                    _("The option is longer than %(n)d characters.", n=MAX_OPTION_CHARS),
                )
            )
    texts = [normalise_text(o.text) for o in q.options]
    if len(set(texts)) != len(texts):
        problems.append(("选项", _("Two options have the same text.")))
    unknown = [k for k in q.correct if k not in keys]
    if not q.correct:
        problems.append(("答案", _("No correct answer is given.")))
    elif unknown:
        problems.append(
            (
                "答案",
                _(
                    "The answer names option %(keys)s, which is empty or missing.",
                    keys="、".join(unknown),
                ),
            )
        )
    elif q.type is QuestionType.SINGLE and len(q.correct) != 1:
        problems.append(
            ("答案", _("A single-choice question has exactly one answer; for more use 多选题."))
        )
    elif q.type is QuestionType.MULTIPLE and len(q.correct) < 2:
        problems.append(
            ("答案", _("A multiple-choice question needs at least two answers; else use 单选题."))
        )
    return problems


def normalise_text(text: str) -> str:
    """Compare texts as a reader would: full-width = half-width, case and spacing ignored."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = re.sub(r"[\s\u3000]+", "", text)
    return re.sub(r"[（(]\s*[)）]", "()", text)


def fingerprint(q_type: QuestionType, stem: str, option_texts: list[str]) -> str:
    """Same stem and same options (in any order) make the same question."""
    parts = [str(q_type), normalise_text(stem), *sorted(normalise_text(t) for t in option_texts)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
