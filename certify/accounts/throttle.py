"""Password guessing meets a wall; an exam hall behind one address does not.

Failures are counted per login name as typed (hashed) and per client address:
- an exam hall behind one NAT address logs 2,000 workers in without meeting any limit, since
  a successful login costs nothing;
- guessing one account's password from one address is stopped after LOGIN_LOCKOUT_THRESHOLD
  wrong tries for LOGIN_LOCKOUT_MINUTES;
- the stop applies to that address only, so nobody can lock a worker out of the exam by typing
  wrong passwords against their ID number from elsewhere;
- an unknown name is counted exactly like a real one and a stopped login answers exactly like
  a wrong password, so the answers never tell which accounts exist.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, request

from certify.accounts.models import LoginThrottle, User
from certify.core.idcard import normalise_id_number
from certify.extensions import db


def login_key(login: str) -> str:
    """What was typed, as one key: user names ignore case, ID numbers their spelling."""
    text = (login or "").strip()
    id_number = normalise_id_number(text)
    typed = id_number if len(id_number) == 18 else text.lower()
    return hashlib.sha256(typed.encode("utf-8")).hexdigest()


def client_address() -> str:
    """The client's address as ProxyFix resolved it (PROXY_FIX_X_FOR behind nginx)."""
    return (request.remote_addr or "unknown")[:64]


def _row(login: str, address: str) -> LoginThrottle | None:
    return db.session.get(LoginThrottle, (login_key(login), address))


def is_stopped(login: str, address: str, now: datetime) -> bool:
    row = _row(login, address)
    return row is not None and row.locked_until is not None and now < row.locked_until


def register_failure(login: str, address: str, now: datetime) -> datetime | None:
    """Count one wrong try; returns the end of the stop when this try starts one."""
    config = current_app.config
    window = timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"])
    row = _row(login, address)
    if row is None:
        row = LoginThrottle(
            login_key=login_key(login), address=address, failures=0, first_failed_at=now
        )
        db.session.add(row)
    else:
        stop_over = row.locked_until is not None and now >= row.locked_until
        if stop_over or (row.locked_until is None and now - row.first_failed_at > window):
            row.failures, row.first_failed_at, row.locked_until = 0, now, None
    row.failures += 1
    if row.failures >= config["LOGIN_LOCKOUT_THRESHOLD"] and row.locked_until is None:
        row.locked_until = now + window
        return row.locked_until
    return None


def clear_failures(login: str, address: str) -> None:
    row = _row(login, address)
    if row is not None:
        db.session.delete(row)


def lift_stops(user: User) -> int:
    """The office's unlock: every address may try this account's names again."""
    keys = [login_key(user.username)]
    if user.id_number:
        keys.append(login_key(user.id_number))
    return db.session.execute(
        sa.delete(LoginThrottle).where(LoginThrottle.login_key.in_(keys))
    ).rowcount


def failure_key() -> str:
    """The rate limiter's key for a login request: the name tried plus the address."""
    body = request.get_json(silent=True) if request.is_json else None
    typed = body.get("username", "") if isinstance(body, dict) else request.form.get("login", "")
    return f"login:{login_key(str(typed))}:{client_address()}"


def address_key() -> str:
    return f"login-address:{client_address()}"


def is_failure(response) -> bool:
    """Only failed logins use up the budget: a hall of successful logins costs nothing."""
    return response.status_code in (401, 423)
