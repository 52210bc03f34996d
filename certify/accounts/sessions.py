"""Logins and bearer tokens that end when they should.

A browser login is a row (LoginSession) whose random key is all the session cookie carries
beside the user id: logging out revokes the row, so a cookie copied before the logout stops
working, and revokes every token the login's pages were handed (the exam page calls the API
with one). A password change or an administrator's reset revokes every token of the user and
every other login. On a shared exam-room PC, the next person cannot go on with the previous
worker's paper.

The exam page's own token is not a row: it is signed (itsdangerous, the app's secret) and
names the login that showed the page, so rendering the page writes nothing, and the token
stops working when that login ends, the password changes or it expires.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, session
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import joinedload

from certify.accounts.models import ApiToken, LoginSession, User
from certify.core import clock
from certify.extensions import db


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- browser logins ---------------------------------------------------------------------


def start_login_session(user: User) -> LoginSession:
    login = LoginSession(key=secrets.token_urlsafe(32), user_id=user.id, created_at=clock.now())
    db.session.add(login)
    db.session.flush()
    return login


def live_login_user(user_id: int, key: str | None) -> User | None:
    """The user of a live login (one query), or None when it was ended or never existed."""
    if not key:
        return None
    return db.session.scalar(
        sa.select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(User.id == user_id, LoginSession.key == key, LoginSession.revoked_at.is_(None))
    )


def login_session_for(key: str | None) -> LoginSession | None:
    if not key:
        return None
    return db.session.scalar(sa.select(LoginSession).where(LoginSession.key == key))


def end_login_session(key: str | None) -> None:
    """Logging out: the login and every token handed out to it stop working now."""
    login = login_session_for(key)
    if login is None or login.revoked_at is not None:
        return
    now = clock.now()
    login.revoked_at = now
    db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.login_session_id == login.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def end_other_logins(user: User, keep_key: str | None = None) -> None:
    """Every login of the user but `keep_key` (the one changing the password) ends."""
    stmt = sa.update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None)
    )
    if keep_key:
        stmt = stmt.where(LoginSession.key != keep_key)
    db.session.execute(stmt.values(revoked_at=clock.now()))


# --- bearer tokens ----------------------------------------------------------------------


def issue_token(user: User, login: LoginSession | None = None) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    now = clock.now()
    expires = now + ApiToken.LIFETIME
    db.session.add(
        ApiToken(
            user_id=user.id,
            token_hash=token_digest(token),
            created_at=now,
            expires_at=expires,
            login_session_id=login.id if login is not None else None,
        )
    )
    return token, expires


def issue_page_token(user: User, login: LoginSession) -> str:
    """The exam page's bearer token: good while `login` is live, the password unchanged and
    for ApiToken.LIFETIME, with nothing stored. A signed value has dots; a stored token none."""
    expires = clock.now() + ApiToken.LIFETIME
    return _page_signer().dumps(
        {"u": user.id, "l": login.id, "p": _password_stamp(user), "e": int(expires.timestamp())}
    )


def _page_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="certify.exam-page-token")


def _password_stamp(user: User) -> str:
    """Changes with the password (or a reset), so a page token from before it stops working."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def _page_claims(token: str) -> dict | None:
    """What a page token says, if this app signed it and it has not expired."""
    try:
        claims = _page_signer().loads(token)
    except BadSignature:
        return None
    if not isinstance(claims, dict) or claims.get("e", 0) <= clock.now().timestamp():
        return None
    return claims


def _user_for_page_token(token: str) -> User | None:
    claims = _page_claims(token)
    if claims is None:
        return None
    user = db.session.scalar(
        sa.select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            User.id == claims.get("u"),
            LoginSession.id == claims.get("l"),
            LoginSession.revoked_at.is_(None),
        )
    )
    if user is None or not user.active or user.must_change_password:
        return None
    return user if claims.get("p") == _password_stamp(user) else None


def user_for_token(token: str) -> User | None:
    if "." in token:
        return _user_for_page_token(token)
    row = db.session.scalar(
        sa.select(ApiToken)
        .where(ApiToken.token_hash == token_digest(token))
        .options(joinedload(ApiToken.user))
    )
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at <= clock.now() or not row.user.active:
        return None
    return row.user


def revoke_token(token: str) -> bool:
    """`DELETE /api/v1/auth/token`: this token stops working. False when it was not live.
    An exam page's token is its login's, so revoking it ends that login."""
    if "." in token:
        claims = _page_claims(token)
        if claims is None:
            return False
        return bool(
            db.session.execute(
                sa.update(LoginSession)
                .where(LoginSession.id == claims.get("l"), LoginSession.revoked_at.is_(None))
                .values(revoked_at=clock.now())
            ).rowcount
        )
    return bool(
        db.session.execute(
            sa.update(ApiToken)
            .where(ApiToken.token_hash == token_digest(token), ApiToken.revoked_at.is_(None))
            .values(revoked_at=clock.now())
        ).rowcount
    )


def revoke_user_tokens(user: User) -> int:
    """A password change or reset: none of the user's tokens keeps working."""
    return db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    ).rowcount


# The session cookie's key of the server-side login: without a live one, a cookie, even a
# copied one, logs nobody in.
LOGIN_KEY = "login_key"


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader (registered by the app factory)."""
    if not user_id.isdigit():
        return None
    return live_login_user(int(user_id), session.get(LOGIN_KEY))
