"""Who may do what: one decorator for every role-protected route, whatever the roles are
(accounts.models.Role), and the first-password rule."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort, flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from certify.extensions import login_manager

F = TypeVar("F", bound=Callable[..., object])

# Endpoints a user who must change their password may still reach.
PASSWORD_CHANGE_EXEMPT = frozenset(
    {
        "accounts.change_password",
        "accounts.logout",
        "static",
        "core.healthz",
        "accounts.set_language",
    }
)


def role_required(*roles: object) -> Callable[[F], F]:
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


def configure_login_manager(load_user: Callable[[str], object | None]) -> None:
    """`load_user` comes from accounts (the app factory hands it in): core knows no domain."""
    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
