"""Spreadsheet-shaped banks: the xlsx template and CSV with the same columns.

Both end up as rows of cells; one function turns rows into questions so that a
CSV saved from the template and the template itself read the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from flask_babel import gettext as _

from certify.banks.formats.common import (
    MAX_QUESTIONS,
    ParsedOption,
    ParsedQuestion,
    ParseResult,
    SkippedItem,
)
from certify.banks.types import FALSE_KEY, OPTION_KEYS, TRUE_KEY, QuestionType
from certify.core.spreadsheets import unquote_csv_cell
from certify.core.tables import (
    ImportProblem,
    Row,
    Unit,
    UnusableFile,
    chosen_sheet,
    clean_cell,
    empty_cell_reason,
    read_table,
)

COLUMNS = [
    "题型",
    "题干",
    *[f"选项{k}" for k in OPTION_KEYS],
    "答案",
    "知识点",
    "鉴定点代码",
    "难度",
    "解析",
    "出处",
]
HEADER_ALIASES = {
    "题型": ("题型", "试题类型", "题目类型", "类型"),
    "题干": ("题干", "题目", "试题", "题目内容", "试题内容"),
    "答案": ("答案", "正确答案", "标准答案"),
    "知识点": ("知识点", "知识点路径", "知识领域"),
    "鉴定点代码": ("鉴定点代码", "鉴定点", "点代码", "鉴定点编码", "考核点代码"),
    "难度": ("难度", "难易度", "难易程度"),
    "解析": ("解析", "答案解析", "试题解析"),
    "出处": ("出处", "来源", "试题来源"),
}
LEVEL_COLUMNS = ("知识点一级", "知识点二级", "知识点三级", "知识点四级", "知识点五级", "知识点六级")
TYPE_WORDS = {
    QuestionType.SINGLE: ("单选", "单选题", "单项选择", "单项选择题", "single"),
    QuestionType.MULTIPLE: ("多选", "多选题", "多项选择", "多项选择题", "multiple"),
    QuestionType.TRUE_FALSE: ("判断", "判断题", "是非题", "true_false", "truefalse"),
}
# Types real bank spreadsheets carry that Certify does not grade: skipped with their row (as
# GIFT and Moodle XML skip them), not refused, so the rest of the file imports.
UNGRADED_TYPES = (
    "填空",
    "填空题",
    "简答",
    "简答题",
    "问答",
    "问答题",
    "论述",
    "论述题",
    "计算",
    "计算题",
    "案例",
    "案例题",
    "案例分析",
    "案例分析题",
    "名词解释",
    "连线",
    "连线题",
    "排序",
    "排序题",
    "综合",
    "综合题",
    "操作",
    "操作题",
    "识图",
    "识图题",
    "作图",
    "作图题",
)
TRUE_WORDS = ("正确", "对", "对的", "√", "✓", "✔", "T", "TRUE", "Y", "YES", "是")
FALSE_WORDS = ("错误", "错", "不对", "不正确", "×", "✗", "✘", "X", "F", "FALSE", "N", "NO", "否")
DIFFICULTY_WORDS = {
    "易": 1,
    "容易": 1,
    "较易": 2,
    "中": 3,
    "中等": 3,
    "较难": 4,
    "难": 5,
    "困难": 5,
}
MAX_CELL_CHARS = 5000


def _header_map(header: list[str]) -> dict[str, int]:
    names = [re.sub(r"[\s*＊（(].*$", "", h.strip()) or h.strip() for h in header]
    mapping: dict[str, int] = {}
    for canonical, aliases in HEADER_ALIASES.items():
        for i, name in enumerate(names):
            if name in aliases and canonical not in mapping:
                mapping[canonical] = i
    for i, name in enumerate(names):
        match = re.fullmatch(r"选项\s*([A-Ha-h])", name)
        if match:
            mapping.setdefault(f"选项{match.group(1).upper()}", i)
        if name in LEVEL_COLUMNS:
            mapping.setdefault(name, i)
    return mapping


def parse_answer(text: str, q_type: QuestionType | None) -> list[str] | None:
    """'ACD', 'A,C,D', 'A;C', 'A、C', 'a c' → keys; 正确/错误/√/×/T/F → T or F."""
    value = re.sub(r"\s+", "", text or "").upper()
    if not value:
        return []
    if q_type is QuestionType.TRUE_FALSE or (q_type is None and not re.search("[A-H]", value)):
        if value in TRUE_WORDS:
            return [TRUE_KEY]
        if value in FALSE_WORDS:
            return [FALSE_KEY]
        return None
    letters = re.sub(r"[,，;；、/|]", "", value)
    if not re.fullmatch(r"[A-Z]+", letters):
        return None
    return sorted(set(letters))


class SkipRow(Exception):
    """A row of a kind Certify does not grade: left out with the reason, not refused."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _true_false_by_option(answer: str, cell) -> list[str] | None:
    """判断题 keyed by letter, as many banks write it: 答案 A with 选项A 正确 and 选项B 错误."""
    letter = (answer or "").strip().upper()
    if not re.fullmatch(r"[A-H]", letter):
        return None
    option = re.sub(r"\s+", "", cell(f"选项{letter}")).upper()
    if option in TRUE_WORDS:
        return [TRUE_KEY]
    if option in FALSE_WORDS:
        return [FALSE_KEY]
    return None


def parse_type(text: str) -> QuestionType | None:
    value = (text or "").strip().lower()
    for q_type, words in TYPE_WORDS.items():
        if value in words:
            return q_type
    return None


def parse_difficulty(text: str) -> int | str | None:
    """1..5, a word like 较难, None when empty, or 'bad' when unreadable."""
    value = (text or "").strip()
    if not value:
        return None
    if value in DIFFICULTY_WORDS:
        return DIFFICULTY_WORDS[value]
    if re.fullmatch(r"[1-5](\.0)?", value):
        return int(float(value))
    return "bad"


def rows_to_questions(rows: Iterable[Row], filename: str, sheet=None) -> ParseResult:
    """`sheet` (a workbook's SheetRows) explains cells that read empty: merged, or formulas
    without a saved value."""
    result = ParseResult()
    iterator = iter(rows)
    header_row = None
    for _number, raw in iterator:
        cells = [clean_cell(c) for c in raw]
        if any(cells):
            header_row = cells
            break
    if header_row is None:
        raise UnusableFile(filename, _("The file has no rows."))
    columns = _header_map(header_row)
    missing = [name for name in ("题型", "题干", "答案") if name not in columns]
    if missing:
        raise UnusableFile(
            filename,
            _(
                "The first row must hold the column names of the template; missing: %(names)s. "
                "Download the template and copy your questions into it.",
                names="、".join(missing),
            ),
        )
    for number, raw in iterator:
        cells = [clean_cell(c) for c in raw]
        if not any(cells):
            continue
        if len(result.questions) + len(result.problems) >= MAX_QUESTIONS:
            raise UnusableFile(
                filename, _("The file has more than %(n)d questions; split it.", n=MAX_QUESTIONS)
            )
        unreadable = [
            ImportProblem(filename, number, Unit.ROW, name, reason)
            for name, index in columns.items()
            if not (cells[index] if index < len(cells) else "")
            and (reason := empty_cell_reason(sheet, number, index + 1))
        ]
        if unreadable:
            result.problems.extend(unreadable)
            continue
        try:
            question, problems = _row_to_question(cells, columns, number, filename)
        except SkipRow as skip:
            result.skipped.append(SkippedItem(number, Unit.ROW, skip.reason))
            continue
        result.problems.extend(problems)
        if question is not None:
            result.questions.append(question)
    return result


def _row_to_question(
    cells: list[str], columns: dict[str, int], number: int, filename: str
) -> tuple[ParsedQuestion | None, list[ImportProblem]]:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else ""

    def problem(field: str, message: str) -> ImportProblem:
        return ImportProblem(filename, number, Unit.ROW, field, message)

    problems = [
        problem(name, _("The cell is longer than %(n)d characters.", n=MAX_CELL_CHARS))
        for name, index in columns.items()
        if index < len(cells) and len(cells[index]) > MAX_CELL_CHARS
    ]
    if problems:
        return None, problems
    q_type = parse_type(cell("题型"))
    if q_type is None and cell("题型").strip() in UNGRADED_TYPES:
        raise SkipRow(
            _(
                "%(type)s questions are not imported: Certify grades 单选题, 多选题 and 判断题.",
                type=cell("题型").strip(),
            )
        )
    if q_type is None:
        return None, [problem("题型", _("Write 单选题, 多选题 or 判断题."))]
    options = []
    if q_type is not QuestionType.TRUE_FALSE:
        options = [
            ParsedOption(key, cell(f"选项{key}")) for key in OPTION_KEYS if cell(f"选项{key}")
        ]
    correct = parse_answer(cell("答案"), q_type)
    if correct is None and q_type is QuestionType.TRUE_FALSE:
        correct = _true_false_by_option(cell("答案"), cell)
    if correct is None:
        hint = (
            _("Write 正确 or 错误 (also 对/错, √/×, T/F).")
            if q_type is QuestionType.TRUE_FALSE
            else _("Write the letters of the right options, e.g. A or ACD.")
        )
        return None, [problem("答案", hint)]
    difficulty = parse_difficulty(cell("难度"))
    if difficulty == "bad":
        return None, [problem("难度", _("Difficulty is 1 to 5, or 易/较易/中/较难/难."))]
    area = cell("知识点")
    if not area and any(name in columns for name in LEVEL_COLUMNS):
        area = "/".join(cell(name) for name in LEVEL_COLUMNS if cell(name))
    area = re.sub(r"\s*[/>›＞／]\s*", "/", area).strip("/") or None
    return (
        ParsedQuestion(
            number=number,
            type=q_type,
            stem=cell("题干"),
            options=options,
            correct=correct,
            area_path=area,
            difficulty=difficulty,  # type: ignore[arg-type]
            explanation=cell("解析"),
            source=cell("出处"),
            point_code=cell("鉴定点代码"),
        ),
        [],
    )


# --- CSV ----------------------------------------------------------------------------


def parse_csv(data: bytes, filename: str) -> ParseResult:
    with read_table(filename, data, "csv") as (rows,):
        # Our own export puts an apostrophe before formula-like text ("'-5℃以下"); take it off.
        unquoted = ((number, [unquote_csv_cell(c) for c in cells]) for number, cells in rows)
        return rows_to_questions(_limited(unquoted, filename), filename)


def _limited(rows: Iterator[Row], filename: str) -> Iterator[Row]:
    for count, row in enumerate(rows, start=1):
        if count > MAX_QUESTIONS + 1:
            raise UnusableFile(
                filename, _("The file has more than %(n)d questions; split it.", n=MAX_QUESTIONS)
            )
        yield row


# --- xlsx ---------------------------------------------------------------------------


SHEET_NAMES = ("题库", "试题", "理论题库")


def parse_xlsx(data: bytes, filename: str) -> ParseResult:
    with read_table(filename, data, "xlsx") as sheets:
        sheet = chosen_sheet(filename, sheets, SHEET_NAMES)
        return rows_to_questions(_limited(iter(sheet), filename), filename, sheet)
