"""Forms of the certificate pages: revoking and re-issuing need a reason on the record."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from certify.certificates.models import REVOCATION_LABELS
from certify.certificates.services import MAX_REASON

TOO_LONG = _l("Keep the reason under %(n)d characters.", n=MAX_REASON)
REASON_HINT = _l("For the record only: never shown publicly.")


class RevokeForm(FlaskForm):
    """Revoking cannot be undone, so the admin ticks a box as well as giving the reason.

    The public reads only `code`, one of the fixed reasons; `reason` is the internal note.
    """

    code = SelectField(
        _l("Reason shown publicly"),
        choices=[SelectChoice("", _l("Choose…"))]
        + [SelectChoice(r.value, text) for r, text in REVOCATION_LABELS.items()],
        validators=[DataRequired(_l("Choose the reason shown publicly."))],
        description=_l("The public check page shows only this reason, from a fixed list."),
    )
    reason = TextAreaField(
        _l("Internal note on the revocation"),
        validators=[
            DataRequired(_l("Give a reason.")),
            Length(max=MAX_REASON, message=TOO_LONG),
        ],
        description=REASON_HINT,
        render_kw={"rows": 3, "maxlength": MAX_REASON},
    )
    confirm = BooleanField(
        _l("I understand that a revoked certificate can never be valid again."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
    submit = SubmitField(_l("Revoke the certificate"))


class ReissueForm(FlaskForm):
    """A corrected certificate under a new number; the old one is revoked as superseded."""

    reason = TextAreaField(
        _l("Reason for the new certificate"),
        validators=[
            DataRequired(_l("Give a reason.")),
            Length(max=MAX_REASON, message=TOO_LONG),
        ],
        description=_l(
            "Correct the worker's account first: the new certificate takes the name and ID "
            "number as they are now. The old number is revoked and points to the new one."
        ),
        render_kw={"rows": 3, "maxlength": MAX_REASON},
    )
    submit = SubmitField(_l("Issue a corrected certificate"))
