from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from certify.cohorts.roster import EDUCATION_LEVELS, ETHNICITIES, ID_TYPES, RESIDENT_ID, SOURCES

PHOTO_HINT = _l(
    "Take it with the phone's camera or choose one: your face from the front, plain "
    "background, no hat. It is cut to an upright photo and kept for your ticket and "
    "certificate."
)


def _blank(choices) -> list[tuple[str, str]]:
    return [SelectChoice("", "—"), *[SelectChoice(c, c) for c in choices]]


class ApplicationForm(FlaskForm):
    """报名表: the Zhejiang registration fields, phone first."""

    name = StringField(
        _l("Full name"), validators=[DataRequired(_l("Write your name.")), Length(max=30)]
    )
    id_type = SelectField(
        _l("ID type"), choices=[SelectChoice(t, t) for t in ID_TYPES], default=RESIDENT_ID
    )
    id_number = StringField(
        _l("ID number"),
        validators=[DataRequired(_l("Write your ID number.")), Length(max=30)],
        render_kw={"autocomplete": "off", "inputmode": "text", "autocapitalize": "characters"},
    )
    gender = SelectField(_l("Gender"), choices=_blank(("男", "女")), validators=[Optional()])
    ethnicity = SelectField(_l("Ethnic group"), choices=_blank(ETHNICITIES), default="汉族")
    education = SelectField(_l("Education"), choices=_blank(EDUCATION_LEVELS))
    phone = StringField(
        _l("Mobile phone"),
        validators=[DataRequired(_l("Write your mobile number.")), Length(max=20)],
        render_kw={"inputmode": "tel", "autocomplete": "tel"},
    )
    address = StringField(
        _l("Postal address"),
        validators=[DataRequired(_l("Write your postal address.")), Length(max=200)],
        render_kw={"autocomplete": "street-address"},
    )
    source = SelectField(_l("You are from"), choices=_blank(SOURCES), default="企业")
    employer = StringField(_l("Employer"), validators=[Optional(), Length(max=100)])
    years_in_trade = IntegerField(
        _l("Years in this occupation"),
        validators=[Optional(), NumberRange(0, 60)],
        render_kw={"inputmode": "numeric"},
    )
    basis = RadioField(_l("You apply under"), choices=[], validate_choice=False)
    photo = FileField(
        _l("Your photo"),
        validators=[FileRequired(_l("Take or choose a photo."))],
        description=PHOTO_HINT,
        render_kw={"accept": "image/jpeg,image/png,image/webp", "capture": "user"},
    )
    submit = SubmitField(_l("Submit my application"))

    # The service names problems by the registration spec's fields; the page by its own.
    FIELD_OF_COLUMN = {
        "姓名": "name",
        "证件类型": "id_type",
        "证件号码": "id_number",
        "性别": "gender",
        "民族": "ethnicity",
        "文化程度": "education",
        "手机号码": "phone",
        "通讯地址": "address",
        "考生来源": "source",
        "工作单位": "employer",
        "本职业工作年限": "years_in_trade",
        "申报条件": "basis",
        "考生证照": "photo",
    }

    def fields(self) -> dict[str, str]:
        """What was posted, keyed by the spec's column names."""
        values = {}
        for column, name in self.FIELD_OF_COLUMN.items():
            if name == "photo":
                continue
            data = getattr(self, name).data
            values[column] = "" if data is None else str(data)
        return values

    def fill_from(self, application) -> None:
        """A returned application, to correct: everything but the ID number, typed again."""
        if self.is_submitted():
            return
        for name in self.FIELD_OF_COLUMN.values():
            if name in ("photo", "id_number"):
                continue
            value = {
                "name": application.name,
                "id_type": application.id_type,
                "gender": application.gender,
                "ethnicity": application.ethnicity,
                "education": application.education,
                "phone": application.phone,
                "address": application.address,
                "source": application.source,
                "employer": application.employer,
                "years_in_trade": application.years_in_trade,
                "basis": application.basis,
            }[name]
            getattr(self, name).data = value


class CorrectionForm(ApplicationForm):
    photo = FileField(
        _l("A new photo (only if asked for)"),
        validators=[Optional()],
        description=PHOTO_HINT,
        render_kw={"accept": "image/jpeg,image/png,image/webp", "capture": "user"},
    )
    submit = SubmitField(_l("Send the corrected application"))


class ReferenceForm(FlaskForm):
    class Meta:
        csrf = False  # a lookup, sent by GET

    reference = StringField(
        _l("Reference number"), validators=[DataRequired(_l("Write your reference number."))]
    )
    submit = SubmitField(_l("Look it up"))


class AnnouncementForm(FlaskForm):
    track = SelectField(_l("Trade and level"), validators=[DataRequired()])
    title = StringField(
        _l("Title"),
        validators=[DataRequired(_l("Give the announcement a title.")), Length(max=200)],
        description=_l("e.g. 2027年第一批仓库保管员（五级）职业技能等级认定公告"),
    )
    opens_at = DateTimeLocalField(
        _l("Applications open"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Choose when applications open."))],
    )
    closes_at = DateTimeLocalField(
        _l("Applications close"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Choose when applications close."))],
    )
    conditions = TextAreaField(
        _l("Conditions (申报条件), one per line"),
        validators=[Optional(), Length(max=4000)],
        description=_l("Applicants choose the line they apply under."),
    )
    exam_note = StringField(_l("Exam time and place"), validators=[Optional(), Length(max=300)])
    cohort = SelectField(_l("Class approved applicants join"), choices=[], validate_choice=False)
    submit = SubmitField(_l("Save as draft"))


class ApproveForm(FlaskForm):
    cohort = SelectField(_l("Into the class"), choices=[], validate_choice=False)
    submit = SubmitField(_l("Approve"))


class ReturnForm(FlaskForm):
    reason = TextAreaField(
        _l("What is wrong and what to fix"),
        validators=[DataRequired(_l("Say what is wrong and what to fix.")), Length(max=500)],
    )
    submit = SubmitField(_l("Return to the applicant"))
