"""What every CLI command shares: one transaction, and a plain reason when it stops.

A command of a `DomainGroup` runs as one unit, like a request (core.transactions): committed
when it returns, rolled back when it stops. A DomainError becomes its message on stderr and
exit 1 (`click.ClickException`), never a traceback; so does a database without its tables,
with what to run first. A command that must keep each step of a long loop (issuing a
session's certificates) still commits as it goes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import IO, Any, NoReturn

import click
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError, ProgrammingError

from certify.core.errors import DomainError, ValidationFailed
from certify.extensions import db

NO_TABLES = "The database has no tables yet: run `flask --app wsgi db upgrade` first."


class CommandFailed(click.ClickException):
    """Why the command stopped, on stderr as it is (no "Error:" before it), exit 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.format_message(), err=True)


def fail(message: str) -> NoReturn:
    raise CommandFailed(message)


def domain_message(exc: DomainError) -> str:
    if isinstance(exc, ValidationFailed):
        return "\n".join(f"{p.field}: {p.message}" for p in exc.problems)
    return exc.message


def _missing_table(exc: Exception) -> bool:
    original = getattr(exc, "orig", None)
    return getattr(original, "sqlstate", None) == "42P01" or "no such table" in str(original)


def in_transaction(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            value = command(*args, **kwargs)
        except DomainError as exc:
            db.session.rollback()
            raise CommandFailed(domain_message(exc)) from exc
        except (OperationalError, ProgrammingError) as exc:
            db.session.rollback()
            if _missing_table(exc):
                raise CommandFailed(NO_TABLES) from exc
            raise
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return value

    return wrapped


class DomainGroup(AppGroup):
    """An AppGroup whose commands each run in_transaction."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], click.Command]:
        register = super().command(*args, **kwargs)

        def decorator(f: Callable[..., Any]) -> click.Command:
            return register(in_transaction(f))

        return decorator
