"""Forms of the endorsement pages: the office submits, the bureau endorses or rejects.

The certificate checkboxes are drawn by the templates (one per table row or card), so the
number fields skip WTForms' choice check; the views and services check every number.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from certify.endorsement.services import MAX_REASON

MAX_NOTE = 2000


class SubmitBatchForm(FlaskForm):
    numbers = SelectMultipleField(
        _l("Certificates"),
        choices=[],
        validate_choice=False,
        validators=[DataRequired(_l("Choose at least one certificate."))],
    )
    note = TextAreaField(
        _l("Note for the reviewers (optional)"),
        validators=[
            Optional(),
            Length(max=MAX_NOTE, message=_l("Keep the note under %(n)d characters.", n=MAX_NOTE)),
        ],
        render_kw={"rows": 3, "maxlength": MAX_NOTE},
    )
    submit = SubmitField(_l("Submit to the bureau"))


class EndorseForm(FlaskForm):
    """Endorsing cannot be taken back here, so the reviewer ticks a box first."""

    numbers = SelectMultipleField(_l("Certificates"), choices=[], validate_choice=False)
    confirm = BooleanField(
        _l("I have checked these certificates against the roster and the PDFs."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
    endorse_all = SubmitField(_l("Endorse all"))
    endorse_selected = SubmitField(_l("Endorse selected"))

    def validate_numbers(self, field) -> None:
        if self.endorse_selected.data and not field.data:
            raise ValidationError(_l("Tick the certificates to endorse, or press “Endorse all”."))


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for rejecting"),
        validators=[
            DataRequired(_l("Say why the certificate is rejected.")),
            Length(
                max=MAX_REASON,
                message=_l("Keep the reason under %(n)d characters.", n=MAX_REASON),
            ),
        ],
        description=_l("The office sees it and corrects the certificate."),
        render_kw={"rows": 2, "maxlength": MAX_REASON},
    )
    submit = SubmitField(_l("Reject"))
