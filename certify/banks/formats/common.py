"""Types shared by every format reader, and the text decoding they all need."""

from __future__ import annotations

import codecs
import enum
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# Limits that keep a hostile or mistaken file from exhausting the server.
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_QUESTIONS = 10_000
MAX_STEM_CHARS = 2000
MAX_OPTION_CHARS = 500
MAX_EXPLANATION_CHARS = 2000
MAX_OPTIONS = 8
MIN_OPTIONS = 2
OPTION_KEYS = "ABCDEFGH"
TRUE_KEY, FALSE_KEY = "T", "F"


class QuestionType(enum.StrEnum):
    SINGLE = "single"  # 单选题
    MULTIPLE = "multiple"  # 多选题
    TRUE_FALSE = "true_false"  # 判断题

    @property
    def label(self) -> str:
        return str(QUESTION_TYPE_LABELS[self])


QUESTION_TYPE_LABELS = {
    QuestionType.SINGLE: _l("Single choice"),
    QuestionType.MULTIPLE: _l("Multiple choice"),
    QuestionType.TRUE_FALSE: _l("True or false"),
}


class Unit(enum.StrEnum):
    """What a problem's number counts: spreadsheet rows or text lines."""

    ROW = "row"
    LINE = "line"


@dataclass
class ParsedOption:
    key: str  # "A".."H" as in the source file; stays the option's id for good
    text: str


@dataclass
class ParsedQuestion:
    """One question as read from a file, not yet checked against the rules."""

    number: int  # the row or first line it came from (1-based)
    type: QuestionType
    stem: str
    options: list[ParsedOption] = field(default_factory=list)  # empty for true/false
    correct: list[str] = field(default_factory=list)  # option keys, or ["T"] / ["F"]
    area_path: str | None = None  # e.g. "入库作业/验收"
    difficulty: int | None = None  # 1..5
    explanation: str = ""
    source: str = ""
    title: str = ""


@dataclass(frozen=True)
class ImportProblem:
    """Something wrong with one place of one file, said so a trainer can fix it."""

    filename: str
    number: int | None  # row or line; None for the file as a whole
    unit: Unit | None
    field: str | None  # the column or part, e.g. "答案"
    message: str

    def where(self) -> str:
        parts = [self.filename]
        if self.number is not None and self.unit is Unit.ROW:
            parts.append(_("row %(n)d", n=self.number))
        elif self.number is not None:
            parts.append(_("line %(n)d", n=self.number))
        if self.field:
            parts.append(self.field)
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"


@dataclass(frozen=True)
class SkippedItem:
    """A question of a kind Certify does not grade (essay, matching …), left out on purpose."""

    number: int
    unit: Unit
    reason: str


@dataclass
class ParseResult:
    questions: list[ParsedQuestion] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)


class BankFileError(Exception):
    """The file as a whole cannot be read (encoding, size, corrupt archive …)."""

    def __init__(self, filename: str, message: str):
        super().__init__(f"{filename}: {message}")
        self.filename = filename
        self.message = message


def decode_text(data: bytes, filename: str) -> str:
    """Text from bytes as Chinese offices save it: UTF-8 (with or without BOM),
    UTF-16 with BOM (Excel's "Unicode text"), or GB18030/GBK (Excel's CSV in China)."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text or _looks_binary(text):
            break
        return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    raise BankFileError(
        filename,
        _(
            "This file is not readable text. Save it as UTF-8 (or as CSV from Excel) "
            "and upload it again."
        ),
    )


def _looks_binary(text: str) -> bool:
    """Control characters other than tab and newline mean a binary file decoded by chance."""
    sample = text[:4096]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\t\n\r\f")
    return controls > max(2, len(sample) // 100)


_TAG_OPEN, _TAG_CLOSE = "\ufdd9", "\ufdda"  # a tag's < and > while stray ones are escaped
_TAG_RE = re.compile(r"<(/?[A-Za-z][A-Za-z0-9]*)[^<>]*>")
_DECLARATION_RE = re.compile(r"<[!?][^<>]*>")


def _tame_html(markup: str) -> str:
    """Markup that HTMLParser reads in linear time: comments and declarations removed, tags
    cut down to their names, every other < and > escaped. (HTMLParser is quadratic on
    some malformed input, e.g. a long run of "<a<a<a".)"""
    parts, pos = [], 0
    while (start := markup.find("<!--", pos)) >= 0:
        parts.append(markup[pos:start])
        end = markup.find("-->", start + 4)
        pos = len(markup) if end < 0 else end + 3  # an unclosed comment hides the rest
    parts.append(markup[pos:])
    markup = _DECLARATION_RE.sub("", "".join(parts))
    markup = _TAG_RE.sub(_TAG_OPEN + r"\1" + _TAG_CLOSE, markup)
    markup = markup.replace("<", "&lt;").replace(">", "&gt;")
    return markup.replace(_TAG_OPEN, "<").replace(_TAG_CLOSE, ">")


class _TextExtractor(HTMLParser):
    BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
    SKIP = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skipping += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text from question HTML (Moodle, GIFT [html]): tags dropped, entities decoded,
    paragraphs kept as single line breaks. Images and scripts are not carried over."""
    extractor = _TextExtractor()
    extractor.feed(_tame_html(markup or ""))
    extractor.close()
    text = "".join(extractor.parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)
