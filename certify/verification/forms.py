"""The public lookup forms and the PDF upload.

Two small forms instead of one with optional fields: people with little schooling do better
with "fill in this box, press this button" than with "fill in either this or those".
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from certify.verification.services import MAX_ID_NUMBER, MAX_NAME, MAX_NUMBER

MAX_PDF_BYTES = 5 * 1024 * 1024
PDF_MAGIC = b"%PDF-"


class NumberLookupForm(FlaskForm):
    number = StringField(
        _l("Certificate number"),
        validators=[
            DataRequired(_l("Type the certificate number.")),
            Length(
                max=MAX_NUMBER, message=_l("A certificate number is at most %(max)d characters.")
            ),
        ],
        description=_l("It is printed under the QR code on the certificate."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Check this number"))


class HolderLookupForm(FlaskForm):
    name = StringField(
        _l("Full name"),
        validators=[
            DataRequired(_l("Type the holder's full name.")),
            Length(max=MAX_NAME),
        ],
        render_kw={"autocomplete": "off"},
    )
    id_number = StringField(
        _l("ID card number"),
        validators=[
            DataRequired(_l("Type the holder's ID number.")),
            Length(max=MAX_ID_NUMBER + 4, message=_l("An ID number has 18 characters.")),
        ],
        description=_l("Exactly as on the ID card. We only show this person's own certificates."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Find this person's certificates"))


class PdfUpload:
    """Read the upload once, refusing what is too big or not a PDF; keeps the bytes on
    `field.content` (in memory only: uploads are never stored)."""

    def __init__(self, max_bytes: int = MAX_PDF_BYTES) -> None:
        self.max_bytes = max_bytes

    def __call__(self, form: FlaskForm, field: FileField) -> None:
        data = field.data.stream.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise ValidationError(
                _l(
                    "The file is larger than %(mb)d MB. Choose the certificate PDF you were given.",
                    mb=self.max_bytes // (1024 * 1024),
                )
            )
        if not data.startswith(PDF_MAGIC):
            raise ValidationError(_l("This is not a PDF file. Choose the certificate's PDF file."))
        field.content = data


class PdfCheckForm(FlaskForm):
    pdf = FileField(
        _l("Certificate PDF file"),
        validators=[FileRequired(_l("Choose the certificate's PDF file.")), PdfUpload()],
        render_kw={"accept": "application/pdf,.pdf"},
    )
    sig = HiddenField()
    submit = SubmitField(_l("Check the file"))
