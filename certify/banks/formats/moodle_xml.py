"""Reader for Moodle XML, the question-bank export of Moodle ("Moodle XML format").

The document is parsed with defusedxml (no DTD, no entities, no external references).
ElementTree keeps no line numbers, so a second, plain expat pass over the already
accepted document records the line of every <question> start tag, in document order.

A question yields exactly one of: a ParsedQuestion, a SkippedItem (a type Certify does
not grade), or one or more ImportProblems (then it is left out, so no half-read
question reaches the validator).
"""

from __future__ import annotations

import codecs
import math
import re
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from flask_babel import gettext as _

from certify.banks.types import FALSE_KEY, OPTION_KEYS, TRUE_KEY, QuestionType
from certify.core.tables import ImportProblem, Unit, UnusableFile

from .common import (
    MAX_OPTIONS,
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

__all__ = ["parse_moodle_xml"]

# Moodle's text formats other than HTML: their text is taken as it is.
_PLAIN_FORMATS = frozenset({"plain_text", "moodle_auto_format", "markdown"})
_CHOICE_TYPES = frozenset({"multichoice", "multichoiceset"})

_DECLARED_ENCODING = re.compile(
    rb"""<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']"""
)
# Chinese tools often say GB2312 or GBK for text that only GB18030 (a superset) decodes.
_ENCODING_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030"}

_CONTEXT_TOKEN = re.compile(r"^\$[^$/]*\$(?:/|$)")  # $course$/, $system$/, $module$/ …
_TOP = re.compile(r"^top(?:/|$)", re.IGNORECASE)
_DIFFICULTY_TAG = re.compile(r"^(?:难度|difficulty)\s*[:：=]\s*([0-9]{1,2})$", re.IGNORECASE)


def parse_moodle_xml(data: bytes, filename: str) -> ParseResult:
    """Read a Moodle XML export: multichoice, truefalse and category entries; other
    question types are reported as skipped."""
    text = _decode(data, filename)
    root = _parse(text, filename)
    if root.tag != "quiz":
        raise UnusableFile(
            filename,
            _(
                "This is not a Moodle question file: it starts with <%(tag)s> instead of "
                "<quiz>. In Moodle, export the questions in “Moodle XML format”.",
                tag=_shorten(str(root.tag), 40),
            ),
        )
    elements = [child for child in root if child.tag == "question"]
    lines = _question_lines(text, filename)
    if len(lines) != len(elements):  # both passes read the same text with expat
        raise UnusableFile(filename, _unreadable())

    reader = _Reader(filename)
    for element, line in zip(elements, lines, strict=True):
        reader.read(element, line)
    return reader.result


# --- the whole document ------------------------------------------------------------


def _decode(data: bytes, filename: str) -> str:
    """The document as text, so both parser passes see exactly the same characters."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        candidates = ["utf-32"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        match = _DECLARED_ENCODING.match(data[:300])
        declared = match.group(1).decode("ascii").lower() if match else "utf-8"
        try:
            declared = codecs.lookup(_ENCODING_ALIASES.get(declared, declared)).name
        except LookupError:
            raise UnusableFile(
                filename,
                _(
                    "The file says it is in the encoding “%(encoding)s”, which Certify "
                    "cannot read. Save it as UTF-8 and upload it again.",
                    encoding=_shorten(declared, 40),
                ),
            ) from None
        candidates = [declared]
        if declared == "utf-8":
            # Notepad's "ANSI" on a Chinese Windows is GBK, whatever the declaration says.
            candidates.append("gb18030")
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except (UnicodeError, LookupError):
            continue
    raise UnusableFile(
        filename,
        _("This file is not readable text. Save it as UTF-8 and upload it again."),
    )


def _parse(text: str, filename: str) -> Any:
    try:
        return fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except ParseError as error:
        line = error.position[0] if error.position else 0
        raise UnusableFile(
            filename,
            _(
                "The XML is broken at line %(line)d (%(error)s). Fix that line or export "
                "the questions from Moodle again.",
                line=line,
                error=expat.ErrorString(error.code) if error.code else str(error),
            ),
        ) from error
    except DefusedXmlException as error:
        raise UnusableFile(
            filename,
            _(
                "Refused: unsafe XML (the file declares a DTD or entities). Moodle never "
                "writes these; export the questions from Moodle again."
            ),
        ) from error
    except ValueError as error:  # e.g. characters no encoding of XML can carry
        raise UnusableFile(filename, _unreadable()) from error


def _question_lines(text: str, filename: str) -> list[int]:
    """Start line of every <question> directly under the root, in document order.

    Runs only on text defusedxml accepted, so there is no DTD. Namespaces are processed
    as ElementTree does, so the elements counted are the ones it calls "question".
    """
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    lines: list[int] = []
    depth = 0

    def start(name: str, attributes: dict) -> None:
        nonlocal depth
        if depth == 1 and name == "question":
            lines.append(parser.CurrentLineNumber)
        depth += 1

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(text, True)
    except (expat.ExpatError, ValueError) as error:
        raise UnusableFile(filename, _unreadable()) from error
    return lines


def _unreadable() -> str:
    return _("The file could not be read as XML. Export the questions from Moodle again.")


# --- one question at a time ---------------------------------------------------------


@dataclass
class _Text:
    text: str
    had_image: bool = False


class _Reader:
    def __init__(self, filename: str):
        self.filename = filename
        self.result = ParseResult()
        self.area_path: str | None = None
        self.grades: list[tuple[str, float]] = []  # the choice question being read

    def problem(self, line: int, field: str | None, message: str) -> None:
        self.result.problems.append(
            ImportProblem(self.filename, number=line, unit=Unit.LINE, field=field, message=message)
        )

    def read(self, element: Any, line: int) -> None:
        qtype = (element.get("type") or "").strip()
        if qtype == "category":
            self.read_category(element, line)
        elif not qtype:
            self.problem(
                line,
                "type",
                _('This question has no type. Moodle writes it as <question type="…">.'),
            )
        elif qtype in _CHOICE_TYPES or qtype == "truefalse":
            question = self.read_question(element, line, qtype)
            if question is not None:
                self.result.questions.append(question)
                if _has_media(element):
                    self.result.warnings.append(
                        ImportProblem(
                            self.filename, line, Unit.LINE, "questiontext", media_dropped_warning()
                        )
                    )
        else:
            self.result.skipped.append(
                SkippedItem(
                    line,
                    Unit.LINE,
                    _(
                        "Moodle “%(type)s” questions are not imported: Certify grades only "
                        "single choice, multiple choice and true/false.",
                        type=_shorten(qtype, 40),
                    ),
                )
            )

    def read_category(self, element: Any, line: int) -> None:
        raw = _plain(_child(_child(element, "category"), "text"))
        path = _CONTEXT_TOKEN.sub("", raw.strip(), count=1)
        path = _TOP.sub("", path, count=1)
        if "//" in path:
            self.area_path = None
            self.problem(
                line,
                "category",
                _(
                    "The category “%(path)s” has a “/” in a name (Moodle writes it as "
                    "“//”). Rename that category in Moodle without “/” and export again.",
                    path=_shorten(path, 100),
                ),
            )
            return
        parts = [part.strip() for part in path.split("/")]
        self.area_path = "/".join(part for part in parts if part) or None

    def read_question(self, element: Any, line: int, qtype: str) -> ParsedQuestion | None:
        before = len(self.result.problems)
        stem_format = _format_of(_child(element, "questiontext"), "html")
        stem = _formatted(_child(element, "questiontext"), "html")
        if not stem.text:
            if stem.had_image:
                message = _(
                    "The question text is empty (images are not imported). "
                    "Describe the picture in words."
                )
            else:
                message = _("The question text is empty.")
            self.problem(line, "questiontext", message)

        question = ParsedQuestion(
            number=line,
            type=QuestionType.TRUE_FALSE,
            stem=stem.text,
            area_path=self.area_path,
            title=_plain(_child(_child(element, "name"), "text")).strip(),
            difficulty=_difficulty(element),
        )
        answers = [child for child in element if child.tag == "answer"]
        if qtype == "truefalse":
            feedback = self.read_true_false(question, answers, line, stem_format)
        else:
            single = _plain(_child(element, "single")).strip().lower()
            # Moodle imports a multichoice without <single> as single choice.
            is_single = single in ("", "true", "1") if qtype == "multichoice" else False
            question.type = QuestionType.SINGLE if is_single else QuestionType.MULTIPLE
            feedback = self.read_choices(question, answers, line, stem_format)
            grades, self.grades = self.grades, []
            if len(self.result.problems) > before:
                return None
            if not self.decide_key(question, grades, line, is_single):
                return None

        general = _formatted(_child(element, "generalfeedback"), stem_format).text
        question.explanation = general or feedback
        if len(self.result.problems) > before:
            return None
        return question

    def read_choices(
        self, question: ParsedQuestion, answers: list[Any], line: int, default_format: str
    ) -> str:
        """Options and correct keys; returns the first correct answer's feedback."""
        if len(answers) > MAX_OPTIONS:
            self.problem(
                line,
                "answer",
                _(
                    "This question has %(count)d answers; Certify allows at most %(max)d.",
                    count=len(answers),
                    max=MAX_OPTIONS,
                ),
            )
            return ""
        feedback = ""
        for key, answer in zip(OPTION_KEYS, answers, strict=False):
            fraction = self.fraction(answer, key, line)
            text = _formatted(answer, default_format)
            if not text.text:
                if text.had_image:
                    message = _("Answer %(key)s is empty (images are not imported).", key=key)
                else:
                    message = _("Answer %(key)s is empty.", key=key)
                self.problem(line, "answer", message)
            question.options.append(ParsedOption(key, text.text))
            self.grades.append((key, fraction or 0.0))
            if fraction is not None and fraction > 0 and not feedback:
                feedback = _formatted(_child(answer, "feedback"), default_format).text
        return feedback

    def decide_key(
        self, question: ParsedQuestion, grades: list[tuple[str, float]], line: int, single: bool
    ) -> bool:
        """The key by Moodle's meaning of the grades (formats.common.choice_key), as GIFT
        reads it; False when the question is skipped or has a problem."""
        decision = choice_key(grades, single=single)
        if decision.problem is not None:
            if decision.problem != NO_RIGHT_ANSWER:
                self.problem(line, "answer", decision.problem)
            else:
                question.correct = []  # the rules' own message: no correct answer is given
                return True
            return False
        if decision.skip is not None:
            self.result.skipped.append(SkippedItem(line, Unit.LINE, decision.skip))
            return False
        if decision.dropped:
            self.result.warnings.append(
                ImportProblem(
                    self.filename,
                    line,
                    Unit.LINE,
                    "answer",
                    dropped_credit_warning(decision.dropped),
                )
            )
        question.type = decision.type
        question.correct = list(decision.correct)
        return True

    def read_true_false(
        self, question: ParsedQuestion, answers: list[Any], line: int, default_format: str
    ) -> str:
        """The correct key ("T" or "F"); returns the correct answer's feedback."""
        winners: dict[str, str] = {}  # key -> feedback
        readable = True
        for number, answer in enumerate(answers, start=1):
            fraction = self.fraction(answer, str(number), line)
            readable = readable and fraction is not None
            word = _formatted(answer, default_format).text.lower()
            if word not in ("true", "false"):
                readable = False
                self.problem(
                    line,
                    "answer",
                    _(
                        "A true/false answer must be “true” or “false”, not “%(text)s”.",
                        text=_shorten(word, 40),
                    ),
                )
                continue
            if fraction is not None and math.isclose(fraction, 100):
                key = TRUE_KEY if word == "true" else FALSE_KEY
                winners.setdefault(key, _formatted(_child(answer, "feedback"), default_format).text)
        if not readable:
            return ""
        if len(winners) != 1:
            self.problem(
                line,
                "answer",
                _(
                    "Give exactly one of the answers “true” and “false” the grade 100 "
                    '(fraction="100"), so Certify knows which is correct.'
                ),
            )
            return ""
        [(key, feedback)] = winners.items()
        question.correct = [key]
        return feedback

    def fraction(self, answer: Any, key: str, line: int) -> float | None:
        """The answer's grade in percent; missing counts as 0, nonsense is a problem."""
        raw = (answer.get("fraction") or "").strip()
        if not raw:
            return 0.0
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return value
        self.problem(
            line,
            "answer",
            _(
                "Answer %(key)s has the grade “%(value)s”, which is not a number. "
                'Use a percentage, e.g. fraction="100", "50" or "0".',
                key=key,
                value=_shorten(raw, 20),
            ),
        )
        return None


# --- element helpers ----------------------------------------------------------------


def _child(element: Any, tag: str) -> Any:
    if element is None:
        return None
    for child in element:
        if child.tag == tag:
            return child
    return None


def _plain(element: Any) -> str:
    """All text inside an element, iteratively (HTML left unescaped in <text> becomes
    child elements; a deep nest of them must not exhaust the stack)."""
    if element is None:
        return ""
    parts: list[str] = []
    stack: list[Any] = [element]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        if isinstance(item.tag, str) and item.text:
            parts.append(item.text)
        for child in reversed(list(item)):
            if child.tail:
                stack.append(child.tail)
            stack.append(child)
    return "".join(parts)


def _format_of(element: Any, default: str) -> str:
    if element is None:
        return default
    return (element.get("format") or default).strip().lower()


def _formatted(element: Any, default_format: str) -> _Text:
    """The <text> of a Moodle text field (questiontext, answer, feedback …) as plain text."""
    if element is None:
        return _Text("")
    raw = _plain(_child(element, "text"))
    if _format_of(element, default_format) in _PLAIN_FORMATS:
        text = raw.strip()
    else:
        text = html_to_text(raw)
    had_image = _child(element, "file") is not None or bool(MEDIA_RE.search(raw))
    return _Text(text, had_image)


def _has_media(element: Any) -> bool:
    """Any picture, sound or video in the question: attached <file>s or media in its HTML."""
    return any(
        node.tag == "file" or (node.tag == "text" and MEDIA_RE.search(node.text or ""))
        for node in element.iter()
    )


def _difficulty(element: Any) -> int | None:
    """A tag such as 难度:3 or difficulty:3; the validator checks the range."""
    tags = _child(element, "tags")
    for tag in tags if tags is not None else ():
        match = _DIFFICULTY_TAG.match(_plain(_child(tag, "text")).strip())
        if match:
            return int(match.group(1))
    return None


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
