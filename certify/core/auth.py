"""Who may do what: one decorator for every role-protected route."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort, flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from certify.accounts.models import Role, User
from certify.accounts.sessions import live_login_user
from certify.extensions import login_manager

F = TypeVar("F", bound=Callable[..., object])

# Endpoints a user who must change their password may still reach.
PASSWORD_CHANGE_EXEMPT = frozenset(
    {"accounts.change_password", "accounts.logout", "static", "core.healthz", "core.set_language"}
)


def role_required(*roles: Role) -> Callable[[F], F]:
    """Let the listed roles in (every role when none is listed); send anonymous users to
    log in; refuse the rest with 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)  # read by the access tests
        return wrapped  # type: ignore[return-value]

    return decorator


# The session cookie's key of the server-side login (accounts.sessions): without a live one,
# a cookie, even a copied one, logs nobody in.
LOGIN_KEY = "login_key"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    return live_login_user(int(user_id), session.get(LOGIN_KEY))


def enforce_password_change():
    """Accounts created in bulk carry a printed password: it must be replaced first."""
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in PASSWORD_CHANGE_EXEMPT
        and not (request.endpoint or "").startswith("api.")
    ):
        flash(_l("Please choose your own password before you go on."), "warning")
        return redirect(url_for("accounts.change_password", next=request.full_path))
    return None


def configure_login_manager() -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
