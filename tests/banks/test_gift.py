"""The GIFT reader: what Moodle's GIFT means, read into Certify's question types."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.banks.formats.common import MAX_QUESTIONS, ParsedOption, ParseResult
from certify.banks.formats.gift import parse_gift
from certify.banks.types import FALSE_KEY, TRUE_KEY, QuestionType
from certify.core.tables import Unit, UnusableFile


def parse(text: str) -> ParseResult:
    return parse_gift(text, "题库.gift")


def only_question(text: str):
    result = parse(text)
    assert result.problems == [] and result.skipped == []
    assert len(result.questions) == 1
    return result.questions[0]


def only_problem(text: str):
    result = parse(text)
    assert result.questions == [] and result.skipped == []
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


def keys_and_texts(question):
    return [(o.key, o.text) for o in question.options]


# -- single choice ---------------------------------------------------------------------------


def test_single_choice_with_general_feedback():
    q = only_question(
        "镀硬铬使用的阳极是{=铅锡合金 ~纯铬板 ~镍板 ~锌板####铬酐镀液用不溶性铅合金阳极。}"
    )
    assert q.number == 1
    assert q.type is QuestionType.SINGLE
    assert q.stem == "镀硬铬使用的阳极是"
    assert keys_and_texts(q) == [("A", "铅锡合金"), ("B", "纯铬板"), ("C", "镍板"), ("D", "锌板")]
    assert q.correct == ["A"]
    assert q.explanation == "铬酐镀液用不溶性铅合金阳极。"
    assert q.area_path is None and q.difficulty is None and q.source == "" and q.title == ""


def test_single_choice_over_several_lines_keeps_file_order():
    q = only_question("仓库温湿度记录\n  每天至少几次？{\n\t~1 次\n\t=2 次\n\t~3 次\n}\n")
    assert q.stem == "仓库温湿度记录 每天至少几次？"
    assert keys_and_texts(q) == [("A", "1 次"), ("B", "2 次"), ("C", "3 次")]
    assert q.correct == ["B"]


def test_spaces_within_a_line_are_kept_line_breaks_become_one_space():
    q = only_question("提货人要求多写发货数量，保管员应当（  ）。\n  请选择 {\n  =拒绝\n  ~照写\n}")
    assert q.stem == "提货人要求多写发货数量，保管员应当（  ）。 请选择"


def test_per_answer_feedback_is_dropped_and_right_feedback_explains():
    q = only_question(
        "货物入库前必须先{~上架#上架在验收之后 =验收#先验收，合格后才能入库。 ~出库#不对}"
    )
    assert keys_and_texts(q) == [("A", "上架"), ("B", "验收"), ("C", "出库")]
    assert q.correct == ["B"]
    assert q.explanation == "先验收，合格后才能入库。"


def test_general_feedback_wins_over_answer_feedback():
    q = only_question("镀镍层的颜色是{=银白色#对 ~金黄色 ~黑色####镍本身呈银白色。}")
    assert q.explanation == "镍本身呈银白色。"


def test_no_feedback_no_explanation():
    q = only_question("托盘货架的层高单位通常是{=毫米 ~千克 ~升}")
    assert q.explanation == ""


def test_single_choice_by_one_positive_weight():
    q = only_question("堆码高度由什么决定？{~%100%包装强度和地坪承载 ~%0%仓管员喜好 ~颜色}")
    assert q.type is QuestionType.SINGLE
    assert q.correct == ["A"]
    assert q.options[0].text == "包装强度和地坪承载"


def test_equals_with_weight():
    q = only_question("电镀前除油用{=%100%碱性除油液 ~自来水 ~机油}")
    assert q.type is QuestionType.SINGLE
    assert q.correct == ["A"]
    assert q.options[0].text == "碱性除油液"


# -- multiple response -----------------------------------------------------------------------


def test_multiple_response_with_weights_and_negatives():
    q = only_question(
        "::MR1:: 入库验收要核对哪些内容？{\n"
        "  ~%50%数量#对\n"
        "  ~%50%质量\n"
        "  ~%-100%仓管员的籍贯#与验收无关\n"
        "}"
    )
    assert q.type is QuestionType.MULTIPLE
    assert q.title == "MR1"
    assert keys_and_texts(q) == [("A", "数量"), ("B", "质量"), ("C", "仓管员的籍贯")]
    assert q.correct == ["A", "B"]
    assert q.explanation == "对"


def test_multiple_response_with_decimal_weights():
    q = only_question(
        "镀锌后钝化的作用有{~%33.33333%提高耐蚀性 ~%33.33333%改善外观 ~%33.33334%"
        "减少白锈 ~%-50%增加镀层厚度 ~%-50.5%提高导电性}"
    )
    assert q.type is QuestionType.MULTIPLE
    assert q.correct == ["A", "B", "C"]
    assert [o.text for o in q.options][2:] == ["减少白锈", "增加镀层厚度", "提高导电性"]


def test_weights_mixed_with_equals():
    q = only_question("叉车作业前检查{=%50%制动 ~%50%转向 ~%-100%收音机 ~车身颜色}")
    assert q.type is QuestionType.MULTIPLE
    assert q.correct == ["A", "B"]


def test_several_equals_answers_mean_any_one_and_are_skipped_not_made_multiple():
    """Moodle: several = answers are each fully right (any one of them); Certify cannot
    grade that, so the question is skipped with the reason, never turned into 多选."""
    result = parse_gift("属于危险品的是{=汽油 =液化气 ~大米 ~棉布}", "题库.gift")
    assert result.questions == [] and result.problems == []
    [skipped] = result.skipped
    assert skipped.number == 1 and "any one" in skipped.reason
    seasons = parse_gift("::Q:: 季节 {= spring = summer = winter = autumn ~ easter}", "x.gift")
    assert seasons.questions == [] and len(seasons.skipped) == 1


def test_one_right_answer_with_weighted_ones_is_single_choice_and_says_so():
    """{~堆放货物 ~%50%夜间可以关闭 =保持畅通}: the key is C alone; B's half credit is
    dropped with a warning, never added to the key."""
    result = parse_gift("仓库消防通道应当{~堆放货物 ~%50%夜间可以关闭 =保持畅通}", "题库.gift")
    [q] = result.questions
    assert q.type is QuestionType.SINGLE and q.correct == ["C"]
    [warning] = result.warnings
    assert warning.number == 1 and warning.field == "答案" and "B" in warning.message


def test_weights_adding_up_to_100_without_an_equals_are_multiple_choice():
    q = only_question("镀铜的作用{~%50%打底 ~%50%导电 ~%-100%装饰}")
    assert q.type is QuestionType.MULTIPLE and q.correct == ["A", "B"]


def test_a_lone_partial_answer_gets_no_full_marks_and_is_a_problem():
    problem = only_problem("镀铬阳极用{~%50%铅合金 ~铬板}")
    assert problem.field == "答案" and "100%" in problem.message


def test_weight_spacing_is_tolerated():
    q = only_question("镀铜的作用{~% 50 %打底 ~%50% 导电 ~装饰}")
    assert q.correct == ["A", "B"]
    assert [o.text for o in q.options] == ["打底", "导电", "装饰"]


# -- true / false ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "key"),
    [("T", TRUE_KEY), ("TRUE", TRUE_KEY), ("F", FALSE_KEY), ("FALSE", FALSE_KEY)],
)
@pytest.mark.parametrize("case", [str.upper, str.lower, str.title])
def test_true_false_spellings(spelling, key, case):
    q = only_question(f"危险品可以与普通货物混放。{{{case(spelling)}}}")
    assert q.type is QuestionType.TRUE_FALSE
    assert q.options == []
    assert q.correct == [key]
    assert q.stem == "危险品可以与普通货物混放。"
    assert q.explanation == ""


def test_true_false_feedback_right_then_wrong():
    q = only_question("先进先出适用于保质期货物。{TRUE#答错了：保质期货物须先进先出。#答对了。}")
    assert q.correct == [TRUE_KEY]
    assert q.explanation == "答对了。"


def test_true_false_only_wrong_answer_feedback_still_explains():
    q = only_question("镀硬铬用镍阳极。{F#应使用铅锡合金阳极。}")
    assert q.correct == [FALSE_KEY]
    assert q.explanation == "应使用铅锡合金阳极。"


def test_true_false_general_feedback():
    q = only_question("镀液温度越高越好。{ false #错 #对 ####温度过高会使镀层粗糙。}")
    assert q.correct == [FALSE_KEY]
    assert q.explanation == "温度过高会使镀层粗糙。"


# -- missing word ----------------------------------------------------------------------------


def test_missing_word_multiple_choice():
    q = only_question("Grant is {~buried =entombed ~living} in Grant's tomb.")
    assert q.stem == "Grant is ＿＿ in Grant's tomb."
    assert q.correct == ["B"]


def test_missing_word_chinese():
    q = only_question("镀硬铬使用的阳极是{=铅锡合金 ~纯铬板}，不是可溶性阳极。")
    assert q.stem == "镀硬铬使用的阳极是＿＿，不是可溶性阳极。"


def test_missing_word_true_false_and_blank_at_start():
    q = only_question("{T} 是叉车起步前必须做的：鸣笛。")
    assert q.stem == "＿＿ 是叉车起步前必须做的：鸣笛。"
    assert q.correct == [TRUE_KEY]


def test_only_whitespace_after_the_block_is_no_blank():
    q = only_question("盘点时账实不符应先查明原因。{T}   \t")
    assert q.stem == "盘点时账实不符应先查明原因。"


# -- categories ------------------------------------------------------------------------------


def test_category_sets_area_for_following_questions():
    result = parse(
        "镀锌属于阳极性镀层。{T}\n"
        "\n"
        "// question: 0  name: Switch category to $course$/top/入库作业/验收\n"
        "$CATEGORY: $course$/top/入库作业/验收\n"
        "\n"
        "验收时先核对单据。{T}\n"
        "\n"
        "$CATEGORY: TOP/储存保管 // 来自 Moodle\n"
        "\n"
        "仓库可以吸烟。{F}\n"
        "\n"
        "$CATEGORY: $system$/top\n"
        "\n"
        "叉车可以载人。{F}\n"
    )
    assert result.problems == []
    assert [(q.number, q.area_path) for q in result.questions] == [
        (1, None),
        (6, "入库作业/验收"),
        (10, "储存保管"),
        (14, None),
    ]


@pytest.mark.parametrize(
    ("line", "area"),
    [
        ("$CATEGORY: 入库作业/验收", "入库作业/验收"),
        ("$CATEGORY:$module$/top/入库作业", "入库作业"),
        ("$CATEGORY: $coursecategory$/Top/ 电镀 / 镀铬 ", "电镀/镀铬"),
        ("$CATEGORY: $cat1$/top/电镀", "电镀"),
        ("$CATEGORY: top/电镀/", "电镀"),
        ("$category: 电镀  工艺", "电镀  工艺"),
        ("$CATEGORY：储存保管", "储存保管"),
        ("$CATEGORY: topology/拓扑", "topology/拓扑"),
    ],
)
def test_category_paths(line, area):
    q = only_question(f"{line}\n\n镀铬层很硬。{{T}}")
    assert q.area_path == area


def test_question_straight_under_category_is_still_read():
    result = parse("$CATEGORY: 入库作业\n::入库1::货物到库先验收。{T}")
    assert result.problems == []
    [q] = result.questions
    assert (q.number, q.area_path, q.title) == (2, "入库作业", "入库1")


@pytest.mark.parametrize(
    "line",
    [
        "$CATEGORY: 电镀//镀铬",  # Moodle's escaped "/" inside a name
        "$CATEGORY $course$/top/电镀",  # no colon
        "$CATEGORY:",  # no path
        "$CATEGORY: // only a comment",
        "$CATEGORY: $nosuch$/top/电镀",  # unknown context
        "$CATEGORY: 电镀/ /镀铬",  # empty level
    ],
)
def test_bad_category_is_a_problem_and_clears_the_area(line):
    result = parse(f"$CATEGORY: 仓储\n\n{line}\n\n镀铬层很硬。{{T}}")
    [problem] = result.problems
    assert (problem.number, problem.unit, problem.field) == (3, Unit.LINE, "知识点")
    assert problem.filename == "题库.gift"
    assert problem.message
    [q] = result.questions
    assert q.area_path is None


# -- comments, titles, formats, escapes ------------------------------------------------------


def test_comments_are_ignored_and_do_not_separate():
    result = parse(
        "// 仓储管理员 初级 题库\n"
        "   // 第一部分\n"
        "货物堆码应遵守\n"
        "// 这行注释在题目中间\n"
        "“五距”要求。{T}\n"
        "//\n"
        "\n"
        "// only comments here\n"
        "// and here\n"
    )
    [q] = result.questions
    assert q.number == 3
    assert q.stem == "货物堆码应遵守 “五距”要求。"
    assert result.problems == [] and result.skipped == []


def test_file_with_only_comments():
    assert parse("// nothing\n// at all\n\n   \n") == ParseResult()


def test_empty_file():
    assert parse("") == ParseResult()


def test_title():
    q = only_question("::镀铬 阳极::镀硬铬使用的阳极是{=铅锡合金 ~纯铬板}")
    assert q.title == "镀铬 阳极"
    assert q.stem == "镀硬铬使用的阳极是"


def test_html_format_converts_stem_options_and_feedback():
    q = only_question(
        "::H1::[html]<p>下列说法<b>正确</b>的是&nbsp;&lt;单选&gt;</p>"
        "{=<i>铬酐</i> &amp; 硫酸#<p>标准 &quot;萨金特&quot; 镀液</p> ~<span>盐酸</span>}"
    )
    assert q.stem == "下列说法正确的是 <单选>"
    assert keys_and_texts(q) == [("A", "铬酐 & 硫酸"), ("B", "盐酸")]
    assert q.explanation == '标准 "萨金特" 镀液'


def test_html_line_breaks_come_from_tags_not_source_newlines():
    q = only_question("[html]第一行<br>第二行\n仍是第二行\\n还是第二行{T}")
    assert q.stem == "第一行\n第二行 仍是第二行 还是第二行"


def test_html_scripts_comments_and_stray_brackets():
    q = only_question("[html]<script>alert(1)</script>1 < 2 <!-- 注释 -->且 3 > 2<img src=x>？{T}")
    assert q.stem == "1 < 2 且 3 > 2？"


def test_markdown_and_plain_and_moodle_keep_the_text():
    assert only_question("[markdown]**加粗** 的 _说明_{T}").stem == "**加粗** 的 _说明_"
    assert only_question("[plain]<b>不是标签</b>{T}").stem == "<b>不是标签</b>"
    assert only_question("[MOODLE] 普通文本{T}").stem == "普通文本"


def test_option_can_carry_its_own_format():
    q = only_question("哪个是粗体？{=[html]<b>甲</b> ~[plain]<b>乙</b>}")
    assert [o.text for o in q.options] == ["甲", "<b>乙</b>"]


def test_unknown_bracket_is_text():
    assert only_question("[注意] 叉车限速5km/h。{T}").stem == "[注意] 叉车限速5km/h。"


def test_every_escape_is_literal():
    q = only_question(
        "::比例\\:1\\:2::镀液配比 \\{CrO3\\} \\= 250 g/L\\~300 g/L \\# 1\\n第二行 C:\\\\temp\\d"
        "{=含\\=号 \\~ \\# \\{ \\} \\:#反馈\\#1 ~普通}"
    )
    assert q.title == "比例:1:2"
    assert q.stem == "镀液配比 {CrO3} = 250 g/L~300 g/L # 1\n第二行 C:\\temp\\d"
    assert keys_and_texts(q) == [("A", "含=号 ~ # { } :"), ("B", "普通")]
    assert q.explanation == "反馈#1"


def test_escaped_brace_does_not_open_an_answer_block():
    result = parse("集合 \\{1, 2\\} 是说明文字")
    assert result.questions == [] and result.problems == []
    assert [s.number for s in result.skipped] == [1]


def test_crlf_tabs_and_bom():
    result = parse("\ufeff::A::\t仓库\t防火{T}\r\n\r\n::B::防潮{\r\n=对\r\n~错\r\n}\r\n\r\n")
    assert [(q.number, q.stem) for q in result.questions] == [(1, "仓库\t防火"), (3, "防潮")]
    assert result.questions[1].options == [ParsedOption("A", "对"), ParsedOption("B", "错")]


def test_lone_cr_line_endings():
    result = parse("第一题{T}\r\r第二题{F}")
    assert [(q.number, q.correct) for q in result.questions] == [(1, ["T"]), (3, ["F"])]


# -- skipped types ---------------------------------------------------------------------------

SKIPPABLE = """\
// 各种 Certify 不评分的题型
::论述::简述镀硬铬的工艺流程。{}

::匹配::将货物与储存条件匹配。{
  =冷冻食品 -> -18℃ 以下
  =药品 -> 阴凉库
}

::数值::镀硬铬的常用温度（℃）是多少？{#55:5}

::填空::货物验收的依据是{=合同 =订单}。

这是一段说明文字，没有答案块。

::论述2::简述“五距”。{####参考答案：顶距、灯距、墙距、柱距、垛距。}

::判断::这一题正常。{T}
"""


def test_each_skipped_type_with_its_line():
    result = parse(SKIPPABLE)
    assert result.problems == []
    assert [q.number for q in result.questions] == [17]
    assert [s.number for s in result.skipped] == [2, 4, 9, 11, 13, 15]
    assert all(s.unit is Unit.LINE for s in result.skipped)
    reasons = [s.reason for s in result.skipped]
    for reason, word in zip(
        reasons,
        ["Essay", "Matching", "Numerical", "Short-answer", "Description", "Essay"],
        strict=True,
    ):
        assert word in reason


def test_short_answer_without_equals_is_skipped():
    result = parse("货物入库要{入库单}。")
    assert result.problems == [] and len(result.skipped) == 1


# -- broken input ----------------------------------------------------------------------------


def test_unclosed_brace_reports_the_question_line_and_the_brace_line():
    result = parse("正常题。{T}\n\n::坏题::\n镀铬阳极是{=铅锡合金\n~纯铬板\n\n下一题正常。{F}\n")
    [problem] = result.problems
    assert (problem.number, problem.unit, problem.field) == (3, Unit.LINE, "答案")
    assert "line 4" in problem.message
    assert [q.number for q in result.questions] == [1, 7]


def test_brace_opened_again_before_closing():
    problem = only_problem("第一题{=对 ~错\n第二题{=是 ~否}")
    assert problem.number == 1
    assert "line 1" in problem.message and "line 2" in problem.message


def test_two_questions_without_blank_line():
    problem = only_problem("第一题{T}\n第二题{F}")
    assert problem.number == 1
    assert "line 2" in problem.message


@pytest.mark.parametrize("text", ["仓库}防火{T}", "仓库防火}", "仓库防火{T}}"])
def test_stray_closing_brace(text):
    problem = only_problem(text)
    assert (problem.number, problem.field) == (1, "题干")


def test_no_right_answer():
    problem = only_problem("// 无正确答案\n\n\n镀锌层颜色{~银白 ~金黄 ~%-50%黑色 ~%0%红色}")
    assert (problem.number, problem.field) == (4, "答案")
    assert "~%50%" in problem.message


def test_empty_option():
    problem = only_problem("仓库常用灭火器是{\n=干粉\n~ \n~二氧化碳}")
    assert (problem.number, problem.field) == (1, "选项")
    assert "B" in problem.message and "line 3" in problem.message


def test_equals_with_no_text():
    result = parse("哪个对？{= ~错}")
    assert result.questions == []
    assert len(result.problems) == 1


def test_empty_answers_only():
    problem = only_problem("哪个对？{=}")
    assert problem.field == "答案"


def test_text_before_first_answer():
    problem = only_problem("镀铬阳极是{铅锡合金 =铅合金 ~纯铬}")
    assert problem.field == "选项"


def test_weight_out_of_range():
    problem = only_problem("镀铬{~%150%铅 ~锌}")
    assert "%150%" in problem.message


def test_unclosed_title():
    problem = only_problem("::没有结束的标题 镀铬{T}")
    assert problem.field == "标题"


def test_more_options_than_keys_is_a_problem_not_a_crash():
    answers = " ".join(f"~选项{i}" for i in range(12))
    problem = only_problem(f"太多选项{{=正确 {answers}}}")
    assert "8" in problem.message


def test_eight_options_are_fine():
    q = only_question("八个选项{=一 ~二 ~三 ~四 ~五 ~六 ~七 ~八}")
    assert [o.key for o in q.options] == list("ABCDEFGH")


def test_problems_do_not_stop_the_rest():
    result = parse("坏{=a ~b\n\n好{T}\n\n坏}\n\n好{F}\n\n坏{~a ~b}\n\n好{=x ~y}")
    assert [q.number for q in result.questions] == [3, 7, 11]
    assert [p.number for p in result.problems] == [1, 5, 9]


# -- size and speed --------------------------------------------------------------------------


def test_ten_thousand_questions():
    text = "\n\n".join(f"::Q{i}::第 {i} 题{{=对#好 ~错}}" for i in range(MAX_QUESTIONS))
    result = parse(text)
    assert len(result.questions) == MAX_QUESTIONS
    assert result.questions[-1].number == 2 * MAX_QUESTIONS - 1


def test_too_many_questions_is_a_file_error():
    text = "\n\n".join("题{T}" for _ in range(MAX_QUESTIONS + 1))
    with pytest.raises(UnusableFile):
        parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "{" + "镀" * 5_000_000,
        "{" + "~" * 5_000_000 + "}",
        "{" + "=" * 5_000_000 + "}",
        "{" + "=#" * 2_500_000 + "}",
        "[html]" + "<a" * 2_500_000 + "{T}",
        "[html]" + "<!--" * 1_250_000 + "{T}",
        "[html]<script>" + "<" * 5_000_000 + "{T}",
        "{~%" + " " * 5_000_000 + "}",
        "$CATEGORY: " + "a/" * 2_500_000,
        "\\" * 5_000_000 + "{T}",
        "::" + ":" * 5_000_000,
    ],
    ids=[
        "unclosed",
        "tildes",
        "equals",
        "feedback",
        "html-tags",
        "html-comments",
        "script",
        "weight",
        "category",
        "backslashes",
        "colons",
    ],
)
def test_five_megabyte_lines_are_fast(text):
    result = parse(text)
    assert isinstance(result, ParseResult)


# -- anything at all -------------------------------------------------------------------------

SYNTAX = ["{", "}", "=", "~", "#", "####", "::", "//", "\\", "\\n", "%", "%50%", "%-33.3%", "->"]
WORDS = ["$CATEGORY:", "$course$/", "top/", "T", "FALSE", "[html]", "[markdown]", "<p>", "&amp;"]
SPACING = ["\n", "\n\n", "\r\n", "\r", "\t", " ", "<!--", "镀铬", "\ufdd0", "\ufeff"]
FRAGMENTS = st.sampled_from([*SYNTAX, *WORDS, *SPACING])
GIFTISH = st.lists(st.one_of(FRAGMENTS, st.text(max_size=5)), max_size=40).map("".join)


def _check(text: str) -> None:
    try:
        result = parse(text)
    except UnusableFile:
        return
    assert isinstance(result, ParseResult)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    for item in [*result.questions, *result.problems, *result.skipped]:
        assert 1 <= item.number <= lines
    for q in result.questions:
        assert q.type in QuestionType
        assert q.correct
        assert all(key in "ABCDEFGH" for key in (o.key for o in q.options))


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_never_crashes(text):
    _check(text)


@settings(max_examples=200, deadline=None)
@given(GIFTISH)
def test_giftish_text_never_crashes(text):
    _check(text)


def test_a_question_whose_picture_is_dropped_is_imported_with_a_warning():
    result = parse_gift(
        '[html]<p>看图：<img src="@@PLUGINFILE@@/shelf.png"> 货架的类型是</p>{=层架 ~托盘架}\n\n'
        "没有图的题{T}\n",
        "题库.gift",
    )
    assert len(result.questions) == 2 and result.problems == []
    [warning] = result.warnings
    assert warning.number == 1 and "pictures" in warning.message
