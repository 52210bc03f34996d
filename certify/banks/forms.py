from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from certify.banks.formats.tabular import parse_answer
from certify.banks.models import DIFFICULTY_LABELS, QuestionVersion
from certify.banks.services import QuestionEdit
from certify.banks.types import OPTION_KEYS, QuestionType
from certify.catalog.models import Trade, level_label
from certify.core.errors import Problem, ValidationFailed


def area_choices(trade: Trade, blank: str | None = None) -> list[SelectChoice]:
    choices = [SelectChoice("", blank)] if blank is not None else []
    ordered = []

    def walk(areas, depth):
        for area in areas:
            ordered.append((area, depth))
            walk(area.children, depth + 1)

    walk(trade.root_areas, 0)
    choices += [SelectChoice(str(a.id), "\u3000" * d + a.name) for a, d in ordered]
    return choices


class ImportForm(FlaskForm):
    file = FileField(
        _l("Question file"),
        validators=[FileRequired(_l("Choose a file to upload."))],
        description=_l(
            "Excel template (.xlsx), CSV, Moodle GIFT, Moodle XML or Aiken; at most 10 MB."
        ),
    )
    default_area = SelectField(
        _l("Knowledge area for questions without one"), validators=[Optional()]
    )
    create_areas = BooleanField(_l("Add knowledge areas the file names but the tree lacks"))
    valid_only = BooleanField(_l("Import the valid questions even if some are wrong"))
    submit = SubmitField(_l("Check the file"))


class ConfirmImportForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    default_area = HiddenField()
    create_areas = HiddenField()
    valid_only = HiddenField()
    submit = SubmitField(_l("Import now"))


class QuestionForm(FlaskForm):
    type = SelectField(
        _l("Type"),
        choices=[SelectChoice(t.value, label) for t, label in QuestionType.labels().items()],
    )
    stem = TextAreaField(
        _l("Question"), validators=[DataRequired(_l("Write the question.")), Length(max=2000)]
    )
    answer = StringField(
        _l("Answer"),
        validators=[DataRequired(_l("Give the answer."))],
        description=_l("Letters such as B or ACD; for true or false write 正确 or 错误."),
    )
    area = SelectField(_l("Knowledge area"), validators=[DataRequired()])
    difficulty = SelectField(
        _l("Difficulty"),
        choices=[SelectChoice(str(k), f"{k} · {v}") for k, v in DIFFICULTY_LABELS.items()],
        default="3",
    )
    explanation = TextAreaField(_l("Explanation"), validators=[Optional(), Length(max=2000)])
    source = StringField(_l("Source"), validators=[Optional(), Length(max=200)])
    point_code = StringField(
        _l("Examination point code (鉴定点代码)"),
        validators=[Optional(), Length(max=20)],
        description=_l("The point of the 细目表 this question examines, e.g. 03-02-01."),
    )
    submit = SubmitField(_l("Save"))

    # The service names problems by the import template's columns; the page by its fields.
    FIELD_OF_COLUMN = {
        "题干": "stem",
        "答案": "answer",
        "知识点": "area",
        "解析": "explanation",
        "出处": "source",
        "鉴定点代码": "point_code",
        "难度": "difficulty",
        **{f"选项{key}": f"option_{key}" for key in OPTION_KEYS},
    }

    def fill_from(self, version: QuestionVersion) -> None:
        """The question as it stands, for a form that has not been posted yet."""
        if self.is_submitted():
            return
        self.type.data = version.type.value
        self.stem.data = version.stem
        self.answer.data = version.answer_text
        self.area.data = str(version.area_id)
        self.difficulty.data = str(version.difficulty)
        self.explanation.data = version.explanation
        self.source.data = version.source
        self.point_code.data = version.point_code
        for option in version.options:
            getattr(self, f"option_{option['key']}").data = option["text"]

    def to_edit(self) -> QuestionEdit:
        """What was posted, as the edit the service checks; an answer that cannot be read is
        refused here, on its field."""
        q_type = QuestionType(self.type.data)
        correct = parse_answer(self.answer.data, q_type)
        if correct is None:
            raise ValidationFailed(
                [Problem("answer", _("Write the letters of the right options, e.g. A or ACD."))]
            )
        return QuestionEdit(
            type=q_type,
            stem=self.stem.data,
            options=[(k, getattr(self, f"option_{k}").data or "") for k in OPTION_KEYS],
            correct=correct,
            area_id=int(self.area.data),
            difficulty=int(self.difficulty.data),
            explanation=self.explanation.data or "",
            source=self.source.data or "",
            point_code=self.point_code.data or "",
        )


for _key in OPTION_KEYS:
    setattr(
        QuestionForm,
        f"option_{_key}",
        StringField(_l("Option %(key)s", key=_key), validators=[Optional(), Length(max=500)]),
    )


def blueprint_form_class(trade: Trade) -> type[FlaskForm]:
    """The blueprint form for one trade: a weight field per top-level knowledge area."""

    class BlueprintForm(FlaskForm):
        name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
        level = SelectField(
            _l("Level"),
            choices=[SelectChoice(str(level), level_label(level)) for level in trade.levels]
            or [SelectChoice("", _l("No level (special vocational ability)"))],
        )
        duration_minutes = IntegerField(
            _l("Duration (minutes)"),
            default=trade.theory_duration_minutes,
            validators=[InputRequired(), NumberRange(1, 600)],
        )
        pass_mark = IntegerField(
            _l("Pass mark"),
            default=trade.theory_pass_mark,
            validators=[InputRequired(), NumberRange(0, 100)],
        )
        submit = SubmitField(_l("Save"))

    for q_type in QuestionType:
        setattr(
            BlueprintForm,
            f"{q_type.value}_count",
            IntegerField(_l("Questions"), validators=[Optional(), NumberRange(0, 500)]),
        )
        setattr(
            BlueprintForm,
            f"{q_type.value}_points",
            StringField(_l("Points each"), validators=[Optional(), Length(max=6)]),
        )
    for area in trade.root_areas:
        setattr(
            BlueprintForm,
            f"quota_{area.id}",
            IntegerField(area.name, validators=[Optional(), NumberRange(0, 100)]),
        )
    for level in DIFFICULTY_LABELS:
        setattr(
            BlueprintForm,
            f"mix_{level}",
            IntegerField(DIFFICULTY_LABELS[level], validators=[Optional(), NumberRange(0, 100)]),
        )
    return BlueprintForm
