"""What a question is, independent of any file format: its type and its answer keys.

The bank's models store these, the exam papers, grading and mock exams read them; the
format readers in banks.formats produce them.
"""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

OPTION_KEYS = "ABCDEFGH"
TRUE_KEY, FALSE_KEY = "T", "F"


class QuestionType(enum.StrEnum):
    SINGLE = "single"  # 单选题
    MULTIPLE = "multiple"  # 多选题
    TRUE_FALSE = "true_false"  # 判断题

    @property
    def label(self) -> str:
        return str(QUESTION_TYPE_LABELS[self])


QUESTION_TYPE_LABELS = {
    QuestionType.SINGLE: _l("Single choice"),
    QuestionType.MULTIPLE: _l("Multiple choice"),
    QuestionType.TRUE_FALSE: _l("True or false"),
}
