"""Writes to accounts and the login rules. Views, API and CLI all come through here."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from certify.accounts import sessions, throttle
from certify.accounts.models import Role, User
from certify.audit.services import record_event
from certify.catalog.models import Trade
from certify.core import clock
from certify.core.errors import DomainError, Problem, ValidationFailed
from certify.core.idcard import InvalidIdNumber, normalise_id_number, parse_id_number
from certify.core.lookups import get_or_not_found
from certify.core.masking import mask_id_number
from certify.extensions import db

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
MIN_PASSWORD_LENGTH = 8
COMMON_PASSWORDS = frozenset(
    {
        "12345678",
        "123456789",
        "1234567890",
        "87654321",
        "11111111",
        "88888888",
        "00000000",
        "66666666",
        "12341234",
        "password",
        "password1",
        "qwertyui",
        "qwerty123",
        "abcd1234",
        "abc12345",
        "a1234567",
        "iloveyou",
        "woaini1314",
        "1qaz2wsx",
        "aa123456",
        "asdfghjk",
        "zxcvbnm1",
        "admin123",
        "admin1234",
    }
)
# Letters and digits that are hard to confuse on a printed login slip.
SLIP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class LoginFailed(DomainError):
    code = "login_failed"
    status = 401


@dataclass
class UserData:
    username: str
    role: Role
    name: str = ""
    id_number: str | None = None
    phone: str | None = None
    active: bool = True
    trade_codes: Iterable[str] = ()


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


def password_problems(password: str, *, user: User | None = None, username: str = "") -> list[str]:
    """Why a new password is unsafe, in words a worker understands; empty when it is fine."""
    problems = []
    if len(password or "") < MIN_PASSWORD_LENGTH:
        problems.append(_("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    lowered = (password or "").lower()
    personal = {username.lower()} if username else set()
    if user is not None:
        personal |= {user.username.lower(), (user.id_number or "").lower()}
        if user.id_number:
            personal |= {user.id_number[-6:].lower(), user.id_number[-8:].lower()}
        if user.phone:
            personal.add(user.phone)
    personal.discard("")
    if lowered in COMMON_PASSWORDS or len(set(lowered)) <= 2:
        problems.append(_("This password is too easy to guess. Mix letters and digits."))
    elif lowered in personal:
        problems.append(_("Do not use your user name, ID number or phone number as the password."))
    return problems


def generate_initial_password(length: int = 10) -> str:
    """A password for a printed slip: random, and easy to read aloud and type on a phone."""
    while True:
        candidate = "".join(secrets.choice(SLIP_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


def _check_user_data(data: UserData, *, existing: User | None = None) -> list[Trade]:
    problems: list[Problem] = []
    data.username = (data.username or "").strip()
    data.name = (data.name or "").strip()
    if not USERNAME_PATTERN.match(data.username):
        problems.append(
            Problem(
                "username",
                _("2 to 64 letters, digits, dots, hyphens or underscores; no spaces."),
            )
        )
    else:
        clash = db.session.scalar(
            sa.select(User).where(sa.func.lower(User.username) == data.username.lower())
        )
        if clash is not None and clash is not existing:
            problems.append(Problem("username", _("This user name is taken.")))
    if len(data.name) > 64:
        problems.append(Problem("name", _("The name is at most 64 characters.")))
    if data.id_number:
        try:
            data.id_number = parse_id_number(data.id_number).value
        except InvalidIdNumber:
            problems.append(
                Problem(
                    "id_number",
                    _("This is not a valid ID card number. Check all 18 characters."),
                )
            )
        else:
            clash = db.session.scalar(sa.select(User).where(User.id_number == data.id_number))
            if clash is not None and clash is not existing:
                problems.append(
                    Problem("id_number", _("Another account already has this ID number."))
                )
    else:
        data.id_number = None
    if data.role not in Role:
        problems.append(Problem("role", _("Choose a role.")))
    trades = []
    for code in data.trade_codes:
        trade = db.session.scalar(sa.select(Trade).where(Trade.code == code))
        if trade is None:
            problems.append(Problem("trades", _("No trade with code %(code)s.", code=code)))
        else:
            trades.append(trade)
    if problems:
        raise ValidationFailed(problems)
    return trades


def _snapshot(user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "name": user.name,
        "role": str(user.role),
        "id_number": mask_id_number(user.id_number or "") or None,
        "active": user.active,
        "trades": [t.code for t in user.trades],
    }


def create_user(data: UserData, password: str, *, must_change_password: bool = False) -> User:
    """A new account. Bulk and admin-made accounts must change their password at first login."""
    trades = _check_user_data(data)
    problems = password_problems(password, username=data.username)
    if problems:
        raise ValidationFailed([Problem("password", p) for p in problems])
    user = User(
        username=data.username,
        name=data.name,
        id_number=data.id_number,
        phone=data.phone,
        role=Role(data.role),
        active=data.active,
        must_change_password=must_change_password,
        created_at=clock.now(),
    )
    user.trades = trades
    user.set_password(password, _hash_method())
    db.session.add(user)
    record_event("user.created", user, after=_snapshot(user))
    return user


def update_user(user: User, data: UserData) -> User:
    trades = _check_user_data(data, existing=user)
    before = _snapshot(user)
    user.username = data.username
    user.name = data.name
    user.id_number = data.id_number
    user.phone = data.phone
    user.role = Role(data.role)
    user.active = data.active
    user.trades = trades
    after = _snapshot(user)
    if after != before:
        record_event("user.updated", user, before=before, after=after)
    return user


def find_user_by_login(login: str) -> User | None:
    """Workers log in with their ID card number; everybody can use their user name."""
    login = (login or "").strip()
    if not login:
        return None
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == login.lower()))
    if user is None:
        id_number = normalise_id_number(login)
        if len(id_number) == 18:
            user = db.session.scalar(sa.select(User).where(User.id_number == id_number))
    return user


def _wrong_login() -> str:
    return _(
        "The user name, ID number or password is not right. Check them and try again. "
        "After %(n)d wrong tries, this device must wait %(minutes)d minutes. "
        "Forgot the password? Ask your trainer.",
        n=current_app.config["LOGIN_LOCKOUT_THRESHOLD"],
        minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"],
    )


def authenticate(login: str, password: str, address: str = "unknown") -> User:
    """The user these credentials belong to, or LoginFailed.

    Every refusal reads the same (unknown name, wrong password, inactive account, an address
    stopped after too many wrong tries): see accounts.throttle for who is stopped and why.
    """
    now = clock.now()
    user = find_user_by_login(login)
    stopped = throttle.is_stopped(login, address, now)
    if stopped or user is None or not user.active or not user.check_password(password or ""):
        if not stopped:
            locked_until = throttle.register_failure(login, address, now)
            if locked_until is not None and user is not None:
                user.locked_until = locked_until  # shown to the office, which can lift it
                record_event(
                    "user.locked",
                    user,
                    after={"locked_until": locked_until.isoformat(), "address": address},
                )
        raise LoginFailed(_wrong_login())
    throttle.clear_failures(login, address)
    user.register_login(now)
    return user


def change_password(user: User, current: str, new: str, keep_login: str | None = None) -> None:
    """A new password ends every token and every other login: whoever knew the old one
    (a shared exam-room PC, a printed slip) is out. `keep_login` is the login changing it."""
    if not user.check_password(current or ""):
        raise ValidationFailed(
            [Problem("current_password", _("The current password is not right."))]
        )
    if current == new:
        raise ValidationFailed(
            [Problem("new_password", _("Choose a password different from the old one."))]
        )
    problems = password_problems(new, user=user)
    if problems:
        raise ValidationFailed([Problem("new_password", p) for p in problems])
    user.set_password(new, _hash_method())
    user.must_change_password = False
    sessions.revoke_user_tokens(user)
    sessions.end_other_logins(user, keep_key=keep_login)
    record_event("user.password_changed", user)


def reset_password(user: User) -> str:
    """An administrator's reset: a fresh slip password that must be changed at next login."""
    password = generate_initial_password()
    user.set_first_password(password)
    user.failed_login_count = 0
    user.locked_until = None
    throttle.lift_stops(user)
    sessions.revoke_user_tokens(user)
    sessions.end_other_logins(user)
    record_event("user.password_reset", user)
    return password


def unlock_user(user: User) -> None:
    user.failed_login_count = 0
    user.locked_until = None
    throttle.lift_stops(user)
    record_event("user.unlocked", user)


def set_locale(user: User, locale: str) -> None:
    user.locale = locale


def get_user(user_id: int) -> User:
    return get_or_not_found(User, user_id, _("No such account."), "user_not_found")


def list_users(role: Role | None = None, query: str = "") -> list[User]:
    stmt = sa.select(User).order_by(User.role, User.username)
    if role is not None:
        stmt = stmt.where(User.role == role)
    if query:
        like = f"%{query.strip()}%"
        stmt = stmt.where(
            sa.or_(User.username.ilike(like), User.name.ilike(like), User.id_number.ilike(like))
        )
    return list(db.session.scalars(stmt))
