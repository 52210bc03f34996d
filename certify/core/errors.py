"""Domain errors with stable codes.

Services raise these; views turn them into flashes or JSON with the same code, so
the web pages, the API and the CLI report one failure in one way.
"""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """A rule of the domain refused the request; message is for the user."""

    code = "domain_error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(str(message))
        self.message = str(message)
        if code:
            self.code = code
        self.field = field


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    code = "conflict"
    status = 409


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, and where it is."""

    field: str
    message: str


class ValidationFailed(DomainError):
    """Several problems with one input; nothing has been saved."""

    code = "validation_failed"
    status = 422

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
