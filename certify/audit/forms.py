from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, SelectField, StringField
from wtforms.fields import DateField
from wtforms.validators import Length, Optional, Regexp

from certify.audit.display import subject_label
from certify.audit.services import TrailFilter, subject_types


class TrailFilterForm(Form):
    """The trail's filters, read from the query string so every filtered view has a URL to
    share or bookmark (no CSRF token: it changes nothing)."""

    action = StringField(
        _l("Action"),
        validators=[Optional(), Length(max=64)],
        description=_l('For example certificate.issued, or "certificate" for all of them'),
    )
    subject_type = SelectField(_l("Subject type"), validators=[Optional()], validate_choice=False)
    subject_id = StringField(_l("Subject number"), validators=[Optional(), Length(max=64)])
    actor = StringField(_l("By (username)"), validators=[Optional(), Length(max=64)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def __init__(self, formdata=None, **kwargs):
        super().__init__(formdata, **kwargs)
        self.subject_type.choices = [("", _l("All subjects"))] + [
            (name, subject_label(name)) for name in subject_types()
        ]

    def trail_filter(self) -> TrailFilter:
        """What the valid fields ask for; a field with an error narrows nothing."""
        self.validate()

        def text(field) -> str:
            return "" if field.errors else (field.data or "").strip()[:64]

        def day(field):
            return None if field.errors else field.data

        known = {value for value, _label in self.subject_type.choices}
        subject_type = text(self.subject_type)
        return TrailFilter(
            action=text(self.action),
            subject_type=subject_type if subject_type in known else "",
            subject_id=text(self.subject_id),
            actor=text(self.actor),
            date_from=day(self.date_from),
            date_to=day(self.date_to),
        )


class VerifyForm(FlaskForm):
    expect_last = StringField(
        _l("Last hash you recorded (optional)"),
        validators=[
            Optional(),
            Regexp(r"^\s*[0-9a-fA-F]{64}\s*$", message=_l("A hash is 64 hexadecimal characters.")),
        ],
        description=_l(
            "Deleting the newest entries leaves a shorter chain that is still intact: "
            "compare with a hash you kept outside the system."
        ),
    )
