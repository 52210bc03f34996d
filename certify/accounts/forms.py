from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from certify.accounts.models import ROLE_LABELS


class LoginForm(FlaskForm):
    login = StringField(
        _l("User name or ID card number"),
        validators=[DataRequired(_l("Enter your user name or ID card number.")), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a new password.")), Length(max=128)],
        render_kw={"autocomplete": "new-password"},
        description=_l("At least 8 characters. Mix letters and digits."),
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Enter the new password again.")),
            EqualTo("new_password", _l("The two new passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    next = HiddenField()
    submit = SubmitField(_l("Save the new password"))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("Full name"), validators=[Optional(), Length(max=64)])
    role = SelectField(
        _l("Role"), choices=[SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()]
    )
    id_number = StringField(
        _l("ID card number"),
        validators=[Optional(), Length(max=20)],
        description=_l("Workers can log in with it."),
    )
    phone = StringField(_l("Mobile phone"), validators=[Optional(), Length(max=20)])
    trades = MultiCheckboxField(
        _l("Trades (for trainers and examiners)"), choices=[], validate_choice=False
    )
    active = BooleanField(_l("Account active"), default=True)
    submit = SubmitField(_l("Save"))
