import codecs
import io

import pytest

from certify.banks.formats.tabular import parse_answer, parse_csv, parse_xlsx
from certify.banks.types import FALSE_KEY, TRUE_KEY, QuestionType
from certify.core.tables import Unit, UnusableFile
from tests.banks.conftest import ROWS, csv_bytes, xlsx_bytes


def _check_rows(result):
    assert result.problems == []
    single, multiple, wrong, right = result.questions
    assert single.type is QuestionType.SINGLE and single.correct == ["B"]
    assert [o.key for o in single.options] == ["A", "B", "C", "D"]
    assert single.area_path == "安全消防/消防安全" and single.difficulty == 1
    assert multiple.type is QuestionType.MULTIPLE and multiple.correct == ["A", "B", "C"]
    assert wrong.correct == [FALSE_KEY] and wrong.options == [] and wrong.difficulty == 3
    assert right.correct == [TRUE_KEY] and right.difficulty is None
    assert [q.number for q in result.questions] == [2, 3, 4, 5]


def test_xlsx_template_rows_become_questions(app):
    _check_rows(parse_xlsx(xlsx_bytes(ROWS), "题库.xlsx"))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_in_every_encoding_excel_writes(app, encoding):
    data = csv_bytes(ROWS, encoding=encoding)
    if encoding == "utf-16":
        assert data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    _check_rows(parse_csv(data, "题库.csv"))


def test_tab_separated_text_from_excel(app):
    text = "\n".join(
        "\t".join(r)
        for r in [
            ["题型", "题干", "选项A", "选项B", "答案", "知识点"],
            ["单选题", "甲还是乙？", "甲", "乙", "a", "入库作业/验收"],
        ]
    )
    result = parse_csv(("\ufeff" + text).encode("utf-16"), "x.txt")
    assert result.questions[0].correct == ["A"]


@pytest.mark.parametrize(
    ("text", "q_type", "expected"),
    [
        ("ACD", QuestionType.MULTIPLE, ["A", "C", "D"]),
        ("A,C,D", QuestionType.MULTIPLE, ["A", "C", "D"]),
        ("A;C", QuestionType.MULTIPLE, ["A", "C"]),
        ("A、C", QuestionType.MULTIPLE, ["A", "C"]),
        ("c a", QuestionType.MULTIPLE, ["A", "C"]),
        ("ＡＣ", QuestionType.MULTIPLE, None),
        ("正确", QuestionType.TRUE_FALSE, [TRUE_KEY]),
        ("√", QuestionType.TRUE_FALSE, [TRUE_KEY]),
        ("T", QuestionType.TRUE_FALSE, [TRUE_KEY]),
        ("错", QuestionType.TRUE_FALSE, [FALSE_KEY]),
        ("×", QuestionType.TRUE_FALSE, [FALSE_KEY]),
        ("f", QuestionType.TRUE_FALSE, [FALSE_KEY]),
        ("不对", QuestionType.TRUE_FALSE, [FALSE_KEY]),
        ("也许", QuestionType.TRUE_FALSE, None),
        ("B1", QuestionType.SINGLE, None),
    ],
)
def test_answers_in_the_forms_people_write_them(text, q_type, expected):
    assert parse_answer(text, q_type) == expected


def test_header_aliases_and_level_columns(app):
    header = [
        "试题类型",
        "题目",
        "选项A",
        "选项B",
        "正确答案",
        "知识点一级",
        "知识点二级",
        "难易度",
    ]
    rows = [["单选", "甲还是乙？", "甲", "乙", "A", "入库作业", "验收", "较难"]]
    question = parse_xlsx(xlsx_bytes(rows, header=header), "x.xlsx").questions[0]
    assert question.area_path == "入库作业/验收" and question.difficulty == 4


def test_bad_cells_are_reported_by_row_and_column(app):
    rows = [
        ["选一个", "说说看", "", "", "", "", "", "入库作业/验收", "", "", ""],
        ["单选题", "甲还是乙？", "甲", "乙", "", "", "AB?", "入库作业/验收", "", "", ""],
        ["判断题", "对吗", "", "", "", "", "也许", "入库作业/验收", "", "", ""],
        ["单选题", "甲还是乙？", "甲", "乙", "", "", "A", "入库作业/验收", "很难", "", ""],
    ]
    result = parse_csv(csv_bytes(rows), "bad.csv")
    where = [(p.number, p.field) for p in result.problems]
    assert where == [(2, "题型"), (3, "答案"), (4, "答案"), (5, "难度")]
    assert "bad.csv, row 2, 题型" in str(result.problems[0])


def test_a_file_without_the_template_header_is_refused_as_a_whole(app):
    with pytest.raises(UnusableFile, match="题干"):
        parse_csv("名字,年龄\n张三,30\n".encode(), "people.csv")


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x01\x02binary\xff\xfe" * 50,
        bytes(range(256)) * 20,
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
    ],
)
def test_binary_junk_is_refused_clearly(app, data):
    with pytest.raises(UnusableFile):
        parse_csv(data, "junk.csv")


def test_xlsx_zip_bomb_is_refused_before_unpacking(app):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (120 * 1024 * 1024))
    with pytest.raises(UnusableFile, match="unreasonable size"):
        parse_xlsx(buffer.getvalue(), "bomb.xlsx")


def test_a_renamed_non_workbook_is_refused(app):
    with pytest.raises(UnusableFile, match="Excel"):
        parse_xlsx(b"PK\x03\x04 not really a zip", "fake.xlsx")


def test_ungraded_types_are_skipped_with_their_row_not_refused(app):
    rows = [
        ["填空题", "五距是指____。", "", "", "", "", "顶距", "入库作业/验收", "", "", ""],
        ["简答题", "说说验收的步骤。", "", "", "", "", "", "入库作业/验收", "", "", ""],
        ["单选题", "甲还是乙？", "甲", "乙", "", "", "A", "入库作业/验收", "", "", ""],
    ]
    result = parse_csv(csv_bytes(rows), "mixed.csv")
    assert result.problems == [] and len(result.questions) == 1
    assert [(s.number, s.unit) for s in result.skipped] == [(2, Unit.ROW), (3, Unit.ROW)]
    assert "填空题" in result.skipped[0].reason


def test_true_false_keyed_by_the_letter_of_its_option_is_read_as_true_or_false(app):
    rows = [
        [
            "判断题",
            "消防通道要保持畅通。",
            "正确",
            "错误",
            "",
            "",
            "A",
            "入库作业/验收",
            "",
            "",
            "",
        ],
        ["判断题", "货垛可以靠墙。", "对", "错", "", "", "B", "入库作业/验收", "", "", ""],
        ["判断题", "没有选项的字母答案。", "", "", "", "", "A", "入库作业/验收", "", "", ""],
    ]
    result = parse_csv(csv_bytes(rows), "tf.csv")
    assert [q.correct for q in result.questions] == [[TRUE_KEY], [FALSE_KEY]]
    assert [(p.number, p.field) for p in result.problems] == [(4, "答案")]


def _workbook(build) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    build(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEAD = ["题型", "题干", "选项A", "选项B", "答案", "知识点"]


def test_a_hidden_sheet_is_never_read_and_the_sheet_named_tiku_is_preferred(app):
    def build(book):
        hidden = book.active
        hidden.title = "旧题"
        hidden.sheet_state = "hidden"
        hidden.append(HEAD)
        hidden.append(["单选题", "旧的题", "甲", "乙", "B", "入库作业/验收"])
        notes = book.create_sheet("说明")
        notes.append(["请在题库表中填写"])
        bank = book.create_sheet("题库")
        bank.append(HEAD)
        bank.append(["单选题", "新的题", "甲", "乙", "A", "入库作业/验收"])

    result = parse_xlsx(_workbook(build), "bank.xlsx")
    assert [q.stem for q in result.questions] == ["新的题"]


def test_merged_cells_and_formulas_without_values_get_their_own_message(app):
    def build(book):
        sheet = book.active
        sheet.append(HEAD)
        sheet.append(["单选题", "第一题", "甲", "乙", "A", "入库作业/验收"])
        sheet.append(["", "第二题", "甲", "乙", "B", "入库作业/验收"])
        sheet.merge_cells("A2:A3")
        sheet.append(["单选题", "第三题", "甲", "乙", '=IF(1,"A","B")', "入库作业/验收"])

    result = parse_xlsx(_workbook(build), "bank.xlsx")
    assert [q.stem for q in result.questions] == ["第一题"]
    by_row = {(p.number, p.field): p.message for p in result.problems}
    assert "A2:A3" in by_row[(3, "题型")]
    assert "formula" in by_row[(4, "答案")]
