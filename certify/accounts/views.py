from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from wtforms.fields.choices import SelectChoice

from certify.accounts import services, sessions, throttle
from certify.accounts.forms import ChangePasswordForm, LoginForm, UserForm
from certify.accounts.limits import throttle_logins
from certify.accounts.models import Role
from certify.accounts.sessions import LOGIN_KEY
from certify.catalog.services import list_trades
from certify.core import clock
from certify.core.auth import role_required
from certify.core.errors import ValidationFailed
from certify.core.forms import ConfirmForm, accept_form, safe_next, show_problems
from certify.core.i18n import SUPPORTED_LOCALES
from certify.core.transactions import keep_changes

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
@throttle_logins(methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                form.login.data, form.password.data, throttle.client_address()
            )
        except services.LoginFailed as exc:
            keep_changes()  # the failed-attempt count and any lockout
            form.password.errors = [exc.message]
            return render_template("accounts/login.html", form=form), exc.status
        login = sessions.start_login_session(user)
        session.clear()
        session[LOGIN_KEY] = login.key
        login_user(user)
        if user.locale:
            session["lang"] = user.locale
        if user.must_change_password:
            return redirect(url_for("accounts.change_password", next=form.next.data or ""))
        return redirect(safe_next(form.next.data, url_for("home.index")))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout():
    lang = session.get("lang")
    sessions.end_login_session(session.get(LOGIN_KEY))
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@role_required()
def change_password():
    form = ChangePasswordForm(next=request.args.get("next", ""))
    changed = accept_form(
        form,
        lambda: services.change_password(
            current_user,
            form.current_password.data,
            form.new_password.data,
            keep_login=session.get(LOGIN_KEY),
        ),
    )
    if changed:
        flash(_("Your new password is saved."), "success")
        return redirect(safe_next(form.next.data, url_for("home.index")))
    return render_template("accounts/change_password.html", form=form)


# --- administration of accounts ----------------------------------------------------


def _fill_trade_choices(form: UserForm) -> None:
    form.trades.choices = [SelectChoice(t.code, f"{t.name} ({t.code})") for t in list_trades()]


def _user_data(form: UserForm) -> services.UserData:
    return services.UserData(
        username=form.username.data,
        role=Role(form.role.data),
        name=form.name.data or "",
        id_number=form.id_number.data or None,
        phone=(form.phone.data or "").strip() or None,
        active=form.active.data,
        trade_codes=form.trades.data or [],
    )


@bp.get("/admin/users")
@role_required(Role.ADMIN)
def user_list():
    role = request.args.get("role")
    query = request.args.get("q", "")
    users = services.list_users(Role(role) if role in set(Role) else None, query)
    return render_template(
        "accounts/user_list.html",
        users=users,
        roles=list(Role),
        role=role,
        query=query,
        now=clock.now(),
    )


@bp.route("/admin/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def user_create():
    form = UserForm()
    _fill_trade_choices(form)
    if form.validate_on_submit():
        password = services.generate_initial_password()
        try:
            user = services.create_user(_user_data(form), password, must_change_password=True)
        except ValidationFailed as exc:
            show_problems(form, exc)
        else:
            return render_template("accounts/initial_password.html", user=user, password=password)
    return render_template("accounts/user_form.html", form=form, user=None)


@bp.route("/admin/users/<int:user_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def user_edit(user_id: int):
    user = services.get_user(user_id)
    form = UserForm(obj=user)
    _fill_trade_choices(form)
    if request.method == "GET":
        form.role.data = user.role.value
        form.trades.data = [t.code for t in user.trades]
    if form.validate_on_submit():
        if user.id == current_user.id and (form.role.data != Role.ADMIN or not form.active.data):
            flash(_("You cannot remove your own administrator access."), "error")
        else:
            try:
                services.update_user(user, _user_data(form))
            except ValidationFailed as exc:
                show_problems(form, exc)
            else:
                flash(_("The account is saved."), "success")
                return redirect(url_for("accounts.user_list"))
    return render_template("accounts/user_form.html", form=form, user=user)


@bp.post("/admin/users/<int:user_id>/reset-password")
@role_required(Role.ADMIN)
def user_reset_password(user_id: int):
    user = services.get_user(user_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired. Reload the page and send it again."), "error")
        return redirect(url_for("accounts.user_list"))
    password = services.reset_password(user)
    return render_template("accounts/initial_password.html", user=user, password=password)


@bp.post("/admin/users/<int:user_id>/unlock")
@role_required(Role.ADMIN)
def user_unlock(user_id: int):
    user = services.get_user(user_id)
    if ConfirmForm().validate_on_submit():
        services.unlock_user(user)
        flash(_("%(name)s can log in again.", name=user.display_name), "success")
    return redirect(url_for("accounts.user_list"))


@bp.post("/language/<lang>")
def set_language(lang: str):
    """The language switch: kept in the session, and on the account of whoever is logged in."""
    if lang in SUPPORTED_LOCALES:
        session["lang"] = lang
        if current_user.is_authenticated:
            services.set_locale(current_user, lang)
    return redirect(safe_next(request.form.get("next"), url_for("home.index")))
