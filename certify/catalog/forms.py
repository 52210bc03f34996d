from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from certify.accounts.forms import MultiCheckboxField
from certify.catalog.models import CERTIFICATE_TYPE_LABELS, LEVEL_LABELS


class TradeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Enter a code.")), Length(max=40)],
        description=_l("Lower-case letters, digits and hyphens, e.g. warehouse-keeper."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the name.")), Length(max=64)])
    national_code = StringField(
        _l("National classification code"),
        validators=[Optional(), Length(max=20)],
        description=_l("Optional, e.g. 4-02-06-03."),
    )
    certificate_type = RadioField(
        _l("Certificate"),
        choices=[SelectChoice(key.value, label) for key, label in CERTIFICATE_TYPE_LABELS.items()],
        validators=[InputRequired(_l("Choose the certificate type."))],
    )
    levels = MultiCheckboxField(
        _l("Levels offered"),
        choices=[SelectChoice(str(level), label) for level, label in LEVEL_LABELS.items()],
        description=_l("Only for skill level certificates."),
    )
    assesses_theory = BooleanField(_l("Theory exam"), default=True)
    assesses_practical = BooleanField(_l("Practical assessment"), default=True)
    theory_pass_mark = IntegerField(
        _l("Theory pass mark"),
        default=60,
        validators=[InputRequired(), NumberRange(0, 100, _l("From 0 to 100."))],
    )
    practical_pass_mark = IntegerField(
        _l("Practical pass mark"),
        default=60,
        validators=[InputRequired(), NumberRange(0, 100, _l("From 0 to 100."))],
    )
    theory_duration_minutes = IntegerField(
        _l("Theory exam duration (minutes)"),
        default=90,
        validators=[InputRequired(), NumberRange(1, 600, _l("From 1 to 600 minutes."))],
    )
    multiple_scoring = RadioField(
        _l("Multiple-choice scoring"),
        choices=[
            SelectChoice("exact", _l("All right answers and no wrong one, or nothing")),
            SelectChoice(
                "partial", _l("Part of the points for some right answers and no wrong one")
            ),
        ],
        default="exact",
    )
    certificate_number_format = StringField(
        _l("Certificate number format"),
        validators=[Optional(), Length(max=80)],
        description=_l(
            "Leave empty for the national layout ({kind}{institution}{province}{site}{yy}"
            "{level}{serial:06d}); fields: {kind} {institution} {province} {site} {yy} {yyyy} "
            "{level} {serial}."
        ),
    )
    description = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
    areas = TextAreaField(
        _l("Knowledge areas"),
        validators=[Optional(), Length(max=20000)],
        description=_l("One per line; use / for a sub-area, e.g. 入库作业/验收."),
    )
    submit = SubmitField(_l("Save"))


class AreasForm(FlaskForm):
    paths = TextAreaField(
        _l("Add knowledge areas"),
        validators=[DataRequired(_l("Enter at least one area.")), Length(max=20000)],
        description=_l("One per line; use / for a sub-area, e.g. 入库作业/验收."),
    )
    submit = SubmitField(_l("Add"))


class RenameAreaForm(FlaskForm):
    name = StringField(_l("New name"), validators=[DataRequired(), Length(max=64)])
    submit = SubmitField(_l("Rename"))
