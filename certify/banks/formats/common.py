"""What every format reader produces, the limits they keep, and the HTML they all read."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from flask_babel import gettext as _

from certify.banks.types import QuestionType
from certify.core.tables import ImportProblem, Unit

# Limits that keep a hostile or mistaken file from exhausting the server.
MAX_QUESTIONS = 10_000
MAX_STEM_CHARS = 2000
MAX_OPTION_CHARS = 500
MAX_EXPLANATION_CHARS = 2000
MAX_OPTIONS = 8
MIN_OPTIONS = 2


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
    point_code: str = ""  # 鉴定点代码, e.g. "03-02-01"


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
    # Imported, but not quite as written (partial credit dropped, media left out): said so.
    warnings: list[ImportProblem] = field(default_factory=list)


# Pictures, sound and video in a question: Certify keeps text only, so each question that
# had any is imported with a warning that says so.
MEDIA_RE = re.compile(
    r"<\s*(?:img|audio|video|object|embed|source)\b|@@PLUGINFILE@@|"
    r"\.(?:png|jpe?g|gif|bmp|svg|webp|mp3|wav|m4a|ogg|mp4|avi|mov|wmv)\b",
    re.IGNORECASE,
)


def media_dropped_warning() -> str:
    return _(
        "The question's pictures, sound or video are not imported, only its text: check that "
        "it still reads right without them, or describe the picture in words."
    )


FULL_MARKS = 100.0


@dataclass(frozen=True)
class ChoiceKey:
    """What a choice question's answer grades mean, as Moodle means them; one of: a type and
    its right keys (with the partial-credit answers that had to be dropped), a reason to skip
    it, or a problem."""

    type: QuestionType | None = None
    correct: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    skip: str | None = None
    problem: str | None = None


def choice_key(grades: list[tuple[str, float]], single: bool | None) -> ChoiceKey:
    """Moodle's rule for GIFT (`=`, `~%50%`) and Moodle XML (fraction=, <single>), so both
    formats read the same shape the same way. `single` is XML's <single>; None for GIFT,
    where the answers decide.

    - one answer with full marks: single choice with that key; answers with partial marks are
      partial credit, which Certify's graders do not give: dropped, with a warning (never
      added to the key: "~%50%夜间可以关闭" must not become part of the answer);
    - several with full marks: "any one of them is right", which Certify cannot grade:
      skipped with that reason (never turned into multiple choice);
    - none with full marks, positive shares adding up to 100 (GIFT, or <single>false</single>):
      multiple choice, every answer with a positive share is part of the key.
    """
    full = tuple(k for k, g in grades if math.isclose(g, FULL_MARKS))
    partial = tuple(k for k, g in grades if 0 < g < FULL_MARKS)
    if single is False:
        positive = tuple(k for k, g in grades if g > 0)
        if not positive:
            return ChoiceKey(problem=NO_RIGHT_ANSWER)
        return ChoiceKey(QuestionType.MULTIPLE, positive)
    if len(full) == 1:
        return ChoiceKey(QuestionType.SINGLE, full, dropped=partial)
    if len(full) > 1:
        return ChoiceKey(
            skip=_(
                "Several answers are marked fully right (any one of them is right); Certify "
                "grades one right answer, or a set of right answers that must all be chosen."
            )
        )
    if (
        single is None
        and len(partial) > 1
        and math.isclose(sum(g for _k, g in grades if g > 0), FULL_MARKS, abs_tol=0.5)
    ):
        return ChoiceKey(QuestionType.MULTIPLE, partial)
    if partial:
        return ChoiceKey(
            problem=_(
                "No answer gets full marks: give the right answer = (or %(full)s), or make "
                "the shares of the right answers add up to %(full)s for a multiple-choice "
                "question.",
                full="100%",
            )
        )
    return ChoiceKey(problem=NO_RIGHT_ANSWER)


NO_RIGHT_ANSWER = "no-right-answer"  # each format says it in its own words


def dropped_credit_warning(keys: tuple[str, ...]) -> str:
    return _(
        "Partial credit for answer %(keys)s is not kept: Certify counts only the right answer, "
        "so choosing %(keys)s scores nothing.",
        keys="、".join(keys),
    )


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
