"""The roster reader: what a trainer's 花名册 turns into, and what it is told to fix."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from certify.cohorts.roster import (
    EDUCATION_LEVELS,
    ETHNICITIES,
    ID_TYPES,
    MAX_ROWS,
    SOURCES,
    RosterResult,
    read_roster,
)
from certify.core.idcard import check_char, make_id_number
from certify.core.tables import Unit, UnusableFile

HEADER = [
    "姓名",
    "证件类型",
    "证件号码",
    "性别",
    "民族",
    "文化程度",
    "手机号码",
    "工作单位",
    "考生来源",
    "申报条件",
    "本职业工作年限",
]
MAN = make_id_number("330302", date(1990, 5, 17), 31)  # odd sequence: 男
WOMAN = make_id_number("330324", date(1988, 12, 1), 42)  # even: 女


@pytest.fixture(autouse=True)
def english():
    from flask_babel import force_locale

    with force_locale("en"):
        yield


@pytest.fixture(autouse=True)
def today(frozen_clock):
    """2026-11-23 in Wenzhou, so ages are fixed."""
    return date(2026, 11, 23)


def person(**cells) -> list[object]:
    values = {
        "姓名": "张三",
        "证件类型": "",
        "证件号码": MAN,
        "性别": "",
        "民族": "汉族",
        "文化程度": "高中",
        "手机号码": "13812345678",
        "工作单位": "温州市鹿城区某鞋业有限公司",
        "考生来源": "企业",
        "申报条件": "从事本职业工作满3年",
        "本职业工作年限": "3",
    }
    values.update(cells)
    return [values[name] for name in HEADER]


def csv_bytes(rows, header=HEADER, encoding="utf-8", delimiter=",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, header=HEADER, before=()) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in before:
        sheet.append(row)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_one(**cells) -> RosterResult:
    return read_roster("花名册.csv", csv_bytes([person(**cells)]))


def problems_of(result: RosterResult) -> list[tuple[int | None, str | None]]:
    return [(p.number, p.field) for p in result.problems]


def only_problem(result: RosterResult, field: str) -> str:
    assert result.rows == []
    assert [p.field for p in result.problems] == [field], result.problems
    problem = result.problems[0]
    assert problem.number == 2 and problem.unit is Unit.ROW
    return problem.message


# --- whole files ----------------------------------------------------------------------


def test_xlsx_rows_are_read_and_normalised():
    data = xlsx_bytes(
        [
            person(
                证件号码=MAN.lower()[:-1] + MAN[-1].lower(),
                手机号码=13812345678,  # typed as a number: openpyxl gives an int
                民族="汉",
                文化程度="本科",
                本职业工作年限="3年",
            ),
            person(
                姓名="阿依古丽·买买提",
                证件号码=WOMAN,
                性别="女",
                民族="维吾尔族",
                手机号码=13987654321.0,
                考生来源="",
                本职业工作年限=5.0,
            ),
        ]
    )
    result = read_roster("花名册.xlsx", data)
    assert result.problems == [] and result.warnings == []
    man, woman = result.rows
    assert man.number == 2 and woman.number == 3
    assert man.name == "张三" and man.id_type == "居民身份证" and man.id_number == MAN
    assert man.gender == "男"  # filled from the ID number
    assert man.birth_date == date(1990, 5, 17)
    assert man.phone == "13812345678"
    assert man.ethnicity == "汉族" and man.education == "大学本科" and man.source == "企业"
    assert man.employer == "温州市鹿城区某鞋业有限公司" and man.basis == "从事本职业工作满3年"
    assert man.years_in_trade == 3
    assert woman.name == "阿依古丽·买买提" and woman.gender == "女"
    assert woman.phone == "13987654321" and woman.source is None and woman.years_in_trade == 5


def test_a_hidden_sheet_of_a_roster_workbook_is_never_read():
    workbook = Workbook()
    old = workbook.active
    old.title = "去年名单"
    old.sheet_state = "hidden"
    old.append(HEADER)
    old.append(person(姓名="旧学员"))
    current = workbook.create_sheet("花名册")
    current.append(HEADER)
    current.append(person())
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = read_roster("花名册.xlsx", buffer.getvalue())
    assert result.problems == [] and [r.name for r in result.rows] == [person()[0]]


def test_an_id_number_typed_as_a_number_in_excel_is_reported_plainly():
    # Excel keeps 15 significant digits: 330302199005170317 is stored as 3.30302199005170E+17.
    # openpyxl writes a float even for int(MAN), with 17 digits; both have lost the last ones.
    data = xlsx_bytes(
        [
            person(证件号码=float(MAN[:15] + "000")),
            person(证件号码=int(MAN), 手机号码="13900000000"),
        ]
    )
    result = read_roster("花名册.xlsx", data)
    assert problems_of(result) == [(2, "证件号码"), (3, "证件号码")]
    for problem in result.problems:
        assert "stored as a number in Excel and lost digits" in problem.message
        assert "format the column as text" in problem.message
    assert result.rows == []


def test_an_id_number_saved_by_excel_as_3e17_in_csv_is_reported_plainly():
    message = only_problem(read_one(证件号码="3.30302E+17"), "证件号码")
    assert "lost digits" in message


def test_excel_tricks_to_keep_the_id_as_text_are_undone():
    for text in (f"'{MAN}", f'="{MAN}"', f"{MAN[:6]} {MAN[6:14]} {MAN[14:]}"):
        assert read_one(证件号码=text).rows[0].id_number == MAN


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_in_the_encodings_excel_and_wps_write(encoding):
    result = read_roster(
        "花名册.csv", csv_bytes([person(), person(证件号码=WOMAN)], encoding=encoding)
    )
    assert result.problems == []
    assert [r.name for r in result.rows] == ["张三", "张三"]
    assert [r.gender for r in result.rows] == ["男", "女"]


def test_tab_separated_text():
    result = read_roster("花名册.txt", csv_bytes([person()], delimiter="\t"))
    assert result.problems == [] and result.rows[0].id_number == MAN


def test_empty_rows_are_skipped_and_row_numbers_kept():
    blank = [""] * len(HEADER)
    data = csv_bytes(
        [blank, person(), blank, blank, person(证件号码=WOMAN, 手机号码="13900000000")]
    )
    result = read_roster("花名册.csv", b"\n\n" + data)
    assert [r.number for r in result.rows] == [5, 8]  # header on row 3


def test_a_title_row_above_the_header_is_passed_over():
    data = xlsx_bytes([person()], before=[["2026年温州市鞋类工培训班花名册"], []])
    result = read_roster("花名册.xlsx", data)
    assert result.problems == [] and result.rows[0].number == 4


def test_the_roster_may_be_on_a_later_sheet():
    workbook = Workbook()
    workbook.active.append(["填表说明", "证件号码请设置为文本格式"])
    sheet = workbook.create_sheet("花名册")
    sheet.append(HEADER)
    sheet.append(person())
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = read_roster("花名册.xlsx", buffer.getvalue())
    assert result.problems == [] and len(result.rows) == 1


@pytest.mark.parametrize(
    "header",
    [
        ["姓名*", "身份证号", "手机号码（必填）"],
        ["* 姓 名", "身份证号码", "手机"],
        ["姓名＊", "证件号", "手机号"],
        ["姓名(必填)", "证件号码【18位】", "联系电话"],
        ["序号", "姓名", "备注", "证件号码", "手机号码", "其他说明"],
    ],
)
def test_header_variants(header):
    values = {"姓名": "李四", "手机": "13912345678", "电话": "13912345678", "号": WOMAN}

    def value_for(column):
        return next((v for key, v in values.items() if key in column.replace(" ", "")), "x")

    result = read_roster("花名册.csv", csv_bytes([[value_for(c) for c in header]], header=header))
    assert result.problems == []
    (row,) = result.rows
    assert (row.name, row.id_number, row.phone) == ("李四", WOMAN, "13912345678")
    assert row.id_type == "居民身份证" and row.gender == "女"
    assert row.ethnicity is None and row.education is None and row.years_in_trade is None
    assert row.employer == "" and row.basis == ""


def test_other_column_aliases():
    header = ["姓名", "身份证号", "手机", "学历", "单位", "从业年限"]
    result = read_roster(
        "a.csv", csv_bytes([["王五", MAN, "13812345678", "大专", "某厂", "2"]], header=header)
    )
    (row,) = result.rows
    assert (row.education, row.employer, row.years_in_trade) == ("大学专科", "某厂", 2)
    header[-1] = "工作年限"
    result = read_roster(
        "a.csv", csv_bytes([["王五", MAN, "13812345678", "大专", "某厂", "2"]], header=header)
    )
    assert result.rows[0].years_in_trade == 2


def test_missing_required_columns_are_named():
    data = csv_bytes([["张三", "男"]], header=["姓名", "性别"])
    with pytest.raises(UnusableFile) as caught:
        read_roster("花名册.csv", data)
    assert "证件号码" in caught.value.message and "手机号码" in caught.value.message
    assert "姓名" not in caught.value.message


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n\n  \n",
        b",,,\n,,\n",
        b"\x00\x01\x02\x03binary\xff\xfe\x00garbage" * 20,
        b"PK\x03\x04 not really a zip",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,  # an old .xls
    ],
)
def test_unusable_files_raise_bank_file_error(data):
    with pytest.raises(UnusableFile):
        read_roster("花名册", data)


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(UnusableFile, match="Excel"):
        read_roster("花名册.xlsx", buffer.getvalue())


def test_a_file_over_10_mb_is_refused():
    with pytest.raises(UnusableFile, match="10 MB"):
        read_roster("花名册.csv", b"a" * (10 * 1024 * 1024 + 1))


def _big_csv(count: int) -> bytes:
    lines = [",".join(HEADER)]
    born = date(1980, 1, 1)
    for i in range(count):
        id_number = make_id_number("330302", born + timedelta(days=i // 1000), i % 1000)
        lines.append(f"工人{chr(0x4E00 + i % 500)},,{id_number},,,,138{i:08d},,,,")
    return "\n".join(lines).encode()


def test_ten_thousand_rows_are_read_and_one_more_is_refused():
    result = read_roster("花名册.csv", _big_csv(MAX_ROWS))
    assert result.problems == [] and result.warnings == []
    assert len(result.rows) == MAX_ROWS == 10_000
    assert result.rows[-1].number == 10_001
    with pytest.raises(UnusableFile, match="more than 10000 rows"):
        read_roster("花名册.csv", _big_csv(MAX_ROWS + 1))


# --- rows ---------------------------------------------------------------------------


def test_every_problem_of_a_row_is_reported():
    result = read_roster(
        "花名册.csv",
        csv_bytes(
            [
                person(
                    姓名="张三3",
                    证件号码=MAN[:-1] + ("0" if MAN[-1] != "0" else "1"),
                    性别="未知",
                    民族="火星族",
                    文化程度="职高",
                    手机号码="1234",
                    考生来源="路人",
                    本职业工作年限="很多",
                ),
                person(证件号码=WOMAN, 手机号码="13900000000"),
            ]
        ),
    )
    assert sorted(problems_of(result)) == sorted(
        [
            (2, "姓名"),
            (2, "证件号码"),
            (2, "性别"),
            (2, "民族"),
            (2, "文化程度"),
            (2, "手机号码"),
            (2, "考生来源"),
            (2, "本职业工作年限"),
        ]
    )
    assert [r.number for r in result.rows] == [3]
    assert str(result.problems[0]).startswith("花名册.csv, row 2, 姓名: ")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽•买买提", "阿依古丽·买买提"),
        ("阿依古丽・买买提", "阿依古丽·买买提"),
        ("张  三", "张三"),
        ("\u3000欧阳 娜娜 ", "欧阳娜娜"),
        ("John  Smith", "John Smith"),
        ("李" * 30, "李" * 30),
    ],
)
def test_names_that_are_accepted(name, expected):
    result = read_one(姓名=name)
    assert result.problems == [] and result.rows[0].name == expected


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "Fill in the name"),
        ("李" * 31, "longer than 30"),
        ("张三2", "only letters"),
        ("张三(男)", "only letters"),
    ],
)
def test_names_that_are_refused(name, says):
    assert says in only_problem(read_one(姓名=name), "姓名")


def test_id_number_is_required():
    assert "Fill in the ID number" in only_problem(read_one(证件号码=""), "证件号码")


def test_id_number_of_the_wrong_length():
    assert "this one has 17" in only_problem(read_one(证件号码=MAN[:17]), "证件号码")


def test_id_number_with_a_wrong_character():
    message = only_problem(read_one(证件号码=MAN[:10] + "O" + MAN[11:]), "证件号码")
    assert "17 digits followed by a digit or X" in message


def test_id_number_with_a_wrong_check_digit_says_what_it_should_be():
    first17 = "11010519491231002"
    assert check_char(first17) == "X"
    message = only_problem(read_one(证件号码=first17 + "1"), "证件号码")
    assert "the last character should be X" in message


def test_id_number_with_an_impossible_birth_date():
    first17 = "33030219900230003"  # 30 February
    message = only_problem(read_one(证件号码=first17 + check_char(first17)), "证件号码")
    assert "19900230" in message and "impossible" in message


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", "居民身份证"),
        ("身份证", "居民身份证"),
        ("护照", "护照"),
        ("台胞证", "台湾居民来往大陆通行证"),
    ],
)
def test_id_types(typed, expected):
    number = MAN if expected == "居民身份证" else "e1234 5678"
    result = read_one(证件类型=typed, 证件号码=number)
    assert result.problems == []
    (row,) = result.rows
    assert row.id_type == expected
    if expected == "居民身份证":
        assert row.birth_date == date(1990, 5, 17) and row.gender == "男"
    else:  # nothing is read from other documents' numbers
        assert row.id_number == "E12345678"
        assert row.birth_date is None and row.gender is None


def test_other_documents_take_5_to_20_letters_or_digits():
    assert "5 to 20" in only_problem(read_one(证件类型="护照", 证件号码="E12"), "证件号码")
    assert "5 to 20" in only_problem(read_one(证件类型="护照", 证件号码="E-1234567"), "证件号码")
    result = read_one(证件类型="港澳居民来往内地通行证", 证件号码="H12345678", 性别="男")
    assert result.rows[0].gender == "男"


def test_an_unknown_id_type_lists_the_allowed_ones():
    message = only_problem(read_one(证件类型="驾驶证"), "证件类型")
    assert all(name in message for name in ID_TYPES)


@pytest.mark.parametrize(
    ("typed", "expected"), [("男", "男"), ("男性", "男"), ("M", "男"), ("m", "男")]
)
def test_gender_words(typed, expected):
    assert read_one(性别=typed).rows[0].gender == expected


def test_gender_that_disagrees_with_the_id_number():
    message = only_problem(read_one(性别="女"), "性别")
    assert "says 男" in message and "says 女" in message
    assert read_one(证件号码=WOMAN, 性别="F").rows[0].gender == "女"


def test_gender_that_is_not_a_gender():
    assert "男 or 女" in only_problem(read_one(性别="未知"), "性别")


@pytest.mark.parametrize(
    ("born", "outcome"),
    [
        (date(2010, 11, 24), "problem"),  # 15 until tomorrow
        (date(2010, 11, 23), "ok"),  # 16 today
        (date(1956, 1, 1), "ok"),  # 70
        (date(1955, 11, 23), "warning"),  # 71 today
    ],
)
def test_age_limits(born, outcome):
    result = read_one(证件号码=make_id_number("330302", born, 11))
    if outcome == "problem":
        message = only_problem(result, "证件号码")
        assert "15 years old" in message and "at least 16" in message
    elif outcome == "warning":
        assert result.problems == [] and len(result.rows) == 1
        assert [(w.number, w.field) for w in result.warnings] == [(2, "证件号码")]
        assert "71 years old" in result.warnings[0].message
    else:
        assert result.problems == [] and result.warnings == []


def test_age_uses_the_wenzhou_date(frozen_clock):
    # 2026-11-22 16:30 UTC is already 23 November in Wenzhou.
    from datetime import UTC, datetime

    frozen_clock.freeze(datetime(2026, 11, 22, 16, 30, tzinfo=UTC))
    assert read_one(证件号码=make_id_number("330302", date(2010, 11, 23), 11)).problems == []


@pytest.mark.parametrize(
    "phone",
    [
        "138 1234 5678",
        "138-1234-5678",
        "+86 13812345678",
        "8613812345678",
        "１３８１２３４５６７８",
    ],
)
def test_phone_forms_accepted(phone):
    assert read_one(手机号码=phone).rows[0].phone == "13812345678"


@pytest.mark.parametrize("phone", ["12812345678", "1381234567", "138123456789", "0577-88888888"])
def test_phones_refused(phone):
    assert "11 digits" in only_problem(read_one(手机号码=phone), "手机号码")


def test_phone_is_required():
    assert "Fill in the mobile" in only_problem(read_one(手机号码=""), "手机号码")


@pytest.mark.parametrize(
    ("column", "typed", "expected"),
    [
        ("民族", "汉", "汉族"),
        ("民族", "畲族", "畲族"),
        ("民族", "蒙古", "蒙古族"),
        ("民族", "土", "土族"),
        ("民族", "其它", "其他"),
        ("文化程度", "大专", "大学专科"),
        ("文化程度", "专科", "大学专科"),
        ("文化程度", "中等专业学校", "中专"),
        ("文化程度", "技工学校", "技校"),
        ("文化程度", "硕士", "研究生"),
        ("文化程度", "文盲", "文盲或半文盲"),
        ("考生来源", "社会", "社会"),
        ("考生来源", "其它", "其他"),
    ],
)
def test_list_values_and_their_synonyms(column, typed, expected):
    row = read_one(**{column: typed}).rows[0]
    attribute = {"民族": "ethnicity", "文化程度": "education", "考生来源": "source"}[column]
    assert getattr(row, attribute) == expected


@pytest.mark.parametrize(
    ("column", "typed", "allowed"),
    [
        ("民族", "穿青人", ETHNICITIES),
        ("文化程度", "职高", EDUCATION_LEVELS),
        ("文化程度", "大学", EDUCATION_LEVELS),
        ("考生来源", "个人", SOURCES),
    ],
)
def test_unknown_list_values_list_the_allowed_ones(column, typed, allowed):
    message = only_problem(read_one(**{column: typed}), column)
    assert all(value in message for value in allowed)


def test_the_lists():
    assert len(ETHNICITIES) == 57 and len(set(ETHNICITIES)) == 57  # 56 + 其他
    assert len(EDUCATION_LEVELS) == 9 and len(SOURCES) == 6 and len(ID_TYPES) == 7


@pytest.mark.parametrize(
    ("typed", "expected"), [("0", 0), ("3年", 3), ("3.0", 3), (" 60 ", 60), ("", None)]
)
def test_years_in_trade(typed, expected):
    assert read_one(本职业工作年限=typed).rows[0].years_in_trade == expected


@pytest.mark.parametrize("typed", ["61", "3.5", "-1", "三年", "3个月"])
def test_years_in_trade_refused(typed):
    assert "whole years from 0 to 60" in only_problem(
        read_one(本职业工作年限=typed), "本职业工作年限"
    )


def test_the_same_id_number_twice_is_a_problem_on_the_later_row():
    rows = [
        person(),
        person(证件号码=WOMAN, 手机号码="13900000000"),
        person(手机号码="13700000000"),
    ]
    result = read_roster("花名册.csv", csv_bytes(rows))
    assert problems_of(result) == [(4, "证件号码")]
    assert "already on row 2" in result.problems[0].message
    assert [r.number for r in result.rows] == [2, 3]


def test_a_shared_phone_is_only_a_warning():
    rows = [person(), person(证件号码=WOMAN, 手机号码="138-1234-5678")]
    result = read_roster("花名册.csv", csv_bytes(rows))
    assert result.problems == [] and len(result.rows) == 2
    assert [(w.number, w.field) for w in result.warnings] == [(3, "手机号码")]
    assert "row 2" in result.warnings[0].message


def test_unknown_columns_are_ignored_and_order_does_not_matter():
    header = ["备注", "手机号码", "证件号码", "姓名", "籍贯"]
    result = read_roster(
        "a.csv", csv_bytes([["x", "13812345678", MAN, "张三", "浙江"]], header=header)
    )
    assert result.problems == [] and result.rows[0].name == "张三"


def test_overlong_free_text_is_refused():
    assert "longer than 500" in only_problem(read_one(申报条件="满" * 501), "申报条件")


# --- anything at all ----------------------------------------------------------------

FRAGMENTS = [
    ",".join(HEADER) + "\n",
    "姓名\t证件号码\t手机号码\n",
    MAN,
    WOMAN,
    "13812345678",
    "3.30302E+17",
    "张三",
    "阿依古丽·买买提",
    "男",
    "女",
    "汉",
    "3年",
    ",",
    "\t",
    "\n",
    '"',
    "'",
    "=",
    "\ufeff",
    "\x00",
]


def _check(data: bytes) -> None:
    try:
        result = read_roster("花名册.csv", data)
    except UnusableFile:
        return
    assert isinstance(result, RosterResult)
    for item in [*result.problems, *result.warnings, *result.rows]:
        assert item.number is not None and item.number >= 1


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes_give_a_result_or_a_file_error(data):
    _check(data)
    _check(b"PK\x03\x04" + data)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    parts=st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=60),
    encoding=st.sampled_from(["utf-8", "gb18030", "utf-16"]),
)
def test_csv_ish_text_gives_a_result_or_a_file_error(parts, encoding):
    _check("".join(parts).encode(encoding, errors="replace"))
