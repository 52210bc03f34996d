"""Reader for Aiken, Moodle's plain-text format for single-choice questions.

    仓库消防通道应当（  ）。
    A. 堆放少量货物
    B. 保持畅通
    ANSWER: B

The stem is every line before the first option, the ANSWER line ends the question, and
blank lines between questions are optional (Moodle ignores them too). A question yields
either a ParsedQuestion or one or more ImportProblems, never both.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from flask_babel import gettext as _

from certify.banks.types import OPTION_KEYS, QuestionType
from certify.core.tables import ImportProblem, Unit

from .common import ParsedOption, ParsedQuestion, ParseResult

__all__ = ["parse_aiken"]

# "A. …", "B) …", lenient about full-width letters and 、 ． ）, with or without a space.
_OPTION = re.compile(r"([A-ZＡ-Ｚ])\s*[.)、．）]\s*(.*)", re.DOTALL)
# "ANSWER: B", any case, "答案：B", ASCII or full-width colon.
_ANSWER = re.compile(r"(?:answer|答案)\s*[:：]\s*(.*)", re.IGNORECASE | re.DOTALL)
_LETTER = re.compile(r"[A-Za-z]")
# What may stand around or between the letters of an ANSWER value (after NFKC).
_ANSWER_NOISE = re.compile(r"[\s,;/、()\[\]【】.。]+")

ANSWER_FIELD = "ANSWER"


@dataclass
class _Block:
    """The question being read: from its first line up to its ANSWER line."""

    line: int
    stem: list[str] = field(default_factory=list)
    options: list[ParsedOption] = field(default_factory=list)
    letters: set[str] = field(default_factory=set)  # every option letter seen, in order or not
    problems: list[tuple[str | None, str]] = field(default_factory=list)
    misnumbered: bool = False


def parse_aiken(text: str, filename: str) -> ParseResult:
    """Read Aiken text (already decoded). Line numbers count from 1 at the file's start."""
    reader = _Reader(filename)
    text = text.removeprefix("\ufeff")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, raw in enumerate(lines, start=1):
        reader.feed(number, raw.strip())
    reader.end()
    return reader.result


class _Reader:
    def __init__(self, filename: str):
        self.filename = filename
        self.result = ParseResult()
        self.block: _Block | None = None

    def feed(self, number: int, line: str) -> None:
        if not line:
            return
        answer = _ANSWER.fullmatch(line)
        if answer:
            self.answer_line(number, answer.group(1))
            return
        option = _OPTION.fullmatch(line)
        if option:
            letter = unicodedata.normalize("NFKC", option.group(1))
            # A line like "I. 基础知识" is a stem, unless options are already running.
            if letter in OPTION_KEYS or (self.block is not None and self.block.letters):
                self.option_line(number, letter, option.group(2).strip())
                return
        if self.block is not None and self.block.letters:
            # A new question starts; the one before never had its ANSWER line.
            self.close_unanswered()
        if self.block is None:
            self.block = _Block(number)
        self.block.stem.append(line)

    def option_line(self, number: int, letter: str, text: str) -> None:
        if self.block is None:
            self.block = _Block(number)
        block = self.block
        expected = OPTION_KEYS[len(block.options)] if len(block.options) < len(OPTION_KEYS) else ""
        block.letters.add(letter)
        if letter == expected and not block.misnumbered:
            block.options.append(ParsedOption(letter, text))
            return
        if block.misnumbered:
            return
        block.misnumbered = True
        if not expected:
            message = _(
                "Option %(letter)s is one too many: a question has at most %(max)d options "
                "(A to %(last)s).",
                letter=letter,
                max=len(OPTION_KEYS),
                last=OPTION_KEYS[-1],
            )
        else:
            message = _(
                "Option %(letter)s should be %(expected)s: letter the options A, B, C … in order.",
                letter=letter,
                expected=expected,
            )
        block.problems.append((letter, message))

    def answer_line(self, number: int, value: str) -> None:
        block = self.block
        self.block = None
        if block is None:
            self.problem(
                number,
                ANSWER_FIELD,
                _("This ANSWER line does not follow a question. Check the lines above it."),
            )
            return
        self.check_stem(block)
        if not block.letters:
            self.no_options(block)
        else:
            letter = self.answer_letter(block, value)
            if letter is not None and not block.problems:
                self.result.questions.append(
                    ParsedQuestion(
                        number=block.line,
                        type=QuestionType.SINGLE,
                        stem="\n".join(block.stem),
                        options=block.options,
                        correct=[letter],
                    )
                )
                return
        self.flush(block)

    def answer_letter(self, block: _Block, value: str) -> str | None:
        """The one correct letter, or None after noting what is wrong with the value."""
        normalised = unicodedata.normalize("NFKC", value).strip()
        letters = [letter.upper() for letter in _LETTER.findall(normalised)]
        rest = _ANSWER_NOISE.sub("", _LETTER.sub("", normalised))
        if not letters or rest:
            block.problems.append(
                (
                    ANSWER_FIELD,
                    _(
                        "ANSWER must be the letter of the correct option, like “ANSWER: B”; "
                        "found “%(value)s”.",
                        value=_shorten(value, 30),
                    ),
                )
            )
            return None
        if len(letters) > 1:
            block.problems.append(
                (
                    ANSWER_FIELD,
                    _(
                        "ANSWER gives several letters (%(letters)s), but an Aiken question has "
                        "exactly one correct option. Upload multiple-choice questions as Excel "
                        "or GIFT instead.",
                        letters="".join(letters[:10]),
                    ),
                )
            )
            return None
        [letter] = letters
        if letter not in block.letters:
            block.problems.append(
                (
                    ANSWER_FIELD,
                    _(
                        "ANSWER %(letter)s is not one of this question's options.",
                        letter=letter,
                    ),
                )
            )
            return None
        return letter

    def close_unanswered(self) -> None:
        block = self.block
        self.block = None
        if block is None:
            return
        self.check_stem(block)
        if not block.letters:
            self.no_options(block)
        else:
            block.problems.append(
                (
                    ANSWER_FIELD,
                    _(
                        "This question has no ANSWER line. End each question with a line "
                        "like “ANSWER: B” after its options."
                    ),
                )
            )
        self.flush(block)

    def end(self) -> None:
        self.close_unanswered()

    def check_stem(self, block: _Block) -> None:
        if not block.stem:
            block.problems.append(
                (
                    None,
                    _("The question text is missing. Write it on the line(s) before option A."),
                )
            )

    def no_options(self, block: _Block) -> None:
        block.problems.append(
            (
                None,
                _(
                    "No options found for this question. Put each option on its own line, "
                    "starting with a capital letter, like “A. 保持畅通”."
                ),
            )
        )

    def flush(self, block: _Block) -> None:
        for where, message in block.problems:
            self.problem(block.line, where, message)

    def problem(self, number: int, where: str | None, message: str) -> None:
        self.result.problems.append(
            ImportProblem(
                self.filename, number=number, unit=Unit.LINE, field=where, message=message
            )
        )


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
