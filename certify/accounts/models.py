from __future__ import annotations

import hmac
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from certify.core import clock
from certify.core.db_types import UTCDateTime, text_enum
from certify.core.labels import LabelledEnum
from certify.extensions import db


class Role(LabelledEnum):
    WORKER = "worker", _l("Worker")
    TRAINER = "trainer", _l("Trainer")
    EXAMINER = "examiner", _l("Examiner")
    ADMIN = "admin", _l("Assessment office")
    HR = "hr", _l("HR bureau reviewer")


ROLE_LABELS = Role.labels()

# Trainers teach and examiners score only the trades they are accredited for.
staff_trades = sa.Table(
    "staff_trades",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("trade_id", sa.ForeignKey("trades.id"), primary_key=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64), default="")
    id_number: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(254))  # for notifications, optional
    role: Mapped[Role] = mapped_column(text_enum(Role))
    password_hash: Mapped[str] = mapped_column(sa.String(255), default="")
    # A printed first password, sealed so slips can be reprinted until the worker
    # chooses their own (then it is cleared). See core.sealing.
    first_password_sealed: Mapped[str | None] = mapped_column(sa.Text)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    failed_login_count: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    trades = relationship("Trade", secondary=staff_trades, order_by="Trade.code")

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def display_name(self) -> str:
        return self.name or self.username

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    # --- password -----------------------------------------------------------
    def set_password(self, raw: str, method: str = "scrypt") -> None:
        if not raw:
            raise ValueError("empty password")
        self.password_hash = generate_password_hash(raw, method=method)
        self.first_password_sealed = None

    def check_password(self, raw: str) -> bool:
        if self.password_hash:
            return check_password_hash(self.password_hash, raw)
        first = self.first_password
        return first is not None and hmac.compare_digest(first.encode(), (raw or "").encode())

    @property
    def first_password(self) -> str | None:
        """The printed first password while it is still the one in use."""
        from certify.core.sealing import unseal

        return unseal(self.first_password_sealed) if self.first_password_sealed else None

    def set_first_password(self, raw: str) -> None:
        """A slip password: sealed, not hashed, so it can be printed again; must be changed."""
        from certify.core.sealing import seal

        if not raw:
            raise ValueError("empty password")
        self.password_hash = ""
        self.first_password_sealed = seal(raw)
        self.must_change_password = True

    # --- lockout (accounts.throttle decides; this is what the office is shown) ---------
    def is_locked(self, at: datetime) -> bool:
        """Some address was stopped from trying this account until `locked_until`."""
        return self.locked_until is not None and at < self.locked_until

    def register_login(self, at: datetime) -> None:
        self.failed_login_count = 0
        self.last_login_at = at


class LoginSession(db.Model):
    """One login in a browser, held on the server so that logging out really ends it.

    The session cookie carries only `key`; a copied cookie stops working once the row is
    revoked (logout, a password change, an administrator's reset).
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def live(self) -> bool:
        return self.revoked_at is None


class LoginThrottle(db.Model):
    """Wrong passwords typed for one login name from one address.

    Keyed by what was typed (hashed), not by the account: an unknown name is counted the same
    way, so the answers tell nobody which accounts exist; and by the address, so a stranger
    typing wrong passwords elsewhere cannot lock a worker out of the exam hall.
    """

    __tablename__ = "login_throttles"

    login_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    address: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The page login that handed the token out: logging out revokes it with the login.
    login_session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("login_sessions.id", ondelete="SET NULL"), index=True
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    LIFETIME = timedelta(hours=12)
