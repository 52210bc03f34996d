"""Moodle GIFT reader: single choice, multiple response (%weights%) and true/false.

https://docs.moodle.org/en/GIFT_format. Questions are separated by blank lines; whole-line
``//`` comments are dropped. Essay, matching, numerical, short-answer and description items
are reported as skipped, not as problems. Everything runs in linear time: the text is
scanned with ``str.find`` and regular expressions without nested or overlapping repeats,
and [html] markup is read by common.html_to_text, which tames it first.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import gettext as _

from certify.banks.formats.common import (
    MAX_QUESTIONS,
    MEDIA_RE,
    NO_RIGHT_ANSWER,
    ParsedOption,
    ParsedQuestion,
    ParseResult,
    SkippedItem,
    choice_key,
    dropped_credit_warning,
    html_to_text,
    media_dropped_warning,
)
from certify.banks.types import FALSE_KEY, OPTION_KEYS, TRUE_KEY, QuestionType
from certify.core.tables import ImportProblem, Unit, UnusableFile

# Field names as in the Excel template, like the validator's.
F_STEM, F_ANSWER, F_OPTION, F_AREA, F_TITLE = "题干", "答案", "选项", "知识点", "标题"

# Escaped characters become Unicode noncharacters (reserved for internal use) so that they
# can never act as syntax; any noncharacters already in the file are neutralised first.
_NONCHARACTERS = re.compile("[\ufdd0-\ufdef]")
_ESCAPES = {
    "\\": "\ufdd0",
    ":": "\ufdd1",
    "#": "\ufdd2",
    "=": "\ufdd3",
    "{": "\ufdd4",
    "}": "\ufdd5",
    "~": "\ufdd6",
    "n": "\ufdd7",
}
_ESCAPE_RE = re.compile(r"\\([\\:#={}~n])")
_NEWLINE = _ESCAPES["n"]
_BLANK = "\ufdd8"  # where the answer block sat in a missing-word question
_UNESCAPE = str.maketrans(
    {placeholder: char for char, placeholder in _ESCAPES.items()} | {_NEWLINE: "\n"}
)
BLANK_TEXT = "＿＿"

_MARKER_RE = re.compile(r"\s*\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
_SEPARATOR_RE = re.compile(r"[=~]")
_WEIGHT_RE = re.compile(r"\s*%\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*%")
_SHORT_ANSWER_RE = re.compile(r"(?:^|=)([^=#]*[^\s=#][^=]*)")
_TRUE = frozenset({"T", "TRUE"})
_FALSE = frozenset({"F", "FALSE"})

_CATEGORY_RE = re.compile(r"\s*\$CATEGORY", re.IGNORECASE)
_CATEGORY_COLON_RE = re.compile(r"\s*[:：]")
_CATEGORY_COMMENT_RE = re.compile(r"\s//")
_CONTEXT_RE = re.compile(r"\$([A-Za-z]*[0-9]*)\$/?")
_CONTEXTS = frozenset({"course", "system", "module", "coursecategory"})
_CAT_CONTEXT_RE = re.compile(r"cat[0-9]*")
_TOP_RE = re.compile(r"\s*top\s*(?:/|$)", re.IGNORECASE)


def parse_gift(text: str, filename: str) -> ParseResult:
    """Questions, problems and skipped items from the text of a GIFT file."""
    reader = _Reader(filename)
    for block in _blocks(_prepare(text)):
        reader.read(block)
    return reader.result


def _prepare(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    text = _NONCHARACTERS.sub("\ufffd", text)
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(1)], text)


@dataclass
class _Block:
    """One question's lines (comments left out), joined with newlines."""

    numbers: list[int]  # 1-based file line of each kept line
    starts: list[int]  # offset of each kept line in text
    text: str

    @property
    def number(self) -> int:
        return self.numbers[0]

    def line_at(self, offset: int) -> int:
        return self.numbers[max(0, bisect.bisect_right(self.starts, offset) - 1)]

    def rest(self) -> _Block | None:
        """The block without its first line."""
        if len(self.numbers) < 2:
            return None
        cut = self.starts[1]
        return _Block(self.numbers[1:], [s - cut for s in self.starts[1:]], self.text[cut:])


def _blocks(text: str) -> Iterator[_Block]:
    numbers: list[int] = []
    lines: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped:
            if lines:
                yield _make_block(numbers, lines)
                numbers, lines = [], []
        elif not stripped.startswith("//"):
            numbers.append(number)
            lines.append(line)
    if lines:
        yield _make_block(numbers, lines)


def _make_block(numbers: list[int], lines: list[str]) -> _Block:
    starts, offset = [], 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    return _Block(numbers, starts, "\n".join(lines))


def _take_marker(raw: str, fmt: str) -> tuple[str, str]:
    """A leading [html]/[markdown]/[plain]/[moodle] marker sets the format of raw."""
    match = _MARKER_RE.match(raw)
    if match:
        return match.group(1).lower(), raw[match.end() :]
    return fmt, raw


def _render(raw: str, fmt: str) -> str:
    """Display text of one part: escapes resolved, HTML reduced to text, and each line break
    of the file (with the indentation around it) made one space. Spaces within a line and
    explicit \\n stay as written, so "（  ）" survives an export and import."""
    fmt, raw = _take_marker(raw, fmt)
    if fmt == "html":
        # In HTML a newline is only a space; <br> and <p> make the line breaks.
        raw = raw.replace("\n", " ").replace(_NEWLINE, " ").translate(_UNESCAPE)
        text = html_to_text(raw)
    else:
        if "\n" in raw:
            raw = " ".join(line for line in (part.strip() for part in raw.split("\n")) if line)
        text = raw.translate(_UNESCAPE)
    return text.replace(_BLANK, BLANK_TEXT).strip()


@dataclass
class _Answer:
    marker: str  # "=", "~" or "" for text before the first answer
    body: str
    offset: int  # in the block's text


@dataclass
class _ReadOption:
    option: ParsedOption
    weight: float  # Moodle's grade in percent
    feedback: str
    ok: bool  # False when a problem was said


def _answers(text: str, base: int) -> Iterator[_Answer]:
    """The answers of a block, each starting at an = or ~; the text before them first."""
    marker, start = "", 0
    for match in _SEPARATOR_RE.finditer(text):
        yield _Answer(marker, text[start : match.start()], base + start)
        marker, start = match.group(), match.end()
    yield _Answer(marker, text[start:], base + start)


class _Reader:
    def __init__(self, filename: str):
        self.filename = filename
        self.result = ParseResult()
        self.area: str | None = None
        self.items = 0

    # -- reporting -------------------------------------------------------------------------

    def problem(self, number: int, field: str, message: str) -> None:
        self.result.problems.append(ImportProblem(self.filename, number, Unit.LINE, field, message))

    def warn(self, number: int, field: str, message: str) -> None:
        self.result.warnings.append(ImportProblem(self.filename, number, Unit.LINE, field, message))

    def skip(self, number: int, reason: str) -> None:
        self.result.skipped.append(SkippedItem(number, Unit.LINE, reason))

    # -- blocks ----------------------------------------------------------------------------

    def read(self, block: _Block) -> None:
        if _CATEGORY_RE.match(block.text):
            first_line = block.text[: block.starts[1] - 1] if len(block.starts) > 1 else block.text
            self.category(block.number, first_line)
            # Forgiving: a question written straight under $CATEGORY is still read.
            rest = block.rest()
            if rest is None:
                return
            block = rest
        self.items += 1
        if self.items > MAX_QUESTIONS:
            raise UnusableFile(
                self.filename,
                _(
                    "The file has more than %(n)d questions. Split it into smaller files.",
                    n=MAX_QUESTIONS,
                ),
            )
        before = len(self.result.questions)
        self.question(block)
        if len(self.result.questions) > before and MEDIA_RE.search(block.text):
            self.warn(block.number, F_STEM, media_dropped_warning())

    def category(self, number: int, line: str) -> None:
        self.area = None
        head = _CATEGORY_RE.match(line)
        assert head is not None
        colon = _CATEGORY_COLON_RE.match(line, head.end())
        if colon is None:
            self.problem(
                number,
                F_AREA,
                _(
                    "Write the category as %(example)s.",
                    example="$CATEGORY: top/入库作业/验收",
                ),
            )
            return
        path = line[colon.end() :]
        comment = _CATEGORY_COMMENT_RE.search(path)
        if comment:
            path = path[: comment.start()]
        path = path.translate(_UNESCAPE).strip()
        if not path:
            self.problem(number, F_AREA, _("The $CATEGORY line has no path after the colon."))
            return
        context = _CONTEXT_RE.match(path)
        if context:
            name = context.group(1).lower()
            if name not in _CONTEXTS and not _CAT_CONTEXT_RE.fullmatch(name):
                self.problem(
                    number,
                    F_AREA,
                    _(
                        "Unknown category context %(token)s. Use $course$, $system$, $module$ "
                        "or $coursecategory$, or leave it out.",
                        token=f"${context.group(1)}$",
                    ),
                )
                return
            path = path[context.end() :]
        top = _TOP_RE.match(path)
        if top:
            path = path[top.end() :]
        if "//" in path:
            self.problem(
                number,
                F_AREA,
                _(
                    "Knowledge area names cannot contain “/”. Remove the // from the "
                    "$CATEGORY path."
                ),
            )
            return
        levels = [level.strip() for level in path.strip().strip("/").split("/")]
        if levels == [""]:
            return  # the top of the bank: no area
        if "" in levels:
            self.problem(
                number, F_AREA, _("The $CATEGORY path has an empty level between two “/”.")
            )
            return
        self.area = "/".join(levels)

    def question(self, block: _Block) -> None:
        """A question block: its title, its one answer block, then what kind it is."""
        text, number = block.text, block.number
        titled = self.title(block)
        if titled is None:
            return
        title, start = titled
        braces = self.answer_block(block, start)
        if braces is None:
            return
        opening, closing = braces
        after = text[closing + 1 :]
        fmt, before = _take_marker(text[start:opening], "moodle")
        stem_raw = before + _BLANK + after if after.strip() else before
        stem = _render(stem_raw, fmt)

        answers = text[opening + 1 : closing]
        general = ""
        separator = answers.rfind("####")
        if separator >= 0:
            general = _render(answers[separator + 4 :], fmt)
            answers = answers[:separator]
        core = answers.strip()
        if not core:
            self.skip(number, _("Essay question: Certify does not grade free-text answers."))
        elif core.startswith("#"):
            self.skip(number, _("Numerical question: Certify does not grade number answers."))
        elif "~" in answers:
            self.choice(block, stem, title, answers, opening + 1, fmt, general)
        elif "=" in answers and "->" in answers:
            self.skip(number, _("Matching question: Certify does not grade matching."))
        elif core.partition("#")[0].strip().upper() in _TRUE | _FALSE:
            self.true_false(number, stem, title, core, fmt, general)
        elif _has_short_answer(answers, fmt):
            self.skip(number, _("Short-answer question: Certify does not grade typed-in answers."))
        else:
            self.problem(
                number,
                F_ANSWER,
                _(
                    "The answer block has no answer in it. Write the options, each starting "
                    "with = (right) or ~ (wrong), or {T} / {F} for true or false."
                ),
            )

    def title(self, block: _Block) -> tuple[str, int] | None:
        """The ::title:: if any, and where the question text starts; None if it never closes."""
        text = block.text
        start = len(text) - len(text.lstrip())
        if not text.startswith("::", start):
            return "", start
        end = text.find("::", start + 2)
        if end < 0:
            self.problem(
                block.number,
                F_TITLE,
                _("The title opened with :: is never closed with ::. Write \\: for a colon."),
            )
            return None
        return _render(text[start + 2 : end], "plain"), end + 2

    def answer_block(self, block: _Block, start: int) -> tuple[int, int] | None:
        """Where the one { } of the question opens and closes; None (with the problem or the
        skip said) when there is none, it never closes, or there is more than one."""
        text, number = block.text, block.number
        opening = text.find("{", start)
        closing = text.find("}", start)
        if opening < 0 or 0 <= closing < opening:
            if closing >= 0:
                self.stray_brace(block, closing)
            else:
                self.skip(number, _("Description (text without an answer block): not a question."))
            return None
        if closing < 0:
            self.problem(
                number,
                F_ANSWER,
                _(
                    "The answer block opened with { on line %(line)d is never closed with }. "
                    "Add the }, or write \\{ for a literal brace.",
                    line=block.line_at(opening),
                ),
            )
            return None
        nested = text.find("{", opening + 1, closing)
        if nested >= 0:
            self.problem(
                number,
                F_ANSWER,
                _(
                    "The answer block opened with { on line %(line)d is not closed with } "
                    "before the next { on line %(next)d. Write \\{ for a literal brace.",
                    line=block.line_at(opening),
                    next=block.line_at(nested),
                ),
            )
            return None
        after = text[closing + 1 :]
        second = after.find("{")
        if second >= 0:
            self.problem(
                number,
                F_ANSWER,
                _(
                    "A second answer block starts on line %(line)d. A question has one { }; "
                    "put a blank line between questions.",
                    line=block.line_at(closing + 1 + second),
                ),
            )
            return None
        stray = after.find("}")
        if stray >= 0:
            self.stray_brace(block, closing + 1 + stray)
            return None
        return opening, closing

    def stray_brace(self, block: _Block, offset: int) -> None:
        self.problem(
            block.number,
            F_STEM,
            _(
                "The } on line %(line)d has no matching {. Write \\} for a literal brace.",
                line=block.line_at(offset),
            ),
        )

    def choice(
        self,
        block: _Block,
        stem: str,
        title: str,
        answers: str,
        base: int,
        fmt: str,
        general: str,
    ) -> None:
        """A choice question: its options read one by one, then the key by Moodle's grades."""
        number = block.number
        ok = True
        options: list[ParsedOption] = []
        grades: list[tuple[str, float]] = []
        feedback: dict[str, str] = {}
        for answer in _answers(answers, base):
            if not answer.marker:
                ok = self.text_before_answers(block, answer) and ok
                continue
            if len(options) == len(OPTION_KEYS):
                self.problem(
                    number,
                    F_OPTION,
                    _(
                        "The question has more than %(n)d answers; Certify allows at most %(n)d.",
                        n=len(OPTION_KEYS),
                    ),
                )
                return
            read = self.option(block, answer, OPTION_KEYS[len(options)], fmt)
            ok = read.ok and ok
            options.append(read.option)
            feedback[read.option.key] = read.feedback
            grades.append((read.option.key, read.weight))
        decision = choice_key(grades, single=None)
        if decision.problem is not None and ok:
            ok = False
            self.problem(
                number,
                F_ANSWER,
                _(
                    "No answer is marked right. Start the right answer with =, or give the "
                    "right answers positive weights adding up to %(full)s, such as %(example)s.",
                    example="~%50%",
                    full="100%",
                )
                if decision.problem == NO_RIGHT_ANSWER
                else decision.problem,
            )
        if not ok:
            return
        if decision.skip is not None:
            self.skip(number, decision.skip)
            return
        if decision.dropped:
            self.warn(number, F_ANSWER, dropped_credit_warning(decision.dropped))
        correct = list(decision.correct)
        self.result.questions.append(
            ParsedQuestion(
                number=number,
                type=decision.type,
                stem=stem,
                options=options,
                correct=correct,
                area_path=self.area,
                explanation=general or feedback[correct[0]],
                title=title,
            )
        )

    def text_before_answers(self, block: _Block, answer: _Answer) -> bool:
        """Text ahead of the first = or ~ is a problem; blank space is not."""
        if not answer.body.strip():
            return True
        self.problem(
            block.number,
            F_OPTION,
            _(
                "There is text before the first answer on line %(line)d. Every "
                "answer starts with = (right) or ~ (wrong).",
                line=block.line_at(answer.offset + len(answer.body) - len(answer.body.lstrip())),
            ),
        )
        return False

    def option(self, block: _Block, answer: _Answer, key: str, fmt: str) -> _ReadOption:
        """One = or ~ answer: its weight (= is 100, ~ is 0, %n% says), text and feedback."""
        number, line, body = block.number, block.line_at(answer.offset), answer.body
        ok = True
        weight = 100.0 if answer.marker == "=" else 0.0
        match = _WEIGHT_RE.match(body)
        if match:
            weight = float(match.group(1))
            body = body[match.end() :]
            if not -100 <= weight <= 100:
                ok = False
                self.problem(
                    number,
                    F_ANSWER,
                    _(
                        "The weight %(weight)s on line %(line)d is not between -100 and 100.",
                        weight=f"%{match.group(1)}%",
                        line=line,
                    ),
                )
        option_fmt, body = _take_marker(body, fmt)
        option_raw, _hash, feedback_raw = body.partition("#")
        option_text = _render(option_raw, option_fmt)
        if not option_text:
            ok = False
            self.problem(
                number,
                F_OPTION,
                _("Answer %(key)s on line %(line)d has no text.", key=key, line=line),
            )
        return _ReadOption(
            ParsedOption(key, option_text), weight, _render(feedback_raw, option_fmt), ok
        )

    def true_false(
        self, number: int, stem: str, title: str, core: str, fmt: str, general: str
    ) -> None:
        head, _hash, comments = core.partition("#")
        value = TRUE_KEY if head.strip().upper() in _TRUE else FALSE_KEY
        # {T#feedback for a wrong answer#feedback for a right answer}
        wrong_raw, _hash, right_raw = comments.partition("#")
        explanation = general or _render(right_raw, fmt) or _render(wrong_raw, fmt)
        self.result.questions.append(
            ParsedQuestion(
                number=number,
                type=QuestionType.TRUE_FALSE,
                stem=stem,
                options=[],
                correct=[value],
                area_path=self.area,
                explanation=explanation,
                title=title,
            )
        )


def _has_short_answer(answers: str, fmt: str) -> bool:
    """Whether any =answer of a short-answer block has text (weights and feedback aside)."""
    for match in _SHORT_ANSWER_RE.finditer(answers):
        body = match.group(1)
        weight = _WEIGHT_RE.match(body)
        if weight:
            body = body[weight.end() :]
        if _render(body.partition("#")[0], fmt):
            return True
    return False
