"""Aiken reader: questions as trainers type them, and every mistake with its line."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certify.banks.formats.aiken import parse_aiken
from certify.banks.formats.common import ParseResult
from certify.banks.types import OPTION_KEYS, QuestionType
from certify.core.tables import Unit

FILENAME = "仓储安全.txt"

BANK = """仓库消防通道应当（  ）。
A. 堆放少量货物
B. 保持畅通
C. 夜间可以关闭
D. 临时停放叉车
ANSWER: B

货物堆码时，重不压轻的原因是（  ）。
A) 便于盘点
B) 防止压坏下层货物
C) 节省空间
ANSWER: B
托盘货物入库前，首先应进行（  ）。
A. 上架
B. 验收
C. 出库
ANSWER: B


电镀前处理中，除油的目的是（  ）。
镀件表面若有油污会怎样影响镀层？
A. 提高镀层结合力
B. 降低电流密度
answer: a
"""


def problems(result: ParseResult) -> list[tuple[int | None, str | None]]:
    return [(p.number, p.field) for p in result.problems]


def test_reads_questions_with_and_without_blank_lines():
    result = parse_aiken(BANK, FILENAME)

    assert result.problems == [] and result.skipped == []
    assert [q.number for q in result.questions] == [1, 8, 13, 20]
    first = result.questions[0]
    assert first.type is QuestionType.SINGLE
    assert first.stem == "仓库消防通道应当（  ）。"
    assert [(o.key, o.text) for o in first.options] == [
        ("A", "堆放少量货物"),
        ("B", "保持畅通"),
        ("C", "夜间可以关闭"),
        ("D", "临时停放叉车"),
    ]
    assert first.correct == ["B"]
    assert first.area_path is None and first.difficulty is None
    assert first.explanation == "" and first.title == ""

    assert [o.text for o in result.questions[1].options] == [
        "便于盘点",
        "防止压坏下层货物",
        "节省空间",
    ]
    assert result.questions[2].stem == "托盘货物入库前，首先应进行（  ）。"
    last = result.questions[3]
    assert last.stem == "电镀前处理中，除油的目的是（  ）。\n镀件表面若有油污会怎样影响镀层？"
    assert last.correct == ["A"]


def test_full_width_punctuation_and_chinese_answer_label():
    text = (
        "\ufeff叉车起步前应当（  ）。\r\n"
        "A．鸣笛示意\r\n"
        "B）直接起步\r\n"
        "C、边走边观察\r\n"
        "D.不用检查\r\n"
        "答案：A\r\n"
        "\r\n"
        "镀锌层的主要作用是（  ）。\r\n"
        "Ａ．防腐蚀\r\n"
        "Ｂ）导电\r\n"
        "答案: Ｂ\r\n"
        "酸洗后工件应（  ）。\n"
        "A 、 立即水洗\n"
        "B 、 放置过夜\n"
        "ANSWER：A\n"
    )
    result = parse_aiken(text, FILENAME)
    assert result.problems == []
    assert [(q.number, q.correct) for q in result.questions] == [
        (1, ["A"]),
        (8, ["B"]),
        (12, ["A"]),
    ]
    assert [o.text for o in result.questions[0].options] == [
        "鸣笛示意",
        "直接起步",
        "边走边观察",
        "不用检查",
    ]
    assert [(o.key, o.text) for o in result.questions[1].options] == [
        ("A", "防腐蚀"),
        ("B", "导电"),
    ]


def test_eight_options_are_fine():
    options = "\n".join(f"{key}. 选项{key}" for key in OPTION_KEYS)
    [question] = parse_aiken(
        f"下列属于仓储设备的是（  ）。\n{options}\nANSWER: H\n", FILENAME
    ).questions
    assert [o.key for o in question.options] == list(OPTION_KEYS)
    assert question.correct == ["H"]


def test_a_roman_numeral_heading_is_stem_text():
    [question] = parse_aiken(
        "I. 安全知识\n灭火器压力表指针应在（  ）区。\nA. 红色\nB. 绿色\nANSWER: B", FILENAME
    ).questions
    assert question.stem == "I. 安全知识\n灭火器压力表指针应在（  ）区。"


# --- mistakes, each at the first line of its question --------------------------------


def test_question_without_options():
    text = "仓库消防通道应当（  ）。\nANSWER: B\n\n叉车载人属于违章吗？\n\n"
    result = parse_aiken(text, FILENAME)
    assert result.questions == []
    assert problems(result) == [(1, None), (4, None)]
    assert "A. " in result.problems[0].message
    assert all(p.unit is Unit.LINE and p.filename == FILENAME for p in result.problems)


def test_missing_answer_line():
    text = (
        "仓库消防通道应当（  ）。\n"
        "A. 堆放少量货物\n"
        "B. 保持畅通\n"
        "\n"
        "货物堆码时，重不压轻的原因是（  ）。\n"
        "A. 便于盘点\n"
        "B. 防止压坏下层货物\n"
        "ANSWER: B\n"
        "托盘货物入库前，首先应进行（  ）。\n"
        "A. 上架\n"
        "B. 验收"
    )
    result = parse_aiken(text, FILENAME)
    assert [q.number for q in result.questions] == [5]
    assert problems(result) == [(1, "ANSWER"), (9, "ANSWER")]
    assert "ANSWER: B" in result.problems[0].message


def test_answer_letter_not_among_the_options():
    text = "仓库消防通道应当（  ）。\nA. 堆放少量货物\nB. 保持畅通\nANSWER: E\n"
    result = parse_aiken(text, FILENAME)
    assert result.questions == []
    assert problems(result) == [(1, "ANSWER")]
    assert "E" in result.problems[0].message


def test_option_letters_out_of_order():
    text = (
        "叉车司机上岗前应当（  ）。\n"
        "A. 持证\n"
        "B. 佩戴安全帽\n"
        "\n"
        "镀铬的主要作用是（  ）。\n"
        "A. 装饰与耐磨\n"
        "C. 导电\n"
        "D. 吸附\n"
        "ANSWER: A\n"
    )
    result = parse_aiken(text, FILENAME)
    # The first question never got an ANSWER: it ends where the next stem starts.
    assert problems(result) == [(1, "ANSWER"), (5, "C")]
    assert "B" in result.problems[1].message
    assert result.questions == []


def test_duplicate_letter_is_out_of_order():
    text = "仓库温度应控制在（  ）。\nA. 5℃以下\nB. 5～25℃\nB. 25℃以上\nANSWER: B\n"
    result = parse_aiken(text, FILENAME)
    assert problems(result) == [(1, "B")]


def test_more_than_eight_options():
    options = "\n".join(f"{key}. 选项{key}" for key in "ABCDEFGHI")
    result = parse_aiken(f"下列属于仓储设备的是（  ）。\n{options}\nANSWER: A\n", FILENAME)
    assert problems(result) == [(1, "I")]
    assert "8" in result.problems[0].message


@pytest.mark.parametrize("answer", ["AB", "A,C", "A、B、D", "a b", "Ａ，Ｂ"])
def test_several_answer_letters_point_to_other_formats(answer):
    text = f"\n\n入库验收应核对（  ）。\nA. 数量\nB. 质量\nC. 颜色\nD. 外包装\nANSWER: {answer}\n"
    result = parse_aiken(text, FILENAME)
    assert result.questions == []
    assert problems(result) == [(3, "ANSWER")]
    message = result.problems[0].message
    assert "Excel" in message and "GIFT" in message


@pytest.mark.parametrize("answer", ["", "保持畅通", "B 保持畅通", "2"])
def test_answer_that_is_not_a_letter(answer):
    text = f"仓库消防通道应当（  ）。\nA. 堆放少量货物\nB. 保持畅通\nANSWER: {answer}\n"
    result = parse_aiken(text, FILENAME)
    assert problems(result) == [(1, "ANSWER")]
    assert "ANSWER: B" in result.problems[0].message


@pytest.mark.parametrize("answer", ["b", "B.", "(B)", "（B）", " B "])
def test_lenient_answer_values(answer):
    text = f"仓库消防通道应当（  ）。\nA. 堆放少量货物\nB. 保持畅通\nAnswer: {answer}\n"
    [question] = parse_aiken(text, FILENAME).questions
    assert question.correct == ["B"]


def test_options_without_a_question_and_a_stray_answer_line():
    text = (
        "仓库消防通道应当（  ）。\n"
        "A. 堆放少量货物\n"
        "B. 保持畅通\n"
        "ANSWER: B\n"
        "ANSWER: A\n"
        "\n"
        "A. 上架\n"
        "B. 验收\n"
        "ANSWER: B\n"
    )
    result = parse_aiken(text, FILENAME)
    assert [q.number for q in result.questions] == [1]
    assert problems(result) == [(5, "ANSWER"), (7, None)]


def test_empty_and_blank_text():
    assert parse_aiken("", FILENAME) == ParseResult()
    assert parse_aiken("\n\n  \n\u3000\n", FILENAME) == ParseResult()


# --- property: any text gives a ParseResult -----------------------------------------

LINES = [
    "仓库消防通道应当（  ）。",
    "镀锌层的主要作用是（  ）。",
    "A. 堆放少量货物",
    "A.",
    "B) 保持畅通",
    "C、夜间可以关闭",
    "D．临时停放叉车",
    "E）其他",
    "Ｆ．全角",
    "H. 第八",
    "I. 第九",
    "Z) 末尾",
    "ANSWER: B",
    "answer：A",
    "答案：C",
    "答案: AB",
    "ANSWER:",
    "ANSWER: 保持畅通",
    "",
    "   ",
    "\r",
    "\ufeff",
    "\u3000",
]

aikenish = st.lists(st.sampled_from(LINES) | st.text(max_size=8), max_size=40).map("\n".join)

relaxed = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check(text: str) -> None:
    result = parse_aiken(text, FILENAME)
    assert isinstance(result, ParseResult)
    line_count = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    for question in result.questions:
        assert 1 <= question.number <= line_count
        assert question.type is QuestionType.SINGLE and question.stem
        keys = [option.key for option in question.options]
        assert keys == list(OPTION_KEYS[: len(keys)]) and keys
        assert len(question.correct) == 1 and question.correct[0] in keys
    for problem in result.problems:
        assert problem.number is not None and 1 <= problem.number <= line_count
        assert problem.unit is Unit.LINE and problem.message
    assert result.skipped == []


@relaxed
@given(st.text())
def test_any_text_gives_a_result(text):
    check(text)


@relaxed
@given(aikenish)
def test_aiken_like_lines_give_a_result(text):
    check(text)
