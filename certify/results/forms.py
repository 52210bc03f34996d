"""Forms of the results pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange


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
