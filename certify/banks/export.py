"""Writing a trade's bank back out, in the template's columns, so it imports again as is."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from certify.banks.formats.tabular import COLUMNS
from certify.banks.models import QuestionVersion
from certify.banks.types import OPTION_KEYS, TRUE_KEY, QuestionType
from certify.core.spreadsheets import append_row, csv_row

TYPE_NAMES = {
    QuestionType.SINGLE: "单选题",
    QuestionType.MULTIPLE: "多选题",
    QuestionType.TRUE_FALSE: "判断题",
}
EXPORT_FORMATS = ("xlsx", "csv", "gift")
# Files keep the same words whatever language the person exporting reads.
DIFFICULTY_NAMES = {1: "易", 2: "较易", 3: "中", 4: "较难", 5: "难"}
TEMPLATE_EXAMPLES = [
    [
        "单选题",
        "仓库消防通道应当（  ）。",
        "堆放少量货物",
        "保持畅通",
        "夜间可以关闭",
        "临时停放叉车",
        "",
        "",
        "",
        "",
        "B",
        "安全消防/消防安全",
        "06-02-01",
        "易",
        "消防通道必须时刻保持畅通，任何时候都不能占用。",
        "自编",
    ],
    [
        "多选题",
        "商品入库验收的内容包括（  ）。",
        "数量",
        "质量",
        "包装",
        "单证",
        "",
        "",
        "",
        "",
        "ABCD",
        "入库作业/验收",
        "02-03-01",
        "2",
        "验收要核对数量、检查质量和包装、核对单证。",
        "",
    ],
    [
        "判断题",
        "验收时发现数量短缺，应先签收，再与供货方联系。",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "错误",
        "入库作业/验收",
        "02-03-01",
        "中",
        "发现问题应先做记录、分开存放，不能随意签收。",
        "",
    ],
]


def _row(version: QuestionVersion) -> list[str]:
    options = {o["key"]: o["text"] for o in version.options}
    if version.type is QuestionType.TRUE_FALSE:
        answer = "正确" if version.correct == [TRUE_KEY] else "错误"
    else:
        answer = "".join(version.correct)
    return [
        TYPE_NAMES[version.type],
        version.stem,
        *[options.get(key, "") for key in OPTION_KEYS],
        answer,
        version.area.path,
        version.point_code,
        str(version.difficulty),
        version.explanation,
        version.source,
    ]


def export_csv(versions: Sequence[QuestionVersion]) -> bytes:
    """UTF-8 with a BOM, so Excel in China opens it without garbling; formula-like text behind
    an apostrophe (core/spreadsheets.py), which the CSV importer strips again."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for version in versions:
        writer.writerow(csv_row(_row(version)))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _workbook(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "题库"
    append_row(sheet, COLUMNS, Font(bold=True))
    for row in rows:
        append_row(sheet, row)  # a stem "=HYPERLINK(…)" stays text
    widths = {"A": 10, "B": 50, "K": 8, "L": 22, "M": 8, "N": 40, "O": 16}
    for column, width in widths.items():
        sheet.column_dimensions[column].width = width
    for column in "CDEFGHIJ":
        sheet.column_dimensions[column].width = 18
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    types = DataValidation(type="list", formula1='"单选题,多选题,判断题"', allow_blank=False)
    levels = DataValidation(
        type="list", formula1='"易,较易,中,较难,难,1,2,3,4,5"', allow_blank=True
    )
    sheet.add_data_validation(types)
    sheet.add_data_validation(levels)
    types.add("A2:A10001")
    levels.add("M2:M10001")
    notes = workbook.create_sheet("填写说明")
    for line in TEMPLATE_HELP:
        append_row(notes, [line])
    notes.column_dimensions["A"].width = 100
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


TEMPLATE_HELP = [
    "题库导入模板填写说明",
    "题型：单选题、多选题或判断题。",
    "题干：题目内容，最多 2000 字。",
    "选项A～选项H：单选题、多选题至少填 2 个选项，最多 8 个；判断题不填选项。每个选项最多 500 字。",
    "答案：单选题填一个字母，如 B；多选题填两个或以上字母，如 ACD（也可以写 A,C,D 或 A、C、D）；"
    "判断题填 正确 或 错误（也可以写 对/错、√/×、T/F）。",
    "知识点：用 / 分隔上下级，如 入库作业/验收，必须是本职业知识点树里已有的知识点。",
    "难度：易、较易、中、较难、难，或 1～5；留空按“中”计。",
    "解析：答题后给考生看的解释，建议每题都写。",
    "出处：题目来源，可不填。",
    "题干和选项完全相同的题目视为重复，不会重复导入。",
]


def export_xlsx(versions: Sequence[QuestionVersion]) -> bytes:
    return _workbook([_row(v) for v in versions])


def template_xlsx() -> bytes:
    return _workbook(TEMPLATE_EXAMPLES)


def _gift_escape(text: str) -> str:
    out = text.replace("\\", "\\\\")
    for char in "~=#{}:":
        out = out.replace(char, "\\" + char)
    return out.replace("\n", "\\n")


def export_gift(versions: Sequence[QuestionVersion]) -> bytes:
    """Moodle GIFT. GIFT has no place for difficulty or source: those stay behind."""
    lines = ["// Certify question bank export (GIFT)", ""]
    current_area = None
    for version in sorted(versions, key=lambda v: v.area.path):
        if version.area.path != current_area:
            current_area = version.area.path
            lines += [f"$CATEGORY: $course$/top/{current_area}", ""]
        lines.append(f"// 难度: {DIFFICULTY_NAMES[version.difficulty]}")
        title = f"::{_gift_escape(version.title)}::" if version.title else ""
        feedback = f"####{_gift_escape(version.explanation)}" if version.explanation else ""
        if version.type is QuestionType.TRUE_FALSE:
            answer = "T" if version.correct == [TRUE_KEY] else "F"
            lines.append(f"{title}[plain]{_gift_escape(version.stem)} {{{answer}{feedback}}}")
        else:
            answers = []
            weight = _weight(len(version.correct))
            for option in version.options:
                text = _gift_escape(option["text"])
                if version.type is QuestionType.SINGLE:
                    answers.append(("=" if option["key"] in version.correct else "~") + text)
                elif option["key"] in version.correct:
                    answers.append(f"~%{weight}%{text}")
                else:
                    answers.append(f"~%-100%{text}")
            body = "\n".join(f"    {a}" for a in answers)
            lines.append(f"{title}[plain]{_gift_escape(version.stem)} {{\n{body}\n{feedback}}}")
        lines.append("")
    return "\n".join(lines).encode("utf-8")


def _weight(n: int) -> str:
    value = 100 / max(n, 1)
    return f"{value:.5f}".rstrip("0").rstrip(".")


def export_bank(versions: Sequence[QuestionVersion], fmt: str) -> bytes:
    if fmt == "xlsx":
        return export_xlsx(versions)
    if fmt == "csv":
        return export_csv(versions)
    if fmt == "gift":
        return export_gift(versions)
    raise ValueError(fmt)
