from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional


class ScheduleForm(FlaskForm):
    opens_at = DateTimeLocalField(
        _l("Opens"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    closes_at = DateTimeLocalField(
        _l("Closes"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    duration_minutes = IntegerField(
        _l("Minutes per worker"),
        validators=[Optional(), NumberRange(1, 600)],
        description=_l("Empty: the blueprint's duration."),
    )
    access_code = StringField(
        _l("Access code announced in the room"), validators=[Optional(), Length(max=12)]
    )
    departure_limit = IntegerField(
        _l("Hand in automatically after this many departures from the page"),
        validators=[Optional(), NumberRange(1, 50)],
    )
    submit = SubmitField(_l("Schedule the exam"))


class OverrideForm(FlaskForm):
    user_id = IntegerField(validators=[InputRequired()])
    extra_minutes = IntegerField(
        _l("Extra minutes"), validators=[InputRequired(), NumberRange(0, 300)]
    )
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Give extra time"))


class PublishForm(FlaskForm):
    publicity_days = IntegerField(
        _l("Working days of publicity"), default=5, validators=[InputRequired(), NumberRange(0, 60)]
    )
    # Set by the confirm step that lists workers without a practical score.
    confirm_missing = HiddenField(default="")
    submit = SubmitField(_l("Publish the results"))


class ObjectionForm(FlaskForm):
    text = TextAreaField(_l("Objection"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Record the objection"))


class ScoreUploadForm(FlaskForm):
    file = FileField(_l("Scores file (证件号码, 考评员, 分数)"), validators=[FileRequired()])
    submit = SubmitField(_l("Import scores"))
