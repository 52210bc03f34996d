"""Moodle XML reader: what a real Moodle export yields, and how broken files fail."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certify.banks.formats.common import ParseResult
from certify.banks.formats.moodle_xml import parse_moodle_xml
from certify.banks.types import FALSE_KEY, OPTION_KEYS, TRUE_KEY, QuestionType
from certify.core.tables import Unit, UnusableFile

FILENAME = "仓储管理员题库.xml"

# Shaped like Moodle 4's export of a question bank ("Moodle XML format").
EXPORT = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
<!-- question: 0  -->
  <question type="category">
    <category>
      <text>$course$/top/入库作业/验收</text>
    </category>
    <info format="moodle_auto_format">
      <text>入库验收相关题目</text>
    </info>
    <idnumber></idnumber>
  </question>

<!-- question: 101  -->
  <question type="multichoice">
    <name>
      <text>消防通道</text>
    </name>
    <questiontext format="html">
      <text><![CDATA[<p>仓库<b>消防通道</b>应当（&nbsp;&nbsp;）。</p>]]></text>
    </questiontext>
    <generalfeedback format="html">
      <text><![CDATA[<p>消防通道任何时候都必须保持畅通。</p>]]></text>
    </generalfeedback>
    <defaultgrade>1.0000000</defaultgrade>
    <penalty>0.3333333</penalty>
    <hidden>0</hidden>
    <idnumber></idnumber>
    <single>true</single>
    <shuffleanswers>true</shuffleanswers>
    <answernumbering>ABCD</answernumbering>
    <showstandardinstruction>0</showstandardinstruction>
    <correctfeedback format="html">
      <text>你的回答正确。</text>
    </correctfeedback>
    <answer fraction="0" format="html">
      <text><![CDATA[<p>堆放少量货物</p>]]></text>
      <feedback format="html">
        <text></text>
      </feedback>
    </answer>
    <answer fraction="100" format="html">
      <text><![CDATA[<p>保持畅通</p>]]></text>
      <feedback format="html">
        <text>正确。</text>
      </feedback>
    </answer>
    <answer fraction="0" format="html">
      <text><![CDATA[<p>夜间可以关闭</p>]]></text>
    </answer>
    <answer fraction="0" format="html">
      <text>&lt;p&gt;临时停放&lt;b&gt;叉车&lt;/b&gt;&lt;/p&gt;</text>
    </answer>
    <tags>
      <tag><text>难度:2</text></tag>
    </tags>
  </question>

<!-- question: 102  -->
  <question type="multichoice">
    <name>
      <text>验收内容</text>
    </name>
    <questiontext format="html">
      <text><![CDATA[<p>货物入库验收时，应核对下列哪些内容？</p>
<p>（温度 &lt; 5&nbsp;℃ 的冷链货物另行处理）</p>]]></text>
    </questiontext>
    <generalfeedback format="html">
      <text></text>
    </generalfeedback>
    <single>false</single>
    <answer fraction="50" format="html">
      <text>数量</text>
      <feedback format="html"><text><![CDATA[<p>数量与<b>送货单</b>一致。</p>]]></text></feedback>
    </answer>
    <answer fraction="50" format="html">
      <text>质量</text>
      <feedback format="html"><text>质量合格。</text></feedback>
    </answer>
    <answer fraction="-100" format="html">
      <text>送货司机的籍贯</text>
    </answer>
  </question>

  <question type="category">
    <category>
      <text>$course$/top/入库作业/堆码</text>
    </category>
  </question>

  <question type="multichoice">
    <name><text>堆码原则</text></name>
    <questiontext format="plain_text">
      <text>堆码应遵循的原则有（  ）。</text>
    </questiontext>
    <single>0</single>
    <answer fraction="33.33333" format="plain_text"><text>合理</text></answer>
    <answer fraction="33.33333" format="plain_text"><text>牢固</text></answer>
    <answer fraction="33.33333" format="plain_text"><text>定量</text></answer>
    <answer fraction="-50" format="plain_text"><text>越高越好</text></answer>
  </question>

  <question type="truefalse">
    <name>
      <text>叉车载人</text>
    </name>
    <questiontext format="moodle_auto_format">
      <text>叉车可以在货叉上载人进行高处作业。</text>
    </questiontext>
    <generalfeedback format="moodle_auto_format">
      <text></text>
    </generalfeedback>
    <answer fraction="0" format="moodle_auto_format">
      <text>true</text>
      <feedback format="moodle_auto_format"><text>错误。</text></feedback>
    </answer>
    <answer fraction="100" format="moodle_auto_format">
      <text>false</text>
      <feedback format="moodle_auto_format"><text>货叉严禁载人。</text></feedback>
    </answer>
  </question>

  <question type="essay">
    <name><text>论述</text></name>
    <questiontext format="html"><text>论述仓库安全管理的要点。</text></questiontext>
    <responseformat>editor</responseformat>
  </question>

  <question type="category">
    <category>
      <text>$system$/Top/电镀/前处理</text>
    </category>
  </question>

  <question type="truefalse">
    <name><text>除油</text></name>
    <questiontext format="html">
      <text><![CDATA[<p>电镀前必须对工件进行除油处理。</p>]]></text>
    </questiontext>
    <answer fraction="100" format="moodle_auto_format"><text>TRUE</text></answer>
    <answer fraction="0" format="moodle_auto_format"><text>False</text></answer>
  </question>

  <question type="matching">
    <name><text>配对</text></name>
    <questiontext format="html"><text>将镀种与用途配对。</text></questiontext>
    <subquestion format="html"><text>镀锌</text><answer><text>防腐</text></answer></subquestion>
    <subquestion format="html"><text>镀铬</text><answer><text>装饰</text></answer></subquestion>
  </question>

  <question type="shortanswer">
    <name><text>填空</text></name>
    <questiontext format="html"><text>酸洗常用的酸是____。</text></questiontext>
    <answer fraction="100"><text>盐酸</text></answer>
  </question>

  <question type="numerical">
    <name><text>温度</text></name>
    <questiontext format="html"><text>镀镍槽液温度一般为多少℃？</text></questiontext>
    <answer fraction="100"><text>55</text><tolerance>5</tolerance></answer>
  </question>

  <question type="description">
    <name><text>说明</text></name>
    <questiontext format="html"><text>以下为电镀安全部分。</text></questiontext>
  </question>
</quiz>
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing needle."""
    found = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if needle in line:
            found += 1
            if found == occurrence:
                return number
    raise AssertionError(f"{needle!r} not found")


def quiz(*questions: str) -> bytes:
    body = "\n".join(questions)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n{body}\n</quiz>\n'.encode()


def by_title(result: ParseResult) -> dict:
    return {q.title: q for q in result.questions}


# --- a real export ------------------------------------------------------------------


def test_reads_a_moodle_export():
    result = parse_moodle_xml(EXPORT.encode(), FILENAME)

    assert result.problems == []
    titles = [q.title for q in result.questions]
    assert titles == ["消防通道", "验收内容", "堆码原则", "叉车载人", "除油"]
    questions = by_title(result)

    fire = questions["消防通道"]
    assert fire.number == line_of(EXPORT, '<question type="multichoice">')
    assert fire.type is QuestionType.SINGLE
    assert fire.stem == "仓库消防通道应当（ ）。"
    assert [(o.key, o.text) for o in fire.options] == [
        ("A", "堆放少量货物"),
        ("B", "保持畅通"),
        ("C", "夜间可以关闭"),
        ("D", "临时停放叉车"),
    ]
    assert fire.correct == ["B"]
    assert fire.area_path == "入库作业/验收"
    assert fire.explanation == "消防通道任何时候都必须保持畅通。"
    assert fire.difficulty == 2
    assert fire.source == ""


def test_multiple_choice_with_partial_and_negative_fractions():
    questions = by_title(parse_moodle_xml(EXPORT.encode(), FILENAME))

    check = questions["验收内容"]
    assert check.type is QuestionType.MULTIPLE
    assert check.stem == "货物入库验收时，应核对下列哪些内容？\n（温度 < 5 ℃ 的冷链货物另行处理）"
    assert check.correct == ["A", "B"]
    assert [o.text for o in check.options] == ["数量", "质量", "送货司机的籍贯"]
    # No general feedback: the first correct answer's feedback explains.
    assert check.explanation == "数量与送货单一致。"
    assert check.area_path == "入库作业/验收"
    assert check.difficulty is None

    stacking = questions["堆码原则"]
    assert stacking.type is QuestionType.MULTIPLE
    assert stacking.correct == ["A", "B", "C"]
    assert stacking.stem == "堆码应遵循的原则有（  ）。"  # plain text is kept as written
    assert stacking.area_path == "入库作业/堆码"
    assert stacking.explanation == ""


def test_true_false_questions():
    questions = by_title(parse_moodle_xml(EXPORT.encode(), FILENAME))

    forklift = questions["叉车载人"]
    assert forklift.type is QuestionType.TRUE_FALSE
    assert forklift.options == []
    assert forklift.correct == [FALSE_KEY]
    assert forklift.explanation == "货叉严禁载人。"
    assert forklift.number == line_of(EXPORT, '<question type="truefalse">')

    degrease = questions["除油"]
    assert degrease.correct == [TRUE_KEY]
    assert degrease.stem == "电镀前必须对工件进行除油处理。"
    assert degrease.area_path == "电镀/前处理"  # $system$/ and a capitalised Top/


def test_other_question_types_are_skipped_with_their_lines():
    result = parse_moodle_xml(EXPORT.encode(), FILENAME)

    expected = [
        line_of(EXPORT, f'<question type="{kind}">')
        for kind in ("essay", "matching", "shortanswer", "numerical", "description")
    ]
    assert [item.number for item in result.skipped] == expected
    assert all(item.unit is Unit.LINE for item in result.skipped)
    for item, kind in zip(
        result.skipped,
        ("essay", "matching", "shortanswer", "numerical", "description"),
        strict=True,
    ):
        assert kind in item.reason


@pytest.mark.parametrize(
    "kind",
    ["multianswer", "calculatedsimple", "ddwtos", "gapselect", "ordering", "random", "whatever"],
)
def test_unknown_and_unsupported_types_are_skipped(kind):
    result = parse_moodle_xml(
        quiz(f'<question type="{kind}"><questiontext><text>题</text></questiontext></question>'),
        FILENAME,
    )
    assert result.questions == [] and result.problems == []
    [item] = result.skipped
    assert item.number == 3 and kind in item.reason


def test_category_paths():
    def area(path: str) -> str | None:
        result = parse_moodle_xml(
            quiz(
                f'<question type="category"><category><text>{escape(path)}</text></category>'
                "</question>",
                TRUE_FALSE.format(fraction_true=100, fraction_false=0),
            ),
            FILENAME,
        )
        assert result.problems == []
        return result.questions[0].area_path

    assert area("$course$/top/入库作业/验收") == "入库作业/验收"
    assert area("$module$/top/出库作业") == "出库作业"
    assert area("$coursecategory$/TOP/ 储存 / 养护 /") == "储存/养护"
    assert area("$course$/Default for 仓储") == "Default for 仓储"
    assert area("$course$/top") is None
    assert area("top/topology") == "topology"
    assert area("入库作业") == "入库作业"


def test_questions_before_any_category_have_no_area():
    data = quiz(TRUE_FALSE.format(fraction_true=100, fraction_false=0))
    assert parse_moodle_xml(data, FILENAME).questions[0].area_path is None


def test_escaped_slash_in_a_category_is_a_problem():
    data = quiz(
        '<question type="category"><category><text>$course$/top/出入库//装卸</text>'
        "</category></question>",
        TRUE_FALSE.format(fraction_true=100, fraction_false=0),
    )
    result = parse_moodle_xml(data, FILENAME)
    [problem] = result.problems
    assert (problem.number, problem.unit, problem.field) == (3, Unit.LINE, "category")
    assert "出入库//装卸" in problem.message
    assert result.questions[0].area_path is None


TRUE_FALSE = """<question type="truefalse">
  <name><text>判断</text></name>
  <questiontext format="html"><text>仓库内严禁吸烟。</text></questiontext>
  <answer fraction="{fraction_true}"><text>true</text></answer>
  <answer fraction="{fraction_false}"><text>false</text></answer>
</question>"""


def choice(*answers: tuple[str, str], single: str = "true", extra: str = "") -> str:
    parts = "".join(
        f"<answer fraction={quoteattr(fraction)}><text>{escape(text)}</text></answer>"
        for fraction, text in answers
    )
    return (
        '<question type="multichoice"><name><text>选择</text></name>'
        '<questiontext format="html"><text>下列说法正确的是（  ）。</text></questiontext>'
        f"<single>{single}</single>{extra}{parts}</question>"
    )


# --- problems in single questions ----------------------------------------------------


@pytest.mark.parametrize(("fraction_true", "fraction_false"), [(0, 0), (100, 100), (50, 0)])
def test_true_false_needs_exactly_one_answer_at_100(fraction_true, fraction_false):
    data = quiz(
        TRUE_FALSE.format(fraction_true=1, fraction_false=1),  # line 3, also wrong
        TRUE_FALSE.format(fraction_true=fraction_true, fraction_false=fraction_false),
    )
    result = parse_moodle_xml(data, FILENAME)
    assert result.questions == []
    assert [(p.number, p.field) for p in result.problems] == [(3, "answer"), (9, "answer")]
    assert "100" in result.problems[0].message


def test_true_false_with_other_answer_words_is_a_problem():
    data = quiz(TRUE_FALSE.replace(">true<", ">正确<").format(fraction_true=100, fraction_false=0))
    [problem] = parse_moodle_xml(data, FILENAME).problems
    assert problem.field == "answer" and "正确" in problem.message


def test_non_numeric_fraction_is_a_problem():
    data = quiz(
        choice(("100", "保持畅通"), ("0", "堆放货物")),
        choice(("满分", "保持畅通"), ("0", "堆放货物")),
    )
    result = parse_moodle_xml(data, FILENAME)
    assert [q.number for q in result.questions] == [3]
    [problem] = result.problems
    assert (problem.number, problem.field) == (4, "answer")
    assert "A" in problem.message and "满分" in problem.message


@pytest.mark.parametrize("fraction", ["nan", "inf", "-Infinity"])
def test_non_finite_fraction_is_a_problem(fraction):
    result = parse_moodle_xml(quiz(choice((fraction, "保持畅通"), ("0", "堆放"))), FILENAME)
    assert result.questions == [] and len(result.problems) == 1


def test_missing_fraction_counts_as_zero_and_missing_text_is_a_problem():
    question = (
        '<question type="multichoice"><questiontext><text>消防通道应（  ）。</text></questiontext>'
        "<answer><text>堆放货物</text></answer>"
        '<answer fraction="100"><text>保持畅通</text></answer>'
        '<answer fraction="0"></answer>'
        "</question>"
    )
    result = parse_moodle_xml(quiz(question), FILENAME)
    assert result.questions == []
    [problem] = result.problems
    assert problem.field == "answer" and "C" in problem.message

    fine = question.replace('<answer fraction="0"></answer>', "")
    [parsed] = parse_moodle_xml(quiz(fine), FILENAME).questions
    assert parsed.type is QuestionType.SINGLE  # Moodle's default without <single>
    assert parsed.correct == ["B"] and parsed.title == ""


def test_grades_mean_what_moodle_means_and_what_gift_reads():
    data = quiz(
        choice(("100", "保持畅通"), ("50", "夜间可以关闭"), ("0", "堆放货物"), single="true"),
        choice(("100", "数量"), ("0", "颜色"), single="false"),
        choice(("100", "汽油"), ("100", "液化气"), ("0", "大米"), single="true"),
        choice(("50", "数量"), ("50", "质量"), ("0", "颜色"), single="true"),
    )
    result = parse_moodle_xml(data, FILENAME)
    assert [(q.type, q.correct) for q in result.questions] == [
        (QuestionType.SINGLE, ["A"]),  # the half-credit answer is not part of the key
        (QuestionType.MULTIPLE, ["A"]),
    ]
    [warning] = result.warnings
    assert "B" in warning.message
    [skipped] = result.skipped  # several fully right: any one of them, not 多选
    assert "any one" in skipped.reason
    [problem] = result.problems  # single, but no answer gets full marks
    assert problem.field == "answer" and "100%" in problem.message


def test_more_than_eight_answers_is_a_problem():
    answers = [("100" if i == 0 else "0", f"选项{i}") for i in range(9)]
    result = parse_moodle_xml(quiz(choice(*answers)), FILENAME)
    assert result.questions == []
    [problem] = result.problems
    assert problem.field == "answer" and "9" in problem.message

    [question] = parse_moodle_xml(quiz(choice(*answers[:8])), FILENAME).questions
    assert [o.key for o in question.options] == list(OPTION_KEYS)


def test_all_or_nothing_multichoiceset_is_multiple_choice():
    question = choice(("100", "数量"), ("100", "质量"), ("0", "颜色")).replace(
        'type="multichoice"', 'type="multichoiceset"'
    )
    [parsed] = parse_moodle_xml(quiz(question), FILENAME).questions
    assert parsed.type is QuestionType.MULTIPLE and parsed.correct == ["A", "B"]


def test_image_only_question_text_is_a_problem():
    question = (
        '<question type="multichoice"><questiontext format="html">'
        '<text><![CDATA[<p><img src="@@PLUGINFILE@@/shelf.png" alt=""></p>]]></text>'
        '<file name="shelf.png" path="/" encoding="base64">iVBORw0KGgo=</file>'
        "</questiontext>"
        '<answer fraction="100"><text>A</text></answer><answer fraction="0"><text>B</text></answer>'
        "</question>"
    )
    result = parse_moodle_xml(quiz(question), FILENAME)
    assert result.questions == []
    [problem] = result.problems
    assert problem.field == "questiontext" and "images are not imported" in problem.message


def test_images_beside_text_are_dropped():
    question = (
        '<question type="multichoice"><questiontext format="html">'
        '<text><![CDATA[<p>图中货架的最大载重是（  ）。<img src="@@PLUGINFILE@@/a.png"></p>]]>'
        '</text><file name="a.png" path="/" encoding="base64">iVBORw0KGgo=</file>'
        "</questiontext>"
        '<answer fraction="100"><text>500 kg</text></answer>'
        '<answer fraction="0"><text>5 t</text></answer></question>'
    )
    [parsed] = parse_moodle_xml(quiz(question), FILENAME).questions
    assert parsed.stem == "图中货架的最大载重是（ ）。"


def test_empty_question_text_and_missing_type_are_problems():
    data = quiz(
        '<question type="truefalse"><questiontext><text> </text></questiontext>'
        '<answer fraction="100"><text>true</text></answer></question>',
        "<question><questiontext><text>无类型</text></questiontext></question>",
    )
    result = parse_moodle_xml(data, FILENAME)
    assert [(p.number, p.field) for p in result.problems] == [(3, "questiontext"), (4, "type")]


def test_html_left_unescaped_in_text_still_reads():
    question = (
        '<question type="truefalse"><questiontext format="html">'
        "<text><p>电镀槽<b>严禁</b>用手直接触摸。</p></text></questiontext>"
        '<answer fraction="100"><text>true</text></answer>'
        '<answer fraction="0"><text>false</text></answer></question>'
    )
    [parsed] = parse_moodle_xml(quiz(question), FILENAME).questions
    assert parsed.stem == "电镀槽严禁用手直接触摸。"


def test_empty_quiz():
    result = parse_moodle_xml(b'<?xml version="1.0"?>\n<quiz>\n</quiz>\n', FILENAME)
    assert result == ParseResult()
    assert parse_moodle_xml(b"<quiz/>", FILENAME) == ParseResult()


# --- encodings ----------------------------------------------------------------------


def test_encodings():
    body = f"<quiz>\n{TRUE_FALSE.format(fraction_true=100, fraction_false=0)}\n</quiz>"
    declared = '<?xml version="1.0" encoding="{}"?>\n' + body
    variants = [
        (declared.format("UTF-8").encode("utf-8-sig"), 3),
        (declared.format("UTF-16").encode("utf-16"), 3),
        (declared.format("GB2312").encode("gb18030"), 3),
        (declared.format("UTF-8").encode("gbk"), 3),  # Notepad's "ANSI" on Chinese Windows
        (body.encode("gbk"), 2),
    ]
    for data, line in variants:
        [question] = parse_moodle_xml(data, FILENAME).questions
        assert question.stem == "仓库内严禁吸烟。" and question.number == line


def test_unknown_declared_encoding():
    with pytest.raises(UnusableFile, match="klingon"):
        parse_moodle_xml(b'<?xml version="1.0" encoding="klingon"?><quiz/>', FILENAME)


# --- whole-file failures ------------------------------------------------------------


def test_malformed_xml_names_the_line():
    data = quiz(
        TRUE_FALSE.format(fraction_true=100, fraction_false=0),
        "<question type='truefalse'><name><text>坏</name></question>",
    )
    with pytest.raises(UnusableFile) as caught:
        parse_moodle_xml(data, FILENAME)
    assert caught.value.filename == FILENAME
    broken = line_of(data.decode(), "坏")
    assert broken == 9 and f"line {broken}" in caught.value.message


def test_truncated_xml():
    data = quiz(TRUE_FALSE.format(fraction_true=100, fraction_false=0))[:-40]
    with pytest.raises(UnusableFile, match="line"):
        parse_moodle_xml(data, FILENAME)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   ",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        "仓库消防通道应当（  ）。\nA. 堆放\nANSWER: A\n".encode(),
        b"PK\x03\x04\x14\x00\x06\x00",
    ],
)
def test_non_xml_bytes(data):
    with pytest.raises(UnusableFile):
        parse_moodle_xml(data, FILENAME)


def test_not_a_quiz():
    with pytest.raises(UnusableFile, match="quiz") as caught:
        parse_moodle_xml('<?xml version="1.0"?>\n<html><body>题库</body></html>'.encode(), FILENAME)
    assert "html" in caught.value.message


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE quiz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<quiz><question type="truefalse"><questiontext><text>&lol9;</text></questiontext>
</question></quiz>
"""


def test_billion_laughs_is_refused_fast():
    with pytest.raises(UnusableFile, match="unsafe XML"):
        parse_moodle_xml(BILLION_LAUGHS, FILENAME)


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?>\n<!DOCTYPE quiz SYSTEM "http://example.com/quiz.dtd">\n<quiz/>',
        b'<!DOCTYPE quiz [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<quiz><question type='essay'><name><text>&xxe;</text></name></question></quiz>",
        b"<!DOCTYPE quiz><quiz/>",
    ],
)
def test_any_dtd_is_refused(data):
    with pytest.raises(UnusableFile, match="unsafe XML"):
        parse_moodle_xml(data, FILENAME)


def test_undeclared_entity_is_malformed():
    with pytest.raises(UnusableFile, match="line 2"):
        parse_moodle_xml(b"<quiz>\n&nbsp;</quiz>", FILENAME)


def test_deeply_nested_text_does_not_overflow():
    depth = 20_000
    nested = "<b>" * depth + "深" + "</b>" * depth
    question = (
        f'<question type="truefalse"><questiontext><text>{nested}</text></questiontext>'
        '<answer fraction="100"><text>true</text></answer></question>'
    )
    [parsed] = parse_moodle_xml(quiz(question), FILENAME).questions
    assert parsed.stem == "深"


def test_ten_thousand_questions_in_linear_time():
    questions = []
    for i in range(10_000):
        if i % 500 == 0:
            questions.append(
                f'<question type="category"><category><text>$course$/top/第{i // 500}章'
                "</text></category></question>"
            )
        questions.append(
            "\n".join(
                [
                    '<question type="multichoice">',
                    f"<name><text>题{i}</text></name>",
                    f"<questiontext><text><![CDATA[<p>第{i}题：货物入库应（  ）。</p>]]></text>"
                    "</questiontext>",
                    "<single>true</single>",
                    '<answer fraction="100"><text>先验收</text></answer>',
                    '<answer fraction="0"><text>先上架</text></answer>',
                    '<answer fraction="0"><text>先出库</text></answer>',
                    "</question>",
                ]
            )
        )
    data = quiz(*questions)
    result = parse_moodle_xml(data, FILENAME)
    assert len(result.questions) == 10_000 and result.problems == []
    text = data.decode()
    assert result.questions[-1].number == line_of(text, "<name><text>题9999</text>") - 1
    assert result.questions[-1].area_path == "第19章"


# --- property: any input gives a result or a UnusableFile ---------------------------

FRAGMENTS = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<?xml version="1.0" encoding="gbk"?>',
    "<quiz>",
    "</quiz>",
    '<question type="multichoice">',
    '<question type="truefalse">',
    '<question type="category">',
    '<question type="essay">',
    '<question type="">',
    "<question>",
    "</question>",
    "<category>",
    "</category>",
    "<text>",
    "</text>",
    "<text/>",
    "$course$/top/入库//出库",
    "$system$/top/电镀",
    "<name>",
    "</name>",
    '<questiontext format="html">',
    '<questiontext format="plain_text">',
    "</questiontext>",
    "<generalfeedback>",
    "</generalfeedback>",
    "<single>false</single>",
    "<single>1</single>",
    '<answer fraction="100">',
    '<answer fraction="50" format="html">',
    '<answer fraction="-100">',
    '<answer fraction="abc">',
    '<answer fraction="">',
    "<answer>",
    "</answer>",
    "<feedback>",
    "</feedback>",
    '<file name="a.png" encoding="base64">AAAA</file>',
    "<tags><tag><text>难度:3</text></tag></tags>",
    "<![CDATA[<p>仓库<b>消防</b>&nbsp;&lt;</p>]]>",
    "<![CDATA[",
    "]]>",
    "<!DOCTYPE quiz>",
    '<!ENTITY a "b">',
    "<!-- 注释 -->",
    "&amp;",
    "&lt;",
    "&a;",
    "true",
    "false",
    "保持畅通",
    "\n",
    "\r\n",
    " ",
    "<",
    ">",
    '"',
]

xmlish = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=60).map("".join)


@st.composite
def quizzes(draw) -> str:
    """Well-formed Moodle-like documents with arbitrary content in the right places."""
    words = st.text(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
        | st.sampled_from("<>&;/$ \n"),
        max_size=12,
    )
    fractions = st.sampled_from(["100", "50", "-100", "0", "x", ""])
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        qtype = draw(
            st.sampled_from(["multichoice", "multichoiceset", "truefalse", "category", "essay", ""])
        )
        fmt = draw(st.sampled_from(["html", "plain_text", "markdown", ""]))
        answers = "".join(
            f"<answer fraction={quoteattr(draw(fractions))}"
            f"><text>{escape(draw(words))}</text>"
            f"<feedback><text>{escape(draw(words))}</text></feedback></answer>"
            for _ in range(draw(st.integers(0, 10)))
        )
        parts.append(
            f"<question type={quoteattr(qtype)}>"
            f"<category><text>{escape(draw(words))}</text></category>"
            f"<name><text>{escape(draw(words))}</text></name>"
            f"<questiontext format={quoteattr(fmt)}><text>{escape(draw(words))}</text>"
            "</questiontext>"
            f"<single>{escape(draw(words))}</single>{answers}</question>\n"
        )
    return "<quiz>\n" + "".join(parts) + "</quiz>"


def check(data: bytes) -> None:
    try:
        result = parse_moodle_xml(data, FILENAME)
    except UnusableFile as error:
        assert error.filename == FILENAME and error.message
        return
    assert isinstance(result, ParseResult)
    for question in result.questions:
        assert question.number >= 1
        keys = [option.key for option in question.options]
        assert keys == list(OPTION_KEYS[: len(keys)])
        if question.type is QuestionType.TRUE_FALSE:
            assert question.correct in ([TRUE_KEY], [FALSE_KEY])
        else:
            assert set(question.correct) <= set(keys)
    for problem in result.problems:
        assert problem.number >= 1 and problem.message
    for item in result.skipped:
        assert item.number >= 1 and item.reason


relaxed = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@relaxed
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_result_or_a_bank_file_error(data):
    check(data)


@relaxed
@given(xmlish, st.sampled_from(["utf-8", "utf-16", "gb18030"]))
def test_xml_like_fragments_give_a_result_or_a_bank_file_error(text, encoding):
    check(text.encode(encoding, errors="replace"))


@relaxed
@given(quizzes())
def test_well_formed_quizzes_always_parse(text):
    result = parse_moodle_xml(text.encode(), FILENAME)
    check(text.encode())
    handled = len(result.questions) + len(result.skipped) + len({p.number for p in result.problems})
    assert handled <= text.count("<question ")


def test_a_question_whose_pictures_or_sound_are_dropped_says_so():
    with_file = choice(
        ("100", "数量"),
        ("0", "颜色"),
        extra='<file name="shelf.png" encoding="base64">iVBORw0KGgo=</file>',
    )
    audio = "&lt;audio src=&quot;@@PLUGINFILE@@/a.mp3&quot;&gt;"
    with_audio = choice(("100", "先验收"), ("0", "先上架")).replace(
        "<text>先验收</text>", f"<text>先验收 {audio}</text>"
    )
    plain = choice(("100", "数量"), ("0", "颜色"))
    result = parse_moodle_xml(quiz(with_file, with_audio, plain), FILENAME)
    assert len(result.questions) == 3 and result.problems == []
    assert [w.number for w in result.warnings] == [3, 4]
    assert all("pictures" in w.message for w in result.warnings)
