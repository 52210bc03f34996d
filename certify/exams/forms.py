from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional


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
