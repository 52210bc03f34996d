from __future__ import annotations

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from certify.accounts.forms import MultiCheckboxField
from certify.catalog.models import Trade, level_label
from certify.extensions import db


class CohortForm(FlaskForm):
    track = SelectField(_l("Trade and level"), validators=[DataRequired()])
    name = StringField(
        _l("Class name"),
        validators=[DataRequired(_l("Give the class a name.")), Length(max=100)],
        description=_l("e.g. 2026年第一期仓库保管员培训班"),
    )
    capacity = IntegerField(_l("Places"), validators=[Optional(), NumberRange(1, 10000)])
    exam_note = StringField(
        _l("Exam time and place"),
        validators=[Optional(), Length(max=200)],
        description=_l("Printed on the login slips, e.g. 12月12日 9:00 三楼机房."),
    )
    trainers = MultiCheckboxField(_l("Trainers"), choices=[], validate_choice=False)
    submit = SubmitField(_l("Save"))


class SessionForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired(_l("Choose the date."))])
    start = TimeField(_l("From"), validators=[InputRequired(_l("Choose the start time."))])
    end = TimeField(_l("To"), validators=[InputRequired(_l("Choose the end time."))])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=200)])
    topic = StringField(_l("Topic"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Add to the schedule"))


class RosterForm(FlaskForm):
    file = FileField(
        _l("Roster file"),
        validators=[FileRequired(_l("Choose a file to upload."))],
        description=_l("Excel (.xlsx) or CSV with 姓名, 证件号码 and 手机号码; at most 10 MB."),
    )
    submit = SubmitField(_l("Check the roster"))


class ConfirmRosterForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Enrol them"))


class MaterialForm(FlaskForm):
    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Give the material a title.")), Length(max=200)]
    )
    area = SelectField(_l("Knowledge area"), validators=[Optional()])
    file = FileField(_l("File (PDF, PNG or JPEG, at most 20 MB)"))
    url = StringField(_l("Or a web address"), validators=[Optional(), Length(max=500)])
    whole_trade = BooleanField(_l("For every class of this trade (office only)"))
    submit = SubmitField(_l("Add material"))


class RuleForm(FlaskForm):
    track = SelectField(_l("Trade and level"), validators=[DataRequired()])
    min_years = IntegerField(
        _l("Years in the occupation usually required"),
        validators=[InputRequired(), NumberRange(0, 60)],
    )
    note = StringField(
        _l("Other grounds (shown to trainers)"), validators=[Optional(), Length(max=300)]
    )
    submit = SubmitField(_l("Save the rule"))


def track_choices(trades: list[Trade]) -> list[SelectChoice]:
    """Each trade's levels (or its one certificate) as "trade:level" choices."""
    choices = []
    for trade in trades:
        if trade.levels:
            choices += [
                SelectChoice(f"{trade.id}:{lv}", f"{trade.name} · {level_label(lv)}")
                for lv in trade.levels
            ]
        else:
            choices.append(
                SelectChoice(f"{trade.id}:", f"{trade.name} · {trade.certificate_label}")
            )
    return choices


def parse_track(value: str) -> tuple[Trade, int | None]:
    """The trade and level a "trade:level" choice names; 400 for anything else."""
    trade_id, _sep, level = (value or "").partition(":")
    trade = db.session.get(Trade, int(trade_id)) if trade_id.isdigit() else None
    if trade is None:
        abort(400)
    return trade, int(level) if level else None
