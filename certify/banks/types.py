"""What a question is, independent of any file format: its type and its answer keys.

The bank's models store these, the exam papers, grading and mock exams read them; the
format readers in banks.formats produce them.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from certify.core.labels import LabelledEnum

OPTION_KEYS = "ABCDEFGH"
TRUE_KEY, FALSE_KEY = "T", "F"


class QuestionType(LabelledEnum):
    SINGLE = "single", _l("Single choice")  # 单选题
    MULTIPLE = "multiple", _l("Multiple choice")  # 多选题
    TRUE_FALSE = "true_false", _l("True or false")  # 判断题
