"""Whatever a trainer uploads, the importer answers with a result or its own error."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certify.banks.importer import parse_file
from certify.core.tables import UnusableFile

FRAGMENTS = [
    "题型,题干,选项A,选项B,答案,知识点\n",
    "单选题,",
    "判断题,",
    "多选题,",
    ",",
    "\n",
    '"',
    "ACD",
    "正确",
    "{",
    "}",
    "=",
    "~",
    "#",
    "::",
    "$CATEGORY:",
    "\\",
    "%50%",
    "ANSWER:",
    "A.",
    "B)",
    "<?xml version='1.0'?>",
    "<quiz>",
    "</quiz>",
    "<question type='multichoice'>",
    "<![CDATA[",
]
NAMES = st.sampled_from(
    ["bank.xlsx", "bank.csv", "bank.gift", "bank.xml", "bank.txt", "bank", "题库.CSV", "x.tsv"]
)


def _check(name, data):
    try:
        fmt, result = parse_file(name, data)
    except UnusableFile:
        return
    assert fmt in {"xlsx", "csv", "gift", "moodle_xml", "aiken"}
    for question in result.questions:
        assert question.number >= 0


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=NAMES, data=st.binary(max_size=2048))
def test_arbitrary_bytes(name, data):
    _check(name, data)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=NAMES,
    parts=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=40),
    encoding=st.sampled_from(["utf-8", "gb18030", "utf-16"]),
)
def test_format_like_text(name, parts, encoding):
    _check(name, "".join(parts).encode(encoding, errors="ignore"))


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.binary(max_size=1024))
def test_things_that_look_like_workbooks(data):
    _check("bank.xlsx", b"PK\x03\x04" + data)
